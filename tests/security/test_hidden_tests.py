"""Hidden tests and other students' files out of reach, through the real
`assay grade` in the namespace sandbox (root only).

1. A notebook whose answer cells read everything they can - every file
   of the run's file system, /proc (its own and every visible process's
   command line, environment and open descriptors), the environment, the
   interpreter's objects (gc, modules, globals, In/_ih, the line cache) -
   before and after the test cell with hidden tests runs, and print what
   they find: the hidden test's marker is in no result, student view or
   feedback page, while the probes did look (they report what they
   scanned).  A cell printing or raising a verbatim copy of a hidden
   line (as if it had one) gets it replaced in results and feedback.
2. An unprivileged local user, made for the test, looks while a notebook
   and a pytest test are being graded: /run/assay, the work directories
   (whose paths root found and hands it), every process's command line.
   It can list and read none of them, finds neither the hidden marker nor
   the graded student's text, and no command line holds a work path.
3. An io test reading its standard input's origin through
   /proc/self/fd/0 learns nothing of the assignment's directory.
"""
import json
import os
import pwd
import re
import secrets
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbx import (RUN_DIR, assert_slot_clean, grade_clean, sandboxed,  # noqa: E402
                 security_assignment)
from assay_helpers import (descendants, finish_grade, needs_root, poll,  # noqa: E402
                           processes_of, start_grade, write_json, write_submission)

pytestmark = needs_root

NB_LIMITS = {"wall_s": 60, "cpu_s": 40, "memory_mb": 512, "processes": 32, "output_kb": 256}


# ---- notebooks ----

def nb_cell(kind, source, grade_id=None, **flags):
    """A notebook cell; with GRADE_ID, nbgrader metadata with FLAGS."""
    cell = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if grade_id:
        meta = {"grade": False, "solution": False, "locked": False, "task": False,
                "schema_version": 3, "grade_id": grade_id}
        meta.update(flags)
        cell["metadata"]["nbgrader"] = meta
    return cell


def notebook(cells):
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3",
                                                       "display_name": "Python 3",
                                                       "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def answer(grade_id, code):
    return nb_cell("code", code, grade_id, solution=True)


def hidden_test(marker):
    """A test cell worth 1 point whose hidden part holds MARKER in a
    comment and in an assertion's message."""
    return nb_cell("code", "assert square(2) == 4\n"
                           "### BEGIN HIDDEN TESTS\n"
                           f"# {marker}\n"
                           f"assert square(3) == 9, '{marker} square(3)'\n"
                           "### END HIDDEN TESTS\n",
                   "test_square", grade=True, locked=True, points=1)


def notebook_assignment(d, marker, student_cells):
    """An assignment in D whose source notebook is: square, the probe
    answer cells (STUDENT_CELLS: grade_id -> solution code), the hidden
    test.  Returns (assignment dir, the cells in order)."""
    cells = [answer("square", "def square(x):\n    return x * x\n")]
    ids = list(student_cells)
    cells += [answer(ids[0], "pass\n"), hidden_test(marker)]
    cells += [answer(i, "pass\n") for i in ids[1:]]
    write_json(os.path.join(str(d), "source", "hw.ipynb"), notebook(cells))
    a = security_assignment(d, [{"name": "nb", "kind": "notebook", "source": "source/hw.ipynb",
                                 "notebook": "hw.ipynb", "cell_timeout_s": 40}],
                            limits=NB_LIMITS)
    return a


def submission_notebook(d, student_cells, extra_text=""):
    """The student's notebook for notebook_assignment: the same cells with
    the student's code (and EXTRA_TEXT in a markdown cell); the test cell
    as released, without its hidden part."""
    ids = list(student_cells)
    released = nb_cell("code", "assert square(2) == 4\n", "test_square", grade=True,
                       locked=True, points=1)
    cells = [answer("square", "def square(x):\n    return x * x\n")]
    cells += [answer(ids[0], student_cells[ids[0]]), released]
    cells += [answer(i, student_cells[i]) for i in ids[1:]]
    if extra_text:
        cells.append(nb_cell("markdown", extra_text))
    return write_submission(d, {"hw.ipynb": json.dumps(notebook(cells))})


