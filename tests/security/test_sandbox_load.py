"""The sandbox on a loaded machine: verdicts that do not depend on how busy
the worker is, and CPU shared fairly between slots.

The load is real: busy processes in a cpu cgroup of their own (as a
worker's other services sit in slices of their own) or outside any, and
a fork-happy grading in the other slot.  A machine that cannot give the
slots a CPU at all is made by a CFS quota on the test installation's own
cpu cgroup, the parent of its slots (sbx.installation_cpu_quota; no other
installation is touched): its runs are runnable but get a tenth of a
CPU, and the scheduler counts that time as waiting for a CPU exactly as
it counts a run queue full of other programs.  Nothing here asserts a
speed: the assertions are verdicts, scores, the result's error, log
lines and a ratio of CPU times.
"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbx  # noqa: E402  (puts tests/lib on sys.path)
from assay_helpers import (RUN_UID_RANGE, by_name, finish_assay, finish_grade,  # noqa: E402
                           needs_root, processes_of, start_assay, start_grade, wait_for,
                           write_submission)

pytestmark = needs_root

NCPU = os.cpu_count() or 1

# A correct submission whose one pytest test does about 0.3 s of CPU work
# (a loop of 4 million additions), with a 2 s wall limit.
CRUNCH = "def crunch(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
CRUNCH_TEST = ("from work import crunch\n\n\ndef test_crunch():\n"
               "    n = 4_000_000\n    assert crunch(n) == n * (n - 1) // 2\n")
CRUNCH_LIMITS = {"wall_s": 2, "cpu_s": 2}


def crunch_assignment(d):
    return sbx.security_assignment(d, [{"name": "crunch", "kind": "pytest", "points": 1,
                                        "files": ["tests/test_work.py"]}],
                                   limits=CRUNCH_LIMITS, files={"tests/test_work.py": CRUNCH_TEST})


def grade_crunch(tmp_path):
    a = crunch_assignment(tmp_path / "crunch-a")
    s = write_submission(tmp_path / "crunch-s", {"work.py": CRUNCH})
    return by_name(sbx.grade_clean(a, s))["crunch"]


def command_assignment(d, program, limits):
    return sbx.security_assignment(d / "a", [{"name": "run", "kind": "command", "points": 1,
                                              "command": "python3 run.py"}], limits=limits)


def start_program(d, program, limits):
    """Starts grading PROGRAM (run.py, one "command" test) in a slot."""
    return start_grade(command_assignment(d, program, limits),
                       write_submission(d / "s", {"run.py": program}))


def grade_program(d, program, limits):
    """Grades PROGRAM as start_program does; its test's entry and the
    whole result."""
    r = sbx.grade_clean(command_assignment(d, program, limits),
                        write_submission(d / "s", {"run.py": program}))
    return by_name(r)["run"], r


def busy_processes(n):
    """N processes busy-looping at nice 0, outside any of Assay's cgroups."""
    return [subprocess.Popen([sys.executable, "-c", "while True:\n    pass\n"])
            for _ in range(n)]


def stop(procs):
    for p in procs:
        p.kill()
        p.wait()


def slot_python_processes(at_least):
    """The python processes of the test installation's run uids, once
    there are AT_LEAST of them (a grading's load is up)."""
    return wait_for(f"{at_least} python processes of a run",
                    lambda: (lambda ps: ps if len(ps) >= at_least else None)(
                        [p for p in processes_of(RUN_UID_RANGE)
                         if p.state != "Z" and any("python" in a for a in p.argv[:1])]),
                    timeout=30)


# A run of 8 processes busy until the wall clock reads END (then exit 0).
FORK_HAPPY = """
import os, time
END = {end}
for _ in range(7):
    if os.fork() == 0:
        break
while time.time() < END:
    pass
"""
FORK_HAPPY_LIMITS = {"wall_s": 60, "cpu_s": 120, "processes": 16}


def test_correct_submission_beside_busy_processes_in_another_cgroup_gets_full_marks(tmp_path):
    hogs = busy_processes(2 * NCPU)
    try:
        with sbx.cpu_cgroup_of([p.pid for p in hogs]):
            t = grade_crunch(tmp_path)
    finally:
        stop(hogs)
    assert t["verdict"] == "passed", t["output"]
    assert t["score"] == 1
    assert isinstance(t["cpu_wait_s"], float)


def test_correct_submission_beside_a_fork_happy_slot_gets_full_marks(tmp_path):
    hog = start_program(tmp_path / "hog", FORK_HAPPY.format(end=time.time() + 15),
                        FORK_HAPPY_LIMITS)
    try:
        slot_python_processes(8)
        t = grade_crunch(tmp_path)
    finally:
        r, _ = finish_grade(hog)
    assert t["verdict"] == "passed", t["output"]
    assert t["score"] == 1
    assert by_name(r)["run"]["verdict"] == "passed", by_name(r)["run"]["output"]


