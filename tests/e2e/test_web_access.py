"""assay-web's access control, against a real assay-web on a real spool:
every page and action for each kind of user (anonymous, a student of the
course, a student of another course, a TA, an instructor of another
course, an admin) gets the expected status; forms without the session's
CSRF token are refused; a session id chosen by the browser is never
adopted; idle and old sessions end; logins are limited per user and per
address; an unknown user and a wrong password get the same answer.

No scheduler runs: submissions stay queued, which is all the pages and
actions need (hold and release act on a queued job).
"""
import json
import re
import time

import pytest

from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401  (the fixture)
from web import PASSWORD, Web, add_user

HIDDEN = dict(HI_TEST, name="secret", visibility="hidden")


def make_courses(spool):
    spool.add_assignment("cs1", "hw", assignment_doc([HI_TEST, HIDDEN],
                                                     due="2030-01-01T00:00:00Z"))
    spool.add_assignment("cs2", "lab", assignment_doc([HI_TEST]))
    with open(spool.path("courses", "cs1", "course.json"), "w") as f:
        f.write('{"instructors": ["ada"], "tas": ["tom"]}\n')
    with open(spool.path("courses", "cs2", "course.json"), "w") as f:
        f.write('{"instructors": ["ivan"]}\n')
    for name in ("ada", "tom", "ivan", "sam", "stu2"):
        add_user(spool, name)
    add_user(spool, "root", admin=True)
    hello = spool.make_submission("hello", {"hello.py": "print('hi')\n"})
    job = spool.submit("cs1", "hw", "sam", hello)
    spool.submit("cs2", "lab", "stu2", hello)
    return job


WHO = ["anonymous", "sam", "stu2", "tom", "ivan", "root"]

# path -> expected status for each of WHO (303 for anonymous: the login form)
STAFF_PAGE = [303, 403, 403, 200, 403, 200]
SELF_PAGE = [303, 200, 403, 200, 403, 200]
ADMIN_PAGE = [303, 403, 403, 403, 403, 200]
PAGES = {
    "/": [200] * 6,
    "/course/cs1": STAFF_PAGE,
    "/course/cs1/hw": STAFF_PAGE,
    "/course/cs1/hw/progress": STAFF_PAGE,
    "/course/cs1/hw/export.csv": STAFF_PAGE,
    "/course/cs1/hw/student/sam": SELF_PAGE,
    # grading by hand is the staff's, even of the student's own answers
    "/course/cs1/hw/manual": STAFF_PAGE,
    "/course/cs1/hw/manual?all=1": STAFF_PAGE,
    "/course/cs1/hw/manual/sam": STAFF_PAGE,
    "/course/cs2/lab/manual": [303, 403, 403, 403, 200, 200],
    "/admin": ADMIN_PAGE,
    "/admin/logs": ADMIN_PAGE,
    "/admin/traces": ADMIN_PAGE,
    "/course/cs2": [303, 403, 403, 403, 200, 200],
    "/course/cs2/lab/student/stu2": [303, 403, 200, 403, 200, 200],
    "/nonexistent": [404] * 6,
}
STAFF_ACTION = [401, 403, 403, 303, 403, 303]
ACTIONS = {
    "/course/cs1/hw/grade-all": ({}, STAFF_ACTION),
    "/course/cs1/hw/regrade": ({"student": "sam"}, STAFF_ACTION),
    "/course/cs1/hw/rerun-failed": ({}, STAFF_ACTION),
    # extensions are the instructors' (and admins'), not the TAs'
    "/course/cs1/hw/extension": ({"student": "sam", "days": "2"},
                                 [401, 403, 403, 403, 403, 303]),
    # staff reach the grading, which refuses: sam's work is not graded yet
    "/course/cs1/hw/manual/sam": ({"cell": "q1", "points": "1", "version": "1"},
                                  [401, 403, 403, 400, 403, 400]),
}


@pytest.fixture
def site(pipeline):  # noqa: F811
    spool = pipeline()
    job = make_courses(spool)
    web = Web(spool)
    yield spool, web, job
    assert web.alive(), "assay-web died: " + web.stderr()
    assert web.stop() == 0


def clients(web):
    out = {}
    for who in WHO:
        c = web.client()
        if who != "anonymous":
            r = c.login(who)
            assert r.status == 303, (who, r.status, r.text)
        out[who] = c
    return out


