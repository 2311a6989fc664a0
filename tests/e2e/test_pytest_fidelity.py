"""pytest fidelity: the maximum never depends on the kind of mistake.

A unittest.TestCase suite (classes of any name, an inherited base, a
Test* class with parametrized methods, one with __init__ that pytest
does not collect, a plain class) scores N of N for a correct submission,
0 of the same N when the submission cannot be imported or a required
file is missing (counted from the files' text, without running them),
and N-k of N for k wrong answers.  A helper module listed among the test files adds no
test.  "count_skipped": false leaves skipped tests out of the maximum.
"""
from assay_helpers import by_name, grade, grade_json

SUITE = """import unittest
from unittest import TestCase

import pytest

from sol import f


class Checks(unittest.TestCase):
    def test_one(self):
        self.assertEqual(f(1), 2)

    def test_two(self):
        self.assertEqual(f(2), 4)

    def helper(self):
        pass


class MoreChecks(Checks):
    def test_three(self):
        self.assertEqual(f(3), 6)


class edge_cases(TestCase):
    def test_zero(self):
        self.assertEqual(f(0), 0)


class TestTable:
    @pytest.mark.parametrize("x", [4, 5, 6])
    def test_row(self, x):
        assert f(x) == 2 * x


class TestNotCollected:
    def __init__(self):
        pass

    def test_never(self):
        pass


class Helper:
    def test_not_a_test(self):
        pass


@pytest.mark.parametrize("x,y", [(7, 14), (8, 16)])
def test_pairs(x, y):
    assert f(x) == y
"""
# Checks: 2, MoreChecks: 3 (2 inherited), edge_cases: 1, TestTable: 3, test_pairs: 2
N = 11
HELPER = "from sol import f\n\n\ndef double_all(xs):\n    return [f(x) for x in xs]\n"


def suite_assignment(make_assignment, **extra):
    return make_assignment([{"name": "suite", "kind": "pytest", "points_per_test": 1,
                             "files": ["tests/test_suite.py", "tests/helpers.py"], **extra}],
                           files={"tests/test_suite.py": SUITE, "tests/helpers.py": HELPER},
                           required_files=["sol.py"])


def test_the_maximum_is_the_same_for_every_mistake(make_assignment, make_submission):
    d = suite_assignment(make_assignment)
    right, _ = grade_json(d, make_submission({"sol.py": "def f(x):\n    return 2 * x\n"}))
    assert (right["score"], right["max_score"]) == (N, N), right["tests"][0]["output"]
    broken, _ = grade_json(d, make_submission({"sol.py": "def f(x)\n    return 2 * x\n"}))
    assert (broken["score"], broken["max_score"]) == (0, N)
    t = broken["tests"][0]
    assert t["output"].startswith(f"0 of {N} passed.")
    assert "tests/test_suite.py could not be imported" in t["output"]
    names = {c["name"] for c in t["cases"]}
    assert "tests/test_suite.py::edge_cases::test_zero" in names
    assert "tests/test_suite.py::MoreChecks::test_one" in names
    assert not any("helpers.py" in n for n in names), names
    # no sol.py at all: nothing runs, the maximum is counted from the files' text
    missing, _ = grade_json(d, make_submission({"other.py": "x = 1\n"}))
    assert (missing["score"], missing["max_score"]) == (0, N)
    assert missing["assay"]["error"]["category"] == "submission"
    wrong, _ = grade_json(d, make_submission({"sol.py": "def f(x):\n    return 2 * x if x % 2"
                                                        " == 0 else 0\n"}))
    # f(1) (in Checks and, inherited, MoreChecks), f(3), f(5) and f(7) are wrong
    assert (wrong["score"], wrong["max_score"]) == (N - 5, N)


def test_a_helper_module_adds_no_test(make_assignment, make_submission):
    d = make_assignment([{"name": "one", "kind": "pytest", "points": 3,
                          "files": ["tests/test_one.py", "tests/helpers.py"]}],
                        files={"tests/test_one.py": "from helpers import double_all\n\n\n"
                                                    "def test_it():\n"
                                                    "    assert double_all([1]) == [2]\n",
                               "tests/helpers.py": HELPER})
    r, _ = grade_json(d, make_submission({"sol.py": "def f(x):\n    return 2 * x\n"}))
    (t,) = r["tests"]
    assert (r["score"], r["max_score"], len(t["cases"])) == (3, 3, 1), t
    r, _ = grade_json(d, make_submission({"sol.py": "syntax error here\n"}))
    (t,) = r["tests"]
    assert (r["score"], r["max_score"], len(t["cases"])) == (0, 3, 1), t


SKIPPING = """import sys

import pytest

from sol import f


def test_a():
    assert f(1) == 2


def test_b():
    assert f(2) == 4


@pytest.mark.skipif(sys.platform == "linux", reason="not on this system")
def test_windows_only():
    assert f(3) == 6


def test_skips_itself():
    pytest.skip("needs a GPU")
"""


def test_skipped_tests_count_or_are_left_out(make_assignment, make_submission):
    sub = make_submission({"sol.py": "def f(x):\n    return 2 * x\n"})
    files = {"tests/test_s.py": SKIPPING}
    counted = make_assignment([{"name": "s", "kind": "pytest", "points": 8,
                                "files": ["tests/test_s.py"]}], files=files)
    r, _ = grade_json(counted, sub)
    assert (r["score"], r["max_score"]) == (4, 8)
    left_out = make_assignment([{"name": "s", "kind": "pytest", "points": 8,
                                 "files": ["tests/test_s.py"], "count_skipped": False}],
                               files=files)
    r, _ = grade_json(left_out, sub)
    assert (r["score"], r["max_score"]) == (8, 8)
    t = by_name(r)["s"]
    assert t["verdict"] == "passed"
    assert t["output"].startswith("2 of 2 passed.\n2 skipped, left out of the points.\n")
    skipped = [c for c in t["cases"] if c["status"] == "skipped"]
    assert [(c["score"], c["max_score"]) for c in skipped] == [(0, 0), (0, 0)]
    assert "needs a GPU" in skipped[1]["message"]
    per_test = make_assignment([{"name": "s", "kind": "pytest", "points_per_test": 2,
                                 "files": ["tests/test_s.py"], "count_skipped": False}],
                               files=files)
    r, _ = grade_json(per_test, sub)
    assert (r["score"], r["max_score"]) == (4, 4)
    bad = make_assignment([{"name": "s", "kind": "pytest", "points": 8,
                            "files": ["tests/test_s.py"], "count_skipped": "no"}], files=files)
    code, _, err = grade(bad, sub)
    assert code == 3
    assert '$.tests[0]: "count_skipped" must be true' in err
