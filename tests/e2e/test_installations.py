"""Installations side by side on one machine: each spool `assay init`
makes is an installation of its own, with a name and a uid range nobody
else on the machine holds (the registry in /etc/assay/installations.d),
and its sandbox leases, directories and cgroups carry the name.  Two
installations grade at once without sharing any of them; `assay init`
refuses a range or a name another installation holds; and the sandbox
security suite passes while another installation grades beside it."""
import json
import os
import subprocess
import sys

import pytest

from assay_helpers import (CGROUP_ROOT, REPO_ROOT, processes_of, slot_cgroups, slot_dirs, tempdir,
                           wait_for)
from pipeline import (HI_CONTAINS_TEST, HI_TEST, IS_ROOT, LIMITS, assignment_doc, exe,
                      pipeline, slow_hello)  # noqa: F401

pytestmark = pytest.mark.skipif(not IS_ROOT, reason="the namespace sandbox runs as root only")

COURSE = "cs101"


def uid_range(inst):
    first, last = (int(u) for u in inst["uids"].split("-"))
    return range(first, last + 1)


def slow_spool(pipeline, seconds=2):
    """An initialised spool with assignment "slow" (3 points for "hi" after
    SECONDS) and its right submission; returns (spool, submission)."""
    spool = pipeline()
    spool.add_assignment(COURSE, "slow", assignment_doc([HI_TEST, HI_CONTAINS_TEST],
                                                        limits=dict(LIMITS, wall_s=10)))
    return spool, spool.make_submission("slow", {"hello.py": slow_hello(seconds)})


def slot_cgroup(name, slot):
    """The slot's cgroup directory of installation NAME (v2, or v1's memory)."""
    v2 = os.path.join(CGROUP_ROOT, "assay", name, f"slot-{slot}")
    return v2 if os.path.exists(v2) else os.path.join(CGROUP_ROOT, "memory", "assay", name,
                                                      f"slot-{slot}")


def assert_graded_in_own_names(results, inst):
    """Each result: full marks, from the namespace sandbox, in a slot whose
    uid, lease, directory and cgroup are installation INST's."""
    uids = uid_range(inst)
    for r in results.values():
        assert r["score"] == 3, r
        assert r["assay"]["sandbox"] == "namespace"
        slot = r["assay"]["sandbox_slot"]
        assert 0 <= slot < len(uids)
        uid = uids[slot]
        assert os.path.exists(f"/run/lock/assay/{inst['name']}/uid-{uid}")
        assert os.path.isdir(f"/run/assay/{inst['name']}/slot-{slot}/work")
        assert os.path.isdir(slot_cgroup(inst["name"], slot))


def slots_left(inst):
    """What is left of installation INST's slots: cgroups, directories,
    mounts."""
    return slot_cgroups(inst["name"]) + slot_dirs(inst["name"])


def worker_args(inst):
    """The command lines of the assay-worker daemons run for INST."""
    return [p.argv for p in processes_of([0])
            if p.argv and p.argv[0].endswith("assay-worker") and "--installation" in p.argv and
            p.argv[p.argv.index("--installation") + 1] == inst["name"]]


def test_two_installations_grade_at_once_each_in_its_own_names(pipeline):
    (a, src_a), (b, src_b) = slow_spool(pipeline), slow_spool(pipeline)
    ia, ib = a.installation(), b.installation()
    assert ia["name"] != ib["name"]
    ra, rb = uid_range(ia), uid_range(ib)
    assert ra.stop <= rb.start or rb.stop <= ra.start, (ia, ib)
    for s in (a, b):
        s.start()
        s.wait_running(slots=3, daemons=1)
    for inst in (ia, ib):   # the scheduler starts its local worker with its installation
        assert [w[w.index("--uids") + 1] for w in worker_args(inst)] == [inst["uids"]]
    jobs_a = [a.submit(COURSE, "slow", f"a{i}", src_a) for i in range(3)]
    jobs_b = [b.submit(COURSE, "slow", f"b{i}", src_b) for i in range(3)]
    wait_for("runs of both installations at the same time",
             lambda: processes_of(ra) and processes_of(rb), timeout=30)
    assert_graded_in_own_names(a.wait_results(jobs_a), ia)
    assert_graded_in_own_names(b.wait_results(jobs_b), ib)
    # A worker that stops removes its slots' cgroups, directories and work
    # tmpfs mounts; the other installation's stay while it runs.
    assert a.stop()[1]
    wait_for("installation a's slots let go", lambda: slots_left(ia) == [], timeout=10)
    assert slot_cgroups(ib["name"]) and slot_dirs(ib["name"])
    assert b.stop()[1]
    wait_for("installation b's slots let go", lambda: slots_left(ib) == [], timeout=10)


def init(root, *args):
    return subprocess.run([exe("assay"), "init", root, *args], capture_output=True, text=True,
                          timeout=30)


def test_init_refuses_a_range_or_name_another_installation_holds():
    with tempdir("assay-e2e-") as base:
        first = os.path.join(base, "first")
        p = init(first)
        assert p.returncode == 0, p.stderr
        with open(os.path.join(first, "workers.json")) as f:
            inst = json.load(f)["installation"]
        r = uid_range(inst)
        second = os.path.join(base, "second")
        p = init(second, "--uids", f"{r.start + 10}-{r.start + 20}")
        assert p.returncode == 1
        assert (f"assay init: the uids {r.start + 10}-{r.start + 20} overlap those of installation "
                f"\"{inst['name']}\" (uids {inst['uids']}, spool {os.path.realpath(first)}): "
                f"choose another range with `assay init {second} --uids FIRST-LAST`, e.g. --uids "
                in p.stderr), p.stderr
        assert not os.path.exists(os.path.join(second, "workers.json"))
        p = init(second, "--name", inst["name"])
        assert p.returncode == 1
        assert f"the installation name \"{inst['name']}\" is taken by the spool" in p.stderr
        assert f"`assay init {second} --name NAME`" in p.stderr
        # once the first spool is gone, its range is free again
        subprocess.run(["rm", "-rf", first], check=True)
        p = init(second, "--uids", f"{r.start + 10}-{r.start + 20}", "--name", inst["name"])
        assert p.returncode == 0, p.stderr


# A representative subset of the sandbox security suite: resource bombs,
# escapes that must leave the slot clean, and two slots at once.
SECURITY_SUBSET = ("test_fork_bomb or test_memory_bomb or test_kill_minus_one or "
                   "test_double_fork_daemon_does_not_outlive_the_run or "
                   "test_two_slots_at_once_cannot_see_or_signal_each_other or "
                   "test_writing_to_host_paths or test_sleeping_past_the_wall_limit")


def test_security_suite_passes_while_another_installation_grades(pipeline):
    spool, src = slow_spool(pipeline, seconds=1)
    inst = spool.installation()
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    jobs = [spool.submit(COURSE, "slow", f"s{i}", src) for i in range(12)]
    wait_for("the other installation grading", lambda: processes_of(uid_range(inst)), timeout=30)
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         os.path.join(REPO_ROOT, "tests", "security", "test_sandbox_attacks.py"),
         "-k", SECURITY_SUBSET],
        capture_output=True, text=True, timeout=600, cwd=REPO_ROOT)
    graded_meanwhile = [j for j in jobs if spool.result(j) is not None]
    assert suite.returncode == 0, suite.stdout[-4000:] + suite.stderr[-2000:]
    assert "7 passed" in suite.stdout, suite.stdout[-2000:]
    assert graded_meanwhile, "the other installation graded nothing while the suite ran"
    assert_graded_in_own_names(spool.wait_results(jobs, timeout=120), inst)
