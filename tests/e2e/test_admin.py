"""What the admin and the student are told, end to end on a real spool.

- No scheduler: `assay status` (text and --json) says that nothing holds
  the spool's scheduler.lock and when a scheduler was last seen (never,
  after a clean stop, after kill -9), and says nothing of the kind while
  one runs; `assay submit --wait` says it at its start and at its
  timeout (--json too).
- Late penalties: the tables of `assay submit --wait`, `assay results`
  (one job, and the gradebook), the student view and `assay export
  --csv` show the days late, the penalty and the score before it.
- `assay extensions grant|revoke|list`: a round trip, checked and
  logged with who made it, and the penalty following it on regrade.
- A broken extensions.json: every problem named with the file, the
  field and the fix; `assay regrade` and `grade-all` stop, queue
  nothing and fail; a late result recorded meanwhile keeps its penalty
  and says it may be wrong; granting mends a broken entry.
"""
import csv
import io
import json
import os
import pwd
import subprocess
import time

from assay_helpers import exe, iso_from_now, parse_time, write_json
from pipeline import HI_CONTAINS_TEST, HI_TEST, assignment_doc, pipeline  # noqa: F401

RIGHT = {"hello.py": "print('hi')\n"}
# 3 points (2 + 1), due 36 hours ago, 10 % a started day: 2 days late is -20 %
LATE = {"penalty_per_day": 10, "max_late_days": 5}
ME = pwd.getpwuid(os.getuid()).pw_name


def started(spool):
    spool.start()
    spool.wait_running(slots=3, daemons=1)   # assay init: 2 slots + prefetch 1
    return spool


def late_assignment(spool, name="hw", **top):
    top.setdefault("due", iso_from_now(hours=-36))
    top.setdefault("late", LATE)
    return spool.add_assignment("C", name, assignment_doc([HI_TEST, HI_CONTAINS_TEST], **top))


def regrade_wait(spool, *extra):
    return spool.assay("regrade", "--course", "C", "--assignment", "hw", *extra, timeout=120)


def latest(spool, student, assignment="hw"):
    base = spool.path("results", "C", assignment, student)
    v = max(int(x) for x in os.listdir(base))
    with open(os.path.join(base, str(v), "results.json")) as f:
        return json.load(f)


# ---- no scheduler ----

def no_scheduler_line(text):
    return [l for l in text.splitlines() if "no scheduler is running" in l]


def test_status_says_when_no_scheduler_runs_and_since_when(pipeline):
    spool = pipeline()
    lock = spool.path("scheduler.lock")
    text = spool.assay_ok("status")
    assert no_scheduler_line(text) == [
        f"Warning: no scheduler is running on {spool.root}: none has run there yet (it has no "
        f"scheduler.lock); queued jobs wait until `assay-scheduler --spool {spool.root}` "
        f"starts."], text
    st = spool.assay_json("status")
    assert st["scheduler"] == {"running": False, "pid": None, "last_seen": None, "lock": lock}
    assert st["no_scheduler"].startswith("no scheduler is running on")

    before = time.time()
    started(spool)
    text = spool.assay_ok("status")
    assert no_scheduler_line(text) == [], text
    assert f"Scheduler: running (pid {spool.sched.pid})" in text.splitlines()
    st = spool.assay_json("status")
    assert st["scheduler"]["running"] is True and st["scheduler"]["pid"] == spool.sched.pid
    assert "no_scheduler" not in st

    rc, in_time = spool.stop()
    stopped = time.time()
    assert (rc, in_time) == (0, True)
    st = spool.assay_json("status")
    seen = parse_time(st["scheduler"]["last_seen"]).timestamp()
    assert st["scheduler"]["running"] is False and st["scheduler"]["pid"] is None
    # renewed when it stopped: the last moment it ran
    assert before - 1 <= seen <= stopped + 1, (before, seen, stopped)
    line, = no_scheduler_line(spool.assay_ok("status"))
    assert line.startswith(f"Warning: no scheduler is running on {spool.root}: nothing holds "
                           f"its scheduler.lock (one was last seen running at "
                           f"{st['scheduler']['last_seen']}, "), line
    assert line.endswith(f" ago); queued jobs wait until `assay-scheduler --spool {spool.root}` "
                         f"starts."), line

    # killed -9: the kernel drops the lock; last seen is no later than the kill
    started(spool)
    spool.kill9_scheduler()
    killed = time.time()
    spool.kill_leftovers()
    st = spool.assay_json("status")
    assert st["scheduler"]["running"] is False, st["scheduler"]
    assert parse_time(st["scheduler"]["last_seen"]).timestamp() <= killed + 1


