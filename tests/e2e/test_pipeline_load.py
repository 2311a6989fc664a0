"""End-to-end: grading through the pipeline on a busy worker.

A local worker with two slots grades a fork-happy submission (8 busy
processes) in one slot while a correct pytest submission (0.5 s of CPU,
a 2 s wall limit) goes through the other: the slots share the CPUs
equally, so the correct one gets full marks and records no starved run.
And a run whose set-up is held up (its slot's keeper stopped for 1.5 s,
as a busy machine would hold it) still has its whole wall limit: the
clock starts when its command is exec'd.  Real processes, waits with
deadlines, no timing asserted (docs/SECURITY.md, *A busy worker*).
"""
import os
import signal
import time

from pipeline import assignment_doc, pipeline  # noqa: F401  (the fixture)
from assay_helpers import needs_root, parent_pid, processes_of

pytestmark = needs_root

COURSE = "cs101"

CRUNCH = "def crunch(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
CRUNCH_TEST = ("from hello import crunch\n\n\ndef test_crunch():\n"
               "    n = 6_000_000\n    assert crunch(n) == n * (n - 1) // 2\n")

# 8 processes busy until the wall clock reads END, then exit 0.
FORK_HAPPY = """
import os, time
END = {end}
for _ in range(7):
    if os.fork() == 0:
        break
while time.time() < END:
    pass
print('hi')
"""


def run_uids(spool):
    first, last = (int(u) for u in spool.installation()["uids"].split("-"))
    return range(first, last + 1)


def test_correct_submission_beside_a_fork_happy_one_gets_full_marks(pipeline):
    spool = pipeline()
    ws = spool.workers()
    ws[0]["prefetch"] = 0   # each job straight into its own slot
    spool.set_workers(ws)
    spool.add_assignment(COURSE, "hog", assignment_doc(
        [{"name": "hog", "kind": "command", "points": 1, "command": "python3 hello.py"}],
        limits={"wall_s": 60, "cpu_s": 120, "processes": 16, "memory_mb": 256}))
    spool.add_assignment(COURSE, "crunch", assignment_doc(
        [{"name": "crunch", "kind": "pytest", "points": 1, "files": ["tests/test_work.py"]}],
        limits={"wall_s": 2, "cpu_s": 2, "memory_mb": 256}),
        files={"tests/test_work.py": CRUNCH_TEST})
    spool.start()
    spool.wait_running(slots=2, daemons=1)
    hog_src = spool.make_submission("hog", {"hello.py": FORK_HAPPY.format(end=time.time() + 20)})
    hog = spool.submit(COURSE, "hog", "mallory", hog_src)
    uids = run_uids(spool)
    spool.wait_for("the fork-happy run's 8 processes", lambda: len(
        [p for p in processes_of(uids) if p.state != "Z" and p.argv[:1] == ["python3"]]) >= 8)
    _, r = spool.submit_wait(COURSE, "crunch", "alice",
                             spool.make_submission("crunch", {"hello.py": CRUNCH}))
    t = r["tests"][0]
    assert t["verdict"] == "passed", t["output"]
    assert r["score"] == 1 and r["max_score"] == 1
    assert r["assay"]["status"] == "graded"
    assert "starved_runs" not in t
    assert spool.result(hog) is None   # the load was there all along
    h = spool.wait_results([hog], timeout=60)[hog]
    assert h["tests"][0]["verdict"] == "passed", h["tests"][0]["output"]


def keepers(spool):
    """The pids of the sandbox keepers of the spool's worker daemons."""
    daemons = {pid for pid, _ in spool.worker_daemons()}
    found = []
    for pid, _ in spool.processes():
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == "assay-keeper" and parent_pid(pid) in daemons:
            found.append(pid)
    return found


def test_set_up_time_is_not_the_runs(pipeline):
    spool = pipeline()
    ws = spool.workers()
    ws[0]["prefetch"] = 0
    spool.set_workers(ws)
    spool.add_assignment(COURSE, "sleepy", assignment_doc(
        [{"name": "sleeps", "kind": "command", "points": 1, "command": "sleep 1"}],
        limits={"wall_s": 2, "cpu_s": 2, "memory_mb": 256}))
    src = spool.make_submission("sleepy", {"hello.py": "pass\n"})
    spool.start()
    spool.wait_running(slots=2, daemons=1)
    # the first grading sets its slot up (the daemon's first free slot,
    # which takes the next job too)
    _, r = spool.submit_wait(COURSE, "sleepy", "first", src)
    assert r["tests"][0]["verdict"] == "passed", r["tests"][0]["output"]
    held = spool.wait_for("the slot's keeper", lambda: keepers(spool))
    for pid in held:
        os.kill(pid, signal.SIGSTOP)
    try:
        job = spool.submit(COURSE, "sleepy", "held", src)
        spool.wait_for("the job's grader", lambda: [
            p for p, argv in spool.procs_named("assay-worker") if "grade-one" in argv])
        time.sleep(1.5)   # the set-up held up 1.5 s: a run counted from the spawn times out
    finally:
        for pid in held:
            os.kill(pid, signal.SIGCONT)
    t = spool.wait_results([job], timeout=60)[job]["tests"][0]
    assert t["verdict"] == "passed", t["output"]
    assert 1.0 <= t["wall_s"] < 2.0
