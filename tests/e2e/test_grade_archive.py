"""`assay-worker grade-archive IN OUT`: one job archive graded with no
daemon, as the slurm transport's batch jobs run it on a compute node."""
import json
import os
import subprocess
import zipfile

from assay_helpers import exe, make_tempdir, remove_tempdir
from pipeline import HI_TEST, assignment_doc


def job_archive(path, src):
    """A job archive as a shipper packs one: job.json, submission/, assignment/."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("job.json", json.dumps({"id": "20261205T000000.000Z-abcdef", "token": "0" * 32}))
        z.writestr("submission/hello.py", src)
        z.writestr("assignment/assignment.json", json.dumps(assignment_doc([HI_TEST])))


def grade_archive(base, name, *extra):
    tmp = os.path.join(base, "nodetmp")
    os.makedirs(tmp, exist_ok=True)
    os.chmod(tmp, 0o755)
    out = os.path.join(base, "out", name)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    p = subprocess.run([exe("assay-worker"), "grade-archive", *extra,
                        os.path.join(base, name), out], capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, TMPDIR=tmp), stdin=subprocess.DEVNULL)
    return p, out, tmp


def test_grades_one_archive_and_writes_its_result_whole():
    base = make_tempdir("assay-grade-archive-")
    try:
        name = "20261205T000000.000Z-abcdef." + "0" * 32 + ".zip"
        job_archive(os.path.join(base, name), "print('hi')\n")
        p, out, tmp = grade_archive(base, name)
        assert p.returncode == 0, p.stderr
        with zipfile.ZipFile(out) as z:
            r = json.loads(z.read("results.json"))
            assert "graded: score 2 of 2" in z.read("worker.log").decode()
        assert r["score"] == 2 and r["tests"][0]["verdict"] == "passed", r
        assert os.listdir(os.path.dirname(out)) == [name], "a temporary file was left"
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
