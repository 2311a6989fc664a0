"""Acknowledged means durable: what `assay submit` reports, what a queue
transition did and what the scheduler says it recorded are on disk first.

A rename or link is only safe from a power cut once the directory it
changed is fsynced.  These tests trace the real programs with strace
(system calls and the paths of their descriptors, -y) and check that
every name a job, a submission or a result gets is followed by an fsync
of its directory before the program tells anyone (prints the id, logs
"recorded").  bench/powercut.py shows the same with simulated power cuts.

They also check that a file in incoming/ whose name is too long to carry
a ".reason" beside it still leaves incoming/ once, under a shortened
name, with a reason naming the original.
"""
import os
import re
import shutil
import signal
import subprocess

import pytest

from assay_helpers import exe, processes
from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401  (the fixture)

COURSE, ASG = "cs101", "hw1"
TRACED = "fsync,fdatasync,rename,renameat,renameat2,link,linkat,mkdir,mkdirat,write"

pytestmark = pytest.mark.skipif(shutil.which("strace") is None,
                                reason="strace is not installed (scripts/install-deps.sh)")


def traced(out, *argv):
    """Runs ARGV under strace -f -y; returns (its CompletedProcess, the
    trace's lines, unfinished calls joined to their ends)."""
    p = subprocess.run(["strace", "-f", "-y", "-s", "256", "-e", "trace=" + TRACED, "-o", out,
                        *argv], capture_output=True, text=True, timeout=120)
    with open(out) as f:
        return p, join_resumed(f.read().splitlines())


def join_resumed(lines):
    """strace -f splits a call that another process interrupted into
    "PID call(args <unfinished ...>" and, later, "PID <... call resumed>rest":
    joins the two halves into one line in the first one's place."""
    joined, pending = [], {}
    for line in lines:
        pid = line.split(" ", 1)[0]
        resumed = re.match(r"\S+ +<\.\.\. \w+ resumed>(.*)$", line)
        if resumed and pid in pending:
            joined[pending.pop(pid)] += resumed.group(1)
        elif line.endswith(" <unfinished ...>"):
            pending[pid] = len(joined)
            joined.append(line[:-len(" <unfinished ...>")])
        elif not resumed:
            joined.append(line)
    return joined


def first(lines, pattern, after=-1):
    """Index of the first line after AFTER matching PATTERN; fails if none."""
    rx = re.compile(pattern)
    for i in range(after + 1, len(lines)):
        if rx.search(lines[i]):
            return i
    context = "\n".join(lines[max(0, after):][:80])
    pytest.fail(f"no line matching {pattern!r} after line {after} of the trace:\n{context}")


def fsync_of(directory):
    """A pattern for an fsync of DIRECTORY's descriptor (strace -y names it)."""
    return r"\bf(data)?sync\(\d+<" + re.escape(os.path.realpath(directory)) + r">\)"


def ready_spool(pipeline, tests):
    spool = pipeline()
    spool.add_assignment(COURSE, ASG, assignment_doc(tests, title="Hello"))
    return spool, spool.make_submission("right", {"hello.py": "print('hi')\n"})


def test_submit_syncs_every_directory_it_changed_before_printing_the_id(pipeline):
    spool, src = ready_spool(pipeline, [HI_TEST])
    p, t = traced(os.path.join(spool.base, "trace"), exe("assay"), "submit", "--spool", spool.root,
                  "--course", COURSE, "--assignment", ASG, "--student", "alice", src)
    assert p.returncode == 0, p.stderr
    job = p.stdout.split()[0]
    printed = first(t, r"write\(1<.*>, \"" + re.escape(job) + r"\\n\"")
    # the student's folders, new in this spool: each synced into its parent
    made = spool.path("submissions", COURSE, ASG, "alice")
    for d in (spool.path("submissions", COURSE), spool.path("submissions", COURSE, ASG), made):
        i = first(t, r"mkdir\(\"" + re.escape(d) + r"\", \d+\) = 0")
        assert first(t, fsync_of(os.path.dirname(d)), i) < printed
    # version 1 renamed in, then its directory synced, before the job is written
    placed = first(t, r"renameat2\(.*\"" + re.escape(os.path.join(made, "1")) + r"\".* = 0")
    assert first(t, fsync_of(made), placed) < first(t, r"link\(", placed)
    # the job's two names, each followed by an fsync of its directory
    linked = first(t, r"link\(.*\"" + re.escape(spool.path("jobs", job)) + r"\"\) = 0")
    queued = first(t, r"rename\(.*\"" + re.escape(spool.path("incoming", job + ".json")) +
                   r"\"\) = 0")
    assert first(t, fsync_of(spool.path("jobs")), linked) < printed
    assert first(t, fsync_of(spool.path("incoming")), queued) < printed
    assert os.path.exists(spool.path("incoming", job + ".json"))