# Sleeps until the wall clock reads START, then busy-loops in PROCS
# processes until END: all the gradings' loops share one window.
WINDOW = """
import os, time
START, END = {start}, {end}
for _ in range({procs} - 1):
    if os.fork() == 0:
        break
time.sleep(max(0, START - time.time()))
while time.time() < END:
    pass
"""


def test_slots_share_the_cpus_equally_whatever_their_process_count(tmp_path):
    """Slot A runs 8 busy processes, slot B one, over the same 2.5 s.
    Shared by process, B would get 1/8 of A's CPU time; shared by slot
    (both slots' groups have the same weight), B's one CPU is shared
    equally, so B gets about a third of A's on two CPUs."""
    start = time.time() + 4
    runs = {procs: start_program(tmp_path / f"p{procs}",
                                 WINDOW.format(start=start, end=start + 2.5, procs=procs),
                                 FORK_HAPPY_LIMITS)
            for procs in (8, 1)}
    cpu = {}
    for procs, p in runs.items():
        r, _ = finish_grade(p)
        t = by_name(r)["run"]
        assert t["verdict"] == "passed", t["output"]
        cpu[procs] = t["cpu_s"]
    # by process: 1/8. By slot: 1 at best, but the lone task keeps to one
    # CPU, where it shares with A's group, while A has the other CPU too:
    # 1/3 on two CPUs, a little less beside other work. The bound lies
    # between 1/8 and 1/3.
    assert cpu[1] >= 0.2 * cpu[8], cpu


MEMORY_BOMB = "b = []\nwhile True:\n    b.append(bytearray(1 << 20))\n"


def test_memory_bombs_beside_cpu_hogs_get_memory_limit(tmp_path):
    hogs = busy_processes(2 * NCPU)
    try:
        runs = [start_program(tmp_path / f"bomb{i}", MEMORY_BOMB,
                              {"memory_mb": 64, "wall_s": 20}) for i in range(2)]
        results = [finish_grade(p)[0] for p in runs]
    finally:
        stop(hogs)
    for r in results:
        t = by_name(sbx.sandboxed(r))["run"]
        assert t["verdict"] == "memory_limit", t["output"]
        assert t["score"] == 0
        sbx.assert_slot_clean(r["assay"]["sandbox_slot"])


# ---- a machine that cannot give the slots a CPU ----

def make_installation_group(tmp_path):
    """Grades a trivial program, so that the test installation's cgroups exist."""
    t, _ = grade_program(tmp_path / "first", "pass\n", {})
    assert t["verdict"] == "passed", t["output"]


def test_sleeping_program_still_times_out_on_a_starved_slot(tmp_path):
    make_installation_group(tmp_path)
    with sbx.installation_cpu_quota(10):
        t, r = grade_program(tmp_path / "sleep", "import time\ntime.sleep(100)\n",
                             {"wall_s": 2})
    assert t["verdict"] == "timeout", t["output"]
    assert "Stopped after 2 s" in t["output"]
    assert "starved_runs" not in t
    assert r["assay"]["error"] is None


def test_program_blocked_on_its_input_still_times_out_on_a_starved_slot(tmp_path):
    blocked = ("import os, sys\nr, w = os.pipe()\nos.dup2(r, 0)\n"
               "sys.stdin = open(0)\ninput()\n")   # a writer that never writes
    make_installation_group(tmp_path)
    with sbx.installation_cpu_quota(10):
        t, r = grade_program(tmp_path / "input", blocked, {"wall_s": 2})
    assert t["verdict"] == "timeout", t["output"]
    assert "starved_runs" not in t
    assert r["assay"]["error"] is None


def test_program_starved_every_time_is_an_infrastructure_error(tmp_path):
    """The same slot starves a correct program that needs 0.3 s of CPU:
    it is run three times, then the result is Assay's error, with no
    score of the student's."""
    make_installation_group(tmp_path)
    a = crunch_assignment(tmp_path / "crunch-a")
    s = write_submission(tmp_path / "crunch-s", {"work.py": CRUNCH})
    with sbx.installation_cpu_quota(10):
        done = finish_assay(start_assay("grade", a, s, "--json"))
    assert done.returncode == 0, done.stderr
    r = json.loads(done.stdout)
    sbx.assert_slot_clean(sbx.sandboxed(r)["assay"]["sandbox_slot"])
    t = by_name(r)["crunch"]
    assert t["verdict"] == "setup_error", t["output"]
    assert t["score"] == 0
    assert t["starved_runs"] == 3
    assert "Not judged: the worker's processors were too busy to run this test (3 tries). " \
           "This is not a problem with your work." in t["output"]
    assert r["score"] == 0 and r["max_score"] == 1
    assert r["assay"]["status"] == "error"
    assert r["assay"]["error"]["category"] == "infrastructure"
    assert r["assay"]["error"]["message"].startswith(
        'test "crunch" could not get a processor in 3 runs (the last got ')
    log = done.stderr.decode()
    for n in (1, 2):
        assert f"running it again (starved run {n} of at most 3)" in log, log
    assert "not judged (starved run 3 of at most 3)" in log, log

