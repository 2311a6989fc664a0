"""A worker that stops grading, over SSH: its grading daemon killed or
stopped, its link cut, its sshd killed.

A module-scoped fixture builds two worker hosts with scripts/test-cluster.sh
(network namespaces, each with Debian's sshd and an assay-worker of 2
slots), h1 and h2, both offering "python".  Each test fills the four
slots with slow jobs, breaks h1 while two of them are being graded there,
and checks what an admin and a student would see:

- h1 is marked down in health/h1.json, with a reason naming the real
  cause (the daemon and that sshd answers; or the link; or sshd), shown
  by `assay workers` and failed by `assay workers check`;
- the central log has the error line `worker h1 is down: ...` and, for
  each job that was on h1, a warning `attempt 1 deferred ...` naming the
  same cause -- not the job's deadline;
- those jobs are graded again on h2, with the right score, each recorded
  exactly once; nothing is lost or failed;
- jobs submitted while h1 is down all go to h2: no attempt starts on h1;
- once the fault is repaired h1 is up again and grades again.

Two more: h1's SSH sessions dying (sshd's children killed, its listener
alive) is reported as a lost session and is no outage, never as a
permission problem; and h1's disk filling while it grades is seen from
what it says while the jobs run, before they end.

The deadlines of the slow jobs are far beyond the time the faults take
to be noticed, so a job given back only at its deadline would show in the
reasons; no test asserts a duration.  bench/detect.py measures them.

Needs root and `ip netns`; skipped, with the reason, where they are missing.
"""
import os
import signal

import pytest

from assay_helpers import poll
from cluster import make_cluster, scheduler_running, wait_health, workers_table
from pipeline import HI_TEST, LIMITS, VARIANTS, assignment_doc, pipeline  # noqa: F401
from pipeline import slow_hello, wait_recorded

COURSE = "cs101"
SLOW_S = 12          # a job on h1 is still being graded when h1 is broken
SLOW_WALL_S = 40     # deadline 1.5 * 40 + 10 = 70 s: far beyond any detection


@pytest.fixture(scope="module")
def cluster():
    with make_cluster(2, ["python", "python"]) as c:
        yield c


@pytest.fixture(autouse=True)
def quiet_hosts(cluster):
    """Each test starts with both hosts whole and idle and their outboxes
    empty (what a repaired h1 regrades from its active/ comes back late)."""
    for k in (1, 2):
        if k in cluster.cut_links:
            cluster.restore(k)
    poll(lambda: not any(cluster.archives(k, "inbox") or cluster.archives(k, "active")
                         for k in (1, 2)), 90, 0.1)
    for k in (1, 2):
        for name in cluster.archives(k, "outbox"):
            try:
                os.unlink(os.path.join(cluster.worker_dir(k), "outbox", name))
            except FileNotFoundError:
                pass
    yield


def graded_by(r):
    return (r["assay"].get("graded_by") or {}).get("worker")


