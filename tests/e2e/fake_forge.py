"""Local stand-ins for GitHub's and GitLab's REST APIs, strict about the
parts Assay uses.

FakeGitHub (127.0.0.1, a port the system picks):

  GET  /repos/{owner}/{repo}/zipball/{sha}
       -> 302 to a second server ("codeload", reached as localhost, so
       another host) serving the commit's zip; the token must never
       reach it
  POST /repos/{owner}/{repo}/statuses/{sha}
       application/json {"state", "description", "context", "target_url"}
       state pending|success|failure|error, description <= 140 characters

FakeGitLab:

  GET  /api/v4/projects/:id/repository/archive.zip?sha=SHA
  POST /api/v4/projects/:id/statuses/:sha
       application/json {"state", "name", "description", "target_url"}
       state pending|running|success|failed|canceled; the same state
       twice is refused with 400 "Cannot transition status", as GitLab does

Every API request must carry the token (GitHub: "Authorization: Bearer";
GitLab: PRIVATE-TOKEN or "Authorization: Bearer"), GitHub's requests
"Accept: application/vnd.github+json" and a User-Agent.  Anything else
is a deviation: answered as the forge would (401, 404, 422) and recorded
in `deviations`, which the fixtures turn into a test failure.  Archives
are the bytes a test made with `git archive` of a real commit.  `down`
makes every API request answer 503.
"""
import http.server
import json
import re
import threading
import urllib.parse

import pytest

GITHUB_ACCEPT = "application/vnd.github+json"
GITHUB_STATES = {"pending", "success", "failure", "error"}
GITLAB_STATES = {"pending", "running", "success", "failed", "canceled"}
SHA = re.compile(r"^[0-9a-f]{40}$")


class _Server:
    """One ThreadingHTTPServer on 127.0.0.1:0 calling HANDLE(request)."""

    def __init__(self, handle):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.body = self.rfile.read(n) if n else b""
                status, headers, body = outer.handle(self)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

        self.handle = handle
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _json(status, doc, extra=None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    headers.update(extra or {})
    return status, headers, json.dumps(doc).encode()


class _Forge:
    def __init__(self, token):
        self.token = token
        self.lock = threading.Lock()
        self.deviations = []
        self.requests = []           # (method, path) of every API request
        self.statuses = []           # the status bodies accepted, in order
        self.archives = {}           # key -> zip bytes
        self.archive_gets = 0
        self.down = False

    def deviate(self, req, why):
        with self.lock:
            self.deviations.append(f"{req.command} {req.path}: {why}")

    def statuses_of(self, sha):
        with self.lock:
            return [s for s in self.statuses if s["sha"] == sha]


class FakeGitHub(_Forge):
    def __init__(self, token="ghp-test-token"):
        super().__init__(token)
        self.api = _Server(self._api)
        self.codeload = _Server(self._codeload)
        self.api_url = f"http://127.0.0.1:{self.api.port}"

    def close(self):
        self.api.close()
        self.codeload.close()

    def add_archive(self, repo, sha, data):
        self.archives[(repo, sha)] = data

    def _auth_ok(self, req):
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            self.deviate(req, f"Authorization is {req.headers.get('Authorization')!r}")
            return False
        if req.headers.get("Accept") != GITHUB_ACCEPT:
            self.deviate(req, f"Accept is {req.headers.get('Accept')!r}, not {GITHUB_ACCEPT}")
        if not req.headers.get("User-Agent"):
            self.deviate(req, "no User-Agent (GitHub refuses such requests)")
        return True

    def _api(self, req):
        with self.lock:
            self.requests.append((req.command, req.path))
        if self.down:
            return _json(503, {"message": "Service Unavailable"})
        if not self._auth_ok(req):
            return _json(401, {"message": "Bad credentials"})
        m = re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)/zipball/([0-9a-f]+)", req.path)
        if m and req.command == "GET":
            if (m.group(1), m.group(2)) not in self.archives:
                return _json(404, {"message": "Not Found"})
            loc = f"http://localhost:{self.codeload.port}/{m.group(1)}/legacy.zip/{m.group(2)}"
            return 302, {"Location": loc}, b""
        m = re.fullmatch(r"/repos/([\w.-]+/[\w.-]+)/statuses/([0-9a-f]+)", req.path)
        if m and req.command == "POST":
            return self._status(req, m.group(1), m.group(2))
        self.deviate(req, "not a route of the API Assay uses")
        return _json(404, {"message": "Not Found"})

    def _codeload(self, req):
        if "Authorization" in req.headers:
            self.deviate(req, "the token was sent to codeload (another host)")
        m = re.fullmatch(r"/([\w.-]+/[\w.-]+)/legacy\.zip/([0-9a-f]+)", req.path)
        data = self.archives.get((m.group(1), m.group(2))) if m else None
        if data is None:
            return 404, {}, b"Not Found"
        with self.lock:
            self.archive_gets += 1
        return 200, {"Content-Type": "application/zip"}, data

    def _status(self, req, repo, sha):
        if req.headers.get("Content-Type", "").split(";")[0] != "application/json":
            self.deviate(req, f"Content-Type is {req.headers.get('Content-Type')!r}")
        try:
            body = json.loads(req.body)
        except ValueError:
            self.deviate(req, "the body is not JSON")
            return _json(400, {"message": "Problems parsing JSON"})
        unknown = set(body) - {"state", "target_url", "description", "context"}
        if unknown or body.get("state") not in GITHUB_STATES or not SHA.match(sha):
            self.deviate(req, f"invalid status {body}")
            return _json(422, {"message": "Validation Failed"})
        if len(body.get("description", "")) > 140:
            self.deviate(req, "description longer than 140 characters")
            return _json(422, {"message": "Validation Failed"})
        with self.lock:
            self.statuses.append(dict(body, repo=repo, sha=sha))
        return _json(201, dict(body, id=len(self.statuses)))


