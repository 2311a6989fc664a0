"""Per-course and per-assignment policies, end to end through the spool.

- Late policy (assignment.json "late"): a penalty per started day or hour,
  measured from the submission time, a maximum number of late days,
  per-student extensions (extensions.json), the one line of feedback, and a
  regrade that keeps the original submission time.  A broken extensions
  entry keeps the penalty (from the assignment's due date) and says why;
  invalid keys are rejected.
- An assignment without tests is recorded by the scheduler without a
  worker slot (here: with every worker disabled).
- A course with "supersede" (course.json) replaces queued older versions
  of a student's submission; each replaced job gets a "superseded" result.
- `assay status` per course: queued, oldest wait, median wait.
- A broken course.json is reported and changes nothing else.
"""
import json
import os
import signal

from assay_helpers import (ROOTFS_MARKER, grade, iso_from_now, make_small_root, needs_root,
                           tempdir, write_json)
from pipeline import HI_TEST, assignment_doc, pipeline  # noqa: F401

RIGHT = {"hello.py": "print('hi')\n"}


def set_enabled(spool, enabled):
    ws = spool.workers()
    for w in ws:
        w["enabled"] = enabled
    spool.set_workers(ws)


def started_spool(pipeline, enabled=True):
    spool = pipeline()
    set_enabled(spool, enabled)
    spool.start()
    spool.wait_running(slots=3, daemons=1)   # assay init: 2 slots + prefetch 1
    return spool


def second_line(r):
    return r["output"].splitlines()[1]


# ---- late policy ----

def test_late_penalty_per_day_extension_and_regrade(pipeline):
    spool = started_spool(pipeline)
    d = spool.add_assignment("C", "hw", assignment_doc(
        [HI_TEST], due=iso_from_now(hours=-36),
        late={"penalty_per_day": 10, "max_late_days": 5}))
    write_json(os.path.join(d, "extensions.json"), {"ext": {"days": 3}})
    src = spool.make_submission("right", RIGHT)

    late_job, late = spool.submit_wait("C", "hw", "late", src)
    assert late["score"] == 1.6 and late["max_score"] == 2, late
    info = late["assay"]["late"]
    assert (info["days"], info["unit"], info["penalty_percent"], info["penalty_points"],
            info["score_before"], info["beyond_max"], info["extension"]) == (
        2, "day", 20, 0.4, 2, False, False), info
    assert info["submitted_at"] == late["assay"]["submitted_at"]
    assert late["output"].startswith("Score: 1.6 / 2 (2 before a late penalty of 20 %: 2 days "
                                     "late)\nLate: submitted 1 day 12 h")
    assert second_line(late).endswith("after the due date %s; 2 days at 10%% each: -20%% of 2 "
                                      "points (score 2 before the penalty)." % info["due"])
    # the student sees the same line
    with open(spool.path(spool.result_rel(late_job), "results.student.json")) as f:
        view = json.load(f)
    assert view["score"] == 1.6 and second_line(view) == second_line(late)

    _, ext = spool.submit_wait("C", "hw", "ext", src)
    assert ext["score"] == 2 and "late" not in ext["assay"], ext

    # a regrade is graded now but is as late as the submission was
    spool.assay_ok("regrade", "--course", "C", "--assignment", "hw")

    def regraded():
        r = spool.result(late_job)
        if r is not None:
            return None
        with open(spool.path("results/C/hw/late/1/results.json")) as f:
            return json.load(f)

    again = spool.wait_for("the regrade's result", regraded, timeout=30)
    assert again["assay"]["priority"] == "batch"
    assert again["assay"]["submitted_at"] == late["assay"]["submitted_at"]
    assert again["assay"]["queued_at"] > late["assay"]["queued_at"]
    assert again["score"] == 1.6 and again["assay"]["late"]["days"] == 2, again


