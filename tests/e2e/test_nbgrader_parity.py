"""nbgrader parity: what notebooks written for nbgrader rely on.

Runs see NBGRADER_EXECUTION=autograde, as under `nbgrader autograde`;
assignment.json's "env" (top level and per test) reaches every run, and
mistakes in it are refused with the field; a cell that breaks IPython's
own error display (showtraceback = None, or a display that raises) gets
the student's real error reported and later cells graded, not "the
Python process died".
"""
import json

from assay_helpers import grade, grade_json

LIMITS = {"wall_s": 40, "cpu_s": 20, "memory_mb": 512, "processes": 32, "file_mb": 8,
          "output_kb": 256}


def _nb(*cells):
    return json.dumps({"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def _code(src, **meta):
    return {"cell_type": "code", "metadata": {"nbgrader": meta} if meta else {},
            "source": src, "outputs": [], "execution_count": None}


def notebook_assignment(make_assignment, source, **top):
    return make_assignment([{"name": "nb", "kind": "notebook", "source": "s.ipynb",
                             "notebook": "n.ipynb", "cell_timeout_s": 10}],
                           files={"s.ipynb": source}, limits=LIMITS, **top)


def cases(r):
    (t,) = r["tests"]
    return {c["name"]: c for c in t["cases"]}


def test_runs_see_nbgrader_execution_and_the_assignment_env(make_assignment, make_submission):
    source = _nb(_code("import os", grade=False, solution=True, grade_id="a"),
                 _code("assert os.environ['NBGRADER_EXECUTION'] == 'autograde'", grade=True,
                       grade_id="nbgrader_execution", points=1),
                 _code("assert os.environ['COURSE_SEED'] == '42'", grade=True, grade_id="env",
                       points=1))
    d = notebook_assignment(make_assignment, source, env={"COURSE_SEED": "42"})
    r, _ = grade_json(d, make_submission({"n.ipynb": source}))
    assert {n: c["score"] for n, c in cases(r).items()} == {"nbgrader_execution": 1, "env": 1}


def test_a_tests_env_overrides_the_assignments(make_assignment, make_submission):
    tests = [{"name": "seed", "kind": "io", "points": 1,
              "command": "python3 -c \"import os; print(os.environ['SEED'], os.environ['MODE'])\"",
              "expected_stdout": "7 exam\n", "env": {"SEED": "7"}},
             {"name": "default", "kind": "io", "points": 1,
              "command": "python3 -c \"import os; print(os.environ['SEED'])\"",
              "expected_stdout": "1\n"}]
    d = make_assignment(tests, env={"SEED": "1", "MODE": "exam"})
    r, _ = grade_json(d, make_submission({"x.txt": "x"}))
    assert (r["score"], r["max_score"]) == (2, 2), r["tests"]


def test_bad_env_is_refused_with_the_field(make_assignment, make_submission):
    d = make_assignment([{"name": "t", "kind": "command", "command": "true",
                          "env": {"LD_PRELOAD": "x.so"}}],
                        env={"1X": "a", "PATH": "/tmp", "N": 3})
    code, _, err = grade(d, make_submission({"x.txt": "x"}))
    assert code == 3
    for problem in ['$.env: "1X" is not a variable name',
                    "$.env: PATH is set by Assay for every run",
                    '$.env: N must be a string of at most 4096 characters (write numbers in '
                    'quotes: "42")',
                    "$.tests[0].env: LD_PRELOAD is set by Assay for every run (or read by the "
                    "dynamic linker)"]:
        assert problem in err, err


def test_a_broken_error_display_reports_the_real_error(make_assignment, make_submission):
    """nbgrader's kernel (and a bare IPython) lose the student's error when
    a cell sets showtraceback = None; Assay reports it and goes on."""
    source = _nb(_code("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION",
                       solution=True, grade_id="a"),
                 _code("assert f() == 1", grade=True, grade_id="works", points=1),
                 _code("assert f() == 2, 'f() should be 2'", grade=True, grade_id="fails",
                       points=1),
                 _code("assert f() == 1", grade=True, grade_id="later", points=1))
    sub = _nb(_code("get_ipython().showtraceback = None\ndef f():\n    return 1",
                    solution=True, grade_id="a"),
              _code("assert f() == 1", grade=True, grade_id="works", points=1),
              _code("assert f() == 2, 'f() should be 2'", grade=True, grade_id="fails", points=1),
              _code("def g(*a, **k):\n    raise RuntimeError('no display')\n"
                    "get_ipython().showtraceback = g\n1 / 0"),
              _code("assert f() == 1", grade=True, grade_id="later", points=1))
    d = notebook_assignment(make_assignment, source)
    r, _ = grade_json(d, make_submission({"n.ipynb": sub}))
    c = cases(r)
    assert {n: x["score"] for n, x in c.items()} == {"works": 1, "fails": 0, "later": 1}
    assert "AssertionError: f() should be 2" in c["fails"]["message"]
    (t,) = r["tests"]
    assert "ZeroDivisionError: division by zero" in t["output"]
    assert "died" not in t["output"]