def setup_spool(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    spool.add_assignment(COURSE, "slow", assignment_doc(
        [HI_TEST], limits=dict(LIMITS, wall_s=SLOW_WALL_S)))
    spool.add_assignment(COURSE, "quick", assignment_doc([HI_TEST]))
    slow = spool.make_submission("slow-src", {"hello.py": slow_hello(SLOW_S)})
    quick = spool.make_submission("quick-src", {"hello.py": VARIANTS["right"][0]})
    return spool, slow, quick


def attempts_started_on(spool, worker, jobs):
    """Log lines of JOBS saying an attempt started in a slot of WORKER."""
    return [l.raw for l in spool.log_lines()
            if l.job in jobs and l.message.startswith("attempt ") and
            f" started in slot {worker}." in l.message]


def fill_and_break(cluster, spool, slow, breaks, assignment="slow"):
    """Four slow jobs (of ASSIGNMENT) fill the four slots; once h1 grades
    two of them, BREAKS(cluster) breaks it.  Returns (all four jobs, the
    two on h1)."""
    jobs = [spool.submit(COURSE, assignment, f"s{i}", slow) for i in range(4)]
    spool.wait_for("two jobs being graded on h1",
                   lambda: len(cluster.archives(1, "active")) == 2, timeout=60, interval=0.05)
    on_h1 = sorted({n.rsplit(".", 2)[0] for n in cluster.archives(1, "active")})
    assert set(on_h1) <= set(jobs), (on_h1, jobs)
    breaks(cluster)
    return jobs, on_h1


def check_outage(cluster, spool, quick, jobs, on_h1, reason_has, check_has):
    """Everything an outage of h1 must look like (the module's docstring)."""
    h = wait_health(spool, "h1", "down", timeout=60, reason_has=reason_has)
    assert "cannot write" not in h["reason"] and "owner" not in h["reason"], h
    row = workers_table(spool)["h1"]
    assert row.split()[3] == "down", f"`assay workers` does not show h1 down:\n{row}"
    for word in reason_has:
        assert word in row, f"`assay workers` does not say {word!r} for h1:\n{row}"
    down = [l for l in spool.log_lines() if l.message.startswith("worker h1 is down")]
    assert down and down[0].level == "error", down
    assert all(w in down[0].message for w in reason_has), down[0]

    p = spool.assay("workers", "check", timeout=120)
    assert p.returncode == 1, f"workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
    h1_lines = [l for l in p.stdout.splitlines() if l.startswith("h1:")]
    assert len(h1_lines) == 1 and "PROBLEM" in h1_lines[0], p.stdout
    assert all(w in h1_lines[0] for w in check_has), p.stdout
    assert any(l.startswith("h2: ok") for l in p.stdout.splitlines()), p.stdout

    # while h1 is down, new jobs all go to h2
    new = [spool.submit(COURSE, "quick", f"q{i}", quick) for i in range(4)]

    results = spool.wait_results(jobs + new, timeout=180)
    for j in jobs + new:
        r = results[j]
        assert r["assay"]["status"] == "graded" and r["score"] == 2, (j, r["assay"], r["score"])
    for j in on_h1:
        r = results[j]
        assert graded_by(r) == "h2", f"job {j}, on h1 when it broke, was recorded from " \
                                     f"{graded_by(r)}"
        assert r["assay"]["attempts"] == 2, r["assay"]
        deferred = [l for l in spool.job_lines(j) if l.message.startswith("attempt 1 deferred")]
        assert deferred and deferred[0].level == "warning", spool.job_lines(j)
        assert "did not return a result within" not in deferred[0].message, \
            f"job {j} was given back only at its deadline: {deferred[0]}"
    for j in new:
        assert graded_by(results[j]) == "h2", (j, graded_by(results[j]))
    assert not attempts_started_on(spool, "h1", new), attempts_started_on(spool, "h1", new)
    counts = wait_recorded(spool, jobs + new)
    for j in jobs + new:
        assert counts.get(j) == 1, f"job {j} recorded {counts.get(j)} times"
    assert not spool.queue("failed") and not spool.queue("incoming"), spool.queue("failed")
    return down[0]


def check_back(cluster, spool):
    """h1, repaired, is up again and grades again."""
    wait_health(spool, "h1", "up", timeout=90)
    assert any(l.message == "worker h1 is up" for l in spool.log_lines()), \
        "no log line says worker h1 is up"
    assert workers_table(spool)["h1"].split()[3] == "up"
    # what h1 had taken before it broke, it grades again (a repaired
    # daemon regrades its active/); those late results are stale
    spool.wait_for("h1 done with what it held", lambda: not (
        cluster.archives(1, "active") or cluster.archives(1, "inbox")), timeout=90)
    medium = spool.make_submission("medium-src", {"hello.py": slow_hello(3)})
    jobs = [spool.submit(COURSE, "slow", f"b{i}", medium) for i in range(4)]
    results = spool.wait_results(jobs, timeout=120)
    assert all(results[j]["score"] == 2 for j in jobs)
    assert "h1" in {graded_by(results[j]) for j in jobs}, [graded_by(results[j]) for j in jobs]
    counts = wait_recorded(spool, jobs)
    assert all(counts.get(j) == 1 for j in jobs), counts


# ---------------------------------------------------------------------------


def test_daemon_killed_while_sshd_answers(cluster, pipeline):
    spool, slow, quick = setup_spool(cluster, pipeline)
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        pid = cluster.daemon_pid(1)
        jobs, on_h1 = fill_and_break(cluster, spool, slow,
                                     lambda c: os.kill(pid, signal.SIGKILL))
        words = ["grading daemon of worker h1 is not running", f"pid {pid} has exited",
                 "sshd answers"]
        check_outage(cluster, spool, quick, jobs, on_h1, words, words)
        cluster.start_daemon(1)
        check_back(cluster, spool)


def test_daemon_stopped_while_sshd_answers(cluster, pipeline):
    spool, slow, quick = setup_spool(cluster, pipeline)
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        pid = cluster.daemon_pid(1)
        try:
            jobs, on_h1 = fill_and_break(cluster, spool, slow,
                                         lambda c: os.kill(pid, signal.SIGSTOP))
            words = ["grading daemon of worker h1 is not answering", f"pid {pid}",
                     "stopped or hung", "sshd answers"]
            check_outage(cluster, spool, quick, jobs, on_h1, words, words)
        finally:
            os.kill(pid, signal.SIGCONT)
        check_back(cluster, spool)


def test_link_cut(cluster, pipeline):
    spool, slow, quick = setup_spool(cluster, pipeline)
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        try:
            jobs, on_h1 = fill_and_break(cluster, spool, slow, lambda c: c.cut(1))
            where = f"cannot connect to {cluster.address(1)} port 22"
            line = check_outage(cluster, spool, quick, jobs, on_h1, [where], [where])
            assert "grading daemon" not in line.message, line
            for j in on_h1:
                deferred = [l for l in spool.job_lines(j)
                            if l.message.startswith("attempt 1 deferred")][0]
                assert "lost the link to worker h1" in deferred.message, deferred
        finally:
            cluster.restore(1)
        check_back(cluster, spool)


def test_sshd_killed(cluster, pipeline):
    spool, slow, quick = setup_spool(cluster, pipeline)
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        try:
            jobs, on_h1 = fill_and_break(cluster, spool, slow, lambda c: c.kill_sshd(1))
            where = f"cannot connect to {cluster.address(1)} port 22: Connection refused"
            line = check_outage(cluster, spool, quick, jobs, on_h1, [where], [where])
            assert "grading daemon" not in line.message, line
            for j in on_h1:
                deferred = [l for l in spool.job_lines(j)
                            if l.message.startswith("attempt 1 deferred")][0]
                assert "lost the SSH session with worker h1" in deferred.message, deferred
        finally:
            cluster.start_sshd(1)
        check_back(cluster, spool)


def test_lost_sessions_are_reported_as_lost_never_as_permissions(cluster, pipeline):
    """h1's SSH sessions die (their sshd processes killed; the listener
    lives): the shippers say they lost the session and connect again, the
    job being graded there is graded there, once, on its first attempt,
    and no line blames the inbox's owner."""
    spool, slow, quick = setup_spool(cluster, pipeline)
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        jobs, on_h1 = fill_and_break(cluster, spool, slow,
                                     lambda c: c.kill_sshd(1, sessions_only=True))
        results = spool.wait_results(jobs, timeout=180)
        for j in jobs:
            assert results[j]["score"] == 2, results[j]["assay"]
        for j in on_h1:
            assert graded_by(results[j]) == "h1" and results[j]["assay"]["attempts"] == 1, \
                results[j]["assay"]
        lost = [l for l in spool.log_lines()
                if l.worker == "h1" and "lost the SSH session with worker h1" in l.message]
        assert lost and all(l.level == "warning" for l in lost), lost
        assert all("connecting again" in l.message for l in lost), lost

        # the idle sessions die too: the next probes open new ones
        cluster.kill_sshd(1, sessions_only=True)
        spool.wait_for("a probe to find h1's idle session lost", lambda: len([
            l for l in spool.log_lines() if "lost the SSH session with worker h1" in l.message
        ]) > len(lost), timeout=60)
        new = [spool.submit(COURSE, "quick", f"q{i}", quick) for i in range(4)]
        results = spool.wait_results(new, timeout=120)
        assert all(results[j]["score"] == 2 for j in new)
        blamed = [l.raw for l in spool.log_lines()
                  if "cannot write to" in l.message or "fix its owner" in l.message]
        assert not blamed, blamed
        assert not any(l.message.startswith("worker h1 is down") for l in spool.log_lines())
        counts = wait_recorded(spool, jobs + new)
        assert all(counts.get(j) == 1 for j in jobs + new), counts


def test_disk_filling_under_running_jobs_is_seen_before_they_end(cluster, pipeline):
    """h1's disk fills while both its slots grade long jobs (so no idle
    probe looks at it): what it says every second while they run makes
    it refusing before they end; new jobs go to h2, its own finish there,
    once.  Space freed, it is up again."""
    v = os.statvfs(cluster.worker_dir(1))
    free_mb = v.f_bavail * v.f_frsize / 2 ** 20
    spool = pipeline()
    # refusing 1,000 MB below today's free space, and a filler 300 MB past
    # it: others writing to the same disk meanwhile cannot keep h1 refusing
    # once the filler is gone unless they take 1,000 MB
    spool.set_workers(cluster.all_entries(h1={"min_free_mb": int(free_mb - 1000)}))
    long_s = 30
    spool.add_assignment(COURSE, "long", assignment_doc(
        [HI_TEST], limits=dict(LIMITS, wall_s=long_s + 20)))
    spool.add_assignment(COURSE, "quick", assignment_doc([HI_TEST]))
    long_src = spool.make_submission("long-src", {"hello.py": slow_hello(long_s)})
    quick = spool.make_submission("quick-src", {"hello.py": VARIANTS["right"][0]})
    filler = os.path.join(cluster.host_dir(1), "filler")
    with scheduler_running(spool):
        wait_health(spool, "h1", "up")
        wait_health(spool, "h2", "up")
        jobs, on_h1 = fill_and_break(cluster, spool, long_src, lambda c: None, "long")
        try:
            with open(filler, "wb") as f:
                os.posix_fallocate(f.fileno(), 0, 1300 * 2 ** 20)
            h = wait_health(spool, "h1", "refusing", timeout=60, reason_has=["disk"])
            still = [j for j in on_h1 if spool.result(j) is None]
            assert still, f"h1 was called refusing only after its jobs ended: {h}"
            # the health record is written just before the line saying so
            refusing = spool.wait_for("the line saying h1 is refusing", lambda: [
                l for l in spool.log_lines() if l.message.startswith("worker h1 is refusing")],
                timeout=10)
            assert "MB of disk free" in refusing[0].message, refusing
            new = [spool.submit(COURSE, "quick", f"q{i}", quick) for i in range(4)]
            results = spool.wait_results(jobs + new, timeout=180)
        finally:
            if os.path.exists(filler):
                os.unlink(filler)
        for j in on_h1:
            assert graded_by(results[j]) == "h1" and results[j]["assay"]["attempts"] == 1, \
                results[j]["assay"]
        for j in new:
            assert graded_by(results[j]) == "h2", (j, graded_by(results[j]))
        assert all(results[j]["score"] == 2 for j in jobs + new)
        counts = wait_recorded(spool, jobs + new)
        assert all(counts.get(j) == 1 for j in jobs + new), counts
        wait_health(spool, "h1", "up", timeout=60)
