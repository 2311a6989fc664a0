"""Shared fixtures and helpers for Assay's end-to-end tests.

The tests drive the real `assay grade` binary (found through the
environment variable ASSAY_BIN, by default build/assay in the repository)
on the example assignments and on small assignments written into
pytest's tmp_path, and check the exit status, results.json and stderr.
"""
import json
import os
import subprocess
import sys

import pytest

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(E2E_DIR))
EXAMPLES = os.path.join(REPO_ROOT, "examples")
ASSAY_BIN = os.environ.get("ASSAY_BIN") or os.path.join(REPO_ROOT, "build", "assay")

# No single `assay grade` in this suite should take anywhere near this long;
# it only keeps a hung grader from hanging the whole suite.
GRADE_TIMEOUT_S = 120

# Small limits so runaway submissions are stopped quickly.
SMALL_LIMITS = {"wall_s": 3, "cpu_s": 2, "memory_mb": 256, "processes": 32,
                "file_mb": 8, "output_kb": 256}

IS_ROOT = os.geteuid() == 0
RUN_UID_RANGE = range(61000, 62000)   # the uids the launcher runs tests as (root only)


def work_base():
    """The directory under which assay makes its work directories."""
    return os.environ.get("TMPDIR") or "/tmp"


def run_assay(*args, timeout=GRADE_TIMEOUT_S):
    """Runs the assay binary with ARGS; returns the CompletedProcess (text)."""
    if not os.access(ASSAY_BIN, os.X_OK):
        pytest.fail(f"assay binary not found at {ASSAY_BIN} (run make, or set ASSAY_BIN)")
    return subprocess.run([ASSAY_BIN, *map(str, args)], capture_output=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def _decode(b):
    return b.decode("utf-8", errors="replace")


def grade(assignment_dir, submission, *args, timeout=GRADE_TIMEOUT_S):
    """`assay grade ASSIGNMENT_DIR SUBMISSION ARGS...`.

    Returns (returncode, result, stderr): result is the parsed JSON when
    --json is among ARGS and the command exited 0, else stdout as text.
    """
    p = run_assay("grade", assignment_dir, submission, *args, timeout=timeout)
    out = _decode(p.stdout)
    if "--json" in args and p.returncode == 0:
        try:
            out = json.loads(p.stdout)   # must be valid UTF-8 JSON
        except ValueError as exc:
            pytest.fail(f"assay grade --json printed invalid JSON ({exc}):\n{out[:2000]}")
    return p.returncode, out, _decode(p.stderr)


def grade_json(assignment_dir, submission, *args, timeout=GRADE_TIMEOUT_S):
    """grade(... --json) that must exit 0; returns (results, stdout text)."""
    p = run_assay("grade", assignment_dir, submission, "--json", *args, timeout=timeout)
    text = _decode(p.stdout)
    assert p.returncode == 0, f"exit {p.returncode}\nstderr:\n{_decode(p.stderr)}"
    try:
        r = json.loads(p.stdout)
    except ValueError as exc:
        pytest.fail(f"assay grade --json printed invalid JSON ({exc}):\n{text[:2000]}")
    return r, text


def by_name(results):
    """The results' tests as a dict name -> test entry."""
    return {t["name"]: t for t in results["tests"]}


def example_dir(name):
    return os.path.join(EXAMPLES, name)


def example_submission(assignment, submission):
    return os.path.join(EXAMPLES, assignment, "submissions", submission)


def write_files(root, files):
    """Writes FILES (relative path -> str or bytes) under ROOT."""
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)


def _open_up(path):
    """Lets the unprivileged run uid (when assay runs as root) read PATH."""
    for dirpath, dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for f in filenames:
            os.chmod(os.path.join(dirpath, f), 0o644)


@pytest.fixture
def make_assignment(tmp_path):
    """Factory: make_assignment(tests, files=None, **top) -> assignment dir.

    Writes assignment.json (format v1, title "T", small limits unless
    `limits` is given, and any other top-level keys in TOP) and the
    instructor FILES into a fresh directory under tmp_path.  Pass
    raw=<str> to write assignment.json verbatim instead.
    """
    counter = [0]

    def make(tests=None, files=None, raw=None, **top):
        counter[0] += 1
        d = tmp_path / f"assignment{counter[0]}"
        d.mkdir()
        if raw is not None:
            (d / "assignment.json").write_text(raw)
        else:
            doc = {"assay": 1, "title": "T", "capability": "python",
                   "limits": dict(SMALL_LIMITS)}
            doc.update(top)
            doc["tests"] = tests if tests is not None else []
            (d / "assignment.json").write_text(json.dumps(doc, indent=2))
        write_files(str(d), files or {})
        _open_up(str(d))
        return str(d)

    return make


@pytest.fixture
def make_submission(tmp_path):
    """Factory: make_submission(files) -> a submission directory under tmp_path."""
    counter = [0]

    def make(files):
        counter[0] += 1
        d = tmp_path / f"submission{counter[0]}"
        d.mkdir()
        write_files(str(d), files)
        _open_up(str(d))
        return str(d)

    return make


def copy_assignment(src, dst, **changes):
    """Copies the assignment directory SRC (without its submissions) to DST,
    applying CHANGES to the top level of its assignment.json."""
    import shutil
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("submissions"))
    path = os.path.join(dst, "assignment.json")
    with open(path) as f:
        doc = json.load(f)
    doc.update(changes)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    _open_up(dst)
    return dst


def processes():
    """Yields (pid, uid, argv list) of every process visible in /proc."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
            with open(f"/proc/{entry}/status") as f:
                uid = next(int(line.split()[1]) for line in f if line.startswith("Uid:"))
        except (OSError, StopIteration, ValueError):
            continue
        yield int(entry), uid, argv


def pytest_report_header(config):
    return [f"assay binary: {ASSAY_BIN}", f"python: {sys.executable}",
            f"running as {'root' if IS_ROOT else 'uid %d' % os.geteuid()}"]
