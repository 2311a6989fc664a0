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
import shutil
import signal
import subprocess

import pytest

from assay_helpers import (EXAMPLES, by_name, copy_assignment, example_dir, example_submission,
                           parse_time, poll)
from pipeline import (HI_CONTAINS_TEST, HI_TEST, IS_ROOT, LIMITS, VARIANTS, LogLine,
                      assignment_doc, exe, pipeline, slow_hello,  # noqa: F401
                      wait_recorded)

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


def scratch_left(spool, workers):
    """Files left in the spool's tmp/ and the workers' inbox, active, outbox, tmp."""
    left = {}
    dirs = [("tmp", spool.path("tmp"))] + [(f"{w}/{sub}", os.path.join(spool.worker_dir(w), sub))
                                           for w in workers
                                           for sub in ("inbox", "active", "outbox", "tmp")]
    for rel, path in dirs:
        names = os.listdir(path)
        if names:
            left[rel] = sorted(names)[:5]
    return left


def assert_scratch_empty(spool, workers, timeout=10):
    """Nothing left in the scratch directories (waiting up to TIMEOUT s for
    processes finishing their clean-up)."""
    poll(lambda: scratch_left(spool, workers), timeout, 0.05, until=lambda left: not left)
    assert scratch_left(spool, workers) == {}


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

    counts = wait_recorded(spool, expected)
    assert {j: counts.get(j, 0) for j in expected} == {j: 1 for j in expected}
    assert set(counts) <= set(expected)

    # once the graders have finished, nothing is left in the scratch directories
    spool.wait_for("the graders to finish",
                   lambda: not [p for p in spool.processes() if "grade-one" in p[1]])
    assert_scratch_empty(spool, ("local", "w2"))

    rc, in_time = spool.stop()
    assert in_time and rc == 0, f"scheduler exit {rc}"
    assert spool.leftovers() == []
    assert_queues_empty(spool)


# ---- 3. a stopped worker: its job times out, is deferred, graded elsewhere ----

def test_stopped_worker_job_deferred_and_graded_by_other_worker(pipeline):
    spool = pipeline()
    spool.two_workers(slots=2, timeout_margin_s=1)   # given up on after 1.5 * 4 + 1 = 7 s
    # wall 4 s: the 1 s job, regraded by the other worker, must still pass
    spool.add_assignment(COURSE, "slow", assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=4)))
    slow = spool.make_submission("slow", {"hello.py": slow_hello(1)})
    spool.start()
    spool.wait_running(slots=4, daemons=2)

    def outbox_has(worker, job):
        return [n for n in os.listdir(os.path.join(spool.worker_dir(worker), "outbox"))
                if n.startswith(job + ".")]

    for tries in range(3):
        job = spool.submit(COURSE, "slow", f"stopped{tries}", slow)

        def in_flight():
            slot = spool.slot_of(job)
            if not slot:
                return None
            worker = slot.rsplit(".", 1)[0]
            graders = [p for p in spool.processes()
                       if "grade-one" in p[1] and job in p[1]]
            return (slot, worker) if graders else None

        slot, worker = spool.wait_for(f"job {job} being graded", in_flight, timeout=20,
                                      interval=0.005)
        daemons = spool.worker_daemons(worker)
        assert len(daemons) == 1, daemons
        spool.stop_tree(daemons[0][0])
        if not outbox_has(worker, job) and spool.result(job) is None:
            break   # caught in flight
        spool.cont_all()   # it finished first: try again
        spool.wait_results([job])
    else:
        pytest.fail("could not stop a worker while it graded a job")
    other = "w2" if worker == "local" else "local"

    r = spool.wait_results([job], timeout=40)[job]
    a = r["assay"]
    assert a["graded_by"]["worker"] == other, a
    assert a["attempts"] == 2, a
    assert r["score"] == 2 and a["status"] == "graded", r
    check_history(r, job, workers=(other,))
    deferred = [l for l in spool.job_lines(job) if "deferred" in l.message]
    assert len(deferred) == 1, spool.job_lines(job)
    assert deferred[0].process == "assay-shipper" and deferred[0].worker == worker
    assert deferred[0].level == "warning"
    assert "did not return a result" in deferred[0].message
    assert spool.queue("deferred") == [] and spool.queue("failed") == []

    # the stopped worker carries on and finishes the old attempt: its late
    # result must be dropped as stale, never recorded
    spool.cont_all()
    spool.wait_for("the late result or the grader's end",
                   lambda: outbox_has(worker, job) or not [
                       p for p in spool.processes()
                       if "grade-one" in p[1] and job in p[1]],
                   timeout=20)
    late = outbox_has(worker, job)
    # a shipper of that worker looks at its outbox after each job it ships: give
    # every slot a job (each takes a second, so four at once fill all four slots)
    followers = [spool.submit(COURSE, "slow", f"after{i}", slow) for i in range(4)]
    graded_by = [r["assay"]["graded_by"]["worker"]
                 for r in spool.wait_results(followers, timeout=40).values()]
    if worker not in graded_by:
        pytest.fail(f"no later job went to worker {worker}: {graded_by}")
    if late:
        spool.wait_for("the stale result to be dropped",
                       lambda: not outbox_has(worker, job), timeout=10)
        stale = [l for l in spool.log_lines() if "stale" in l.message and job in l.message]
        assert stale, "no log line says the late result was dropped as stale"
    assert wait_recorded(spool, [job]).get(job) == 1
    assert spool.result(job)["assay"] == a, "the late result replaced the recorded one"
    assert spool.result_dirs().count(spool.result_rel(job)) == 1


