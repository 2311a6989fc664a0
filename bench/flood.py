#!/usr/bin/python3
"""flood.py - a flood of submissions on one local worker with two slots.

    /usr/bin/python3 bench/flood.py [--jobs N] [--threads T] [--rounds R] [--build DIR] [--keep]
                                    [--prefetch P,...] [--sandbox namespace|rlimit]
                                    [--baseline runner|pytest]

Creates a spool in a temporary directory (under $TMPDIR, else /tmp;
`TMPDIR=/dev/shm` puts it on a tmpfs, which keeps nothing across a
power cut but tells apart what the spool's disk costs; `assay init`: one
local worker, 2 slots), adds a pytest assignment with one instructor test
(tests/test_one.py: `from solution import f` / `def test_f(): assert f() == 1`)
and starts `assay-scheduler` (it starts the shippers and the worker); one
warm-up submission is graded before the clock starts.  Then:

  flood   N submissions of solution.py, one per student, queued with
          `assay submit` (no --wait), T at a time (default 4) as fast as
          they go, started by xargs (Python threads starting them took
          0.3 ms of CPU per job fighting over the interpreter lock); the
          wall time runs from the first submit's start until the last
          result is in results/ (the change time of the last version
          directory the shippers renamed in).
  bare    the same grading command run bare, two at a time (2 threads, like
          the 2 slots), N times: by default (--baseline runner) exactly the
          command the engine runs, `python3 -I .assay/pytest_runner.py
          .assay/pytest-report.jsonl tests/test_one.py`, each in a fresh
          directory holding solution.py, tests/test_one.py and the runner
          (made beforehand, outside the clock, in /dev/shm when there is
          one: the worker's work directories are on a tmpfs too, and the
          same runs on this machine's disk took 2-3 % more CPU), with the
          environment the engine gives a test; --baseline pytest runs
          plain `python3 -m pytest -q -p no:cacheprovider
          tests/test_one.py` instead.  It runs
          before and after each flood (bare, flood, bare, flood, ..., bare
          with --rounds R), so drift of the machine shows; each flood's ratio
          is taken against the mean of the bare runs on either side.

It prints the wall times and the ratio flood / bare, the same ratio per
CPU second the tests took (bare: its runs' CPU; flood: the tests' cpu_s),
which takes out the pace of the machine, how much of the cores' time
went idle (time the tests could have had; /proc/stat), checks that every
one of the N results exists and scored 1 (an error and counts otherwise), and
adds figures from the results (wait, round trip, per-slot gaps, and the
flood's wall time over the sum of its own pytest runs' wall_s divided by the
slots: a second ratio that other work on the machine disturbs less, since
its baseline ran at the same moments).  Not a
test: no assertion on time; figures go to docs/PERFORMANCE.md.  The spool
and every process started are removed at the end, also on error or Ctrl-C.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from run_dirs import remove_run_dirs

HERE = os.path.dirname(os.path.abspath(__file__))
COURSE, ASSIGNMENT = "bench", "flood"
POLL_S = 0.050   # how often the results are looked for; the times come from the files
STALL_S = 120  # give up when no new result appears for this long

ASSIGNMENT_JSON = {
    "assay": 1,
    "title": "Flood benchmark",
    "capability": "python",
    "required_files": ["solution.py"],
    "limits": {"wall_s": 10, "cpu_s": 5, "memory_mb": 256, "processes": 32,
               "file_mb": 8, "output_kb": 256},
    "tests": [{"name": "unit test", "kind": "pytest", "points": 1,
               "files": ["tests/test_one.py"]}],
}
TEST_ONE = "from solution import f\n\n\ndef test_f():\n    assert f() == 1\n"
SOLUTION = "def f():\n    return 1\n"
# The bare baselines.  "runner" is the very command the engine runs for
# this test (engine/kinds/pytest.c: Assay's pytest runner, which writes a
# report of events), in a directory laid out as the engine lays out a work
# directory; "pytest" is plain pytest, for comparison.
RUNNER = os.path.join(os.path.dirname(HERE), "engine", "python", "pytest_runner.py")
BARE = {
    "runner": ["python3", "-I", ".assay/pytest_runner.py", ".assay/pytest-report.jsonl",
               "tests/test_one.py"],
    "pytest": ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_one.py"],
}


def iso(s):
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def pct(xs, p):
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def bare_env(d):
    """The environment the engine gives a test (engine/engine.c, build_env)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": d, "TMPDIR": d, "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg",
            "TERM": "dumb"}


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run_bare(tmp, n, tag, baseline):
    """N bare runs of the grading command, two at a time; returns (wall
    seconds, failures, CPU seconds)."""
    root = os.path.join(tmp, "bare-" + tag)
    dirs = []
    with open(RUNNER) as f:
        runner = f.read()
    for i in range(n):
        d = os.path.join(root, "%04d" % i)
        write(os.path.join(d, "solution.py"), SOLUTION)
        write(os.path.join(d, "tests", "test_one.py"), TEST_ONE)
        write(os.path.join(d, ".assay", "pytest_runner.py"), runner)
        dirs.append(d)

    def one(d):
        return subprocess.run(BARE[baseline], cwd=d, env=bare_env(d), stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL).returncode

    c0 = children_cpu()
    i0 = idle_cpu()
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        codes = list(ex.map(one, dirs))
    wall = time.monotonic() - t0
    idle = idle_share(i0, t0)
    cpu = children_cpu() - c0
    # The directories stay until the end of the benchmark: removing 2,000
    # files and folders here would tax the flood that follows (ext4
    # without a journal, as on these machines, steps over every inode freed
    # in the last minutes, one by one, each time it creates a file).
    return wall, sum(1 for c in codes if c != 0), cpu, idle


