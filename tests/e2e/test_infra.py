"""Failures that are not the student's, through the real pipeline.

A grader killed from outside (kill -9, as the OOM killer does), a slot's
sandbox keeper killed, a Gradescope autograder whose setup.sh never ran on
the worker, a worker missing the notebook runner's IPython (or pytest, or
python3 itself): each is an error result of category "infrastructure"
from the worker, which the primary treats as that attempt's failure --
logged at level error with the worker's name and the reason, the job
deferred and retried (on another worker when one can take it), and only
after the attempts are spent recorded as "infrastructure", with a
sentence for the instructor saying what failed where.  The student is
never given a 0 for it, nor told to submit again.  `assay status` counts
those jobs apart from the students' errors.  With two SSH workers (the
cluster of scripts/test-cluster.sh), an autograder set up on one only is
graded there.

A worker "missing" a package is a root file system (course.json
"rootfs") holding Debian's python3 and its standard library but none of
/usr/lib/python3/dist-packages (assay_helpers.make_python_root), so this
machine's own system is left alone.
"""
import json
import os
import random
import signal
import threading
import time

import pytest

from assay_helpers import (copy_assignment, example_dir, example_submission, grade, make_tempdir,
                           make_python_root, make_small_root, needs_root, proc_uids, processes,
                           remove_tempdir, run_assay, write_assignment, write_json,
                           write_submission)
from cluster import make_cluster, scheduler_running, wait_health
from pipeline import (HI_TEST, LIMITS, VARIANTS, assignment_doc, pipeline,  # noqa: F401,F811
                      slow_hello, wait_recorded)

COURSE, ASG = "cs101", "hw1"
NB = example_dir("notebook-hw")
GS = example_dir("gs-calc")
STUDENT_SAYS = ("Your submission could not be graded because of a problem in the grading "
                "system, not in your work. The course staff have been told and can grade it "
                "again once the problem is fixed; you do not need to submit again.")


@pytest.fixture(scope="module")
def python_root():
    """A root file system with python3 and its standard library only."""
    top = make_tempdir("assay-infra-root-")
    try:
        yield make_python_root(top)
    finally:
        remove_tempdir(top)


@pytest.fixture(scope="module")
def small_root():
    """A root file system without python3 (a shell and cat)."""
    top = make_tempdir("assay-infra-small-")
    try:
        yield make_small_root(top)
    finally:
        remove_tempdir(top)


def graders(spool, job=None):
    """{job id: pid} of the spool's graders (`assay-worker grade-one JOB ...`)."""
    return {argv[2]: pid for pid, argv in spool.processes()
            if argv[1:2] == ["grade-one"] and len(argv) > 2 and (job is None or argv[2] == job)}


def keepers(daemon):
    """The pids of the sandbox keepers a worker daemon started (cgroup v1)."""
    out = []
    for p in processes():
        if p.ppid != daemon or p.state == "Z":
            continue
        try:
            with open(f"/proc/{p.pid}/comm") as f:
                if f.read().strip() == "assay-keeper":
                    out.append(p.pid)
        except OSError:
            pass
    return out


def student_runs(spool):
    """The pids of `python3 hello.py` runs of the spool's installation (its
    uids: runs of other spools on this machine have others)."""
    first, last = (int(u) for u in spool.installation()["uids"].split("-"))
    return [p.pid for p in processes() if p.argv[:2] == ["python3", "hello.py"] and
            first <= ((proc_uids(p.pid) or (0,))[0]) <= last]


def one_slot(spool, **extra):
    """workers.json: the local worker with one slot and no prefetch, so
    "the next job in that slot" is every next job."""
    ws = spool.workers()
    ws[0].update({"slots": 1, "prefetch": 0, **extra})
    spool.set_workers(ws)


def error_lines(spool, job):
    return [l for l in spool.job_lines(job) if l.level == "error"]


