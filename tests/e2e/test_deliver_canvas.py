"""Grades delivered to Canvas: a spool whose course has an "lms" block,
the real scheduler, shippers, workers and assay-deliver, and a local
Canvas (fake_canvas.py) that fails the test on any request that
deviates from Canvas's documented API.

Each case checks what Canvas ends up holding (every grade exactly once,
its comment once), what the spool's deliveries/ says, and what
`assay sync status` prints.
"""
import json
import os
import signal
import time

from assay_helpers import copy_assignment, example_dir, example_submission, poll
from fake_canvas import FakeCanvas, canvas  # noqa: F401  (the fixture)
from pipeline import HI_TEST, VARIANTS, assignment_doc, pipeline  # noqa: F401  (the fixture)

ASSIGNMENT_ID = 42
# Retries quick enough for a test: 0.2 s doubling to 1 s, many attempts.
FAST_RETRY = {"max_attempts": 60, "first_s": 0.2, "max_s": 1, "timeout_s": 5}


def write_lms_block(spool, fake, students, assignment, retry=None, **lms):
    """Course cs101's lms block sending ASSIGNMENT to FAKE's assignment
    ASSIGNMENT_ID, the token in a 0600 file (its path returned), STUDENTS
    enrolled in FAKE."""
    fake.add_assignment(ASSIGNMENT_ID)
    for s in students:
        fake.add_student(s)
    token_file = os.path.join(spool.base, "canvas.token")
    with open(os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(fake.token + "\n")
    block = {"base_url": fake.base_url, "course_id": fake.course_id, "token_file": token_file,
             "result_url": "https://assay.example.edu/r/{course}/{assignment}/{student}/{version}",
             "assignments": {assignment: {"assignment_id": ASSIGNMENT_ID}},
             "retry": retry or FAST_RETRY}
    block.update(lms)
    with open(spool.path("courses", "cs101", "course.json"), "w") as f:
        json.dump({"lms": block}, f)
    return token_file


def setup_course(spool, fake, students, roster=False, retry=None, **lms):
    """Course cs101 with assignment hw1 (2 points for printing "hi"), its
    lms block pointing at FAKE, the token in a 0600 file, STUDENTS
    enrolled in FAKE; the scheduler started."""
    spool.add_assignment("cs101", "hw1", assignment_doc([HI_TEST]))
    token_file = write_lms_block(spool, fake, students, "hw1", retry, **lms)
    if roster:
        p = spool.assay("canvas", "roster", "--course", "cs101")
        assert p.returncode == 0, p.stdout + p.stderr
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    return token_file


def submit_all(spool, students, variant="right"):
    src = spool.make_submission(variant, {"hello.py": VARIANTS[variant][0]})
    return [spool.submit("cs101", "hw1", s, src) for s in students]


def deliveries(spool, state):
    d = spool.path("deliveries", state)
    out = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            try:
                with open(os.path.join(d, name)) as f:
                    out.append(json.load(f))
            except FileNotFoundError:
                pass   # moved on meanwhile
    return out


def deliver_lines(spool, level):
    """assay-deliver's log lines at LEVEL so far."""
    return [l for l in spool.log_lines() if l.process == "assay-deliver" and l.level == level]


def wait_done(spool, n, timeout=60):
    spool.wait_for(f"{n} deliveries in done/",
                   lambda: len(deliveries(spool, "done")) >= n, timeout=timeout)
    return deliveries(spool, "done")


def deliver_pids(spool):
    return [pid for pid, _ in spool.procs_named("assay-deliver")]


def test_grades_delivered_exactly_once_with_comment(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    students = ["alice", "bob", "carol"]
    setup_course(spool, canvas, students)
    jobs = submit_all(spool, students)
    spool.wait_results(jobs)
    done = wait_done(spool, 3)
    assert sorted(d["student"] for d in done) == students
    assert canvas.applied(ASSIGNMENT_ID) == {s: 1 for s in students}
    for cid, s in canvas.students.items():
        assert canvas.grades[(ASSIGNMENT_ID, cid)] == "2"
        [comment] = canvas.comments[(ASSIGNMENT_ID, cid)]
        assert comment.startswith("Assay: 2 / 2 points (version 1).\nsays hi: 2 / 2\n")
        assert f"Details: https://assay.example.edu/r/cs101/hw1/{s.login_id}/1\n" in comment
        key = [d["key"] for d in done if d["student"] == s.login_id][0]
        assert comment.endswith(f"(ref {key})")
    # addressed by login id (no roster imported): the documented form
    puts = [p for m, p in canvas.requests if m == "PUT"]
    assert sorted(puts) == sorted(f"/api/v1/courses/1234/assignments/42/submissions/"
                                  f"sis_login_id:{s}" for s in students)
    for d in done:
        assert d["note"] == f"grade 2 sent to Canvas for sis_login_id:{d['student']} with a comment"
    # each line is written once its delivery is in done/: wait for the third
    spool.wait_for("three deliveries logged", lambda: sum(
        1 for l in deliver_lines(spool, "info")
        if l.message.startswith("delivered to canvas: grade 2")) >= 3)
    assert sum(1 for l in deliver_lines(spool, "info")
               if l.message.startswith("delivered to canvas: grade 2")) == 3
    p = spool.assay("sync", "status", "--course", "cs101")
    assert p.returncode == 0, p.stderr
    assert "cs101: 3 delivered, 0 waiting, 0 not synced" in p.stdout
    # resend: sent again whatever was sent before, here for alice alone
    p = spool.assay("sync", "resend", "--course", "cs101", "--student", "alice")
    assert p.returncode == 0 and p.stdout == "1 grade of cs101 queued to be sent again\n", \
        p.stdout + p.stderr
    wait_done(spool, 4)
    assert canvas.applied(ASSIGNMENT_ID) == {"alice": 2, "bob": 1, "carol": 1}


def test_canvas_down_for_the_whole_flood_then_back(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    students = [f"s{i:02d}" for i in range(12)]
    setup_course(spool, canvas, students)
    canvas.down = True
    jobs = submit_all(spool, students)
    spool.wait_results(jobs, timeout=120)
    spool.wait_for("every delivery failed at least twice",
                   lambda: len([d for d in deliveries(spool, "pending") if d["tries"] >= 2])
                   == len(students), timeout=60)
    assert canvas.puts == []
    p = spool.assay("sync", "status", "--course", "cs101")
    assert "cs101: 0 delivered, 12 waiting, 0 not synced" in p.stdout, p.stdout
    assert "Canvas answered 503" in p.stdout
    canvas.down = False
    wait_done(spool, len(students))
    assert canvas.applied(ASSIGNMENT_ID) == {s: 1 for s in students}
    assert all(len(c) == 1 for c in canvas.comments.values())
    assert any("Canvas answered 503" in l.message for l in deliver_lines(spool, "warning"))


def test_throttled_then_served(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    setup_course(spool, canvas, ["alice", "bob"])
    canvas.throttle = 3
    jobs = submit_all(spool, ["alice", "bob"])
    spool.wait_results(jobs)
    wait_done(spool, 2)
    assert canvas.applied(ASSIGNMENT_ID) == {"alice": 1, "bob": 1}
    warns = [l.message for l in deliver_lines(spool, "warning")]
    assert sum("throttled by Canvas (403, X-Rate-Limit-Remaining: 0)" in m for m in warns) == 3


def test_deliver_killed_mid_flood_nothing_lost_or_doubled(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    students = [f"k{i:02d}" for i in range(10)]
    setup_course(spool, canvas, students)
    canvas.delay = 0.4   # each answer takes a while: the kill lands mid-request
    jobs = submit_all(spool, students)
    spool.wait_results(jobs, timeout=120)
    kills = 0
    deadline = time.monotonic() + 60
    while len(deliveries(spool, "done")) < len(students) and kills < 3 \
            and time.monotonic() < deadline:
        if deliveries(spool, "sending") and deliver_pids(spool):
            for pid in deliver_pids(spool):
                os.kill(pid, signal.SIGKILL)
            kills += 1
            time.sleep(0.5)
        time.sleep(0.05)
    assert kills >= 1, "assay-deliver was never caught sending"
    wait_done(spool, len(students), timeout=90)
    # every grade arrived, none twice: no second comment, no second PUT
    assert canvas.applied(ASSIGNMENT_ID) == {s: 1 for s in students}
    assert all(len(c) == 1 for c in canvas.comments.values())
    assert any("checked with its destination before it is sent again" in l.message
               for l in spool.log_lines() if l.process == "assay-deliver")
    # what may have arrived was looked for before it was sent again
    assert any(m == "GET" and p.endswith("?include%5B%5D=submission_comments")
               for m, p in canvas.requests)


def test_slow_answers_timed_out_then_found_in_canvas(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    setup_course(spool, canvas, ["alice", "bob"], retry=dict(FAST_RETRY, timeout_s=0.5))
    canvas.delay = 1.5   # Canvas applies each grade, but answers after assay-deliver gave up
    jobs = submit_all(spool, ["alice", "bob"])
    spool.wait_results(jobs)
    spool.wait_for("both grades applied, their answers lost",
                   lambda: len(canvas.puts) == 2 and all(
                       d["tries"] >= 1 and d["unsure"] for d in deliveries(spool, "pending")),
                   timeout=60)
    canvas.delay = 0
    done = wait_done(spool, 2)
    # each was looked for before being sent again, found, and not sent twice
    assert canvas.applied(ASSIGNMENT_ID) == {"alice": 1, "bob": 1}
    assert all(len(c) == 1 for c in canvas.comments.values())
    assert all("was already in Canvas" in d["note"] for d in done), done
    spool.wait_for("the timeout logged", lambda: any(
        "no answer from Canvas: Operation timed out" in l.message
        for l in deliver_lines(spool, "warning")))


def test_student_missing_from_roster_named(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    setup_course(spool, canvas, ["alice", "bob", "carol"], roster=True)
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    jobs = [spool.submit("cs101", "hw1", s, src) for s in ["alice", "mallory"]]
    spool.wait_results(jobs)
    spool.wait_for("one delivered, one dead",
                   lambda: len(deliveries(spool, "done")) == 1 and
                   len(deliveries(spool, "dead")) == 1)
    [dead] = deliveries(spool, "dead")
    assert dead["student"] == "mallory" and dead["category"] == "unknown_student"
    assert dead["reason"].startswith("mallory is not in the Canvas roster of course 1234 "
                                     "(courses/cs101/roster.json); to fix:")
    # alice addressed by the SIS id the roster gave
    alice = canvas.find("sis_login_id:alice")
    assert ("PUT", f"/api/v1/courses/1234/assignments/42/submissions/"
                   f"sis_user_id:{alice.sis_user_id}") in canvas.requests
    p = spool.assay("sync", "status", "--course", "cs101")
    assert p.returncode == 1
    assert "cs101: 1 delivered, 0 waiting, 1 not synced" in p.stdout
    assert "  mallory (hw1, version 1): unknown student: mallory is not in the Canvas roster" \
        in p.stdout
    # grade-all's summary ends with the same, for the grades it made
    p = spool.assay("grade-all", "--course", "cs101", "--assignment", "hw1", timeout=180)
    lines = p.stdout.splitlines()
    i = lines.index("Sent to the course's destinations: 1 delivered, 0 waiting, 1 not synced")
    assert lines[i + 1] == "Not synced:"
    assert lines[i + 2].startswith("  mallory (hw1, version 1): unknown student: mallory is not "
                                   "in the Canvas roster of course 1234"), lines[i + 2]


def test_roster_import_follows_pagination(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    names = [f"r{i}" for i in range(5)]
    for n in names:
        canvas.add_student(n)
    canvas.add_student("no-login", name="Nameless")
    canvas.students[max(canvas.students)].login_id = None
    setup_token = os.path.join(spool.base, "t")
    with open(os.open(setup_token, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(canvas.token)
    os.makedirs(spool.path("courses", "cs101"), exist_ok=True)
    with open(spool.path("courses", "cs101", "course.json"), "w") as f:
        json.dump({"lms": {"base_url": canvas.base_url, "course_id": 1234,
                           "token_file": setup_token, "assignments": {}}}, f)
    p = spool.assay("canvas", "roster", "--course", "cs101")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "imported 5 students of Canvas course 1234 (3 pages) into courses/cs101/roster.json",
        "skipped Nameless: no usable login_id in Canvas"]
    with open(spool.path("courses", "cs101", "roster.json")) as f:
        roster = json.load(f)
    assert sorted(roster["students"]) == names
    assert roster["students"]["r0"]["sis_user_id"] == canvas.find("sis_login_id:r0").sis_user_id
    pages = [path for m, path in canvas.requests if "/users" in path]
    assert len(pages) == 3 and "page=2" in pages[1] and "page=3" in pages[2]


def test_world_readable_token_refused_and_token_never_written(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    token_file = setup_course(spool, canvas, ["alice"])
    os.chmod(token_file, 0o644)
    [job] = submit_all(spool, ["alice"])
    spool.wait_results([job])
    spool.wait_for("a dead delivery", lambda: deliveries(spool, "dead"))
    [dead] = deliveries(spool, "dead")
    assert dead["category"] == "config"
    assert dead["reason"].startswith(f"the token file {token_file} may be read by others "
                                     f"(mode 0644); to fix: chmod 600 {token_file}")
    assert canvas.puts == []
    os.chmod(token_file, 0o600)
    p = spool.assay("sync", "retry", "--course", "cs101")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1 delivery of cs101 queued again"
    wait_done(spool, 1)
    assert canvas.applied(ASSIGNMENT_ID) == {"alice": 1}
    # the token is in no file of the spool, nor in what the scheduler printed
    for dirpath, _dirs, files in os.walk(spool.root):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                assert canvas.token.encode() not in f.read(), path
    assert canvas.token not in spool.scheduler_output()


def test_expired_token_dead_with_the_fix(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    token_file = setup_course(spool, canvas, ["alice"])
    canvas.token = "a-newer-token"   # the one Assay holds has expired
    [job] = submit_all(spool, ["alice"])
    spool.wait_results([job])
    spool.wait_for("a dead delivery", lambda: deliveries(spool, "dead"))
    [dead] = deliveries(spool, "dead")
    assert dead["category"] == "token"
    assert dead["reason"] == (f"Canvas refused the token in {token_file} (401, WWW-Authenticate: "
                              "expired, revoked or mistyped); to fix: put a valid token there, "
                              "then `assay sync retry --course cs101`")
    p = spool.assay("sync", "status", "--course", "cs101")
    assert "  alice (hw1, version 1): token refused: Canvas refused the token" in p.stdout


def test_regrade_sent_in_one_bulk_update(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    students = ["ann", "ben", "cat", "dan"]
    setup_course(spool, canvas, students, roster=True)
    jobs = submit_all(spool, students, variant="close")   # 0 points
    spool.wait_results(jobs)
    wait_done(spool, 4)
    assert {canvas.grades[(ASSIGNMENT_ID, s.id)] for s in canvas.students.values()} == {"0"}
    # the instructor fixes the test to accept "contains": a regrade of the whole class
    doc = assignment_doc([dict(HI_TEST, expected_stdout="hi", compare="contains")])
    spool.add_assignment("cs101", "hw1", doc)
    p = spool.assay("regrade", "--course", "cs101", "--assignment", "hw1", "--wait",
                    timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == \
        "Sent to the course's destinations: 4 delivered, 0 waiting, 0 not synced"
    wait_done(spool, 8)
    assert canvas.bulk_posts >= 1
    assert {canvas.grades[(ASSIGNMENT_ID, s.id)] for s in canvas.students.values()} == {"2"}
    bulk = [d for d in deliveries(spool, "done") if d["batch"]]
    assert len(bulk) == 4
    assert any(d["note"].startswith("sent in a bulk update of") for d in bulk)
    assert any(path.startswith("/api/v1/progress/") for m, path in canvas.requests)


def test_manual_grades_reach_canvas_and_survive_a_regrade(pipeline, canvas):  # noqa: F811
    """examples/notebook-manual: 5 points from its tests, 4 graded by hand
    (explain 2, cube_style 1, plot_task 1).  The answered submission
    leaves cube_style as released ("No response.", 0 points), so 3 points
    await a person: explain and plot_task."""
    spool = pipeline()
    copy_assignment(example_dir("notebook-manual"), spool.path("courses", "cs101", "nb"))
    write_lms_block(spool, canvas, ["alice"], "nb")
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    [alice] = canvas.students.values()
    path = "/api/v1/courses/1234/assignments/42/submissions/sis_login_id:alice"

    def puts():
        return [(m, p) for m, p in canvas.requests if m == "PUT"]

    # (1) graded: the automatic score, and what awaits a person
    job = spool.submit("cs101", "nb", "alice", example_submission("notebook-manual", "answered"))
    spool.wait_results([job], timeout=120)
    wait_done(spool, 1)
    assert puts() == [("PUT", path)]
    [(_, cid, grade, comment)] = canvas.puts
    assert (cid, grade) == (alice.id, "5")
    assert comment.startswith("Assay: 5 of 9 points, 3 awaiting manual grading (version 1).\n"
                              "notebook: 5 / 9\n"), comment

    # (2) graded by hand: each grade sends the combined score once more
    seen = {d["key"] for d in deliveries(spool, "done")}

    def grade_by_hand(cell, points, total):
        n = len(canvas.puts) + 1
        p = spool.assay("manual", "grade", "--course", "cs101", "--assignment", "nb",
                        "--student", "alice", "--cell", cell, "--points", points)
        assert p.returncode == 0, p.stdout + p.stderr
        assert p.stdout.strip().endswith(f"total now {total}"), p.stdout
        done = wait_done(spool, n)
        assert len(done) == n and len(puts()) == n and puts()[-1] == ("PUT", path)
        assert canvas.applied(ASSIGNMENT_ID) == {"alice": n}
        # its own delivery, not the first one's sent again
        [key] = {d["key"] for d in done} - seen
        seen.add(key)
        assert key.endswith(".manual.canvas") and canvas.puts[-1][3].endswith(f"(ref {key})")
        return canvas.puts[-1]

    _, _, grade, comment = grade_by_hand("explain", "1.5",
                                         "6.5 of 9 points, 1 awaiting manual grading")
    assert grade == "6.5"
    assert comment.startswith("Assay: 6.5 of 9 points, 1 awaiting manual grading (version 1).\n")
    _, _, grade, comment = grade_by_hand("plot_task", "1", "7.5 / 9")
    assert grade == "7.5"
    assert comment.startswith("Assay: 7.5 / 9 points (version 1).\nnotebook: 7.5 / 9\n"), comment
    assert canvas.grades[(ASSIGNMENT_ID, alice.id)] == "7.5"
    assert [c.splitlines()[0] for c in canvas.comments[(ASSIGNMENT_ID, alice.id)]] == [
        "Assay: 5 of 9 points, 3 awaiting manual grading (version 1).",
        "Assay: 6.5 of 9 points, 1 awaiting manual grading (version 1).",
        "Assay: 7.5 / 9 points (version 1)."]

    # (3) a regrade grades the notebook again; what is sent keeps the grades given by hand
    p = spool.assay("regrade", "--course", "cs101", "--assignment", "nb", "--wait", timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.splitlines()[-1] == \
        "Sent to the course's destinations: 1 delivered, 0 waiting, 0 not synced"
    with open(spool.path("results", "cs101", "nb", "alice", "1", "results.json")) as f:
        regraded = json.load(f)
    assert regraded["assay"]["job_id"] != job and regraded["score"] == 7.5
    done = wait_done(spool, 4)
    assert len(done) == 4 and deliveries(spool, "pending") == [] and \
        deliveries(spool, "sending") == []
    assert puts() == [("PUT", path)] * 4 and canvas.bulk_posts == 0
    _, cid, grade, comment = canvas.puts[-1]
    assert (cid, grade) == (alice.id, "7.5")
    assert comment.startswith("Assay: 7.5 / 9 points (version 1).\nnotebook: 7.5 / 9\n"), comment
    assert comment.endswith(f"(ref {regraded['assay']['job_id']}.1.canvas)"), comment
    p = spool.assay("sync", "status", "--course", "cs101")
    assert p.returncode == 0 and p.stdout == "cs101: 1 delivered, 0 waiting, 0 not synced\n", \
        p.stdout + p.stderr


def test_no_delivery_process_without_a_destination(pipeline):  # noqa: F811
    spool = pipeline()
    spool.add_assignment("cs101", "hw1", assignment_doc([HI_TEST]))
    spool.start()
    spool.wait_running(slots=3, daemons=1)
    [job] = submit_all(spool, ["alice"])
    spool.wait_results([job])
    assert deliver_pids(spool) == []
    assert deliveries(spool, "pending") == [] and deliveries(spool, "done") == []
    assert not any("assay-deliver" in l.message for l in spool.log_lines())


def test_attempts_used_up_dead_letter_with_the_last_error(pipeline, canvas):  # noqa: F811
    spool = pipeline()
    setup_course(spool, canvas, ["alice"], retry=dict(FAST_RETRY, max_attempts=3))
    canvas.down = True
    [job] = submit_all(spool, ["alice"])
    spool.wait_results([job])
    spool.wait_for("a dead delivery", lambda: deliveries(spool, "dead"), timeout=60)
    [dead] = deliveries(spool, "dead")
    assert dead["category"] == "attempts" and dead["tries"] == 3
    assert dead["reason"].startswith("gave up after 3 attempts; the last: Canvas answered 503: "), \
        dead["reason"]
    assert dead["reason"].endswith("`assay sync retry --course cs101 --student alice` sends it "
                                   "again")
    # the line is written once the delivery is in dead/
    errors = spool.wait_for("the dead delivery logged", lambda: deliver_lines(spool, "error"))
    assert len(errors) == 1 and errors[0].job == job
    p = spool.assay("sync", "status", "--course", "cs101")
    assert p.returncode == 1 and "  alice (hw1, version 1): attempts used up: gave up after 3 attempts" \
        in p.stdout, p.stdout
    canvas.down = False
    assert spool.assay_ok("sync", "retry", "--course", "cs101") == \
        "1 delivery of cs101 queued again\n"
    wait_done(spool, 1)
    assert canvas.applied(ASSIGNMENT_ID) == {"alice": 1}
