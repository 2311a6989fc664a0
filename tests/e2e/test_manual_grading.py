"""Manual grading of nbgrader's manually graded cells, end to end.

A source notebook with two autograder tests (5 points), a manually
graded markdown answer (2), a manually graded code answer (1) that the
student leaves as released, and a task (1).  `assay grade` lists them as
needs_manual_grading items and every total says "5 of 9 points, 3
awaiting manual grading"; the unchanged answer scores 0 with nbgrader's
"No response.".  On a spool: `assay manual list` shows them, `assay
manual grade` records a grade with who gave it (results, student view,
CSV export, `assay results`, the central log), a regrade keeps it, and
mistakes (an unknown cell, too many points) are refused with what to do.
"""
import csv
import io
import json
import os

from assay_helpers import grade, grade_json, run_assay, write_submission
from pipeline import pipeline  # noqa: F401

LIMITS = {"wall_s": 40, "cpu_s": 20, "memory_mb": 512, "processes": 32, "file_mb": 8,
          "output_kb": 256}


def _code(src, **meta):
    return {"cell_type": "code", "metadata": {"nbgrader": meta}, "source": src, "outputs": [],
            "execution_count": None}


def _md(src, **meta):
    return {"cell_type": "markdown", "metadata": {"nbgrader": meta}, "source": src}


SOURCE = {"cells": [
    _code("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
          solution=True, grade=False, locked=False, grade_id="sq"),
    _code("assert square(2) == 4", grade=True, solution=False, locked=True, grade_id="test_a",
          points=2),
    _code("assert square(3) == 9", grade=True, solution=False, locked=True, grade_id="test_b",
          points=3),
    _md("### BEGIN SOLUTION\nIt multiplies x by itself.\n### END SOLUTION", grade=True,
        solution=True, locked=False, grade_id="explain", points=2),
    _code("def helper():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
          grade=True, solution=True, locked=False, grade_id="style", points=1),
    _md("Plot something nice.", task=True, grade=False, solution=False, locked=True,
        grade_id="task1", points=1),
], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}

ASSIGNMENT = {"assay": 1, "title": "Manual", "required_files": ["m.ipynb"], "limits": LIMITS,
              "tests": [{"name": "notebook", "kind": "notebook", "source": "source/m.ipynb",
                         "notebook": "m.ipynb", "cell_timeout_s": 10}]}
PENDING_TOTAL = "5 of 9 points, 3 awaiting manual grading"


def write_assignment(d):
    os.makedirs(os.path.join(d, "source"), exist_ok=True)
    with open(os.path.join(d, "source", "m.ipynb"), "w") as f:
        json.dump(SOURCE, f)
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump(ASSIGNMENT, f)
    return d


def student_notebook(tmp_path, released=None):
    """The release with square() written and the markdown answer changed;
    the code answer "style" and the task left as released."""
    rel = tmp_path / "release.ipynb"
    if released is None:
        p = run_assay("notebook", "release", os.path.join(tmp_path, "asg", "source", "m.ipynb"),
                      rel)
        assert p.returncode == 0, p.stderr
        assert p.stdout.decode().strip() == f"{rel}: 5 points in autograder tests, 4 graded by hand"
    nb = json.loads(rel.read_text())
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid == "sq":
            cell["source"] = "def square(x):\n    return x * x\n"
        elif gid == "explain":
            cell["source"] = "It squares."
    return json.dumps(nb)


def items(r):
    (t,) = r["tests"]
    return {i["grade_id"]: i for i in t["needs_manual_grading"]}