def own_cpu():
    """CPU seconds of this process (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu():
    """CPU seconds of every child this process has waited for, and theirs."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


TICK = os.sysconf("SC_CLK_TCK")


def idle_cpu():
    """CPU seconds all cores have spent idle (or waiting for I/O) since boot."""
    with open("/proc/stat") as f:
        fields = f.readline().split()
    return (int(fields[4]) + int(fields[5])) / TICK


def idle_share(idle0, t0):
    """The share of the cores' time since monotonic T0 (when idle_cpu()
    read IDLE0) they spent idle."""
    return (idle_cpu() - idle0) / ((time.monotonic() - t0) * os.cpu_count())


def tree_cpu(sid):
    """Per process name in session SID: (own CPU s, CPU s of its waited-for children)."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                st = f.read()
        except OSError:
            continue
        name = st[st.index("(") + 1:st.rindex(")")]
        fields = st[st.rindex(")") + 2:].split()
        if int(fields[3]) != sid:
            continue
        own = (int(fields[11]) + int(fields[12])) / TICK
        kids = (int(fields[13]) + int(fields[14])) / TICK
        a, b = out.get(name, (0.0, 0.0))
        out[name] = (a + own, b + kids)
    return out


def stop_scheduler(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        print("warning: assay-scheduler did not stop within 30 s of SIGTERM; killing its group",
              file=sys.stderr)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def flood(tmp, build, n, threads, tag, prefetch=None, sandbox=None):
    assay = os.path.join(build, "assay")
    spool = os.path.join(tmp, "spool-" + tag)
    subprocess.run([assay, "init", spool], check=True, stdout=subprocess.DEVNULL)
    adir = os.path.join(spool, "courses", COURSE, ASSIGNMENT)
    write(os.path.join(adir, "assignment.json"), json.dumps(ASSIGNMENT_JSON, indent=1))
    write(os.path.join(adir, "tests", "test_one.py"), TEST_ONE)
    sub = os.path.join(tmp, "submission-" + tag, "solution.py")
    write(sub, SOLUTION)

    def cmd(student, wait=False):
        c = [assay, "submit", "--spool", spool, "--course", COURSE, "--assignment", ASSIGNMENT,
             "--student", student, sub]
        return c + ["--wait", "--timeout", "60"] if wait else c

    with open(os.path.join(spool, "workers.json")) as f:
        workers = json.load(f)
    w = workers["workers"][0]
    if prefetch is not None:
        w["prefetch"] = prefetch
    if sandbox is not None:
        w["sandbox"] = sandbox
    with open(os.path.join(spool, "workers.json"), "w") as f:
        json.dump(workers, f)
    grading_slots = w["slots"]
    shippers = w["slots"] + w.get("prefetch", 0)
    sched = None
    logf = open(os.path.join(tmp, "scheduler.out"), "w")
    try:
        sched = subprocess.Popen([os.path.join(build, "assay-scheduler"), "--spool", spool],
                                 stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        # Warm-up: the scheduler, shippers and worker are up and one job went
        # through (submitted once the scheduler holds its lock: before, submit
        # warns that no scheduler runs).
        deadline = time.monotonic() + 10
        while not os.path.exists(os.path.join(spool, "scheduler.lock")) \
                and time.monotonic() < deadline and sched.poll() is None:
            time.sleep(0.01)
        subprocess.run(cmd("warmup", wait=True), check=True, stdout=subprocess.DEVNULL)

        students = ["s%04d" % i for i in range(n)]
        paths = {s: os.path.join(spool, "results", COURSE, ASSIGNMENT, s, "1", "results.json")
                 for s in students}
        submit_fail = []
        errors = tempfile.TemporaryFile("w+")

        cpu0 = tree_cpu(sched.pid)
        c0 = children_cpu()
        self0 = own_cpu()
        w0 = time.time()
        i0 = idle_cpu()
        t0 = time.monotonic()
        submitter = subprocess.Popen(["xargs", "-P", str(threads), "-I", "{}"] + cmd("{}"),
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=errors, text=True)
        submitter.stdin.write("\n".join(students) + "\n")
        submitter.stdin.close()
        # Watch the results while the submits are still going.
        pending = list(students)
        seen = {}
        t_submitted = None
        last_progress = time.monotonic()
        while pending:
            if t_submitted is None and submitter.poll() is not None:
                t_submitted = time.monotonic() - t0
            still = []
            missing = 0
            for s in pending:
                # Results come roughly in order (FCFS): look past the first
                # few missing ones only once the rest is done.
                if missing < 16 or t_submitted is not None and len(pending) <= 64:
                    if os.path.exists(paths[s]):
                        seen[s] = time.monotonic() - t0
                        continue
                    missing += 1
                still.append(s)
            if len(still) < len(pending):
                last_progress = time.monotonic()
            pending = still
            if pending and time.monotonic() - last_progress > STALL_S:
                break
            if pending:
                time.sleep(POLL_S)
        # A result becomes visible when the shipper renames its version
        # directory into results/, which sets the directory's ctime: the
        # last of those ends the flood, to the file system's clock tick
        # (4 ms), with no need to poll often (polling is CPU the tests lose).
        idle = idle_share(i0, t0)   # to the last look, at most POLL_S after the end
        wall = float("nan")
        if seen:
            wall = max(os.stat(os.path.dirname(paths[s])).st_ctime for s in seen) - w0
        if submitter.wait() != 0:
            errors.seek(0)
            lines = errors.read().strip().splitlines() or ["(nothing on stderr)"]
            submit_fail.append((submitter.returncode, len(lines), lines[0]))
        errors.close()
        submit_cpu = children_cpu() - c0
        bench_cpu = own_cpu() - self0
        cpu1 = tree_cpu(sched.pid)
        cpu = {k: (v[0] - cpu0.get(k, (0, 0))[0], v[1] - cpu0.get(k, (0, 0))[1])
               for k, v in cpu1.items()}
        if t_submitted is None:
            t_submitted = time.monotonic() - t0
        results = {}
        for s in students:
            try:
                with open(paths[s]) as f:
                    results[s] = json.load(f)
            except (OSError, ValueError):
                pass
        with open(os.path.join(spool, "logs", "assay.log")) as f:
            log = f.read().splitlines()
        log_tail = log[-20:]
        # Anything unusual during the run: warnings, errors, restarted children.
        log_odd = [l for l in log if " warn " in l or " error " in l]
        starts = sum(1 for l in log if " info started shipper " in l or " info started worker " in l)
    finally:
        stop_scheduler(sched)
        logf.close()
    return {"wall": wall, "w0": w0, "idle": idle, "bench_cpu": bench_cpu,
            "grading_slots": grading_slots, "submit_cpu": submit_cpu, "cpu": cpu,
            "submitted": t_submitted, "submit_fail": submit_fail,
            "pending": pending, "results": results, "log_tail": log_tail, "log_odd": log_odd,
            "restarts": starts - shippers - 1, "shippers": shippers}


def tests_cpu(results):
    """CPU seconds the tests themselves took (their cpu_s), over all results."""
    return sum(r["tests"][0].get("cpu_s", 0) for r in results.values() if r.get("tests"))


def report(f, n):
    """Checks one flood's results and prints figures from them; True if all is well."""
    res = f["results"]
    problems = []
    if f["submit_fail"]:
        rc, lines, err = f["submit_fail"][0]
        problems.append("submits failed (xargs exit %d, %d lines on stderr, the first: %s)"
                        % (rc, lines, err))
    missing = n - len(res)
    if missing:
        problems.append("%d of %d results missing (stalled %d s with no new result)"
                        % (missing, n, STALL_S))
    bad = {s: r for s, r in res.items()
           if r.get("score") != 1 or r.get("assay", {}).get("status") != "graded"}
    if bad:
        s, r = next(iter(bad.items()))
        problems.append("%d results did not score 1 (first: %s: score %s, %s)"
                        % (len(bad), s, r.get("score"), r.get("assay", {}).get("error")))
    for p in problems:
        print("  ERROR: " + p)
    if problems:
        print("  last log lines:\n    " + "\n    ".join(f["log_tail"]))
    print("  results: %d of %d present, %d scored 1 of 1"
          % (len(res), n, len(res) - len(bad)))
    retried = sum(1 for r in res.values() if r.get("assay", {}).get("attempts", 1) != 1)
    print("  jobs with more than one attempt: %d; shippers/workers restarted: %d; "
          "warnings and errors in logs/assay.log: %d"
          % (retried, f["restarts"], len(f["log_odd"])))
    for l in f["log_odd"][:10]:
        print("    " + l)
    if not res:
        return False

    a = [r["assay"] for r in res.values()]
    first_q = min(iso(x["queued_at"]) for x in a)
    last_f = max(iso(x["finished_at"]) for x in a)
    print("  from the results (1 ms timestamps):")
    print("    first queued_at .. last finished_at  %8.2f s" % (last_f - first_q))
    print("    wait_s                           median %7.2f s   max %7.2f s"
          % (statistics.median(x["wait_s"] for x in a), max(x["wait_s"] for x in a)))
    gs = [x["grading_s"] for x in a]
    et = [r["execution_time"] for r in res.values()]
    tw = [r["tests"][0]["wall_s"] for r in res.values() if r.get("tests")]
    sh = [x["grading_s"] - r["execution_time"] for x, r in zip(a, res.values())]
    for name, xs in (("grading_s (shipper round trip)", gs),
                     ("  execution_time (engine)", et),
                     ("    test wall_s (the pytest run)", tw),
                     ("  shipping (grading_s - execution_time)", sh)):
        print("    %-40s median %6.1f ms  mean %6.1f ms  p95 %6.1f ms"
              % (name, statistics.median(xs) * 1000, statistics.mean(xs) * 1000,
                 pct(xs, 95) * 1000))
    test_cpu = tests_cpu(res)
    print("  CPU seconds during the flood (what the pipeline adds to the tests' own):")
    print("    assay submit processes (and xargs) %7.2f s  (%5.1f ms per job)"
          % (f["submit_cpu"], f["submit_cpu"] * 1000 / n))
    for name, (own, kids) in sorted(f["cpu"].items()):
        print("    %-22s own %7.2f s  (%5.1f ms per job); waited-for children %7.2f s"
              % (name, own, own * 1000 / n, kids))
    print("    the tests' cpu_s (pytest runs)   %7.2f s  (%5.1f ms per job)"
          % (test_cpu, test_cpu * 1000 / n))
    print("    this benchmark (watching results) %.2f s  (%.1f ms per job)"
          % (f["bench_cpu"], f["bench_cpu"] * 1000 / n))
    # The worker's waited-for children are its graders, whose own children
    # are the tests: what they took beyond the tests' cpu_s is the graders'.
    # In the namespace sandbox on a cgroup v1 host the tests are children
    # of the slot's keeper (sandbox/keeper.c), not of the graders:
    # then all of it is the graders'.
    kids = f["cpu"].get("assay-worker", (0, 0))[1]
    graders = kids - test_cpu if kids > test_cpu else kids
    pipeline = f["submit_cpu"] + sum(own for own, _ in f["cpu"].values()) + max(graders, 0)
    print("    the pipeline in all (submit, scheduler, shippers, worker, graders) %.1f ms per job"
          " = %.1f%% of the tests' CPU" % (pipeline * 1000 / n, pipeline * 100 / test_cpu))
    nslots = f["grading_slots"]   # the worker's slots (its prefetch shipper grades none)
    print("    flood wall / (sum of test wall_s / %d slots)    %.3f   (the same ratio against the"
          % (nslots, f["wall"] / (sum(tw) / nslots)))
    print("      pytest runs as they ran inside the flood: steadier on a busy machine)")
    slots = {}
    for x in a:
        g = x.get("graded_by") or {}
        slots.setdefault("%s.%s" % (g.get("worker"), g.get("slot")), []).append(x)
    for name, xs in sorted(slots.items()):
        xs.sort(key=lambda x: iso(x["started_at"]))
        gaps = [iso(b["started_at"]) - iso(p["finished_at"]) for p, b in zip(xs, xs[1:])]
        busy = sum(x["grading_s"] for x in xs)
        print("    slot %-8s %4d jobs; round trips fill %.1f%% of the wall time; "
              "gap between jobs median %.1f ms, p95 %.1f ms"
              % (name, len(xs), busy * 100 / f["wall"],
                 statistics.median(gaps) * 1000 if gaps else 0,
                 pct(gaps, 95) * 1000 if gaps else 0))
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=500, help="submissions (default 500)")
    ap.add_argument("--threads", type=int, default=4,
                    help="`assay submit` processes at a time (default 4)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="floods to run, alternating with bare runs: bare, flood, bare, "
                    "flood, ..., bare (default 1)")
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"),
                    help="directory holding assay and assay-scheduler (default ../build)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (spools, logs) to look at; print its path")
    ap.add_argument("--prefetch", type=lambda v: [int(x) for x in v.split(",")], default=None,
                    help="the worker's prefetch in each round, cycling through a comma-separated "
                    "list (default: what `assay init` writes)")
    ap.add_argument("--baseline", choices=sorted(BARE), default="runner",
                    help="the bare runs: the engine's own command for the test (runner, the "
                    "default) or plain `python3 -m pytest` (pytest)")
    ap.add_argument("--sandbox", choices=("namespace", "rlimit"), default=None,
                    help="how the worker runs the tests (default: namespace, as `assay init` "
                    "leaves it); rlimit measures the pipeline alone")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    # Ctrl-C or SIGTERM still run the clean-up (stop the scheduler, remove the spool).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    n = args.jobs

    tmp = tempfile.mkdtemp(prefix="assay-bench-flood-")
    # The worker's work directories live in the spool; the leased grading uids
    # must be able to reach them (mkdtemp makes the folder 0700).
    os.chmod(tmp, 0o755)
    # The bare runs get what the engine gives its tests, a tmpfs, so the
    # flood gains nothing from where its tests run.
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    bare_tmp = tempfile.mkdtemp(prefix="assay-bench-bare-", dir=shm)
    bares, floods = [], []
    try:
        bares.append(run_bare(bare_tmp, n, "0", args.baseline))
        for r in range(args.rounds):
            pf = args.prefetch[r % len(args.prefetch)] if args.prefetch else None
            floods.append(flood(tmp, build, n, args.threads, str(r + 1), pf, args.sandbox))
            bares.append(run_bare(bare_tmp, n, str(r + 1), args.baseline))
    finally:
        if args.keep:
            print("kept %s and %s" % (tmp, bare_tmp))
        else:
            for d in os.listdir(tmp):
                remove_run_dirs(os.path.join(tmp, d))
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(bare_tmp, ignore_errors=True)

    print("Flood: %d submissions of a one-test pytest assignment, one local worker, 2 slots" % n)
    print("command: /usr/bin/python3 bench/flood.py --jobs %d --threads %d --rounds %d "
          "--baseline %s%s" % (n, args.threads, args.rounds, args.baseline,
             (" --prefetch " + ",".join(map(str, args.prefetch)) if args.prefetch else "") +
             (" --sandbox " + args.sandbox if args.sandbox else "")))
    print("  bare: %s (2 at a time, fresh directory each, in %s)"
          % (" ".join(BARE[args.baseline]), os.path.dirname(bare_tmp)))
    ok = True
    bare_fail = sum(b[1] for b in bares)
    for i, b in enumerate(bares):
        print("  bare run %d: %.2f s wall, %.2f s CPU (%.1f ms CPU per run); the cores idle "
              "%.1f%% of it" % (i, b[0], b[2], b[2] * 1000 / n, b[3] * 100))
    if bare_fail:
        print("ERROR: %d bare pytest runs failed" % bare_fail)
        ok = False
    ratios, paced = [], []
    for r, f in enumerate(floods):
        b1, b2 = bares[r][0], bares[r + 1][0]
        ratio = f["wall"] / ((b1 + b2) / 2)
        ratios.append(ratio)
        # The machine's pace drifts (other virtual machines on the host): the
        # same test takes anywhere from 140 to 200 ms of CPU from one minute
        # to the next.  Wall time per CPU second of the tests themselves
        # (bare: its runs' CPU; flood: the tests' cpu_s) takes that pace out.
        test_cpu = tests_cpu(f["results"])
        bare_pace = (b1 / bares[r][2] + b2 / bares[r + 1][2]) / 2
        paced.append(f["wall"] / test_cpu / bare_pace if test_cpu else float("nan"))
        print()
        print("round %d (%d shippers for 2 slots)" % (r + 1, f["shippers"]))
        print("  bare, before             %8.2f s   (%.1f ms per run per slot)" % (b1, b1 * 2000 / n))
        print("  flood, first submit to last result %8.2f s   (%.1f ms per job per slot; "
              "all submitted after %.2f s)" % (f["wall"], f["wall"] * 2000 / n, f["submitted"]))
        print("  bare, after              %8.2f s   (%.1f ms per run per slot)" % (b2, b2 * 2000 / n))
        print("  ratio flood / bare (mean of before and after) %.3f   (against before %.3f, "
              "after %.3f; goal: at most 1.05)" % (ratio, f["wall"] / b1, f["wall"] / b2))
        print("  the same per CPU second of the tests (the machine's pace taken out) %.3f"
              % paced[-1])
        print("  the cores idle %.1f%% of the flood (the bare runs: %.1f%% and %.1f%%)"
              % (f["idle"] * 100, bares[r][3] * 100, bares[r + 1][3] * 100))
        ok &= report(f, n)
    if len(ratios) > 1:
        print()
        print("ratios of the %d rounds: %s; median %.3f"
              % (len(ratios), ", ".join("%.3f" % x for x in ratios), statistics.median(ratios)))
        print("per CPU second of the tests: %s; median %.3f"
              % (", ".join("%.3f" % x for x in paced), statistics.median(paced)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
