"""The property test kind: a submission's function against the
instructor's reference solution on inputs generated from a fixed seed.

A correct, an off-by-one and a crashing submission get their exact
scores, with the smallest failing input, the expected value and what the
function returned or raised; the same scores again through the spool
after `assay regrade`; Hypothesis strategies from a Python file, float
tolerance, unordered and custom comparisons; a reference that raises is
the assignment's error (never the student's score, and its details never
in the student's view); a function that loops is a timeout naming the
input; a submission's function looking for the reference everywhere a
run can read finds nothing; an object equal to everything, a forged
report and a killed supervisor earn nothing; a worker without Hypothesis
is Assay's failure; a bad argument description is refused with its JSON
path.
"""
import os

import pytest

from assay_helpers import (by_name, grade, grade_json, make_python_root, make_tempdir,
                           needs_root, remove_tempdir)
from pipeline import assignment_doc as pipeline_doc
from pipeline import pipeline  # noqa: F401

MARKER = "reference-marker-7f3a9c"
REFERENCE = f"""# {MARKER}
def total(xs):
    return sum(xs)


def top(xs, k):
    return sorted(xs, reverse=True)[:k]
"""
TOTAL_TEST = {"name": "total", "kind": "property", "points": 4, "module": "stats.py",
              "function": "total", "reference": "ref/stats.py",
              "arguments": [{"type": "list", "of": {"type": "int", "min": -100, "max": 100},
                             "max_size": 10}]}
CORRECT = "def total(xs):\n    return sum(xs)\n"
OFF_BY_ONE = ("def total(xs):\n    s = 0\n    for i in range(len(xs) - 1):\n"
              "        s += xs[i]\n    return s\n")
CRASHING = "def total(xs):\n    return xs[0] + sum(xs[1:])\n"


@pytest.fixture
def total_assignment(make_assignment):
    return make_assignment([TOTAL_TEST], files={"ref/stats.py": REFERENCE},
                           required_files=["stats.py"])


def only_test(r):
    assert len(r["tests"]) == 1
    return r["tests"][0]


def test_correct_submission_gets_full_marks(total_assignment, make_submission):
    r, _ = grade_json(total_assignment, make_submission({"stats.py": CORRECT}))
    t = only_test(r)
    assert (r["score"], r["max_score"]) == (4, 4)
    assert t["verdict"] == "passed" and t["kind"] == "property"
    assert t["property"] == {"inputs": 100, "passed": 100, "failing": None}
    assert r["assay"]["status"] == "graded" and r["assay"]["error"] is None


def test_off_by_one_shows_the_smallest_failing_input(total_assignment, make_submission):
    r, _ = grade_json(total_assignment, make_submission({"stats.py": OFF_BY_ONE}))
    t = only_test(r)
    assert (r["score"], r["max_score"]) == (0, 4)
    assert t["verdict"] == "failed"
    lines = t["output"].splitlines()
    assert lines[1:] == ["Smallest failing input found:", "    total([1])", "Expected: 1",
                         "Your function returned: 0"], t["output"]
    assert lines[0].startswith("total gave a different result from the reference solution on ")
    assert lines[0].endswith(" of 100 generated inputs.")
    assert t["property"]["failing"] == "total([1])"
    assert t["property"]["inputs"] == 100 and 0 < t["property"]["passed"] < 100


def test_crashing_submission_shows_the_exception(total_assignment, make_submission):
    r, _ = grade_json(total_assignment, make_submission({"stats.py": CRASHING}))
    t = only_test(r)
    assert (r["score"], r["max_score"]) == (0, 4)
    assert t["verdict"] == "failed"
    out = t["output"]
    assert "Smallest failing input found:\n    total([])\nExpected: 0\n" in out, out
    assert "Your function raised IndexError: list index out of range" in out
    assert 'File "stats.py", line 2, in total' in out
    assert ".assay" not in out and "property_runner" not in out
    assert r["assay"]["error"] is None   # the student's mistake, not an error of grading


def test_every_grading_sees_the_same_inputs(total_assignment, make_submission):
    s = make_submission({"stats.py": OFF_BY_ONE})
    first = only_test(grade_json(total_assignment, s)[0])
    second = only_test(grade_json(total_assignment, s)[0])
    assert first["property"] == second["property"]
    assert first["output"] == second["output"]


