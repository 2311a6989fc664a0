"""Helpers shared by Assay's Python tests (tests/e2e and tests/security).

One function per job: where the binaries are, temporary directories,
writing assignments and submissions, running `assay grade` and reading
its results, finding processes in /proc, and waiting with a deadline.
The suites add their own defaults on top: tests/e2e/conftest.py (the
make_assignment and make_submission fixtures), tests/e2e/pipeline.py
(spools), tests/e2e/cluster.py (SSH worker hosts) and tests/security/sbx.py
(the namespace sandbox's slots).

tests/e2e/conftest.py and tests/security/sbx.py put this directory on
sys.path.  The file is not named test_*.py or *_test.py so that pytest
never collects it; for the same reason no helper here is named test*.
"""
import atexit
import collections
import contextlib
import datetime
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

LIB_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(LIB_DIR))
EXAMPLES = os.path.join(REPO_ROOT, "examples")
# The binaries: $ASSAY_BUILD (set by tests/run.sh), by default build/ in the
# repository; `assay` itself may be named by $ASSAY_BIN.
BUILD = os.environ.get("ASSAY_BUILD") or os.path.join(REPO_ROOT, "build")
ASSAY_BIN = os.environ.get("ASSAY_BIN") or os.path.join(BUILD, "assay")

IS_ROOT = os.geteuid() == 0

CGROUP_ROOT = "/sys/fs/cgroup"


def mount_points(prefix):
    """The mount points in this mount namespace that start with PREFIX."""
    with open("/proc/self/mountinfo") as f:
        return [p for p in (line.split()[4] for line in f) if p.startswith(prefix)]


def installation_groups(name):
    """Installation NAME's cgroup groups that exist ("" for the unnamed
    one): cgroup2's and every v1 hierarchy's."""
    groups = [os.path.join(CGROUP_ROOT, "assay", name)] + [
        os.path.join(CGROUP_ROOT, c, "assay", name) for c in sorted(os.listdir(CGROUP_ROOT))]
    return [g for g in groups if os.path.isdir(g)]


def remove_installation_traces(name):
    """Removes what the graders of installation NAME left on this machine,
    once none runs: its run directory (a work tmpfs still mounted there,
    which a grader killed outright leaves, detached first), its lease
    directory and its cgroup groups.  The product keeps these on purpose
    (a group holds an admin's CPU settings; /run is emptied at boot); the
    test suites make hundreds of installations.  Never the unnamed
    installation's (""), which a live one may use."""
    if not name:
        return
    run = os.path.join("/run/assay", name)
    for point in mount_points(run + "/"):   # a work tmpfs a killed grader left
        subprocess.run(["umount", "-l", point], capture_output=True)
    shutil.rmtree(run, ignore_errors=True)
    shutil.rmtree(os.path.join("/run/lock/assay", name), ignore_errors=True)
    for d in slot_cgroups(name) + installation_groups(name):
        try:
            os.rmdir(d)
        except OSError:
            pass   # a process is still in it (a test that failed): left for rmdir by hand


def _make_test_installation():
    """The test run's own installation (root only): `assay init` of a spool
    that lives as long as this process, so the machine's registry gives
    the run a name and uid range no live installation has, and hands them
    on once the spool is gone.  Every `assay grade` run through
    start_assay uses it, so the suites never share a uid, lock, run
    directory or cgroup with an installation grading beside them.
    {"name", "uids", "base", "count"}, or None when not root or assay is
    not built (exe() says so later)."""
    if not IS_ROOT or not os.access(ASSAY_BIN, os.X_OK):
        return None
    spool = tempfile.mkdtemp(prefix="assay-tests-installation-")
    atexit.register(shutil.rmtree, spool, True)
    subprocess.run([ASSAY_BIN, "init", spool], check=True, capture_output=True, timeout=60)
    with open(os.path.join(spool, "workers.json")) as f:
        inst = json.load(f)["installation"]
    atexit.register(remove_installation_traces, inst["name"])
    first, last = (int(u) for u in inst["uids"].split("-"))
    return {"name": inst["name"], "uids": inst["uids"], "base": first,
            "count": last - first + 1}


TEST_INSTALLATION = _make_test_installation()
# the sandbox's slot k runs as RUN_UID_BASE + k: the test installation's uids
RUN_UID_BASE = TEST_INSTALLATION["base"] if TEST_INSTALLATION else 61000
RUN_UID_RANGE = range(RUN_UID_BASE, RUN_UID_BASE + (TEST_INSTALLATION or {"count": 1000})["count"])


def slot_cgroups(name):
    """The slots' cgroup directories of installation NAME ("" for the
    unnamed one) that exist: cgroup2's and every v1 hierarchy's."""
    return [os.path.join(g, s) for g in installation_groups(name)
            for s in os.listdir(g) if s.startswith("slot-")]


