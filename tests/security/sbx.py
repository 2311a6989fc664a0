"""Helpers for the adversarial sandbox suite (tests/security).

Every case writes a small assignment and a hostile submission into
pytest's tmp_path, grades it with the real `assay grade` (ASSAY_BIN, by
default build/assay) in the namespace sandbox, and checks the verdict.
After each grading, `assert_slot_clean` takes the slot's lease itself (so
no other grader uses the slot meanwhile) and checks that no process of
the slot's uid is left, that the slot's cgroup is empty and that its
counters were reset.

The general helpers (writing assignments and submissions, grading,
/proc) are tests/lib/assay_helpers.py, shared with tests/e2e: importing
this module puts tests/lib on sys.path.  This module is not called
conftest.py on purpose: tests/e2e has one, and both directories run in
one pytest session.
"""
import contextlib
import fcntl
import os
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "lib"))

from assay_helpers import (  # noqa: E402
    CGROUP_ROOT, GRADE_TIMEOUT_S, RUN_UID_BASE, TEST_INSTALLATION, assignment_doc, grade_json,
    poll, processes_of, slot_cgroups, slot_dirs, write_assignment)

# The test installation's names (assay_helpers.TEST_INSTALLATION), which
# every grading of this suite uses: never a live installation's.
_NAME = TEST_INSTALLATION["name"] if TEST_INSTALLATION else ""
LOCK_DIR = os.path.join("/run/lock/assay", _NAME).rstrip("/")
RUN_DIR = os.path.join("/run/assay", _NAME).rstrip("/")
CGROUP_GROUP = os.path.join("assay", _NAME).rstrip("/")

LIMITS = {"wall_s": 5, "cpu_s": 3, "memory_mb": 256, "processes": 32,
          "file_mb": 8, "output_kb": 64}


def security_assignment(d, tests, limits=None, files=None, top=None):
    """An assignment in directory D: TESTS, LIMITS with the given LIMITS
    changed, title "security", the instructor FILES and the top-level keys
    TOP.  Returns D as a str."""
    doc = assignment_doc(tests, title="security", limits=dict(LIMITS, **(limits or {})),
                         **(top or {}))
    return write_assignment(d, doc, files)


def sandboxed(results):
    """RESULTS, once checked to come from the namespace sandbox (a slot)."""
    assert results["assay"]["sandbox"] == "namespace"
    assert isinstance(results["assay"]["sandbox_slot"], int)
    return results


def grade_clean(assignment_dir, submission_dir, *args, env=None, timeout=GRADE_TIMEOUT_S):
    """Grades in the namespace sandbox (`assay grade --json`, which must
    exit 0), checks the slot is clean afterwards, returns the results."""
    r, _ = grade_json(assignment_dir, submission_dir, *args, env=env, timeout=timeout)
    assert_slot_clean(sandboxed(r)["assay"]["sandbox_slot"])
    return r


def uid_processes(uid):
    """(pid, command line) of every process whose real or effective uid is UID."""
    return [(p.pid, " ".join(p.argv)) for p in processes_of([uid])]


def _read(path):
    with open(path) as f:
        return f.read()


def assert_slot_clean(slot):
    """Holds SLOT's lease (waiting for a concurrent grader to finish) and
    checks: no process of its uid, its cgroup, directories and work tmpfs
    gone (the launcher that let the slot go killed what was in it and
    removed them)."""
    uid = RUN_UID_BASE + slot
    fd = os.open(os.path.join(LOCK_DIR, f"uid-{uid}"), os.O_RDWR)

    def lease():
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    try:
        assert poll(lease, 60, 0.05), f"slot {slot} stays leased"
        assert uid_processes(uid) == [], f"processes of uid {uid} remain"
        left = [d for d in slot_cgroups(_NAME) if os.path.basename(d) == f"slot-{slot}"]
        assert left == [], f"slot {slot}'s cgroup remains: {left}"
        assert slot_left(slot) == [], f"slot {slot}'s directories remain"
    finally:
        os.close(fd)


def slot_left(slot):
    """SLOT's directory and the mounts below it, if they stay."""
    return [d for d in slot_dirs(_NAME) if d == f"{RUN_DIR}/slot-{slot}" or
            d.startswith(f"{RUN_DIR}/slot-{slot}/")]


# ---- the CPU controller ----

def cpu_v1():
    """Whether this host's cpu controller is a v1 hierarchy (else cgroup2's)."""
    return os.path.exists(os.path.join(CGROUP_ROOT, "cpu", "cpu.shares"))


def _cpu_dir(group):
    """The cpu controller's directory of GROUP (a path below the root)."""
    return os.path.join(CGROUP_ROOT, "cpu", group) if cpu_v1() else os.path.join(CGROUP_ROOT, group)


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


@contextlib.contextmanager
def cpu_cgroup_of(pids):
    """A cpu cgroup of its own (a fresh random name below the root, as a
    worker's other services have their slices) holding the processes
    PIDS for the duration of a with block; removed after them."""
    d = _cpu_dir(f"assay-test-load-{secrets.token_hex(6)}")
    os.mkdir(d)
    try:
        for pid in pids:
            _write(os.path.join(d, "cgroup.procs"), str(pid))
        yield d
    finally:
        for pid in _read(os.path.join(d, "cgroup.procs")).split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), 9)
        assert poll(lambda: not _read(os.path.join(d, "cgroup.procs")).split(), 10)
        os.rmdir(d)


@contextlib.contextmanager
def installation_cpu_quota(percent):
    """Lets the test installation's slots together run PERCENT % of one
    CPU (a CFS quota on their parent cgroup, which only this test run's
    installation uses) for the duration of a with block: its runs are
    runnable but throttled, and the scheduler counts that time as waiting
    for a CPU, as it does for a run queue full of other programs.  The
    group must exist: grade something first."""
    d = _cpu_dir(CGROUP_GROUP)
    assert os.path.isdir(d), f"{d}: no grading has made the installation's cpu cgroup"
    quota_us = int(percent * 1000)   # of a 100 ms period
    if cpu_v1():
        _write(os.path.join(d, "cpu.cfs_period_us"), "100000")
        _write(os.path.join(d, "cpu.cfs_quota_us"), str(quota_us))
    else:
        _write(os.path.join(d, "cpu.max"), f"{quota_us} 100000")
    try:
        yield
    finally:
        if cpu_v1():
            _write(os.path.join(d, "cpu.cfs_quota_us"), "-1")
        else:
            _write(os.path.join(d, "cpu.max"), "max 100000")