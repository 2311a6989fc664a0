"""A slot starts every grading clean: nothing a submission or a run made
outlives its grading, whatever it was (a tree deeper than any path, a
work directory of a grader killed mid-run, pages charged to the slot's
memory cgroup), and a slot that cannot be made clean grades nothing.

Every case grades through the real `assay grade` in the namespace
sandbox.  Cases that need the same slot twice hold the leases of the
free slots below it meanwhile, since slots are leased lowest first.
"""
import contextlib
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbx  # noqa: E402  (puts tests/lib on sys.path)
from assay_helpers import (ASSAY_BIN, RUN_UID_BASE, by_name, grade, grade_json,  # noqa: E402
                           installation_args,
                           needs_root, poll, start_grade, write_submission)

pytestmark = needs_root

MB = 1 << 20
WORK_MB = 256          # the slot's work tmpfs (sandbox/namespace.h SANDBOX_WORK_MB)


def work_dir(slot):
    return f"{sbx.RUN_DIR}/slot-{slot}/work"


def one_test(tmp_path, program, limits=None, name="a"):
    """A one-test "command" assignment running PROGRAM (run.py, given
    with the assignment) and a submission holding it."""
    a = sbx.security_assignment(tmp_path / name, [{"name": "run", "kind": "command",
                                                   "points": 1, "command": "python3 run.py"}],
                                limits=limits)
    s = write_submission(tmp_path / f"{name}-sub", {"run.py": program})
    return a, s


def deep_zip(path, depth=300):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sub/" + "a/" * depth + "x.py", "x = 1\n")
        z.writestr("run.py", "print('hi')\n")
    return str(path)


