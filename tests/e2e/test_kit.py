"""`assay kit`: the public tests for students, with a runner that needs
only Python 3.

For three submissions (correct, partly wrong, a syntax error) the kit's
check.py prints the rows and total that `assay grade --view student`
shows for the tests in the kit; the kit never holds a hidden test's
files, nor a public test's that shares one, nor a property test's
reference, and names no hidden test.
"""
import os
import re
import subprocess
import sys
import zipfile

from assay_helpers import grade, run_assay

HIDDEN_MARK = "hidden-marker-q81z"
REFERENCE_MARK = "reference-marker-k27w"
TESTS = [
    {"name": "greets Ada", "kind": "io", "points": 2, "command": "python3 hello.py",
     "stdin": "Ada\n", "expected_stdout": "Hello, Ada!\n"},
    {"name": "greets Bo from a file", "kind": "io", "points": 1, "command": "python3 hello.py",
     "stdin_file": "tests/bo.in", "expected_stdout_file": "tests/bo.out", "compare": "exact"},
    {"name": "many names", "kind": "io", "points": 2, "visibility": "hidden",
     "command": "python3 hello.py", "stdin_file": "tests/many.in",
     "expected_stdout_file": "tests/many.out"},
    {"name": "unit tests", "kind": "pytest", "points": 6, "files": ["tests/test_hello.py"]},
    {"name": "secret unit", "kind": "pytest", "points": 3, "visibility": "hidden",
     "files": ["tests/test_secret.py"]},
    {"name": "shares a secret", "kind": "pytest", "points": 1, "files": ["tests/test_secret.py"]},
    {"name": "examples", "kind": "doctest", "points": 2, "file": "tests/examples.txt"},
    {"name": "compiles", "kind": "command", "points": 1,
     "command": "python3 -m py_compile hello.py"},
    {"name": "greet property", "kind": "property", "points": 2, "module": "hello.py",
     "function": "greet", "reference": "ref/hello.py", "arguments": [{"type": "str"}]},
]
FILES = {
    "ref/hello.py": f"# {REFERENCE_MARK}\ndef greet(name):\n"
                    "    return 'Hello, %s!' % (name or 'stranger')\n",
    "tests/bo.in": "Bo\n", "tests/bo.out": "Hello, Bo!\n",
    "tests/many.in": f"Ada\n{HIDDEN_MARK}\n", "tests/many.out": "Hello, Ada!\n",
    "tests/test_hello.py": ("from hello import greet\n\ndef test_ada():\n"
                            "    assert greet('Ada') == 'Hello, Ada!'\n\ndef test_empty():\n"
                            "    assert greet('') == 'Hello, stranger!'\n\ndef test_grace():\n"
                            "    assert greet('Grace') == 'Hello, Grace!'\n"),
    "tests/test_secret.py": f"# {HIDDEN_MARK}\nfrom hello import greet\n\ndef test_z():\n"
                            "    assert greet('Z') == 'Hello, Z!'\n",
    "tests/examples.txt": ">>> from hello import greet\n>>> greet('Bo')\n'Hello, Bo!'\n"
                          ">>> greet('')\n'Hello, stranger!'\n",
}
MAIN = "if __name__ == '__main__':\n    print(greet(input()))\n"
SUBMISSIONS = {
    "correct": "def greet(name):\n    return 'Hello, %s!' % (name or 'stranger')\n" + MAIN,
    "partly wrong": "def greet(name):\n    return 'Hello, %s!' % name\n" + MAIN,
    "syntax error": "def greet(name)\n    return 1\n",
}
ROW = re.compile(r"^  (\d+) +(.{28}) +(\S+ / \S+)  (\S+) +\d+\.\d\d s")


def rows(table):
    """(name, points, verdict) of each row, and the total line."""
    found = [(m.group(2).rstrip(), m.group(3), m.group(4)) for m in map(ROW.match, table.splitlines())
             if m]
    total = [line for line in table.splitlines() if line.startswith("Total: ")]
    return found, total[0] if total else None


def make_kit(make_assignment, tmp_path):
    a = make_assignment(TESTS, files=FILES, required_files=["hello.py"], title="Greetings")
    out = tmp_path / "kit.zip"
    p = run_assay("kit", a, str(out))
    assert p.returncode == 0, p.stderr.decode()
    return a, out, p.stdout.decode()


def test_kit_result_equals_the_public_part_of_assays(make_assignment, make_submission, tmp_path):
    a, kit, said = make_kit(make_assignment, tmp_path)
    assert said.splitlines() == [
        f"wrote {kit}: 5 public tests (greets Ada, greets Bo from a file, unit tests, examples, "
        "compiles); 2 tests not public, not in the kit",
        "left out: shares a secret: it uses a file of a test that is not public",
        "left out: greet property: a property test (it needs the reference solution, which "
        "stays with your instructor)"]
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(kit) as z:
        z.extractall(unpacked)
    check = unpacked / (os.path.basename(a) + "-kit") / "check.py"
    in_kit = {"greets Ada", "greets Bo from a file", "unit tests", "examples", "compiles"}
    expected_totals = {"correct": "Total: 12 / 12", "partly wrong": "Total: 9.33333 / 12",
                       "syntax error": "Total: 0 / 12"}
    for label, code in SUBMISSIONS.items():
        s = make_submission({"hello.py": code})
        # only Python 3: a clean environment, the kit's runner alone
        local = subprocess.run([sys.executable, "-I", str(check), s], capture_output=True,
                               text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
        assert local.returncode == 0, local.stderr
        rc, assay_out, err = grade(a, s, "--view", "student")
        assert rc == 0, err
        mine, my_total = rows(local.stdout)
        theirs, _ = rows(assay_out)
        assert mine == [r for r in theirs if r[0] in in_kit], (label, local.stdout, assay_out)
        assert len(mine) == 5
        assert my_total == expected_totals[label], local.stdout
        assert local.stdout.splitlines()[0] == "Greetings"


def test_kit_never_holds_hidden_files(make_assignment, tmp_path):
    a, kit, said = make_kit(make_assignment, tmp_path)
    with zipfile.ZipFile(kit) as z:
        names = sorted(z.namelist())
        blobs = {n: z.read(n) for n in names}
    top = os.path.basename(a) + "-kit/"
    assert names == sorted(top + n for n in [
        "README.txt", "check.py", "kit.json", "files/tests/bo.in", "files/tests/bo.out",
        "files/tests/test_hello.py", "files/tests/examples.txt"]), names
    for name, data in blobs.items():
        assert HIDDEN_MARK.encode() not in data, name
        assert REFERENCE_MARK.encode() not in data, name
        assert b"many names" not in data and b"secret unit" not in data, name
        assert b"test_secret" not in data and b"many.in" not in data, name
    assert "many names" not in said and "secret unit" not in said


def test_kit_of_an_invalid_assignment_is_refused(make_assignment, tmp_path):
    a = make_assignment(raw='{"assay": 1, "title": "x", "tests": [{"name": "a", "kind": "io"}]}')
    p = run_assay("kit", a, str(tmp_path / "k.zip"))
    assert p.returncode == 3
    assert "assignment.json is invalid" in p.stderr.decode()
    assert not (tmp_path / "k.zip").exists()
