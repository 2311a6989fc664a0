"""What assay-web's pages show, against a real assay-web on a real spool:
the admin page (queue per course and capability, workers, capabilities no
worker offers), the log filters, a waiting student's place in the queue,
and a notebook's feedback, shown sandboxed.
"""
import re

from assay_helpers import copy_assignment, example_dir
from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401  (the fixture)
from web import Web, add_user

NB = example_dir("notebook-hw")


def signed_in(web, user):
    c = web.client()
    assert c.login(user).status == 303
    return c


def test_admin_pages(pipeline):  # noqa: F811
    spool = pipeline()
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST]))
    spool.add_assignment("ml", "gpu", assignment_doc([HI_TEST], capability="gpu"))
    add_user(spool, "root", admin=True)
    src = spool.make_submission("hello", {"hello.py": "print('hi')\n"})
    job = spool.submit("cs1", "hw", "sam", src)
    spool.submit("cs1", "hw", "kim", src)
    web = Web(spool)
    try:
        root = signed_in(web, "root")
        page = root.get("/admin").text
        by_course = re.search(r'<table id="by-course">.*?</table>', page, re.S).group(0)
        # course cs1: 2 waiting (incoming), nothing else
        assert re.search(r"<td>cs1</td><td>2</td><td>0</td><td>0</td><td>0</td><td>0</td>",
                         by_course), by_course
        by_cap = re.search(r'<table id="by-capability">.*?</table>', page, re.S).group(0)
        assert "<td>python</td><td>2</td>" in by_cap
        assert f"Oldest waiting job: {job}" in page
        workers = re.search(r'<table id="workers">.*?</table>', page, re.S).group(0)
        assert "<td>local</td>" in workers and "0 / 2" in workers
        unoffered = re.search(r'<ul id="unoffered">.*?</ul>', page, re.S).group(0)
        assert "<strong>gpu</strong>, asked for by assignment ml/gpu" in unoffered
        assert "python" not in unoffered
        # the log, filtered by job, then errors only
        assert root.post("/course/cs1/hw/hold", {"csrf": root.csrf(), "job": job}).status == 303
        logs = root.get(f"/admin/logs?job={job}").text
        lines = re.search(r'<pre id="log">(.*?)</pre>', logs, re.S).group(1).strip().splitlines()
        assert lines and all(f" {job} " in line for line in lines), lines
        assert any(f"web: cs1/hw: held job {job} (by root from 127.0.0.1)" in line
                   for line in lines), lines
        by_course = root.get("/admin/logs?course=cs1").text
        assert "held job" in by_course and "signed in" not in by_course
        errors = root.get("/admin/logs?errors=1").text
        assert re.search(r'<pre id="log">\s*</pre>', errors), "no error was logged"
        assert root.get("/admin/logs?since=yesterday").status == 400
        assert root.get("/admin/logs?job=a%20b").status == 400
        assert root.get("/admin/traces").status == 200
    finally:
        assert web.stop() == 0


def test_waiting_student_sees_place_in_queue(pipeline):  # noqa: F811
    spool = pipeline()
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST]))
    add_user(spool, "sam")
    add_user(spool, "kim")
    src = spool.make_submission("hello", {"hello.py": "print('hi')\n"})
    spool.submit("cs1", "hw", "kim", src)
    spool.submit("cs1", "hw", "sam", src)
    web = Web(spool)
    try:
        sam = signed_in(web, "sam")
        page = sam.get("/course/cs1/hw/student/sam").text
        assert ("Version 1 is waiting to be graded: 1 job ahead of it, estimated wait "
                "unknown.") in page, page
        assert "kim" not in page
        home = sam.get("/").text
        assert ('<td><a href="/course/cs1/hw/student/sam">hw</a></td><td>-</td><td>1</td>'
                '<td>waiting</td>') in home, home
    finally:
        assert web.stop() == 0


