"""The slurm transport against a real Slurm cluster.

A module-scoped fixture starts a private cluster with scripts/test-slurm.sh
(munged, slurmctld, slurmd w1..w3 each in a network namespace of its own,
slurmrestd with JWT tokens) and always stops it.  Each test has its own
spool whose workers.json names a pool of the cluster's partition
"assay" (tests/e2e/slurm_cluster.py); the jobs run `assay-worker
grade-archive` of this build on the nodes, in Assay's sandbox.

Needs root; skipped, with the reason, where Slurm or namespaces are missing.
"""
import collections
import os
import re
import signal
import time

import pytest

from assay_helpers import poll
from cluster import health, scheduler_running, wait_health, workers_table
from pipeline import (HI_CONTAINS_TEST, HI_TEST, LIMITS, VARIANTS, assignment_doc,  # noqa: F401
                      pipeline, slow_hello)
from slurm_cluster import slurm_cluster

COURSE = "cs101"
POOL = "hpc"


@pytest.fixture(scope="module")
def cluster():
    with slurm_cluster(3) as c:
        yield c


@pytest.fixture(autouse=True)
def quiet_cluster(cluster):
    """Each test starts with every node up and no job of an earlier test
    left in Slurm or in the shared directory; what a test broke (a node
    killed or cut off) is mended after it."""
    cluster.to_mend = []
    cluster.command("scancel", "--full", "--partition=assay")
    cluster.command("scontrol", "update", "nodename=w[1-3]", "state=resume")
    poll(lambda: [j for j in cluster.jobs() if j[2] in ("PENDING", "RUNNING", "COMPLETING")],
         30, 0.2, until=lambda left: not left)
    for sub in ("inbox", "outbox", "jobs"):
        d = os.path.join(cluster.shared, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            os.unlink(os.path.join(d, name))
    yield
    for what, k in cluster.to_mend:
        cluster.script(what, k)


def slurm_spool(pipeline, cluster, with_local=False, **extra):
    spool = pipeline()
    workers = [cluster.entry(POOL, **extra)]
    if with_local:
        workers.append({"name": "local", "transport": "local", "dir": "workers/local",
                        "slots": 2, "capabilities": ["python"]})
    spool.set_workers(workers)
    return spool


def hello(spool, name="hello", wall_s=None, tests=(HI_TEST, HI_CONTAINS_TEST)):
    limits = dict(LIMITS, wall_s=wall_s) if wall_s else None
    spool.add_assignment(COURSE, name, assignment_doc(list(tests), limits=limits))


def scores(r):
    return r["score"], [(t["name"], t["score"], t["verdict"]) for t in r["tests"]]


def recorded_lines(spool):
    """{job id: number of "result recorded" lines}."""
    counts = collections.Counter()
    for line in spool.log_lines():
        if line.message.startswith("result recorded"):
            counts[line.job] += 1
    return counts


def test_hundred_jobs_graded_once_each_with_a_local_workers_scores(pipeline, cluster):
    # The scores a local worker gives each variant.
    local = pipeline()
    hello(local)
    with scheduler_running(local):
        expected = {}
        for variant, (src, _, _) in VARIANTS.items():
            sub = local.make_submission(variant, {"hello.py": src})
            _, r = local.submit_wait(COURSE, "hello", f"ref-{variant}", sub, timeout=60)
            expected[variant] = scores(r)
    spool = slurm_spool(pipeline, cluster, slots=12)
    hello(spool)
    subs = {v: spool.make_submission(v, {"hello.py": src}) for v, (src, _, _) in VARIANTS.items()}
    names = list(VARIANTS)
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        jobs = {}
        for i in range(100):
            v = names[i % len(names)]
            jobs[spool.submit(COURSE, "hello", f"s{i:03d}", subs[v])] = v
        results = spool.wait_results(list(jobs), timeout=400)
    for job, v in jobs.items():
        assert scores(results[job]) == expected[v], (job, v)
        assert results[job]["assay"]["graded_by"]["worker"] == POOL
    counts = recorded_lines(spool)
    assert all(counts[j] == 1 for j in jobs), {j: counts[j] for j in jobs if counts[j] != 1}
    # Slurm ran each once, spread over its nodes.
    ran = [j for j in cluster.jobs() if j[1].startswith(f"assay.{POOL}.")]
    assert len(ran) == 100 and all(j[2] == "COMPLETED" for j in ran), ran[:5]
    assert len({j[3] for j in ran}) >= 2, "Slurm used a single node"


def slow_job(spool, cluster, seconds=15, wall_s=40, student="alice"):
    """Submits a hello.py that takes SECONDS; returns (job id, the Slurm
    job running it, its node) once Slurm runs it."""
    hello(spool, "slow", wall_s=wall_s, tests=(HI_TEST,))
    sub = spool.make_submission(f"slow-{student}", {"hello.py": slow_hello(seconds)})
    job = spool.submit(COURSE, "slow", student, sub)
    running = poll(lambda: [j for j in cluster.jobs() if j[1] == f"assay.{POOL}.{job}"
                            and j[2] == "RUNNING"], 60, 0.1, until=bool)
    assert running, f"Slurm never ran {job}: {cluster.jobs()}"
    return job, running[0][0], running[0][3]


def attempts_of(spool, job):
    return [line for line in spool.job_lines(job) if "attempt" in line.message]


def test_a_node_killed_mid_grading_has_the_job_graded_once_elsewhere(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, slots=2)
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        job, first, node = slow_job(spool, cluster, seconds=12)
        cluster.script("kill-node", node[1:])   # slurmd, its slurmstepd and the grader
        cluster.to_mend.append(("node-start", node[1:]))
        r = spool.wait_results([job], timeout=180)[job]
        assert r["score"] == 2 and r["assay"]["graded_by"]["worker"] == POOL
        deferred = [line for line in spool.job_lines(job) if "deferred" in line.message]
        assert len(deferred) == 1 and deferred[0].level == "warning", spool.job_lines(job)
        # Slurm either ends the job NODE_FAIL or requeues it itself; either
        # way the retry is Assay's (a new token) and Slurm's copy cancelled.
        assert re.search(rf"Slurm job {first} (ended NODE_FAIL on node {node}|lost its node "
                         rf"{node} and Slurm requeued it)", deferred[0].message), deferred[0]
        assert "not the student's" in deferred[0].message
        assert recorded_lines(spool)[job] == 1
        ran = {j[0]: (j[2], j[3]) for j in cluster.jobs() if j[1] == f"assay.{POOL}.{job}"}
        assert ran[first][0] in ("NODE_FAIL", "CANCELLED"), ran
        (second,) = [k for k in ran if k != first]
        assert ran[second][0] == "COMPLETED" and ran[second][1] != node, ran


def test_a_node_cut_off_runs_its_copy_but_only_one_result_is_recorded(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, slots=2)
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        # longer than Slurm takes to call a silent node down (SlurmdTimeout)
        job, first, node = slow_job(spool, cluster, seconds=25, wall_s=60)
        cluster.script("cut", node[1:])         # its slurmd and job keep running
        cluster.to_mend.append(("heal", node[1:]))
        r = spool.wait_results([job], timeout=180)[job]
        assert r["score"] == 2
        # The cut-off copy finishes too: its result carries the first
        # attempt's token and is dropped, logged, never recorded.
        stale = spool.wait_for("the cut-off copy's result dropped as stale", lambda: [
            line for line in spool.job_lines(job) if line.message.startswith("dropping stale")],
            timeout=60)
        assert len(stale) == 1 and stale[0].level == "warning", stale
        assert r["assay"]["attempt_token"] not in stale[0].message
        assert recorded_lines(spool)[job] == 1
        assert spool.result(job)["assay"]["attempt_token"] == r["assay"]["attempt_token"]


def test_slurmrestd_stopped_defers_jobs_with_the_reason_then_grades_them(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, slots=2)
    hello(spool)
    sub = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        cluster.script("rest-stop")
        try:
            job = spool.submit(COURSE, "hello", "bob", sub)
            h = wait_health(spool, POOL, "down", timeout=30, reason_has=("unreachable",))
            assert f"slurmrestd at {cluster.url} is unreachable" in h["reason"]
            row = workers_table(spool)[POOL]
            assert "down" in row and "slurmrestd at" in row and "unreachable" in row, row
            # Held back while the pool is down (or deferred, saying why).
            spool.wait_for("the job to wait for the pool", lambda: spool.queue("incoming") or
                           spool.queue("deferred"), timeout=30)
            for line in spool.job_lines(job):
                if "deferred" in line.message:
                    assert "slurmrestd" in line.message, line
            time.sleep(5)   # an outage, as short as shows the job waiting
            assert spool.result(job) is None
        finally:
            cluster.script("rest-start")
        r = spool.wait_results([job], timeout=120)[job]
        assert r["score"] == 3
        wait_health(spool, POOL, "up", timeout=30)
    assert recorded_lines(spool)[job] == 1


def test_slurmrestd_lost_while_a_job_waits_defers_it_with_the_reason(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, slots=2)
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        job, _, _ = slow_job(spool, cluster, seconds=8)
        cluster.script("rest-stop")
        try:
            line = spool.wait_for("the attempt deferred", lambda: [
                ln for ln in spool.job_lines(job) if "deferred" in ln.message], timeout=30)[0]
            assert f"slurmrestd at {cluster.url} is unreachable" in line.message, line
            assert spool.result(job) is None
        finally:
            cluster.script("rest-start")
        r = spool.wait_results([job], timeout=180)[job]
        assert r["score"] == 2
    assert recorded_lines(spool)[job] == 1


def test_a_bad_token_shows_the_pool_down_with_the_reason_and_loses_nothing(pipeline, cluster):
    bad = os.path.join(cluster.dir, "bad-token")
    with open(cluster.token_file) as f:
        good = f.read().strip()
    fd = os.open(bad, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fd, (good[:-6] + "AAAAAA\n").encode())   # the signature no longer matches
    os.close(fd)
    spool = slurm_spool(pipeline, cluster, slots=2, token_file=bad)
    hello(spool)
    sub = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    with scheduler_running(spool):
        h = wait_health(spool, POOL, "down", timeout=30, reason_has=("refused the token",))
        assert f"refused the token in {bad} for user root" in h["reason"], h
        assert "scontrol token username=root" in h["reason"]
        row = workers_table(spool)[POOL]
        assert "refused the token" in row, row
        job = spool.submit(COURSE, "hello", "carol", sub)
        time.sleep(3)
        assert spool.result(job) is None and not spool.queue("failed")
        assert not [j for j in cluster.jobs() if job in j[1]], "a job reached Slurm"
        # The admin puts a good token in the file: graded, nothing lost.
        with open(bad, "w") as f:
            f.write(good + "\n")
        r = spool.wait_results([job], timeout=120)[job]
        assert r["score"] == 3
    assert recorded_lines(spool)[job] == 1
