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
                      pipeline, slow_hello, wait_recorded)
from slurm_cluster import slurm_cluster
from web import Web, add_user

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
    counts = wait_recorded(spool, jobs)
    assert all(counts.get(j) == 1 for j in jobs), {j: counts.get(j) for j in jobs
                                                  if counts.get(j) != 1}
    # Each asked Slurm for the shipper's timeout (30 s margin + 1.5 x 4 s of
    # tests, in whole minutes, plus one) and the memory limit + 512 MB.
    job = next(iter(jobs))
    assert any(re.fullmatch(r"submitted to Slurm as job \d+ \(partition assay, 2 min, 768 MB\)",
                            line.message) for line in spool.job_lines(job)), spool.job_lines(job)
    # Slurm ran each once, spread over its nodes.
    ran = [j for j in cluster.jobs() if j[1] in {f"assay.{POOL}.{job}" for job in jobs}]
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
        assert wait_recorded(spool, [job]).get(job) == 1
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
        assert wait_recorded(spool, [job]).get(job) == 1
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
    assert wait_recorded(spool, [job]).get(job) == 1


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
    assert wait_recorded(spool, [job]).get(job) == 1


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
    assert wait_recorded(spool, [job]).get(job) == 1


def test_assay_workers_and_status_show_the_pools_jobs_pending_and_running(pipeline, cluster):
    # 3 nodes of 4 CPUs: 14 jobs at once leave 2 pending in Slurm.
    spool = slurm_spool(pipeline, cluster, slots=14)
    hello(spool, "slow", wall_s=40, tests=(HI_TEST,))
    sub = spool.make_submission("slow", {"hello.py": slow_hello(15)})
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        row = workers_table(spool)[POOL]
        assert cluster.url in row and "up" in row, row
        assert "Slurm partition assay UP: nodes 3 idle, 0 allocated, 0 mixed, 0 down, " \
               "0 drained; Assay jobs 0 pending and 0 running in Slurm" in row, row
        jobs = [spool.submit(COURSE, "slow", f"p{i:02d}", sub) for i in range(14)]
        busy = re.compile(r"nodes 0 idle, 3 allocated, 0 mixed, 0 down, 0 drained; "
                          r"Assay jobs 2 pending and 12 running in Slurm")
        row = spool.wait_for("assay workers to show 2 pending and 12 running", lambda: (
            lambda r: r if busy.search(r) else None)(workers_table(spool)[POOL]), timeout=40)
        status = spool.assay_ok("status")
        pools = status.split("\nPools:\n", 1)[1].splitlines()[0]
        assert pools.startswith(f"  {POOL}") and " up: Slurm partition assay UP" in pools, status
        assert busy.search(pools), pools
        # assay-web's admin page: the same line under the pool's row
        add_user(spool, "root", admin=True)
        web = Web(spool)
        try:
            c = web.client()
            assert c.login("root").status == 303
            page = c.get("/admin").text
        finally:
            web.stop()
        row = re.search(rf'<tr><td>{POOL}</td>.*?</tr>', page, re.S).group(0)
        assert '<td class="status">up</td>' in row, row
        assert re.search(r'<div class="pool">Slurm partition assay UP: nodes \d+ idle, \d+ '
                         r'allocated, 0 mixed, 0 down, 0 drained; Assay jobs \d+ pending and '
                         r'\d+ running in Slurm</div>', row), row
        results = spool.wait_results(jobs, timeout=240)
    assert all(r["score"] == 2 for r in results.values())


def test_a_slurm_pool_and_a_local_worker_share_the_queue_fairly(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, with_local=True, slots=4)
    for course in ("A", "B"):
        spool.add_assignment(course, "hw", assignment_doc([HI_TEST]))
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    # A's jobs take half a second each, so that A's flood, however quick
    # the local worker's grading, is still queued while B's jobs come
    slow = spool.make_submission("slow", {"hello.py": slow_hello(0.5)})
    with scheduler_running(spool):
        wait_health(spool, POOL, "up", timeout=30)
        for course, sub in (("A", slow), ("B", src)):   # both courses learn a grading time
            spool.submit_wait(course, "hw", "warmup", sub)
    # A's flood is queued whole before grading resumes, however slowly
    # `assay submit` runs here.
    a_jobs = [spool.submit("A", "hw", f"a{i:03d}", slow) for i in range(90)]
    with scheduler_running(spool):
        b_jobs = []
        for i in range(3):
            spool.wait_for("A's flood to progress", lambda: len(
                [j for j in a_jobs[:40] if spool.result(j)]) >= 8 * (i + 1), timeout=120)
            assert len(spool.queue("incoming")) >= 20, "the flood drained too early to test"
            b_jobs.append(spool.submit("B", "hw", f"b{i}", src))
            spool.wait_results([b_jobs[-1]], timeout=60)
        results = spool.wait_results(a_jobs + b_jobs, timeout=300)
    workers = collections.Counter(results[j]["assay"]["graded_by"]["worker"] for j in a_jobs)
    # both took jobs from the one queue (the local worker, far quicker per
    # job than Slurm's second of dispatch, takes most)
    assert workers[POOL] >= 4 and workers["local"] >= 4, workers
    assert all(r["score"] == 2 for r in results.values())

    def started(r):
        return r["assay"]["started_at"]

    # Each of B's jobs took one of the next slots to free, on either worker:
    # at most one of A's jobs per slot (4 in Slurm, 2 local) started between
    # its arrival and its start.
    for b in b_jobs:
        rb = results[b]
        overtaken = sum(1 for j in a_jobs if rb["assay"]["queued_at"] < started(results[j])
                        < started(rb))
        assert overtaken <= 6, (b, overtaken)


