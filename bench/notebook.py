#!/usr/bin/python3
"""notebook.py - seconds to grade one notebook, against `jupyter nbconvert --execute`.

    /usr/bin/python3 bench/notebook.py [--runs N] [--build DIR] [--sandbox MODE]

Writes a 10-cell nbgrader assignment into a temporary directory (a
locked import cell, then four answer cells each followed by its test
cell, then a last test cell: 10 code cells, 10 points) and a correct
submission, then, RUNS times, interleaved and alternating which goes
first so machine noise hits both alike:

  assay    `assay grade ASSIGNMENT SUBMISSION --json` (whole command: load
           and merge the notebooks, start the sandbox, the runner and
           IPython, run the cells, score, write the HTML feedback);
  nbconvert `jupyter nbconvert --to notebook --execute` of the same
           submission (Debian's jupyter-nbconvert and python3-ipykernel:
           a kernel started over ZMQ, the cells run, the notebook written).

It prints the median and p95 of both and the ratio of the medians.  Not a
test: no assertion on time; figures go to docs/PERFORMANCE.md.  Goal:
assay at most 0.10 times nbconvert's time.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def code(src, **nb):
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": src}
    if nb:
        cell["metadata"]["nbgrader"] = dict(nb, schema_version=3)
    return cell


def notebook(answers):
    cells = [code("import math", grade=False, solution=False, locked=True, grade_id="setup")]
    for i in range(4):
        cells.append(code(f"def f{i}(x):\n    ### BEGIN SOLUTION\n    return x * {i + 1}\n"
                          f"    ### END SOLUTION" if not answers else
                          f"def f{i}(x):\n    return x * {i + 1}",
                          grade=False, solution=True, locked=False, grade_id=f"a{i}"))
        cells.append(code(f"assert f{i}(2) == {2 * (i + 1)}\nassert f{i}(0) == 0",
                          grade=True, solution=False, locked=True, grade_id=f"t{i}", points=2))
    cells.append(code("assert math.isclose(sum(f(1) for f in (f0, f1, f2, f3)), 10)",
                      grade=True, solution=False, locked=True, grade_id="t_all", points=2))
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name":
                                                        "Python 3", "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)


def timed(argv, env=None):
    t0 = time.perf_counter()
    p = subprocess.run(argv, capture_output=True, env=env, stdin=subprocess.DEVNULL)
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stderr.decode()[-2000:]}")
    return dt, p.stdout


def p95(xs):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--sandbox", default="namespace")
    args = ap.parse_args()
    assay = os.path.abspath(os.path.join(args.build, "assay"))
    if not shutil.which("jupyter-nbconvert"):
        sys.exit("jupyter-nbconvert not found: apt-get install jupyter-nbconvert python3-ipykernel")
    tmp = tempfile.mkdtemp(prefix="assay-nbbench-")
    os.chmod(tmp, 0o755)
    try:
        asg, sub = os.path.join(tmp, "asg"), os.path.join(tmp, "sub")
        write(os.path.join(asg, "source", "hw.ipynb"), notebook(answers=False))
        write(os.path.join(sub, "hw.ipynb"), notebook(answers=True))
        write(os.path.join(asg, "assignment.json"), {
            "assay": 1, "title": "bench", "limits": {"wall_s": 60, "cpu_s": 30, "memory_mb": 512},
            "tests": [{"kind": "notebook", "name": "nb", "source": "source/hw.ipynb",
                       "notebook": "hw.ipynb"}]})
        for d, _dirs, files in os.walk(tmp):
            os.chmod(d, 0o755)
            for f in files:
                os.chmod(os.path.join(d, f), 0o644)
        grade = [assay, "grade", asg, sub, "--json", "--sandbox", args.sandbox]
        convert = ["jupyter-nbconvert", "--to", "notebook", "--execute", "--log-level=ERROR",
                   "--output-dir", os.path.join(tmp, "nbout"), os.path.join(sub, "hw.ipynb")]
        _, out = timed(grade)          # warm caches, and check the grading is right
        r = json.loads(out)
        assert (r["score"], r["max_score"]) == (10, 10), r
        timed(convert)
        times = {"assay": [], "nbconvert": []}
        for i in range(args.runs):
            order = [("assay", grade), ("nbconvert", convert)]
            for name, argv in order if i % 2 == 0 else reversed(order):
                times[name].append(timed(argv)[0])
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"{args.runs} interleaved runs, 10 code cells, sandbox {args.sandbox}")
        for k, v in times.items():
            print(f"  {k:10s} median {med[k]:.3f} s   p95 {p95(v):.3f} s")
        print(f"  assay / nbconvert: {med['assay'] / med['nbconvert']:.2f} (goal <= 0.10)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
