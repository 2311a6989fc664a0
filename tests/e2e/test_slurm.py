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
    left in Slurm or in the shared directory."""
    cluster.command("scancel", "--full", "--partition=assay")
    cluster.command("scontrol", "update", "nodename=w[1-3]", "state=resume")
    poll(lambda: [j for j in cluster.jobs() if j[2] in ("PENDING", "RUNNING", "COMPLETING")],
         30, 0.2, until=lambda left: not left)
    for sub in ("inbox", "outbox", "jobs"):
        d = os.path.join(cluster.shared, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            os.unlink(os.path.join(d, name))
    yield


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
