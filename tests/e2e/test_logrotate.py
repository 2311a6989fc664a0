"""Rotating the central log with the real logrotate loses no line.

A real pipeline (scheduler, shippers, a local worker) grades bursts of
jobs while `logrotate -f` runs the installed configuration
(scripts/logrotate/assay, pointed at the test's spool) in the middle of
each burst.  Every log line of every job must then be in assay.log,
assay.log.1 or assay.log.2.gz exactly once; no line stamped more than a
second after a rotation may be in the file it rotated away (each
long-lived process notices the rename within a second and reopens the
log); and the lines of a job submitted after the last rotation are all
in the new assay.log.
"""
import gzip
import os
import shutil
import subprocess
import time

import pytest

from conftest import REPO_ROOT
from pipeline import HI_TEST, VARIANTS, LogLine, assignment_doc, parse_time, pipeline  # noqa: F401

COURSE, ASG = "cs101", "hw1"
CONFIG = os.path.join(REPO_ROOT, "scripts", "logrotate", "assay")
INSTALLED_PATHS = "/var/spool/assay/logs/*.log /var/lib/assay-worker/logs/*.log"

# The lines each job leaves, by its first words: the scheduler's, the
# shipper's, the worker daemon's (all three keep the log open), and the
# grader's two, which the shipper writes as lines of its own ("worker: "
# and the grader's line) when it takes the result.
JOB_LINES = ("assigned to slot", "attempt 1 started in slot", "started grading in slot",
             "grading started", "graded: score", "result recorded (attempt 1,")
# A process checks at most once a second whether the log was renamed;
# the rest is the granularity of the stamps.
FOLLOW_S = 1.0 + 0.1


def own_message(line):
    """LINE's message; for a worker's line forwarded by a shipper, the
    worker's own message."""
    if line.message.startswith("worker: "):
        return LogLine(line.message[len("worker: "):]).message
    return line.message


def logrotate_config(spool, tmp_path):
    """The installed configuration, for this spool's logs only."""
    with open(CONFIG) as f:
        text = f.read()
    assert INSTALLED_PATHS in text, f"{CONFIG} no longer names {INSTALLED_PATHS}"
    path = tmp_path / "logrotate.conf"
    path.write_text(text.replace(INSTALLED_PATHS, spool.path("logs", "*.log")))
    path.chmod(0o644)   # logrotate refuses a configuration others may write
    return str(path)


def rotate(config, state):
    """Runs `logrotate -f`; returns the wall-clock time it finished."""
    logrotate = shutil.which("logrotate") or "/usr/sbin/logrotate"
    if not os.access(logrotate, os.X_OK):
        pytest.fail("logrotate is not installed: run scripts/install-deps.sh")
    p = subprocess.run([logrotate, "-f", "-s", state, config], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "error" not in p.stderr, \
        f"logrotate exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
    return time.time()


def read_logs(spool):
    """{file name: [lines]} of assay.log, assay.log.1 and assay.log.2.gz
    (those that exist); every file must end with a whole line."""
    out = {}
    for name in ("assay.log", "assay.log.1", "assay.log.2.gz"):
        path = spool.path("logs", name)
        if not os.path.exists(path):
            continue
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", errors="replace") as f:
            text = f.read()
        assert text == "" or text.endswith("\n"), f"{name} ends with a torn line"
        out[name] = text.splitlines()
    return out


def job_lines(logs, jobs):
    """{job: [(file name, LogLine)]} of the lines about JOBS in LOGS."""
    found = {j: [] for j in jobs}
    for name, lines in logs.items():
        for raw in lines:
            line = LogLine(raw)
            if line.job in found:
                found[line.job].append((name, line))
    return found


def wait_all_recorded(spool, jobs, timeout=30):
    """Waits until every job's "result recorded" line is in one of the logs
    (a shipper writes it just after the result appears)."""
    deadline = time.monotonic() + timeout
    while True:
        found = job_lines(read_logs(spool), jobs)
        missing = [j for j, ls in found.items()
                   if not any(l.message.startswith("result recorded") for _, l in ls)]
        if not missing:
            return
        assert time.monotonic() < deadline, \
            f"no \"result recorded\" line for {missing[:3]} in any log (lost?)"
        time.sleep(0.05)


def submit_burst(spool, source, prefix, config, state, n=10, gap_s=0.2):
    """Submits N jobs GAP_S apart, running logrotate after the third, so
    that the processes go on logging for more than a second after it;
    returns (job ids, the time logrotate finished)."""
    jobs, rotated = [], None
    for i in range(n):
        jobs.append(spool.submit(COURSE, ASG, f"{prefix}{i}", source))
        if i == 2:
            rotated = rotate(config, state)
        time.sleep(gap_s)
    return jobs, rotated


def test_logrotate_while_grading_loses_no_line(pipeline, tmp_path):
    spool = pipeline()
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST]))
    source = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    config, state = logrotate_config(spool, tmp_path), str(tmp_path / "logrotate.state")
    spool.start()
    spool.wait_running(slots=3, daemons=1)   # `assay init`'s local worker: 2 slots + 1 prefetch

    # two bursts, each with a rotation in the middle (more than a second
    # apart, as delaycompress needs: the second compresses what the first
    # renamed)
    first, rotated1 = submit_burst(spool, source, "a", config, state)
    spool.wait_results(first)
    wait_all_recorded(spool, first)
    second, rotated2 = submit_burst(spool, source, "b", config, state)
    assert rotated2 - rotated1 > FOLLOW_S
    spool.wait_results(second)
    wait_all_recorded(spool, second)
    # a job well after the last rotation
    time.sleep(FOLLOW_S)
    last = spool.submit(COURSE, ASG, "late", source)
    spool.wait_results([last])
    wait_all_recorded(spool, [last])

    logs = read_logs(spool)
    assert set(logs) == {"assay.log", "assay.log.1", "assay.log.2.gz"}, sorted(logs)
    # delaycompress: the newest rotated file stays plain, the older one is compressed
    with open(spool.path("logs", "assay.log.2.gz"), "rb") as f:
        assert f.read(2) == b"\x1f\x8b"

    # every line of every job, exactly once
    found = job_lines(logs, first + second + [last])
    for job, lines in found.items():
        for start in JOB_LINES:
            n = sum(1 for _, l in lines if own_message(l).startswith(start))
            assert n == 1, (f"job {job}: {n} lines starting \"{start}\" in the logs:\n"
                            + "\n".join(f"{name}: {l.raw}" for name, l in lines))
    every = [raw for lines in logs.values() for raw in lines]
    twice = {raw for raw in every if every.count(raw) > 1}
    assert not twice, f"lines written twice: {sorted(twice)[:5]}"

    # the rotations happened mid-burst: both bursts' lines are split
    assert {name for j in first for name, _ in found[j]} >= {"assay.log.2.gz", "assay.log.1"}
    assert {name for j in second for name, _ in found[j]} >= {"assay.log.1", "assay.log"}

    # nothing stamped more than a second after a rotation went to the file it renamed
    for name, rotated in (("assay.log.2.gz", rotated1), ("assay.log.1", rotated2)):
        late = [raw for raw in logs[name]
                if parse_time(LogLine(raw).time).timestamp() > rotated + FOLLOW_S]
        assert not late, f"{name} got lines after its rotation: {late[:5]}"

    # the long-lived processes all write to the new file now
    assert {name for name, _ in found[last]} == {"assay.log"}, found[last]
