"""GitHub Classroom assignments graded unchanged: `assay import classroom`
turns a starter repository's .github/classroom/autograding.json into an
assignment, and a student's repository is graded through the spool
(scheduler, shipper, worker, sandbox) to the scores Classroom's
autograder gives.

The scores are checked twice: against the numbers written here, and
against `classroom_points`, a model of the autograder's runner (setup,
run, input, comparison after CR LF and trim, timeout in minutes, a
non-zero exit fails) run on the same repository outside Assay.
"""
import json
import os
import re
import shutil
import subprocess

from assay_helpers import tempdir, write_files
from pipeline import pipeline  # noqa: F401  (the fixture)

HELLO = """import sys
name = sys.stdin.readline().strip()
print(f"Hello, {name}!")
"""
CRLF = "import sys\nsys.stdout.write('a\\r\\nb\\r\\n')\n"
TEST_HELLO = """import subprocess

def run(name):
    return subprocess.run(["python3", "hello.py"], input=name, capture_output=True,
                          text=True).stdout

def test_ada():
    assert run("Ada\\n") == "Hello, Ada!\\n"

def test_grace():
    assert run("Grace\\n") == "Hello, Grace!\\n"
"""


def classroom_test(name, run, points, input="", output="", comparison="included",
                   timeout=1, setup=""):
    return {"name": name, "setup": setup, "run": run, "input": input, "output": output,
            "comparison": comparison, "timeout": timeout, "points": points}


TESTS = [
    classroom_test("greets Ada", "python3 hello.py", 3, "Ada", "Hello, Ada!", "exact"),
    classroom_test("double space", "python3 hello.py", 2, "Ada", "Hello,  Ada!", "exact"),
    classroom_test("mentions the name", "python3 hello.py", 2, "Grace", "Grace"),
    classroom_test("pattern", "python3 hello.py", 2, "Bob", r"^Hello, [A-Z]\w+!$", "regex"),
    classroom_test("digits", "python3 -c 'print(40 + 2)'", 1, "", r"^\d+$", "regex"),
    classroom_test("windows line ends", "python3 crlf.py", 1, "", "a\nb", "exact"),
    classroom_test("unit tests", "python3 -m pytest -q tests", 4,
                   setup="sudo -H pip3 install pytest"),
    classroom_test("with a setup", "test -f built.txt", 1, setup="echo done > built.txt"),
    classroom_test("setup fails", "true", 1, setup="exit 3"),
    classroom_test("right output, exit 1", "python3 hello.py; exit 1", 2, "Ada",
                   "Hello, Ada!", "exact"),
    classroom_test("too slow", "sleep 5; python3 hello.py", 2, "Ada", "Hello", timeout=0.02),
    classroom_test("no points", "true", 0),
]
# What Classroom's autograder gives each test (by the runner's rules).
EXPECTED = {"greets Ada": 3, "double space": 0, "mentions the name": 2, "pattern": 2,
            "digits": 1, "windows line ends": 1, "unit tests": 4, "with a setup": 1,
            "setup fails": 0, "right output, exit 1": 0, "too slow": 0, "no points": 0}


def starter_repo(base):
    repo = os.path.join(base, "hello-world")
    write_files(repo, {"hello.py": HELLO, "crlf.py": CRLF, "tests/test_hello.py": TEST_HELLO,
                       ".github/classroom/autograding.json": json.dumps({"tests": TESTS})})
    return repo


def _normalize(text):
    return text.replace("\r\n", "\n").strip()


def classroom_points(repo, test):
    """The points Classroom's autograder gives TEST on REPO (a copy is used)."""
    with tempdir("classroom-model-") as work:
        w = os.path.join(work, "repo")
        shutil.copytree(repo, w)
        timeout = (test["timeout"] or 1) * 60
        # Debian's python3 (with python3-pytest), as on a GitHub runner after its setup
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8"}
        try:
            if test["setup"] and not test["setup"].startswith("sudo"):   # pip: installed already
                subprocess.run(test["setup"], shell=True, cwd=w, check=True, timeout=timeout,
                               capture_output=True, env=env)
            p = subprocess.run(test["run"], shell=True, cwd=w, input=test["input"].encode(),
                               capture_output=True, timeout=timeout, env=env)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            return 0
        if p.returncode != 0:
            return 0
        if test["output"] or test["input"]:
            actual, expected = _normalize(p.stdout.decode()), _normalize(test["output"])
            ok = {"exact": actual == expected,
                  "regex": re.search(test["output"], actual) is not None}.get(
                      test["comparison"], expected in actual)
            if not ok:
                return 0
        return test["points"]