def test_table_shows_the_failing_input(total_assignment, make_submission):
    rc, out, _ = grade(total_assignment, make_submission({"stats.py": OFF_BY_ONE}))
    assert rc == 0
    assert "  1   total                                0 / 4  failed" in out, out
    assert "    Smallest failing input found:\n        total([1])\n    Expected: 1\n" in out


def test_reference_that_raises_is_the_assignments_error(make_assignment, make_submission):
    broken = "def total(xs):\n    return xs[0] + sum(xs[1:])   # wrong on []\n"
    a = make_assignment([TOTAL_TEST], files={"ref/stats.py": broken})
    s = make_submission({"stats.py": CORRECT})
    r, _ = grade_json(a, s)
    t = only_test(r)
    assert t["verdict"] == "setup_error" and t["score"] == 0
    err = r["assay"]["error"]
    assert err["category"] == "assignment"
    assert err["message"].startswith("The property test's reference solution could not be "
                                     "used: ref/stats.py raised IndexError for total([]):")
    assert 'File "ref/stats.py", line 2, in total' in err["message"]
    assert "wrong on []" in err["message"]     # the source line, for the instructor
    student, _ = grade_json(a, s, "--view", "student")
    st = only_test(student)
    assert "wrong on []" not in str(student) and "ref/stats.py" not in str(student)
    assert st["output"] == ("This test could not run because of a problem in the assignment's "
                            "reference solution, not in your work; your instructor can see "
                            "the details.\n")


def test_strategies_hypothesis_refuses_are_the_assignments_error(make_assignment,
                                                                  make_submission):
    test = dict(TOTAL_TEST, strategies="t/strategies.py")
    del test["arguments"]
    a = make_assignment([test], files={
        "ref/stats.py": REFERENCE,
        "t/strategies.py": "from hypothesis import strategies as st\n"
                           "arguments = [st.lists(st.integers(min_value=5, max_value=1))]\n"})
    r, _ = grade_json(a, make_submission({"stats.py": CORRECT}))
    assert r["assay"]["error"]["category"] == "assignment"
    assert "the inputs could not be generated: InvalidArgument: " in r["assay"]["error"]["message"]
    assert only_test(r)["verdict"] == "setup_error"


def test_slow_reference_is_the_assignments_error(make_assignment, make_submission):
    slow = "import time\ndef total(xs):\n    time.sleep(0.05)\n    return sum(xs)\n"
    a = make_assignment([dict(TOTAL_TEST, limits={"wall_s": 1, "cpu_s": 1})],
                        files={"ref/stats.py": slow})
    r, _ = grade_json(a, make_submission({"stats.py": CORRECT}))
    assert r["assay"]["error"]["category"] == "assignment"
    assert "the reference solution went past the test's limits (1 s, 1 s of CPU time, 256 MB) after " in r["assay"]["error"]["message"]
    assert only_test(r)["verdict"] == "setup_error"


def test_looping_function_is_a_timeout_naming_the_input(make_assignment, make_submission):
    a = make_assignment([dict(TOTAL_TEST, limits={"wall_s": 2, "cpu_s": 1})],
                        files={"ref/stats.py": REFERENCE})
    looping = "def total(xs):\n    while len(xs) > 2:\n        pass\n    return sum(xs)\n"
    r, _ = grade_json(a, make_submission({"stats.py": looping}))
    t = only_test(r)
    assert t["verdict"] == "timeout" and t["score"] == 0
    assert "Failing input:\n    total([" in t["output"]
    assert "did not return within the time limit" in t["output"]
    assert r["assay"]["error"] is None


def test_missing_function_and_syntax_error(total_assignment, make_submission):
    t = only_test(grade_json(total_assignment, make_submission({"stats.py": "def totl(xs):\n"
                                                                "    return 0\n"}))[0])
    assert t["verdict"] == "runtime_error"
    assert "stats.py defines no function named total" in t["output"]
    t = only_test(grade_json(total_assignment,
                             make_submission({"stats.py": "def total(xs)\n    return 0\n"}))[0])
    assert t["verdict"] == "runtime_error"
    assert "SyntaxError" in t["output"] and 'File "stats.py", line 1' in t["output"]


