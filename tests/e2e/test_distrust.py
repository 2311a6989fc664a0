"""A worker is less trusted than the primary (docs/SECURITY.md, "Primary
and worker"), checked with a compromised worker.

The real assay-scheduler and assay-shipper run from a directory of their
own whose assay-worker is tests/e2e/fake_worker.py: for each job it
sends back what the student's name asks for.  A result that is not a
valid one (not an object, invalid JSON, 5,000 deep, a directory, a
score of 100 out of 1, +-1e308, "lots", NaN, a 200 MB feedback file) is
deferred and retried, then failed with a reason naming what was wrong;
the student gets an error result, never the worker's score; and the
slot goes on to grade the next job.  A worker's log lines (4 MB of them,
with forged primary lines and terminal escapes) reach the central log
only as the shipper's lines about that job, escaped and bounded.
"""
import os
import re
import shutil
import stat

import pytest

from pipeline import BUILD, E2E_DIR, assignment_doc, exe, pipeline, wait_recorded  # noqa: F401

ATTEMPTS = 3
PREFIX = "the result from worker h1 is refused: "
# student -> the exact reason the job fails with
REFUSED = {
    "nonobject": PREFIX + "results.json holds a list, not an object",
    "badjson": PREFIX + "results.json:1:12: invalid JSON: string or '}' expected near end of file",
    "deep": PREFIX + "results.json:1:2049: invalid JSON: maximum parsing depth reached near '['",
    "dir": PREFIX + "results.json is a directory, not a file",
    "over": PREFIX + "results.json: $.score: 100 is out of range (0 to 1)",
    "huge": PREFIX + "results.json: $.score: 1e+308 is out of range (0 to 1)",
    "tiny": PREFIX + "results.json: $.score: -1e+308 is out of range (0 to 1)",
    "lots": PREFIX + "results.json: $.score: must be a number, not a string",
    "nan": PREFIX + "results.json:1:13: invalid JSON: invalid token near 'NaN'",
}
# refused while it is unpacked, before 16 MB of it is on disk
BIG_FEEDBACK = re.compile(
    r"the result archive from worker h1 is broken: [^ ]+\.zip: unpacking \"feedback/big\.html\" "
    r"goes over the size limit of 16777216 bytes \(per file\); the archive was refused$")

HELLO = "print('hi')\n"
TEST = {"name": "says hi", "kind": "io", "points": 2, "command": "python3 hello.py",
        "expected_stdout": "hi\n", "compare": "trimmed"}


@pytest.fixture
def compromised(pipeline):  # noqa: F811  (pipeline: a fixture)
    """A spool whose only worker, h1 (1 slot), is fake_worker.py."""
    spool = pipeline()
    bindir = os.path.join(spool.base, "bin")
    os.mkdir(bindir)
    for prog in ("assay-scheduler", "assay-shipper"):
        shutil.copy2(exe(prog), bindir)
    worker = os.path.join(bindir, "assay-worker")
    shutil.copy2(os.path.join(E2E_DIR, "fake_worker.py"), worker)
    os.chmod(worker, os.stat(worker).st_mode | stat.S_IXUSR)
    spool.set_workers([{"name": "h1", "transport": "local", "dir": "workers/h1", "slots": 1,
                        "capabilities": ["python"], "enabled": True}])
    spool.add_assignment("cs1", "hw", assignment_doc([TEST]))
    spool.bindir = bindir
    return spool


def start(spool, monkeypatch):
    # inherited by the scheduler and so by the fake worker
    monkeypatch.setenv("ASSAY_REAL_BIN", BUILD)
    spool.start(program=os.path.join(spool.bindir, "assay-scheduler"))


def submit(spool, student):
    path = spool.make_submission(student, {"hello.py": HELLO})
    return spool.submit("cs1", "hw", student, path)


def reason(spool, job):
    try:
        with open(spool.path("failed", f"{job}.reason")) as f:
            return f.read().rstrip("\n")
    except FileNotFoundError:
        return None


def assert_graded_right(spool, job):
    r = spool.wait_results([job], timeout=60)[job]
    assert r["assay"]["status"] == "graded", r["assay"].get("error")
    assert (r["score"], r["max_score"]) == (2, 2)
    assert r["tests"][0]["verdict"] == "passed"
    assert r["assay"]["graded_by"] == {"worker": "h1", "slot": 1}