def test_classroom_assignment_graded_as_classroom_would(pipeline):  # noqa: F811
    spool = pipeline()
    repo = starter_repo(spool.base)
    p = spool.assay("import", "classroom", repo, "--course", "cs101")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"imported {len(TESTS)} tests into {spool.path('courses', 'cs101', 'hello-world')}\n"
    assert "$.tests[6] (\"unit tests\"): its setup \"sudo -H pip3 install pytest\" installs " \
           "packages and is left out" in p.stderr
    asg = spool.path("courses", "cs101", "hello-world")
    assert os.path.isfile(os.path.join(asg, "tests", "test_hello.py"))   # the repo's tests, kept
    model = {t["name"]: classroom_points(repo, t) for t in TESTS}
    assert model == EXPECTED
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    job, r = spool.submit_wait("cs101", "hello-world", "ada", repo, timeout=120)
    got = {t["name"]: t["score"] for t in r["tests"]}
    assert got == EXPECTED, json.dumps(r["tests"], indent=1)[:4000]
    assert (r["score"], r["max_score"]) == (14, 21)   # Classroom says "Points 14/21"
    verdicts = {t["name"]: t["verdict"] for t in r["tests"]}
    assert verdicts["too slow"] == "timeout"
    assert verdicts["right output, exit 1"] == "runtime_error"
    assert verdicts["double space"] == "failed"


def test_import_refuses_what_classroom_would_not_write(tmp_path):
    from assay_helpers import run_assay
    repo = tmp_path / "broken"
    write_files(str(repo), {".github/classroom/autograding.json": json.dumps({"tests": [
        {"name": "a", "run": "true", "comparison": "fuzzy", "timeout": 1, "points": 1},
        {"run": "true"},
        {"name": "c", "run": "true", "output": "(", "comparison": "regex"}]})})
    p = run_assay("import", "classroom", str(repo), "--out", str(tmp_path / "out"))
    assert p.returncode == 3
    assert p.stderr.decode().splitlines() == [
        f"assay import: {repo}/.github/classroom/autograding.json is not what GitHub Classroom "
        "writes (3 problems):",
        '  $.tests[0].comparison: "fuzzy" is not one of included, exact, regex',
        "  $.tests[1].name: required key is missing",
        "  $.tests[2].output: the pattern cannot be read as a POSIX extended regular expression "
        "(Unmatched ( or \\(); rewrite it without JavaScript-only syntax"]
    assert not (tmp_path / "out").exists()
    p = run_assay("import", "classroom", str(tmp_path), "--out", str(tmp_path / "out"))
    assert p.returncode == 1
    assert "a GitHub Classroom repository has its tests in .github/classroom/autograding.json" \
        in p.stderr.decode()


# ---- Classroom's workflow format (.github/workflows/classroom.yml) -----------

GREET = """import sys

def greet(name):
    return f"Hello, {name}!"

if __name__ == "__main__":
    print(greet(sys.stdin.readline().strip()))
"""
GREET_TEST = """from hello import greet

def test_ada():
    assert greet("Ada") == "Hello, Ada!"

def test_bob():
    assert greet("Bob") == "Hello, Bob!"

def test_wrong():
    assert greet("X") == "Hi X"
"""
# (grader, inputs) per step, as Classroom writes them in the workflow
STEPS = [
    ("io", {"test-name": "greets", "setup-command": "", "command": "python3 hello.py",
            "input": "Ada\n", "expected-output": "Hello, Ada!", "comparison-method": "exact",
            "timeout": "10", "max-score": "3"}),
    ("io", {"test-name": "mentions", "command": "python3 hello.py", "input": "Grace",
            "expected-output": "Grace", "comparison-method": "contains", "timeout": "10",
            "max-score": "2"}),
    ("io", {"test-name": "pattern", "command": "python3 hello.py", "input": "Bob",
            "expected-output": r"^Hello, \w+!$", "comparison-method": "regex", "timeout": "10",
            "max-score": "2"}),
    ("io", {"test-name": "wrong", "command": "python3 hello.py", "input": "Ada",
            "expected-output": "Hi, Ada", "comparison-method": "exact", "timeout": "10",
            "max-score": "2"}),
    ("command", {"test-name": "compiles", "setup-command": "sudo -H pip3 install pytest",
                 "command": "python3 -m py_compile hello.py", "timeout": "10", "max-score": "1"}),
    ("python", {"timeout": "10", "max-score": "6", "setup-command": "pip install pytest"}),
]
WORKFLOW_EXPECTED = {"greets": 3, "mentions": 2, "pattern": 2, "wrong": 0, "compiles": 1,
                     "unit tests": 4}