def test_strategies_tolerance_unordered_and_custom(make_assignment, make_submission):
    reference = ("def mean(xs):\n    return sum(xs) / len(xs)\n"
                 "def uniq(xs):\n    return list(dict.fromkeys(xs))\n"
                 "def root(n):\n    return n\n")
    strategies = ("from hypothesis import strategies as st\n"
                  "arguments = [st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=10)]\n")
    comparator = ("def compare(expected, actual, args):\n"
                  "    return isinstance(actual, int) and actual * actual == args[0] ** 2\n")
    common = {"kind": "property", "module": "m.py", "reference": "ref/m.py"}
    a = make_assignment([
        dict(common, name="mean", function="mean", compare="approx", tolerance=1e-6,
             strategies="t/strategies.py", examples=50),
        dict(common, name="uniq", function="uniq", compare="unordered",
             arguments=[{"type": "list", "of": {"type": "choice", "values": [1, 2, 3, "a"]}}]),
        dict(common, name="root", function="root", compare="custom", comparator="t/cmp.py",
             arguments=[{"type": "int", "min": 0, "max": 1000}]),
    ], files={"ref/m.py": reference, "t/strategies.py": strategies, "t/cmp.py": comparator})
    good = ("import math\ndef mean(xs):\n    return math.fsum(xs) / len(xs)\n"
            "def uniq(xs):\n    return list(set(xs))\n"
            "def root(n):\n    return -n\n")
    r, _ = grade_json(a, make_submission({"m.py": good}))
    assert [(t["name"], t["verdict"]) for t in r["tests"]] == [
        ("mean", "passed"), ("uniq", "passed"), ("root", "passed")], r["tests"]
    bad = ("def mean(xs):\n    return sum(xs) / (len(xs) + 1)\n"
           "def uniq(xs):\n    return xs\n"
           "def root(n):\n    return n + 1\n")
    tests = by_name(grade_json(a, make_submission({"m.py": bad}))[0])
    assert tests["mean"]["property"]["failing"] == "mean([0.0])" or \
        tests["mean"]["verdict"] == "failed"
    assert tests["mean"]["verdict"] == "failed"
    assert "Expected: [1]\nYour function returned: [1, 1]" in tests["uniq"]["output"]
    assert tests["root"]["property"]["failing"] == "root(0)"
    assert r["score"] == 3


def test_function_looking_for_the_reference_finds_nothing(make_assignment, make_submission):
    """The student's function scans every file, descriptor, environment
    and command line of the run it can read for the reference's marker;
    the reference returns [] for any input, so anything found fails the
    test and is shown."""
    reference = f"# {MARKER}\ndef scan(n):\n    return []\n"
    scanner = f"""import os, stat
MARK = ({MARKER[:9]!r} + {MARKER[9:]!r}).encode()   # not in this file as one string
def read(path):
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return b''   # a pipe (its own) would block
        with open(path, 'rb') as f:
            return f.read(1 << 22)
    except OSError:
        return b''
def scan(n):
    found = []
    for top in ('.', '/tmp', '/dev/shm', os.environ.get('HOME', '.')):
        for d, _, files in os.walk(top):
            for name in files:
                if MARK in read(os.path.join(d, name)):
                    found.append(os.path.join(d, name))
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        for what in ('cmdline', 'environ'):
            if MARK in read('/proc/%s/%s' % (pid, what)):
                found.append('/proc/%s/%s' % (pid, what))
        try:
            fds = os.listdir('/proc/%s/fd' % pid)
        except OSError:
            fds = []
        for fd in fds:
            if MARK in read('/proc/%s/fd/%s' % (pid, fd)):
                found.append('/proc/%s/fd/%s' % (pid, fd))
    return found
"""
    a = make_assignment([{"name": "scan", "kind": "property", "module": "scan.py",
                          "function": "scan", "reference": "ref/scan.py", "examples": 3,
                          "arguments": [{"type": "int", "min": 0, "max": 3}]}],
                        files={"ref/scan.py": reference})
    r, _ = grade_json(a, make_submission({"scan.py": scanner}))
    t = only_test(r)
    assert t["verdict"] == "passed", t["output"]