def test_access_matrix_pages_and_actions(site):
    spool, web, job = site
    cs = clients(web)
    got = {}
    for path, want in PAGES.items():
        for who, status in zip(WHO, want):
            got[(path, who)] = (cs[who].get(path).status, status)
    for path, (form, want) in ACTIONS.items():
        for who, status in zip(WHO, want):
            c = cs[who]
            token = c.csrf() if who != "anonymous" else "0" * 64
            got[("POST " + path, who)] = (c.post(path, {"csrf": token, **form}).status, status)
    # hold then release the queued job, each allowed user in turn
    for who, status in zip(WHO, STAFF_ACTION):
        c = cs[who]
        for action in ("hold", "release"):
            token = c.csrf() if who != "anonymous" else "0" * 64
            r = c.post(f"/course/cs1/hw/{action}", {"csrf": token, "job": job})
            got[(f"POST {action}", who)] = (r.status, status)
    wrong = {k: v for k, v in got.items() if v[0] != v[1]}
    assert not wrong, "(path, user): (got, expected)\n" + "\n".join(
        f"{k}: {v}" for k, v in sorted(wrong.items()))
    # what the actions did, and who they are logged against
    log = spool.log_text()
    assert re.search(r"web: cs1/hw: grade all: queued 1 submission[^\n]* \(by tom from 127\.0\.0\.1\)",
                     log), log[-3000:]
    assert f"web: cs1/hw: held job {job} (by tom from 127.0.0.1)" in log
    assert f"web: cs1/hw: released job {job} (by root from 127.0.0.1)" in log
    assert "web: cs1/hw: extension of sam: 2 days after the due date (by root" in log
    assert ("web: cs1/hw: manual grade refused: sam's version 1 of cs1/hw has no "
            "result to grade (not graded yet, or no such version) (by tom from 127.0.0.1)") in log
    with open(spool.path("courses", "cs1", "hw", "extensions.json")) as f:
        assert '"days": 2' in f.read()
    # a TA of cs1 cannot move cs2's jobs by naming them in a cs1 form
    cs2_jobs = []
    for name in spool.queue("incoming"):
        with open(spool.path("incoming", name)) as f:
            if json.load(f)["course"] == "cs2":
                cs2_jobs.append(name[:-5])
    assert cs2_jobs
    tom = cs["tom"]
    for j in cs2_jobs:
        r = tom.post("/course/cs1/hw/hold", {"csrf": tom.csrf(), "job": j})
        assert r.status == 404, r.text


def test_csrf_missing_wrong_or_another_sessions_is_refused(site):
    spool, web, job = site
    tom, root = web.client(), web.client()
    assert tom.login("tom").status == 303 and root.login("root").status == 303
    before = len(spool.queue("incoming"))
    assert tom.post("/course/cs1/hw/grade-all", {}).status == 403
    assert tom.post("/course/cs1/hw/grade-all", {"csrf": "f" * 64}).status == 403
    assert tom.post("/course/cs1/hw/grade-all", {"csrf": root.csrf()}).status == 403
    assert tom.post("/logout", {"csrf": "x"}).status == 403
    grade = {"cell": "q1", "points": "1"}
    assert tom.post("/course/cs1/hw/manual/sam", grade).status == 403
    assert tom.post("/course/cs1/hw/manual/sam", {"csrf": "0" * 64, **grade}).status == 403
    assert tom.post("/course/cs1/hw/manual/sam", {"csrf": root.csrf(), **grade}).status == 403
    assert len(spool.queue("incoming")) == before, "a refused form changed the queue"
    assert "refused for tom from 127.0.0.1: missing or wrong CSRF token" in spool.log_text()
    assert tom.post("/course/cs1/hw/grade-all", {"csrf": tom.csrf()}).status == 303
    # signing out ends the session for good
    assert tom.post("/logout", {"csrf": tom.csrf()}).status == 303
    assert tom.get("/course/cs1").status == 303


def test_session_fixation_is_refused(site):
    spool, web, job = site
    c = web.client()
    planted = "ab" * 32
    c.cookies["assay_session"] = planted
    assert c.get("/course/cs1").status == 303, "a made-up session id let a browser in"
    assert c.login("tom").status == 303
    assert c.cookies["assay_session"] != planted
    assert re.fullmatch(r"[0-9a-f]{64}", c.cookies["assay_session"])
    assert c.get("/course/cs1").status == 200
    # the planted id still opens nothing, and the old session ends at a new login
    other = web.client()
    other.cookies["assay_session"] = planted
    assert other.get("/course/cs1").status == 303
    old = c.cookies["assay_session"]
    assert c.login("tom").status == 303
    stale = web.client()
    stale.cookies["assay_session"] = old
    assert stale.get("/course/cs1").status == 303, "the session before the new login still works"


