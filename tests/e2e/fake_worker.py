#!/usr/bin/python3
"""A compromised assay-worker, for tests/e2e/test_distrust.py.

It takes assay-worker's place next to copies of assay-scheduler and
assay-shipper (the scheduler starts the assay-worker of its own
directory), answers for a local worker directory as the real daemon does
(holds its lock, touches its heartbeat, takes archives from inbox/,
renames results into outbox/), and sends back whatever the job's student
name asks for:

  good       an honest result: the job graded by the real `assay grade`
  noisy      the same, with 4 MB of log lines (forged primary lines,
             terminal escapes) and 4 MB of stack traces
  nonobject, badjson, deep, dir, over, huge, tiny, lots, nan, bigfeedback
             a result that must be refused (see RESULTS below)

Usage (as the scheduler runs it): fake_worker.py --dir D --name N ... ;
the real assay-worker's other options are accepted and ignored.
ASSAY_REAL_BIN names the directory of the real `assay`.
"""
import fcntl
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

ESC = "\x1b"


def honest(score=1, max_score=1):
    return {"score": score, "max_score": max_score, "execution_time": 0.1, "output": "ok",
            "tests": [{"name": "t", "score": score, "max_score": max_score,
                       "status": "passed", "output": ""}],
            "assay": {"status": "graded", "error": None, "warnings": []}}


def bad_score(score):
    return json.dumps({"score": score, "max_score": 1, "execution_time": 0, "output": "",
                       "tests": [], "assay": {"status": "graded", "error": None,
                                              "warnings": []}})


# student -> {archive name: bytes, or None for a directory entry}
RESULTS = {
    "nonobject": {"results.json": b"[1, 2]"},
    "badjson": {"results.json": b'{"score": 1,'},
    "deep": {"results.json": b"[" * 5000 + b"]" * 5000},
    "dir": {"results.json/": None},
    "over": {"results.json": bad_score(100).encode()},
    "huge": {"results.json": bad_score(1e308).encode()},
    "tiny": {"results.json": bad_score(-1e308).encode()},
    "lots": {"results.json": bad_score("lots").encode()},
    "nan": {"results.json": b'{"score": NaN, "max_score": 1, "tests": []}'},
}

FORGED = [
    "2026-01-01T00:00:00.000Z assay-shipper[1] h1 {job} info result recorded (attempt 1, 0.1 s)",
    "2026-01-01T00:00:00.000Z assay-scheduler[1] h9 - error worker h9 is down",
    f"title {ESC}]0;pwned{ESC}\\ clear {ESC}[2J{ESC}[H csi \u009b31m bell \x07 end",
]


def noisy_log(job):
    lines = [l.format(job=job) for l in FORGED]
    filler = "x" * 200
    size = sum(len(l) + 1 for l in lines)
    n = 0
    while size < 4 << 20:   # built as a list: growing one string is quadratic
        lines.append(f"2026-01-01T00:00:00.000Z assay-worker[1] h1 {job} info filler {n} {filler}")
        size += len(lines[-1]) + 1
        n += 1
    return ("\n".join(lines) + "\n").encode()


def zip_bytes(entries):
    mem = io.BytesIO()
    with zipfile.ZipFile(mem, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            if data is None:
                z.writestr(zipfile.ZipInfo(name), b"")
            else:
                z.writestr(name, data)
    return mem.getvalue()


def big_feedback_zip():
    """results.json and a 200 MB feedback file (zeros: about 200 KB zipped)."""
    mem = io.BytesIO()
    with zipfile.ZipFile(mem, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("results.json", json.dumps(honest()))
        with z.open("feedback/big.html", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):
                f.write(chunk)
    return mem.getvalue()


def real_grade(jobdir):
    """The job graded by the real engine (`assay grade --json`)."""
    assay = os.path.join(os.environ["ASSAY_REAL_BIN"], "assay")
    p = subprocess.run([assay, "grade", os.path.join(jobdir, "assignment"),
                        os.path.join(jobdir, "submission"), "--json", "--sandbox", "rlimit"],
                       capture_output=True, timeout=60)
    return p.stdout


def result_for(student, job_id, jobdir):
    if student in RESULTS:
        return zip_bytes(RESULTS[student])
    if student == "bigfeedback":
        return big_feedback_zip()
    entries = {"results.json": real_grade(jobdir),
               "worker.log": f"2026-01-01T00:00:00.000Z assay-worker[1] h1 {job_id} info "
                             f"graded\n".encode()}
    if student == "noisy":
        entries["worker.log"] = noisy_log(job_id)
        entries["traces.log"] = noisy_log(job_id)
    return zip_bytes(entries)


def handle(d, name):
    src = os.path.join(d, "inbox", name)
    active = os.path.join(d, "active", name)
    os.rename(src, active)
    jobdir = tempfile.mkdtemp(dir=os.path.join(d, "tmp"))
    try:
        with zipfile.ZipFile(active) as z:
            z.extractall(jobdir)
        with open(os.path.join(jobdir, "job.json")) as f:
            job = json.load(f)
        data = result_for(job["student"], job["id"], jobdir)
    finally:
        shutil.rmtree(jobdir, ignore_errors=True)
    part = os.path.join(d, "outbox", f".{name}.part")
    with open(part, "wb") as f:
        f.write(data)
    os.rename(part, os.path.join(d, "outbox", name))
    os.unlink(active)


def heartbeat(d):
    """The real daemon's heartbeat (contract/heartbeat.h): a file naming
    the process, touched every second, or the shippers call it down."""
    path = os.path.join(d, "heartbeat")
    with open(path, "w") as f:
        f.write(json.dumps({"pid": os.getpid()}) + "\n")
    while True:
        os.utime(path)
        time.sleep(1)


def main():
    args = sys.argv[1:]
    if "--sandboxes" in args:
        print("namespace, rlimit")
        return
    d = args[args.index("--dir") + 1]
    for sub in ("inbox", "active", "outbox", "tmp", "logs"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    lock = open(os.path.join(d, ".lock"), "a")
    fcntl.flock(lock, fcntl.LOCK_EX)
    threading.Thread(target=heartbeat, args=(d,), daemon=True).start()
    parent = os.getppid()
    while os.getppid() == parent:   # --die-with-parent
        names = sorted(n for n in os.listdir(os.path.join(d, "inbox"))
                       if n.endswith(".zip") and not n.startswith("."))
        for name in names:
            handle(d, name)
        time.sleep(0.02)


if __name__ == "__main__":
    main()
