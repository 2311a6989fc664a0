#!/usr/bin/python3
"""pipeline_latency.py - end-to-end latency of one trivial submission.

    /usr/bin/python3 bench/pipeline_latency.py [--runs N] [--build DIR]

Creates a spool in a temporary directory (`assay init`), adds an assignment
with one `command` test (`python3 -c pass`; the submission is a hello.py
that the test does not even need), starts `assay-scheduler` (which starts
the shippers and the local worker), and then, RUNS times, interleaved so
machine noise hits both alike:

  bare    /usr/bin/python3 -c pass, run with subprocess in a directory
          holding hello.py, with the environment the engine gives a test
          (what the test itself costs);
  submit  `assay submit --wait --json --view instructor` of hello.py, the
          wall time of the whole submit process (copy into the spool, queue,
          scheduler, shipper, worker, engine, result back, --wait wakes up,
          results.json printed).

The order within each pair alternates.  It prints medians and p95 of both
and of the difference (submit - bare) pair by pair, a breakdown taken from
each results.json, and a finer split of the round trip taken from the
spool's central log (logs/assay.log).  Not a test: no assertion on time; figures go to
docs/PERFORMANCE.md.  The spool and every process started are removed at
the end, also on error or Ctrl-C.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from run_dirs import remove_run_dirs

HERE = os.path.dirname(os.path.abspath(__file__))
COURSE, ASSIGNMENT, STUDENT = "bench", "latency", "alice"

ASSIGNMENT_JSON = {
    "assay": 1,
    "title": "Pipeline latency benchmark",
    "capability": "python",
    "required_files": ["hello.py"],
    "limits": {"wall_s": 10, "cpu_s": 5, "memory_mb": 256, "processes": 32,
               "file_mb": 8, "output_kb": 256},
    "tests": [{"name": "pass", "kind": "command", "points": 1,
               "command": "python3 -c pass"}],
}
BARE = ["/usr/bin/python3", "-c", "pass"]


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100)."""
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[int(k)]