@contextlib.contextmanager
def lowest_free_slot_is(slot):
    """Holds the lease of every free slot below SLOT, so that the next
    grading leases SLOT (if nobody else has it)."""
    held = []
    try:
        for s in range(slot):
            fd = os.open(os.path.join(sbx.LOCK_DIR, f"uid-{RUN_UID_BASE + s}"),
                         os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held.append(fd)
            except BlockingIOError:
                os.close(fd)
        yield
    finally:
        for fd in held:
            os.close(fd)


def quiet_slot(first=24):
    """A slot at or above FIRST that nobody holds now: the slots below are
    the busy ones, since leases go lowest first."""
    for slot in range(first, 1000):
        fd = os.open(os.path.join(sbx.LOCK_DIR, f"uid-{RUN_UID_BASE + slot}"),
                     os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return slot
        except BlockingIOError:
            pass
        finally:
            os.close(fd)
    raise AssertionError("no free slot")


def grade_in(slot, a, s, tries=5):
    """Grades in SLOT (trying again while another grader takes it first)."""
    for _ in range(tries):
        with lowest_free_slot_is(slot):
            r, _ = grade_json(a, s)
        if sbx.sandboxed(r)["assay"]["sandbox_slot"] == slot:
            return r
    raise AssertionError(f"slot {slot} was taken by other graders {tries} times")


def assert_let_go(slot, strict=True):
    """The `assay grade` that used SLOT let it go: its work tmpfs, with
    whatever was in it, and its directories are gone."""
    if strict:
        sbx.assert_slot_clean(slot)
    assert sbx.slot_left(slot) == [], f"{sbx.RUN_DIR}/slot-{slot} stays"


def kill_mid_run(tmp_path, mb, name, slot):
    """Starts a grading whose run writes MB megabytes into its work
    directory and sleeps, SIGKILLs the `assay grade` process once the
    file is written; returns the slot, whose work tmpfs still holds it."""
    program = (f"with open('big', 'wb') as f:\n    f.write(b'x' * {mb * MB})\n"
               "import time\ntime.sleep(60)\n")
    a, s = one_test(tmp_path, program, limits={"wall_s": 60, "cpu_s": 30, "file_mb": 1024},
                    name=name)
    with lowest_free_slot_is(slot):
        p = start_grade(a, s)
        poll(lambda: os.path.exists(f"/proc/{p.pid}") and glob.glob(f"{work_dir(slot)}/*"), 10)

    def written():
        for f in glob.glob(f"{work_dir(slot)}/*/test-1/big"):
            try:
                if os.path.getsize(f) >= mb * MB:
                    return f
            except OSError:
                pass
        return None

    try:
        big = poll(written, 30)
        assert big, "the run never wrote its file"
    finally:
        p.send_signal(signal.SIGKILL)
        p.communicate()
    assert os.path.exists(big)   # what the killed grader left


def test_a_300_deep_zip_is_refused_by_name_and_leaves_nothing(tmp_path):
    a, _ = one_test(tmp_path, "print('hi')\n")
    z = deep_zip(tmp_path / "deep.zip")
    slots = set()
    for _ in range(6):   # each used to leave ~50 MB on the slot's 256 MB tmpfs
        r, _ = grade_json(a, z)
        slot = sbx.sandboxed(r)["assay"]["sandbox_slot"]
        slots.add(slot)
        err = r["assay"]["error"]
        assert err["category"] == "submission"
        assert err["message"].startswith('deep.zip: entry "sub/a/.../x.py" is 301 directories '
                                         'deep; at most 64 are allowed'), err
        assert "/run/assay" not in err["message"] and "empty" not in err["message"]
        assert_let_go(slot)
    ok = write_submission(tmp_path / "ok", {"run.py": "print('hi')\n"})
    for slot in slots:   # the seventh, correct, submission passes in the same slot
        r = grade_in(slot, a, ok)
        assert r["score"] == 1 and by_name(r)["run"]["verdict"] == "passed", r
        assert_let_go(slot)


def test_an_over_long_name_is_refused_without_the_workers_path(tmp_path):
    a, _ = one_test(tmp_path, "print('hi')\n")
    z = tmp_path / "long.zip"
    with zipfile.ZipFile(z, "w") as f:
        f.writestr("sub/" + "n" * 300 + ".py", "x = 1\n")
    r, _ = grade_json(a, str(z))
    msg = r["assay"]["error"]["message"]
    assert msg.startswith('long.zip: entry "sub/nnn') and \
        "has a name of 303 bytes; at most 255 are allowed" in msg, msg
    assert "/run/assay" not in msg and "assay-" not in msg
    assert_let_go(r["assay"]["sandbox_slot"])


def test_a_killed_graders_leftovers_are_not_charged_to_the_next_student(tmp_path):
    # a leftover of 100 MB, then an assignment whose whole limit is 64 MB:
    # it used to get setup_error ("Device or resource busy" writing the limit)
    slot = quiet_slot()
    kill_mid_run(tmp_path, 100, "k1", slot)
    a, s = one_test(tmp_path, "x = bytearray(20 << 20)\nprint('ok')\n",
                    limits={"memory_mb": 64}, name="small")
    r = grade_in(slot, a, s)
    assert by_name(r)["run"]["verdict"] == "passed", r
    assert r["assay"]["error"] is None
    assert_let_go(slot, strict=False)
    # a leftover of 100 MB, then a correct run needing 100 MB of 256: it
    # used to get memory_limit
    kill_mid_run(tmp_path, 100, "k2", slot)
    a, s = one_test(tmp_path, "x = bytearray(100 << 20)\nx[::4096] = b'y' * len(x[::4096])\n"
                              "print('ok')\n", limits={"memory_mb": 256}, name="big")
    r = grade_in(slot, a, s)
    assert r["score"] == 1 and by_name(r)["run"]["verdict"] == "passed", r
    # not the full sbx check: after a killed grader, pids.current of the
    # slot can read 1 with no process in cgroup.procs (see the report)
    assert_let_go(slot, strict=False)


def test_filling_the_work_area_is_a_disk_verdict_not_memory(tmp_path):
    # more than the work area, far more than the memory limit
    program = ("with open('fill', 'wb') as f:\n    for _ in range(400):\n"
               "        f.write(b'x' * (1 << 20))\n")
    a, s = one_test(tmp_path, program, limits={"memory_mb": 64, "file_mb": 1024})
    r = sbx.grade_clean(a, s)
    t = by_name(r)["run"]
    assert t["verdict"] == "disk_limit", t
    assert t["score"] == 0
    assert f"Wrote more than {WORK_MB} MB of files" in t["output"], t["output"]
    assert "memory" not in t["output"].split("\n")[0]
    assert r["assay"]["error"] is None
    assert_let_go(r["assay"]["sandbox_slot"])


def test_a_slot_that_cannot_be_cleaned_grades_nothing(tmp_path):
    a, s = one_test(tmp_path, "print('hi')\n")
    slot = quiet_slot()
    work = work_dir(slot)
    stuck = os.path.join(work, "stuck")
    # what a grader killed mid-run leaves (its work tmpfs, still mounted),
    # holding a file that nobody can remove
    with lowest_free_slot_is(slot + 1):   # holds SLOT itself too: nobody else meets the file
        os.makedirs(work, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={WORK_MB}m,mode=0711", "tmpfs",
                        work], check=True)
        with open(stuck, "w") as f:
            f.write("x")
        subprocess.run(["chattr", "+i", stuck], check=True)
    try:
        for _ in range(5):
            with lowest_free_slot_is(slot):
                rc, r, stderr = grade(a, s, "--json")
            assert rc == 0, stderr
            if r["assay"]["sandbox_slot"] == slot:
                break
        assert r["assay"]["sandbox_slot"] == slot
        err = r["assay"]["error"]
        assert err["category"] == "infrastructure"
        assert "out of service" in err["message"] and "not a problem with your work" in \
            err["message"]
        assert [t["verdict"] for t in r["tests"]] == ["setup_error"]
        assert r["score"] == 0
        # the log names the slot and what stays
        assert f"sandbox slot {slot} ({work}, uid {RUN_UID_BASE + slot}) is out of " \
               f"service: cannot remove {stuck}: Operation not permitted" in stderr, stderr
        # letting the slot go detached that tmpfs, file and all: the next
        # grading in the slot has a new one
        assert_let_go(slot)
        r = grade_in(slot, a, s)
        assert r["score"] == 1 and by_name(r)["run"]["verdict"] == "passed", r
        assert_let_go(slot)
    finally:
        if os.path.exists(stuck):   # no grading let the slot go
            subprocess.run(["chattr", "-i", stuck], check=True)
            os.unlink(stuck)
            subprocess.run(["umount", work], check=True)
            shutil.rmtree(os.path.dirname(work), ignore_errors=True)


def test_kept_work_directories_stay_until_the_slots_next_grading(tmp_path):
    a, s = one_test(tmp_path, "open('left.txt', 'w').write('x')\nprint('hi')\n")
    slot = quiet_slot()
    for _ in range(5):
        with lowest_free_slot_is(slot):
            rc, r, stderr = grade(a, s, "--json", "--keep-workdir")
        assert rc == 0, stderr
        if r["assay"]["sandbox_slot"] == slot:
            break
    assert r["assay"]["sandbox_slot"] == slot and r["score"] == 1, r
    kept = re.search(r"the work directories are kept in (\S+)", stderr)
    assert kept, stderr
    kept = kept.group(1)
    assert kept.startswith(work_dir(slot) + "/"), kept
    with open(os.path.join(kept, "test-1", "left.txt")) as f:
        assert f.read() == "x"
    # the next grading in the slot empties it, and lets it go
    r = grade_in(slot, a, s)
    assert r["score"] == 1, r
    assert not os.path.exists(kept)
    assert_let_go(slot)


def test_a_keeper_never_detaches_the_work_tmpfs_of_a_grading_beside_it(tmp_path):
    # On a host whose / is shared (systemd's default), a cgroup v1 keeper
    # that detaches the other slots' mounts from its own mount namespace
    # must not detach them from the host's: the grading running beside it
    # would lose its work tmpfs (its next test would run outside it).  A
    # mount namespace with shared propagation stands in for such a host.
    slow, s = one_test(tmp_path, "import time\ntime.sleep(4)\nprint('hi')\n",
                       limits={"wall_s": 30, "cpu_s": 5}, name="slow")
    quick, q = one_test(tmp_path, "print('hi')\n", name="quick")
    inst = " ".join(installation_args())
    mounts = f"{sbx.RUN_DIR}/slot-[0-9]*/work "
    script = f"""
        {ASSAY_BIN} grade {slow} {s} --json {inst} > {tmp_path}/slow.json 2>> {tmp_path}/err &
        n=0
        until grep -q "{mounts}" /proc/self/mountinfo || [ $n -ge 600 ]; do
            sleep 0.05; n=$((n + 1))
        done
        sleep 0.5
        {ASSAY_BIN} grade {quick} {q} --json {inst} > {tmp_path}/quick.json 2>> {tmp_path}/err
        grep -c "{mounts}" /proc/self/mountinfo > {tmp_path}/mounts
        wait
    """
    p = subprocess.run(["unshare", "--mount", "--propagation", "shared", "sh", "-c", script],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    results = {}
    for name in ("slow", "quick"):
        with open(tmp_path / f"{name}.json") as f:
            text = f.read()
        assert text, (tmp_path / "err").read_text()
        results[name] = json.loads(text)
        assert results[name]["score"] == 1, results[name]
    assert results["slow"]["assay"]["sandbox_slot"] != results["quick"]["assay"]["sandbox_slot"]
    # once the quick grading was done, the slow one's work tmpfs was still there
    assert (tmp_path / "mounts").read_text().strip() == "1"
