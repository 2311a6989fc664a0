"""A local stand-in for Canvas's REST API, strict about its contract.

FakeCanvas serves, on 127.0.0.1 and a port the system picks, the parts
of Canvas that Assay uses, as Canvas documents them:

  PUT  /api/v1/courses/:course_id/assignments/:assignment_id/submissions/:user_id
       form-encoded submission[posted_grade] (required), comment[text_comment]
  GET  the same path (?include[]=submission_comments): the submission
  POST /api/v1/courses/:course_id/assignments/:assignment_id/submissions/update_grades
       form-encoded grade_data[:user_id][posted_grade|text_comment] -> a Progress
  GET  /api/v1/progress/:id
  GET  /api/v1/courses/:course_id/users?enrollment_type[]=student&per_page=N
       paginated with a Link header (rel="next", "first", "last")

Every request must carry "Authorization: Bearer TOKEN"; a request body
must be application/x-www-form-urlencoded with only the documented
fields; users are addressed as sis_user_id:X, sis_login_id:X or a Canvas
id.  Anything else is a deviation: it is answered as Canvas would (400,
404) and recorded in `deviations`, which the `canvas` fixture turns into
a test failure.  A request with another token is answered 401 with
WWW-Authenticate, as Canvas answers an expired token.

Failure modes a test can switch on: `down` (every request 503),
`throttle` (the next N requests 403 with X-Rate-Limit-Remaining: 0),
`delay` (seconds before each answer), `token` (change it to make the
one Assay holds "expired").
"""
import http.server
import json
import re
import threading
import time
import urllib.parse

import pytest

