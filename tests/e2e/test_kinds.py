"""Each test kind and option, on small assignments written in tmp_path.

io: every compare mode (exact, trimmed, contains, regex, numeric with
tolerance), exit_code, stdin_file; command: pass and fail; pytest: points
split evenly, points_per_test, a test file that fails to import; doctest:
per_example and all_or_nothing scoring, a module without examples;
support_files; a test's own limits overriding the assignment's.
"""
import os

import pytest

from assay_helpers import (assignment_doc, by_name, grade, grade_json, write_assignment,
                           write_submission)
from conftest import SMALL_LIMITS

# ---- io: compare modes ----

OUTPUT = "  Hello World  \nvalue = 3.14159\n\n\n"
PRINTER = f"import sys\nsys.stdout.write({OUTPUT!r})\n"


def io(name, expected, compare, **extra):
    return dict({"name": name, "kind": "io", "points": 1, "command": "python3 p.py",
                 "expected_stdout": expected, "compare": compare}, **extra)


COMPARE_TESTS = [
    io("exact pass", OUTPUT, "exact"),
    io("exact fail", "  Hello World\nvalue = 3.14159\n", "exact"),
    io("trimmed pass", "  Hello World\nvalue = 3.14159\n", "trimmed"),
    io("trimmed pass no final newline", "  Hello World\nvalue = 3.14159", "trimmed"),
    io("trimmed fail", "Hello World\nvalue = 3.14159\n", "trimmed"),
    io("contains pass", "value = 3.14", "contains"),
    io("contains fail", "Goodbye", "contains"),
    io("regex pass", "Hello +World", "regex"),
    io("regex pass 2", "value = 3\\.[0-9]{5}", "regex"),
    io("regex fail", "Goodbye|Farewell", "regex"),
    io("numeric pass", "Hello World\nvalue = 3.1416\n", "numeric", tolerance=0.001),
    io("numeric pass default tolerance", "Hello World value = 3.14159", "numeric"),
    io("numeric fail", "Hello World value = 3.15", "numeric", tolerance=0.001),
    io("numeric fail word", "Hello Earth value = 3.14159", "numeric", tolerance=0.001),
    io("numeric fail count", "Hello World value = 3.14159 2", "numeric", tolerance=0.001),
]


@pytest.fixture(scope="module")
def compare_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    os.chmod(root, 0o755)
    a = write_assignment(root / "assignment", assignment_doc(
        COMPARE_TESTS, title="compare", required_files=["p.py"], limits=SMALL_LIMITS))
    s = write_submission(root / "submission", {"p.py": PRINTER})
    r, _ = grade_json(a, s)
    return r


@pytest.mark.parametrize("name", [t["name"] for t in COMPARE_TESTS])
def test_compare_mode(compare_results, name):
    t = by_name(compare_results)[name]
    want = "passed" if " pass" in name else "failed"
    assert t["verdict"] == want, t["output"]
    assert t["score"] == (1 if want == "passed" else 0)
    assert t["max_score"] == 1
    if want == "passed":
        assert t["output"] == ""


def test_compare_totals(compare_results):
    passing = sum(1 for t in COMPARE_TESTS if " pass" in t["name"])
    assert compare_results["score"] == passing
    assert compare_results["max_score"] == len(COMPARE_TESTS)


@pytest.mark.parametrize("name,phrases", [
    ("exact fail", ["The output is wrong", "-    1 |   Hello World", "+    1 |   Hello World  "]),
    ("trimmed fail", ["The output is wrong", "-    1 | Hello World", "+    1 |   Hello World"]),
    ("contains fail", ["should contain", "Goodbye"]),
    ("regex fail", ["should match the pattern", "Goodbye|Farewell"]),
    ("numeric fail", ["value 5 is 3.14159, expected 3.15", "tolerance 0.001"]),
    ("numeric fail word", ['value 2 is "World", expected "Earth"']),
    ("numeric fail count", ["expected a value 6 but the output ended"]),
])
def test_compare_feedback(compare_results, name, phrases):
    out = by_name(compare_results)[name]["output"]
    for phrase in phrases:
        assert phrase in out, (phrase, out)


# ---- io: exit_code and stdin_file ----