def test_manual_cells_pending_and_no_response(tmp_path):
    d = write_assignment(str(tmp_path / "asg"))
    sub = write_submission(tmp_path / "sub", {"m.ipynb": student_notebook(tmp_path)})
    out = tmp_path / "out"
    r, _ = grade_json(d, sub, "--out", str(out))
    assert (r["score"], r["max_score"]) == (5, 9)
    assert r["output"].splitlines()[0] == "Score: " + PENDING_TOTAL
    got = items(r)
    assert list(got) == ["explain", "style", "task1"]
    assert got["explain"] == {"grade_id": "explain", "cell_type": "markdown", "points": 2,
                              "status": "pending", "answer": "It squares."}
    assert (got["style"]["status"], got["style"]["score"], got["style"]["message"]) == (
        "no_response", 0, "No response.")
    assert "raise NotImplementedError()" in got["style"]["answer"]
    assert (got["task1"]["status"], got["task1"]["points"]) == ("pending", 1)
    (t,) = r["tests"]
    assert (t["score"], t["max_score"]) == (5, 9)
    assert t["output"].splitlines()[-4:] == [
        "Answers graded by a person:", "- explain: awaiting manual grading (2 points)",
        "- style: No response. (1 points)", "- task1: awaiting manual grading (1 points)"]
    with open(out / "results.student.json") as f:
        student = json.load(f)
    assert student["output"].splitlines()[0] == "Score: " + PENDING_TOTAL
    assert items(student)["explain"]["status"] == "pending"
    html = (out / "feedback" / "m.html").read_text()
    assert f'<p class="score">Score: {PENDING_TOTAL}</p>' in html
    code, table, _ = grade(d, sub)
    assert code == 0
    assert "Total: " + PENDING_TOTAL in table.splitlines()


def test_notebook_without_test_cells_is_graded_by_hand(tmp_path):
    """Only manual cells: 0 of 0 from the tests, plus the answers' points."""
    d = str(tmp_path / "asg")
    write_assignment(d)
    only_manual = dict(SOURCE, cells=[c for c in SOURCE["cells"]
                                      if not c["metadata"]["nbgrader"]["grade_id"].startswith("test")])
    with open(os.path.join(d, "source", "m.ipynb"), "w") as f:
        json.dump(only_manual, f)
    sub = write_submission(tmp_path / "sub", {"m.ipynb": json.dumps(only_manual)})
    r, _ = grade_json(d, sub)
    assert (r["score"], r["max_score"]) == (0, 4)
    assert r["output"].splitlines()[0] == "Score: 0 of 4 points, 4 awaiting manual grading"
    (t,) = r["tests"]
    assert t["output"].splitlines()[0] == "This notebook has no autograder test cells."
    assert [i["status"] for i in t["needs_manual_grading"]] == ["pending"] * 3


def test_configured_stub_counts_as_no_response(tmp_path):
    d = write_assignment(str(tmp_path / "asg"))
    with open(os.path.join(d, "assignment.json")) as f:
        doc = json.load(f)
    doc["tests"][0]["stub"] = {"code": "# write here", "text": "Answer:"}
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump(doc, f)
    rel = tmp_path / "release.ipynb"
    p = run_assay("notebook", "release", os.path.join(d, "source", "m.ipynb"), rel,
                  "--code-stub", "# write here", "--text-stub", "Answer:")
    assert p.returncode == 0, p.stderr
    released = json.loads(rel.read_text())
    texts = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in released["cells"]}
    assert texts["explain"] == "Answer:"
    assert texts["style"] == "def helper():\n    # write here"
    sub = write_submission(tmp_path / "sub", {"m.ipynb": rel.read_text()})
    r, _ = grade_json(d, sub)
    got = items(r)
    assert (got["explain"]["status"], got["style"]["status"]) == ("no_response", "no_response")
    doc["tests"][0]["stub"] = {"code": "", "txt": "x"}
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump(doc, f)
    code, _, err = grade(d, sub)
    assert code == 3
    assert "$.tests[0].stub.txt: unknown key" in err
    assert '$.tests[0].stub: "code" must not be empty' in err


def manual(spool, *args):
    return spool.assay("manual", *args, "--course", "C", "--assignment", "nb")


