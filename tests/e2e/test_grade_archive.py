"""`assay-worker grade-archive IN OUT`: one job archive graded with no
daemon, as the slurm transport's batch jobs run it on a compute node."""
import json
import os
import signal
import subprocess
import zipfile

from assay_helpers import (RUN_UID_RANGE, TEST_INSTALLATION, exe, installation_args,
                           make_tempdir, poll, processes_of, remove_tempdir, slot_cgroups,
                           slot_dirs)
from pipeline import HI_TEST, LIMITS, assignment_doc

NAME = "20261205T000000.000Z-abcdef." + "0" * 32 + ".zip"


def job_archive(path, src, limits=None):
    """A job archive as a shipper packs one: job.json, submission/, assignment/."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("job.json", json.dumps({"id": "20261205T000000.000Z-abcdef", "token": "0" * 32}))
        z.writestr("submission/hello.py", src)
        z.writestr("assignment/assignment.json",
                   json.dumps(assignment_doc([HI_TEST], limits=limits)))


def start_grade_archive(base, name, *extra):
    """Starts `assay-worker grade-archive BASE/NAME BASE/out/NAME` in the
    test installation, with BASE/nodetmp as the node's $TMPDIR; returns
    (the Popen, the OUT path, that $TMPDIR)."""
    tmp = os.path.join(base, "nodetmp")
    os.makedirs(tmp, exist_ok=True)
    os.chmod(tmp, 0o755)
    out = os.path.join(base, "out", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    p = subprocess.Popen([exe("assay-worker"), "grade-archive", *installation_args(), *extra,
                          os.path.join(base, name), out], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=dict(os.environ, TMPDIR=tmp))
    return p, out, tmp


def grade_archive(base, name, *extra):
    """Runs start_grade_archive's command to its end: (the CompletedProcess,
    the OUT path, the node's $TMPDIR)."""
    p, out, tmp = start_grade_archive(base, name, *extra)
    try:
        stdout, stderr = p.communicate(timeout=120)
    finally:
        p.kill()
    return subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr), out, tmp


def test_grades_one_archive_and_writes_its_result_whole():
    base = make_tempdir("assay-grade-archive-")
    try:
        job_archive(os.path.join(base, NAME), "print('hi')\n")
        p, out, tmp = grade_archive(base, NAME)
        assert p.returncode == 0, p.stderr
        with zipfile.ZipFile(out) as z:
            r = json.loads(z.read("results.json"))
            assert "graded: score 2 of 2" in z.read("worker.log").decode()
        assert r["score"] == 2 and r["tests"][0]["verdict"] == "passed", r
        assert os.listdir(os.path.dirname(out)) == [NAME], "a temporary file was left"
        assert os.listdir(tmp) == [], "the private worker directory was left"
    finally:
        remove_tempdir(base)


def test_refuses_a_file_that_is_no_job_archive_naming_it():
    base = make_tempdir("assay-grade-archive-")
    try:
        with open(os.path.join(base, "notes.txt"), "w") as f:
            f.write("x")
        p, out, _ = grade_archive(base, "notes.txt")
        assert p.returncode == 1
        assert p.stderr == (f"assay-worker grade-archive: {os.path.join(base, 'notes.txt')} is "
                            "not a job archive (<id>.<token>.zip)\n"), p.stderr
        assert not os.path.exists(out)
    finally:
        remove_tempdir(base)


def slot_traces():
    """The test installation's slot directories, mounts and cgroups."""
    name = TEST_INSTALLATION["name"] if TEST_INSTALLATION else ""
    return set(slot_dirs(name) + slot_cgroups(name))


def test_a_cancelled_grading_leaves_nothing_and_publishes_nothing():
    # Slurm cancels a job with SIGTERM: the grader and the student's run
    # are killed, the sandbox slot let go (its work tmpfs held copies of
    # the submission and the tests), the private directory removed, no
    # result published, and the process ends by that signal.
    base = make_tempdir("assay-grade-archive-")
    before = slot_traces()
    try:
        job_archive(os.path.join(base, NAME), "import time\ntime.sleep(60)\nprint('hi')\n",
                    limits=dict(LIMITS, wall_s=90, cpu_s=10))
        p, out, tmp = start_grade_archive(base, NAME)
        try:
            running = poll(lambda: [q for q in processes_of(RUN_UID_RANGE)
                                    if q.argv and "hello.py" in q.argv], 60)
            assert running, "the student's program never ran"
            assert os.listdir(tmp), "no private worker directory while grading"
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=30)
        finally:
            p.kill()
        assert p.returncode == -signal.SIGTERM, (p.returncode, err)
        assert err.endswith("assay-worker grade-archive: cancelled (Terminated): the grading "
                            "was stopped and nothing is published\n"), err
        assert os.listdir(tmp) == [], "the private worker directory was left"
        assert os.listdir(os.path.dirname(out)) == [], "something was published"
        assert poll(lambda: processes_of(RUN_UID_RANGE), 10, until=lambda left: not left) == []
        assert slot_traces() <= before, "the sandbox slot was not let go"
    finally:
        remove_tempdir(base)
