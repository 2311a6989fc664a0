#!/usr/bin/python3
"""slurm.py - what grading through Slurm costs, against a local worker.

    sudo /usr/bin/python3 bench/slurm.py [--runs N] [--flood N] [--slots N] [--untuned] [--build DIR]

Starts a private Slurm cluster (scripts/test-slurm.sh: munged, slurmctld,
three slurmd in network namespaces, slurmrestd) and two spools:

  local   one local worker (a directory on this machine), SLOTS slots
  slurm   one Slurm pool of the cluster's partition, SLOTS slots

then measures RUNS sequential `assay submit --wait` of a trivial job (one
command test, `python3 -c pass`) through each, interleaved so machine
noise hits both alike, and prints medians and p95 and Slurm minus local
per job; then floods FLOOD jobs through each spool in turn (submitted
without --wait) and prints jobs per second and Slurm's rate over the
local one's.  --untuned starts the cluster without
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0, to show
what that setting is worth.  Not a test: no assertion on time; figures go
to docs/PERFORMANCE.md.  Everything it started is stopped and removed at
the end, also on error or Ctrl-C.  Needs root.
"""
import argparse
import datetime
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ASSIGNMENT = {
    "assay": 1, "title": "Slurm benchmark", "required_files": ["hello.py"],
    "limits": {"wall_s": 10},
    "tests": [{"name": "pass", "kind": "command", "points": 1, "command": "python3 -c pass"}],
}


def pct(xs, p):
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


class Spool:
    def __init__(self, build, root, workers):
        self.build, self.root = build, root
        subprocess.run([os.path.join(build, "assay"), "init", root], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(root, "workers.json")) as f:
            doc = json.load(f)
        doc["workers"] = workers
        with open(os.path.join(root, "workers.json"), "w") as f:
            json.dump(doc, f)
        adir = os.path.join(root, "courses", "bench", "a")
        os.makedirs(adir)
        with open(os.path.join(adir, "assignment.json"), "w") as f:
            json.dump(ASSIGNMENT, f)
        self.proc = subprocess.Popen([os.path.join(build, "assay-scheduler"), "--spool", root],
                                     start_new_session=True)

    def submit(self, student, path, wait=True):
        cmd = [os.path.join(self.build, "assay"), "submit", "--spool", self.root, "--course",
               "bench", "--assignment", "a", "--student", student, path]
        if wait:
            cmd += ["--wait", "--timeout", "120", "--json", "--view", "instructor"]
        t0 = time.monotonic()
        p = subprocess.run(cmd, capture_output=True, text=True)
        elapsed = time.monotonic() - t0
        if p.returncode != 0:
            raise RuntimeError("submit failed: %s %s" % (p.stdout, p.stderr))
        if wait and json.loads(p.stdout[p.stdout.index("{"):])["score"] != 1:
            raise RuntimeError("the benchmark job did not pass: " + p.stdout)
        return elapsed

    def results_count(self):
        n = 0
        for _, _, files in os.walk(os.path.join(self.root, "results")):
            n += "results.json" in files
        return n

    def wait_up(self, name, timeout=30):
        deadline = time.monotonic() + timeout
        path = os.path.join(self.root, "health", name + ".json")
        while time.monotonic() < deadline:
            try:
                with open(path) as f:
                    if json.load(f).get("status") == "up":
                        return
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("worker %s did not come up" % name)

    def flood(self, n, path):
        base = self.results_count()
        t0 = time.monotonic()
        for i in range(n):
            self.submit("f%d" % i, path, wait=False)
        while self.results_count() < base + n:
            if time.monotonic() - t0 > 600:
                raise RuntimeError("flood: only %d of %d results" % (self.results_count(), n))
            time.sleep(0.05)
        return time.monotonic() - t0

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def slurm_entry(cluster, build, slots):
    def read(name):
        with open(os.path.join(cluster, name)) as f:
            return f.read().strip()
    return {"name": "hpc", "transport": "slurm", "url": read("url"), "user": "root",
            "token_file": os.path.join(cluster, "token"), "partition": "assay",
            "shared_dir": os.path.join(cluster, "shared"),
            "worker_command": os.path.join(build, "assay-worker"), "slots": slots,
            "capabilities": ["python"]}


def on_term(signum, frame):
    """SIGTERM (a timeout) ends the run through main's finally, which
    stops the cluster and the spools."""
    raise KeyboardInterrupt


def main():
    signal.signal(signal.SIGTERM, on_term)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--flood", type=int, default=300)
    ap.add_argument("--slots", type=int, default=12, help="of each spool (3 nodes of 4 CPUs)")
    ap.add_argument("--untuned", action="store_true")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="assay-bench-slurm-")
    os.chmod(tmp, 0o755)
    cluster = os.path.join(tmp, "cluster")
    env = dict(os.environ, ASSAY_SLURM_UNTUNED="1" if args.untuned else "")
    script = os.path.join(ROOT, "scripts", "test-slurm.sh")
    spools = []
    try:
        t0 = time.monotonic()
        subprocess.run([script, "up", cluster, "3"], check=True, env=env)
        started = time.monotonic() - t0
        local = Spool(build, os.path.join(tmp, "local"),
                      [{"name": "local", "transport": "local", "dir": "workers/local",
                        "slots": args.slots, "capabilities": ["python"]}])
        slurm = Spool(build, os.path.join(tmp, "slurm"), [slurm_entry(cluster, build, args.slots)])
        spools += [local, slurm]
        local.wait_up("local")
        slurm.wait_up("hpc")
        small = os.path.join(tmp, "hello.py")
        with open(small, "w") as f:
            f.write("print('hello')\n")
        for s in (local, slurm):          # warm up
            s.submit("warm", small)
        t = {"local": [], "slurm": []}
        for i in range(args.runs):
            order = (local, slurm) if i % 2 == 0 else (slurm, local)
            for s in order:
                t["local" if s is local else "slurm"].append(s.submit("s%d" % i, small))
        diff = [b - a for a, b in zip(t["local"], t["slurm"])]
        print("\ncluster started in %.2f s%s" % (started, " (untuned)" if args.untuned else ""))
        print("%d sequential `assay submit --wait` each, interleaved (ms):" % args.runs)
        print("%14s %14s %14s %14s %16s" % ("local median", "local p95", "slurm median",
                                            "slurm p95", "slurm - local"))
        print("%14.1f %14.1f %14.1f %14.1f %16.1f" % (
            1e3 * statistics.median(t["local"]), 1e3 * pct(t["local"], 95),
            1e3 * statistics.median(t["slurm"]), 1e3 * pct(t["slurm"], 95),
            1e3 * statistics.median(diff)))
        # One spool's flood at a time (the other's scheduler idles).
        rates = {}
        for label, s in (("local", local), ("slurm", slurm)):
            wall = s.flood(args.flood, small)
            rates[label] = args.flood / wall
            print("flood %s: %d jobs on %d slots in %.1f s, %.1f jobs/s" % (
                label, args.flood, args.slots, wall, rates[label]), flush=True)
        print("slurm / local: %.2f" % (rates["slurm"] / rates["local"]))
        print("\n(%s, command: sudo /usr/bin/python3 bench/slurm.py --runs %d --flood %d "
              "--slots %d%s)" % (datetime.date.today(), args.runs, args.flood, args.slots,
                                 " --untuned" if args.untuned else ""))
    finally:
        for s in spools:
            s.stop()
        subprocess.run([script, "down", cluster], env=env)
        subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
