#!/usr/bin/python3
"""detect.py - how long a worker fault takes to be noticed.

    sudo /usr/bin/python3 bench/detect.py [--trials N] [--build DIR] [--only FAULT,...]

Starts a test cluster of two SSH worker hosts (scripts/test-cluster.sh:
network namespaces, each with Debian's sshd and assay-worker, 2 slots)
and a spool whose scheduler uses both, then breaks h1 N times (3) for
each fault and measures, from the moment the fault is made:

  down     until health/h1.json says "down" (or "refusing", for the disk)
  back     until a job that h1 was grading is deferred (busy trials only):
           the job given back, to be graded on h2

Faults: daemon-killed (kill -9 of assay-worker, sshd running),
daemon-stopped (SIGSTOP), link-cut (h1's end of its veth link down: a
host that is down looks the same from the primary), sshd-killed (its
listener and sessions), disk-full (free disk drops below min_free_mb:
a file written beside the worker directory, with min_free_mb set just
under the free space).  Each is measured busy (h1 grading two slow
jobs) and idle (no job anywhere).  Prints the median and the range of
each; not a test: nothing is asserted.  Everything it started is stopped
and removed at the end, also on error or Ctrl-C.  Needs root.
"""
import argparse
import hashlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SLOW_S = 15           # a job h1 is grading outlasts every detection
FAULTS = ["daemon-killed", "daemon-stopped", "link-cut", "sshd-killed", "disk-full"]


def run(argv, check=True, **kw):
    return subprocess.run(argv, check=check, capture_output=True, text=True, **kw)