def test_a_second_scheduler_is_refused_naming_the_first(pipeline):
    spool = started(pipeline())
    p = subprocess.run([exe("assay-scheduler"), "--spool", spool.root], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 1
    assert (f"another assay-scheduler (pid {spool.sched.pid}) is running on {spool.root}"
            in p.stderr), p.stderr


def test_submit_wait_says_no_scheduler_is_running(pipeline):
    spool = pipeline()
    late_assignment(spool)
    src = spool.make_submission("right", RIGHT)
    p = spool.assay("submit", "--course", "C", "--assignment", "hw", "--student", "u", src,
                    "--wait", "--timeout", "1")
    assert p.returncode == 1
    job = p.stdout.splitlines()[0]
    err = p.stderr.splitlines()
    assert err[0].startswith(f"assay submit: warning: no scheduler is running on {spool.root}: "
                             "none has run there yet"), err
    assert err[0].endswith("; waiting up to 1 s in case one does"), err
    assert err[1].startswith(f"assay submit: no result for job {job} after 1 s; it is still "
                             "queued (see `assay status`), and no scheduler is running on"), err

    p = spool.assay("submit", "--course", "C", "--assignment", "hw", "--student", "u", src,
                    "--wait", "--timeout", "1", "--json")
    assert p.returncode == 1
    job, _, rest = p.stdout.partition("\n")
    out = json.loads(rest)
    assert out["job_id"] == job and out["result"] is None and out["waited_s"] == 1
    assert out["scheduler"]["running"] is False
    assert out["no_scheduler"].startswith("no scheduler is running on")

    # with a scheduler: no such warning, and the result
    started(spool)
    p = spool.assay("submit", "--course", "C", "--assignment", "hw", "--student", "v", src,
                    "--wait", "--timeout", "60")
    assert p.returncode == 0, p.stderr
    assert "no scheduler" not in p.stderr, p.stderr


# ---- late penalties in every table ----

def test_late_penalty_shown_in_every_table_view_and_csv(pipeline):
    spool = started(pipeline())
    late_assignment(spool)
    late_assignment(spool, "ontime", due=iso_from_now(days=2))
    spool.add_assignment("C", "hourly", assignment_doc(
        [HI_TEST], due=iso_from_now(hours=-3.5), late={"penalty_per_hour": 5}))
    src = spool.make_submission("right", RIGHT)
    said = "(3 before a late penalty of 20 %: 2 days late)"

    # submit --wait: the student's table
    p = spool.assay("submit", "--course", "C", "--assignment", "hw", "--student", "ann", src,
                    "--wait", "--timeout", "60")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    job = lines[0]
    # the tests' own points are the full ones; the total says what the penalty took
    assert [l for l in lines if "says hi" in l and "2 / 2  passed" in l], p.stdout
    assert f"Total: 2.4 / 3 {said}" in lines, p.stdout
    late_line = lines[lines.index(f"Total: 2.4 / 3 {said}") + 1]
    assert late_line.startswith("Late: submitted 1 day 12 h"), late_line
    assert " after the due date " in late_line and "2 days at 10% each" in late_line

    # results --job, the instructor's table, the same
    out = spool.assay_ok("results", "--job", job)
    assert f"Total: 2.4 / 3 {said}" in out.splitlines(), out

    # the student view in results.student.json: the score line says it
    with open(spool.path(spool.result_rel(job), "results.student.json")) as f:
        view = json.load(f)
    assert view["output"].splitlines()[0] == f"Score: 2.4 / 3 {said}", view["output"]
    assert view["output"].splitlines()[1] == late_line
    r = spool.result(job)
    assert r["output"].splitlines()[0] == f"Score: 2.4 / 3 {said}"

    # the gradebook: a column, and in --json
    spool.submit_wait("C", "hw", "ben", src)   # just as late
    out = spool.assay_ok("results", "--course", "C", "--assignment", "hw")
    header, *rows = out.splitlines()
    assert header.split()[-3:] == ["JOB", "LATE", "PENALTY"], header
    assert rows[0].startswith("ann ") and rows[0].endswith(said[1:-1]), rows
    row = spool.assay_json("results", "--course", "C", "--assignment", "hw")[0]
    assert row["score"] == 2.4 and row["late"] == {
        "days": 2, "unit": "day", "penalty_percent": 20, "score_before": 3,
        "text": said[1:-1]}, row

    # per hour: hours late
    _, hourly = spool.submit_wait("C", "hourly", "ann", src)
    out = spool.assay_ok("results", "--job", hourly["assay"]["job_id"])
    assert "Total: 1.6 / 2 (2 before a late penalty of 20 %: 4 hours late)" in out, out

    # on time: no penalty anywhere
    on_job, on = spool.submit_wait("C", "ontime", "ann", src)
    assert "late" not in on["assay"]
    out = spool.assay_ok("results", "--job", on_job)
    assert "Total: 3 / 3" in out.splitlines() and "penalty" not in out

    # the CSV: three more columns, documented in --help
    p = spool.assay("export", "--course", "C", "--assignment", "hw", "--csv")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == ("student,score,max,status,graded_at,late_days,"
                                        "late_penalty_percent,score_before_penalty,"
                                        "manual_pending_points,manual_pending_answers")
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(p.stdout))}
    assert (rows["ann"]["score"], rows["ann"]["late_days"], rows["ann"]["late_penalty_percent"],
            rows["ann"]["score_before_penalty"]) == ("2.4", "2", "20", "3"), rows
    p = spool.assay("export", "--course", "C", "--assignment", "ontime", "--csv")
    on_row = next(csv.DictReader(io.StringIO(p.stdout)))
    assert (on_row["score"], on_row["late_days"], on_row["late_penalty_percent"],
            on_row["score_before_penalty"]) == ("3", "0", "0", "3"), on_row
    assert "late_penalty_percent" in spool.assay_ok("export", "--help")