def test_sighup_reloads_workers_json(pipeline):
    spool = pipeline()
    spool.two_workers(slots=1)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST]))
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    spool.start()
    spool.wait_running(slots=2, daemons=2)

    def reload(n):
        spool.sched.send_signal(signal.SIGHUP)
        spool.wait_for(f"reload {n}", lambda: sum(
            1 for l in spool.log_lines() if l.message.startswith("workers.json reloaded")) >= n)

    def serving():
        slots = sorted(f"{a[a.index('--worker') + 1]}.{a[a.index('--slot') + 1]}"
                       for _, a in spool.shippers())
        daemons = sorted(a[a.index("--name") + 1] for _, a in spool.worker_daemons())
        return slots, daemons

    # w2 disabled: it keeps running but takes no job
    ws = spool.workers()
    ws[1]["enabled"] = False
    spool.set_workers(ws)
    reload(1)
    jobs = [spool.submit(COURSE, ASG, f"a{i}", src) for i in range(6)]
    results = spool.wait_results(jobs)
    assert {r["assay"]["graded_by"]["worker"] for r in results.values()} == {"local"}

    # local and w2 removed, w3 added: their processes go, w3's come, jobs go to w3
    spool.set_workers([{"name": "w3", "transport": "local", "dir": "workers/w3", "slots": 2,
                        "capabilities": ["python"], "enabled": True}])
    reload(2)
    spool.wait_for("only w3 served", lambda: serving() == (["w3.1", "w3.2"], ["w3"]))
    jobs = [spool.submit(COURSE, ASG, f"b{i}", src) for i in range(6)]
    results = spool.wait_results(jobs)
    assert {r["assay"]["graded_by"]["worker"] for r in results.values()} == {"w3"}
    assert spool.sched.poll() is None, "the scheduler died"
    rc, in_time = spool.stop()
    assert in_time and rc == 0, (rc, spool.scheduler_output()[-2000:])
    assert spool.leftovers() == []


def test_attempts_exhausted_the_job_fails_with_a_reason_and_can_be_requeued(pipeline):
    spool = pipeline()
    ws = spool.workers()
    ws[0]["timeout_margin_s"] = 0          # given up on after 1.5 * 1 s
    ws[0]["prefetch"] = 0                  # (prefetch would double that)
    spool.set_workers(ws)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=1)))
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    spool.start()
    spool.wait_running(slots=2, daemons=1)
    (pid, _), = spool.worker_daemons()
    spool.stop_tree(pid)                   # the only worker never answers
    job = spool.submit(COURSE, ASG, "alice", src)
    spool.wait_for("the job in failed/", lambda: f"{job}.json" in spool.queue("failed"),
                   timeout=40)
    r = spool.wait_results([job])[job]
    a = r["assay"]
    assert a["status"] == "error" and a["error"]["category"] == "infrastructure", a
    assert "3 attempts" in a["error"]["message"], a
    assert a["attempts"] == 3, a
    with open(spool.path("failed", f"{job}.reason")) as f:
        assert "did not return a result" in f.read()
    spool.wait_for("the failure logged", lambda: any(
        l.message.startswith("failed after 3 attempts") for l in spool.job_lines(job)))
    msgs = [l.message for l in spool.job_lines(job)]
    assert sum("deferred" in m for m in msgs) == 2, msgs
    st = spool.assay_json("status")
    assert st["failed"] == 1 and st["incoming"] == 0
    assert spool.queue("deferred") == [] and spool.queue("incoming") == []

    # the worker is back; the admin requeues the job: it is graded for real
    spool.cont_all()
    assert spool.assay_ok("requeue", job).strip() == f"{job}: failed/ -> incoming/"
    assert not os.path.exists(spool.path("failed", f"{job}.reason"))

    def graded():
        res = spool.result(job)
        return res if res and res["assay"]["status"] == "graded" else None

    r = spool.wait_for("the requeued job's real result", graded, timeout=20)
    assert r["score"] == 2 and r["assay"]["attempts"] == 1, r["assay"]
    assert spool.queue("failed") == [] and spool.queue("incoming") == []


# ---- 4. the command-line views and admin commands ----

def _start_simple(pipeline, slots=2):
    spool = pipeline()
    if slots != 2:
        ws = spool.workers()
        ws[0]["slots"] = slots
        spool.set_workers(ws)
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST, HI_CONTAINS_TEST], title="Hello"))
    # "slow" takes 2 s, to be seen in flight; its wall limit is not what the tests check
    spool.add_assignment(COURSE, "slow", assignment_doc([HI_TEST], limits=dict(LIMITS, wall_s=10)))
    spool.add_assignment("cs200", "gpuhw", assignment_doc([HI_TEST], capability="gpu"))
    src = {v: spool.make_submission(v, {"hello.py": VARIANTS[v][0]}) for v in VARIANTS}
    src["slow"] = spool.make_submission("slow", {"hello.py": slow_hello(2)})
    return spool, src


def test_prefetch_keeps_a_job_waiting_in_the_worker_inbox(pipeline):
    """`assay init`'s worker has 2 slots and prefetch 1: a third shipper
    pushes a job ahead, which waits in the worker's inbox while both slots
    grade and starts when one frees; every job is graded once."""
    spool, src = _start_simple(pipeline)
    assert spool.workers()[0]["prefetch"] == 1
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    jobs = [spool.submit(COURSE, "slow", f"p{i}", src["slow"]) for i in range(4)]
    inbox = os.path.join(spool.worker_dir("local"), "inbox")
    active = os.path.join(spool.worker_dir("local"), "active")

    def one_ahead():
        return (len([n for n in os.listdir(inbox) if n.endswith(".zip")]) == 1 and
                len([n for n in os.listdir(active) if n.endswith(".zip")]) == 2)
    spool.wait_for("two jobs grading and one waiting in the inbox", one_ahead, timeout=20)
    assert len(spool.queue("incoming")) == 1
    results = spool.wait_results(jobs, timeout=60)
    assert all(r["score"] == 2 and r["assay"]["attempts"] == 1 for r in results.values())
    assert sorted(r["assay"]["graded_by"]["slot"] for r in results.values())[-1] <= 3
    counts = wait_recorded(spool, jobs)
    assert {j: counts.get(j, 0) for j in jobs} == {j: 1 for j in jobs}


