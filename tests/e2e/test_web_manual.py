"""Grading by hand in assay-web, end to end: a real scheduler and worker
grade alice's nbgrader notebook (the notebook of test_manual_grading.py:
5 of 9 points, answers "explain" and "task1" awaiting a person, "style"
left as released), then a TA of the course lists the answers awaiting a
grade, reads alice's answer (escaped: it is her text), is refused bad
points with the words of `assay manual grade`, and grades one.  `assay
manual list` and the recorded result show the grade with the TA as
grader and the combined score; the instructor changes it; a regrade of
the notebook keeps it; the student cannot reach any of it.
"""
import html
import json
import os
import re

from pipeline import pipeline  # noqa: F401  (the fixture)
from test_manual_grading import ASSIGNMENT, PENDING_TOTAL, items, student_notebook, write_assignment
from web import Web, add_user

EVIL = "It squares. <script>alert(1)</script> & more"


def signed_in(web, user):
    c = web.client()
    assert c.login(user).status == 303
    return c


def graded_spool(pipeline, tmp_path):  # noqa: F811
    spool = pipeline()
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    write_assignment(spool.add_assignment("C", "nb", ASSIGNMENT))
    write_assignment(str(tmp_path / "asg"))
    with open(spool.path("courses", "C", "course.json"), "w") as f:
        f.write('{"instructors": ["ada"], "tas": ["tom"]}\n')
    for name in ("ada", "tom", "alice"):
        add_user(spool, name)
    nb = student_notebook(tmp_path).replace('"It squares."', json.dumps(EVIL))
    src = spool.make_submission("alice", {"m.ipynb": nb})
    job, r = spool.submit_wait("C", "nb", "alice", src, timeout=90)
    assert (r["score"], r["max_score"]) == (5, 9)
    return spool, job


def rows(page):
    """The list's rows: (student, version, cell, type, points, status, graded by)."""
    table = re.search(r'<table id="manual-answers">(.*?)</table>', page, re.S).group(1)
    out = []
    for tr in re.findall(r"<tr data-student=.*?</tr>", table, re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c))
                 for c in re.findall(r"<td>(.*?)</td>", tr, re.S)]
        out.append(tuple(cells))
    return out


def result(spool):
    with open(spool.path("results/C/nb/alice/1/results.json")) as f:
        return json.load(f)


