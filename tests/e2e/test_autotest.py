"""nbgrader's ### AUTOTEST lines, expanded at release as nbgrader does.

`assay notebook release --expanded-source` runs the source notebook's
code cells in order and turns each AUTOTEST snippet into assertions from
autotests.yml's templates: the dispatch template picks the templates of
the value's type, each is wrapped in normalize (and hash, with a fresh
salt, on a HASHED line), evaluated with the instructor's solution, and
written out by the check template, with the setup line before and the
success line after.  The expected cells below are what nbgrader's
algorithm gives for these templates, worked out by hand.  The expanded
source then grades a correct and a wrong submission; a source still
holding AUTOTEST lines is refused at grading, never passed; and the
mistakes (no --expanded-source, no autotests.yml, a snippet that raises)
are refused with what to do.
"""
import hashlib
import json
import os
import re

from assay_helpers import grade, grade_json, run_assay, write_submission

LIMITS = {"wall_s": 40, "cpu_s": 20, "memory_mb": 512, "processes": 32, "file_mb": 8,
          "output_kb": 256}

AUTOTESTS = """python3:
  setup: "from hashlib import sha256"
  hash: 'sha256(({{snippet}}).encode() + b"{{ salt }}").hexdigest()'
  dispatch: "type({{snippet}}).__name__"
  normalize: "str({{snippet}})"
  check: 'assert {{snippet}} == "{{value}}", "{{message}}"'
  success: "print('All checks passed.')"
  templates:
    default:
      - test: "type({{snippet}}).__name__"
        fail: "{{snippet}} has the wrong type"
      - test: "{{snippet}}"
        fail: "{{snippet}} has the wrong \\"value\\""
    int:
      - test: "{{snippet}}"
        fail: "{{snippet}} is not the right number"
"""


def _cell(src, **meta):
    return {"cell_type": "code", "metadata": {"nbgrader": meta}, "source": src, "outputs": [],
            "execution_count": None}


SOURCE = {"cells": [
    _cell("def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION",
          solution=True, grade=False, grade_id="sq"),
    _cell("### AUTOTEST square(3); square(-2);", grade=True, solution=False, locked=True,
          grade_id="test_sq", points=2),
    _cell("def words(s):\n    ### BEGIN SOLUTION\n    return s.split()\n    ### END SOLUTION",
          solution=True, grade=False, grade_id="words"),
    _cell("x = 'a b'\n  ### HASHED AUTOTEST words(x)", grade=True, solution=False, locked=True,
          grade_id="test_words", points=1),
], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    "nbformat": 4, "nbformat_minor": 5}

EXPANDED_SQ = "\n".join([
    "from hashlib import sha256",
    'assert str(square(3)) == "9", "square(3) is not the right number"',
    "",
    'assert str(square(-2)) == "4", "square(-2) is not the right number"',
    "",
    "print('All checks passed.')"])


def make_assignment(root, source=SOURCE):
    d = os.path.join(root, "asg")
    os.makedirs(os.path.join(d, "source"), exist_ok=True)
    with open(os.path.join(d, "source", "hw.ipynb"), "w") as f:
        json.dump(source, f)
    with open(os.path.join(d, "autotests.yml"), "w") as f:
        f.write(AUTOTESTS)
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump({"assay": 1, "title": "Autotests", "limits": LIMITS,
                   "tests": [{"name": "nb", "kind": "notebook", "source": "source/hw.expanded.ipynb",
                              "notebook": "hw.ipynb", "cell_timeout_s": 10}]}, f)
    return d


def release(d, *extra):
    return run_assay("notebook", "release", os.path.join(d, "source", "hw.ipynb"),
                     os.path.join(d, "release.ipynb"), *extra)


def sources(path):
    with open(path) as f:
        return {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in json.load(f)["cells"]}


