#!/usr/bin/python3
"""web.py - assay-web: /metrics with 100,000 queued jobs, a course page of
1,000 students with 5 versions each, one student's page, and the server's
memory.

    make && /usr/bin/python3 bench/web.py [--jobs N] [--requests R] [--page-requests P]
        [--build DIR] [--course-page PATH] [--list-page PATH] [--student-page PATH] [--keep]

Makes a spool the way bench/sched_scale.py does (`assay init`, 20 courses
whose one test sleeps five minutes, so both slots stay busy and N job
files, default 100,000, stay in incoming/), adds course "big" with
assignment "hw" and 1,000 students x 5 versions of recorded results (as
spool/record.c writes them), and counters with every series 20 courses
make (stats/counters.json, and a log of counts just short of being
folded, stats/counters.log: the most a scrape reads; spool/counters.c).  Starts
assay-scheduler on it, waits until its summary (scheduler.json) counts
every job, starts assay-web on a port the system gives, and then, over
one keep-alive connection each, R times (default 2,000) interleaved:

  /metrics            what Prometheus scrapes (goal: p99 under 5 ms)
  /static/assay.css   a static file of the same server: the peer, so the
                      figure is what rendering costs beyond serving

then P times (default 50) each, interleaved, as an admin (an API token
from `assay users token`):

  course page         PATH (default /course/big): the course's assignments
  student list        PATH (default /course/big/hw): the 1,000 students
  student page        PATH (default /course/big/hw/student/s0500)

(pages this build does not serve are reported as such); then the
renderer alone, in-process, R times (build/bench/metrics_render, which
`make bench` builds), and, 5 times,
`assay status --json` on the same spool: the other way to ask the same
question.  Last, assay-web's resident memory (VmRSS) and its peak (VmHWM).

Not a test: no assertion on time; figures go to docs/PERFORMANCE.md.
The spool and the processes are removed at the end, also on error.
"""
import argparse
import http.client
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
from sched_scale import COURSES, iso, kill_leftovers, make_spool, start_scheduler, stop

HERE = os.path.dirname(os.path.abspath(__file__))
STUDENTS, VERSIONS = 1000, 5


def add_course(root):
    """Course "big", assignment "hw": 1,000 students x 5 versions graded."""
    d = os.path.join(root, "courses", "big", "hw")
    os.makedirs(d)
    with open(os.path.join(d, "assignment.json"), "w") as f:
        json.dump({"assay": 1, "title": "Big homework", "capability": "python",
                   "required_files": ["hello.py"], "limits": {"wall_s": 5, "cpu_s": 2},
                   "tests": [{"name": f"t{k}", "kind": "io", "points": 2,
                              "command": "python3 hello.py", "expected_stdout": "hi\n"}
                             for k in range(5)]}, f)
    now = time.time()
    for u in range(STUDENTS):
        for v in range(1, VERSIONS + 1):
            t = now - 86400 + u * 60 + v
            sub = os.path.join(root, "submissions", "big", "hw", f"s{u:04d}", str(v))
            os.makedirs(sub)
            with open(os.path.join(sub, "hello.py"), "w") as f:
                f.write("print('hi')\n")
            res = os.path.join(root, "results", "big", "hw", f"s{u:04d}", str(v))
            os.makedirs(res)
            tests = [{"name": f"t{k}", "score": 2 if (u + k + v) % 3 else 0, "max_score": 2,
                      "status": "passed" if (u + k + v) % 3 else "failed",
                      "verdict": "passed" if (u + k + v) % 3 else "failed",
                      "output": "", "visibility": "visible", "cpu_s": 0.01, "wall_s": 0.02,
                      "max_rss_kb": 9000} for k in range(5)]
            score = sum(x["score"] for x in tests)
            doc = {"score": score, "max_score": 10, "execution_time": 0.1, "output": "",
                   "tests": tests,
                   "assay": {"status": "graded", "job_id": f"bench-{u}-{v}", "course": "big",
                             "assignment": "hw", "student": f"s{u:04d}", "version": v,
                             "priority": "interactive",
                             "graded_by": {"worker": "local", "slot": 1},
                             "submitted_at": iso(t), "queued_at": iso(t),
                             "started_at": iso(t + 0.01), "finished_at": iso(t + 0.11),
                             "wait_s": 0.01, "grading_s": 0.1, "attempts": 1,
                             "attempt_token": "0" * 32, "error": None, "warnings": []}}
            with open(os.path.join(res, "results.json"), "w") as f:
                json.dump(doc, f)
            with open(os.path.join(res, "results.student.json"), "w") as f:
                json.dump(doc, f)