def test_grade_by_hand_then_regrade_keeps_it(pipeline, tmp_path):  # noqa: F811
    spool = pipeline()
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    d = spool.add_assignment("C", "nb", ASSIGNMENT)
    write_assignment(d)
    os.makedirs(tmp_path / "asg", exist_ok=True)
    write_assignment(str(tmp_path / "asg"))
    src = spool.make_submission("alice", {"m.ipynb": student_notebook(tmp_path)})
    job, r = spool.submit_wait("C", "nb", "alice", src)
    assert (r["score"], r["max_score"]) == (5, 9)

    p = manual(spool, "list")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "alice (version 1): " + PENDING_TOTAL
    assert lines[1].split() == ["explain", "markdown", "-", "/", "2", "pending"]
    assert lines[2].split()[:6] == ["style", "code", "0", "/", "1", "no_response"]
    p = manual(spool, "list", "--student", "alice")
    assert "      | It squares." in p.stdout.splitlines()
    (row,) = json.loads(manual(spool, "list", "--json").stdout)
    assert (row["student"], row["version"], row["score"], row["max_score"],
            row["pending_points"]) == ("alice", 1, 5, 9, 3)
    assert [a["grade_id"] for a in row["answers"]] == ["explain", "style", "task1"]
    p = spool.assay("manual", "list", "--course", "C", "--assignment", "other")
    assert p.stdout.strip() == "No result of C/other has answers graded by hand."

    # mistakes are refused with what to do, and change nothing
    p = manual(spool, "grade", "--student", "alice", "--cell", "nope", "--points", "1")
    assert p.returncode == 1
    assert p.stderr.strip() == ('assay manual grade: The result of alice\'s version 1 of C/nb '
                                'has no answer "nope" to grade by hand; it has: explain, style, '
                                'task1')
    p = manual(spool, "grade", "--student", "alice", "--cell", "explain", "--points", "3")
    assert p.returncode == 1
    assert "--points 3 is not between 0 and 2, the points of answer \"explain\"" in p.stderr
    assert manual(spool, "grade", "--student", "alice", "--cell", "explain").returncode == 2

    p = manual(spool, "grade", "--student", "alice", "--cell", "explain", "--points", "1.5",
               "--comment", "Say why it is x * x.")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ("alice: answer explain of C/nb version 1 graded 1.5 (was: none); "
                                "total now 6.5 of 9 points, 1 awaiting manual grading")
    with open(spool.path("results/C/nb/alice/1/results.json")) as f:
        graded = json.load(f)
    assert (graded["score"], graded["tests"][0]["score"]) == (6.5, 6.5)
    e = items(graded)["explain"]
    assert (e["status"], e["score"], e["comment"]) == ("graded", 1.5, "Say why it is x * x.")
    assert e["graded_by"] and e["graded_at"].endswith("Z")
    assert graded["output"].splitlines()[0] == "Score: 6.5 of 9 points, 1 awaiting manual grading"
    with open(spool.path("results/C/nb/alice/1/results.student.json")) as f:
        assert json.load(f)["output"].startswith("Score: 6.5 of 9 points, 1 awaiting")
    with open(spool.path("manual/C/nb/alice/1.json")) as f:
        kept = json.load(f)
    assert kept["grades"]["explain"]["points"] == 1.5
    assert any("manual grade of alice's answer explain for C/nb version 1: 1.5 points, given by"
               in line.message for line in spool.log_lines())

    # the task too: nothing awaits a person any more
    assert manual(spool, "grade", "--student", "alice", "--cell", "task1",
                  "--points", "1").returncode == 0
    p = spool.assay("results", "--course", "C", "--assignment", "nb")
    assert p.stdout.splitlines()[1].split()[:4] == ["alice", "1", "7.5", "/"]

    # a regrade grades the notebook again; the grades given by hand stay
    spool.assay_ok("regrade", "--course", "C", "--assignment", "nb")

    def regraded():
        try:
            with open(spool.path("results/C/nb/alice/1/results.json")) as f:
                again = json.load(f)
        except (OSError, ValueError):
            return None
        return again if again["assay"]["job_id"] != job else None

    again = spool.wait_for("the regrade's result", regraded, timeout=60)
    assert again["assay"]["priority"] == "batch"
    assert (again["score"], again["max_score"]) == (7.5, 9)
    assert again["output"].splitlines()[0] == "Score: 7.5 / 9"
    assert items(again)["explain"]["comment"] == "Say why it is x * x."

    p = spool.assay("export", "--course", "C", "--assignment", "nb", "--csv")
    (row,) = list(csv.DictReader(io.StringIO(p.stdout)))
    assert (row["score"], row["max"], row["manual_pending_points"],
            row["manual_pending_answers"]) == ("7.5", "9", "0", "0")

    # bob hands in the release: both answers "No response.", the task awaits
    bob = spool.make_submission("bob", {"m.ipynb": (tmp_path / "release.ipynb").read_text()})
    _, r = spool.submit_wait("C", "nb", "bob", bob)
    assert r["output"].splitlines()[0] == "Score: 0 of 9 points, 1 awaiting manual grading"
    out = spool.assay_ok("grade-all", "--course", "C", "--assignment", "nb", "--timeout", "120")
    assert ("1 of the 2 graded have answers awaiting manual grading (1 points in all; `assay "
            "manual list` shows them).") in out.splitlines(), out