EXITER = "import sys\nprint('done')\nsys.exit(int(sys.argv[1]))\n"


def test_exit_code(make_assignment, make_submission):
    tests = [
        {"name": "exits 3 as expected", "kind": "io", "points": 1,
         "command": "python3 code.py 3", "exit_code": 3, "expected_stdout": "done\n"},
        {"name": "exits 0, 3 expected", "kind": "io", "points": 1,
         "command": "python3 code.py 0", "exit_code": 3, "expected_stdout": "done\n"},
        {"name": "exits 0 as expected", "kind": "io", "points": 1,
         "command": "python3 code.py 0", "exit_code": 0, "expected_stdout": "done\n"},
        {"name": "exits 3, nothing said", "kind": "io", "points": 1,
         "command": "python3 code.py 3", "expected_stdout": "done\n"},
        {"name": "exits 3 as expected, wrong output", "kind": "io", "points": 1,
         "command": "python3 code.py 3", "exit_code": 3, "expected_stdout": "finished\n"},
    ]
    r, _ = grade_json(make_assignment(tests), make_submission({"code.py": EXITER}))
    t = by_name(r)
    assert (t["exits 3 as expected"]["verdict"], t["exits 3 as expected"]["score"]) == ("passed", 1)
    assert (t["exits 0, 3 expected"]["verdict"], t["exits 0, 3 expected"]["score"]) == ("failed", 0)
    assert "exited with code 0; expected 3" in t["exits 0, 3 expected"]["output"]
    assert t["exits 0 as expected"]["verdict"] == "passed"
    assert t["exits 3, nothing said"]["verdict"] == "runtime_error"
    assert "exited with code 3" in t["exits 3, nothing said"]["output"]
    assert t["exits 3 as expected, wrong output"]["verdict"] == "failed"
    assert "-    1 | finished" in t["exits 3 as expected, wrong output"]["output"]
    assert r["score"] == 2 and r["max_score"] == 5


def test_stdin_file(make_assignment, make_submission):
    tests = [{"name": "sums", "kind": "io", "points": 2, "command": "python3 sum.py",
              "stdin_file": "tests/nums.in", "expected_stdout_file": "tests/nums.out",
              "compare": "exact"}]
    d = make_assignment(tests, files={"tests/nums.in": "1\n2\n3\n40\n",
                                      "tests/nums.out": "46\n"})
    good = make_submission({"sum.py": "import sys\nprint(sum(int(x) for x in sys.stdin))\n"})
    r, _ = grade_json(d, good)
    assert (by_name(r)["sums"]["verdict"], r["score"]) == ("passed", 2)
    bad = make_submission({"sum.py": "import sys\nprint(len(sys.stdin.readlines()))\n"})
    r, _ = grade_json(d, bad)
    t = by_name(r)["sums"]
    assert (t["verdict"], t["score"]) == ("failed", 0)
    assert "-    1 | 46" in t["output"] and "+    1 | 4" in t["output"]


def test_inline_stdin(make_assignment, make_submission):
    tests = [{"name": "echo", "kind": "io", "points": 1, "command": "python3 e.py",
              "stdin": "one\ntwo\n", "expected_stdout": "2\n", "compare": "exact"}]
    r, _ = grade_json(make_assignment(tests),
                      make_submission({"e.py": "import sys\nprint(len(sys.stdin.read().split()))\n"}))
    assert r["score"] == 1


# ---- command ----

CHECKER = "import sys\nprint('checking', sys.argv[1])\nsys.exit(0 if sys.argv[1] == 'ok' else 1)\n"


def test_command_pass_and_fail(make_assignment, make_submission):
    tests = [{"name": "ok", "kind": "command", "points": 2, "command": "python3 check.py ok"},
             {"name": "bad", "kind": "command", "points": 3, "command": "python3 check.py bad"},
             {"name": "shell", "kind": "command", "points": 1,
              "command": "test -f check.py && python3 check.py ok | grep -q checking"}]
    r, _ = grade_json(make_assignment(tests), make_submission({"check.py": CHECKER}))
    t = by_name(r)
    assert (t["ok"]["verdict"], t["ok"]["score"], t["ok"]["max_score"]) == ("passed", 2, 2)
    assert (t["bad"]["verdict"], t["bad"]["score"], t["bad"]["max_score"]) == ("failed", 0, 3)
    assert '"python3 check.py bad" failed' in t["bad"]["output"]
    assert "exited with code 1" in t["bad"]["output"]
    assert "checking bad" in t["bad"]["output"], "the command's output is shown"
    assert t["shell"]["verdict"] == "passed"
    assert (r["score"], r["max_score"]) == (3, 6)