class FakeGitLab(_Forge):
    def __init__(self, token="glpat-test-token"):
        super().__init__(token)
        self.api = _Server(self._api)
        self.api_url = f"http://127.0.0.1:{self.api.port}/api/v4"
        self.current = {}            # (project, sha, name) -> state

    def close(self):
        self.api.close()

    def add_archive(self, project_id, sha, data):
        self.archives[(project_id, sha)] = data

    def _api(self, req):
        with self.lock:
            self.requests.append((req.command, req.path))
        if self.down:
            return _json(503, {"message": "503 Service Unavailable"})
        tok = req.headers.get("PRIVATE-TOKEN") or (req.headers.get("Authorization") or "")
        if tok not in (self.token, f"Bearer {self.token}"):
            self.deviate(req, "no valid PRIVATE-TOKEN or Authorization")
            return _json(401, {"message": "401 Unauthorized"})
        url = urllib.parse.urlsplit(req.path)
        m = re.fullmatch(r"/api/v4/projects/(\d+)/repository/archive\.zip", url.path)
        if m and req.command == "GET":
            q = urllib.parse.parse_qs(url.query)
            data = self.archives.get((int(m.group(1)), (q.get("sha") or [""])[0]))
            if data is None:
                return _json(404, {"message": "404 Not Found"})
            with self.lock:
                self.archive_gets += 1
            return 200, {"Content-Type": "application/zip"}, data
        m = re.fullmatch(r"/api/v4/projects/(\d+)/statuses/([0-9a-f]+)", url.path)
        if m and req.command == "POST":
            return self._status(req, int(m.group(1)), m.group(2))
        self.deviate(req, "not a route of the API Assay uses")
        return _json(404, {"message": "404 Not Found"})

    def _status(self, req, project, sha):
        if req.headers.get("Content-Type", "").split(";")[0] != "application/json":
            self.deviate(req, f"Content-Type is {req.headers.get('Content-Type')!r}")
        try:
            body = json.loads(req.body)
        except ValueError:
            self.deviate(req, "the body is not JSON")
            return _json(400, {"message": "400 Bad request"})
        unknown = set(body) - {"state", "name", "target_url", "description", "ref", "coverage"}
        if unknown or body.get("state") not in GITLAB_STATES:
            self.deviate(req, f"invalid status {body}")
            return _json(400, {"message": "400 Bad request - state does not have a valid value"})
        key = (project, sha, body.get("name", "default"))
        with self.lock:
            if self.current.get(key) == body["state"]:
                return _json(400, {"message": f"Cannot transition status via :{body['state']} "
                                              f"from :{body['state']}"})
            self.current[key] = body["state"]
            self.statuses.append(dict(body, project=project, sha=sha))
        return _json(201, dict(body, id=len(self.statuses)))


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()
    assert not fake.deviations, "requests that deviate from GitHub's API:\n" + \
        "\n".join(fake.deviations)


@pytest.fixture
def gitlab():
    fake = FakeGitLab()
    yield fake
    fake.close()
    assert not fake.deviations, "requests that deviate from GitLab's API:\n" + \
        "\n".join(fake.deviations)