def test_the_sbatch_fallback_grades_without_slurmrestd(pipeline, cluster):
    spool = pipeline()
    entry = cluster.entry(POOL, api="commands", slots=4,
                          slurm_conf=os.path.join(cluster.dir, "slurm.conf"))
    for key in ("url", "user", "token_file"):
        del entry[key]
    spool.set_workers([entry])
    hello(spool)
    subs = {v: spool.make_submission(v, {"hello.py": src}) for v, (src, _, _) in VARIANTS.items()}
    with scheduler_running(spool):
        h = wait_health(spool, POOL, "up", timeout=30)
        assert h["pool"]["state"] == "UP" and h["pool"]["nodes"]["idle"] == 3, h
        jobs = {spool.submit(COURSE, "hello", f"c{i}", subs[v]): v
                for i, v in enumerate(list(VARIANTS) * 3)}
        results = spool.wait_results(list(jobs), timeout=180)
    for job, v in jobs.items():
        assert results[job]["score"] == VARIANTS[v][2], (job, v)
    ran = [j for j in cluster.jobs() if j[1] in {f"assay.{POOL}.{job}" for job in jobs}]
    assert len(ran) == 9 and all(j[2] == "COMPLETED" for j in ran), ran


def test_workers_json_mistakes_of_a_slurm_pool_name_the_key_and_the_fix(pipeline, cluster):
    spool = pipeline()
    loose = os.path.join(cluster.dir, "loose-token")
    with open(loose, "w") as f:
        f.write("x\n")
    os.chmod(loose, 0o644)
    entry = cluster.entry(POOL, shared_dir="relative/dir", api="grpc", partiton="assay")
    del entry["partition"]
    spool.set_workers([entry, cluster.entry("hpc2", token_file=loose)])
    p = spool.assay("workers", "check")
    text = p.stdout + p.stderr
    assert p.returncode != 0, text
    for want in ('$.workers[1].token_file: ' + loose + ' may be read by other users (mode 644): '
                 'chmod 600 ' + loose,
                 '$.workers[0].shared_dir: "relative/dir" must be an absolute path',
                 '$.workers[0].api: "grpc" is not one Assay has',
                 '$.workers[0].partiton: unknown key',
                 '$.workers[0].partition: required key is missing'):
        assert want in text, (want, text)


def test_workers_check_grades_the_canaries_on_the_pool_through_slurm(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster)
    p = spool.assay("workers", "check", timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(f"{POOL}: ok ({cluster.url}, assay-worker "), lines
    for kind in ("io", "pytest", "doctest", "notebook", "gradescope"):
        assert any(re.match(rf"{POOL} {kind}: ok \(3 of 3 points, ", ln) for ln in lines), lines
    canaries = [ln for ln in lines[1:] if re.match(rf"{POOL} \S+: ok ", ln)]
    assert len(canaries) == len(lines) - 1, lines
    assert p.stderr == "", p.stderr   # a canary is no job: nothing logged
    # a canary's result is written before its batch step ends: Slurm
    # marks the job completed a moment later
    ran = poll(lambda: [j for j in cluster.jobs() if j[1].startswith(f"assay.{POOL}.canary-")],
               30, 0.2, until=lambda jobs: all(j[2] in ("COMPLETED", "COMPLETING") for j in jobs))
    assert len(ran) == len(canaries), (ran, canaries)
    assert all(j[2] in ("COMPLETED", "COMPLETING") for j in ran), ran
    assert not os.listdir(os.path.join(cluster.shared, "outbox")), "canary results left behind"


def test_a_job_slurm_refuses_is_deferred_with_slurms_reason(pipeline, cluster):
    spool = slurm_spool(pipeline, cluster, slots=2)
    hello(spool)
    sub = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    # Each job asks for 2 minutes; the partition now allows 1.
    cluster.command("scontrol", "update", "partitionname=assay", "maxtime=1")
    try:
        with scheduler_running(spool):
            wait_health(spool, POOL, "up", timeout=30)
            job = spool.submit(COURSE, "hello", "dana", sub)
            line = spool.wait_for("the attempt deferred", lambda: [
                ln for ln in spool.job_lines(job) if "deferred" in ln.message], timeout=60)[0]
            assert line.message.endswith(
                "cannot deliver the job to worker hpc: cannot submit to partition assay: "
                "Requested partition configuration not available now"), line
            cluster.command("scontrol", "update", "partitionname=assay", "maxtime=infinite")
            r = spool.wait_results([job], timeout=120)[job]
            assert r["score"] == 3
    finally:
        cluster.command("scontrol", "update", "partitionname=assay", "maxtime=infinite")
    assert wait_recorded(spool, [job]).get(job) == 1