class Bench:
    def __init__(self, build, base):
        self.build, self.base = build, base
        self.cluster = os.path.join(base, "cluster")
        self.spool = os.path.join(base, "spool")
        self.sched = None
        self.jobs = 0
        self.filler = None

    # ---- setting up ----

    def up(self):
        env = dict(os.environ, ASSAY_BUILD=self.build)
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "test-cluster.sh"), "up",
                        self.cluster, "2"], check=True, env=env, capture_output=True)
        with open(os.path.join(self.cluster, "workers.json")) as f:
            self.entries = json.load(f)
        run([self.exe("assay"), "init", self.spool])
        self.write_workers()
        for name, seconds, wall in (("slow", SLOW_S, 60), ("quick", 0, 5)):
            adir = os.path.join(self.spool, "courses", "bench", name)
            os.makedirs(adir)
            with open(os.path.join(adir, "assignment.json"), "w") as f:
                json.dump({"assay": 1, "title": name, "required_files": ["hello.py"],
                           "limits": {"wall_s": wall},
                           "tests": [{"name": "t", "kind": "command", "points": 1,
                                      "command": "python3 hello.py"}]}, f)
            src = os.path.join(self.base, "src", name)
            os.makedirs(src)
            with open(os.path.join(src, "hello.py"), "w") as f:
                f.write(f"import time\ntime.sleep({seconds})\n")
        self.sched = subprocess.Popen([self.exe("assay-scheduler"), "--spool", self.spool],
                                      start_new_session=True, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        self.wait_status("h1", "up")
        self.wait_status("h2", "up")

    def write_workers(self, h1_min_free_mb=None):
        entries = [dict(e) for e in self.entries]
        if h1_min_free_mb is not None:
            entries[0]["min_free_mb"] = h1_min_free_mb
        with open(os.path.join(self.spool, "workers.json")) as f:
            doc = json.load(f)
        doc["workers"] = entries
        tmp = os.path.join(self.spool, "workers.json.new")
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.rename(tmp, os.path.join(self.spool, "workers.json"))
        if self.sched:
            self.sched.send_signal(signal.SIGHUP)

    def down(self):
        if self.sched and self.sched.poll() is None:
            self.sched.send_signal(signal.SIGTERM)
            try:
                self.sched.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.sched.pid, signal.SIGKILL)
        if self.filler and os.path.exists(self.filler):
            os.unlink(self.filler)
        subprocess.run(["sh", os.path.join(ROOT, "scripts", "test-cluster.sh"), "down",
                        self.cluster], capture_output=True)

    # ---- looking ----

    def exe(self, name):
        return os.path.join(self.build, name)

    def health(self, worker):
        try:
            with open(os.path.join(self.spool, "health", f"{worker}.json")) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def wait_status(self, worker, status, timeout=120):
        deadline = time.monotonic() + timeout
        while self.health(worker).get("status") != status:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{worker} not {status} after {timeout} s: "
                                   f"{self.health(worker)}")
            time.sleep(0.05)

    def archives(self, sub):
        d = os.path.join(self.cluster, "h1", "worker", sub)
        return [n for n in os.listdir(d) if n.endswith(".zip") and not n.startswith(".")]

    def idle(self):
        for sub in ("incoming", "deferred"):
            if os.listdir(os.path.join(self.spool, sub)):
                return False
        shippers = os.path.join(self.spool, "shippers")
        return not any(n.endswith(".json") for d in os.listdir(shippers)
                       for n in os.listdir(os.path.join(shippers, d)))

    def wait_idle(self, timeout=300):
        deadline = time.monotonic() + timeout
        while not (self.idle() and not self.archives("active") and not self.archives("inbox")):
            if time.monotonic() > deadline:
                raise RuntimeError("the spool did not empty")
            time.sleep(0.2)

    def submit(self, name):
        self.jobs += 1
        p = run([self.exe("assay"), "submit", "--spool", self.spool, "--course", "bench",
                 "--assignment", name, "--student", f"s{self.jobs}",
                 os.path.join(self.base, "src", name)])
        return p.stdout.split()[0]

    # ---- the faults: (make, repair) ----

    def pid(self, what):
        with open(os.path.join(self.cluster, "h1", f"{what}.pid")) as f:
            return int(f.read())

    def tag(self):
        return hashlib.md5(self.cluster.encode()).hexdigest()[:6]   # as test-cluster.sh

    def ns(self):
        return f"assay-{self.tag()}-h1"

    def link(self, state):
        tag = self.tag()
        run(["ip", "netns", "exec", self.ns(), "ip", "link", "set", f"b{tag}1", state])

    def start_daemon(self):
        wdir = os.path.join(self.cluster, "h1", "worker")
        cmd = (f"nsenter --net=/run/netns/{self.ns()} {self.exe('assay-worker')} --dir {wdir} "
               f"--slots 2 --name h1 </dev/null >/dev/null 2>&1 & echo $!")
        pid = run(["sh", "-c", cmd]).stdout.strip()
        with open(os.path.join(self.cluster, "h1", "worker.pid"), "w") as f:
            f.write(pid + "\n")

    def sshd_pids(self):
        out = run(["ip", "netns", "pids", self.ns()]).stdout.split()
        pids = []
        for pid in out:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "sshd":
                        pids.append(int(pid))
            except OSError:
                pass
        return pids

    def start_sshd(self):
        h = os.path.join(self.cluster, "h1")
        run(["ip", "netns", "exec", self.ns(), "/usr/sbin/sshd", "-f",
             os.path.join(h, "sshd_config"), "-E", os.path.join(h, "sshd.log")])

    def empty_disk(self):
        os.unlink(self.filler)
        self.write_workers()

    def fault(self, name):
        if name == "daemon-killed":
            pid = self.pid("worker")
            return (lambda: os.kill(pid, signal.SIGKILL)), self.start_daemon, None
        if name == "daemon-stopped":
            pid = self.pid("worker")
            return ((lambda: os.kill(pid, signal.SIGSTOP)),
                    (lambda: os.kill(pid, signal.SIGCONT)), None)
        if name == "link-cut":
            return (lambda: self.link("down")), (lambda: self.link("up")), None
        if name == "sshd-killed":
            return ((lambda: [os.kill(p, signal.SIGKILL) for p in self.sshd_pids()]),
                    self.start_sshd, None)
        if name == "disk-full":
            return self.fill_disk_now, self.empty_disk, self.fill_disk_prepare
        raise ValueError(name)

    # the disk: min_free_mb is set (and the shippers restarted) before t0
    def fill_disk_prepare(self):
        wdir = os.path.join(self.cluster, "h1", "worker")
        v = os.statvfs(wdir)
        free_mb = v.f_bavail * v.f_frsize / 2**20
        self.write_workers(h1_min_free_mb=int(free_mb - 100))
        time.sleep(1)
        self.wait_status("h1", "up")

    def fill_disk_now(self):
        self.filler = os.path.join(self.cluster, "h1", "filler")
        with open(self.filler, "wb") as f:
            chunk = b"\0" * 2**20
            for _ in range(300):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())

    # ---- one trial ----

    def deferred_from_h1(self, jobs):
        """True once one of JOBS is out of its h1 slot (deferred or done)."""
        for j in jobs:
            for k in (1, 2):
                if os.path.exists(os.path.join(self.spool, "shippers", f"h1.{k}", j + ".json")):
                    break
            else:
                return True
        return False

    def trial(self, name, busy):
        make, repair, prepare = self.fault(name)
        if prepare:
            prepare()
        on_h1 = []
        if busy:
            for _ in range(4):
                self.submit("slow")
            deadline = time.monotonic() + 60
            while len(self.archives("active")) < 2:
                if time.monotonic() > deadline:
                    raise RuntimeError("h1 did not start grading")
                time.sleep(0.02)
            on_h1 = [n.rsplit(".", 2)[0] for n in self.archives("active")]
        want = "refusing" if name == "disk-full" else "down"
        t0 = time.monotonic()
        make()
        t_down = t_back = None
        while t_down is None or (busy and t_back is None and name != "disk-full"):
            now = time.monotonic()
            if now - t0 > 120:
                raise RuntimeError(f"{name}: not detected in 120 s: {self.health('h1')}")
            if t_down is None and self.health("h1").get("status") == want:
                t_down = now - t0
            if busy and t_back is None and self.deferred_from_h1(on_h1):
                t_back = now - t0
            time.sleep(0.02)
        reason = self.health("h1").get("reason", "")
        repair()
        self.wait_status("h1", "up", timeout=180)
        self.wait_idle()
        return t_down, t_back, reason


def summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return f"{statistics.median(xs):5.1f} s ({min(xs):.1f}-{max(xs):.1f})"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--only", default=",".join(FAULTS))
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("detect.py needs root (network namespaces)")
    base = tempfile.mkdtemp(prefix="assay-detect-", dir="/tmp")
    os.chmod(base, 0o755)
    b = Bench(os.path.abspath(args.build), base)
    rows = []
    try:
        b.up()
        for name in args.only.split(","):
            for busy in (True, False):
                downs, backs, reasons = [], [], []
                for _ in range(args.trials):
                    d, k, reason = b.trial(name, busy)
                    downs.append(d)
                    backs.append(k)
                    reasons.append(reason)
                rows.append((name, "busy" if busy else "idle", downs, backs, reasons[-1]))
                print(f"{name:15} {'busy' if busy else 'idle':5} down {summary(downs)}   "
                      f"job given back {summary(backs)}", flush=True)
    finally:
        b.down()
        shutil.rmtree(base, ignore_errors=True)
    print("\nfault           state  marked down (median, range)   job given back")
    for name, state, downs, backs, reason in rows:
        print(f"{name:15} {state:5}  {summary(downs):28} {summary(backs)}")
        print(f"    reason: {reason}")


if __name__ == "__main__":
    main()