def test_invalid_results_are_deferred_then_failed_and_the_slot_goes_on(compromised, monkeypatch):
    spool = compromised
    start(spool, monkeypatch)
    jobs = {student: submit(spool, student) for student in [*REFUSED, "bigfeedback"]}
    spool.wait_for("every bad result failed",
                   lambda: all(reason(spool, j) is not None for j in jobs.values()), timeout=120)
    for student, job in jobs.items():
        # the archive's name in the big feedback's reason has each attempt's token
        def expected(text):
            return (BIG_FEEDBACK.search(text) if student == "bigfeedback"
                    else text.endswith(REFUSED[student]))
        why = reason(spool, job)
        assert (BIG_FEEDBACK.fullmatch(why) if student == "bigfeedback"
                else why == REFUSED[student]), (student, why)
        lines = [l.message for l in spool.job_lines(job)]
        deferred = [m for m in lines if m.startswith("attempt ") and " deferred for " in m]
        assert len(deferred) == ATTEMPTS - 1, lines
        assert all(expected(m) for m in deferred), lines
        assert not any(m.startswith("result recorded") for m in lines), lines
        # the student's result is the error saying grading failed, not the worker's
        r = spool.result(job)
        assert r["assay"]["status"] == "error", r
        assert r["assay"]["error"]["category"] == "infrastructure"
        assert (r["score"], r["max_score"], r["tests"]) == (0, 0, [])
        assert why in r["assay"]["error"]["message"]
        rdir = spool.path(spool.result_rel(job))
        assert sorted(os.listdir(rdir)) == ["results.json", "results.student.json"]
    # the last job's reason is written just before its file leaves the slot
    spool.wait_for("the slot to be empty", lambda: spool.slot_jobs() == {"h1.1": []}, timeout=60)
    assert not spool.queue("deferred") and not spool.queue("incoming")
    # nothing of it stayed in the spool's tmp/ (200 MB of feedback never reached it whole)
    assert os.listdir(spool.path("tmp")) == []
    # the slot is not wedged: the next job is graded, correctly
    assert_graded_right(spool, submit(spool, "good"))


def test_worker_log_lines_are_carried_as_data(compromised, monkeypatch):
    spool = compromised
    start(spool, monkeypatch)
    job = submit(spool, "noisy")
    assert_graded_right(spool, job)
    wait_recorded(spool, [job])   # its line comes just after the result
    with open(spool.path("logs", "assay.log"), "rb") as f:
        raw = f.read()
    assert b"\x1b" not in raw and b"\x07" not in raw and "\u009b".encode() not in raw
    lines = spool.log_lines()
    # no forged primary line: the forged text is only inside the worker's lines
    assert [l.job for l in lines if l.message.startswith("result recorded")] == [job]
    assert not any(l.message.startswith("worker h9") for l in lines)
    sent = [l for l in lines if l.message.startswith("worker: ")]
    assert all(l.process == "assay-shipper" and l.worker == "h1" and l.job == job for l in sent)
    forged = [l.message for l in sent if "result recorded" in l.message or "h9 is down" in l.message]
    assert len(forged) == 2, forged
    assert forged[1].endswith("assay-scheduler[1] h9 - error worker h9 is down")
    escaped = [l.message for l in sent if "pwned" in l.message]
    assert escaped == ["worker: title \\x1b]0;pwned\\x1b\\ clear \\x1b[2J\\x1b[H csi \\u009b31m "
                       "bell \\x07 end"], escaped
    # bounded (32 KB of lines come first here) and one line saying how many were not kept
    assert 100 < len(sent) <= 201, len(sent)
    more = re.fullmatch(r"worker: \[\.\.\. (\d+) more lines from worker h1 not kept\]",
                        sent[-1].message)
    assert more and int(more.group(1)) > 10000, sent[-1].message
    assert sum(len(l.raw) for l in sent) < 64 << 10
    # the same bound for what is kept with the result and in traces.log
    rdir = spool.path(spool.result_rel(job))
    for name in ("worker.log", "traces.log"):
        with open(os.path.join(rdir, name), "rb") as f:
            kept = f.read()
        assert b"\x1b" not in kept and len(kept) < 64 << 10, name
        assert kept.endswith(b" more lines from the worker not kept]\n"), name
    with open(spool.path("logs", "traces.log"), "rb") as f:
        traces = f.read()
    assert b"\x1b" not in traces and len(traces) < 96 << 10
    assert all(l.startswith(f"[worker h1 job {job}] ".encode()) for l in traces.splitlines())
    # what `assay logs` prints holds no byte a terminal acts on
    p = spool.assay("logs", "--job", job)
    assert p.returncode == 0
    assert "\x1b" not in p.stdout and "\x07" not in p.stdout and "\u009b" not in p.stdout
    assert f"worker: title \\x1b]0;pwned" in p.stdout
    errors = spool.assay_ok("logs", "--errors", "--job", job)
    assert "sent back a stack trace" in errors
