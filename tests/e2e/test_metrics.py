"""GET /metrics of a real assay-web over a spool that really graded jobs:
the page passes `promtool check metrics` (Debian's prometheus package),
its figures are the spool's (jobs submitted, graded, queued; workers up
and down; a limit hit), a real Prometheus server scrapes it and answers
a PromQL query with the number of graded jobs, and the counters stay
true when assay-web and the scheduler restart.  Who may scrape:
loopback only by default, else the bearer token of a private file.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from assay_helpers import exe, wait_for
from pipeline import HI_TEST, VARIANTS, assignment_doc, pipeline, slow_hello  # noqa: F401

PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")


def free_port():
    """A port the system just gave out (for servers that need a number)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_web_json(spool, doc):
    with open(spool.path("web.json"), "w") as f:
        json.dump(doc, f)


def web_addr(spool, old=None):
    """The address assay-web wrote to web.addr (a new one when OLD is given)."""
    def read():
        try:
            with open(spool.path("web.addr")) as f:
                a = f.read().strip()
        except OSError:
            return None
        return a if a and a != old else None
    return wait_for("assay-web's address in web.addr", read, timeout=30,
                    context=lambda: spool.log_text()[-3000:])


def get(url, headers=None, timeout=30):
    """(status, content type, body text) of GET URL."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode(errors="replace")


def samples(text):
    """{'name{labels}': value} of a text-format page."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def scrape(addr):
    status, ctype, body = get(addr + "/metrics")
    assert status == 200, body
    assert ctype == "text/plain; version=0.0.4; charset=utf-8"
    return body