def yaml_quote(v):
    return json.dumps(v)   # a JSON string is a YAML double-quoted scalar


def workflow_repo(base):
    lines = ["name: Autograding Tests", "'on':", "- push", "permissions:", "  checks: write",
             "jobs:", "  run-autograding-tests:", "    runs-on: ubuntu-latest", "    steps:",
             "    - name: Checkout code", "      uses: actions/checkout@v4"]
    for grader, inputs in STEPS:
        name = inputs.get("test-name", "unit tests")
        lines += [f"    - name: {name}", f"      id: {name.replace(' ', '-')}",
                  f"      uses: classroom-resources/autograding-{grader}-grader@v1", "      with:"]
        lines += [f"        {k}: {yaml_quote(v)}" for k, v in inputs.items()]
    lines += ["    - name: Autograding Reporter",
              "      uses: classroom-resources/autograding-grading-reporter@v1"]
    repo = os.path.join(base, "greet-wf")
    write_files(repo, {"hello.py": GREET, "hello_test.py": GREET_TEST,
                       ".github/workflows/classroom.yml": "\n".join(lines) + "\n"})
    return repo


def grader_points(repo, grader, inputs):
    """The points Classroom's grader GRADER gives with INPUTS on REPO."""
    with tempdir("classroom-model-") as work:
        w = os.path.join(work, "repo")
        shutil.copytree(repo, w)
        env = {"PATH": "/usr/bin:/bin", "HOME": work, "LANG": "C.UTF-8"}
        top = float(inputs.get("max-score", "0"))
        if grader == "python":   # pytest on the *_test.py files, points split per test
            p = subprocess.run(["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                "hello_test.py"], cwd=w, env=env, capture_output=True, text=True)
            passed = int((re.search(r"(\d+) passed", p.stdout) or [0, 0])[1])
            failed = int((re.search(r"(\d+) failed", p.stdout) or [0, 0])[1])
            return top * passed / (passed + failed)
        p = subprocess.run(inputs["command"], shell=True, cwd=w, env=env, capture_output=True,
                           input=inputs.get("input", "").strip().encode(), timeout=600)
        if p.returncode != 0:
            return 0
        if grader == "command":
            return top
        out, want = p.stdout.decode().strip(), inputs["expected-output"]
        ok = {"exact": out == want, "contains": want in out,
              "regex": re.search(want, out) is not None}[inputs["comparison-method"]]
        return top if ok else 0


def test_classroom_workflow_graded_as_its_graders_would(pipeline):  # noqa: F811
    spool = pipeline()
    repo = workflow_repo(spool.base)
    p = spool.assay("import", "classroom", repo, "--course", "cs101", "--assignment", "greet")
    assert p.returncode == 0, p.stderr
    assert p.stdout == f"imported {len(STEPS)} tests into {spool.path('courses', 'cs101', 'greet')}\n"
    model = {inputs.get("test-name", "unit tests"): grader_points(repo, g, inputs)
             for g, inputs in STEPS}
    assert model == WORKFLOW_EXPECTED
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    job, r = spool.submit_wait("cs101", "greet", "ada", repo, timeout=120)
    assert {t["name"]: t["score"] for t in r["tests"]} == WORKFLOW_EXPECTED, \
        json.dumps(r["tests"], indent=1)[:4000]
    assert (r["score"], r["max_score"]) == (12, 16)
    unit = [t for t in r["tests"] if t["name"] == "unit tests"][0]
    assert unit["verdict"] == "failed" and "2 of 3 passed" in unit["output"]