def assert_failed_for_infrastructure(spool, job, cause):
    """JOB's attempts are spent: failed/ with its reason, one error result
    of category infrastructure naming CAUSE for the instructor, the
    student's view saying grading could not run, an error line per
    attempt naming the worker."""
    spool.wait_for("the job in failed/", lambda: f"{job}.json" in spool.queue("failed"),
                   timeout=90)
    r = spool.wait_results([job])[job]
    a = r["assay"]
    assert a["status"] == "error" and a["error"]["category"] == "infrastructure", a
    assert (r["score"], r["max_score"]) == (0, 0), r
    msg = a["error"]["message"]
    assert msg.startswith("Assay could not grade this submission after 3 attempts, for reasons "
                          "that are not the student's (on worker local, then local, then local; "
                          "the last: worker local could not grade it: "), msg
    assert cause in msg, msg
    assert f"`assay requeue {job}`" in msg, msg
    assert a["attempts"] == 3, a
    with open(spool.path("failed", f"{job}.reason")) as f:
        assert f.read().startswith("worker local could not grade it: ")
    v = spool.assay_json("results", "--job", job, "--view", "student")
    assert v["assay"]["error"]["message"] == STUDENT_SAYS, v["assay"]
    assert cause not in json.dumps(v), v
    spool.wait_for("the failure logged", lambda: any(
        l.message.startswith("failed after 3 attempts: worker local could not grade it: ")
        for l in error_lines(spool, job)))
    errors = [l.message for l in error_lines(spool, job)]
    for attempt in (1, 2, 3):
        assert any(m.startswith(f"attempt {attempt}: infrastructure failure on worker local: ")
                   and cause in m for m in errors), errors
    # the worker's own line travels with the result, at its level
    assert any(m.startswith("worker: ") and " error not graded (infrastructure): " in m
               for m in errors), errors
    # recorded once: no attempt's result but the last is in results/
    assert sum(1 for l in spool.job_lines(job) if l.message.startswith("result recorded")) == 0
    return r


def assert_status_counts(spool, failed, retrying, job=None, reason=None):
    st = spool.assay_json("status")
    infra = st["infrastructure"]
    assert (infra["failed"], infra["retrying"]) == (failed, retrying), infra
    out = spool.assay_ok("status")
    line = (f"Infrastructure failures (not the students'): {failed} job{'' if failed == 1 else 's'}"
            f" failed after every attempt, {retrying} waiting to be retried")
    assert line in out.splitlines(), out
    if job:
        jl = [l for l in out.splitlines() if l.startswith(f"  {job}  ")]
        assert jl and reason in jl[0], out
    return st


# ---------------------------------------------------------------------------
# a grader killed from outside


@needs_root
def test_a_killed_grader_is_retried_graded_and_recorded_once(pipeline):
    spool = pipeline()
    one_slot(spool)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=10)))
    slow = spool.make_submission("slow", {"hello.py": slow_hello(1.5)})
    spool.start()
    spool.wait_running(slots=1, daemons=1)
    job = spool.submit(COURSE, ASG, "alice", slow)
    pid = spool.wait_for("the job's grader", lambda: graders(spool, job).get(job), interval=0.01)
    spool.wait_for("the student's code running", lambda: student_runs(spool), interval=0.01)
    os.kill(pid, signal.SIGKILL)
    r = spool.wait_results([job], timeout=60)[job]
    assert r["assay"]["status"] == "graded" and r["score"] == 2, r["assay"]
    assert r["assay"]["attempts"] == 2, r["assay"]
    assert wait_recorded(spool, [job]) == {job: 1}
    errors = [l.message for l in error_lines(spool, job)]
    why = "The grader on worker local was killed by signal 9 (Killed) while grading this job"
    assert any(m.startswith("attempt 1: infrastructure failure on worker local: " + why)
               for m in errors), errors
    lines = [l for l in spool.log_lines() if l.job == job]
    assert any(l.process == "assay-worker" and l.level == "error" and
               l.message == "the grader in slot 1 was killed by signal 9 (Killed)"
               for l in lines), lines
    assert any(l.level == "warning" and l.message.startswith("attempt 1 deferred for 1 s: worker "
                                                             "local could not grade it: " + why)
               for l in lines), lines
    assert spool.queue("failed") == [] and spool.queue("deferred") == []
    assert_status_counts(spool, 0, 0)


