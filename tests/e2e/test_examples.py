"""The example assignments graded end to end.

For every assignment and sample submission in examples/expected.json,
`assay grade --json` must exit 0 and give exactly the expected total
score, max_score and, per test, score and verdict.  Also checks the shape
of results.json (Gradescope's keys and Assay's additions), the error
reported for a missing required file, and the feedback students get:
pytest test ids and assertion messages, a line-numbered diff for io
tests, SyntaxError with its line, and never the grader's work directory.
"""
import json
import os

import pytest

from assay_helpers import (EXAMPLES, by_name, example_dir, example_submission, grade_json,
                           work_base)

with open(os.path.join(EXAMPLES, "expected.json")) as _f:
    EXPECTED = json.load(_f)

CASES = [(a, s) for a in EXPECTED for s in EXPECTED[a]["submissions"]]

VERDICTS = {"passed", "failed", "runtime_error", "timeout", "memory_limit",
            "output_limit", "setup_error", "disk_limit"}

_cache = {}


def graded(assignment, submission):
    """results.json for one example (each example is graded once per session)."""
    key = (assignment, submission)
    if key not in _cache:
        _cache[key] = grade_json(example_dir(assignment),
                                 example_submission(assignment, submission))
    return _cache[key]


@pytest.mark.parametrize("assignment,submission", CASES, ids=[f"{a}/{s}" for a, s in CASES])
def test_expected_scores_and_verdicts(assignment, submission):
    r, _ = graded(assignment, submission)
    want = EXPECTED[assignment]["submissions"][submission]
    assert r["score"] == pytest.approx(want["score"])
    assert r["max_score"] == pytest.approx(EXPECTED[assignment]["max_score"])
    tests = by_name(r)
    assert sorted(tests) == sorted(want["tests"]), "the results name exactly the assignment's tests"
    for name, w in want["tests"].items():
        t = tests[name]
        assert (t["score"], t["verdict"]) == (pytest.approx(w["score"]), w["verdict"]), name
        assert t["status"] == ("passed" if w["verdict"] == "passed" else "failed"), name
    # the total is the sum of the tests
    assert r["score"] == pytest.approx(sum(t["score"] for t in r["tests"]))
    assert r["max_score"] == pytest.approx(sum(t["max_score"] for t in r["tests"]))


@pytest.mark.parametrize("assignment,submission", CASES, ids=[f"{a}/{s}" for a, s in CASES])
def test_results_schema(assignment, submission):
    r, _ = graded(assignment, submission)
    # Gradescope's keys
    for key, typ in [("score", (int, float)), ("max_score", (int, float)),
                     ("execution_time", (int, float)), ("output", str), ("tests", list)]:
        assert isinstance(r.get(key), typ), key
    assert r["execution_time"] >= 0
    assert r["tests"], "every example has tests"
    for t in r["tests"]:
        assert isinstance(t["name"], str) and t["name"]
        assert isinstance(t["score"], (int, float))
        assert isinstance(t["max_score"], (int, float))
        assert t["status"] in ("passed", "failed")
        assert isinstance(t["output"], str)
        assert t["visibility"] in ("visible", "hidden", "after_due_date")
        # Assay's additions
        assert t["verdict"] in VERDICTS
        assert isinstance(t["cpu_s"], (int, float)) and t["cpu_s"] >= 0
        assert isinstance(t["wall_s"], (int, float)) and t["wall_s"] >= 0
        assert isinstance(t["max_rss_kb"], int) and t["max_rss_kb"] >= 0
        assert 0 <= t["score"] <= t["max_score"] + 1e-9
    a = r["assay"]
    assert a["status"] in ("graded", "error")
    if a["status"] == "graded":
        assert a["error"] is None
    else:
        assert set(a["error"]) >= {"category", "message"}
        assert a["error"]["category"] in ("submission", "assignment", "infrastructure")
        assert isinstance(a["error"]["message"], str) and a["error"]["message"]
    want = EXPECTED[assignment]["submissions"][submission]
    expected_status = want.get("status", "error" if submission == "missing_file" else "graded")
    assert a["status"] == expected_status