@pytest.mark.parametrize("spec,message", [
    ({"arguments": [{"type": "int", "min": 5, "max": 1}]},
     "$.tests[0].arguments[0]: min 5 is larger than max 1: swap them"),
    ({"arguments": [{"type": "list"}]},
     "$.tests[0].arguments[0]: \"of\" is required for this type"),
    ({"arguments": [{"type": "integer"}]},
     "$.tests[0].arguments[0].type: \"integer\" is not one of int, float, bool, str, list, "
     "tuple, dict, choice"),
    ({"arguments": [{"type": "int", "maximum": 3}]},
     "$.tests[0].arguments[0].maximum: unknown key"),
    ({"compare": "custom"}, "$.tests[0].comparator"),
    ({"reference": "ref/missing.py"}, "$.tests[0].reference: file ref/missing.py does not exist"),
])
def test_bad_property_tests_are_refused(make_assignment, make_submission, spec, message):
    a = make_assignment([dict(TOTAL_TEST, **spec)], files={"ref/stats.py": REFERENCE})
    rc, _, err = grade(a, make_submission({"stats.py": CORRECT}))
    assert rc == 3
    assert message in err, err


@pytest.mark.parametrize("label,code,verdict", [
    ("an object equal to everything",
     "class Anything:\n    def __eq__(self, other):\n        return True\n"
     "def total(xs):\n    return Anything()\n", "failed"),
    ("a forged report on standard output",
     "import sys\ndef total(xs):\n"
     "    print('{\"event\": \"result\", \"passed\": 100, \"total\": 100}', flush=True)\n"
     "    sys.__stdout__.write('{\"event\": \"finished\"}\\n')\n    return -1\n", "failed"),
    ("the supervisor killed",
     "import os, signal\ndef total(xs):\n    os.kill(os.getppid(), signal.SIGKILL)\n"
     "    return sum(xs)\n", "runtime_error"),
])
def test_submissions_that_cheat_score_nothing(total_assignment, make_submission, label, code,
                                              verdict):
    r, _ = grade_json(total_assignment, make_submission({"stats.py": code}))
    t = only_test(r)
    assert (t["score"], t["verdict"]) == (0, verdict), (label, t["output"])
    assert r["assay"]["error"] is None, (label, r["assay"]["error"])   # the student's doing


@needs_root
def test_worker_without_hypothesis_is_not_the_students_failure(make_assignment,
                                                               make_submission):
    """A worker whose system lacks Hypothesis (a root file system with
    python3 and its standard library only): the grading is Assay's
    failure, naming what is missing, never a score of the student's."""
    top = make_tempdir("assay-prop-root-")
    try:
        root = make_python_root(top)
        a = make_assignment([TOTAL_TEST], files={"ref/stats.py": REFERENCE}, rootfs=root)
        r, _ = grade_json(a, make_submission({"stats.py": CORRECT}))
    finally:
        remove_tempdir(top)
    err = r["assay"]["error"]
    assert err["category"] == "infrastructure", err
    assert "Assay's property_runner.py could not start on this worker" in err["message"]
    assert "Hypothesis is missing" in err["message"]
    assert only_test(r)["verdict"] == "setup_error"


def test_same_scores_after_regrade_through_the_spool(pipeline):  # noqa: F811
    spool = pipeline()
    spool.add_assignment("cs101", "sums", pipeline_doc([TOTAL_TEST], title="Sums",
                                                        required_files=["stats.py"]),
                         files={"ref/stats.py": REFERENCE})
    subs = {name: spool.make_submission(name, {"stats.py": code}) for name, code in
            (("correct", CORRECT), ("off", OFF_BY_ONE), ("crash", CRASHING))}
    spool.start()
    first = {}
    for name, path in subs.items():
        _, r = spool.submit_wait("cs101", "sums", name, path)
        first[name] = (r["score"], r["tests"][0]["verdict"], r["tests"][0]["output"])
        assert r["assay"]["error"] is None, r["assay"]["error"]
    assert {k: v[:2] for k, v in first.items()} == {
        "correct": (4, "passed"), "off": (0, "failed"), "crash": (0, "failed")}
    before = set(os.listdir(spool.path("jobs")))
    spool.assay_ok("regrade", "--course", "cs101", "--assignment", "sums")
    new = sorted(set(os.listdir(spool.path("jobs"))) - before)
    assert len(new) == 3
    again = {r["assay"]["student"]: (r["score"], r["tests"][0]["verdict"], r["tests"][0]["output"])
             for r in spool.wait_results(new, timeout=90).values()}
    assert again == first
