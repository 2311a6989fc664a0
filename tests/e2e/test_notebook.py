"""The notebook test kind and `assay notebook release`, end to end.

examples/notebook-hw holds an nbgrader source notebook and one student
notebook per situation (test_examples.py checks their exact scores);
this file checks what each says: the feedback lines per test cell, the
problems listed for deleted, duplicated and stripped cells, that hidden
test source never reaches a student (results.student.json nor the HTML
feedback file), the release (round trip: the released notebook grades to
0 with NotImplementedError in every test), partial credit, and the
errors for notebooks that cannot be read and for bad assignments.
"""
import json
import os

import pytest

from assay_helpers import (EXAMPLES, example_submission, grade, grade_json, run_assay,
                           write_submission)

NB = os.path.join(EXAMPLES, "notebook-hw")
SOURCE = os.path.join(NB, "source", "hw.ipynb")
LIMITS = {"wall_s": 40, "cpu_s": 20, "memory_mb": 512, "processes": 32, "file_mb": 8,
          "output_kb": 256}
# text that appears only in the source's hidden tests and solutions
HIDDEN_TEXT = ["square(0)", "square(1.5)", "square(10)", "mean([5])", "BEGIN HIDDEN"]

_cache = {}


def graded(submission, tmp_path_factory):
    """(results, student results, HTML) for an example submission, graded once."""
    if submission not in _cache:
        out = tmp_path_factory.mktemp("out-" + submission)
        r, _ = grade_json(NB, example_submission("notebook-hw", submission), "--out", str(out))
        with open(out / "results.student.json") as f:
            student = json.load(f)
        html_path = out / "feedback" / "hw.html"
        html = html_path.read_text() if html_path.exists() else None
        _cache[submission] = (r, student, html)
    return _cache[submission]


def notebook_test(r):
    (t,) = r["tests"]
    return t


def cases(r):
    return {c["name"]: c for c in notebook_test(r)["cases"]}


def test_correct_notebook_full_marks_and_feedback(tmp_path_factory):
    r, _, html = graded("correct", tmp_path_factory)
    t = notebook_test(r)
    assert (r["score"], r["max_score"]) == (8, 8)
    assert t["output"].splitlines()[:5] == [
        "4 of 4 test cells passed (8 of 8 points).",
        "✓ test_square: 2 / 2", "✓ test_mean: 3 / 3", "✓ test_words: 2 / 2",
        "✓ test_hidden: 1 / 1"]
    assert t["notebook"] == {"problems": [], "feedback_file": "feedback/hw.html"}
    assert "Score: 8 / 8" in html


def test_partial_credit_from_last_expression(tmp_path_factory):
    r, _, _ = graded("partial", tmp_path_factory)
    c = cases(r)
    assert (c["test_words"]["score"], c["test_words"]["max_score"]) == (1, 2)
    assert c["test_words"]["status"] == "failed"
    assert "partial credit: the cell's result was 1 of 2 points" in c["test_words"]["message"]
    assert c["test_mean"]["score"] == 0
    assert "ZeroDivisionError: division by zero" in c["test_mean"]["message"]
    assert 'File "cell 7 (mean)", line 2, in mean' in c["test_mean"]["message"]


def test_release_round_trip_scores_zero_with_not_implemented(tmp_path, tmp_path_factory):
    out = tmp_path / "hw.ipynb"
    p = run_assay("notebook", "release", SOURCE, out)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip() == f"{out}: 8 points in autograder tests"
    released = json.loads(out.read_text())
    with open(example_submission("notebook-hw", "release") + "/hw.ipynb") as f:
        assert released == json.load(f), "the example release is the current release"
    text = out.read_text()
    for hidden in HIDDEN_TEXT + ["return x * x", "BEGIN SOLUTION"]:
        assert hidden not in text
    assert text.count("raise NotImplementedError()") == 3
    sub = write_submission(tmp_path / "sub", {"hw.ipynb": text})
    r, _ = grade_json(NB, sub)
    assert r["score"] == 0
    for name, c in cases(r).items():
        assert c["score"] == 0, name
        assert "NotImplementedError" in c["message"], name


def test_release_checksums_are_nbgraders(tmp_path):
    """nbgrader's checksum: md5 of source, cell type, grade, solution,
    locked, grade_id and (grade cells) str(float(points))."""
    import hashlib
    out = tmp_path / "hw.ipynb"
    assert run_assay("notebook", "release", SOURCE, out).returncode == 0
    for cell in json.loads(out.read_text())["cells"]:
        meta = cell["metadata"].get("nbgrader")
        if not meta:
            continue
        grade, solution = meta.get("grade", False), meta.get("solution", False)
        locked = False if solution else True if grade else meta.get("locked", False)
        h = hashlib.md5()
        for part in ["".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"],
                     cell["cell_type"], str(grade), str(solution), str(locked), meta["grade_id"]]:
            h.update(part.encode())
        if grade:
            h.update(str(float(meta["points"])).encode())
        assert meta["checksum"] == h.hexdigest(), meta["grade_id"]
        assert meta["cell_type"] == cell["cell_type"]