@pytest.mark.skipif(not IS_ROOT, reason="/run/assay is root's")
def test_init_keeps_the_local_worker_on_a_tmpfs_and_archives_off_the_disk(pipeline):
    """`assay init` (as root) puts the local worker's directory on a tmpfs;
    a job's archives go through memory and that directory, never the
    spool's tmp/; the directory vanishing (a reboot) loses no job: the
    shipper packs it again."""
    spool, src = _start_simple(pipeline)
    wdir = spool.worker_dir("local")
    assert wdir in spool.run_dirs(), wdir
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    seen_tmp = set()
    job = spool.submit(COURSE, "slow", "alice", src["slow"])
    spool.wait_for("the job in the worker", lambda: seen_tmp.update(os.listdir(spool.path("tmp")))
                   or any(os.listdir(os.path.join(wdir, sub)) for sub in ("inbox", "active")))
    assert subprocess.run(["stat", "-f", "-c", "%T", wdir], capture_output=True,
                          text=True).stdout.strip() == "tmpfs"
    r = spool.wait_results([job], timeout=60)[job]
    assert r["score"] == 2 and r["assay"]["attempts"] == 1
    assert not [n for n in seen_tmp if n.endswith((".zip", ".result"))], seen_tmp
    # A reboot empties the tmpfs: stop everything, remove the directory
    # with a job in it, start again.
    job2 = spool.submit(COURSE, "slow", "bob", src["slow"])
    spool.wait_for("bob's job in the worker", lambda: any(
        n.startswith(job2) for sub in ("inbox", "active") for n in os.listdir(os.path.join(wdir, sub))))
    spool.kill9_scheduler()
    spool.kill_leftovers()
    shutil.rmtree(wdir)
    spool.start()
    r2 = spool.wait_results([job2], timeout=90)[job2]
    assert r2["score"] == 2 and r2["assay"]["status"] == "graded"
    assert wait_recorded(spool, [job, job2]) == {job: 1, job2: 1}