# ---- assay extensions ----

def test_extensions_grant_list_revoke_round_trip(pipeline):
    spool = started(pipeline())
    d = late_assignment(spool)
    src = spool.make_submission("right", RIGHT)
    spool.submit_wait("C", "hw", "alice", src)
    assert latest(spool, "alice")["score"] == 2.4
    due = parse_time(json.load(open(os.path.join(d, "assignment.json")))["due"])

    out = spool.assay_ok("extensions", "grant", "--course", "C", "--assignment", "hw",
                         "--student", "alice", "--days", "3")
    extended = (due.timestamp() + 3 * 86400)
    first = out.splitlines()[0]
    assert first.startswith("alice: C/hw due ") and first.endswith(" (3 days)"), out
    assert abs(parse_time(first.split()[3]).timestamp() - extended) < 1
    assert "It applies from alice's next submission or regrade" in out
    with open(os.path.join(d, "extensions.json")) as f:
        assert json.load(f) == {"alice": {"days": 3}}
    logged = [l for l in spool.log_lines() if l.process == "assay" and "extension" in l.message]
    assert logged and logged[-1].level == "info", logged
    assert logged[-1].message.startswith(f"extension of alice for C/hw granted by {ME}: 3 days, "
                                         "due "), logged[-1].message
    assert logged[-1].message.endswith("(was: none)")

    lst = spool.assay_json("extensions", "list", "--course", "C", "--assignment", "hw")
    assert lst["problems"] == [] and len(lst["extensions"]) == 1
    e = lst["extensions"][0]
    assert (e["student"], e["given"], e["submitted"]) == ("alice", "3 days", True)
    assert abs(parse_time(e["due"]).timestamp() - extended) < 1
    text = spool.assay_ok("extensions", "list", "--course", "C", "--assignment", "hw")
    assert any(l.split()[:3] == ["alice", "3", "days"] for l in text.splitlines()), text

    # the penalty follows: a regrade is on time now
    p = regrade_wait(spool, "--wait")
    assert p.returncode == 0 and "1 graded, 0 with an error in the submission, 0 with an error in the assignment, 0 not graded because of infrastructure failures" in p.stdout, p.stdout + p.stderr
    r = latest(spool, "alice")
    assert r["score"] == 3 and "late" not in r["assay"], r

    # a due date of her own that she missed by an hour: one day, -10 %
    until = iso_from_now(hours=-1)
    spool.assay_ok("extensions", "grant", "--course", "C", "--assignment", "hw", "--student",
                   "alice", "--until", until)
    with open(os.path.join(d, "extensions.json")) as f:
        assert json.load(f) == {"alice": {"due": until}}
    assert logged_lines(spool)[-1].endswith("(was: 3 days)")
    assert regrade_wait(spool, "--wait").returncode == 0
    r = latest(spool, "alice")
    assert r["score"] == 2.7 and r["assay"]["late"]["extension"] is True, r
    out = spool.assay_ok("results", "--course", "C", "--assignment", "hw")
    assert "3 before a late penalty of 10 %: 1 day late (after an extension)" in out, out

    out = spool.assay_ok("extensions", "revoke", "--course", "C", "--assignment", "hw",
                         "--student", "alice")
    assert out.startswith(f"alice: the extension for C/hw is revoked (it was until {until})")
    assert logged_lines(spool)[-1].startswith(f"extension of alice for C/hw revoked by {ME}")
    with open(os.path.join(d, "extensions.json")) as f:
        assert json.load(f) == {}
    assert regrade_wait(spool, "--wait").returncode == 0
    assert latest(spool, "alice")["score"] == 2.4

    # what is refused, and why
    p = spool.assay("extensions", "revoke", "--course", "C", "--assignment", "hw", "--student",
                    "alice")
    assert p.returncode == 1 and "alice has no extension for C/hw" in p.stderr
    p = spool.assay("extensions", "grant", "--course", "C", "--assignment", "hw", "--student",
                    "alcie", "--days", "2")
    assert p.returncode == 1
    assert ("alcie has submitted nothing to course C: check the spelling, or pass "
            "--new-student") in p.stderr
    spool.assay_ok("extensions", "grant", "--course", "C", "--assignment", "hw", "--student",
                   "zoe", "--days", "1.5", "--new-student")
    text = spool.assay_ok("extensions", "list", "--course", "C", "--assignment", "hw")
    assert "(no submission to the course yet)" in text
    # a regrade goes ahead, and asks about the name
    p = regrade_wait(spool, "--wait")
    assert p.returncode == 0 and "1 graded, 0 with an error in the submission, 0 with an error in the assignment, 0 not graded because of infrastructure failures" in p.stdout, p.stdout + p.stderr
    assert ("assay regrade: warning: courses/C/hw/extensions.json: $.zoe: zoe has submitted "
            "nothing to course C (is the name misspelt?)") in p.stderr, p.stderr
    for args, said in (
            (["--days", "-1"], "--days \"-1\" must be a number of days from 0 to 365"),
            (["--days", "two"], "--days \"two\" must be a number of days"),
            (["--until", "tomorrow"], "--until \"tomorrow\" is not an ISO 8601 time"),
            (["--days", "1", "--until", until], "give either --days N or --until TIME"),
            ([], "give either --days N or --until TIME")):
        p = spool.assay("extensions", "grant", "--course", "C", "--assignment", "hw",
                        "--student", "alice", *args)
        assert p.returncode == 2 and said in p.stderr, (args, p.stderr)
    spool.add_assignment("C", "nodue", assignment_doc([HI_TEST]))
    p = spool.assay("extensions", "grant", "--course", "C", "--assignment", "nodue",
                    "--student", "alice", "--days", "1")
    assert p.returncode == 1 and "C/nodue has no due date" in p.stderr
    p = spool.assay("extensions", "list", "--course", "C", "--assignment", "nope")
    assert p.returncode == 1 and "there is no assignment C/nope" in p.stderr