def test_release_refuses_a_bad_source(tmp_path):
    bad = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": {"grade": True, "solution": False,
                                                                      "grade_id": "t"}},
                      "source": "assert True", "outputs": [], "execution_count": None},
                     {"cell_type": "code", "metadata": {"nbgrader": {"solution": True, "grade_id": "t"}},
                      "source": "x = 1", "outputs": [], "execution_count": None}],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    src = tmp_path / "bad.ipynb"
    src.write_text(json.dumps(bad))
    p = run_assay("notebook", "release", src, tmp_path / "out.ipynb")
    assert p.returncode == 3
    err = p.stderr.decode()
    assert "has 2 problems" in err
    assert 'cell 1: (grade_id "t") is a grade cell whose "points" is not a number of 0 or more' in err
    assert 'cell 2: repeats grade_id "t" (of cell 1)' in err
    assert not (tmp_path / "out.ipynb").exists()


def test_deleted_cells_restored_and_listed(tmp_path_factory):
    r, _, _ = graded("deleted_cells", tmp_path_factory)
    assert cases(r)["test_square"]["score"] == 2, "the deleted test cell ran, restored"
    assert notebook_test(r)["notebook"]["problems"] == [
        'The test cell "test_square" is missing (deleted?); it was restored from the assignment.',
        'The answer cell "words" is missing (deleted, or its metadata was lost); code in other '
        'cells still ran.']
    assert "NameError: name 'count_words' is not defined" in cases(r)["test_words"]["message"]


def test_duplicated_ids_first_counts_rest_runs(tmp_path_factory):
    r, _, _ = graded("duplicated_ids", tmp_path_factory)
    assert notebook_test(r)["notebook"]["problems"] == [
        'Cell 5 repeats grade_id "square" (a copied cell?); the first cell with that id counts, '
        'this one was run as your own code.',
        'Cell 10 repeats grade_id "test_mean" (a copied cell?); the first cell with that id '
        'counts, this one was run as your own code.']
    # the second copy of the answer ran after the first, so square is right
    assert cases(r)["test_square"]["score"] == 2


def test_stripped_metadata_recognised_by_content(tmp_path_factory):
    r, _, _ = graded("stripped_metadata", tmp_path_factory)
    problems = notebook_test(r)["notebook"]["problems"]
    assert problems[0] == ("11 of 11 cells had no nbgrader metadata (another editor, such as "
                           "Colab, may have removed it); 4 of them were recognised as the "
                           "assignment's cells by their content.")
    assert ('The test cell "test_square" is missing (deleted?); it was restored from the '
            'assignment.') in problems
    assert r["score"] == 8


def test_showtraceback_override_hides_nothing(tmp_path_factory):
    r, _, _ = graded("showtraceback_cheat", tmp_path_factory)
    c = cases(r)
    assert (c["test_square"]["score"], c["test_hidden"]["score"]) == (0, 0)
    assert c["test_square"]["message"].startswith("AssertionError")
    assert c["test_mean"]["score"] == 3


def test_hung_kernel_is_killed_and_restarted(tmp_path_factory):
    r, _, _ = graded("kernel_hang", tmp_path_factory)
    t = notebook_test(r)
    assert t["verdict"] == "timeout"
    assert ("- cell 7 (mean): stopped after 2 s, the time limit for one cell: look for an "
            "infinite loop or a call that waits forever") in t["output"].splitlines()
    assert t["notebook"]["problems"] == [
        "A cell hung or crashed the notebook's Python process, which was restarted; the cells "
        "that had run before it were run again so that later tests could be graded."]
    # cells after the hang still ran in the restarted process
    assert cases(r)["test_words"]["score"] == 2
    assert t["wall_s"] < 30


def test_infinite_loop_is_interrupted(tmp_path_factory):
    r, _, _ = graded("infinite_loop", tmp_path_factory)
    t = notebook_test(r)
    assert t["verdict"] == "timeout"
    assert "- cell 9 (words): stopped after 2 s, the time limit for one cell" in t["output"]
    assert t["notebook"]["problems"] == [], "interrupted, not restarted"
    assert (cases(r)["test_mean"]["score"], cases(r)["test_hidden"]["score"]) == (3, 1)


def test_broken_json_is_a_clear_submission_error(tmp_path_factory):
    r, _, html = graded("broken_json", tmp_path_factory)
    assert r["assay"]["status"] == "error"
    err = r["assay"]["error"]
    assert err["category"] == "submission"
    assert err["message"].startswith("Your notebook could not be read; open it in Jupyter, "
                                     "save it, and submit it again: hw.ipynb:")
    assert "invalid JSON" in err["message"]
    assert html is None
    assert (r["score"], r["max_score"]) == (0, 8)