def slot_dirs(name):
    """What is left of the slots' directories of installation NAME ("" for
    the unnamed one): the slot-N directories that exist and the mounts
    below them (a work tmpfs) in this mount namespace."""
    run = os.path.join("/run/assay", name).rstrip("/")
    left = [os.path.join(run, d) for d in (os.listdir(run) if os.path.isdir(run) else [])
            if d.startswith("slot-")]
    return left + mount_points(run + "/slot-")


def installation_args():
    """The options that make `assay grade` or assay-worker use the test
    installation ([] when there is none)."""
    if not TEST_INSTALLATION:
        return []
    return ["--installation", TEST_INSTALLATION["name"], "--uids", TEST_INSTALLATION["uids"]]

# No single `assay grade` in these suites should take anywhere near this
# long; it only keeps a hung grader from hanging the whole run.
GRADE_TIMEOUT_S = 120

needs_root = pytest.mark.skipif(not IS_ROOT, reason="the namespace sandbox runs as root only")


# ---- binaries and directories ----

def exe(name):
    """The path of the built program NAME; fails the test if it is missing."""
    path = os.path.join(BUILD, name)
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} not found (run make, or set ASSAY_BUILD)")
    return path


def work_base():
    """The directory under which assay makes its work directories."""
    return os.environ.get("TMPDIR") or "/tmp"


def make_tempdir(prefix, parent=None):
    """A fresh directory named PREFIX... under PARENT (by default
    work_base()) that every uid may traverse (mode 0755), as the sandbox's
    run uids and a worker host's account must."""
    d = tempfile.mkdtemp(prefix=prefix, dir=parent or work_base())
    os.chmod(d, 0o755)
    return d