def test_late_penalty_per_hour_and_beyond_the_maximum(pipeline):
    spool = started_spool(pipeline)
    spool.add_assignment("C", "hourly", assignment_doc(
        [HI_TEST], due=iso_from_now(hours=-3.5), late={"penalty_per_hour": 5}))
    spool.add_assignment("C", "strict", assignment_doc(
        [HI_TEST], due=iso_from_now(hours=-48),
        late={"penalty_per_day": 10, "max_late_days": 1}))
    src = spool.make_submission("right", RIGHT)

    _, hourly = spool.submit_wait("C", "hourly", "u", src)
    info = hourly["assay"]["late"]
    assert (info["hours"], info["unit"], info["penalty_percent"], hourly["score"]) == (
        4, "hour", 20, 1.6), hourly
    assert "4 hours at 5% each: -20% of 2 points" in second_line(hourly)

    _, strict = spool.submit_wait("C", "strict", "u", src)
    assert strict["score"] == 0 and strict["assay"]["status"] == "graded", strict
    assert strict["assay"]["late"]["beyond_max"] is True
    assert strict["assay"]["late"]["penalty_percent"] == 100
    assert "more than the 1 late day allowed, so the score is 0" in second_line(strict)
    # the tests were still graded, for the instructor to see
    assert [t["status"] for t in strict["tests"]] == ["passed"]


def test_broken_extensions_entry_keeps_the_penalty_and_says_why(pipeline):
    spool = started_spool(pipeline)
    d = spool.add_assignment("C", "hw", assignment_doc(
        [HI_TEST], due=iso_from_now(hours=-30), late={"penalty_per_day": 10}))
    write_json(os.path.join(d, "extensions.json"), {"bob": {"due": "tomorrow"}})
    src = spool.make_submission("right", RIGHT)
    job, r = spool.submit_wait("C", "hw", "bob", src)
    # counted from the assignment's due date, never waived by a typo
    assert r["score"] == 1.6 and r["assay"]["late"]["days"] == 2, r
    err = r["assay"]["late"]["error"]
    assert "extensions.json: $.bob.due: \"tomorrow\" is not an ISO 8601 time" in err, err
    assert any(l.level == "error" and "extensions.json" in l.message
               for l in spool.job_lines(job))
    # grading goes on, and a student whose own date is certain is penalised as usual
    carol = spool.submit_wait("C", "hw", "carol", src)[1]
    assert carol["score"] == 1.6 and carol["assay"]["late"]["days"] == 2, carol
    assert "error" not in carol["assay"]["late"], carol


def test_late_policy_keys_are_validated(pipeline):
    spool = pipeline()
    d = spool.add_assignment("C", "bad", assignment_doc(
        [HI_TEST], late={"penalty_per_day": 150, "max_late_days": "two", "grace": 1}))
    src = spool.make_submission("right", RIGHT)
    rc, out, err = grade(d, src, timeout=60)
    assert rc == 3, (rc, out, err)
    for problem in ("$.late.penalty_per_day: 150 is out of range (0 to 100)",
                    "$.late.max_late_days: must be a number, not a string",
                    "$.late.grace: unknown key (is it misspelt?)",
                    "$.late: a late policy needs the assignment's \"due\""):
        assert problem in err, err


# ---- no tests: no worker ----

def test_assignment_without_tests_needs_no_worker(pipeline):
    spool = started_spool(pipeline, enabled=False)   # no worker takes anything
    spool.add_assignment("C", "upload", assignment_doc(
        [], due=iso_from_now(hours=-10), late={"penalty_per_day": 10}))
    src = spool.make_submission("right", RIGHT)
    job, r = spool.submit_wait("C", "upload", "u", src, timeout=20)
    a = r["assay"]
    assert (r["score"], r["max_score"], a["status"], a["graded_by"]) == (0, 0, "graded", None), r
    assert a["late"]["days"] == 1 and a["late"]["penalty_points"] == 0, a
    messages = [l.message for l in spool.job_lines(job)]
    assert any("recorded without a worker" in m for m in messages), messages
    assert not any("assigned to slot" in m for m in messages), messages
    assert spool.queue("incoming") == []

    # a required file missing: an error result, still without a worker
    empty = spool.make_submission("other", {"notes.txt": "x\n"})
    _, r = spool.submit_wait("C", "upload", "v", empty, timeout=20)
    assert r["assay"]["status"] == "error" and r["assay"]["error"]["category"] == "submission", r