def add_counters(root):
    """Every series 20 courses make, with plausible counts."""
    wait_b = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
              1800, 3600]
    run_b = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
    counters, hist = {}, {"assay_job_wait_seconds": {}, "assay_job_run_seconds": {}}
    sub = counters.setdefault("assay_jobs_submitted_total", {})
    done = counters.setdefault("assay_jobs_completed_total", {})
    for c in [f"c{i:02d}" for i in range(COURSES)] + ["big"]:
        for prio in ("interactive", "batch"):
            sub[f'course="{c}",priority="{prio}"'] = 5000
        for outcome in ("graded", "submission", "assignment", "infrastructure", "superseded"):
            done[f'course="{c}",outcome="{outcome}"'] = 1000
        hist["assay_job_wait_seconds"][f'course="{c}"'] = {
            "buckets": [100] * (len(wait_b) + 1), "sum": 12345.6, "count": 100 * (len(wait_b) + 1)}
        hist["assay_job_run_seconds"][f'course="{c}",capability="python"'] = {
            "buckets": [100] * (len(run_b) + 1), "sum": 2345.6, "count": 100 * (len(run_b) + 1)}
    counters["assay_job_attempts_total"] = {'reason="graded"': 100000, 'reason="timeout"': 12}
    counters["assay_sandbox_limit_hits_total"] = {'limit="time"': 40, 'limit="memory"': 7}
    counters["assay_stale_results_total"] = {"": 3}
    os.makedirs(os.path.join(root, "stats"), exist_ok=True)
    with open(os.path.join(root, "stats", "counters.json"), "w") as f:
        json.dump({"counters": counters, "histograms": hist}, f)
    # and the counts since, as long as the log gets before it is folded
    # (16 KB): what a scrape reads at worst
    with open(os.path.join(root, "stats", "counters.log"), "w") as f:
        f.write("# assay counters log 0123456789abcdef0123456789abcdef\n")
        for i in range(150):
            c = f"c{i % COURSES:02d}"
            f.write(f'c 1 assay_jobs_completed_total course="{c}",outcome="graded"\n'
                    f'h 0.25 assay_job_wait_seconds course="{c}"\n')


def start_web(build, root):
    p = subprocess.Popen([os.path.join(build, "assay-web"), "--spool", root, "--listen",
                          "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, start_new_session=True)
    line = p.stdout.readline()
    if not line.startswith("listening on http://"):
        raise SystemExit(f"assay-web did not start: {line!r}")
    return p, int(line.rsplit(":", 1)[1])


def admin_token(build, root):
    """An admin's API token, if this build has `assay users` (else None)."""
    assay = os.path.join(build, "assay")
    add = subprocess.run([assay, "users", "add", "benchadmin", "--admin", "--no-password",
                          "--spool", root], capture_output=True, text=True)
    if add.returncode != 0:
        return None
    tok = subprocess.run([assay, "users", "token", "benchadmin", "--spool", root],
                         capture_output=True, text=True)
    return tok.stdout.strip().split()[-1] if tok.returncode == 0 and tok.stdout.strip() else None


class Client:
    """One keep-alive connection; get() returns (status, seconds)."""

    def __init__(self, port, headers):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = headers

    def get(self, path):
        t0 = time.perf_counter()
        self.conn.request("GET", path, headers=self.headers)
        r = self.conn.getresponse()
        r.read()
        return r.status, time.perf_counter() - t0


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q / 100 * (len(v) - 1))))]