@needs_root
def test_a_flood_with_killed_graders_loses_nothing_and_records_once(pipeline):
    rng = random.Random(7)
    spool = pipeline()
    spool.two_workers(slots=2)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=10)))
    sources = {v: spool.make_submission(v, {"hello.py": f"import time\ntime.sleep(0.4)\n{src}"})
               for v, (src, _, _) in VARIANTS.items()}
    spool.start()
    spool.wait_running(slots=4, daemons=2)
    expected, errors = {}, []

    def flood():
        try:
            for i in range(40):
                variant = ("right", "close", "wrong")[i % 3]
                job = spool.submit(COURSE, ASG, f"s{i:02d}", sources[variant])
                expected[job] = VARIANTS[variant][1]
        except BaseException as exc:   # reported by the main thread
            errors.append(exc)

    submitter = threading.Thread(target=flood)
    submitter.start()
    killed = set()   # each job at most once: three kills would spend its attempts
    try:
        deadline = time.monotonic() + 60
        while len(killed) < 8 and time.monotonic() < deadline:
            live = {j: p for j, p in graders(spool).items() if j not in killed}
            if live:
                job = rng.choice(sorted(live))
                try:
                    os.kill(live[job], signal.SIGKILL)
                    killed.add(job)
                except ProcessLookupError:
                    pass
            time.sleep(rng.uniform(0.05, 0.4))
    finally:
        submitter.join()
    assert not errors, errors
    assert len(killed) >= 4, f"only {len(killed)} graders were killed"
    results = spool.wait_results(list(expected), timeout=150)
    for job, score in expected.items():
        r = results[job]
        assert r["assay"]["status"] == "graded" and r["score"] == score, (job, r["assay"])
        # a grader killed just after it handed its result in may still count once
        attempts = {1, 2} if job in killed else {1}
        assert r["assay"]["attempts"] in attempts, (job, r["assay"]["attempts"], job in killed)
    counts = wait_recorded(spool, list(expected))
    assert {j: n for j, n in counts.items() if n != 1} == {}, counts
    assert len({spool.result_rel(j) for j in expected}) == len(expected)
    for state in ("failed", "deferred", "incoming", "hold"):
        assert spool.queue(state) == [], (state, spool.queue(state))
    infra = [l for l in spool.log_lines()
             if l.level == "error" and "infrastructure failure on worker" in l.message]
    assert {l.job for l in infra} <= killed, (infra, killed)
    retried = {j for j in expected if results[j]["assay"]["attempts"] == 2}
    assert retried == {l.job for l in infra} and len(retried) >= 3, (retried, infra)
    assert all("was killed by signal 9 (Killed)" in l.message for l in infra), infra


# ---------------------------------------------------------------------------
# a slot's keeper killed


@needs_root
def test_a_killed_keeper_is_replaced_and_the_slot_grades_on(pipeline):
    spool = pipeline()
    one_slot(spool)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=10)))
    right = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    slow = spool.make_submission("slow", {"hello.py": slow_hello(1.5)})
    spool.start()
    spool.wait_running(slots=1, daemons=1)
    job, r = spool.submit_wait(COURSE, ASG, "a", right)
    assert r["score"] == 2
    (daemon, _), = spool.worker_daemons()
    first = keepers(daemon)
    if not first:
        pytest.skip("this host's sandbox has no keeper (cgroup v2: runs are born by clone3)")
    assert len(first) == 1, first

    # killed between jobs: the next job in the slot is graded, first time
    os.kill(first[0], signal.SIGKILL)
    job, r = spool.submit_wait(COURSE, ASG, "b", right)
    assert r["assay"]["status"] == "graded" and r["score"] == 2, r["assay"]
    assert r["assay"]["attempts"] == 1, r["assay"]
    second = keepers(daemon)
    assert len(second) == 1 and second != first, (first, second)
    assert any(l.process == "assay-worker" and l.level == "warning" and
               f"(pid {first[0]}) had died (killed by signal 9); pid {second[0]} took its place"
               in l.message
               for l in spool.log_lines()), spool.log_text()[-3000:]

    # killed during a run: that attempt is the worker's failure, retried
    job = spool.submit(COURSE, ASG, "c", slow)
    spool.wait_for("the student's code running", lambda: student_runs(spool), interval=0.01)
    os.kill(second[0], signal.SIGKILL)
    r = spool.wait_results([job], timeout=60)[job]
    assert r["assay"]["status"] == "graded" and r["score"] == 2, r["assay"]
    assert r["assay"]["attempts"] == 2, r["assay"]
    assert any("the sandbox keeper" in l.message and "is gone" in l.message
               for l in error_lines(spool, job)), spool.job_lines(job)
    # and the slot goes on
    job, r = spool.submit_wait(COURSE, ASG, "d", right)
    assert r["score"] == 2 and r["assay"]["attempts"] == 1, r["assay"]
    assert spool.queue("failed") == []


