"""Bulk grading for teachers: `assay grade-all`, `assay regrade --wait`
and `assay export --csv`, on a real spool with the scheduler, shippers
and workers running.

Students submit notebooks of examples/notebook-hw; grade-all grades the
latest version of each again over every slot, prints plain progress
lines (stdout is not a terminal) and a summary with the histogram and
each failure with its reason; export writes one CSV row per student.
"""
import csv
import io
import os

from assay_helpers import copy_assignment, example_dir
from pipeline import pipeline  # noqa: F401  (the fixture)

NB = example_dir("notebook-hw")
# student -> (example submission, expected score of 8)
STUDENTS = {"ada": ("correct", 8), "bob": ("partial", 4), "cy": ("deleted_cells", 6),
            "dee": ("broken_json", 0)}


def setup_course(spool):
    spool.two_workers(slots=2)
    copy_assignment(NB, spool.path("courses", "cs1", "nb"))
    spool.start()
    spool.wait_running(slots=4, daemons=2)
    for student, (example, _) in STUDENTS.items():
        spool.submit_wait("cs1", "nb", student, os.path.join(NB, "submissions", example),
                          timeout=90)


def test_grade_all_progress_summary_and_export(pipeline):  # noqa: F811
    spool = pipeline()
    setup_course(spool)
    p = spool.assay("grade-all", "--course", "cs1", "--assignment", "nb", "--timeout", "120",
                    timeout=180)
    out = p.stdout
    assert p.returncode == 1, "one submission is a broken notebook: exit 1\n" + out + p.stderr
    lines = out.splitlines()
    assert lines[0] == "queued 4 submissions of cs1/nb (batch priority)"
    progress = [line for line in lines if line.startswith("graded ")]
    assert progress[0].startswith("graded 0/4 (")
    assert progress[-1].startswith("graded 4/4 (") and "ETA 0:00" in progress[-1]
    assert "Scores of 3 graded submissions (out of 8):" in lines
    # 4/8 falls in the 4 - 4.8 bin, 6 in 5.6 - 6.4, 8 in the last
    hist = {line.split(")")[0].split("]")[0].strip(): int(line.split()[-2] if line.split()[-1].startswith("#") else line.split()[-1])
            for line in lines if " - " in line and line.startswith("  ")}
    assert hist["4 - 4.8"] == 1 and hist["5.6 - 6.4"] == 1 and hist["7.2 - 8"] == 1
    assert sum(hist.values()) == 3
    assert "Errors in the submission (the student's to fix):" in lines
    assert not any(line.startswith("Not graded because of infrastructure") for line in lines)
    assert any(line.startswith("  dee (job ") and ": Your notebook could not be read" in line
               for line in lines), out
    assert lines[-1].startswith("3 graded, 1 with an error in the submission, 0 with an error in "
                                "the assignment, 0 not graded because of infrastructure "
                                "failures, 0 not finished, in "), lines[-1]

    p = spool.assay("export", "--course", "cs1", "--assignment", "nb", "--csv")
    assert p.returncode == 0, p.stderr
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert p.stdout.splitlines()[0] == ("student,score,max,status,graded_at,late_days,"
                                        "late_penalty_percent,score_before_penalty,"
                                        "manual_pending_points,manual_pending_answers")
    assert [r["student"] for r in rows] == sorted(STUDENTS)
    for r in rows:
        example, score = STUDENTS[r["student"]]
        assert (float(r["score"]), float(r["max"])) == (score, 8), r
        assert r["status"] == ("error" if example == "broken_json" else "graded")
        assert r["graded_at"].endswith("Z")
        assert (r["late_days"], r["late_penalty_percent"]) == ("0", "0"), r   # no due date


def test_regrade_wait_and_export_to_file(pipeline, tmp_path):  # noqa: F811
    spool = pipeline()
    setup_course(spool)
    p = spool.assay("regrade", "--course", "cs1", "--assignment", "nb", "--wait", timeout=180)
    assert "queued 4 submissions of cs1/nb for regrading (batch priority)" in p.stdout
    assert "3 graded, 1 with an error in the submission, 0 with an error in the assignment, " \
        "0 not graded because of infrastructure failures, 0 not finished" in p.stdout
    out = tmp_path / "grades.csv"
    p = spool.assay("export", "--course", "cs1", "--assignment", "nb", "--csv", "--out", out)
    assert p.returncode == 0 and p.stdout == ""
    assert len(out.read_text().splitlines()) == 1 + len(STUDENTS)


def test_bulk_usage_errors(pipeline):  # noqa: F811
    spool = pipeline()
    assert spool.assay("export", "--course", "cs1", "--assignment", "nb").returncode == 2
    p = spool.assay("grade-all", "--course", "cs1", "--assignment", "nope")
    assert p.returncode == 1
    assert "there is no assignment cs1/nope in this spool" in p.stderr