# ---- pytest ----

SOL = "def f(x):\n    return 2 * x\n"
TEST_A = ("from sol import f\n\n"
          "def test_one():\n    assert f(1) == 2\n\n"
          "def test_two():\n    assert f(2) == 4\n\n"
          "def test_three():\n    assert f(3) == 7, 'f(3) should be 7'\n")
TEST_B = ("from sol import g\n\n"
          "def test_g1():\n    assert g(1) == 1\n\n"
          "def test_g2():\n    assert g(2) == 2\n")


def test_pytest_points_split_evenly(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points": 6,
                          "files": ["tests/test_a.py"]}], files={"tests/test_a.py": TEST_A})
    r, _ = grade_json(d, make_submission({"sol.py": SOL}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"], t["verdict"]) == (4, 6, "failed")
    assert "2 of 3 passed" in t["output"]
    assert "tests/test_a.py::test_three" in t["output"]
    assert "f(3) should be 7" in t["output"]


def test_pytest_points_per_test(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points_per_test": 1.5,
                          "files": ["tests/test_a.py"]}], files={"tests/test_a.py": TEST_A})
    r, _ = grade_json(d, make_submission({"sol.py": SOL}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"], t["verdict"]) == (3, 4.5, "failed")
    assert (r["score"], r["max_score"]) == (3, 4.5)
    # a submission that cannot be imported still has the full max score
    r, _ = grade_json(d, make_submission({"sol.py": "def f(x)\n    return x\n"}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"], t["verdict"]) == (0, 4.5, "failed")
    assert "0 of 3 passed" in t["output"]
    assert "SyntaxError" in t["output"]


def test_pytest_points_and_points_per_test_is_invalid(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points": 3, "points_per_test": 1,
                          "files": ["tests/test_a.py"]}], files={"tests/test_a.py": TEST_A})
    rc, _, err = grade(d, make_submission({"sol.py": SOL}))
    assert rc == 3
    assert "$.tests[0]" in err and "points_per_test" in err


def test_pytest_file_that_fails_to_import(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points": 10,
                          "files": ["tests/test_a.py", "tests/test_b.py"]}],
                        files={"tests/test_a.py": TEST_A.replace("== 7", "== 6"),
                               "tests/test_b.py": TEST_B})
    r, _ = grade_json(d, make_submission({"sol.py": SOL}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"], t["verdict"]) == (6, 10, "failed")
    assert "3 of 5 passed" in t["output"]
    assert "0 of 0" not in t["output"]
    assert "tests/test_b.py could not be imported" in t["output"]
    assert "tests/test_b.py::test_g1" in t["output"]
    assert "tests/test_b.py::test_g2" in t["output"]
    assert "ImportError" in t["output"] or "cannot import name" in t["output"]


def test_pytest_only_file_fails_to_import_is_never_0_of_0(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points_per_test": 2,
                          "files": ["tests/test_b.py"]}], files={"tests/test_b.py": TEST_B})
    r, _ = grade_json(d, make_submission({"sol.py": SOL}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"], t["verdict"]) == (0, 4, "failed")
    assert "0 of 2 passed" in t["output"]
    assert "0 of 0" not in t["output"]


PARAM_TESTS = ("import pytest\n"
               "from sol import f\n\n"
               "@pytest.mark.parametrize('x', [1, 2, 3])\n"
               "def test_f(x):\n"
               "    assert f(x) == 2 * x\n\n"
               "def test_zero():\n"
               "    assert f(0) == 0\n")


@pytest.mark.parametrize("sol,score", [
    ("def f(x):\n    return 2 * x\n", 4),
    ("def f(x):\n    return 2 * x if x else 1\n", 3),
    ("def f(x)\n    return 2 * x\n", 0),   # a SyntaxError: the file fails to import
], ids=["all pass", "one fails", "import fails"])
def test_pytest_points_per_test_with_parametrize(make_assignment, make_submission, sol, score):
    """4 collected tests (3 parametrized + 1) at 1 point each: the max score is
    4 whatever the submission does, even when the test file cannot be imported."""
    d = make_assignment([{"name": "unit", "kind": "pytest", "points_per_test": 1,
                          "files": ["tests/test_p.py"]}], files={"tests/test_p.py": PARAM_TESTS})
    r, _ = grade_json(d, make_submission({"sol.py": sol}))
    t = by_name(r)["unit"]
    assert (t["score"], t["max_score"]) == (score, 4), t["output"]
    assert r["max_score"] == 4


# ---- doctest ----

DOC_MODULE = '''"""Helpers.

>>> double(2)
4
"""


def double(x):
    """Twice x.

    >>> double(3)
    6
    >>> double(-1)
    -2
    """
    return 2 * x


def half(x):
    """Half of x.

    >>> half(4)
    3.0
    """
    return x / 2
'''


@pytest.mark.parametrize("scoring,score,verdict", [
    ("per_example", 3, "failed"),
    ("all_or_nothing", 0, "failed"),
])
def test_doctest_scoring(make_assignment, make_submission, scoring, score, verdict):
    d = make_assignment([{"name": "docs", "kind": "doctest", "points": 4, "module": "sol.py",
                          "scoring": scoring}])
    r, _ = grade_json(d, make_submission({"sol.py": DOC_MODULE}))
    t = by_name(r)["docs"]
    assert (t["score"], t["max_score"], t["verdict"]) == (score, 4, verdict)
    assert "3 of 4 passed" in t["output"]
    assert "half(4)" in t["output"]
    assert "Expected:" in t["output"] and "3.0" in t["output"] and "2.0" in t["output"]


@pytest.mark.parametrize("scoring", ["per_example", "all_or_nothing"])
def test_doctest_all_passing(make_assignment, make_submission, scoring):
    d = make_assignment([{"name": "docs", "kind": "doctest", "points": 4, "module": "sol.py",
                          "scoring": scoring}])
    r, _ = grade_json(d, make_submission({"sol.py": DOC_MODULE.replace("    3.0\n", "    2.0\n")}))
    t = by_name(r)["docs"]
    assert (t["score"], t["max_score"], t["verdict"]) == (4, 4, "passed")


def test_doctest_file(make_assignment, make_submission):
    examples = (">>> from sol import double\n>>> double(5)\n10\n>>> double(0)\n1\n")
    d = make_assignment([{"name": "examples", "kind": "doctest", "points": 3,
                          "file": "tests/ex.txt"}], files={"tests/ex.txt": examples})
    r, _ = grade_json(d, make_submission({"sol.py": DOC_MODULE}))
    t = by_name(r)["examples"]
    # the import line counts as an example: 3 examples, 2 pass
    assert (t["score"], t["max_score"], t["verdict"]) == (2, 3, "failed")
    assert "2 of 3 passed" in t["output"]


def test_doctest_module_without_examples(make_assignment, make_submission):
    d = make_assignment([{"name": "docs", "kind": "doctest", "points": 2, "module": "sol.py"}])
    sub = make_submission({"sol.py": 'def f():\n    """Does nothing."""\n    return 1\n'})
    r, _ = grade_json(d, sub)
    t = by_name(r)["docs"]
    assert (t["score"], t["max_score"], t["verdict"]) == (0, 2, "failed")
    assert "No doctest examples were found in sol.py" in t["output"]


def test_doctest_module_missing_from_submission(make_assignment, make_submission):
    d = make_assignment([{"name": "docs", "kind": "doctest", "points": 2, "module": "sol.py"}])
    r, _ = grade_json(d, make_submission({"other.py": "x = 1\n"}))
    t = by_name(r)["docs"]
    assert t["score"] == 0 and t["max_score"] == 2
    assert t["verdict"] != "passed"
    assert "sol.py" in t["output"]


# ---- support_files ----

CHECK_COUNT = ("import subprocess, sys\n"
               "out = subprocess.run([sys.executable, 'count.py'], capture_output=True,\n"
               "                     text=True).stdout\n"
               "print(repr(out))\n"
               "sys.exit(0 if out == 'no data\\n' else 1)\n")


def test_support_files(make_assignment, make_submission):
    reader = ("import os\n"
              "if os.path.exists('data/words.txt'):\n"
              "    print(len(open('data/words.txt').read().split()))\n"
              "else:\n"
              "    print('no data')\n")
    tests = [{"name": "with data", "kind": "io", "points": 1, "command": "python3 count.py",
              "support_files": ["data/words.txt"], "expected_stdout": "5\n"},
             {"name": "without data", "kind": "io", "points": 1, "command": "python3 count.py",
              "expected_stdout": "no data\n"},
             {"name": "checker", "kind": "command", "points": 1,
              "command": "python3 tests/check.py", "support_files": ["tests/check.py"]}]
    d = make_assignment(tests, files={"data/words.txt": "the quick brown fox jumps\n",
                                      "tests/check.py": CHECK_COUNT})
    r, _ = grade_json(d, make_submission({"count.py": reader}))
    t = by_name(r)
    assert t["with data"]["verdict"] == "passed", t["with data"]["output"]
    assert t["without data"]["verdict"] == "passed", "a test sees only its own support files"
    assert t["checker"]["verdict"] == "passed", t["checker"]["output"]
    assert r["score"] == 3


def test_submission_cannot_replace_support_files(make_assignment, make_submission):
    tests = [{"name": "with data", "kind": "io", "points": 1, "command": "python3 count.py",
              "support_files": ["data/words.txt"], "expected_stdout": "5\n"}]
    d = make_assignment(tests, files={"data/words.txt": "the quick brown fox jumps\n"})
    sub = make_submission({"count.py": "print(len(open('data/words.txt').read().split()))\n",
                           "data/words.txt": "just two\n"})
    r, _ = grade_json(d, sub)
    assert by_name(r)["with data"]["verdict"] == "passed"
    assert any("data/words.txt" in w for w in r["assay"]["warnings"])


# ---- per-test limits ----

def test_per_test_limits_override(make_assignment, make_submission):
    nap = "import time\ntime.sleep(1.5)\nprint('awake')\n"
    tests = [{"name": "short wall", "kind": "io", "points": 1, "command": "python3 nap.py",
              "expected_stdout": "awake\n", "limits": {"wall_s": 1}},
             {"name": "assignment wall", "kind": "io", "points": 1, "command": "python3 nap.py",
              "expected_stdout": "awake\n"}]
    # the assignment's wall limit, far above the 1.5 s nap: it is not what this checks
    d = make_assignment(tests, limits=dict(SMALL_LIMITS, wall_s=10))
    r, _ = grade_json(d, make_submission({"nap.py": nap}))
    t = by_name(r)
    assert (t["short wall"]["verdict"], t["short wall"]["score"]) == ("timeout", 0)
    assert "Stopped after 1 s" in t["short wall"]["output"]
    assert (t["assignment wall"]["verdict"], t["assignment wall"]["score"]) == ("passed", 1)


def test_per_test_memory_limit(make_assignment, make_submission):
    grab = "x = bytearray(150 * 1024 * 1024)\nprint('got it')\n"
    tests = [{"name": "small memory", "kind": "io", "points": 1, "command": "python3 grab.py",
              "expected_stdout": "got it\n", "limits": {"memory_mb": 64}},
             {"name": "assignment memory", "kind": "io", "points": 1,
              "command": "python3 grab.py", "expected_stdout": "got it\n"}]
    r, _ = grade_json(make_assignment(tests), make_submission({"grab.py": grab}))
    t = by_name(r)
    assert t["small memory"]["verdict"] == "memory_limit"
    assert "64 MB" in t["small memory"]["output"]
    assert t["assignment memory"]["verdict"] == "passed", t["assignment memory"]["output"]


def test_cpu_limit(make_assignment, make_submission):
    tests = [{"name": "spins", "kind": "command", "points": 1, "command": "python3 spin.py",
              "limits": {"cpu_s": 1, "wall_s": 3}}]
    r, _ = grade_json(make_assignment(tests), make_submission({"spin.py": "while True:\n    pass\n"}))
    t = by_name(r)["spins"]
    assert (t["verdict"], t["score"]) == ("timeout", 0)
    assert "Stopped after" in t["output"]
