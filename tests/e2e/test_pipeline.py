"""The spool pipeline end to end, with real processes.

`assay submit` -> assay-scheduler -> assay-shipper per slot ->
assay-worker -> results/: every job graded exactly once with its history,
a stopped worker's job deferred and graded elsewhere, the command-line
views (status, results, hold/release/requeue, regrade, logs), bad input
(malformed job files, unknown assignments, a second version while the
first is queued, a full disk) and a graceful stop.  Crash safety (kill -9)
is in test_crash.py.  Every test runs its own spool and scheduler
(pipeline.py) and waits with deadlines, never on timings.
"""
import concurrent.futures
import json
import os
import re
import signal
import time

import pytest

from pipeline import (HI_CONTAINS_TEST, HI_TEST, IS_ROOT, LIMITS, VARIANTS, assignment_doc,
                      parse_time, pipeline, recorded_counts, slow_hello)  # noqa: F401

COURSE, ASG = "cs101", "hw1"


def check_history(r, job, workers=("local",)):
    """The queue fields of results.json (DESIGN.md section 4) for one attempt."""
    a = r["assay"]
    assert a["job_id"] == job
    assert a["status"] == "graded", a
    queued, started, finished = (parse_time(a[k]) for k in ("queued_at", "started_at",
                                                             "finished_at"))
    assert queued <= started <= finished, a
    assert a["wait_s"] >= 0 and a["grading_s"] >= 0, a
    assert a["graded_by"]["worker"] in workers, a
    assert a["graded_by"]["slot"] in (1, 2), a


def assert_queues_empty(spool, states=("incoming", "deferred", "failed", "hold")):
    for state in states:
        assert spool.queue(state) == [], f"{state}/ is not empty: {spool.queue(state)[:5]}"
    busy = {k: v for k, v in spool.slot_jobs().items() if v}
    assert not busy, f"jobs left in slot directories: {busy}"


# ---- 1. many submissions, two workers, each graded exactly once ----

def test_200_submissions_two_workers_graded_exactly_once(pipeline):
    spool = pipeline()
    spool.two_workers(slots=2)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST, HI_CONTAINS_TEST]))
    sources = {v: spool.make_submission(v, {"hello.py": VARIANTS[v][0]}) for v in VARIANTS}
    spool.start()
    spool.wait_running(slots=4, daemons=2)

    # 100 students, two versions each; the variant decides the score
    plan = []
    for i in range(200):
        variant = ("right", "close", "wrong")[(i * 7) % 3]
        plan.append((f"s{i % 100:03d}", variant))
    expected = {}

    def submit(item):
        student, variant = item
        return spool.submit(COURSE, ASG, student, sources[variant]), variant

    # each student's versions in order: first all version 1, then all version 2
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for half in (plan[:100], plan[100:]):
            for job, variant in pool.map(submit, half):
                expected[job] = variant
    assert len(expected) == 200, "job ids must be unique"

    results = spool.wait_results(list(expected), timeout=120)

    rels = {}
    for job, variant in expected.items():
        r = results[job]
        rel = spool.result_rel(job)
        rels[job] = rel
        m = re.fullmatch(rf"results/{COURSE}/{ASG}/(s\d\d\d)/([12])", rel)
        assert m, f"jobs/{job} points to {rel}"
        assert r["score"] == VARIANTS[variant][2], (job, variant, r["score"])
        assert r["max_score"] == 3
        check_history(r, job, workers=("local", "w2"))
        a = r["assay"]
        assert a["attempts"] == 1, a
        assert (a["course"], a["assignment"], a["student"], a["version"]) == (
            COURSE, ASG, m.group(1), int(m.group(2)))
        # the student view written beside it says the same
        with open(spool.path(rel, "results.student.json")) as f:
            assert json.load(f)["score"] == r["score"]
    assert len(set(rels.values())) == 200, "two jobs share a result directory"
    assert sorted(spool.result_dirs()) == sorted(rels.values())
    used = {results[j]["assay"]["graded_by"]["worker"] for j in expected}
    assert used == {"local", "w2"}, f"workers used: {used}"

    counts = recorded_counts(spool)
    assert {j: counts.get(j, 0) for j in expected} == {j: 1 for j in expected}
    assert set(counts) <= set(expected)

    rc, in_time = spool.stop()
    assert in_time and rc == 0, f"scheduler exit {rc}"
    assert spool.leftovers() == []
    assert_queues_empty(spool)
    # nothing left over in the spool's or the workers' scratch directories
    assert os.listdir(spool.path("tmp")) == [], os.listdir(spool.path("tmp"))[:5]
    for w in ("local", "w2"):
        for sub in ("inbox", "active", "outbox", "tmp"):
            left = os.listdir(spool.path("workers", w, sub))
            assert left == [], f"workers/{w}/{sub}: {left[:5]}"
