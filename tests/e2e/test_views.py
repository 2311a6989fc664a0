"""What instructors and students see: --view, --out and the table.

The student view (`--view student`, and results.student.json written by
`--out DIR`) leaves out hidden tests entirely (name, input, expected
output) but still counts their points, summed in one line "Hidden tests:
X of Y points."; "after_due_date" tests are hidden until the due date and
shown after it.  The default output is a table ending in "Total: S / M".
"""
import datetime
import json
import os

import pytest

from assay_helpers import (by_name, copy_assignment, example_dir, example_submission, grade,
                           grade_json, iso_from_now, parse_time)

HELLO = example_dir("hello-io")
STATS = example_dir("stats-pytest")


def _due_of(assignment_dir):
    with open(os.path.join(assignment_dir, "assignment.json")) as f:
        return parse_time(json.load(f)["due"])


def _hidden_test_texts():
    """The hidden test's name, and bits of its input and expected output."""
    with open(os.path.join(HELLO, "assignment.json")) as f:
        t = next(t for t in json.load(f)["tests"] if t.get("visibility") == "hidden")
    with open(os.path.join(HELLO, t["stdin_file"])) as f:
        stdin = f.read()
    with open(os.path.join(HELLO, t["expected_stdout_file"])) as f:
        expected = f.read()
    return t["name"], t["stdin_file"], t["expected_stdout_file"], stdin, expected


@pytest.mark.parametrize("submission,hidden_score", [("correct", 2), ("partial", 0)])
def test_student_view_removes_hidden_test(submission, hidden_score):
    r, text = grade_json(HELLO, example_submission("hello-io", submission), "--view", "student")
    name, stdin_file, expected_file, stdin, expected = _hidden_test_texts()
    assert name not in text
    assert stdin_file not in text and expected_file not in text
    # no line of the hidden input or expected output shows up
    for line in set(stdin.splitlines()) | set(expected.splitlines()):
        line = line.strip()
        if line and line not in ("Ada", "Grace", "Hello, Ada!", "Hello, Grace!"):
            # (the visible test "greets" uses Ada and Grace too)
            assert line not in text, line
    assert "Lovelace" not in text and "Hello, Ada Lovelace!" not in text
    assert name not in by_name(r)
    assert len(r["tests"]) == 3
    assert f"Hidden tests: {hidden_score} of 2 points." in r["output"]
    # the score still counts the hidden points
    full = {"correct": 6, "partial": 3}[submission]
    assert r["score"] == pytest.approx(full)
    assert r["max_score"] == pytest.approx(6)
    hidden = r["assay"].get("hidden")
    assert hidden and hidden["score"] == pytest.approx(hidden_score)
    assert hidden["max_score"] == pytest.approx(2)


def test_instructor_view_shows_hidden_test():
    r, _ = grade_json(HELLO, example_submission("hello-io", "partial"), "--view", "instructor")
    t = by_name(r)["many names"]
    assert t["visibility"] == "hidden"
    assert "Hello, Ada Lovelace!" in t["output"]
    assert "Hidden tests" not in r["output"]
    r2, _ = grade_json(HELLO, example_submission("hello-io", "partial"))
    assert [t["name"] for t in r2["tests"]] == [t["name"] for t in r["tests"]]


def test_student_table_sums_hidden_tests():
    rc, out, err = grade(HELLO, example_submission("hello-io", "correct"), "--view", "student")
    assert rc == 0, err
    assert "many names" not in out
    assert "Hidden tests: 2 of 2 points." in out
    assert "Total: 6 / 6" in out


@pytest.fixture
def stats_due_future(tmp_path):
    soon = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    if _due_of(STATS) > soon:
        return STATS
    return copy_assignment(STATS, str(tmp_path / "stats-future"),
                           due=iso_from_now(days=30))


def test_after_due_date_hidden_before_due(stats_due_future):
    r, text = grade_json(stats_due_future, example_submission("stats-pytest", "partial"),
                         "--view", "student")
    assert "empty input" not in text
    assert "test_empty" not in text
    assert [t["name"] for t in r["tests"]] == ["unit tests"]
    assert "Hidden tests: 1 of 2 points." in r["output"]
    assert r["score"] == pytest.approx(8.5)
    assert r["max_score"] == pytest.approx(12)
    # the instructor always sees it
    r, _ = grade_json(stats_due_future, example_submission("stats-pytest", "partial"))
    assert by_name(r)["empty input"]["visibility"] == "after_due_date"


def test_after_due_date_visible_after_due(tmp_path):
    past = copy_assignment(STATS, str(tmp_path / "stats-past"),
                           due=iso_from_now(days=-1))
    r, text = grade_json(past, example_submission("stats-pytest", "partial"),
                         "--view", "student")
    assert [t["name"] for t in r["tests"]] == ["unit tests", "empty input"]
    empty = by_name(r)["empty input"]
    assert empty["score"] == pytest.approx(1)
    assert empty["max_score"] == pytest.approx(2)
    assert "test_median_of_empty_list_raises_value_error" in empty["output"]
    assert "Hidden tests" not in r["output"]
    assert r["score"] == pytest.approx(8.5)


def test_out_writes_both_views(tmp_path):
    out = tmp_path / "results"
    rc, stdout, err = grade(HELLO, example_submission("hello-io", "partial"), "--out", str(out))
    assert rc == 0, err
    assert "Total: 3 / 6" in stdout
    with open(out / "results.json") as f:
        full = json.load(f)
    with open(out / "results.student.json") as f:
        student = json.load(f)
    assert full["score"] == pytest.approx(3) and student["score"] == pytest.approx(3)
    assert full["max_score"] == pytest.approx(6) and student["max_score"] == pytest.approx(6)
    assert "many names" in by_name(full)
    assert "many names" not in (out / "results.student.json").read_text()
    assert "Hidden tests: 0 of 2 points." in student["output"]
    assert student["assay"].get("view") == "student"


def test_out_with_json_prints_the_chosen_view(tmp_path):
    out = tmp_path / "deep" / "results"
    r, _ = grade_json(HELLO, example_submission("hello-io", "correct"), "--view", "student",
                      "--out", str(out))
    assert "many names" not in by_name(r)
    with open(out / "results.json") as f:
        assert "many names" in by_name(json.load(f)), "results.json is the instructor view"
    assert (out / "results.student.json").exists()


def test_default_table_output():
    rc, out, err = grade(HELLO, example_submission("hello-io", "correct"))
    assert rc == 0, err
    lines = out.splitlines()
    assert "Total: 6 / 6" in lines
    for name in ("greets", "many names", "average", "compiles"):
        assert any(name in line and "passed" in line for line in lines), name
    assert not out.lstrip().startswith("{")


def test_table_shows_feedback_of_failed_tests():
    rc, out, err = grade(HELLO, example_submission("hello-io", "partial"))
    assert rc == 0, err
    assert "Total: 3 / 6" in out
    assert "tolerance 0.001" in out
    assert "The output is wrong" in out


def test_student_view_of_missing_file_keeps_the_message():
    r, _ = grade_json(HELLO, example_submission("hello-io", "missing_file"), "--view", "student")
    assert r["assay"]["status"] == "error"
    assert r["assay"]["error"]["category"] == "submission"
    assert "hello.py" in r["assay"]["error"]["message"]
    assert "many names" not in by_name(r)
