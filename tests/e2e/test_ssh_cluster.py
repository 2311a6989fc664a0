"""Remote workers over SSH, against real OpenSSH hosts.

A module-scoped fixture builds three worker hosts with
scripts/test-cluster.sh -- network namespaces 10.X.k.2 each running
Debian's sshd and assay-worker -- and always tears them down:

    h1  python          h2  python          h3  python,gpu

Each test has its own spool (workers.json from the cluster's entries)
and its own scheduler, stopped with SIGTERM at the end (no assay-shipper
may survive it).  Packets go only to 10.X.k.2 and loopback: a link is
"cut" by taking down the namespace's end of its veth pair, so the host's
end keeps its route and nothing leaves the machine.

Needs root and `ip netns`; the module is skipped, with the reason, where
they are missing.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from assay_helpers import exe, poll
from cluster import health, make_cluster, scheduler_running, wait_health, workers_table
from pipeline import (HI_TEST, LIMITS, VARIANTS, assignment_doc, pipeline,  # noqa: F401
                      recorded_counts, slow_hello, wait_recorded)

HOSTS = ["h1", "h2", "h3"]
CAPS = ["python", "python", "python,gpu"]
COURSE = "cs101"


@pytest.fixture(scope="module")
def cluster():
    with make_cluster(3, CAPS) as c:
        yield c


@pytest.fixture(autouse=True)
def quiet_hosts(cluster):
    """Each test starts with idle hosts and empty outboxes (a previous test's
    late results would otherwise be dropped as stale in this test's log)."""
    for k in range(1, cluster.n + 1):
        if k in cluster.cut_links:
            cluster.restore(k)
    poll(lambda: not any(cluster.archives(k, "inbox") or cluster.archives(k, "active")
                         for k in range(1, cluster.n + 1)), 30, 0.1)
    for k in range(1, cluster.n + 1):
        for name in cluster.archives(k, "outbox"):
            try:
                os.unlink(os.path.join(cluster.worker_dir(k), "outbox", name))
            except FileNotFoundError:
                pass
    yield


def worker_version():
    out = subprocess.run([exe("assay-worker"), "--version"], capture_output=True,
                         text=True, timeout=10).stdout
    return out.split()[-1]


def wait_up(spool, names=HOSTS, timeout=30):
    return {n: wait_health(spool, n, "up", timeout=timeout) for n in names}


def graded_by(r):
    gb = r["assay"].get("graded_by") or {}
    return gb.get("worker"), gb.get("slot")


def hello_assignment(spool, name, capability="python", seconds=None, wall_s=None):
    limits = dict(LIMITS, wall_s=wall_s) if wall_s else None
    spool.add_assignment(COURSE, name, assignment_doc([HI_TEST], capability=capability,
                                                      limits=limits))
    src = VARIANTS["right"][0] if seconds is None else slow_hello(seconds)
    return spool.make_submission(f"{name}-src", {"hello.py": src})


def split_archive(name):
    """"ID.TOKEN.zip" -> (ID, TOKEN); job ids hold a dot themselves."""
    job, _, token = name[:-len(".zip")].rpartition(".")
    return job, token


def assert_graded_ok(r, job):
    a = r["assay"]
    assert a["job_id"] == job
    assert a["status"] == "graded", f"job {job} not graded: {a.get('error')}"
    assert r["score"] == 2, f"job {job} scored {r['score']}: {r['tests']}"


# ---------------------------------------------------------------------------
# 6. the list and the check


def test_workers_lists_three_hosts_up_and_check_says_ok(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    version = worker_version()
    with scheduler_running(spool):
        records = wait_up(spool)
        for name, h in records.items():
            assert h.get("version") == version, f"health/{name}.json: {h}"
            assert isinstance(h.get("free_mb"), (int, float)) and h["free_mb"] > 0, h
            assert h.get("since") and h.get("last_contact"), h

        rows = {r["name"]: r for r in spool.assay_json("workers")}
        assert sorted(rows) == HOSTS
        for k, name in enumerate(HOSTS, 1):
            r = rows[name]
            assert r["transport"] == "ssh" and r["host"] == cluster.address(k), r
            assert r["status"] == "up", r
            assert r["version"] == version, r
            assert r["capabilities"] == CAPS[k - 1].split(","), r
            assert r["slots"] == 2, r

        table = workers_table(spool)
        assert sorted(table) == HOSTS, table
        for k, name in enumerate(HOSTS, 1):
            cols = table[name].split()
            assert "up" in cols and version in cols and CAPS[k - 1] in cols, table[name]

        p = spool.assay("workers", "check", timeout=300)
        assert p.returncode == 0, f"assay workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
        # one line per worker, then one per canary grading (tests/e2e/test_canary.py)
        lines = [l for l in p.stdout.splitlines() if re.match(r"h\d: ", l)]
        assert len(lines) == 3, p.stdout
        for name, line in zip(HOSTS, lines):
            assert line.startswith(f"{name}: ok"), p.stdout
            canaries = [l for l in p.stdout.splitlines() if l.startswith(f"{name} ")]
            assert len(canaries) == 6 and all(": ok (" in l for l in canaries), p.stdout


# ---------------------------------------------------------------------------
# 1. capability pools


def test_jobs_land_only_on_workers_offering_their_capability(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    py_src = hello_assignment(spool, "hw-py", "python")
    gpu_src = hello_assignment(spool, "hw-gpu", "gpu")
    nb_src = hello_assignment(spool, "hw-nb", "notebook")
    with scheduler_running(spool):
        wait_up(spool)
        gpu_jobs, py_jobs = [], []
        for i in range(8):
            gpu_jobs.append(spool.submit(COURSE, "hw-gpu", f"g{i}", gpu_src))
            py_jobs.append(spool.submit(COURSE, "hw-py", f"p{i}", py_src))
        nb_job = spool.submit(COURSE, "hw-nb", "nb0", nb_src)
        results = spool.wait_results(gpu_jobs + py_jobs, timeout=120)

        for j in gpu_jobs:
            assert_graded_ok(results[j], j)
            assert graded_by(results[j])[0] == "h3", \
                f"gpu job {j} was graded by {graded_by(results[j])}; only h3 offers gpu"
        for j in py_jobs:
            assert_graded_ok(results[j], j)
            assert graded_by(results[j])[0] in HOSTS, graded_by(results[j])

        # the notebook job: no worker offers "notebook", so it waits
        assert f"{nb_job}.json" in spool.queue("incoming"), \
            f"notebook job {nb_job} left incoming/: slots {spool.slot_jobs()}"
        assert spool.result(nb_job) is None
        st = spool.assay_json("status")
        stuck = {s["job"]: s for s in st["cannot_run"]}
        assert nb_job in stuck, f"cannot_run does not list the notebook job: {st['cannot_run']}"
        assert "notebook" in stuck[nb_job]["reason"], stuck[nb_job]
        assert set(stuck) == {nb_job}, st["cannot_run"]
        assert f"{nb_job}.json" in spool.queue("incoming")


# ---------------------------------------------------------------------------
# 2. a flood of 300 jobs


def test_300_jobs_each_graded_exactly_once_across_the_cluster(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    spool.add_assignment(COURSE, "flood", assignment_doc([HI_TEST]))
    sources = {v: spool.make_submission(v, {"hello.py": VARIANTS[v][0]}) for v in VARIANTS}
    order = ["right", "wrong", "close"]
    with scheduler_running(spool):
        wait_up(spool)
        expected = {}            # job -> (student, version, score)
        for version in (1, 2, 3):
            for s in range(100):
                variant = order[(s + version) % 3]
                student = f"s{s:03d}"
                job = spool.submit(COURSE, "flood", student, sources[variant])
                expected[job] = (student, version, VARIANTS[variant][1])
        assert len(expected) == 300
        results = spool.wait_results(list(expected), timeout=240)
        counts = wait_recorded(spool, list(expected))

        dirs = spool.result_dirs()
        want_dirs = sorted(f"results/{COURSE}/flood/{u}/{v}" for u, v, _ in expected.values())
        assert dirs == want_dirs, "not exactly one results directory per submission version"
        used = {}
        for job, (student, version, score) in expected.items():
            r = results[job]
            a = r["assay"]
            assert a["job_id"] == job and a["student"] == student and a["version"] == version, a
            assert spool.result_rel(job) == f"results/{COURSE}/flood/{student}/{version}"
            assert a["status"] == "graded", a
            assert r["score"] == score, (job, r["score"], score)
            worker, slot = graded_by(r)
            assert worker in HOSTS and slot in (1, 2), a
            assert a["attempts"] == 1, a
            for key in ("queued_at", "started_at", "finished_at"):
                assert a.get(key), f"{key} missing: {a}"
            assert counts.get(job) == 1, f"job {job} recorded {counts.get(job)} times"
            used.setdefault(worker, []).append(job)
        assert set(used) == set(HOSTS), f"not every host graded: { {w: len(j) for w, j in used.items()} }"
        assert not spool.queue("incoming") and not spool.queue("deferred") and not spool.queue("failed")
        assert not any(spool.slot_jobs().values()), spool.slot_jobs()

        # h2's own lines, brought back over SSH with its results, each
        # written by the job's shipper: "worker: " and h2's line
        out = spool.assay_ok("logs", "--worker", "h2")
        started, graded = set(), set()
        for line in out.splitlines():
            parts = line.split(" ", 5)
            if len(parts) < 6:
                continue
            proc, worker, job, msg = parts[1], parts[2], parts[3], parts[5]
            assert worker == "h2", f"`assay logs --worker h2` printed another worker's line: {line}"
            sent = msg[len("worker: "):].split(" ", 5) if msg.startswith("worker: ") else []
            if (proc.startswith("assay-shipper[") and len(sent) == 6 and
                    sent[1].startswith("assay-worker[") and sent[3] == job):
                if sent[5].startswith("grading started"):
                    started.add(job)
                elif sent[5].startswith("graded"):
                    graded.add(job)
        h2_jobs = set(used["h2"])
        assert h2_jobs <= started, (f"{len(h2_jobs - started)} of h2's {len(h2_jobs)} jobs have no "
                                    f"\"grading started\" line from h2's assay-worker")
        assert h2_jobs <= graded, (f"{len(h2_jobs - graded)} of h2's {len(h2_jobs)} jobs have no "
                                   f"\"graded\" line from h2's assay-worker")
        assert not (started - h2_jobs), "h2's log lines name jobs h2 did not grade"
        one = sorted(h2_jobs)[0]
        out = spool.assay_ok("logs", "--job", one)
        assert re.search(r"assay-shipper\[\d+\] h2 " + re.escape(one) + r" info worker: \S+ "
                         r"assay-worker\[\d+\] h2 " + re.escape(one) + r" info grading started",
                         out), out
        assert "result recorded" in out, out

        # No attempt failed, so no result was stale: a "dropping stale result"
        # line here would be a false alarm about a result already recorded.
        stale = [l for l in spool.log_lines() if "dropping stale result" in l.message]
        assert not stale, ("results of current attempts, already recorded, were reported and "
                           "dropped as stale:\n" + "\n".join(l.raw for l in stale[:5]))


# ---------------------------------------------------------------------------
# 3. a link cut mid-job


def test_link_cut_mid_job_regrades_elsewhere_once_and_drops_the_late_result(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries(common={"timeout_margin_s": 2}))
    src = hello_assignment(spool, "slow", seconds=2, wall_s=4)
    with scheduler_running(spool):
        wait_up(spool)
        jobs = [spool.submit(COURSE, "slow", f"s{i}", src) for i in range(6)]

        def h1_grading():
            active = cluster.archives(1, "active")
            return active if active else None
        spool.wait_for("a job being graded on h1", h1_grading, timeout=30, interval=0.01)
        cluster.cut(1)
        try:
            in_flight = cluster.archives(1, "active") + cluster.archives(1, "inbox")
            h1_jobs = sorted({n for s, names in spool.slot_jobs().items() if s.startswith("h1.")
                              for n in names})
            h1_jobs = [n[:-len(".json")] for n in h1_jobs]
            mid_job = {split_archive(n)[0]: n for n in in_flight}   # job id -> ID.TOKEN.zip
            assert mid_job, "no job was on h1 when its link was cut"
            assert set(mid_job) <= set(h1_jobs), (mid_job, h1_jobs)

            h = wait_health(spool, "h1", "down", timeout=90)
            assert h.get("reason"), h
            row = workers_table(spool)["h1"]
            assert row.split()[3] == "down", f"`assay workers` does not show h1 down:\n{row}"
            assert any(l.message.startswith("worker h1 is down") for l in spool.log_lines()), \
                "no log line says worker h1 is down"

            results = spool.wait_results(jobs, timeout=120)
            for j in jobs:
                assert_graded_ok(results[j], j)
            for j in mid_job:
                r = results[j]
                assert graded_by(r)[0] in ("h2", "h3"), \
                    f"job {j}, cut off on h1, was recorded from {graded_by(r)}"
                assert r["assay"]["attempts"] == 2, r["assay"]
                assert any(l.message.startswith("attempt 1 deferred") for l in spool.job_lines(j)), \
                    f"no \"attempt 1 deferred\" line for {j}"
            # nothing lost meanwhile
            assert not spool.queue("failed"), spool.queue("failed")
        finally:
            cluster.restore(1)

        wait_health(spool, "h1", "up", timeout=90)
        for j, name in mid_job.items():
            spool.wait_for(f"the stale result {name} dropped",
                           lambda: any("dropping stale result" in l.message and name in l.message
                                       for l in spool.log_lines()), timeout=60)
            r = spool.result(j)
            assert r["assay"]["attempt_token"] != split_archive(name)[1], \
                f"the result of {j} is h1's late one"
            assert graded_by(r)[0] in ("h2", "h3"), graded_by(r)
        spool.wait_for("h1's outbox emptied", lambda: not cluster.archives(1, "outbox"),
                       timeout=30)
        counts = recorded_counts(spool)
        for j in jobs:
            assert counts.get(j) == 1, f"job {j} recorded {counts.get(j)} times"
        assert len(spool.result_dirs()) == len(jobs)
        assert not spool.queue("incoming") and not spool.queue("deferred") and not spool.queue("failed")

        # The stale result is about one job: `assay logs --job ID` shows it.
        for j, name in mid_job.items():
            out = spool.assay_ok("logs", "--job", j)
            assert "dropping stale result" in out, (
                f"`assay logs --job {j}` does not show that h1's late result {name} was dropped "
                f"(the log line names no job):\n{out}")


# ---------------------------------------------------------------------------
# 4. host keys


def _known_hosts_file(spool, cluster, lines):
    path = os.path.join(spool.base, "known_hosts")
    with open(path, "w") as f:
        f.writelines(lines)
    return path


def test_changed_host_key_is_refused_with_a_clear_message(cluster, pipeline):
    spool = pipeline()
    fake = os.path.join(spool.base, "fake_host_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", fake], check=True,
                   capture_output=True, timeout=30)
    with open(fake + ".pub") as f:
        kind, blob = f.read().split()[:2]
    kh = _known_hosts_file(spool, cluster, [f"{cluster.address(1)} {kind} {blob}\n",
                                            cluster.host_key_line(2), cluster.host_key_line(3)])
    spool.set_workers(cluster.all_entries(common={"known_hosts": kh}))
    fp = cluster.fingerprint(1)
    src = hello_assignment(spool, "hw")
    with scheduler_running(spool):
        h = wait_health(spool, "h1", "down", timeout=30)
        for word in ("REFUSED", "CHANGED", fp):
            assert word in h["reason"], f"h1's reason lacks {word!r}: {h['reason']}"
        wait_up(spool, ["h2", "h3"])
        down = [l for l in spool.log_lines() if l.message.startswith("worker h1 is down")]
        assert down and "REFUSED" in down[0].message and fp in down[0].message, down

        p = spool.assay("workers", "check", timeout=120)
        assert p.returncode == 1, f"workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
        h1_lines = [l for l in p.stdout.splitlines() if l.startswith("h1:")]
        assert len(h1_lines) == 1, p.stdout
        for word in ("REFUSED", "CHANGED", fp):
            assert word in h1_lines[0], f"check's line lacks {word!r}: {h1_lines[0]}"
        assert any(l.startswith("h2: ok") for l in p.stdout.splitlines()), p.stdout
        assert any(l.startswith("h3: ok") for l in p.stdout.splitlines()), p.stdout

        jobs = [spool.submit(COURSE, "hw", f"s{i}", src) for i in range(8)]
        results = spool.wait_results(jobs, timeout=60)
        for j in jobs:
            assert_graded_ok(results[j], j)
            assert graded_by(results[j])[0] in ("h2", "h3"), graded_by(results[j])
        assert not cluster.archives(1, "inbox") and not cluster.archives(1, "outbox")


def test_unknown_host_is_refused_and_named(cluster, pipeline):
    spool = pipeline()
    kh = _known_hosts_file(spool, cluster, [cluster.host_key_line(2), cluster.host_key_line(3)])
    spool.set_workers(cluster.all_entries(common={"known_hosts": kh}))
    fp = cluster.fingerprint(1)
    p = spool.assay("workers", "check", "h1", timeout=60)
    assert p.returncode == 1, f"workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
    lines = [l for l in p.stdout.splitlines() if l.strip()]
    assert len(lines) == 1 and lines[0].startswith("h1:"), p.stdout
    for word in ("REFUSED", "is not in", fp, kh):
        assert word in lines[0], f"check's line lacks {word!r}: {lines[0]}"
    with scheduler_running(spool):
        h = wait_health(spool, "h1", "down", timeout=30)
        assert "is not in" in h["reason"] and fp in h["reason"], h


def test_known_hosts_key_of_a_type_the_host_lacks_is_named_with_the_fix(cluster, pipeline):
    # h1 has only an ed25519 host key; known_hosts lists an ECDSA key for it,
    # as if copied from an older installation
    spool = pipeline()
    fake = os.path.join(spool.base, "old_ecdsa_host_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-f", fake], check=True,
                   capture_output=True, timeout=30)
    with open(fake + ".pub") as f:
        kind, blob = f.read().split()[:2]
    assert kind == "ecdsa-sha2-nistp256"
    kh = _known_hosts_file(spool, cluster, [cluster.host_key_line(2),
                                            f"{cluster.address(1)} {kind} {blob}\n",
                                            cluster.host_key_line(3)])
    spool.set_workers(cluster.all_entries(common={"known_hosts": kh}))
    expected = (f"REFUSED: worker h1 ({cluster.address(1)} port 22) has no host key of the "
                f"type {kh} lists for it (line 2, ecdsa-sha2-nistp256); it offers ssh-ed25519 "
                f"{cluster.fingerprint(1)}. Check that fingerprint on the host (ssh-keygen -lf "
                f"/etc/ssh/ssh_host_*_key.pub), then replace the line with the output of "
                f"`ssh-keyscan -t ed25519 -p 22 {cluster.address(1)}`")
    p = spool.assay("workers", "check", "h1", timeout=60)
    assert p.returncode == 1, f"workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
    assert p.stdout == f"h1: PROBLEM: {expected}\n"
    with scheduler_running(spool):
        h = wait_health(spool, "h1", "down", timeout=30)
        assert h["reason"] == expected
        wait_up(spool, ["h2", "h3"])


# ---------------------------------------------------------------------------
# 5. a full disk


def test_worker_low_on_disk_refuses_and_jobs_go_elsewhere(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries(h2={"min_free_mb": 10 ** 9}))
    src = hello_assignment(spool, "hw")
    with scheduler_running(spool):
        h = wait_health(spool, "h2", "refusing", timeout=30)
        assert "disk" in h["reason"], h
        wait_up(spool, ["h1", "h3"])
        row = workers_table(spool)["h2"]
        assert row.split()[3] == "refusing" and "disk" in row, row
        jobs = [spool.submit(COURSE, "hw", f"s{i}", src) for i in range(12)]
        results = spool.wait_results(jobs, timeout=60)
        for j in jobs:
            assert_graded_ok(results[j], j)
            assert graded_by(results[j])[0] in ("h1", "h3"), graded_by(results[j])
        assert health(spool, "h2")["status"] == "refusing"
        p = spool.assay("workers", "check", timeout=120)
        assert p.returncode == 1, p.stdout
        assert any(l.startswith("h2: PROBLEM") and "disk" in l for l in p.stdout.splitlines()), p.stdout


# ---------------------------------------------------------------------------
# 7. a worker's stack trace comes back, marked with its name


def test_worker_stack_trace_lands_in_the_central_trace_log(cluster, pipeline):
    """A crash of the grader is provoked from outside: SIGSEGV to h3's
    grader (`assay-worker grade-one JOB_ID`) while it grades a slow job.  Its crash
    handler writes the backtrace, the daemon sends it back with an error
    result, and the shipper appends it to logs/traces.log marked
    "[worker h3 job ID]".  The crash is that attempt's failure, not the
    student's: the job is graded again (on h3, the only gpu worker)."""
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    src = hello_assignment(spool, "crashy", "gpu", seconds=3, wall_s=6)
    with scheduler_running(spool):
        wait_up(spool)
        job = spool.submit(COURSE, "crashy", "alice", src)

        def grader():
            return cluster.grader_pids(3).get(job)
        pid = spool.wait_for("h3's grader of the job", grader, timeout=30, interval=0.01)
        time.sleep(0.3)    # let it get into grading
        os.kill(pid, signal.SIGSEGV)
        r = spool.wait_results([job], timeout=60)[job]
        a = r["assay"]
        assert_graded_ok(r, job)
        assert a["attempts"] == 2 and graded_by(r)[0] == "h3", a
        assert any(l.level == "error" and l.message.startswith(
            "attempt 1: infrastructure failure on worker h3: The grader on worker h3 was killed "
            "by signal 11 (Segmentation fault)") for l in spool.job_lines(job)), \
            spool.job_lines(job)

        with open(spool.path("logs", "traces.log"), errors="replace") as f:
            traces = f.read().splitlines()
        mark = f"[worker h3 job {job}] "
        idx = [i for i, l in enumerate(traces) if l.startswith(mark)]
        assert idx, f"no trace line marked {mark!r} in logs/traces.log:\n" + "\n".join(traces[-20:])
        assert idx == list(range(idx[0], idx[0] + len(idx))), "the trace's lines are not together"
        body = [traces[i][len(mark):] for i in idx]
        assert "fatal signal 11" in body[0], body[:3]
        assert len(body) > 2, f"the trace has no frames: {body}"
        assert any(l.message.startswith("worker h3 sent back a stack trace")
                   for l in spool.job_lines(job)), spool.job_lines(job)
        out = spool.assay_ok("logs", "--job", job)
        assert mark.strip() in out and "fatal signal 11" in out, out