# What a probe cell runs: it looks for the hidden marker (its prefix and
# 16 hex digits; a student would print everything, the test prints only
# what matters) everywhere a cell can read, prints each place it appears
# and the marker found, and then how much it scanned.
PROBE = r'''
import gc, linecache, os, re, stat, sys
WANTED = re.compile(%(prefix)r + "[0-9a-f]{16}")
found, scanned = [], {"files": 0, "proc": 0, "objects": 0}

def look(where, text):
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if not isinstance(text, str):
        return
    m = WANTED.search(text)
    if m:
        found.append("%%s: %%s" %% (where, m.group(0)))

def read(path, limit=1 << 20):
    """A regular file's bytes (a pipe or device could block forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode) and not path.startswith("/proc/"):
            return b""
        return os.read(fd, limit)
    except OSError:
        return b""
    finally:
        os.close(fd)

SYSTEM = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/proc", "/sys")
for top, dirs, files in os.walk("/"):
    look("dir " + top, " ".join(dirs + files))
    if top.startswith(SYSTEM):
        dirs[:] = []   # the host's read-only system directories: names only
        continue
    for name in files:
        scanned["files"] += 1
        look(os.path.join(top, name), read(os.path.join(top, name)))
for pid in os.listdir("/proc"):
    if not pid.isdigit() and pid != "self":
        continue
    for name in ("cmdline", "environ", "status", "maps", "stat", "comm", "mountinfo"):
        scanned["proc"] += 1
        look("/proc/%%s/%%s" %% (pid, name), read("/proc/%%s/%%s" %% (pid, name)))
    try:
        fds = os.listdir("/proc/%%s/fd" %% pid)
    except OSError:
        fds = []
    for fd in fds:
        p = "/proc/%%s/fd/%%s" %% (pid, fd)
        try:
            look(p, os.readlink(p))
        except OSError:
            pass
        look(p, read(p))
look("environ", repr(dict(os.environ)))
look("argv", repr(sys.argv))
for obj in gc.get_objects():
    scanned["objects"] += 1
    try:
        if isinstance(obj, dict):
            for k, v in list(obj.items()):
                look("dict", k)
                look("dict", v)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for v in list(obj):
                look("seq", v)
        elif hasattr(obj, "__code__"):
            for c in obj.__code__.co_consts:
                look("code", c)
        elif type(obj).__name__ == "frame":
            look("frame", repr(obj.f_locals))
    except Exception:
        pass
look("modules", " ".join(sys.modules))
look("globals", repr(globals()))
for name in ("In", "_ih", "_i", "_ii", "_iii"):
    look(name, repr(globals().get(name)))
look("linecache", repr(linecache.cache))
look("sys.last", repr([getattr(sys, n, None) for n in ("last_value", "last_traceback")]))
print("probe %%s scanned %%d files, %%d /proc entries, %%d objects" %% (
    %(label)r, scanned["files"], scanned["proc"], scanned["objects"]))
for line in found:
    print("FOUND", line)
'''


def probe(prefix, label):
    return PROBE % {"prefix": prefix, "label": label}


def graded_files(out):
    """(results.json, results.student.json, feedback page) of an --out
    directory, as text."""
    texts = []
    for rel in ("results.json", "results.student.json", os.path.join("feedback", "hw.html")):
        with open(os.path.join(out, rel), encoding="utf-8") as f:
            texts.append(f.read())
    return texts


def grade_notebook(tmp_path, marker, cells):
    """Grades CELLS against the notebook assignment hiding MARKER, which
    must score 1 of 1; returns the result and the graded files' texts."""
    a = notebook_assignment(tmp_path / "a", marker, cells)
    s = submission_notebook(tmp_path / "s", cells)
    out = tmp_path / "out"
    r = grade_clean(a, s, "--out", str(out))
    assert (r["score"], r["max_score"]) == (1, 1), r["tests"][0]["output"]
    return (r, *graded_files(str(out)))