def test_worker_refuses_a_directory_someone_else_made_in_dev_shm(tmp_path):
    """In a folder anyone may write to, a worker directory another user
    made first is refused, naming it and its owner."""
    d = f"/dev/shm/assay-local-planted-{os.getpid()}"
    os.mkdir(d)
    try:
        os.chmod(d, 0o777)
        os.chown(d, 65534, 65534)
        p = subprocess.run([exe("assay-worker"), "--dir", d, "--slots", "1", "--sandbox", "rlimit"],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0
        assert (f"worker directory {d} belongs to uid 65534, in a folder anyone may write to"
                in p.stderr), p.stderr
        assert os.listdir(d) == []
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_examples_through_the_pipeline_score_as_graded_alone(pipeline):
    """hello-io's tests read standard input: through the scheduler, the
    worker daemon and its sandbox each submission scores what
    examples/expected.json says `assay grade` gives it."""
    with open(os.path.join(EXAMPLES, "expected.json")) as f:
        expected = json.load(f)["hello-io"]["submissions"]
    spool = pipeline()
    copy_assignment(example_dir("hello-io"), spool.path("courses", COURSE, "hello-io"))
    spool.start()
    for name in ("correct", "partial"):
        src = example_submission("hello-io", name)
        job, r = spool.submit_wait(COURSE, "hello-io", name, src)
        got = {t["name"]: (t["score"], t["verdict"]) for t in r["tests"]}
        want = {n: (t["score"], t["verdict"]) for n, t in expected[name]["tests"].items()}
        assert (r["score"], got) == (expected[name]["score"], want), (name, r["tests"])


def test_status_counts_slots_and_jobs_no_worker_can_take(pipeline):
    spool, src = _start_simple(pipeline)
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    gpu = spool.submit("cs200", "gpuhw", "carol", src["right"])
    slow = spool.submit(COURSE, "slow", "bob", src["slow"])

    def busy():
        st = spool.assay_json("status")
        return st if any(s.get("job") == slow for s in st["slots"]) else None

    st = spool.wait_for("the slow job in a slot", busy)
    assert st["incoming"] == 1 and st["running"] == 1, st
    assert st["deferred"] == st["hold"] == st["failed"] == 0, st
    slots = {s["slot"]: s for s in st["slots"]}
    assert sorted(slots) == ["local.1", "local.2", "local.3"]
    busy_slot = next(s for s in st["slots"] if s.get("job") == slow)
    idle_slot = next(s for s in st["slots"] if s is not busy_slot)
    assert busy_slot["what"] == f"{COURSE}/slow/bob v1" and busy_slot["for_s"] >= 0
    assert "job" not in idle_slot, idle_slot
    assert st["courses"]["cs200"]["incoming"] == 1 and st["courses"][COURSE]["running"] == 1
    assert st["capabilities"]["gpu"]["incoming"] == 1
    assert st["capabilities"]["python"]["running"] == 1
    assert st["oldest_waiting"]["job"] == gpu and st["oldest_waiting"]["age_s"] >= 0
    assert st["cannot_run"] == [{"job": gpu, "course": "cs200", "assignment": "gpuhw",
                                 "student": "carol",
                                 "reason": 'no worker offers capability "gpu"'}]

    text = spool.assay_ok("status")
    assert re.search(rf"local\.[123]\s+busy\s+{slow}", text), text
    assert re.search(r"local\.[123]\s+idle", text), text
    assert "no enabled worker" in text and gpu in text and '"gpu"' in text, text
    assert "Queue: 1 incoming, 1 running, 0 deferred, 0 hold, 0 failed" in text, text

    # a gpu worker that is disabled: the reason names it
    ws = spool.workers() + [{"name": "gpubox", "transport": "local", "dir": "workers/gpubox",
                             "slots": 1, "capabilities": ["gpu"], "enabled": False}]
    spool.set_workers(ws)
    st = spool.assay_json("status")
    assert st["cannot_run"][0]["reason"] == \
        'capability "gpu" is offered only by disabled workers (gpubox)'

    # --wait gives up after its timeout with exit 1, and says the job is still queued
    p = spool.assay("submit", "--course", "cs200", "--assignment", "gpuhw", "--student", "dan",
                    src["right"], "--wait", "--timeout", "0.5")
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "still queued" in p.stderr, p.stderr
    gpu2 = p.stdout.strip()
    spool.wait_results([slow], timeout=30)
    st = spool.wait_for("both slots idle", lambda: (lambda s: s if s["running"] == 0 else None)(
        spool.assay_json("status")))
    assert all("job" not in s for s in st["slots"]), st["slots"]
    # the job no worker can take is still queued, never dropped
    assert st["incoming"] == 2
    assert spool.queue("incoming") == sorted([f"{gpu}.json", f"{gpu2}.json"])
    assert "waiting: no enabled worker offers capability \"gpu\"" in \
        " ".join(l.message for l in spool.job_lines(gpu))


def test_status_of_a_large_queue_comes_from_the_running_scheduler(pipeline):
    """2,100 queued jobs that no worker can take (capability "gpu"): while
    the scheduler runs, `assay status` takes the counts per course and
    capability from its scheduler.json (the total still from incoming/);
    once it stopped, from the job files — the same figures."""
    import datetime
    spool = pipeline()
    for course in ("big", "small"):
        spool.add_assignment(course, "hw", assignment_doc([HI_TEST], capability="gpu"))
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    first = spool.submit("big", "hw", "first", src)    # the oldest, and a real job file
    with open(spool.path("incoming", first + ".json")) as f:
        template = json.load(f)
    # Strictly after the first job's queued_at, which is rounded to the
    # millisecond: time.time() may still fall in that same millisecond.
    t0 = parse_time(template["queued_at"]).timestamp() + 0.002
    for i in range(2099):
        course = "small" if i < 99 else "big"
        t = t0 + i * 0.001
        stamp = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
        jid = stamp.strftime("%Y%m%dT%H%M%S.") + "%03dZ-%06x" % (stamp.microsecond // 1000, i)
        job = dict(template, id=jid, course=course, student=f"s{i:04d}",
                   queued_at=stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (stamp.microsecond // 1000))
        with open(spool.path("incoming", jid + ".json"), "w") as f:
            json.dump(job, f)
    spool.start()
    spool.wait_for("the scheduler's summary", lambda: os.path.exists(spool.path("scheduler.json")))

    def figures(st):
        return (st["incoming"], {c: r["incoming"] for c, r in st["courses"].items()},
                {c: r["incoming"] for c, r in st["capabilities"].items()},
                st["oldest_waiting"]["job"])
    want = (2100, {"big": 2001, "small": 99}, {"gpu": 2100}, first)
    st = spool.wait_for("status to count 2,100 queued jobs",
                        lambda: (lambda x: x if x["incoming"] == 2100 else None)(
                            spool.assay_json("status")))
    assert st["queue_view"]["from"] == "scheduler.json", st.get("queue_view")
    assert figures(st) == want
    assert len(st["cannot_run"]) == 50 and st["cannot_run_more"] == 2050
    assert st["cannot_run"][0]["job"] == first
    assert all(r["reason"] == 'no worker offers capability "gpu"' for r in st["cannot_run"])
    assert "and 2050 more" in spool.assay_ok("status")

    rc, in_time = spool.stop()
    assert in_time and rc == 0
    assert not os.path.exists(spool.path("scheduler.json"))
    st = spool.assay_json("status")
    assert "queue_view" not in st and figures(st) == want and len(st["cannot_run"]) == 2100


def test_results_by_job_and_by_assignment(pipeline):
    spool, src = _start_simple(pipeline)
    spool.start()
    a1, r1 = spool.submit_wait(COURSE, ASG, "alice", src["right"])
    a2, _ = spool.submit_wait(COURSE, ASG, "alice", src["wrong"])
    b1, _ = spool.submit_wait(COURSE, ASG, "bob", src["close"])

    r = spool.assay_json("results", "--job", a1)
    assert r["assay"]["job_id"] == a1 and r["score"] == 3 and r["max_score"] == 3
    assert r == spool.result(a1)
    sv = spool.assay_json("results", "--job", a1, "--view", "student")
    assert sv["score"] == 3 and sv["assay"].get("view") == "student"
    table = spool.assay_ok("results", "--job", a2)
    assert "Hello" in table and "says hi" in table and "Total: 0 / 3" in table, table

    rows = spool.assay_json("results", "--course", COURSE, "--assignment", ASG)
    assert [(x["student"], x["version"], x["score"], x["max_score"], x["status"], x["job"])
            for x in rows] == [("alice", "2", 0, 3, "graded", a2), ("bob", "1", 1, 3, "graded", b1)]
    assert all(parse_time(x["finished_at"]) for x in rows)
    table = spool.assay_ok("results", "--course", COURSE, "--assignment", ASG)
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["STUDENT", "VERSION", "SCORE"], table
    # the last column: no late penalty
    assert re.search(rf"^alice\s+2\s+0 / 3\s+graded\s+\S+\s+{a2}\s+-$", table, re.M), table
    assert re.search(rf"^bob\s+1\s+1 / 3\s+graded\s+\S+\s+{b1}\s+-$", table, re.M), table
    assert lines[-1] == "2 results", table

    rows = spool.assay_json("results", "--course", COURSE, "--assignment", ASG,
                            "--student", "alice")
    assert sorted((x["version"], x["score"], x["job"]) for x in rows) == [("1", 3, a1),
                                                                        ("2", 0, a2)]
    p = spool.assay("results", "--job", "20200101T000000.000Z-000000")
    assert p.returncode != 0 and "no job" in p.stderr, p.stderr


def test_hold_release_requeue(pipeline):
    spool, src = _start_simple(pipeline)
    # queued before the scheduler runs, so it can be held before it is taken
    held = spool.submit(COURSE, ASG, "dora", src["right"])
    out = spool.assay_ok("hold", held)
    assert out.strip() == f"{held}: incoming/ -> hold/"
    # a job in failed/ as a shipper leaves it after its attempts ran out
    dead = spool.submit(COURSE, ASG, "eve", src["close"])
    with open(spool.path("incoming", f"{dead}.json")) as f:
        doc = json.load(f)
    doc.update(attempt=3, token="0" * 32, failed_on=["local"])
    with open(spool.path("failed", f"{dead}.json"), "w") as f:
        json.dump(doc, f)
    with open(spool.path("failed", f"{dead}.reason"), "w") as f:
        f.write("worker local did not return a result within 13 s\n")
    os.unlink(spool.path("incoming", f"{dead}.json"))
    gpu = spool.submit("cs200", "gpuhw", "carol", src["right"])

    spool.start()
    other, _ = spool.submit_wait(COURSE, ASG, "fred", src["right"])
    assert spool.queue("hold") == [f"{held}.json"]
    assert spool.result(held) is None
    p = spool.assay("results", "--job", held)
    assert p.returncode != 0 and "hold/" in p.stderr, p.stderr
    assert spool.assay_json("status")["hold"] == 1
    p = spool.assay("hold", held)
    assert p.returncode != 0 and "hold/" in p.stderr, p.stderr
    p = spool.assay("release", gpu)
    assert p.returncode != 0 and "incoming/" in p.stderr, p.stderr

    assert spool.assay_ok("release", held).strip() == f"{held}: hold/ -> incoming/"
    r = spool.wait_results([held])[held]
    assert r["score"] == 3 and r["assay"]["attempts"] == 1

    # the job no worker can take can be held, released and requeued
    assert spool.assay_ok("hold", gpu).strip() == f"{gpu}: incoming/ -> hold/"
    assert spool.assay_ok("requeue", gpu).strip() == f"{gpu}: hold/ -> incoming/"
    p = spool.assay("requeue", gpu)
    assert p.returncode != 0 and "incoming/" in p.stderr, p.stderr
    assert spool.queue("incoming") == [f"{gpu}.json"]

    # requeue from failed/: fresh attempts, the reason goes, then it is graded
    assert spool.assay_ok("requeue", dead).strip() == f"{dead}: failed/ -> incoming/"
    r = spool.wait_results([dead])[dead]
    assert r["score"] == 1 and r["assay"]["attempts"] == 1, r["assay"]
    assert r["assay"]["graded_by"]["worker"] == "local"
    assert spool.queue("failed") == []
    spool.wait_for("the job file removed", lambda: spool.slot_of(dead) is None)
    p = spool.assay("requeue", dead)
    assert p.returncode != 0 and "no job" in p.stderr, p.stderr
    assert wait_recorded(spool, [other, held, dead]) == {other: 1, held: 1, dead: 1}


def test_regrade_replaces_the_result_of_the_same_version(pipeline):
    spool, src = _start_simple(pipeline)
    spool.start()
    a1, _ = spool.submit_wait(COURSE, ASG, "alice", src["wrong"])
    a2, _ = spool.submit_wait(COURSE, ASG, "alice", src["right"])
    b1, _ = spool.submit_wait(COURSE, ASG, "bob", src["close"])
    old = {j: spool.result_rel(j) for j in (a1, a2, b1)}
    # the instructor changes the points, then regrades
    spool.add_assignment(COURSE, ASG, assignment_doc([dict(HI_TEST, points=5), HI_CONTAINS_TEST],
                                                     title="Hello"))
    before = set(os.listdir(spool.path("jobs")))
    out = spool.assay_ok("regrade", "--course", COURSE, "--assignment", ASG)
    assert out.strip() == f"queued 2 submissions of {COURSE}/{ASG} for regrading (batch priority)"
    new = sorted(set(os.listdir(spool.path("jobs"))) - before)
    assert len(new) == 2, new
    by_rel = {spool.result_rel(j): j for j in new}
    assert sorted(by_rel) == sorted([old[a2], old[b1]]), "regrade takes each latest version"
    results = spool.wait_results(new, timeout=30)
    na2, nb1 = by_rel[old[a2]], by_rel[old[b1]]
    assert results[na2]["score"] == 6 and results[na2]["max_score"] == 6
    assert results[nb1]["score"] == 1 and results[nb1]["max_score"] == 6
    for j in new:
        a = results[j]["assay"]
        assert a["priority"] == "batch" and a["attempts"] == 1 and j not in (a1, a2, b1)
        check_history(results[j], j)
    # version 1 of alice untouched; one result directory per version
    assert spool.result(a1)["max_score"] == 3
    assert sorted(spool.result_dirs()) == sorted(old.values())
    p = spool.assay("results", "--job", a2)
    assert p.returncode != 0 and "superseded" in p.stderr, p.stderr
    assert spool.assay_json("results", "--job", na2)["score"] == 6
    rows = spool.assay_json("results", "--course", COURSE, "--assignment", ASG)
    assert [(x["student"], x["job"]) for x in rows] == [("alice", na2), ("bob", nb1)]


def test_regrade_waits_behind_interactive_submissions(pipeline):
    spool, src = _start_simple(pipeline, slots=1)
    spool.start()
    firsts = [spool.submit_wait(COURSE, ASG, u, src["right"])[0] for u in ("u1", "u2", "u3")]
    spool.stop()
    out = spool.assay_ok("regrade", "--course", COURSE, "--assignment", ASG)
    assert out.startswith("queued 3 submissions")
    batch = [f[:-5] for f in spool.queue("incoming")]
    interactive = [spool.submit(COURSE, ASG, u, src["close"]) for u in ("u4", "u5")]
    spool.start()
    results = spool.wait_results(batch + interactive, timeout=30)
    order = [l.job for l in spool.log_lines() if l.message.startswith("assigned to slot")]
    order = [j for j in order if j in results]
    assert order[:2] == interactive and sorted(order[2:]) == sorted(batch), order
    assert {results[j]["assay"]["priority"] for j in batch} == {"batch"}
    assert {results[j]["assay"]["priority"] for j in interactive} == {"interactive"}
    assert all(spool.result(j) is None for j in firsts)   # replaced by the regrade


def test_logs_filters(pipeline):
    spool, src = _start_simple(pipeline)
    # a line from long ago, to be left out by --since
    with open(spool.path("logs", "assay.log"), "a") as f:
        f.write("2020-01-01T00:00:00.000Z assay-scheduler[1] - - info an old line\n")
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    job, _ = spool.submit_wait(COURSE, ASG, "alice", src["right"])
    # something that logs an error: a file in incoming/ that is not a job
    bad = spool.path("tmp", "not-a-job")
    with open(bad, "w") as f:
        f.write("{ not json")
    os.rename(bad, spool.path("incoming", "20200101T000000.000Z-badbad.json"))
    spool.wait_for("the bad file in failed/, logged", lambda: any(
        "20200101T000000.000Z-badbad.json" in l.message for l in spool.log_lines()))
    wait_recorded(spool, [job])

    def parsed(out):
        lines = [l for l in out.splitlines() if re.match(r"\d{4}-\d\d-\d\dT", l)]
        return [LogLine(l) for l in lines]

    by_job = parsed(spool.assay_ok("logs", "--job", job))
    assert by_job and all(l.job == job for l in by_job), by_job
    procs = {l.process for l in by_job}
    assert {"assay-scheduler", "assay-shipper", "assay-worker"} <= procs, by_job
    msgs = [l.message for l in by_job]
    assert any(m.startswith("assigned to slot local.") for m in msgs), msgs
    assert any(m.startswith("result recorded") for m in msgs), msgs
    # the grader's lines, written by the shipper as its own: "worker: " and the line
    graded = [l for l in by_job if l.message.startswith("worker: ")
              and re.search(r" assay-worker\[\d+\] local " + re.escape(job) +
                            r" info graded: score 3 of 3$", l.message)]
    assert [l.process for l in graded] == ["assay-shipper"], msgs
    assert len(by_job) == len(spool.job_lines(job))

    by_worker = parsed(spool.assay_ok("logs", "--worker", "local"))
    assert by_worker and all(l.worker == "local" for l in by_worker)
    assert {"assay-shipper", "assay-worker"} <= {l.process for l in by_worker}
    assert any(l.job == job for l in by_worker)
    assert parsed(spool.assay_ok("logs", "--worker", "nobody")) == []

    errors = parsed(spool.assay_ok("logs", "--errors"))
    assert errors and all(l.level == "error" for l in errors), errors
    assert any("20200101T000000.000Z-badbad.json" in l.message and "failed/" in l.message
               for l in errors), errors

    everything = spool.assay_ok("logs")
    recent = spool.assay_ok("logs", "--since", "1h")
    assert "an old line" in everything and "an old line" not in recent
    assert len(parsed(recent)) == len(parsed(everything)) - 1
    assert len(parsed(spool.assay_ok("logs", "--job", job, "--since", "1h"))) == len(by_job)
    p = spool.assay("logs", "--since", "soon")
    assert p.returncode == 2 and "--since" in p.stderr, p.stderr

    # "from or about worker W": the scheduler's lines about its slots and daemon too
    about = [l for l in by_worker if l.process == "assay-scheduler"]
    assert any(l.message.startswith("assigned to slot local.") for l in about), \
        "assay logs --worker local leaves out the scheduler's lines about worker local"


# ---- 5. bad input ----

def _drop_in_incoming(spool, name, content):
    tmp = spool.path("tmp", "test-" + name)
    with open(tmp, "w") as f:
        f.write(content)
    os.rename(tmp, spool.path("incoming", name))


def _reason_of(spool, name):
    """The .reason beside failed/NAME (as failed/NAME.reason or failed/ID.reason)."""
    stem = name[:-5] if name.endswith(".json") else name
    for cand in (f"{name}.reason", f"{stem}.reason"):
        p = spool.path("failed", cand)
        if os.path.exists(p):
            with open(p) as f:
                return f.read()
    return None


def test_malformed_job_files_go_to_failed_and_the_scheduler_carries_on(pipeline):
    spool, src = _start_simple(pipeline)
    spool.start()
    before, _ = spool.submit_wait(COURSE, ASG, "alice", src["right"])
    valid = {"id": "20200101T000000.000Z-aaaaaa", "course": COURSE, "assignment": ASG,
             "student": "zed", "version": 1, "submission": f"submissions/{COURSE}/{ASG}/zed/1",
             "queued_at": "2020-01-01T00:00:00.000Z", "priority": "interactive",
             "capability": "python", "attempt": 0, "token": None}
    bad = {
        "20200101T000000.000Z-bad001.json": ("{ not json", None),
        "20200101T000000.000Z-bad002.json": (json.dumps({k: v for k, v in valid.items()
                                                         if k != "course"}), "course"),
        "20200101T000000.000Z-bad003.json": (json.dumps(dict(valid, version=0)), "version"),
        "20200101T000000.000Z-bad004.json": (json.dumps(dict(valid, submission="../../etc")),
                                             "submission"),
        "20200101T000000.000Z-bad005.json": (json.dumps(valid), "does not match"),
        "20200101T000000.000Z-bad006.json": ("[1, 2, 3]", None),
    }
    for name, (content, _) in bad.items():
        _drop_in_incoming(spool, name, content)
    # unreadable ones: a symbolic link, a FIFO, a directory, a huge file
    special = {"20200101T000000.000Z-bad007.json": "symlink",
               "20200101T000000.000Z-bad008.json": "fifo",
               "20200101T000000.000Z-bad009.json": "dir",
               "20200101T000000.000Z-bad010.json": "huge"}
    for name, kind in special.items():
        tmp = spool.path("tmp", "test-" + name)
        if kind == "symlink":
            os.symlink("/etc/passwd", tmp)
        elif kind == "fifo":
            os.mkfifo(tmp)
        elif kind == "dir":
            os.mkdir(tmp)
        else:
            with open(tmp, "w") as f:
                f.write(json.dumps(dict(valid, id=name[:-5], pad=" " * (2 << 20))))
        os.rename(tmp, spool.path("incoming", name))
        bad[name] = (None, None)
    after, r = spool.submit_wait(COURSE, ASG, "bob", src["close"])
    assert r["score"] == 1
    spool.wait_for("every bad file in failed/",
                   lambda: set(bad) <= set(spool.queue("failed")), timeout=20)
    for name, (_, says) in bad.items():
        reason = _reason_of(spool, name)
        assert reason and reason.strip(), f"no .reason for {name}: {spool.queue('failed')}"
        if says:
            assert says in reason, (name, reason)
        spool.wait_for(f"the error line about {name}", lambda: any(
            name in l.message and l.level == "error" for l in spool.log_lines()), timeout=5)
    assert spool.queue("incoming") == []
    assert spool.sched.poll() is None, "the scheduler died"
    later, r = spool.submit_wait(COURSE, ASG, "carol", src["wrong"])
    assert r["score"] == 0
    assert wait_recorded(spool, [before, after, later]) == {before: 1, after: 1, later: 1}

    # a file not even named like a job is moved out at the next scan (start-up)
    spool.stop()
    _drop_in_incoming(spool, "junk.txt", "hello")
    spool.start()
    spool.wait_for("junk.txt in failed/", lambda: "junk.txt" in spool.queue("failed"))
    assert "not a job file" in _reason_of(spool, "junk.txt")
    assert spool.queue("incoming") == []
    problems = []
    # docs/SPOOL.md: a failed job file ID.json has its reason in failed/ID.reason
    # (where `assay requeue` looks for it)
    misnamed = [f"{n}.reason" for n in bad if os.path.exists(spool.path("failed", f"{n}.reason"))]
    if misnamed:
        problems.append(f"reasons written as failed/ID.json.reason: {misnamed}")
    # `assay status` counts what is in failed/, readable or not
    st = spool.assay_json("status")
    if st["failed"] != len(bad):
        problems.append(f"assay status counts {st['failed']} failed jobs, failed/ holds "
                        f"{len(bad)} job files (all but one unreadable)")
    assert problems == [], "\n".join(problems)


def test_unknown_course_or_assignment_gives_an_error_result(pipeline):
    spool, src = _start_simple(pipeline)
    spool.start()
    for course, asg in (("nocourse", ASG), (COURSE, "nohw")):
        p = spool.assay("submit", "--course", course, "--assignment", asg, "--student", "alice",
                        src["right"], "--wait", "--timeout", "30", "--json", "--view",
                        "instructor")
        assert p.returncode == 0, p.stderr
        assert f"courses/{course}/{asg}/assignment.json" in p.stderr, p.stderr
        job, _, rest = p.stdout.partition("\n")
        r = json.loads(rest)
        a = r["assay"]
        assert a["status"] == "error" and a["job_id"] == job.strip()
        assert a["error"]["category"] == "assignment", a
        assert f"courses/{course}/{asg}/assignment.json" in a["error"]["message"], a
        assert r["score"] == 0 and r["tests"] == []
        assert spool.result_rel(job.strip()) == f"results/{course}/{asg}/alice/1"
    assert spool.queue("failed") == [] and spool.queue("incoming") == []


def test_second_submission_while_the_first_is_queued(pipeline):
    spool, src = _start_simple(pipeline)
    first = spool.submit(COURSE, ASG, "alice", src["wrong"])
    second = spool.submit(COURSE, ASG, "alice", src["right"])
    assert sorted(spool.queue("incoming")) == sorted([f"{first}.json", f"{second}.json"])
    spool.start()
    results = spool.wait_results([first, second])
    assert spool.result_rel(first) == f"results/{COURSE}/{ASG}/alice/1"
    assert spool.result_rel(second) == f"results/{COURSE}/{ASG}/alice/2"
    assert results[first]["score"] == 0 and results[first]["assay"]["version"] == 1
    assert results[second]["score"] == 3 and results[second]["assay"]["version"] == 2
    # and while the first is being graded
    third = spool.submit(COURSE, "slow", "bob", src["slow"])
    spool.wait_for("the slow job in a slot", lambda: spool.slot_of(third))
    fourth = spool.submit(COURSE, "slow", "bob", src["right"])
    results = spool.wait_results([third, fourth], timeout=30)
    assert [spool.result_rel(j) for j in (third, fourth)] == [
        f"results/{COURSE}/slow/bob/1", f"results/{COURSE}/slow/bob/2"]
    assert results[third]["score"] == 2 and results[fourth]["score"] == 2
    assert len(spool.result_dirs()) == 4


def _fill(path):
    """Fills the file system of PATH; returns the filler file."""
    filler = os.path.join(path, "filler")
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 20, 64 << 10, 4096, 1):
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


@pytest.mark.skipif(not IS_ROOT, reason="mounting a tmpfs needs root")
def test_full_disk_is_reported_and_loses_nothing_queued(pipeline):
    spool = pipeline(tmpfs_mb=2)
    # The local worker's directory is on the same 2 MB disk: without this it
    # would (rightly) refuse jobs for lack of space. This test is about the
    # primary's disk.
    spool.set_workers([dict(w, min_free_mb=0) for w in spool.workers()])
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST, HI_CONTAINS_TEST]))
    right = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    big = spool.make_submission("big", {"hello.py": VARIANTS["right"][0],
                                        "data.txt": "x" * 200000})
    queued = [spool.submit(COURSE, ASG, f"q{i}", right) for i in range(3)]
    files = {n: open(spool.path("incoming", n)).read() for n in spool.queue("incoming")}
    jobs_before = sorted(os.listdir(spool.path("jobs")))
    filler = _fill(spool.root)

    p = spool.assay("submit", "--course", COURSE, "--assignment", ASG, "--student", "late", big)
    assert p.returncode != 0, p.stdout
    assert "No space left on device" in p.stderr or "disk is full" in p.stderr, p.stderr
    assert "nothing was queued" in p.stderr, p.stderr
    assert p.stdout == ""
    # what was queued is intact; nothing half-made is visible
    assert {n: open(spool.path("incoming", n)).read() for n in spool.queue("incoming")} == files
    for text in files.values():
        json.loads(text)
    assert sorted(os.listdir(spool.path("jobs"))) == jobs_before
    assert not os.path.exists(spool.path("submissions", COURSE, ASG, "late", "1"))

    # the scheduler started on a full disk must not lose or fail them either
    spool.start()
    spool.wait_for("the shippers to hold jobs", lambda: sum(map(len, spool.slot_jobs().values())) == 3)
    assert spool.queue("failed") == [] and spool.queue("deferred") == []
    assert len(spool.queue("incoming")) == 0
    os.unlink(filler)
    results = spool.wait_results(queued, timeout=60)
    assert all(r["score"] == 3 for r in results.values())
    job, r = spool.submit_wait(COURSE, ASG, "late", big)
    assert r["score"] == 3
    assert spool.queue("failed") == [] and spool.queue("deferred") == []