def test_notebook_feedback_is_sandboxed(pipeline):  # noqa: F811
    spool = pipeline()
    copy_assignment(NB, spool.path("courses", "cs1", "nb"))
    add_user(spool, "sam")
    add_user(spool, "kim")
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    spool.submit_wait("cs1", "nb", "sam", f"{NB}/submissions/partial", timeout=90)
    spool.submit_wait("cs1", "nb", "kim", f"{NB}/submissions/correct", timeout=90)
    web = Web(spool)
    try:
        sam = signed_in(web, "sam")
        page = sam.get("/course/cs1/nb/student/sam").text
        frames = re.findall(r'<iframe class="feedback" sandbox="" [^>]*src="([^"]+)"', page)
        assert frames and frames[0].startswith("/course/cs1/nb/student/sam/1/feedback/"), page
        r = sam.get(frames[0])
        assert r.status == 200 and r.header("Content-Type").startswith("text/html")
        csp = r.header("Content-Security-Policy")
        assert csp.startswith("sandbox;") and "default-src 'none'" in csp, csp
        assert "test_mean" in r.text   # the notebook's feedback, with the failing cell
        # another student's feedback is not sam's to read
        kim_frame = frames[0].replace("/student/sam/", "/student/kim/")
        assert sam.get(kim_frame).status == 403
        assert sam.get(frames[0].replace("feedback/", "feedback/..%2F")).status == 404
    finally:
        assert web.stop() == 0


def test_odd_requests_get_answers_not_crashes(pipeline):  # noqa: F811
    """Whatever a signed-in user puts in paths, queries and forms, the
    server answers (4xx where it is wrong) and keeps running."""
    spool = pipeline()
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST]))
    with open(spool.path("courses", "cs1", "course.json"), "w") as f:
        f.write('{"instructors": ["ada"]}\n')
    add_user(spool, "ada")
    add_user(spool, "root", admin=True)
    src = spool.make_submission("hello", {"hello.py": "print('hi')\n"})
    spool.submit("cs1", "hw", "sam", src)
    web = Web(spool)
    try:
        ada, root = signed_in(web, "ada"), signed_in(web, "root")
        gets = ["/course/cs1/hw/student/sam?v=abc", "/course/cs1/hw/student/sam?v=-1",
                "/course/cs1/hw/student/sam?v=99999999999999999999999",
                "/course/cs1/hw/student/nobody", "/course/cs1/nohw", "/course/nocourse",
                "/course/cs1/hw/student/sam/1/feedback/x.html", "/course/cs1/hw/export.csv?x=%00",
                "/course/cs1/%2e%2e/hw", "/course/cs1/hw/progress?" + "a" * 3000,
                "/course/" + "c" * 70, "/static/../etc/passwd",
                "/course/cs1/hw/manual?all=%ff", "/course/cs1/nohw/manual",
                "/course/cs1/hw/manual/sam?v=abc", "/course/cs1/hw/manual/sam?v=-1",
                "/course/cs1/hw/manual/nobody", "/course/cs1/nohw/manual/sam"]
        for path in gets:
            assert ada.get(path).status in (200, 303, 400, 403, 404), path
        for path in ["/admin/logs?since=1e309s", "/admin/logs?since=-5m", "/admin/logs?job=" +
                     "j" * 200, "/admin/logs?worker=%ff%fe", "/admin/traces?errors=0"]:
            assert root.get(path).status in (200, 400), path
        token = ada.csrf()
        forms = [("regrade", {"student": "../../etc"}), ("regrade", {"student": "x" * 5000}),
                 ("hold", {"job": "../incoming/x"}), ("hold", {"job": ""}), ("release", {}),
                 ("extension", {"student": "sam", "days": "nan"}),
                 ("extension", {"student": "sam", "days": "1e400"}),
                 ("extension", {"student": "", "days": "1"}),
                 ("extension", {"student": "sam", "days": "2"})]   # no due date: 409
        for action, form in forms:
            r = ada.post(f"/course/cs1/hw/{action}", {"csrf": token, **form})
            assert r.status in (303, 400, 404, 409), (action, form, r.status)
        manual = [{"cell": "q1", "points": "nan"}, {"cell": "q1", "points": "1e400"},
                  {"cell": "x" * 5000, "points": "1"}, {"cell": "", "points": "1"},
                  {"points": "1"}, {"cell": "q1", "points": "1", "version": "-3"},
                  {"cell": "q1", "points": "1", "version": "99999999999999999999999"},
                  {"cell": "q1", "points": "1", "comment": "\x00" * 10}]
        for form in manual:
            r = ada.post("/course/cs1/hw/manual/sam", {"csrf": token, **form})
            assert r.status == 400, (form, r.status)
        r = ada.request("POST", "/course/cs1/hw/grade-all", body=b"\x00\xff" * 100,
                        headers={"Content-Type": "application/octet-stream"})
        assert r.status == 403   # no form, so no CSRF token
        assert ada.get("/course/cs1/hw").status == 200
        assert web.alive()
    finally:
        assert web.stop() == 0