def test_autotest_lines_expand_as_nbgrader_expands_them(tmp_path):
    d = make_assignment(str(tmp_path))
    expanded = os.path.join(d, "source", "hw.expanded.ipynb")
    p = release(d, "--expanded-source", expanded)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode().strip().endswith("release.ipynb: 3 points in autograder tests")
    got = sources(expanded)
    assert got["test_sq"] == EXPANDED_SQ
    lines = got["test_words"].split("\n")
    assert lines[:2] == ["x = 'a b'", "from hashlib import sha256"]
    assert lines[4:] == ["", "print('All checks passed.')"]
    # a fresh salt for the snippet, the value of the solution hashed with it
    pattern = (r'assert sha256\(\((str\((?:type\(words\(x\)\)\.__name__|words\(x\))\))\)'
               r'\.encode\(\) \+ b"([0-9a-f]{16})"\)\.hexdigest\(\) == "([0-9a-f]{64})", '
               r'"words\(x\) has the wrong (type|\\"value\\")"$')
    m1, m2 = re.match(pattern, lines[2]), re.match(pattern, lines[3])
    assert m1 and m2, lines
    assert m1.group(2) == m2.group(2)
    for m, plain in ((m1, "list"), (m2, "['a', 'b']")):
        assert m.group(3) == hashlib.sha256(plain.encode() + m.group(2).encode()).hexdigest()
    # the release carries the same cells, solutions removed
    rel = sources(os.path.join(d, "release.ipynb"))
    assert rel["test_sq"] == EXPANDED_SQ and rel["test_words"] == got["test_words"]
    assert "return x * x" not in rel["sq"]

    right, _ = grade_json(d, write_submission(tmp_path / "right", {
        "hw.ipynb": json.dumps(dict(SOURCE, cells=[
            _cell("def square(x):\n    return x ** 2", solution=True, grade_id="sq"),
            _cell("", grade=True, grade_id="test_sq", points=2),
            _cell("def words(s):\n    return s.split(' ')", solution=True, grade_id="words"),
            _cell("", grade=True, grade_id="test_words", points=1)]))}))
    assert (right["score"], right["max_score"]) == (3, 3), right["tests"][0]["output"]
    wrong, _ = grade_json(d, write_submission(tmp_path / "wrong", {
        "hw.ipynb": json.dumps(dict(SOURCE, cells=[
            _cell("def square(x):\n    return x + x", solution=True, grade_id="sq"),
            _cell("def words(s):\n    return tuple(s.split())", solution=True,
                  grade_id="words")]))}))
    assert (wrong["score"], wrong["max_score"]) == (0, 3)
    cases = {c["name"]: c for c in wrong["tests"][0]["cases"]}
    assert "AssertionError: square(3) is not the right number" in cases["test_sq"]["message"]


def test_unexpanded_autotest_sources_are_refused(tmp_path):
    d = make_assignment(str(tmp_path))
    p = release(d)
    assert p.returncode == 2
    assert "has nbgrader \"### AUTOTEST\" lines: give --expanded-source FILE" in p.stderr.decode()
    # grading with the source itself is refused, never passed
    with open(os.path.join(d, "assignment.json")) as f:
        doc = json.load(f)
    doc["tests"][0]["source"] = "source/hw.ipynb"
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump(doc, f)
    code, _, err = grade(d, write_submission(tmp_path / "s", {"hw.ipynb": json.dumps(SOURCE)}))
    assert code == 3
    assert 'cell 2: (grade_id "test_sq") holds nbgrader\'s "### AUTOTEST"' in err


def test_expansion_mistakes_are_reported(tmp_path):
    d = make_assignment(str(tmp_path))
    os.remove(os.path.join(d, "autotests.yml"))
    out = os.path.join(d, "x.ipynb")
    p = release(d, "--expanded-source", out)
    assert p.returncode == 3
    assert "no autotests.yml was found beside it or in the folder above" in p.stderr.decode()

    broken = json.loads(json.dumps(SOURCE))
    broken["cells"][1]["source"] = "### AUTOTEST square(undefined_name)"
    d = make_assignment(str(tmp_path / "b"), broken)
    p = release(d, "--expanded-source", out)
    assert p.returncode == 3
    err = p.stderr.decode()
    assert ("autotests: cell 2 (test_sq): running 'type(square(undefined_name)).__name__' "
            "raised NameError: name 'undefined_name' is not defined") in err
    assert not os.path.exists(out)
