"""Helpers for the adversarial sandbox suite (tests/security).

Every case writes a small assignment and a hostile submission into
pytest's tmp_path, grades it with the real `assay grade` (ASSAY_BIN, by
default build/assay) in the namespace sandbox, and checks the verdict.
After each grading, `assert_slot_clean` takes the slot's lease itself (so
no other grader uses the slot meanwhile) and checks that no process of
the slot's uid is left, that the slot's cgroup is empty and that its
counters were reset.

This module is not called conftest.py on purpose: tests/e2e has one, and
both directories run in one pytest session.
"""
import fcntl
import json
import os
import shutil
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
ASSAY_BIN = os.environ.get("ASSAY_BIN") or os.path.join(REPO_ROOT, "build", "assay")
RUN_UID_BASE = 61000
LOCK_DIR = "/run/lock/assay"
CGROUP_ROOT = "/sys/fs/cgroup"
GRADE_TIMEOUT_S = 120

LIMITS = {"wall_s": 5, "cpu_s": 3, "memory_mb": 256, "processes": 32,
          "file_mb": 8, "output_kb": 64}

needs_root = pytest.mark.skipif(os.geteuid() != 0,
                                reason="the namespace sandbox runs as root only")


def write_assignment(d, tests, limits=None, files=None, top=None):
    """assignment.json (and instructor FILES, name -> text) in directory D;
    TOP adds top-level keys."""
    os.makedirs(d, exist_ok=True)
    for name, text in (files or {}).items():
        path = os.path.join(d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    a = {"assay": 1, "title": "security", "limits": dict(LIMITS, **(limits or {})),
         "tests": tests, **(top or {})}
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump(a, f)
    return str(d)


def write_submission(d, files):
    os.makedirs(d, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    return str(d)


def start_grade(assignment_dir, submission_dir, *args, env=None):
    return subprocess.Popen([ASSAY_BIN, "grade", str(assignment_dir), str(submission_dir),
                             "--json", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=env)


def finish_grade(p):
    """Waits for an `assay grade --json` process; the grader must be healthy:
    exit 0 and valid JSON.  Returns the results."""
    out, err = p.communicate(timeout=GRADE_TIMEOUT_S)
    assert p.returncode == 0, f"assay grade exited {p.returncode}: {err.decode()[-2000:]}"
    r = json.loads(out)
    assert r["assay"]["sandbox"] == "namespace"
    assert isinstance(r["assay"]["sandbox_slot"], int)
    return r


def grade(assignment_dir, submission_dir, *args, env=None):
    """Grades, checks the slot is clean afterwards, returns the results."""
    r = finish_grade(start_grade(assignment_dir, submission_dir, *args, env=env))
    assert_slot_clean(r["assay"]["sandbox_slot"])
    return r


def test_entry(r, name):
    return {t["name"]: t for t in r["tests"]}[name]


def uid_processes(uid):
    """(pid, cmdline) of every process whose real or effective uid is UID."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                uids = next(line for line in f if line.startswith("Uid:")).split()[1:3]
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, StopIteration):
            continue
        if str(uid) in uids:
            found.append((int(pid), cmd))
    return found


def _cgroup_dirs(slot):
    v2 = os.path.join(CGROUP_ROOT, "assay", f"slot-{slot}")
    if os.path.exists(os.path.join(v2, "cgroup.events")):
        return {"v2": v2}
    return {c: os.path.join(CGROUP_ROOT, c, "assay", f"slot-{slot}")
            for c in ("memory", "pids", "cpuacct")}


def _read(path):
    with open(path) as f:
        return f.read()


def assert_slot_clean(slot):
    """Holds SLOT's lease (waiting for a concurrent grader to finish) and
    checks: no process of its uid, its cgroup empty, counters reset."""
    uid = RUN_UID_BASE + slot
    fd = os.open(os.path.join(LOCK_DIR, f"uid-{uid}"), os.O_RDWR)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, f"slot {slot} stays leased"
                time.sleep(0.05)
        assert uid_processes(uid) == [], f"processes of uid {uid} remain"
        dirs = _cgroup_dirs(slot)
        for d in dirs.values():
            assert _read(os.path.join(d, "cgroup.procs")).split() == [], f"{d} is not empty"
        if "v2" in dirs:
            assert "populated 0" in _read(os.path.join(dirs["v2"], "cgroup.events"))
        else:
            assert int(_read(os.path.join(dirs["cpuacct"], "cpuacct.usage"))) == 0
            assert int(_read(os.path.join(dirs["memory"], "memory.failcnt"))) == 0
            assert int(_read(os.path.join(dirs["pids"], "pids.current"))) == 0
    finally:
        os.close(fd)


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
