#!/usr/bin/python3
"""audit.py - mutants per second of `assay audit` on two slots, against one.

    /usr/bin/python3 bench/audit.py [--runs N] [--build DIR] [--sandbox MODE]

Writes into a temporary directory a reference solution of three small
functions (37 mutants) and an assignment with a pytest suite that kills
most of them, then, RUNS times, alternating which goes first so machine
noise hits both alike, runs

  two  `assay audit ASSIGNMENT REFERENCE --jobs 2` (the figure: two
       sandbox slots grading mutants at once);
  one  the same with --jobs 1 (the baseline, measured in the same run).

and reads the "Graded N mutants ... in S s" line each prints (the
mutants' grading only: the reference's own grading and making the
mutants are left out).  It prints the median mutants per second of both
and their ratio.  Not a test: no assertion on time; figures go to
docs/PERFORMANCE.md.  Run it as root (the namespace sandbox).
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

REFERENCE = '''def total(xs: list[int]) -> int:
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

TESTS = '''from stats import total, clamp, median

def test_total():
    assert total([1, 2, 3]) == 6 and total([]) == 0

def test_clamp():
    assert clamp(-1, 0, 10) == 0 and clamp(11, 0, 10) == 10 and clamp(5, 0, 10) == 5

def test_median():
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5
'''

ASSIGNMENT = ('{"assay": 1, "title": "bench", "required_files": ["stats.py"], '
              '"limits": {"wall_s": 10, "cpu_s": 5}, "tests": [{"name": "unit", '
              '"kind": "pytest", "points": 2, "files": ["tests/test_stats.py"]}]}')

GRADED = re.compile(r"^Graded (\d+) mutants of .* in ([0-9.]+) s over", re.M)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def audit(assay, assignment, reference, jobs, sandbox):
    p = subprocess.run([assay, "audit", assignment, reference, "--jobs", str(jobs),
                        "--sandbox", sandbox], capture_output=True, text=True, timeout=1800)
    m = GRADED.search(p.stdout)
    if p.returncode != 0 or not m:
        raise SystemExit("assay audit failed (%d):\n%s%s" % (p.returncode, p.stdout, p.stderr))
    return int(m.group(1)) / float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--sandbox", default="namespace")
    args = ap.parse_args()
    assay = os.path.join(args.build, "assay")
    tmp = tempfile.mkdtemp(prefix="assay-bench-audit-")
    os.chmod(tmp, 0o755)
    try:
        assignment, reference = os.path.join(tmp, "hw"), os.path.join(tmp, "ref")
        write(os.path.join(assignment, "assignment.json"), ASSIGNMENT)
        write(os.path.join(assignment, "tests", "test_stats.py"), TESTS)
        write(os.path.join(reference, "stats.py"), REFERENCE)
        rates = {1: [], 2: []}
        for run in range(args.runs):
            for jobs in ((2, 1) if run % 2 == 0 else (1, 2)):
                rates[jobs].append(audit(assay, assignment, reference, jobs, args.sandbox))
        two, one = statistics.median(rates[2]), statistics.median(rates[1])
        print("two slots: %.2f mutants/s (median of %d runs: %s)" % (
            two, args.runs, ", ".join("%.2f" % r for r in rates[2])))
        print("one slot:  %.2f mutants/s (median of %d runs: %s)" % (
            one, args.runs, ", ".join("%.2f" % r for r in rates[1])))
        print("ratio two/one: %.2f" % (two / one))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