# ---- 6. graceful stop ----

def test_sigterm_stops_everything_and_keeps_the_queue(pipeline):
    spool, src = _start_simple(pipeline)
    spool.add_assignment(COURSE, "half", assignment_doc([HI_TEST]))
    half = spool.make_submission("half", {"hello.py": slow_hello(0.5)})
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    jobs = [spool.submit(COURSE, "half", f"u{i}", half) for i in range(8)]
    spool.wait_for("a job in a slot", lambda: any(spool.slot_of(j) for j in jobs))
    rc, in_time = spool.stop()
    assert in_time and rc == 0, (rc, spool.scheduler_output())
    assert spool.leftovers() == [], "processes outlived the scheduler"
    left = [n[:-5] for n in spool.queue("incoming")]
    assert left, "every job was graded before the stop: the test proves nothing"
    in_slots = [n[:-5] for names in spool.slot_jobs().values() for n in names]
    done = [j for j in jobs if spool.result(j) is not None]
    assert sorted(left + in_slots + done) == sorted(jobs), (left, in_slots, done)
    for n in spool.queue("incoming"):
        with open(spool.path("incoming", n)) as f:
            assert json.load(f)["id"] == n[:-5]
    stop_line = [l for l in spool.log_lines() if l.message.startswith("stopping on signal 15")]
    assert stop_line and stop_line[0].process == "assay-scheduler"

    spool.start()
    results = spool.wait_results(jobs, timeout=60)
    assert all(r["score"] == 2 for r in results.values())
    counts = wait_recorded(spool, jobs)
    assert {j: counts.get(j, 0) for j in jobs} == {j: 1 for j in jobs}
    assert all(results[j]["assay"]["attempts"] == 1 for j in jobs), \
        [results[j]["assay"]["attempts"] for j in jobs]
    rc, in_time = spool.stop()
    assert in_time and rc == 0
    assert spool.leftovers() == []
    assert_queues_empty(spool)