def test_notebook_cells_cannot_read_hidden_tests(tmp_path):
    marker = "hidden-marker-" + secrets.token_hex(8)
    prefix = marker[:14]
    cells = {"probe_before": probe(prefix, "before"), "probe_after": probe(prefix, "after")}
    r, results, student, html = grade_notebook(tmp_path, marker, cells)
    for text in (results, student, html):
        assert marker not in text
    # both probes ran to the end, looked at a real amount of things, found nothing
    scans = re.findall(r"(?:^|>)probe (\w+) scanned (\d+) files, (\d+) /proc entries, "
                       r"(\d+) objects$", html, re.M)
    assert [s[0] for s in scans] == ["before", "after"], html
    for _label, files, procs, objects in scans:
        assert int(files) >= 100 and int(procs) >= 20 and int(objects) >= 10000, scans
    assert not re.search(r"(?:^|>)FOUND ", html, re.M)


def test_verbatim_copies_of_hidden_lines_are_removed(tmp_path):
    # what a student could only have by copying it from a test that already
    # ran: printed by one cell, raised by another
    marker = "hidden-marker-" + secrets.token_hex(8)
    line = f"assert square(3) == 9, '{marker} square(3)'"
    cells = {"before": "print('nothing yet')\n",
             "printed": f"print('before', {line!r}, 'after')\nprint('kept')\n",
             "raised": f"raise ValueError({line!r})\n"}
    r, results, student, html = grade_notebook(tmp_path, marker, cells)
    for text in (results, student):
        assert marker not in text
    removed = "[a line quoting a hidden test was removed]"
    assert f'<pre class="out">{removed}\nkept\n</pre>' in html
    assert "- cell 5 (raised): " in r["tests"][0]["output"]
    assert removed in r["tests"][0]["output"]
    # the page shows the cells' code as the student wrote it (theirs to
    # see), but no output or error quoting the hidden test
    assert [x for x in html.split("<pre") if marker in x and 'class="src"' not in x] == []


# ---- an unprivileged local user during a grading ----

# Run as the local user: lists and reads what it can, reports as JSON.
LOOKER = r'''
import json, os, sys
paths = json.load(sys.stdin)
report = {"listed": {}, "read": {}, "argv": [], "environ": [], "cwd": []}
def try_list(p):
    try:
        report["listed"][p] = os.listdir(p)
    except OSError:
        pass
def try_read(p):
    try:
        with open(p, "rb") as f:
            report["read"][p] = f.read(1 << 20).decode("latin-1")
    except OSError:
        pass
for p in ["/run/assay", paths["run"]] + [paths["run"] + "/" + s for s in paths["slots"]] + \
        paths["dirs"]:
    try_list(p)
    for top, dirs, files in os.walk(p):
        try_list(top)
        for name in files:
            try_read(os.path.join(top, name))
for f in paths["files"]:
    try_read(f)
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) == os.getpid():
        continue
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            report["argv"].append(f.read().decode("latin-1").replace("\0", " "))
    except OSError:
        pass
    for name, key in (("environ", "environ"),):
        try:
            with open("/proc/%s/%s" % (pid, name), "rb") as f:
                report[key].append(f.read().decode("latin-1"))
        except OSError:
            pass
    try:
        report["cwd"].append(os.readlink("/proc/%s/cwd" % pid))
    except OSError:
        pass
print(json.dumps(report))
'''


@pytest.fixture
def local_user():
    """A fresh unprivileged user (removed afterwards): its name."""
    name = "aprobe" + secrets.token_hex(4)
    subprocess.run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "--user-group", name], check=True, capture_output=True)
    try:
        yield name
    finally:
        for p in processes_of([pwd.getpwnam(name).pw_uid]):
            os.kill(p.pid, 9)
        subprocess.run(["userdel", name], capture_output=True)