def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def wait_view(root, jobs):
    """Until the running scheduler's scheduler.json counts JOBS queued (or 60 s)."""
    path = os.path.join(root, "scheduler.json")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                if json.load(f).get("incoming", 0) >= jobs:
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit("the scheduler never wrote a summary counting every job")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--page-requests", type=int, default=50)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"))
    ap.add_argument("--course-page", default="/course/big")
    ap.add_argument("--list-page", default="/course/big/hw")
    ap.add_argument("--student-page", default="/course/big/hw/student/s0500")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="assay-webbench-")
    root = os.path.join(base, "spool")
    procs = []
    try:
        t0 = time.monotonic()
        make_spool(a.build, root, a.jobs)
        add_course(root)
        add_counters(root)
        print(f"made a spool with {a.jobs} queued jobs and {STUDENTS} x {VERSIONS} results "
              f"in {time.monotonic() - t0:.1f} s")
        with open(os.path.join(root, "workers.json")) as f:
            w = json.load(f)["workers"][0]
        shippers = w["slots"] + w.get("prefetch", 0)
        sched, started, _ = start_scheduler(a.build, root, a.jobs)
        procs.append(sched)
        wait_view(root, a.jobs - shippers)
        print(f"scheduler started in {started:.2f} s")
        token = admin_token(a.build, root)
        web, port = start_web(a.build, root)
        procs.append(web)
        pages = {"/metrics": "/metrics", "static file": "/static/assay.css"}
        html = {"course page": a.course_page, "student list": a.list_page,
                "student page": a.student_page} if token else {}
        pages.update(html)
        clients = {name: Client(port, {"Authorization": f"Bearer {token}"} if token else {})
                   for name in pages}
        times = {name: [] for name in pages}
        statuses = {}
        for name, path in pages.items():   # warm up; and what each answers
            statuses[name] = clients[name].get(path)[0]
        live = [n for n in pages if statuses[n] == 200]
        for rounds, names in ((a.requests, [n for n in live if n not in html]),
                              (a.page_requests, [n for n in live if n in html])):
            for _ in range(rounds):
                for name in names:
                    status, dt = clients[name].get(pages[name])
                    times[name].append(dt)
        # the renderer alone, in-process, on the same spool (make bench builds it)
        alone = os.path.join(a.build, "bench", "metrics_render")
        render_line = subprocess.run([alone, root, str(a.requests)], capture_output=True,
                                     text=True).stdout.strip() if os.access(alone, os.X_OK) \
            else "build/bench/metrics_render not built (make bench)"
        status_runs = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run([os.path.join(a.build, "assay"), "status", "--json", "--spool", root],
                           check=True, stdout=subprocess.DEVNULL)
            status_runs.append(time.perf_counter() - t)
        print(f"\n{a.requests} requests each (HTML pages {a.page_requests}) over keep-alive "
              f"connections, interleaved; {a.jobs} jobs queued; load average "
              f"{os.getloadavg()[0]:.2f}")
        for name in pages:
            if name not in live:
                print(f"  {name:14s} {pages[name]}: not served by this build "
                      f"(status {statuses[name]}){'' if token else '; no assay users here'}")
                continue
            v = times[name]
            print(f"  {name:14s} {pages[name]}: p50 {pct(v, 50) * 1000:.3f} ms, "
                  f"p99 {pct(v, 99) * 1000:.3f} ms, max {max(v) * 1000:.3f} ms")
        if "static file" in live and "/metrics" in live:
            print(f"  /metrics p99 against the static file's: "
                  f"{pct(times['/metrics'], 99) / pct(times['static file'], 99):.2f} x")
        print(f"  {render_line}")
        print(f"  assay status --json, same spool (scheduler running): median "
              f"{statistics.median(status_runs) * 1000:.1f} ms")
        print(f"  assay-web memory: VmRSS {vm(web.pid, 'VmRSS')} kB, VmHWM {vm(web.pid, 'VmHWM')} kB")
        print(f"\ncommand: {' '.join([sys.executable] + sys.argv)}")
    finally:
        for p in procs:
            if p.poll() is None:
                if p is procs[0]:
                    stop(p)
                else:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
        kill_leftovers(base)
        if a.keep:
            print(f"kept {base}")
        else:
            remove_run_dirs(root)
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