@pytest.mark.parametrize("assignment,missing,present", [
    ("hello-io", "hello.py", "Hello.py"),
    ("stats-pytest", "stats.py", "Stats.py"),
    ("fizz-doctest", "fizz.py", "fizzbuzz.py"),
])
def test_missing_file_is_a_submission_error(assignment, missing, present):
    r, _ = graded(assignment, "missing_file")
    assert r["assay"]["status"] == "error"
    err = r["assay"]["error"]
    assert err["category"] == "submission"
    assert missing in err["message"]
    assert present in err["message"], "the message lists what the submission does hold"
    assert "Something went wrong" not in err["message"]
    assert r["score"] == 0
    for t in r["tests"]:
        assert t["verdict"] == "setup_error"
        assert t["score"] == 0
        assert t["max_score"] > 0, "max scores still count when nothing ran"
    assert missing in r["output"]


def test_pytest_partial_feedback_names_tests_and_assertions():
    r, _ = graded("stats-pytest", "partial")
    unit = by_name(r)["unit tests"]["output"]
    assert "6 of 8 passed" in unit
    assert "tests/test_stats.py::test_median_does_not_change_its_argument" in unit
    assert "tests/test_stats.py::test_mode_tie_returns_smallest" in unit
    assert "assert [1, 2, 3] == [3, 1, 2]" in unit
    assert "assert 3 == 1" in unit
    # passing tests are not listed as failures
    assert "test_mean_integers" not in unit
    empty = by_name(r)["empty input"]["output"]
    assert "1 of 2 passed" in empty
    assert "tests/test_empty.py::test_median_of_empty_list_raises_value_error" in empty
    assert "IndexError" in empty


def test_pytest_cases_listed_per_test():
    r, _ = graded("stats-pytest", "partial")
    cases = by_name(r)["unit tests"].get("cases")
    if cases is None:
        pytest.skip("results carry no per-case list")
    assert len(cases) == 8
    assert sum(c["score"] for c in cases) == pytest.approx(7.5)
    assert sum(1 for c in cases if c["status"] == "passed") == 6


def test_io_partial_feedback_is_a_line_numbered_diff():
    r, _ = graded("hello-io", "partial")
    out = by_name(r)["many names"]["output"]
    assert "The output is wrong" in out
    lines = out.splitlines()
    assert "-    3 | Hello, Alan Turing!" in lines
    assert "+    3 | Hello,   Alan Turing!" in lines
    assert "+    5 | Hello, !" in lines
    assert "     1 | Hello, Ada Lovelace!" in lines   # context, with its line number
    avg = by_name(r)["average"]["output"]
    assert "1.667" in avg and "tolerance 0.001" in avg


@pytest.mark.parametrize("assignment,test,line,code", [
    ("hello-io", "greets", 3, "for line in sys.stdin"),
    ("hello-io", "compiles", 3, "for line in sys.stdin"),
    ("stats-pytest", "unit tests", 8, "if len(ordered) % 2 == 1"),
    ("fizz-doctest", "student docstrings", 16, "return str(n"),
])
def test_syntax_error_feedback(assignment, test, line, code):
    r, _ = graded(assignment, "syntax_error")
    out = by_name(r)[test]["output"]
    assert "SyntaxError" in out
    assert f"line {line}" in out
    assert code in out


def test_timeout_and_memory_feedback():
    r, _ = graded("hello-io", "infinite_loop")
    assert "Stopped after" in by_name(r)["greets"]["output"]
    r, _ = graded("hello-io", "memory_hog")
    assert "memory" in by_name(r)["greets"]["output"].lower()


@pytest.mark.parametrize("assignment,submission", CASES, ids=[f"{a}/{s}" for a, s in CASES])
def test_feedback_never_shows_the_work_directory(assignment, submission):
    _, text = graded(assignment, submission)
    assert "/tmp/assay-" not in text
    assert os.path.join(work_base(), "assay-") not in text