def test_a_transition_syncs_both_directories_before_it_is_reported(pipeline):
    spool, src = ready_spool(pipeline, [HI_TEST])
    job = spool.submit(COURSE, ASG, "alice", src)   # no scheduler: it stays in incoming/
    for cmd, frm, to in (("hold", "incoming", "hold"), ("release", "hold", "incoming")):
        p, t = traced(os.path.join(spool.base, f"trace-{cmd}"), exe("assay"), cmd, job, "--spool",
                      spool.root)
        assert p.returncode == 0, p.stderr
        assert p.stdout == f"{job}: {frm}/ -> {to}/\n"
        printed = first(t, r"write\(1<")
        moved = first(t, r"rename\(\"" + re.escape(spool.path(frm, job + ".json")) + r"\", \"" +
                      re.escape(spool.path(to, job + ".json")) + r"\"\) = 0")
        # where it went, so it is found there; where it was, so it is not found twice
        assert first(t, fsync_of(spool.path(to)), moved) < printed
        assert first(t, fsync_of(spool.path(frm)), moved) < printed


def test_a_result_is_synced_before_the_scheduler_logs_it_recorded(pipeline):
    # an assignment without tests: the scheduler records it itself, in its
    # own process, so one trace holds the recording and the log line
    spool, src = ready_spool(pipeline, [])
    job = spool.submit(COURSE, ASG, "alice", src)
    out = os.path.join(spool.base, "trace-scheduler")
    spool.sched = subprocess.Popen(
        ["strace", "-f", "-y", "-s", "256", "-e", "trace=" + TRACED, "-o", out,
         exe("assay-scheduler"), "--spool", spool.root],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    final = spool.path("results", COURSE, ASG, "alice", "1")
    spool.wait_for("the result", lambda: os.path.exists(os.path.join(final, "results.json")))
    spool.wait_for("the log line", lambda: any(l.job == job for l in spool.log_lines()))
    # the scheduler is stopped, not strace: strace then reports every call
    # its tracees made and ends when they have (a signalled strace detaches
    # and drops what it has not printed yet, which a loaded machine shows)
    for pid in [p.pid for p in processes() if p.ppid == spool.sched.pid]:
        os.kill(pid, signal.SIGTERM)
    spool.sched.wait(timeout=60)
    spool.stop()
    with open(out) as f:
        t = join_resumed(f.read().splitlines())
    placed = first(t, r"renameat2\(.*\"" + re.escape(final) + r"\".* = 0")
    pid = t[placed].split()[0]
    logged = first(t, r"^" + pid + r" +write\(\d+<" + re.escape(os.path.realpath(
        spool.path("logs", "assay.log"))) + r">, \"[^\"]* " + re.escape(job) + " ", placed)
    synced = first(t, r"^" + pid + r" +" + fsync_of(os.path.dirname(final))[2:], placed)
    assert synced < logged


def test_a_file_with_a_name_too_long_for_its_reason_leaves_incoming_once(pipeline):
    spool, src = ready_spool(pipeline, [HI_TEST])
    name = "x" * 240 + "-long.json"   # 250 characters: NAME.reason would be 257
    tmp = spool.path("tmp", "drop")
    with open(tmp, "w") as f:
        f.write("{ not json")
    os.rename(tmp, spool.path("incoming", name))
    spool.start()
    spool.wait_for("the file out of incoming/", lambda: spool.queue("incoming") == [])
    failed = spool.queue("failed")
    assert len(failed) == 2, failed
    moved = min(failed, key=len)
    assert moved.startswith("x" * 200 + "~") and len(moved) == 209
    assert failed == sorted([moved, moved + ".reason"])
    with open(spool.path("failed", moved + ".reason")) as f:
        assert f.read().startswith(f"incoming/{name}: ")
    with open(spool.path("failed", moved)) as f:
        assert f.read() == "{ not json"
    # said once, and not again by the next scan (a restart rescans incoming/)
    spool.stop()
    spool.start()
    spool.submit_wait(COURSE, ASG, "alice", src)
    about = [l for l in spool.log_lines() if name in l.message]
    assert len(about) == 1, about
    assert about[0].level == "error"
    assert f"went to failed/{moved} (its name is too long to keep)" in about[0].message