# ---- superseding and status per course ----

def test_supersede_replaces_queued_older_versions(pipeline):
    spool = started_spool(pipeline, enabled=False)   # everything stays queued
    for course in ("S", "N"):
        spool.add_assignment(course, "hw", assignment_doc([HI_TEST]))
    write_json(spool.path("courses", "S", "course.json"), {"supersede": True, "weight": 2})
    src = spool.make_submission("right", RIGHT)
    alice = [spool.submit("S", "hw", "alice", src) for _ in range(3)]
    bob = spool.submit("S", "hw", "bob", src)
    carol = [spool.submit("N", "hw", "carol", src) for _ in range(2)]

    old = spool.wait_results(alice[:2], timeout=20)
    for version, job in enumerate(alice[:2], start=1):   # each by the next version
        r = old[job]
        assert r["assay"]["status"] == "superseded", r
        assert r["assay"]["version"] == version
        assert r["assay"]["superseded_by"] == {"job_id": alice[version], "version": version + 1}, r
        assert f"version {version + 1} of this submission replaced it" in r["output"]
    assert spool.queue("incoming") == sorted(f"{j}.json" for j in [alice[2], bob] + carol)

    st = spool.assay_json("status")
    s, n = st["courses"]["S"], st["courses"]["N"]
    assert (s["incoming"], s["running"], n["incoming"]) == (2, 0, 2), st["courses"]
    assert s["oldest_wait_s"] > 0 and n["oldest_wait_s"] > 0
    assert s["median_wait_1h_s"] is None and s["graded_1h"] == 0

    set_enabled(spool, True)
    spool.sched.send_signal(signal.SIGHUP)
    done = spool.wait_results([alice[2], bob] + carol, timeout=30)
    assert all(r["score"] == 2 and r["assay"]["status"] == "graded" for r in done.values())
    assert done[alice[2]]["assay"]["version"] == 3

    st = spool.assay_json("status")
    s, n = st["courses"]["S"], st["courses"]["N"]
    assert (s["graded_1h"], n["graded_1h"]) == (2, 2), st["courses"]
    assert s["median_wait_1h_s"] > 0 and s["oldest_wait_s"] is None
    text = spool.assay_ok("status")
    assert "median wait 1h" in text and "oldest wait" in text


def test_broken_course_json_is_reported_and_changes_nothing_else(pipeline):
    spool = started_spool(pipeline)
    spool.add_assignment("X", "hw", assignment_doc([HI_TEST]))
    write_json(spool.path("courses", "X", "course.json"), {"weight": "heavy"})
    src = spool.make_submission("right", RIGHT)
    assert spool.submit_wait("X", "hw", "u", src)[1]["score"] == 2
    errors = [l.message for l in spool.log_lines()
              if l.level == "error" and "courses/X/course.json" in l.message]
    assert errors and "\"weight\" must be a number" in errors[0], errors


@needs_root
def test_course_rootfs_reaches_the_worker(pipeline):
    """course.json "rootfs": the runs of the course's assignments that name
    no root of their own see that directory's system, not the worker's."""
    with tempdir("assay-rootfs-") as top:
        root = make_small_root(top)
        spool = pipeline()
        write_json(spool.path("courses", "R", "course.json"), {"rootfs": root})
        spool.add_assignment("R", "hw", assignment_doc([
            {"name": "marker", "kind": "io", "points": 1, "command": "cat /etc/assay-marker",
             "expected_stdout": ROOTFS_MARKER}]))
        src = spool.make_submission("any", {"hello.py": "print(1)\n"})
        spool.start()
        _, r = spool.submit_wait("R", "hw", "alice", src)
        assert r["score"] == 1 and r["tests"][0]["verdict"] == "passed", (r["tests"][0]["output"], r["assay"])