def test_cookie_flags(site):
    spool, web, job = site
    c = web.client()
    r = c.login("tom")
    cookie = [v for k, v in r.headers if k.lower() == "set-cookie"][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie   # plain http on loopback; behind TLS see test below


def test_api_token_and_bad_tokens(site):
    spool, web, job = site
    p = spool.assay("users", "token", "tom")
    token = p.stdout.strip()
    assert re.fullmatch(r"assay_[0-9a-f]{64}", token), p.stdout
    c = web.client()
    r = c.get("/course/cs1/hw/export.csv", headers={"Authorization": f"Bearer {token}"})
    assert r.status == 200 and r.text.splitlines()[0].startswith("student,score,max,status")
    r = c.get("/course/cs1/hw/export.csv", headers={"Authorization": "Bearer assay_" + "0" * 64})
    assert r.status == 401
    # scripts post without CSRF (no cookie to forge), but only within their rights
    r = c.post("/course/cs2/lab/grade-all", {}, headers={"Authorization": f"Bearer {token}"})
    assert r.status == 403
    r = c.post("/course/cs1/hw/grade-all", {}, headers={"Authorization": f"Bearer {token}"})
    assert r.status == 303
    with open(spool.path("users.json")) as f:
        assert token not in f.read(), "the token is stored in clear"


def test_login_limits_and_same_answer(pipeline):  # noqa: F811
    spool = pipeline()
    make_courses(spool)
    web = Web(spool, {"login_attempts": 3, "login_window_seconds": 600})
    try:
        c = web.client()
        wrong = c.login("tom", "not the password")
        unknown = c.login("nobody", "not the password")
        assert wrong.status == unknown.status == 401
        assert wrong.text.replace("tom", "U") == unknown.text.replace("nobody", "U")
        assert "Wrong user name or password." in wrong.text
        # a third failure for tom, then even the right password is refused for a while
        assert c.login("tom", "still wrong").status == 401
        assert c.login("tom", PASSWORD).status == 429
        # the address had 3 failures too: another user from it is refused as well
        assert web.client().login("ada", PASSWORD).status == 429
        log = spool.log_text()
        assert "web: failed sign-in for tom from 127.0.0.1" in log
        assert "web: failed sign-in for nobody from 127.0.0.1" in log
        assert "web: sign-in for tom from 127.0.0.1 refused: too many failures" in log
        assert PASSWORD not in log and "not the password" not in log
    finally:
        assert web.stop() == 0


def test_sessions_expire_when_idle_and_when_old(pipeline):  # noqa: F811
    spool = pipeline()
    make_courses(spool)
    web = Web(spool, {"session_idle_seconds": 2, "session_max_seconds": 5})
    try:
        idle = web.client()
        assert idle.login("tom").status == 303
        assert idle.get("/course/cs1").status == 200
        time.sleep(3)
        assert idle.get("/course/cs1").status == 303, "an idle session was still accepted"
        busy = web.client()
        assert busy.login("tom").status == 303
        start = time.monotonic()
        while time.monotonic() - start < 4:
            assert busy.get("/course/cs1").status == 200
            time.sleep(1)
        time.sleep(max(0, 5.5 - (time.monotonic() - start)))
        assert busy.get("/course/cs1").status == 303, "a session outlived its maximum age"
    finally:
        assert web.stop() == 0


def test_sso_header_only_from_the_trusted_proxy(pipeline):  # noqa: F811
    spool = pipeline()
    make_courses(spool)
    web = Web(spool, {"sso_header": "X-Remote-User", "trusted_proxy": "127.0.0.2", "tls": True})
    try:
        c = web.client()
        # from 127.0.0.1, which is not the proxy: the header is ignored
        r = c.get("/course/cs1", headers={"X-Remote-User": "tom"})
        assert r.status == 303
        # a session cookie issued behind TLS is Secure
        r = c.login("tom")
        cookie = [v for k, v in r.headers if k.lower() == "set-cookie"][0]
        assert "Secure" in cookie
        # from the proxy's address the header names the user, with that user's rights
        proxy = web.client(source="127.0.0.2")
        assert proxy.get("/course/cs1", headers={"X-Remote-User": "tom"}).status == 200
        assert proxy.get("/course/cs2", headers={"X-Remote-User": "tom"}).status == 403
        assert proxy.get("/admin", headers={"X-Remote-User": "root"}).status == 200
        assert proxy.get("/course/cs1", headers={"X-Remote-User": "../x"}).status == 303
        # forms still need the CSRF token of the session made for the proxy's user
        assert re.fullmatch(r"[0-9a-f]{64}", proxy.cookies.get("assay_session", ""))
        h = {"X-Remote-User": "tom"}
        assert proxy.post("/course/cs1/hw/grade-all", {}, headers=h).status == 403
        page = proxy.get("/course/cs1/hw", headers=h).text
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page).group(1)
        assert proxy.post("/course/cs1/hw/grade-all", {"csrf": token}, headers=h).status == 303
        # the header names someone else: a new session, the old token is no good
        assert proxy.get("/admin", headers={"X-Remote-User": "root"}).status == 200
        assert proxy.post("/course/cs1/hw/grade-all", {"csrf": token}, headers=h).status == 403
        proxy.cookies.clear()
        assert proxy.get("/course/cs1").status == 303   # no header: nobody
    finally:
        assert web.stop() == 0