# ---------------------------------------------------------------------------
# setup.sh never run on the worker


@needs_root
def test_gradescope_setup_not_run_fails_as_infrastructure_then_requeue_grades(
        pipeline, monkeypatch, tmp_path):
    state = tmp_path / "gradescope-state"
    monkeypatch.setenv("ASSAY_GRADESCOPE_STATE", str(state))   # the worker's: nothing set up
    spool = pipeline()
    copy_assignment(GS, spool.path("courses", COURSE, "gs"))
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    job = spool.submit(COURSE, "gs", "ada", example_submission("gs-calc", "correct"))
    r = assert_failed_for_infrastructure(spool, job, "the autograder's setup.sh has not been "
                                         "run on this worker: run `assay gradescope setup")
    assert r["tests"] == []
    assert_status_counts(spool, 1, 0, job, "worker local could not grade it: ")
    errors = spool.assay_ok("logs", "--errors")
    assert f"{job} error failed after 3 attempts: worker local could not grade it: " in errors

    # the admin runs setup.sh on the worker and requeues: graded, for real
    p = run_assay("gradescope", "setup", spool.path("courses", COURSE, "gs"))
    assert p.returncode == 0, p.stderr
    spool.assay_ok("requeue", job)

    def graded():
        res = spool.result(job)
        return res if res and res["assay"]["status"] == "graded" else None

    r = spool.wait_for("the requeued job's result", graded, timeout=60)
    assert r["score"] == 10 and r["assay"]["attempts"] == 1, r["assay"]
    assert_status_counts(spool, 0, 0)


# ---------------------------------------------------------------------------
# a run-time package or interpreter missing on the worker


@needs_root
@pytest.mark.parametrize("kind", ["notebook", "pytest", "io"])
def test_a_missing_runtime_is_an_infrastructure_error_not_a_zero(tmp_path, python_root,
                                                                   small_root, kind):
    if kind == "notebook":
        a = copy_assignment(NB, str(tmp_path / "nb"), rootfs=python_root)
        sub, cause = example_submission("notebook-hw", "correct"), \
            "the notebook's Python process could not be started: ModuleNotFoundError: " \
            "No module named 'IPython'"
    elif kind == "pytest":
        a = write_assignment_dir(tmp_path / "py", [{"name": "unit", "kind": "pytest",
                                                    "points": 2, "files": ["test_hello.py"]}],
                                 {"test_hello.py": "from hello import greet\n\n"
                                                   "def test_greet():\n    assert greet() == 'hi'\n"},
                                 rootfs=python_root)
        sub, cause = write_sub(tmp_path, "def greet():\n    return 'hi'\n"), \
            "ModuleNotFoundError: No module named 'pytest'"
    else:
        a = write_assignment_dir(tmp_path / "io", [HI_TEST], {}, rootfs=small_root)
        sub, cause = write_sub(tmp_path, "print('hi')\n"), \
            "the program python3 that this test runs is not installed on this worker"
    rc, r, stderr = grade(a, sub, "--json")
    assert rc == 0, stderr
    err = r["assay"]["error"]
    assert r["assay"]["status"] == "error" and err["category"] == "infrastructure", r["assay"]
    assert cause in err["message"], err
    assert [t["verdict"] for t in r["tests"]] == ["setup_error"], r["tests"]
    rc, view, _ = grade(a, sub, "--json", "--view", "student")
    assert view["assay"]["error"]["message"] == STUDENT_SAYS