def test_grade_by_hand_in_the_web_console(pipeline, tmp_path):  # noqa: F811
    spool, job = graded_spool(pipeline, tmp_path)
    web = Web(spool)
    try:
        tom = signed_in(web, "tom")
        asg = tom.get("/course/C/nb").text
        assert ('<p id="manual"><a href="/course/C/nb/manual">Grading by hand</a>: '
                '2 answers awaiting a grade.</p>') in asg, asg

        # the list: the answers awaiting a grade; all=1 every answer
        page = tom.get("/course/C/nb/manual")
        assert page.status == 200
        assert "2 answers awaiting manual grading, in the latest results of 1 student" in page.text
        assert rows(page.text) == [("alice", "1", "explain", "markdown", "- / 2", "pending", ""),
                                   ("alice", "1", "task1", "markdown", "- / 1", "pending", "")]
        every = rows(tom.get("/course/C/nb/manual?all=1").text)
        assert [r[2] for r in every] == ["explain", "style", "task1"]
        assert every[1][4:6] == ("0 / 1", "no_response")
        assert 'href="/course/C/nb/manual/alice?v=1"' in page.text
        assert ('<p id="manual"><a href="/course/C/nb/manual/alice?v=1">Grade the answers graded '
                'by hand</a>: 2 of 3 awaiting a grade.</p>') in tom.get(
                    "/course/C/nb/student/alice").text
        assert 'id="manual"' not in signed_in(web, "alice").get("/course/C/nb/student/alice").text

        # alice's answers: her text escaped, the total in words, a form per answer
        page = tom.get("/course/C/nb/manual/alice")
        assert page.status == 200
        assert f'<span id="manual-total">Total: {PENDING_TOTAL}</span>' in page.text
        assert ('<pre class="answer">It squares. &lt;script&gt;alert(1)&lt;/script&gt; '
                '&amp; more</pre>') in page.text
        assert "<script>alert" not in page.text
        forms = re.findall(r'<form method="post" action="/course/C/nb/manual/alice".*?</form>',
                           page.text, re.S)
        assert len(forms) == 3
        assert 'name="cell" value="explain"' in forms[0] and 'name="version" value="1"' in forms[0]
        assert 'max="2"' in forms[0]
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', forms[0]).group(1)

        # refusals: the command's words, 400, nothing changed
        def post(form, client=tom, csrf=None):
            return client.post("/course/C/nb/manual/alice",
                               {"csrf": csrf or token, "version": "1", **form})

        refusals = [
            ({"cell": "explain", "points": "3"},
             '--points 3 is not between 0 and 2, the points of answer "explain"'),
            ({"cell": "explain", "points": "abc"},
             '--points "abc" must be a number of 0 or more (fractions allowed: 1.5)'),
            ({"cell": "explain", "points": "-1"},
             '--points "-1" must be a number of 0 or more (fractions allowed: 1.5)'),
            ({"cell": "nope", "points": "1"},
             "The result of alice's version 1 of C/nb has no answer \"nope\" to grade by hand; "
             "it has: explain, style, task1"),
        ]
        for form, message in refusals:
            r = post(form)
            assert r.status == 400, (form, r.status)
            assert f'<p class="error">{message}</p>' in html.unescape(r.text), r.text
            cli = spool.assay("manual", "grade", "--course", "C", "--assignment", "nb",
                              "--student", "alice", "--cell", form["cell"], "--points",
                              form["points"])
            assert cli.returncode in (1, 2) and message in cli.stderr, cli.stderr
        r = post({"cell": "explain", "points": "1"}, csrf="f" * 64)
        assert r.status == 403
        assert not os.path.exists(spool.path("manual/C/nb/alice/1.json"))
        assert result(spool)["score"] == 5

        # the grade, by the TA
        r = post({"cell": "explain", "points": "1.5", "comment": "Say <why> it is x * x."})
        assert r.status == 303, r.text
        said = ("manual grade of alice's answer explain version 1: 1.5 points (was: none); "
                "total now 6.5 of 9 points, 1 awaiting manual grading")
        assert r.header("Location").startswith("/course/C/nb/manual/alice?v=1&done=")
        page = html.unescape(tom.get(r.header("Location")).text)
        assert f'<p class="flash" id="flash">{said}</p>' in page
        assert ('<span id="manual-total">Total: 6.5 of 9 points, 1 awaiting manual grading'
                '</span>') in page
        assert '<span class="graded-by">tom</span>' in page
        assert "Say <why> it is x * x.</textarea>" in page
        assert f"web: C/nb: {said} (by tom from 127.0.0.1)" in spool.log_text()

        # the command and the recorded result see the same grade
        p = spool.assay("manual", "list", "--course", "C", "--assignment", "nb")
        lines = p.stdout.splitlines()
        assert lines[0] == "alice (version 1): 6.5 of 9 points, 1 awaiting manual grading"
        assert lines[1].split()[:8] == ["explain", "markdown", "1.5", "/", "2", "graded", "tom",
                                        "at"]
        assert lines[2].strip() == "comment: Say <why> it is x * x."
        graded = result(spool)
        e = items(graded)["explain"]
        assert (graded["score"], e["score"], e["graded_by"], e["comment"]) == (
            6.5, 1.5, "tom", "Say <why> it is x * x.")
        assert graded["output"].splitlines()[0] == "Score: 6.5 of 9 points, 1 awaiting manual grading"
        assert rows(tom.get("/course/C/nb/manual").text) == [
            ("alice", "1", "task1", "markdown", "- / 1", "pending", "")]

        # the instructor changes it and grades the task: nothing awaits a person
        ada = signed_in(web, "ada")
        atok = ada.csrf("/course/C/nb/manual/alice")
        assert post({"cell": "explain", "points": "2"}, ada, atok).status == 303
        r = post({"cell": "task1", "points": "1"}, ada, atok)
        assert r.status == 303
        assert "total now 8 / 9" in html.unescape(ada.get(r.header("Location")).text)
        assert f"web: C/nb: manual grade of alice's answer explain version 1: 2 points (was: 1.5)" \
               in spool.log_text()
        e = items(result(spool))["explain"]
        assert (e["score"], e["graded_by"]) == (2, "ada")
        assert "comment" not in e   # the new grade came without one

        # a regrade of the notebook keeps the grades given on the web
        assert tom.post("/course/C/nb/regrade", {"csrf": token, "student": "alice"}).status == 303

        def regraded():
            try:
                again = result(spool)
            except (OSError, ValueError):
                return None
            return again if again["assay"]["job_id"] != job else None

        again = spool.wait_for("the regrade's result", regraded, timeout=90)
        assert (again["score"], again["max_score"]) == (8, 9)
        got = items(again)
        assert (got["explain"]["score"], got["explain"]["graded_by"]) == (2, "ada")
        assert (got["task1"]["score"], got["task1"]["graded_by"]) == (1, "ada")
        page = tom.get("/course/C/nb/manual/alice").text
        assert '<span id="manual-total">Total: 8 / 9</span>' in page

        # alice reaches none of it, and cannot grade herself
        alice = signed_in(web, "alice")
        assert alice.get("/course/C/nb/manual").status == 403
        assert alice.get("/course/C/nb/manual/alice").status == 403
        r = alice.post("/course/C/nb/manual/alice",
                       {"csrf": alice.csrf(), "cell": "style", "points": "1", "version": "1"})
        assert r.status == 403
        assert items(result(spool))["style"]["score"] == 0
        assert web.alive()
    finally:
        assert web.stop() == 0