def remove_tempdir(path):
    """Removes a directory from make_tempdir, or keeps it (and says where)
    if $ASSAY_E2E_KEEP is set, for a post-mortem."""
    if os.environ.get("ASSAY_E2E_KEEP"):
        print(f"kept {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def tempdir(prefix, parent=None):
    """make_tempdir(PREFIX, PARENT) for the duration of a with block."""
    d = make_tempdir(prefix, parent)
    try:
        yield d
    finally:
        remove_tempdir(d)


# ---- files, assignments and submissions ----

def write_files(root, files):
    """Writes FILES (relative path -> str or bytes) under ROOT, making the
    directories they need."""
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(content, bytes) else "w"
        with open(path, mode) as f:
            f.write(content)


def open_up(path):
    """Lets the unprivileged run uids (when assay runs as root) read
    everything under PATH: directories 0755, files 0644 (0755 if their
    owner may run them)."""
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            p = os.path.join(dirpath, name)
            if not os.path.islink(p):
                os.chmod(p, 0o755 if os.stat(p).st_mode & 0o100 else 0o644)


def write_json(path, doc, indent=2):
    """Writes DOC as JSON to PATH (a str DOC verbatim), making its directory."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc, indent=indent))


def assignment_doc(tests, title="T", **top):
    """An assignment.json document: format 1, TITLE, the other top-level
    keys TOP (limits, capability, required_files, due, ...), then TESTS."""
    doc = {"assay": 1, "title": title}
    doc.update(top)
    doc["tests"] = tests
    return doc


def write_assignment(d, doc, files=None):
    """An assignment in directory D (made if needed): DOC as its
    assignment.json (a str is written verbatim, for broken ones) and the
    instructor FILES (relative path -> str or bytes), readable by the run
    uids.  Returns D as a str."""
    d = str(d)
    os.makedirs(d, exist_ok=True)
    write_json(os.path.join(d, "assignment.json"), doc)
    write_files(d, files or {})
    open_up(d)
    return d


def write_submission(d, files):
    """A submission folder D (made if needed) holding FILES (relative path
    -> str or bytes), readable by the run uids.  Returns D as a str."""
    d = str(d)
    os.makedirs(d, exist_ok=True)
    write_files(d, files)
    open_up(d)
    return d


def copy_assignment(src, dst, **changes):
    """Copies the assignment directory SRC (without its submissions) to DST,
    applying CHANGES to the top level of its assignment.json.  Returns DST."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("submissions"))
    if changes:
        path = os.path.join(dst, "assignment.json")
        with open(path) as f:
            doc = json.load(f)
        doc.update(changes)
        write_json(path, doc)
    open_up(dst)
    return dst


def example_dir(name):
    """The example assignment NAME in examples/."""
    return os.path.join(EXAMPLES, name)


def example_submission(assignment, submission):
    """The sample submission SUBMISSION of the example ASSIGNMENT."""
    return os.path.join(EXAMPLES, assignment, "submissions", submission)


ROOTFS_MARKER = "made for Assay's rootfs test\n"


def _copy_with_libraries(root, program):
    """Copies PROGRAM and the shared objects ldd lists into ROOT, same paths."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True, check=True).stdout
    paths = [program] + [w for line in out.splitlines() for w in line.split() if w.startswith("/")]
    for p in paths:
        real = os.path.realpath(p)
        for where in {p, real}:
            dst = os.path.join(root, where.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if not os.path.exists(dst):
                shutil.copy2(real, dst)


def make_small_root(top, marker=ROOTFS_MARKER):
    """A root file system in TOP/root: dash as /bin/sh, cat, the C library,
    and /etc/assay-marker holding MARKER; no Python.  TOP is made
    world-traversable: the keeper looks the root up as the run's uid."""
    os.chmod(top, 0o755)
    root = os.path.join(top, "root")
    for d in ("usr/bin", "etc", "tmp", "proc", "dev"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    _copy_with_libraries(root, "/usr/bin/dash")
    _copy_with_libraries(root, "/usr/bin/cat")
    os.symlink("usr/bin", os.path.join(root, "bin"))
    os.rename(os.path.join(root, "usr/bin/dash"), os.path.join(root, "usr/bin/sh"))
    with open(os.path.join(root, "etc", "assay-marker"), "w") as f:
        f.write(marker)
    return root


def make_python_root(top, marker=ROOTFS_MARKER):
    """make_small_root(TOP) with Debian's python3 and its standard library
    (hard links where TOP is on the same file system as /usr, else copies)
    but none of the packages in /usr/lib/python3/dist-packages: a worker
    system without IPython or pytest, for what a grading does when a
    run-time package is missing."""
    root = make_small_root(top, marker)
    python = os.path.realpath("/usr/bin/python3")
    _copy_with_libraries(root, python)
    os.symlink(os.path.basename(python), os.path.join(root, "usr/bin/python3"))
    stdlib = os.path.join("/usr/lib", os.path.basename(python))
    dst = os.path.join(root, stdlib.lstrip("/"))
    if subprocess.run(["cp", "-al", stdlib, dst], capture_output=True).returncode != 0:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(stdlib, dst, symlinks=True)
    dynload = os.path.join(stdlib, "lib-dynload")
    for name in sorted(os.listdir(dynload)):
        if name.endswith(".so"):
            for lib in _libraries(os.path.join(dynload, name)):
                _copy_with_libraries(root, lib)
    return root


def _libraries(program):
    """The shared objects ldd lists for PROGRAM."""
    out = subprocess.run(["ldd", program], capture_output=True, text=True).stdout
    return [w for line in out.splitlines() for w in line.split()
            if w.startswith("/") and "=>" in line]


# ---- running assay and grading ----

def _decode(b):
    """Bytes a program printed, as text (undecodable bytes replaced)."""
    return b.decode("utf-8", errors="replace")


def start_assay(*args, env=None):
    """Starts the assay binary with ARGS (stdin closed, stdout and stderr
    piped); returns the Popen.  `assay grade` runs as the test
    installation unless ARGS name an installation."""
    if not os.access(ASSAY_BIN, os.X_OK):
        pytest.fail(f"assay binary not found at {ASSAY_BIN} (run make, or set ASSAY_BIN)")
    args = [str(a) for a in args]
    if args[:1] == ["grade"] and "--installation" not in args and "--uids" not in args:
        args += installation_args()
    return subprocess.Popen([ASSAY_BIN, *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish_assay(p, timeout=GRADE_TIMEOUT_S):
    """Waits for a process from start_assay (killing it after TIMEOUT s, as
    subprocess.run does); returns the CompletedProcess (bytes)."""
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def run_assay(*args, timeout=GRADE_TIMEOUT_S, env=None):
    """Runs the assay binary with ARGS; returns the CompletedProcess (bytes)."""
    return finish_assay(start_assay(*args, env=env), timeout)


def grade(assignment_dir, submission, *args, timeout=GRADE_TIMEOUT_S, env=None):
    """`assay grade ASSIGNMENT_DIR SUBMISSION ARGS...`.

    Returns (returncode, result, stderr): result is the parsed JSON when
    --json is among ARGS and the command exited 0, else stdout as text.
    """
    p = run_assay("grade", assignment_dir, submission, *args, timeout=timeout, env=env)
    out = _decode(p.stdout)
    if "--json" in args and p.returncode == 0:
        out = _parse_results(p.stdout)
    return p.returncode, out, _decode(p.stderr)


def _parse_results(stdout):
    """The JSON `assay grade --json` printed, which must be valid UTF-8 JSON."""
    try:
        return json.loads(stdout)
    except ValueError as exc:
        pytest.fail(f"assay grade --json printed invalid JSON ({exc}):\n{_decode(stdout)[:2000]}")


def start_grade(assignment_dir, submission, *args, env=None):
    """Starts `assay grade ASSIGNMENT_DIR SUBMISSION --json ARGS...` (for
    gradings that overlap); finish it with finish_grade."""
    return start_assay("grade", assignment_dir, submission, "--json", *args, env=env)


def finish_grade(p, timeout=GRADE_TIMEOUT_S):
    """Waits for a start_grade process, which must exit 0 with valid JSON;
    returns (results, stdout text)."""
    done = finish_assay(p, timeout)
    assert done.returncode == 0, f"exit {done.returncode}\nstderr:\n{_decode(done.stderr)}"
    return _parse_results(done.stdout), _decode(done.stdout)


def grade_json(assignment_dir, submission, *args, timeout=GRADE_TIMEOUT_S, env=None):
    """`assay grade ... --json ARGS...`, which must exit 0; returns
    (results, stdout text)."""
    return finish_grade(start_grade(assignment_dir, submission, *args, env=env), timeout)


def by_name(results):
    """The results' tests as a dict name -> test entry."""
    return {t["name"]: t for t in results["tests"]}


def parse_time(text):
    """An ISO 8601 UTC time as written by Assay ("2026-11-22T10:15:02.123Z",
    or without the fraction) as an aware datetime."""
    assert isinstance(text, str) and text.endswith("Z"), f"not an ISO 8601 UTC time: {text!r}"
    body = text[:-1]
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in body else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(body, fmt).replace(tzinfo=datetime.timezone.utc)


def iso_from_now(**delta):
    """Now plus DELTA (datetime.timedelta's keywords: days=-1, hours=3.5)
    as an ISO 8601 UTC time to the second, as assignment.json's "due"."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(**delta)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- processes (/proc) ----

Proc = collections.namedtuple("Proc", "pid ppid state argv")
Proc.__doc__ = "A process: its pid, its parent's, its state letter (Z: a zombie) and its argv."


def proc(pid):
    """PID's Proc, from /proc/PID/stat and cmdline; None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = [a.decode("utf-8", "replace") for a in f.read().split(b"\0") if a]
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        return Proc(int(pid), int(ppid), state, argv)
    except (OSError, IndexError, ValueError):
        return None


def processes():
    """A Proc for every process in /proc but this one (zombies included)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            p = proc(entry)
            if p is not None:
                found.append(p)
    return found


def parent_pid(pid):
    """PID's parent, or None if it is gone."""
    p = proc(pid)
    return p.ppid if p else None


def descendants(pid):
    """The pids of every descendant of PID."""
    children = {}
    for p in processes():
        children.setdefault(p.ppid, []).append(p.pid)
    out, todo = [], [int(pid)]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def proc_uids(pid):
    """PID's (real, effective, saved, file system) uids; None if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            line = next(line for line in f if line.startswith("Uid:"))
        return tuple(int(u) for u in line.split()[1:5])
    except (OSError, StopIteration, ValueError):
        return None


def processes_of(uids):
    """The Procs of processes whose real or effective uid is in UIDS
    (zombies included)."""
    wanted = set(uids)
    return [p for p in processes() if wanted.intersection((proc_uids(p.pid) or ())[:2])]


def processes_using(paths):
    """The live Procs (no zombies) with an argument that is one of PATHS or
    holds a path inside one, or a working directory inside one."""
    roots = [str(d).rstrip("/") for d in paths]

    def inside(path):
        return path in roots or path.startswith(tuple(r + "/" for r in roots))

    found = []
    for p in processes():
        ours = any(a in roots or any(r + "/" in a for r in roots) for a in p.argv)
        if not ours:
            try:
                ours = inside(os.readlink(f"/proc/{p.pid}/cwd"))
            except OSError:
                pass
        if ours and p.state != "Z":   # a zombie waits for its parent: it is gone
            found.append(p)
    return found


# ---- waiting ----

def poll(fn, timeout, interval=0.05, until=bool):
    """Calls FN every INTERVAL s until UNTIL(its value) holds or TIMEOUT s
    have passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if until(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def wait_for(what, predicate, timeout=30, interval=0.02, context=None):
    """PREDICATE()'s first true value, polled every INTERVAL s; fails the
    test after TIMEOUT s, saying it waited for WHAT, with CONTEXT() (the
    logs, say) if given."""
    value = poll(predicate, timeout, interval)
    if not value:
        pytest.fail(f"timed out after {timeout} s waiting for {what}"
                    + (f"\n{context()}" if context else ""))
    return value


def worker_daemon_running(worker_dir):
    """Whether an assay-worker holds WORKER_DIR's lock file (it does for as
    long as it runs)."""
    try:
        fd = os.open(os.path.join(worker_dir, ".lock"), os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
