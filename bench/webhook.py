#!/usr/bin/python3
"""webhook.py - how fast assay-web answers GitHub's push webhook, and how
long a push takes to get its final commit status.

    /usr/bin/python3 bench/webhook.py [--pushes N] [--build DIR]

Creates a spool in a temporary directory (`assay init`) with one
assignment (an io test printing "hi"), forges.json and a course mapping a
GitHub organization, starts `assay-scheduler` (shippers, the local
worker, assay-intake, assay-deliver) and `assay-web` on a free port, and
a local GitHub (tests/e2e/fake_forge.py) serving the zip of a real commit
made with git.  Then:

  answer  N signed push events, each for its own student's repository,
          POSTed one after the other; the time from sending the request
          to having assay-web's whole answer (202), while the pushes
          before it are fetched, graded and their statuses posted;
  peer    the same number of GET /login from the same client in the
          same run, interleaved: the server's cost for a trivial page,
          against which the webhook's answer is a ratio;
  status  for each push, from its answer to the fake GitHub holding its
          final status (success, "Points 2/2"), the whole trip through
          intake, queue, worker, result and delivery: for the burst above
          (its pushes queue behind one another on the two slots), and for
          --spaced pushes sent one at a time, each once the one before
          has its final status.

Prints medians, p95 and maxima.  Not a test: no assertion on time;
figures go to docs/PERFORMANCE.md.  Everything started is stopped and the
spool removed at the end, also on error.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from fake_forge import FakeGitHub  # noqa: E402
from run_dirs import remove_run_dirs  # noqa: E402

SECRET = "bench-webhook-secret"
ORG = "bench-org"
ASSIGNMENT = {
    "assay": 1, "title": "webhook bench", "capability": "python", "required_files": ["hello.py"],
    "limits": {"wall_s": 10, "cpu_s": 5, "memory_mb": 256},
    "tests": [{"name": "says hi", "kind": "io", "points": 2, "command": "python3 hello.py",
               "expected_stdout": "hi\n"}]}


def pct(xs, p):
    s = sorted(xs)
    k = max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))
    return s[k]


def private(path, text):
    with open(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(text + "\n")
    return path


def make_commit(base):
    d = os.path.join(base, "repo")
    os.makedirs(d)
    with open(os.path.join(d, "hello.py"), "w") as f:
        f.write("print('hi')\n")
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b",
               GIT_COMMITTER_EMAIL="b@x")
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "w"]):
        subprocess.run(["git", *args], cwd=d, check=True, env=env, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=d, check=True, capture_output=True,
                         text=True).stdout.strip()
    data = subprocess.run(["git", "archive", "--format=zip", f"--prefix=r-{sha[:7]}/", "HEAD"],
                          cwd=d, check=True, capture_output=True).stdout
    return sha, data


def timed(conn, method, path, body=None, headers=None):
    t0 = time.perf_counter()
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    r.read()
    return time.perf_counter() - t0, r.status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pushes", type=int, default=50)
    ap.add_argument("--spaced", type=int, default=10)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    o = ap.parse_args()
    build = os.path.abspath(o.build)
    base = tempfile.mkdtemp(prefix="assay-bench-webhook-")
    os.chmod(base, 0o755)
    root = os.path.join(base, "spool")
    procs, fake = [], FakeGitHub()
    try:
        subprocess.run([os.path.join(build, "assay"), "init", root], check=True,
                       capture_output=True)
        asg = os.path.join(root, "courses", "bench", "hw1")
        os.makedirs(asg)
        with open(os.path.join(asg, "assignment.json"), "w") as f:
            json.dump(ASSIGNMENT, f)
        with open(os.path.join(root, "courses", "bench", "course.json"), "w") as f:
            json.dump({"git": {"github": ORG}}, f)
        with open(os.path.join(root, "forges.json"), "w") as f:
            json.dump({"github": {"secret_file": private(os.path.join(base, "s"), SECRET),
                                  "token_file": private(os.path.join(base, "t"), fake.token),
                                  "api_url": fake.api_url}}, f)
        sha, data = make_commit(base)
        procs.append(subprocess.Popen([os.path.join(build, "assay-scheduler"), "--spool", root],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        web = subprocess.Popen([os.path.join(build, "assay-web"), "--spool", root, "--listen",
                                "127.0.0.1:0"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, start_new_session=True)
        procs.append(web)
        port = int(web.stdout.readline().decode().rsplit(":", 1)[1])
        time.sleep(2)   # the scheduler's children start
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        answers, peers, sent = [], [], {}

        def final_of(repo):
            with fake.lock:
                for st in fake.statuses:
                    if st["repo"] == repo and st["state"] in ("success", "failure", "error"):
                        return st
            return None
        spaced = []
        for i in range(o.spaced):
            repo = f"{ORG}/hw1-spaced{i}"
            fake.add_archive(repo, sha, data)
            body = json.dumps({"ref": "refs/heads/main", "after": sha,
                               "repository": {"full_name": repo, "default_branch": "main"},
                               "pusher": {"name": f"spaced{i}"}}).encode()
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            t0 = time.perf_counter()
            timed(conn, "POST", "/hooks/github", body, {
                "X-GitHub-Event": "push", "X-GitHub-Delivery": f"spaced-{i}",
                "X-Hub-Signature-256": sig, "Content-Type": "application/json"})
            while final_of(repo) is None and time.perf_counter() - t0 < 60:
                time.sleep(0.002)
            spaced.append(time.perf_counter() - t0)
        for i in range(o.pushes):
            repo = f"{ORG}/hw1-s{i}"
            fake.add_archive(repo, sha, data)
            body = json.dumps({"ref": "refs/heads/main", "after": sha,
                               "repository": {"full_name": repo, "default_branch": "main"},
                               "pusher": {"name": f"s{i}"}}).encode()
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": f"bench-{i}",
                       "X-Hub-Signature-256": sig, "Content-Type": "application/json"}
            pair = [("hook", body, headers), ("peer", None, None)]
            for kind, b, h in (pair if i % 2 == 0 else pair[::-1]):
                if kind == "hook":
                    dt, st = timed(conn, "POST", "/hooks/github", b, h)
                    assert st == 202, st
                    answers.append(dt)
                    sent[repo] = time.perf_counter()
                else:
                    dt, _ = timed(conn, "GET", "/login")
                    peers.append(dt)
        finals = {}
        deadline = time.time() + 60 + o.pushes * 2
        while len(finals) < len(sent) and time.time() < deadline:
            with fake.lock:
                for s in fake.statuses:
                    if (s["state"] in ("success", "failure", "error") and s["repo"] in sent
                            and s["repo"] not in finals):
                        finals[s["repo"]] = time.perf_counter() - sent[s["repo"]]
            time.sleep(0.01)
        ms = lambda xs: f"median {statistics_median(xs) * 1000:.2f} ms, p95 {pct(xs, 95) * 1000:.2f} ms, max {max(xs) * 1000:.2f} ms"
        print(f"pushes: {o.pushes}")
        print(f"webhook answer (202): {ms(answers)}")
        print(f"GET /login (peer):    {ms(peers)}")
        print(f"ratio of medians:     {statistics_median(answers) / statistics_median(peers):.2f}")
        if spaced:
            print(f"one push at a time -> final status: median {statistics_median(spaced):.3f} s, "
                  f"p95 {pct(spaced, 95):.3f} s, max {max(spaced):.3f} s ({len(spaced)} pushes)")
        if finals:
            print(f"burst push -> final status: median {statistics_median(list(finals.values())):.3f} s, "
                  f"p95 {pct(list(finals.values()), 95):.3f} s ({len(finals)} of {len(sent)})")
        print(f"deviations from GitHub's API: {len(fake.deviations)}")
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)
        fake.close()
        remove_run_dirs(root)
        shutil.rmtree(base, ignore_errors=True)


def statistics_median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


if __name__ == "__main__":
    main()