def iso(s):
    """Epoch seconds of an ISO 8601 UTC time as Assay writes it."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def ms(x):
    return "%8.2f ms" % (x * 1000)


def start_scheduler(build, spool, logf):
    return subprocess.Popen([os.path.join(build, "assay-scheduler"), "--spool", spool],
                            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=100, help="pairs to time (default 100)")
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"),
                    help="directory holding assay and assay-scheduler (default ../build)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    # Ctrl-C or SIGTERM still run the clean-up (stop the scheduler, remove the spool).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    assay = os.path.join(build, "assay")

    tmp = tempfile.mkdtemp(prefix="assay-bench-latency-")
    # The worker's work directories live in the spool; the leased grading uids
    # must be able to reach them (mkdtemp makes the folder 0700).
    os.chmod(tmp, 0o755)
    sched = None
    logf = None
    try:
        spool = os.path.join(tmp, "spool")
        subprocess.run([assay, "init", spool], check=True, stdout=subprocess.DEVNULL)
        adir = os.path.join(spool, "courses", COURSE, ASSIGNMENT)
        os.makedirs(adir)
        with open(os.path.join(adir, "assignment.json"), "w") as f:
            json.dump(ASSIGNMENT_JSON, f, indent=1)
        sub = os.path.join(tmp, "submission")
        os.makedirs(sub)
        with open(os.path.join(sub, "hello.py"), "w") as f:
            f.write('print("Hello!")\n')
        bare_dir = os.path.join(tmp, "bare")
        shutil.copytree(sub, bare_dir)

        logf = open(os.path.join(tmp, "scheduler.out"), "w")
        sched = start_scheduler(build, spool, logf)
        submit_cmd = [assay, "submit", "--spool", spool, "--course", COURSE,
                      "--assignment", ASSIGNMENT, "--student", STUDENT,
                      os.path.join(sub, "hello.py"), "--wait", "--json",
                      "--view", "instructor", "--timeout", "60"]

        def submit():
            w0 = time.time()
            t0 = time.monotonic()
            p = subprocess.run(submit_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
            t = time.monotonic() - t0
            if p.returncode != 0:
                raise SystemExit("assay submit failed (exit %d): %s" % (p.returncode, p.stderr))
            # stdout: the job id line, then results.json
            _, _, body = p.stdout.partition("\n")
            r = json.loads(body)
            if r.get("score") != 1 or r["assay"].get("status") != "graded":
                raise SystemExit("unexpected result: %s" % body)
            return t, w0, r

        # The environment the engine gives a test (engine/engine.c, build_env).
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": bare_dir, "TMPDIR": bare_dir,
               "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
               "MPLBACKEND": "Agg", "TERM": "dumb"}

        def bare():
            t0 = time.monotonic()
            subprocess.run(BARE, cwd=bare_dir, env=env, stdout=subprocess.DEVNULL, check=True)
            return time.monotonic() - t0

        # Warm-up (not counted): the scheduler starts its children; caches fill.
        for _ in range(3):
            submit()
            bare()

        bares, submits, results = [], [], []
        for i in range(args.runs):
            if i % 2 == 0:
                b = bare()
                s, w0, r = submit()
            else:
                s, w0, r = submit()
                b = bare()
            bares.append(b)
            submits.append(s)
            results.append((w0, s, r))
        with open(os.path.join(spool, "logs", "assay.log")) as f:
            log_lines = f.read().splitlines()
    finally:
        stop_scheduler(sched)
        if logf:
            logf.close()
        remove_run_dirs(os.path.join(tmp, "spool"))
        shutil.rmtree(tmp, ignore_errors=True)

    diffs = [s - b for s, b in zip(submits, bares)]
    print("Pipeline latency: %d interleaved runs (after 3 warm-up runs)" % args.runs)
    print("command: /usr/bin/python3 bench/pipeline_latency.py --runs %d" % args.runs)
    print("  bare:   %s" % " ".join(BARE))
    print("  submit: assay submit --spool SPOOL --course %s --assignment %s --student %s "
          "hello.py --wait --json --view instructor" % (COURSE, ASSIGNMENT, STUDENT))
    print()
    print("%-34s %11s %11s %11s" % ("", "median", "p95", "max"))
    for name, xs in (("bare python3 -c pass", bares),
                     ("assay submit --wait", submits),
                     ("difference (submit - bare)", diffs)):
        print("%-34s %s %s %s" % (name, ms(statistics.median(xs)), ms(pct(xs, 95)),
                                   ms(max(xs))))
    print("  (median/p95 of the differences of each pair; goal: at most 25 ms)")

    # Breakdown from results.json (timestamps have 1 ms resolution).
    parts = {k: [] for k in ("submit start -> queued_at", "wait_s (queued -> shipper starts)",
                             "grading_s (shipper round trip)", "  of which execution_time (engine)",
                             "    of which test wall_s (python3 -c pass)",
                             "  of which shipping (grading_s - execution_time)",
                             "finished_at -> submit exits")}
    for w0, s, r in results:
        a = r["assay"]
        q, st, fi = iso(a["queued_at"]), iso(a["started_at"]), iso(a["finished_at"])
        parts["submit start -> queued_at"].append(q - w0)
        parts["wait_s (queued -> shipper starts)"].append(a["wait_s"])
        parts["grading_s (shipper round trip)"].append(a["grading_s"])
        parts["  of which execution_time (engine)"].append(r["execution_time"])
        parts["    of which test wall_s (python3 -c pass)"].append(r["tests"][0]["wall_s"])
        parts["  of which shipping (grading_s - execution_time)"].append(
            a["grading_s"] - r["execution_time"])
        parts["finished_at -> submit exits"].append(w0 + s - fi)
    print()
    print("Breakdown (medians, from each results.json and the submit's start/end):")
    for k, xs in parts.items():
        print("  %-50s %s" % (k, ms(statistics.median(xs))))

    # Finer split of the round trip from the central log (1 ms resolution).
    steps = [("queued_at", None),
             ("scheduler: assigned to slot", "assigned to slot"),
             ("shipper: attempt started", "attempt 1 started"),
             ("worker: started grading in slot", "started grading in slot"),
             ("grader: grading started", "grading started"),
             ("grader: graded", "graded: score"),
             ("shipper: result recorded", "result recorded")]
    events = {}
    for line in log_lines:
        f = line.split(" ", 5)
        if len(f) == 6 and f[5].startswith("worker: "):
            # a grader's line, written by the shipper as "worker: " and the line
            f = f[5][len("worker: "):].split(" ", 5)
        if len(f) < 6:
            continue
        events.setdefault(f[3].split(".zip")[0][:27], []).append((iso(f[0]), f[5]))
    gaps = {}
    for _, _, r in results:
        a = r["assay"]
        ev = events.get(a["job_id"], [])
        t = {"queued_at": iso(a["queued_at"])}
        for name, needle in steps[1:]:
            hit = [ts for ts, msg in ev if msg.startswith(needle)]
            if hit:
                t[name] = hit[0]
        for (p, _), (n, _) in zip(steps, steps[1:]):
            if p in t and n in t:
                gaps.setdefault("%s -> %s" % (p, n), []).append(t[n] - t[p])
    print()
    print("Round trip from logs/assay.log (medians, 1 ms timestamps):")
    for k, xs in gaps.items():
        print("  %-66s %s" % (k, ms(statistics.median(xs))))


if __name__ == "__main__":
    main()
