#!/usr/bin/python3
"""sched_scale.py - assay-scheduler and `assay status` with 100,000 queued jobs.

    make && /usr/bin/python3 bench/sched_scale.py [--jobs N] [--runs R] [--build DIR] [--keep]

Makes a spool in a temporary directory (`assay init`: one local worker,
two slots), adds 20 courses with one assignment each whose one test
sleeps for five minutes (so both slots stay busy and the queue stays
full, as on a deadline night; courses 0-4 with "supersede" on), and writes N job
files (default 100,000; 5,000 students per course, one version each, so
nothing is superseded) straight into incoming/ the way `assay submit`
would, plus a rolling wait log of 100,000 recent jobs (stats/waits.log,
as record.c writes it).  Then, R times (default 3):

  start-up   starts assay-scheduler and times it until its log says
             "started ... N jobs queued" (rebuilding everything from
             incoming/: read, check and order every job), and reads its
             resident memory (VmRSS) then; the same with an empty queue
             gives the memory per queued job
  status     times `assay status --json` and `assay status` while the
             scheduler runs (from its summary, scheduler.json), and
             `assay status --json` after it stopped (every job file read)

Not a test: no assertion on time; figures go to docs/PERFORMANCE.md.
The spool and the processes are removed at the end, also on error.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from run_dirs import remove_run_dirs

HERE = os.path.dirname(os.path.abspath(__file__))
COURSES, STUDENTS = 20, 5000


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int(t % 1 * 1000)


def make_spool(build, root, jobs):
    subprocess.run([os.path.join(build, "assay"), "init", root], check=True,
                   capture_output=True)
    shared = os.path.join(root, "submissions", "shared", "hw", "all", "1")
    os.makedirs(shared)
    with open(os.path.join(shared, "hello.py"), "w") as f:
        f.write("print('hi')\n")
    for c in range(COURSES):
        d = os.path.join(root, "courses", f"c{c:02d}", "hw")
        os.makedirs(d)
        with open(os.path.join(d, "assignment.json"), "w") as f:
            json.dump({"assay": 1, "title": "hw", "limits": {"wall_s": 600, "cpu_s": 600},
                       "tests": [{"name": "t", "kind": "command", "command": "sleep 300"}]}, f)
        if c < 5:
            with open(os.path.join(root, "courses", f"c{c:02d}", "course.json"), "w") as f:
                json.dump({"supersede": True, "weight": 2}, f)
    now = time.time()
    incoming = os.path.join(root, "incoming")
    for i in range(jobs):
        c, u = i % COURSES, (i // COURSES) % STUDENTS
        version = i // (COURSES * STUDENTS) + 1
        t = now - 3600 + i * 3600 / jobs
        jid = time.strftime("%Y%m%dT%H%M%S", time.gmtime(t)) + ".%03dZ-%06x" % (int(t % 1 * 1000), i)
        job = {"id": jid, "course": f"c{c:02d}", "assignment": "hw", "student": f"s{u:04d}",
               "version": version, "submission": "submissions/shared/hw/all/1",
               "queued_at": iso(t), "submitted_at": iso(t),
               "priority": "batch" if i % 10 == 0 else "interactive",
               "capability": "python", "attempt": 0, "token": None}
        with open(os.path.join(incoming, jid + ".json"), "w") as f:
            json.dump(job, f)
    os.makedirs(os.path.join(root, "stats"), exist_ok=True)
    with open(os.path.join(root, "stats", "waits.log"), "w") as f:
        for i in range(100000):
            f.write("%.3f c%02d %.3f\n" % (now - 3000 + i * 0.03, i % COURSES, (i % 97) * 0.5))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_scheduler(build, root, expect):
    """Starts assay-scheduler; returns (process, seconds until started, RSS kB)."""
    log = os.path.join(root, "logs", "assay.log")
    size = os.path.getsize(log) if os.path.exists(log) else 0
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(build, "assay-scheduler"), "--spool", root],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    while True:
        if p.poll() is not None:
            raise SystemExit(f"assay-scheduler exited with {p.returncode}")
        try:
            with open(log, errors="replace") as f:
                f.seek(size)
                m = re.search(r"assay-scheduler .* started: .* (\d+) jobs queued", f.read())
                if m:
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    if expect is not None and int(m.group(1)) < expect:
        stop(p)
        raise SystemExit(f"only {m.group(1)} jobs were queued, not {expect}")
    return p, elapsed, rss_kb(p.pid)


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def kill_leftovers(base):
    """Kills processes working under BASE (a grader's sleep, if any survived)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.readlink(f"/proc/{entry}/cwd").startswith(base):
                    os.kill(int(entry), signal.SIGKILL)
            except OSError:
                pass


def timed(cmd):
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="assay-scale-")
    root = os.path.join(base, "spool")
    empty_root = os.path.join(base, "empty")
    procs = []
    try:
        make_spool(a.build, empty_root, 0)
        p, _, rss_empty = start_scheduler(a.build, empty_root, 0)
        stop(p)
        t0 = time.monotonic()
        make_spool(a.build, root, a.jobs)
        print(f"made a spool with {a.jobs} queued jobs in {time.monotonic() - t0:.1f} s")
        starts, rss, st_json, st_text, st_files = [], [], [], [], []
        with open(os.path.join(root, "workers.json")) as f:
            w = json.load(f)["workers"][0]
        shippers = w["slots"] + w.get("prefetch", 0)
        for _ in range(a.runs):
            # each shipper keeps its job between runs
            p, elapsed, kb = start_scheduler(a.build, root, a.jobs - shippers * len(starts))
            procs.append(p)
            starts.append(elapsed)
            rss.append(kb)
            assay = os.path.join(a.build, "assay")
            # the running scheduler's summary (scheduler.json) is written
            # 0.2 s after the queue last changed
            view = os.path.join(root, "scheduler.json")
            deadline = time.monotonic() + 10
            while not os.path.exists(view) and time.monotonic() < deadline:
                time.sleep(0.05)
            st_json.append(timed([assay, "status", "--spool", root, "--json"]))
            st_text.append(timed([assay, "status", "--spool", root]))
            stop(p)
            st_files.append(timed([assay, "status", "--spool", root, "--json"]))
        queued = len(os.listdir(os.path.join(root, "incoming")))
        print(f"scheduler start-up to \"started\": median {statistics.median(starts):.3f} s "
              f"(runs: {', '.join('%.3f' % s for s in starts)})")
        print(f"scheduler RSS: {statistics.median(rss)} kB with the queue, {rss_empty} kB empty: "
              f"{(statistics.median(rss) - rss_empty) * 1024 / max(queued, 1):.0f} bytes per job")
        print(f"assay status --json: median {statistics.median(st_json):.3f} s; "
              f"assay status: median {statistics.median(st_text):.3f} s (scheduler running: "
              f"from its scheduler.json)")
        print(f"assay status --json with the scheduler stopped (every job file read): "
              f"median {statistics.median(st_files):.3f} s")
    finally:
        for p in procs:
            if p.poll() is None:
                stop(p)
        kill_leftovers(base)
        if a.keep:
            print(f"kept {base}")
        else:
            remove_run_dirs(empty_root)
            remove_run_dirs(root)
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
