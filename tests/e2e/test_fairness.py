"""Fair sharing of the worker pool across courses, end to end.

Course A floods the queue with 300 submissions; course B submits 5, one
at a time, while A's flood is being graded.  Under the fair policy (the
default) each of B's jobs starts before more than one of A's jobs per
slot has started after its arrival, and every one of A's 300 jobs is
graded; under --policy fcfs the same run makes B wait behind A's
backlog.  The order is read from the results' own timestamps (queued_at,
started_at), so the assertions count jobs, not seconds.
"""
import concurrent.futures
import os

from pipeline import HI_TEST, assignment_doc, parse_time, pipeline  # noqa: F401

FLOOD = 300
SLOTS = 2          # `assay init` makes one local worker with two slots
SHIPPERS = 3       # ... and prefetch 1: one more shipper
B_JOBS = 5


def started(r):
    return parse_time(r["assay"]["started_at"])


def queued(r):
    return parse_time(r["assay"]["queued_at"])


def graded_students(spool, course):
    """How many students of COURSE have a result (one submission each here)."""
    try:
        return len(os.listdir(spool.path("results", course, "hw")))
    except FileNotFoundError:
        return 0


def flood_run(pipeline, *sched_args):
    """Warms up both courses (so both have a learnt grading time), floods A,
    submits B's jobs one at a time during the flood; returns the results of
    A's and of B's jobs."""
    spool = pipeline()
    for course in ("A", "B"):
        spool.add_assignment(course, "hw", assignment_doc([HI_TEST]))
    src = spool.make_submission("right", {"hello.py": "print('hi')\n"})
    spool.start(*sched_args)
    spool.wait_running(slots=SHIPPERS, daemons=1)
    for course in ("A", "B"):
        spool.submit_wait(course, "hw", "warmup", src)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        a_jobs = list(pool.map(lambda i: spool.submit("A", "hw", f"a{i:03d}", src),
                               range(FLOOD)))
    b_jobs = []
    for i in range(B_JOBS):
        # submit during the flood: while a good part of A's jobs still wait
        spool.wait_for("A's flood to progress",
                       lambda: graded_students(spool, "A") >= 20 * (i + 1) + 1, timeout=60)
        assert len(spool.queue("incoming")) >= 100, "the flood drained too early to test"
        b_jobs.append(spool.submit("B", "hw", f"b{i}", src))
        if sched_args:   # FCFS: B's jobs wait for the flood anyway; no need to pace them
            continue
        spool.wait_results([b_jobs[-1]], timeout=60)
    results = spool.wait_results(a_jobs + b_jobs, timeout=180)
    return [results[j] for j in a_jobs], [results[j] for j in b_jobs]


def a_started_during(a_results, b):
    """How many of A's jobs started after B's job was queued and before it started."""
    return sum(1 for r in a_results if queued(b) < started(r) < started(b))


def test_small_course_is_not_stuck_behind_a_flood(pipeline):
    a, b = flood_run(pipeline)
    # every job of the flood is graded, exactly as submitted
    assert len(a) == FLOOD
    assert all(r["score"] == 2 and r["assay"]["status"] == "graded" for r in a)
    assert all(r["score"] == 2 for r in b)
    # each of B's jobs took the next slot that freed: at most one of A's
    # jobs per slot started between its arrival and its start
    overtaken = [a_started_during(a, r) for r in b]
    print("A jobs started while each B job waited:", overtaken)
    assert max(overtaken) <= SLOTS, overtaken


def test_fcfs_makes_the_small_course_wait(pipeline):
    a, b = flood_run(pipeline, "--policy", "fcfs")
    assert all(r["score"] == 2 for r in a + b)
    # first come, first served: all of A's earlier flood went first
    overtaken = [a_started_during(a, r) for r in b]
    print("A jobs started while each B job waited:", overtaken)
    assert min(overtaken) >= 100 - SLOTS, overtaken
