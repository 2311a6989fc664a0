"""Crash safety of the spool pipeline (DESIGN.md section 2).

During a flood of 200 submissions, kill -9 the scheduler (then start it
again), a shipper (the scheduler restarts it) and a worker daemon (the
scheduler restarts it) at moments chosen by a seeded random generator.
At the end every job has exactly one result, for its own version, none
is lost, none failed, none recorded twice, and SIGTERM leaves no process.
"""
import os
import random
import signal
import threading
import time

import pytest

from assay_helpers import poll
from pipeline import (HI_TEST, LIMITS, VARIANTS, assignment_doc, parent_pid, pipeline,  # noqa: F401
                      recorded_counts, slow_hello, wait_recorded)

COURSE, ASG = "cs101", "hw1"
N_JOBS = 200
KILLS = 4          # per seed: each kind once, plus one chosen at random


def _kill(spool, rng, target):
    """kill -9 of one TARGET process; returns a description (or None if
    there was none to kill at that moment)."""
    if target == "scheduler":
        spool.kill9_scheduler()
        spool.start()
        return "scheduler"
    procs = spool.shippers() if target == "shipper" else spool.worker_daemons()
    if not procs:
        return None
    pid, argv = rng.choice(sorted(procs))
    ppid = parent_pid(pid)
    if ppid is None:
        return None
    supervised = "supervised" if ppid == spool.sched.pid else "orphan"
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return None
    return f"{target} {pid} {supervised} {' '.join(argv[1:7])}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kill_9_during_a_flood_loses_nothing_and_records_once(pipeline, seed):
    rng = random.Random(seed)
    spool = pipeline()
    spool.two_workers(slots=2)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST]))
    sources = {v: spool.make_submission(v, {"hello.py": VARIANTS[v][0]}) for v in ("right", "wrong")}
    spool.start()
    spool.wait_running(slots=4, daemons=2)

    expected = {}          # job id -> score
    errors = []

    def flood():
        try:
            for i in range(N_JOBS):
                variant = "right" if i % 3 else "wrong"
                job = spool.submit(COURSE, ASG, f"s{i % 50:02d}", sources[variant])
                expected[job] = VARIANTS[variant][1]
        except BaseException as exc:   # reported by the main thread
            errors.append(exc)

    submitter = threading.Thread(target=flood)
    submitter.start()
    plan = ["scheduler", "shipper", "worker", rng.choice(["scheduler", "shipper", "worker"])]
    rng.shuffle(plan)
    done_kills = []
    try:
        for target in plan:
            time.sleep(rng.uniform(0.1, 1.2))
            what = None
            for _ in range(50):    # a process may be between restarts: try again shortly
                what = _kill(spool, rng, target)
                if what:
                    break
                time.sleep(0.1)
            assert what, f"no {target} to kill"
            done_kills.append(what)
    finally:
        submitter.join()
    assert not errors, errors
    assert len(expected) == N_JOBS, "job ids must be unique"

    results = spool.wait_results(list(expected), timeout=150)
    # A shipper removes its job just after the result appears; stopping in
    # between is safe (the job is re-adopted) but this test checks the end.
    spool.wait_for("every slot directory empty",
                   lambda: not any(spool.slot_jobs().values()))
    # the scheduler restarted everything that was killed
    spool.wait_for("every shipper and worker running again",
                   lambda: len(spool.shippers()) == 4 and len(spool.worker_daemons()) == 2)

    rc, in_time = spool.stop()
    assert in_time and rc == 0, f"scheduler exit {rc}\n{spool.scheduler_output()[-2000:]}"
    assert spool.leftovers() == [], "processes outlived the scheduler"

    ctx = f"seed {seed}, kills {done_kills}"
    rels = {}
    for job, score in expected.items():
        r = results[job]
        assert r["assay"]["job_id"] == job
        assert r["assay"]["status"] == "graded", (ctx, r["assay"])
        assert r["score"] == score, (ctx, job, r["score"], score)
        rels[job] = spool.result_rel(job)
    assert len(set(rels.values())) == N_JOBS, ctx
    assert sorted(spool.result_dirs()) == sorted(rels.values()), ctx
    for state in ("failed", "incoming", "deferred", "hold"):
        assert spool.queue(state) == [], (ctx, state, spool.queue(state)[:5])
    assert {k: v for k, v in spool.slot_jobs().items() if v} == {}, ctx
    counts = recorded_counts(spool)
    twice = {j: n for j, n in counts.items() if n > 1}
    assert twice == {}, f"{ctx}: results recorded more than once: {twice}"
    # the scheduler logged each death of a process it supervises
    lines = spool.log_lines()
    for what in done_kills:
        target, pid, supervised = (what.split() + ["", ""])[:3]
        if target in ("shipper", "worker") and supervised == "supervised":
            assert any(f"(pid {pid}) died: signal 9" in l.message for l in lines), (ctx, what)


def test_worker_killed_while_grading_leaves_no_scratch_behind(pipeline):
    """A worker daemon killed (and its graders with it) leaves work
    directories in its tmp/; the restarted daemon regrades the job and
    must not let them pile up."""
    spool = pipeline()
    # a wall limit far above the 1 s the job takes: its regrade must pass
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=10)))
    slow = spool.make_submission("slow", {"hello.py": slow_hello(1)})
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    job = spool.submit(COURSE, ASG, "alice", slow)
    spool.wait_for("the job being graded", lambda: [
        p for p in spool.processes() if "grade-one" in p[1]], interval=0.005)
    (pid, _), = spool.worker_daemons()
    os.kill(pid, signal.SIGKILL)
    r = spool.wait_results([job], timeout=40)[job]
    assert r["score"] == 2 and r["assay"]["attempts"] == 1
    assert wait_recorded(spool, [job]) == {job: 1}
    spool.wait_for("the graders to finish",
                   lambda: not [p for p in spool.processes() if "grade-one" in p[1]])
    left = poll(lambda: os.listdir(os.path.join(spool.worker_dir("local"), "tmp")), 10, 0.1,
                until=lambda names: not names)
    assert left == [], f"workers/local/tmp keeps what the killed grader left: {left}"
