"""`assay audit`: mutants of a reference solution graded against an
assignment's tests, in the sandbox, over two slots.

A weak and a strong pytest suite for the same reference get their exact
mutation scores (the two mutants no test can catch, x < lo turned into
x <= lo in a clamp and its twin, survive both); a survivor is shown as
its diff with the test that should have caught it; --suggest proposes a
property test that kills the survivors of a function, checked by
grading; a reference that does not earn every point is refused.
"""
from assay_helpers import installation_args, run_assay

REFERENCE = '''"""Small statistics."""


def total(xs: list[int]) -> int:
    """The sum."""
    s = 0
    for x in xs:
        s += x
    return s


def clamp(x: int, lo: int, hi: int) -> int:
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def median(xs):
    ys = sorted(xs)
    n = len(ys)
    if n % 2 == 1:
        return ys[n // 2]
    return (ys[n // 2 - 1] + ys[n // 2]) / 2
'''

WEAK = '''from stats import total, clamp, median

def test_total():
    assert total([1, 2, 3]) == 6

def test_clamp():
    assert clamp(5, 0, 10) == 5
'''

STRONG = '''from stats import total, clamp, median

def test_total():
    assert total([1, 2, 3]) == 6
    assert total([]) == 0
    assert total([5]) == 5

def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10

def test_median():
    assert median([3, 1, 2]) == 2
    assert median([5, 1, 4, 2, 3]) == 3
    assert median([4, 1, 3, 2]) == 2.5
    assert median([1, 2, 3, 4, 5, 6]) == 3.5
    assert median([7]) == 7
    assert median([1, 2]) == 1.5
'''


def suite(make_assignment, tests):
    return make_assignment([{"name": "unit", "kind": "pytest", "points": 2,
                             "files": ["tests/test_stats.py"]}],
                           files={"tests/test_stats.py": tests}, required_files=["stats.py"],
                           limits={"wall_s": 10, "cpu_s": 5, "memory_mb": 256})


def audit(assignment, reference, *extra):
    p = run_assay("audit", assignment, reference, "--jobs", "2", *extra, *installation_args(),
                  timeout=600)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_weak_and_strong_suites(make_assignment, make_submission):
    reference = make_submission({"stats.py": REFERENCE})
    rc, out, err = audit(suite(make_assignment, WEAK), reference)
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == "Mutation score: 7 of 37 mutants killed (19%)", out
    assert lines[1].startswith("Graded 37 mutants of ") and "over 2 slots (" in lines[1]
    assert "mutants per second)." in lines[1]
    # a survivor: its diff, and the test that names its function
    assert ("2. stats.py:14 in clamp: statement removed (statement)\n"
            "   --- a/stats.py\n   +++ b/stats.py\n   @@ -13,3 +13,3 @@\n"
            "        if x < lo:\n   -        return lo\n   +        pass\n"
            "        if x > hi:\n"
            '   Should have been caught by the tests that use clamp: "unit"\n') in out, out

    rc, out, err = audit(suite(make_assignment, STRONG), reference)
    assert rc == 0, err
    assert out.splitlines()[0] == "Mutation score: 35 of 37 mutants killed (95%)", out
    assert out.count(" in clamp: ") == 2 and "< replaced by <=" in out and \
        "> replaced by >=" in out
    assert " in median" not in out and " in total" not in out


def test_suggest_proposes_property_tests_that_kill(make_assignment, make_submission):
    reference = make_submission({"stats.py": REFERENCE})
    rc, out, err = audit(suite(make_assignment, WEAK), reference, "--suggest")
    assert rc == 0, err
    _, _, suggestions = out.partition("\nSuggested property tests:\n")
    assert "\nmedian: kills 26 surviving mutants. Copy the reference's stats.py to " \
        "reference/stats.py in the assignment folder" in suggestions, suggestions
    assert ('{"name":"median matches the reference","kind":"property","points":1,'
            '"module":"stats.py","function":"median","reference":"reference/stats.py",'
            '"arguments":[{"type":"list","of":{"type":"int","min":-100,"max":100},'
            '"min_size":1,"max_size":10}]}') in suggestions
    # clamp's annotations give its arguments; its two equivalent mutants survive anyway
    assert "\nclamp: kills 3 surviving mutants." in suggestions


def test_reference_without_full_marks_is_refused(make_assignment, make_submission):
    wrong = make_submission({"stats.py": REFERENCE.replace("s += x", "s -= x")})
    rc, out, err = audit(suite(make_assignment, WEAK), wrong)
    assert rc == 1
    assert "scores 1 / 2: mutants can only be judged against a reference that earns every " \
        "point" in err, err
    assert out == ""
