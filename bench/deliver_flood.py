#!/usr/bin/python3
"""deliver_flood.py - how fast assay-deliver sends grades to Canvas.

    /usr/bin/python3 bench/deliver_flood.py [--courses K] [--students M] [--runs R] [--build DIR]

Makes a spool in a temporary directory (`assay init`) with K courses of M
students, each course's lms block pointing at the local Canvas of the
tests (tests/e2e/fake_canvas.py, which checks every request against
Canvas's API), every student's result recorded and a delivery queued in
deliveries/pending/ for each (written directly: no grading is timed).
Then, against a bare client talking to the same server in the same run:

  flood    assay-deliver started on the K*M pending deliveries, the wall
           time until the last is in done/ (Canvas holding every grade,
           each once); bare: one Python http.client connection sending
           the same K*M PUTs one after the other;
  latency  R times, with assay-deliver idle: a delivery renamed into
           pending/, the time until Canvas has applied its grade; bare:
           one PUT of the same request on a fresh connection.

It prints medians and the ratios.  Not a test: no assertion on time;
figures go to docs/PERFORMANCE.md.  The spool and assay-deliver are
removed at the end, also on error or Ctrl-C.
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
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
from fake_canvas import FakeCanvas  # noqa: E402

RESULT = {"score": 2, "max_score": 2, "tests": [], "assay": {"status": "graded"}}
VIEW = {"score": 2, "max_score": 2, "tests": [{"name": "says hi", "score": 2, "max_score": 2}]}


def write(path, doc, mode=0o600):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))


def delivery(course, student, n):
    return {"key": f"B{n:06d}.1.canvas", "destination": "canvas", "course": course,
            "assignment": "hw1", "student": student, "version": 1, "job_id": f"B{n:06d}",
            "attempt": 1, "tries": 0, "not_before": 0, "unsure": False, "batch": False,
            "last_error": None, "queued_at": "2026-12-01T00:00:00.000Z"}


def make_spool(build, base, fake, courses, students):
    spool = os.path.join(base, "spool")
    subprocess.run([os.path.join(build, "assay"), "init", spool], check=True,
                   capture_output=True)
    write(os.path.join(base, "token"), fake.token + "\n")
    fake.add_assignment(42)
    n = 0
    for c in range(courses):
        course = f"c{c}"
        write(os.path.join(spool, "courses", course, "course.json"),
              {"lms": {"base_url": fake.base_url, "course_id": fake.course_id,
                       "token_file": os.path.join(base, "token"),
                       "assignments": {"hw1": {"assignment_id": 42}}}})
        for s in range(students):
            name = f"{course}s{s}"
            fake.add_student(name)
            rdir = os.path.join(spool, "results", course, "hw1", name, "1")
            write(os.path.join(rdir, "results.json"), RESULT)
            write(os.path.join(rdir, "results.student.json"), VIEW)
            write(os.path.join(spool, "deliveries", "pending", f"B{n:06d}.1.canvas.json"),
                  delivery(course, name, n))
            n += 1
    return spool, n


def count_done(spool):
    return sum(1 for n in os.listdir(os.path.join(spool, "deliveries", "done"))
               if n.endswith(".json"))


def flood(build, spool, total):
    t0 = time.monotonic()
    p = subprocess.Popen([os.path.join(build, "assay-deliver"), "--spool", spool],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while count_done(spool) < total:
        if p.poll() is not None:
            raise SystemExit("assay-deliver exited early")
        time.sleep(0.005)
    return time.monotonic() - t0, p


def bare_flood(fake, total):
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    body = urllib.parse.urlencode({"submission[posted_grade]": "2",
                                   "comment[text_comment]": "Assay: 2 / 2 points."})
    students = list(fake.students.values())
    t0 = time.monotonic()
    for i in range(total):
        s = students[i % len(students)]
        conn.request("PUT", f"/api/v1/courses/{fake.course_id}/assignments/42/submissions/"
                     f"sis_login_id:{s.login_id}", body,
                     {"Authorization": f"Bearer {fake.token}",
                      "Content-Type": "application/x-www-form-urlencoded"})
        conn.getresponse().read()
    conn.close()
    return time.monotonic() - t0


def one_latency(spool, fake, n):
    course, student = "c0", "c0s0"
    d = delivery(course, student, n)
    d["key"] = f"L{n:06d}.1.canvas"
    tmp = os.path.join(spool, "tmp", d["key"] + ".json")
    write(tmp, d)
    before = len(fake.puts)
    t0 = time.monotonic()
    os.rename(tmp, os.path.join(spool, "deliveries", "pending", d["key"] + ".json"))
    while len(fake.puts) == before:
        time.sleep(0.0002)
    return time.monotonic() - t0


def bare_latency(fake):
    body = urllib.parse.urlencode({"submission[posted_grade]": "2"})
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", fake.port)
    conn.request("PUT", f"/api/v1/courses/{fake.course_id}/assignments/42/submissions/"
                 "sis_login_id:c0s0", body, {"Authorization": f"Bearer {fake.token}",
                                             "Content-Type": "application/x-www-form-urlencoded"})
    conn.getresponse().read()
    conn.close()
    return time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--courses", type=int, default=4)
    ap.add_argument("--students", type=int, default=250)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    base = tempfile.mkdtemp(prefix="assay-bench-deliver-")
    fake = FakeCanvas()
    proc = None
    try:
        spool, total = make_spool(a.build, base, fake, a.courses, a.students)
        took, proc = flood(a.build, spool, total)
        assert all(v == 1 for v in fake.applied(42).values()) and len(fake.puts) == total
        bare = bare_flood(fake, total)
        lat, bare_lat = [], []
        for i in range(a.runs):   # interleaved, the order alternating
            if i % 2:
                bare_lat.append(bare_latency(fake))
                lat.append(one_latency(spool, fake, i))
            else:
                lat.append(one_latency(spool, fake, i))
                bare_lat.append(bare_latency(fake))
        if fake.deviations:
            raise SystemExit("requests deviating from Canvas's API:\n" + "\n".join(fake.deviations))
        print(f"command: {' '.join(sys.argv)}")
        print(f"flood: {total} deliveries ({a.courses} courses x {a.students}) in {took:.2f} s "
              f"= {total / took:.0f}/s; bare sequential PUTs {bare:.2f} s = {total / bare:.0f}/s; "
              f"ratio {took / bare:.2f}")
        ml, mb = statistics.median(lat), statistics.median(bare_lat)
        print(f"latency (pending/ -> grade applied), median of {a.runs}: {ml * 1000:.1f} ms "
              f"(min {min(lat) * 1000:.1f}, max {max(lat) * 1000:.1f}); bare PUT "
              f"{mb * 1000:.1f} ms; difference {(ml - mb) * 1000:.1f} ms")
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        fake.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