@pytest.mark.parametrize("content,reason", [
    ('{"cells": "nope"}', 'hw.ipynb is not a Jupyter notebook: it has no list of "cells"'),
    ('[1, 2]', 'hw.ipynb is not a Jupyter notebook: it has no list of "cells"'),
    ('{"cells": [], "nbformat": 3}', "hw.ipynb is in notebook format 3 or older"),
])
def test_not_a_notebook(make_submission, content, reason):
    r, _ = grade_json(NB, make_submission({"hw.ipynb": content}))
    assert r["assay"]["error"]["category"] == "submission"
    assert reason in r["assay"]["error"]["message"]


@pytest.mark.parametrize("submission", ["partial", "kernel_hang", "showtraceback_cheat", "release"])
def test_students_never_see_hidden_tests(submission, tmp_path_factory):
    _, student, html = graded(submission, tmp_path_factory)
    text = json.dumps(student)
    for hidden in HIDDEN_TEXT:
        assert hidden not in text, hidden
        assert hidden not in html, hidden
    assert "# (hidden tests ran here; they are not shown)" in html
    assert "<script" not in html


def test_html_escapes_student_text(make_assignment, make_submission, tmp_path):
    with open(os.path.join(NB, "submissions", "correct", "hw.ipynb")) as f:
        nb = json.load(f)
    nb["cells"].insert(2, {"cell_type": "code", "metadata": {}, "outputs": [],
                           "execution_count": None,
                           "source": "print('<script>alert(1)</script>')"})
    out = tmp_path / "out"
    r, _ = grade_json(NB, make_submission({"hw.ipynb": json.dumps(nb)}), "--out", str(out))
    html = (out / "feedback" / "hw.html").read_text()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert r["score"] == 8


def _nb(*cells):
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _code(src, **meta):
    return {"cell_type": "code", "metadata": {"nbgrader": meta} if meta else {},
            "source": src, "outputs": [], "execution_count": None}


def test_partial_credit_is_clamped_and_errors_beat_numbers(make_assignment, make_submission):
    source = _nb(_code("x = 1", solution=True, grade_id="a"),
                 _code("5", grade=True, grade_id="over", points=2),
                 _code("-1", grade=True, grade_id="negative", points=2),
                 _code("True", grade=True, grade_id="boolean", points=2),
                 _code("0.5", grade=True, grade_id="half", points=2),
                 _code("import sys\nsys.exit(0)", grade=True, grade_id="exits", points=2),
                 _code("x", grade=True, grade_id="uses_answer", points=1))
    d = make_assignment([{"name": "nb", "kind": "notebook", "source": "s.ipynb",
                          "notebook": "n.ipynb", "cell_timeout_s": 5}],
                        files={"s.ipynb": source}, limits=LIMITS)
    r, _ = grade_json(d, make_submission({"n.ipynb": source}))
    got = {n: c["score"] for n, c in cases(r).items()}
    assert got == {"over": 2, "negative": 0, "boolean": 2, "half": 0.5, "exits": 0,
                   "uses_answer": 1}
    assert "SystemExit" in cases(r)["exits"]["message"]
    assert r["max_score"] == 11


@pytest.mark.parametrize("test,problem", [
    ({"source": "missing.ipynb", "notebook": "n.ipynb"}, "$.tests[0].source"),
    ({"source": "s.ipynb", "notebook": "../n.ipynb"}, '"../n.ipynb" must be a relative file name'),
    ({"source": "s.ipynb", "notebook": "n.ipynb", "points": 3},
     "a notebook's points come from its cells' nbgrader \"points\""),
    ({"source": "autotest.ipynb", "notebook": "n.ipynb"},
     'holds nbgrader\'s "### AUTOTEST", which is expanded into assertions when the notebook '
     'is released: run `assay notebook release SOURCE OUT --expanded-source EXPANDED`'),
    ({"source": "hashed.ipynb", "notebook": "n.ipynb"},
     'holds nbgrader\'s "### HASHED AUTOTEST"'),
    ({"source": "broken.ipynb", "notebook": "n.ipynb"}, "invalid JSON"),
])
def test_bad_notebook_assignments_are_refused(make_assignment, make_submission, test, problem):
    files = {"s.ipynb": _nb(_code("assert True", grade=True, grade_id="t", points=1)),
             "autotest.ipynb": _nb(_code("### AUTOTEST square(2); square(0)", grade=True,
                                         grade_id="t", points=1)),
             "hashed.ipynb": _nb(_code("  ### HASHED AUTOTEST mean([1])", grade=True,
                                       grade_id="t", points=1)),
             "broken.ipynb": "{"}
    d = make_assignment([dict(test, name="nb", kind="notebook")], files=files, limits=LIMITS)
    code, _, err = grade(d, make_submission({"n.ipynb": _nb()}))
    assert code == 3
    assert problem in err