def write_assignment_dir(d, tests, files, **top):
    return write_assignment(str(d), assignment_doc(tests, **top), files)


def write_sub(tmp_path, hello):
    return write_submission(str(tmp_path / "sub"), {"hello.py": hello})


@needs_root
def test_notebook_runtime_missing_is_retried_then_infrastructure_never_a_zero(
        pipeline, python_root):
    spool = pipeline()
    one_slot(spool)
    copy_assignment(NB, spool.path("courses", COURSE, "nb"))
    write_json(spool.path("courses", COURSE, "course.json"), {"rootfs": python_root})
    spool.start()
    spool.wait_running(slots=1, daemons=1)
    job = spool.submit(COURSE, "nb", "ada", example_submission("notebook-hw", "correct"))
    assert_failed_for_infrastructure(spool, job, "No module named 'IPython'")
    assert_status_counts(spool, 1, 0, job, "No module named 'IPython'")
    st = spool.assay_json("status")
    assert st["results_1h"] == {"graded": 0, "submission_errors": 0, "assignment_errors": 0}

    # IPython "installed" (the worker's own system again): requeued, it scores 8 of 8
    os.unlink(spool.path("courses", COURSE, "course.json"))
    spool.assay_ok("requeue", job)

    def graded():
        res = spool.result(job)
        return res if res and res["assay"]["status"] == "graded" else None

    r = spool.wait_for("the requeued job's result", graded, timeout=90)
    assert r["score"] == 8 and r["max_score"] == 8, r["tests"]
    assert_status_counts(spool, 0, 0)
    st = spool.assay_json("status")
    assert st["results_1h"] == {"graded": 1, "submission_errors": 0, "assignment_errors": 0}


# ---------------------------------------------------------------------------
# setup.sh run on one worker of the pool only (SSH workers h1, h2)


@pytest.fixture(scope="module")
def two_hosts():
    with make_cluster(2, ["python", "python"]) as c:
        yield c


def test_gradescope_setup_run_on_one_worker_only_is_graded_there(two_hosts, pipeline):
    spool = pipeline()
    spool.set_workers(two_hosts.all_entries())
    asg = copy_assignment(GS, spool.path("courses", COURSE, "gs"))
    # each host keeps its stamps in hk/gradescope (scripts/test-cluster.sh): h2's only
    state = os.path.join(two_hosts.host_dir(2), "gradescope")
    p = run_assay("gradescope", "setup", asg, env=dict(os.environ, ASSAY_GRADESCOPE_STATE=state))
    assert p.returncode == 0, p.stderr
    src = example_submission("gs-calc", "correct")
    with scheduler_running(spool):
        for name in ("h1", "h2"):
            wait_health(spool, name, "up")
        # four at once for four slots: two start on h1, which cannot grade them
        jobs = [spool.submit(COURSE, "gs", f"s{i}", src) for i in range(4)]
        results = spool.wait_results(jobs, timeout=150)
        counts = wait_recorded(spool, jobs)
    for job in jobs:
        a = results[job]["assay"]
        assert a["status"] == "graded" and results[job]["score"] == 10, a
        assert a["graded_by"]["worker"] == "h2", a
    assert counts == {j: 1 for j in jobs}, counts
    retried = [j for j in jobs if results[j]["assay"]["attempts"] == 2]
    assert retried, [results[j]["assay"]["attempts"] for j in jobs]
    for job in retried:
        errors = [l.message for l in error_lines(spool, job)]
        assert any(m.startswith("attempt 1: infrastructure failure on worker h1: ") and
                   "the autograder's setup.sh has not been run on this worker: run `assay "
                   "gradescope setup" in m for m in errors), errors
    assert all(results[j]["assay"]["attempts"] == 1 for j in jobs if j not in retried)
    assert spool.queue("failed") == [] and spool.queue("deferred") == []