def promtool_check(body):
    p = subprocess.run([PROMTOOL, "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, f"promtool check metrics:\n{p.stdout}{p.stderr}\n---\n{body}"


def add_down_worker(spool):
    """A second worker "far" over SSH to a port nobody listens on: down."""
    with open(spool.path("workers.json")) as f:
        doc = json.load(f)
    doc["workers"].append({"name": "far", "transport": "ssh", "host": "127.0.0.1",
                           "port": free_port(), "key": "keys/id",
                           "known_hosts": "keys/known_hosts", "slots": 1,
                           "capabilities": ["python"]})
    with open(spool.path("workers.json"), "w") as f:
        json.dump(doc, f)


def health(spool, worker):
    try:
        with open(spool.path("health", worker + ".json")) as f:
            return json.load(f).get("status")
    except (OSError, ValueError):
        return None


class Prometheus:
    """A real prometheus server scraping TARGET every second, its storage
    and configuration in DIR, on a free loopback port."""

    def __init__(self, directory, target):
        self.dir = directory
        cfg = os.path.join(directory, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: assay\n"
                    f"    static_configs:\n      - targets: ['{target}']\n")
        self.port = free_port()
        self.log = open(os.path.join(directory, "prometheus.log"), "wb")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={directory}/data",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)

    def query(self, q):
        url = f"http://127.0.0.1:{self.port}/api/v1/query?" + urllib.parse.urlencode({"query": q})
        try:
            status, _, body = get(url, timeout=5)
        except OSError:
            return None
        doc = json.loads(body) if status == 200 else None
        return doc["data"]["result"] if doc and doc.get("status") == "success" else None

    def logs(self):
        with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
            return f.read()[-3000:]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.mark.skipif(not PROMTOOL or not PROMETHEUS, reason="Debian's prometheus is not installed "
                    "(scripts/install-deps.sh installs it)")
def test_prometheus_scrapes_what_the_spool_did(pipeline, tmp_path):
    spool = pipeline()
    spool.add_assignment("cs101", "hw1", assignment_doc([HI_TEST]))
    spool.add_assignment("ml", "gpu1", assignment_doc([HI_TEST], capability="gpu"))
    add_down_worker(spool)
    write_web_json(spool, {"start": True, "listen": "127.0.0.1:0"})
    spool.start()
    addr = web_addr(spool)

    scores = {}
    for name in ("right", "close", "wrong"):
        src = spool.make_submission(name, {"hello.py": VARIANTS[name][0]})
        _, r = spool.submit_wait("cs101", "hw1", name, src)
        scores[name] = r["score"]
    assert scores == {"right": 2, "close": 0, "wrong": 0}
    slow = spool.make_submission("slow", {"hello.py": slow_hello(30)})
    _, r = spool.submit_wait("cs101", "hw1", "slow", slow)
    assert r["tests"][0]["verdict"] == "timeout"
    gpu = spool.make_submission("gpu", {"hello.py": VARIANTS["right"][0]})
    for student in ("g1", "g2"):
        spool.submit("ml", "gpu1", student, gpu)
    wait_for("worker far to be found down", lambda: health(spool, "far") == "down", timeout=60)

    def settled():
        m = samples(scrape(addr))
        return m if m.get('assay_queue_jobs{course="ml",capability="gpu",priority="interactive"}') == 2 \
            else None
    body = scrape(addr)
    promtool_check(body)
    m = wait_for("the two gpu jobs in the scheduler's view", settled, timeout=30)
    want = {
        'assay_build_info{version="0.1.0"}': 1,
        "assay_scheduler_up": 1,
        'assay_jobs_submitted_total{course="cs101",priority="interactive"}': 4,
        'assay_jobs_submitted_total{course="ml",priority="interactive"}': 2,
        'assay_jobs_completed_total{course="cs101",outcome="graded"}': 4,
        'assay_queue_jobs{course="ml",capability="gpu",priority="interactive"}': 2,
        'assay_job_attempts_total{reason="graded"}': 4,
        'assay_sandbox_limit_hits_total{limit="time"}': 1,
        'assay_sandbox_limit_hits_total{limit="memory"}': 0,
        'assay_job_wait_seconds_count{course="cs101"}': 4,
        'assay_job_wait_seconds_bucket{course="cs101",le="+Inf"}': 4,
        'assay_job_run_seconds_count{course="cs101",capability="python"}': 4,
        'assay_worker_up{worker="local"}': 1,
        'assay_worker_up{worker="far"}': 0,
        'assay_worker_slots{worker="far",state="idle"}': 1,
        'assay_stale_results_total': 0,
    }
    assert {k: m.get(k) for k in want} == want
    assert m['assay_queue_oldest_job_age_seconds{capability="gpu"}'] >= 0
    assert m['assay_worker_last_contact_timestamp_seconds{worker="local"}'] > time.time() - 300
    for student in ("right", "close", "wrong", "slow", "g1", "g2"):
        assert student not in body
    promtool_check(scrape(addr))

    # A real Prometheus scrapes it, and PromQL counts the graded jobs.
    host_port = addr.split("//", 1)[1]
    prom = Prometheus(str(tmp_path), host_port)
    try:
        q = 'sum(assay_jobs_completed_total{outcome="graded"})'
        result = wait_for("Prometheus to answer " + q,
                          lambda: (lambda r: r if r else None)(prom.query(q)),
                          timeout=60, interval=0.5, context=prom.logs)
        assert float(result[0]["value"][1]) == 4
        up = prom.query('up{job="assay"}')
        assert up and float(up[0]["value"][1]) == 1
    finally:
        prom.stop()

    # Counters stay true when assay-web dies (the scheduler restarts it) ...
    pid = int(subprocess.run(["pgrep", "-f", f"assay-web --spool {spool.root} "],
                             capture_output=True, text=True).stdout.split()[0])
    os.kill(pid, signal.SIGKILL)
    addr = web_addr(spool, old=addr)
    m = samples(scrape(addr))
    assert m['assay_jobs_completed_total{course="cs101",outcome="graded"}'] == 4
    assert any(l.message.startswith("assay-web (pid %d) died" % pid) for l in spool.log_lines())

    # ... and when the scheduler stops: the queue is then read from the files.
    rc, in_time = spool.stop()
    assert in_time and rc == 0
    web = subprocess.Popen([exe("assay-web"), "--spool", spool.root, "--listen", "127.0.0.1:0"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = web.stdout.readline()
        assert line.startswith("listening on "), line
        m = samples(scrape(line.split()[-1]))
        assert m["assay_scheduler_up"] == 0
        assert m['assay_jobs_completed_total{course="cs101",outcome="graded"}'] == 4
        assert m['assay_queue_jobs{course="ml",capability="gpu",priority="interactive"}'] == 2
    finally:
        web.terminate()
        web.wait(30)


def test_metrics_are_for_loopback_or_the_token(pipeline):
    spool = pipeline()
    token = "tok-" + os.urandom(16).hex()
    keyfile = spool.path("metrics.token")
    with open(keyfile, "w") as f:
        f.write(token + "\n")
    os.chmod(keyfile, 0o644)
    write_web_json(spool, {"metrics": {"token_file": "metrics.token"}})
    p = subprocess.run([exe("assay-web"), "--spool", spool.root, "--listen", "127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert f"the metrics token file {keyfile} (web.json: metrics.token_file) must be a regular " \
           f"file only its owner can read: chmod 600 {keyfile}" in p.stderr, p.stderr
    os.chmod(keyfile, 0o600)

    def serve():
        w = subprocess.Popen([exe("assay-web"), "--spool", spool.root, "--listen",
                              "127.0.0.1:0"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        line = w.stdout.readline()
        assert line.startswith("listening on "), line
        return w, line.split()[-1]

    web, addr = serve()
    try:
        assert get(addr + "/metrics")[0] == 403
        assert get(addr + "/metrics", {"Authorization": "Bearer " + token[:-1]})[0] == 403
        assert get(addr + "/metrics", {"Authorization": "Basic " + token})[0] == 403
        status, _, body = get(addr + "/metrics", {"Authorization": "Bearer " + token})
        assert status == 200 and "assay_build_info" in body
    finally:
        web.terminate()
        web.wait(30)

    write_web_json(spool, {})   # loopback only
    web, addr = serve()
    try:
        assert get(addr + "/metrics")[0] == 200
        # through a proxy on this machine the scraper is someone else
        assert get(addr + "/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 403
    finally:
        web.terminate()
        web.wait(30)


def test_the_scheduler_runs_assay_web_as_web_json_says(pipeline):
    """No "start": no assay-web.  "start": true and SIGHUP: the scheduler
    starts it.  "start": false and SIGHUP: it stops it.  A "start" that is
    not a boolean is logged, and taken as false."""
    spool = pipeline()
    spool.start()
    wait_for("the scheduler to start", lambda: "assay-scheduler" in spool.log_text() and
             "started:" in spool.log_text())

    def web_pids():
        p = subprocess.run(["pgrep", "-f", f"assay-web --spool {spool.root} "],
                           capture_output=True, text=True)
        return [int(x) for x in p.stdout.split()]
    assert web_pids() == []
    write_web_json(spool, {"start": True, "listen": "127.0.0.1:0"})
    spool.sched.send_signal(signal.SIGHUP)
    addr = web_addr(spool)
    assert get(addr + "/metrics")[0] == 200
    pid = web_pids()[0]
    assert any(l.message == f"started assay-web (pid {pid})" for l in spool.log_lines())

    write_web_json(spool, {"start": "yes"})
    spool.sched.send_signal(signal.SIGHUP)
    wait_for("assay-web to stop", lambda: not web_pids(), timeout=30)
    assert any(l.level == "error" and l.message.endswith('web.json: "start" must be true or false')
               for l in spool.log_lines())
    rc, in_time = spool.stop()
    assert in_time and rc == 0