def run_as(user, script, data):
    """Runs python SCRIPT as USER with DATA on its standard input (its own
    command line must not hold the paths it looks for); its JSON report."""
    p = subprocess.run(["setpriv", "--reuid", user, "--regid", user, "--init-groups",
                        "--reset-env", "/usr/bin/python3", "-I", "-c", script],
                       input=data.encode(), capture_output=True, timeout=120, cwd="/")
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def work_dirs_of(gradings):
    """The work directories (as root sees them: the runs' working
    directories) of the processes the GRADINGS (Popens) started."""
    dirs = set()
    for g in gradings:
        for pid in descendants(g.pid):
            try:
                cwd = os.readlink(f"/proc/{pid}/cwd")
            except OSError:
                continue
            if cwd.startswith(RUN_DIR + "/"):
                dirs.add(cwd)
    return dirs


def test_local_user_sees_nothing_of_a_running_grading(tmp_path, local_user):
    marker = "hidden-marker-" + secrets.token_hex(8)
    secret = "student-secret-" + secrets.token_hex(8)
    cells = {"slow": f"import time\nmine = '{secret}'\ntime.sleep(6)\n"}
    a = notebook_assignment(tmp_path / "a", marker, cells)
    s = submission_notebook(tmp_path / "s", cells, extra_text=secret)
    pa = security_assignment(tmp_path / "pa", [
        {"name": "hidden", "kind": "pytest", "files": ["test_hidden.py"], "points": 1,
         "visibility": "hidden"}], limits={"wall_s": 20, "cpu_s": 10},
        files={"test_hidden.py": f"import time\n# {marker}\n"
                                 "def test_slow():\n    time.sleep(6)\n"})
    ps = write_submission(tmp_path / "ps", {"code.py": f"SECRET = '{secret}'\n"})
    grading = [start_grade(a, s), start_grade(pa, ps)]
    # wait until both runs are under way, and learn their work directories
    workdirs = poll(lambda: (lambda d: d if len(d) >= 2 else None)(work_dirs_of(grading)), 30)
    assert workdirs, "the gradings did not start"
    time.sleep(1)
    files = [os.path.join(w, n) for w in workdirs
             for n in ("hw.ipynb", "code.py", "test_hidden.py", ".assay/notebook_runner.py")]
    bases = [os.path.dirname(w) for w in workdirs]
    paths = {"run": RUN_DIR, "slots": sorted(os.listdir(RUN_DIR)),
             "dirs": sorted(workdirs) + bases, "files": files}
    seen = run_as(local_user, LOOKER, json.dumps(paths))
    results = [finish_grade(p)[0] for p in grading]
    for r in results:
        assert_slot_clean(sandboxed(r)["assay"]["sandbox_slot"])
    assert [r["score"] for r in results] == [1, 1], [r["tests"][0]["output"] for r in results]
    # nothing of the gradings listed or read
    for d in list(workdirs) + bases:
        assert d not in seen["listed"]
    assert not [f for f in files if f in seen["read"]]
    everything = json.dumps(seen)
    assert marker not in everything and secret not in everything
    # no command line shows these gradings' paths (other engineers' tests
    # may run on this host: only the gradings' own unique names count), and
    # no working directory or environment of theirs was readable
    mine = [os.path.basename(b) for b in bases]
    assert not [a for a in seen["argv"] if any(m in a for m in mine)]
    assert not [c for c in seen["cwd"] if any(m in c for m in mine)]
    assert not [e for e in seen["environ"] if any(m in e for m in mine)]


# ---- io: standard input shows nothing of where it came from ----

def test_io_stdin_file_origin_is_not_visible(tmp_path):
    a = security_assignment(tmp_path / "a", [
        {"name": "in", "kind": "io", "command": "python3 probe.py",
         "stdin_file": "inputs/hidden.in", "expected_stdout": "ok", "points": 1}],
        files={"inputs/hidden.in": "42\n"})
    s = write_submission(tmp_path / "s", {"probe.py": (
        "import os, sys\n"
        "link = os.readlink('/proc/self/fd/0')\n"
        "data = sys.stdin.read()\n"
        "print('ok' if data == '42\\n' and link.startswith('/memfd:') else 'leak ' + link)\n")})
    r = grade_clean(a, s)
    assert r["score"] == 1, r["tests"][0]["output"]
