"""The gradescope test kind: an unchanged Gradescope autograder
(examples/gs-calc/autograder: setup.sh, run_autograder, run_tests.py)
run in the namespace sandbox with the /autograder layout.

Checks the exact scores of the example submissions, that results.json's
visibility is honoured (hidden tests out of the student's view,
after_due_date ones shown once the due date passed), that the
autograder saw submission_metadata.json, that setup.sh must have run on
the machine (`assay gradescope setup`, stamped, run once), and that the
rlimit launcher refuses the test with a clear error.
"""
import json
import os

import pytest

from assay_helpers import EXAMPLES, example_submission, grade_json, run_assay

GS = os.path.join(EXAMPLES, "gs-calc")
EXPECTED = {  # submission -> (score, verdict, {case: score})
    "correct": (10, "passed", {"add": 3, "mul": 3, "div by zero": 2, "big numbers": 2}),
    "partial": (7, "failed", {"add": 3, "mul": 0, "div by zero": 2, "big numbers": 2}),
    "exits": (0, "runtime_error", {}),
}


@pytest.fixture
def state(tmp_path, monkeypatch):
    """A fresh stamp directory, with the example's setup.sh run in it."""
    monkeypatch.setenv("ASSAY_GRADESCOPE_STATE", str(tmp_path / "state"))
    p = run_assay("gradescope", "setup", GS)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "autograder: setup.sh ran\n"
    return tmp_path / "state"


def _grade(submission, *args):
    r, _ = grade_json(GS, example_submission("gs-calc", submission), *args)
    (t,) = r["tests"]
    if "needs the namespace sandbox" in t["output"]:
        pytest.skip("the namespace sandbox is not available here")
    return r, t


@pytest.mark.parametrize("submission", sorted(EXPECTED))
def test_gradescope_example_scores(state, submission):
    score, verdict, cases = EXPECTED[submission]
    r, t = _grade(submission)
    assert (r["score"], r["max_score"], t["verdict"]) == (score, 10, verdict)
    assert {c["name"]: c["score"] for c in t.get("cases", [])} == cases
    assert r["assay"]["status"] == "graded"


def test_gradescope_feedback_and_visibility(state):
    r, t = _grade("partial")
    lines = t["output"].splitlines()
    assert lines == ["✓ add: 3 / 3", "✗ mul: 0 / 3", "  AssertionError: mul(4, 5) should be 20",
                     "✓ big numbers: 2 / 2", "(1 hidden test not shown)",
                     "Graded Calculator (an unchanged Gradescope autograder)."]
    vis = {c["name"]: c["visibility"] for c in t["cases"]}
    assert vis == {"add": "visible", "mul": "visible", "div by zero": "hidden",
                   "big numbers": "after_due_date"}
    student, _ = grade_json(GS, example_submission("gs-calc", "partial"), "--view", "student")
    names = [c["name"] for c in student["tests"][0]["cases"]]
    assert names == ["add", "mul", "big numbers"], "the hidden test is not in the student's view"
    assert student["score"] == 7, "its points still count"


def test_autograder_without_results_is_explained(state):
    _, t = _grade("exits")
    assert t["output"].startswith("The autograder left no usable results/results.json")
    assert "The program exited with code 3." in t["output"]


def test_setup_must_have_run_and_runs_once(tmp_path, monkeypatch):
    monkeypatch.setenv("ASSAY_GRADESCOPE_STATE", str(tmp_path / "s"))
    r, _ = grade_json(GS, example_submission("gs-calc", "correct"))
    assert r["assay"]["error"]["message"].startswith(
        "the autograder's setup.sh has not been run on this worker: run `assay gradescope "
        "setup ASSIGNMENT_DIR` on it once, as root")
    assert run_assay("gradescope", "setup", GS).stdout.decode() == "autograder: setup.sh ran\n"
    again = run_assay("gradescope", "setup", GS).stdout.decode()
    assert again == ("autograder: nothing to do (no setup.sh, or it already ran on this "
                     "machine)\n")
    assert len(os.listdir(tmp_path / "s")) == 1


def test_rlimit_launcher_refuses_clearly(state):
    r, _ = grade_json(GS, example_submission("gs-calc", "correct"), "--sandbox", "rlimit")
    (t,) = r["tests"]
    assert t["verdict"] == "setup_error"
    assert "cannot show .assay/autograder at /autograder; this test needs the namespace sandbox" \
        in t["output"]


def test_gradescope_assignment_validation(make_assignment, make_submission):
    d = make_assignment([{"name": "g", "kind": "gradescope", "autograder": "nope"}])
    p = run_assay("grade", d, make_submission({"calc.py": ""}))
    err = p.stderr.decode()
    assert p.returncode == 3
    assert 'give "points": the autograder\'s total, as set on Gradescope' in err
    assert '"nope" is not a folder in' in err
    json.dumps(err)