# ---- security: a run sees nothing of the worker, the queue or hidden tests ----

SNOOP = r'''
import os
secret = "TOP-SECRET-" + "@TOKEN@"  # joined here only: the whole secret is in no file but the hidden one
found = []
# cwd is WORKER/tmp/assay-XXXX/test-N; walk everything above that a run might reach
start = os.path.abspath(os.path.join(os.getcwd(), "..", "..", "..", "..", ".."))
for top in (start, "/tmp"):
    for dirpath, dirs, files in os.walk(top):
        if dirpath.startswith(os.getcwd()):
            continue
        for name in files:
            try:
                with open(os.path.join(dirpath, name), errors="replace") as f:
                    if secret in f.read(1 << 20):
                        found.append(os.path.join(dirpath, name))
            except OSError:
                pass
print("found" if found else "nothing", found[:3])
'''


def test_a_run_cannot_read_queued_jobs_or_hidden_tests(pipeline):
    spool = pipeline()
    spool.start()
    doc = assignment_doc([{"name": "snoop", "kind": "io", "points": 1,
                           "command": "python3 snoop.py", "expected_stdout": "nothing",
                           "compare": "contains"},
                          {"name": "hidden", "kind": "io", "points": 1, "visibility": "hidden",
                           "command": "python3 snoop.py",
                           "expected_stdout_file": "tests/secret.out", "compare": "contains"}])
    doc["required_files"] = ["snoop.py"]
    token = os.urandom(8).hex()
    spool.add_assignment(COURSE, ASG, doc, {"tests/secret.out": "TOP-SECRET-" + token + "\n"})
    sub = spool.make_submission("snoop", {"snoop.py": SNOOP.replace("@TOKEN@", token)})
    job, r = spool.submit_wait(COURSE, ASG, "eve", sub)
    tests = by_name(r)
    assert tests["snoop"]["verdict"] == "passed", tests["snoop"]["output"]
    assert tests["hidden"]["verdict"] == "failed"
