"""Runs the calculator tests and prints Gradescope's results.json."""
import json

with open("/autograder/submission_metadata.json") as f:
    meta = json.load(f)

tests = []


def check(name, points, visibility, fn):
    try:
        fn()
        tests.append({"name": name, "score": points, "max_score": points,
                      "visibility": visibility, "status": "passed"})
    except Exception as exc:  # a failing test
        tests.append({"name": name, "score": 0, "max_score": points, "visibility": visibility,
                      "status": "failed", "output": "%s: %s" % (type(exc).__name__, exc)})


def t_add():
    assert calc.add(2, 3) == 5, "add(2, 3) should be 5"


def t_mul():
    assert calc.mul(4, 5) == 20, "mul(4, 5) should be 20"


def t_div():
    try:
        calc.div(1, 0)
    except ZeroDivisionError:
        return
    raise AssertionError("div(1, 0) should raise ZeroDivisionError")


def t_big():
    assert calc.add(10**20, 1) == 10**20 + 1


import calc  # noqa: E402  (the student's file)

check("add", 3, "visible", t_add)
check("mul", 3, "visible", t_mul)
check("div by zero", 2, "hidden", t_div)
check("big numbers", 2, "after_due_date", t_big)
print(json.dumps({"tests": tests, "output": "Graded %s." % meta["assignment"]["title"]}))