FORM = "application/x-www-form-urlencoded"


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that gave up on a slow answer (a timeout, a kill -9)
        is what the tests do on purpose: nothing to print."""
        pass


class Student:
    def __init__(self, canvas_id, name, sis_user_id, login_id):
        self.id = canvas_id
        self.name = name
        self.sis_user_id = sis_user_id
        self.login_id = login_id

    def as_user(self):
        return {"id": self.id, "name": self.name, "sortable_name": self.name,
                "short_name": self.name, "sis_user_id": self.sis_user_id,
                "login_id": self.login_id}


class FakeCanvas:
    def __init__(self, course_id=1234, token="canvas-test-token", page_cap=2):
        self.course_id = course_id
        self.token = token
        self.page_cap = page_cap          # users per page at most, whatever per_page asks
        self.students = {}                # canvas id -> Student
        self.assignments = set()
        self.lock = threading.Lock()
        self.deviations = []
        self.requests = []                # (method, path) of every request
        self.puts = []                    # (assignment, canvas id, grade, comment) applied
        self.grades = {}                  # (assignment, canvas id) -> grade
        self.comments = {}                # (assignment, canvas id) -> [text]
        self.progress = {}                # id -> {"polls", "data", "assignment"}
        self.bulk_posts = 0
        self.down = False
        self.throttle = 0
        self.delay = 0.0
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    # ---- the course ----

    def add_student(self, login_id, sis_user_id=None, name=None):
        canvas_id = 1000 + len(self.students) + 1
        s = Student(canvas_id, name or login_id.title(), sis_user_id or f"S{canvas_id}", login_id)
        self.students[canvas_id] = s
        return s

    def add_assignment(self, assignment_id):
        self.assignments.add(assignment_id)

    def find(self, user):
        """The Student a :user_id segment names, or None."""
        kind, _, value = user.partition(":")
        for s in self.students.values():
            if (kind == "sis_user_id" and s.sis_user_id == value) or \
               (kind == "sis_login_id" and s.login_id == value) or \
               (not value and user.isdigit() and s.id == int(user)):
                return s
        return None

    def deviation(self, what):
        with self.lock:
            self.deviations.append(what)

    def applied(self, assignment):
        """{login_id: number of grade changes applied} for ASSIGNMENT."""
        out = {}
        for a, cid, _g, _c in self.puts:
            if a == assignment:
                login = self.students[cid].login_id
                out[login] = out.get(login, 0) + 1
        return out

    # ---- the server ----

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: without this, a kept-alive
            # connection waits 40 ms for the client's delayed ACK each time
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._serve(self, "GET")

            def do_PUT(self):
                fake._serve(self, "PUT")

            def do_POST(self):
                fake._serve(self, "POST")

            def do_DELETE(self):
                fake._serve(self, "DELETE")

        return Handler

    def _answer(self, h, status, doc, headers=None):
        body = json.dumps(doc).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _form(self, h, method, path):
        """The request's form fields {name: value}, or None (a deviation)."""
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n).decode("utf-8", "replace") if n else ""
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != FORM:
            self.deviation(f"{method} {path}: Content-Type {ctype!r}, not {FORM}")
            return None
        try:
            pairs = urllib.parse.parse_qsl(raw, keep_blank_values=True, strict_parsing=bool(raw))
        except ValueError as exc:
            self.deviation(f"{method} {path}: a body that is not form-encoded ({exc})")
            return None
        form = {}
        for k, v in pairs:
            if k in form:
                self.deviation(f"{method} {path}: field {k} given twice")
            form[k] = v
        return form

    def _serve(self, h, method):
        url = urllib.parse.urlsplit(h.path)
        path, query = url.path, urllib.parse.parse_qs(url.query, keep_blank_values=True)
        with self.lock:
            self.requests.append((method, h.path))
        body_needed = method in ("PUT", "POST")
        form = self._form(h, method, path) if body_needed else None
        if self.delay:
            time.sleep(self.delay)
        auth = h.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            self.deviation(f"{method} {path}: no 'Authorization: Bearer' header ({auth[:20]!r})")
            return self._answer(h, 401, {"errors": [{"message": "user authorization required"}]},
                                {"WWW-Authenticate": 'Bearer realm="canvas-lms"'})
        if self.down:
            return self._answer(h, 503, {"errors": [{"message": "Service Unavailable"}]})
        if self.throttle > 0:
            with self.lock:
                self.throttle -= 1
            return self._answer(h, 403, {"errors": [{"message": "403 Forbidden (Rate Limit Exceeded)"}]},
                                {"X-Rate-Limit-Remaining": "0.0"})
        if auth[len("Bearer "):] != self.token:
            return self._answer(h, 401, {"errors": [{"message": "Invalid access token."}]},
                                {"WWW-Authenticate": 'Bearer realm="canvas-lms"'})
        if body_needed and form is None:
            return self._answer(h, 400, {"errors": [{"message": "bad request"}]})
        return self._route(h, method, path, query, form)

    def _route(self, h, method, path, query, form):
        c = re.escape(str(self.course_id))
        m = re.fullmatch(rf"/api/v1/courses/{c}/assignments/(\d+)/submissions/([^/]+)", path)
        if m and m.group(2) == "update_grades":
            if method != "POST":
                self.deviation(f"{method} {path}: update_grades takes POST")
                return self._answer(h, 404, {"errors": [{"message": "not found"}]})
            return self._update_grades(h, int(m.group(1)), form)
        if m and method in ("PUT", "GET"):
            user = urllib.parse.unquote(m.group(2))
            return self._submission(h, method, path, int(m.group(1)), user, query, form)
        m = re.fullmatch(r"/api/v1/progress/(\d+)", path)
        if m and method == "GET":
            return self._poll(h, int(m.group(1)))
        if path == f"/api/v1/courses/{self.course_id}/users" and method == "GET":
            return self._users(h, query)
        self.deviation(f"{method} {path}: no such Canvas endpoint")
        return self._answer(h, 404, {"errors": [{"message": "The specified resource does not exist."}]})

    def _submission_doc(self, assignment, s):
        comments = self.comments.get((assignment, s.id), [])
        return {"id": s.id * 100 + assignment, "user_id": s.id, "assignment_id": assignment,
                "grade": self.grades.get((assignment, s.id)),
                "score": float(self.grades[(assignment, s.id)])
                if (assignment, s.id) in self.grades else None,
                "workflow_state": "graded" if (assignment, s.id) in self.grades else "unsubmitted",
                "submission_comments": [{"id": i + 1, "comment": t, "author_id": 1}
                                        for i, t in enumerate(comments)]}

    def _submission(self, h, method, path, assignment, user, query, form):
        if not re.fullmatch(r"(sis_user_id|sis_login_id):.+|\d+", user):
            self.deviation(f"{method} {path}: user {user!r} is neither sis_user_id:, "
                           "sis_login_id: nor a Canvas id")
        if assignment not in self.assignments:
            return self._answer(h, 404, {"errors": [{"message": "The specified resource does not exist."}]})
        s = self.find(user)
        if s is None:
            return self._answer(h, 404, {"errors": [{"message": "The specified resource does not exist."}]})
        if method == "GET":
            if query and query != {"include[]": ["submission_comments"]}:
                self.deviation(f"GET {path}: unexpected parameters {query}")
            return self._answer(h, 200, self._submission_doc(assignment, s))
        allowed = {"submission[posted_grade]", "comment[text_comment]"}
        extra = set(form) - allowed
        if extra or "submission[posted_grade]" not in form:
            self.deviation(f"PUT {path}: fields {sorted(form)}; Canvas's are {sorted(allowed)} "
                           "(posted_grade required here)")
            return self._answer(h, 400, {"errors": [{"message": "bad request"}]})
        self._apply(assignment, s, form["submission[posted_grade]"], form.get("comment[text_comment]"))
        return self._answer(h, 200, self._submission_doc(assignment, s))

    def _apply(self, assignment, s, grade, comment):
        try:
            float(grade)
        except ValueError:
            self.deviation(f"posted_grade {grade!r} for {s.login_id} is not a number of points")
        with self.lock:
            self.grades[(assignment, s.id)] = grade
            self.puts.append((assignment, s.id, grade, comment))
            if comment is not None:
                self.comments.setdefault((assignment, s.id), []).append(comment)

    def _update_grades(self, h, assignment, form):
        if assignment not in self.assignments:
            return self._answer(h, 404, {"errors": [{"message": "The specified resource does not exist."}]})
        data = {}
        for k, v in form.items():
            m = re.fullmatch(r"grade_data\[([^\]]+)\]\[(posted_grade|text_comment)\]", k)
            if not m:
                self.deviation(f"POST update_grades: field {k!r} is not grade_data[id][posted_grade|text_comment]")
                continue
            data.setdefault(m.group(1), {})[m.group(2)] = v
        for user, d in data.items():
            if "posted_grade" not in d:
                self.deviation(f"POST update_grades: {user} has no posted_grade")
        with self.lock:
            self.bulk_posts += 1
            pid = 500 + len(self.progress) + 1
            self.progress[pid] = {"polls": 0, "data": data, "assignment": assignment}
        return self._answer(h, 200, self._progress_doc(pid, "queued"))

    def _progress_doc(self, pid, state):
        return {"id": pid, "context_id": self.course_id, "context_type": "Course",
                "tag": "submissions_update", "completion": 100.0 if state == "completed" else 0.0,
                "workflow_state": state, "message": None,
                "url": f"{self.base_url}/api/v1/progress/{pid}"}

    def _poll(self, h, pid):
        p = self.progress.get(pid)
        if p is None:
            self.deviation(f"GET /api/v1/progress/{pid}: no such Progress")
            return self._answer(h, 404, {"errors": [{"message": "not found"}]})
        p["polls"] += 1
        if p["polls"] < 2:
            return self._answer(h, 200, self._progress_doc(pid, "running"))
        if p["polls"] == 2:
            for user, d in p["data"].items():
                s = self.find(user)
                if s is None:
                    self.deviation(f"update_grades: unknown user {user}")
                    continue
                self._apply(p["assignment"], s, d.get("posted_grade"), d.get("text_comment"))
        return self._answer(h, 200, self._progress_doc(pid, "completed"))

    def _users(self, h, query):
        if query.get("enrollment_type[]") != ["student"]:
            self.deviation(f"GET users: enrollment_type[]=student missing ({query})")
        try:
            per_page = int(query.get("per_page", ["10"])[0])
            page = int(query.get("page", ["1"])[0])
        except ValueError:
            self.deviation(f"GET users: bad paging {query}")
            return self._answer(h, 400, {"errors": [{"message": "bad request"}]})
        size = max(1, min(per_page, self.page_cap))
        users = [s.as_user() for s in sorted(self.students.values(), key=lambda s: s.id)]
        last = max(1, (len(users) + size - 1) // size)
        chunk = users[(page - 1) * size:page * size]

        def link(p, rel):
            return (f'<{self.base_url}/api/v1/courses/{self.course_id}/users?'
                    f'enrollment_type%5B%5D=student&page={p}&per_page={size}>; rel="{rel}"')
        links = [link(page, "current")]
        if page < last:
            links.append(link(page + 1, "next"))
        links += [link(1, "first"), link(last, "last")]
        return self._answer(h, 200, chunk, {"Link": ", ".join(links)})


@pytest.fixture
def canvas():
    """A FakeCanvas for the test; the test fails if Assay deviated from
    Canvas's documented API in any request."""
    fake = FakeCanvas()
    yield fake
    fake.close()
    assert not fake.deviations, "requests that deviate from Canvas's API:\n" + \
        "\n".join(fake.deviations)