def logged_lines(spool):
    return [l.message for l in spool.log_lines()
            if l.process == "assay" and l.message.startswith("extension of ")]


# ---- a broken extensions.json ----

def test_broken_extensions_are_named_and_stop_regrade(pipeline):
    spool = started(pipeline())
    d = late_assignment(spool)
    path = os.path.join(d, "extensions.json")
    src = spool.make_submission("right", RIGHT)
    spool.submit_wait("C", "hw", "alice", src)
    spool.submit_wait("C", "hw", "bob", src)

    # each broken file, and the problems `list` names
    for doc, problems in (
            ('{"alice": {"days": 2}', [f"{path}: line:column 1:", "invalid JSON"]),
            (["alice"], [f"{path}: $: must be an object " '{"STUDENT": {...}, ...}, not a list']),
            ({"alice": {"dyas": 2}}, [f"{path}: $.alice.dyas: unknown key (is it misspelt?)",
                                      f"{path}: $.alice: one of \"due\" or \"days\" is required"]),
            ({"alice": {"due": "tomorrow"}},
             [f"{path}: $.alice.due: \"tomorrow\" is not an ISO 8601 time"]),
            ({"alice": {"days": "2"}}, [f"{path}: $.alice.days: must be a number, not a string"]),
            ({"Alice Smith": {"days": 2}},
             [f"{path}: $[\"Alice Smith\"]: \"Alice Smith\" is not a student name"])):
        write_json(path, doc)
        p = spool.assay("extensions", "list", "--course", "C", "--assignment", "hw")
        assert p.returncode == 1, (doc, p.stdout, p.stderr)
        assert "courses/C/hw/extensions.json is broken" in p.stderr
        for problem in problems:
            assert problem in p.stderr, (doc, p.stderr)
        assert "To fix: each entry is \"STUDENT\": {\"days\": N} or {\"due\":" in p.stderr

        # regrade and grade-all stop: nothing queued, a failure, never "0 failed"
        jobs = set(os.listdir(spool.path("jobs")))
        for cmd in ("regrade", "grade-all"):
            p = spool.assay(cmd, "--course", "C", "--assignment", "hw",
                            *(["--wait"] if cmd == "regrade" else []))
            assert p.returncode == 1, (cmd, p.stdout, p.stderr)
            assert (f"assay {cmd}: courses/C/hw/extensions.json is broken" in p.stderr and
                    "so nothing was queued:" in p.stderr), p.stderr
            assert problems[0] in p.stderr and f"then run assay {cmd} again." in p.stderr
            assert "queued" not in p.stdout and "failed" not in p.stdout, p.stdout
        assert set(os.listdir(spool.path("jobs"))) == jobs

    # alice's entry has a typo: her late result keeps the penalty and says it may be wrong
    write_json(path, {"alice": {"dyas": 2}, "carol": {"days": 1}})
    p = spool.assay("submit", "--course", "C", "--assignment", "hw", "--student", "alice", src,
                    "--wait", "--timeout", "60", "--view", "instructor")
    assert p.returncode == 0, p.stderr
    job = p.stdout.splitlines()[0]
    r = spool.result(job)
    assert r["score"] == 2.4 and r["assay"]["late"]["days"] == 2, r
    err = r["assay"]["late"]["error"]
    assert err.startswith("The late penalty counts from the assignment's due date, because "
                          f"the extensions file is broken: {path}: $.alice"), err
    assert "To fix: each entry is" in err and err.endswith(", then regrade.")
    assert f"Warning: {err}" in p.stdout.splitlines()
    assert any(l.level == "error" and l.message == err for l in spool.job_lines(job))
    with open(spool.path(spool.result_rel(job), "results.student.json")) as f:
        view = json.load(f)
    assert view["assay"]["late"]["error"].startswith("This late penalty may change: your "
                                                     "instructor's list of extensions")
    assert path not in json.dumps(view)
    assert view["assay"]["late"]["error"] in view["output"]
    out = spool.assay_ok("results", "--course", "C", "--assignment", "hw")
    alice_row = next(l for l in out.splitlines() if l.startswith("alice "))
    assert alice_row.endswith("[may be wrong: extensions.json is broken]"), alice_row

    # bob has no entry and the problem is in alice's: his date is certain
    _, b = spool.submit_wait("C", "hw", "bob", src)
    assert b["score"] == 2.4 and "error" not in b["assay"]["late"], b

    # granting mends alice's entry; then the regrade runs and counts every failure
    spool.assay_ok("extensions", "grant", "--course", "C", "--assignment", "hw", "--student",
                   "alice", "--days", "2")
    p = regrade_wait(spool, "--wait")
    assert p.returncode == 0 and "2 graded, 0 with an error in the submission, 0 with an error in the assignment, 0 not graded because of infrastructure failures" in p.stdout, p.stdout + p.stderr
    r = latest(spool, "alice")
    assert r["score"] == 3 and "late" not in r["assay"], r


def test_a_broken_extensions_file_that_is_no_object_cannot_be_changed(pipeline):
    spool = pipeline()
    d = late_assignment(spool)
    write_json(os.path.join(d, "extensions.json"), "{oops")
    p = spool.assay("extensions", "grant", "--course", "C", "--assignment", "hw",
                    "--student", "alice", "--days", "1", "--new-student")
    assert p.returncode == 1
    assert "courses/C/hw/extensions.json is broken (1 problem), so nothing was changed" in p.stderr
    with open(os.path.join(d, "extensions.json")) as f:
        assert f.read() == "{oops"
