#!/usr/bin/python3
"""ssh_transport.py - what the SSH transport costs, against the local one.

    sudo /usr/bin/python3 bench/ssh_transport.py [--runs N] [--flood N] [--build DIR]

Starts a test cluster (scripts/test-cluster.sh: worker hosts in network
namespaces, each with Debian's sshd and assay-worker) and two spools:

  local   one local worker (a directory on this machine), 2 slots
  ssh     one SSH worker (host h1 of the cluster), 2 slots

then measures, interleaved so machine noise hits both alike, RUNS
sequential `assay submit --wait` of
  - a trivial job (one command test, `python3 -c pass`), and
  - the same job with a 1 MB file in the submission,
through each spool (the SSH session is warm: the shippers keep it open).
It prints medians and p95, and SSH minus local per job (goal: at most
30 ms).  Finally it floods FLOOD jobs over three SSH hosts (6 slots) and
reports the throughput.  Not a test: no assertion on time; figures go to
docs/PERFORMANCE.md.  Everything it started is stopped and removed at the
end, also on error or Ctrl-C.  Needs root (network namespaces).
"""
import argparse
import datetime
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
ASSIGNMENT = {
    "assay": 1, "title": "SSH benchmark", "required_files": ["hello.py"],
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
        with open(os.path.join(root, "workers.json"), "w") as f:
            json.dump({"workers": workers}, f)
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
            cmd += ["--wait", "--timeout", "60", "--json", "--view", "instructor"]
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
        for dirpath, _, files in os.walk(os.path.join(self.root, "results")):
            n += "results.json" in files
        return n

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def wait_up(spool, names, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ok = 0
        for n in names:
            try:
                with open(os.path.join(spool.root, "health", n + ".json")) as f:
                    ok += json.load(f).get("status") == "up"
            except (OSError, ValueError):
                pass
        if ok == len(names):
            return
        time.sleep(0.05)
    raise RuntimeError("workers %s did not come up" % names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--flood", type=int, default=300)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tmp = tempfile.mkdtemp(prefix="assay-bench-ssh-")
    os.chmod(tmp, 0o755)
    cluster = os.path.join(tmp, "cluster")
    env = dict(os.environ, ASSAY_BUILD=build)
    spools = []
    try:
        subprocess.run([os.path.join(ROOT, "scripts", "test-cluster.sh"), "up", cluster, "3"],
                       check=True, env=env)
        with open(os.path.join(cluster, "workers.json")) as f:
            hosts = json.load(f)
        local = Spool(build, os.path.join(tmp, "local"),
                      [{"name": "local", "transport": "local", "dir": "workers/local", "slots": 2,
                        "capabilities": ["python"]}])
        ssh = Spool(build, os.path.join(tmp, "ssh"), [hosts[0]])
        spools += [local, ssh]
        wait_up(local, ["local"])
        wait_up(ssh, ["h1"])
        small = os.path.join(tmp, "hello.py")
        with open(small, "w") as f:
            f.write("print('hello')\n")
        big = os.path.join(tmp, "big")
        os.makedirs(big)
        shutil.copy(small, big)
        with open(os.path.join(big, "data.bin"), "wb") as f:
            f.write(os.urandom(1 << 20))
        for s in (local, ssh):          # warm up
            s.submit("warm", small)
        rows = {}
        for label, path in (("trivial job", small), ("1 MB submission", big)):
            t = {"local": [], "ssh": []}
            for i in range(args.runs):
                order = (local, ssh) if i % 2 == 0 else (ssh, local)
                for s in order:
                    t["local" if s is local else "ssh"].append(s.submit("s%d" % i, path))
            rows[label] = t
        print("\n%d sequential `assay submit --wait` each, interleaved (ms):" % args.runs)
        print("%-18s %14s %14s %14s %14s %16s" % ("", "local median", "local p95", "ssh median",
                                                  "ssh p95", "ssh - local"))
        for label, t in rows.items():
            diff = [b - a for a, b in zip(t["local"], t["ssh"])]
            print("%-18s %14.1f %14.1f %14.1f %14.1f %16.1f" % (
                label, 1e3 * statistics.median(t["local"]), 1e3 * pct(t["local"], 95),
                1e3 * statistics.median(t["ssh"]), 1e3 * pct(t["ssh"], 95),
                1e3 * statistics.median(diff)))
        ssh.stop()
        local.stop()
        spools.clear()
        flood = Spool(build, os.path.join(tmp, "flood"), hosts)
        spools.append(flood)
        wait_up(flood, [h["name"] for h in hosts])
        t0 = time.monotonic()
        for i in range(args.flood):
            flood.submit("f%d" % i, small, wait=False)
        while flood.results_count() < args.flood:
            if time.monotonic() - t0 > 600:
                raise RuntimeError("flood: only %d of %d results" % (flood.results_count(), args.flood))
            time.sleep(0.05)
        wall = time.monotonic() - t0
        print("\nflood: %d jobs over %d SSH hosts (%d slots): %.1f s, %.1f jobs/s" % (
            args.flood, len(hosts), 2 * len(hosts), wall, args.flood / wall))
        print("\n(%s, command: sudo /usr/bin/python3 bench/ssh_transport.py --runs %d --flood %d)"
              % (datetime.date.today(), args.runs, args.flood))
    finally:
        for s in spools:
            s.stop()
        subprocess.run([os.path.join(ROOT, "scripts", "test-cluster.sh"), "down", cluster],
                       env=env)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
