"""Bad and hostile input gets a clear outcome.

Invalid assignment.json files (exit 3, every problem listed with its JSON
path), command-line mistakes (exit 2), unsafe zip submissions (refused as
a submission error, nothing written outside), and hostile or broken
student programs: non-UTF-8 output, endless output, daemonised children,
empty submissions, harness files smuggled in a submission, reading the
expected output, huge files, fork bombs and endless sleeps.
"""
import os
import random
import stat
import zipfile

import pytest

from assay_helpers import (IS_ROOT, RUN_UID_RANGE, by_name, example_dir, example_submission,
                           grade, grade_json, processes, processes_of, run_assay, work_base)

HELLO = example_dir("hello-io")
STATS = example_dir("stats-pytest")

GREET_TEST = {"name": "greets", "kind": "io", "points": 2, "command": "python3 hello.py",
              "stdin": "Ada\n", "expected_stdout": "Hello, Ada!\n", "compare": "trimmed"}
GOOD_HELLO = ("import sys\n"
              "for line in sys.stdin:\n"
              "    if line.strip():\n"
              "        print(f'Hello, {line.strip()}!')\n")


@pytest.fixture
def greet_assignment(make_assignment):
    return make_assignment([GREET_TEST], required_files=["hello.py"])


# ---- invalid assignment.json ----

def test_assignment_not_json(make_assignment, make_submission):
    d = make_assignment(raw='{"assay": 1, "title": "x",\n  "tests": [ }\n')
    rc, out, err = grade(d, make_submission({"hello.py": GOOD_HELLO}), "--json")
    assert rc == 3
    assert "assignment.json" in err
    assert ":2:" in err, "the line of the syntax error"
    assert ":2:14:" in err, "line and column"
    assert out == ""


def test_assignment_is_an_array(make_assignment, make_submission):
    d = make_assignment(raw='[{"assay": 1}]\n')
    rc, out, err = grade(d, make_submission({"hello.py": GOOD_HELLO}))
    assert rc == 3
    assert "  $: " in err
    assert "object" in err


def test_missing_assignment_json(tmp_path, make_submission):
    d = tmp_path / "empty-assignment"
    d.mkdir()
    rc, out, err = grade(str(d), make_submission({"hello.py": GOOD_HELLO}))
    assert rc == 3
    assert "assignment.json" in err


def test_every_problem_is_listed(make_assignment, make_submission):
    tests = [
        {"name": "a", "kind": "iox", "points": 1},
        {"name": "b", "kind": "io", "points": 1, "command": "python3 hello.py",
         "expected_stdout": "x", "compare": "fuzzy"},
        {"name": "c", "kind": "io", "points": 1, "expected_stdout": "x"},
        {"name": "d", "kind": "command", "points": -2, "command": "true"},
        {"name": "e", "kind": "io", "command": "python3 hello.py",
         "stdin_file": "tests/nope.in", "expected_stdout": "x"},
        {"name": "f", "kind": "io", "command": "python3 hello.py",
         "expected_stdot": "x", "expected_stdout": "x"},
        {"name": "a", "kind": "command", "command": "true"},
        {"name": "g", "kind": "command", "command": "true", "visibility": "after_due_date"},
        {"name": "h", "kind": "io", "command": "python3 hello.py", "expected_stdout": "a(b",
         "compare": "regex"},
    ]
    d = make_assignment(tests, required_files=["hello.py"])
    rc, out, err = grade(d, make_submission({"hello.py": GOOD_HELLO}), "--json")
    assert rc == 3
    assert out == ""
    problems = [line for line in err.splitlines() if line.startswith("  $")]
    expected = [
        ("$.tests[0].kind", "iox"),
        ("$.tests[1].compare", "fuzzy"),
        ("$.tests[2].command", "missing"),
        ("$.tests[3].points", "-2"),
        ("$.tests[4].stdin_file", "tests/nope.in"),
        ("$.tests[5].expected_stdot", "unknown key"),
        ("$.tests[6]", '"a"'),
        ("$.tests[7]", "due"),
        ("$.tests[8].expected_stdout", "regular expression"),
    ]
    for path, phrase in expected:
        hits = [p for p in problems if p.startswith(f"  {path}: ") and phrase in p]
        assert hits, f"no problem reported at {path} mentioning {phrase!r}:\n{err}"
    assert "invalid" in err and "assignment.json" in err


def test_pytest_test_file_missing(make_assignment, make_submission):
    d = make_assignment([{"name": "unit", "kind": "pytest", "points": 2,
                          "files": ["tests/test_present.py", "tests/test_absent.py"]}],
                        files={"tests/test_present.py": "def test_x():\n    pass\n"})
    rc, out, err = grade(d, make_submission({"sol.py": "x = 1\n"}))
    assert rc == 3
    assert "$.tests[0].files[1]" in err
    assert "tests/test_absent.py" in err
    assert "test_present.py" not in err


def test_support_file_missing(make_assignment, make_submission):
    d = make_assignment([{"name": "c", "kind": "command", "command": "true",
                          "support_files": ["data/in.txt"]}])
    rc, out, err = grade(d, make_submission({"sol.py": "x = 1\n"}))
    assert rc == 3
    assert "$.tests[0].support_files[0]" in err and "data/in.txt" in err


# ---- the command line ----

def test_submission_does_not_exist(greet_assignment, tmp_path):
    rc, out, err = grade(greet_assignment, str(tmp_path / "no-such-submission"), "--json")
    assert rc == 2
    assert "no-such-submission" in err


def test_unknown_option(greet_assignment, make_submission):
    rc, out, err = grade(greet_assignment, make_submission({"hello.py": GOOD_HELLO}),
                         "--frobnicate")
    assert rc == 2
    assert "frobnicate" in err


def test_bad_view(greet_assignment, make_submission):
    rc, out, err = grade(greet_assignment, make_submission({"hello.py": GOOD_HELLO}),
                         "--view", "teacher")
    assert rc == 2
    assert "--view" in err


def test_missing_arguments():
    p = run_assay("grade", HELLO)
    assert p.returncode == 2
    p = run_assay("no-such-command")
    assert p.returncode == 2


def test_grade_help():
    p = run_assay("grade", "--help")
    assert p.returncode == 0
    out = p.stdout.decode()
    for opt in ("--json", "--view", "--out", "--help"):
        assert opt in out, opt
    assert "student" in out and "instructor" in out


def test_top_level_help():
    p = run_assay("--help")
    assert p.returncode == 0
    out = p.stdout.decode()
    assert "grade" in out
    for opt in ("--json", "--view", "--out"):
        assert opt in out, f"`assay --help` does not mention {opt}"


# ---- zip submissions ----

def _regular(name):
    """A ZipInfo for a regular file as Info-ZIP's zip writes it (S_IFREG|0644)."""
    info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _zip(path, entries):
    """Writes a zip: ENTRIES is a list of (ZipInfo or name, bytes); names
    become regular files with full Unix modes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in entries:
            z.writestr(_regular(info) if isinstance(info, str) else info, data)
    os.chmod(path, 0o644)
    return str(path)


def _assert_refused(r, *phrases):
    assert r["assay"]["status"] == "error"
    err = r["assay"]["error"]
    assert err["category"] == "submission"
    for phrase in phrases:
        assert phrase in err["message"], (phrase, err["message"])
    assert r["score"] == 0
    assert r["max_score"] == pytest.approx(2)
    for t in r["tests"]:
        assert t["score"] == 0 and t["verdict"] == "setup_error"


def _nothing_named(name, tmp_path):
    """No file NAME was written where a path-traversal entry would land."""
    for d in ("/", "/tmp", work_base(), os.getcwd(), str(tmp_path.parent),
              os.path.dirname(str(tmp_path.parent))):
        assert not os.path.lexists(os.path.join(d, name)), os.path.join(d, name)
    for dirpath, _, filenames in os.walk(tmp_path):
        assert name not in filenames, os.path.join(dirpath, name)


def test_zip_with_top_folder_is_unwrapped(greet_assignment, tmp_path):
    z = _zip(tmp_path / "project.zip", [("project/hello.py", GOOD_HELLO),
                                        ("project/README.txt", "notes\n"),
                                        ("__MACOSX/project/._hello.py", b"\0\0")])
    r, _ = grade_json(greet_assignment, z)
    assert r["assay"]["status"] == "graded"
    assert r["assay"]["error"] is None
    assert r["score"] == pytest.approx(2)
    assert by_name(r)["greets"]["verdict"] == "passed"


def test_zip_flat(greet_assignment, tmp_path):
    z = _zip(tmp_path / "flat.zip", [("hello.py", GOOD_HELLO)])
    r, _ = grade_json(greet_assignment, z)
    assert r["score"] == pytest.approx(2)


def test_zip_entries_with_permission_bits_only(greet_assignment, tmp_path):
    """Python's ZipFile.writestr(name, data) (and some other zip writers)
    store a Unix mode of 0600 with no file-type bits: a regular file."""
    path = tmp_path / "writestr.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("project/hello.py", GOOD_HELLO)
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("project/hello.py")
        assert info.create_system == 3 and info.external_attr >> 16 == 0o600
    r, _ = grade_json(greet_assignment, str(path))
    assert r["assay"]["error"] is None
    assert r["score"] == pytest.approx(2)


def test_zip_with_dotdot_entry(greet_assignment, tmp_path):
    name = f"evil_{random.randrange(10**9)}.py"
    z = _zip(tmp_path / "dotdot.zip", [("hello.py", GOOD_HELLO), (f"../{name}", "x = 1\n"),
                                       (f"../../../../{name}", "x = 1\n")])
    r, _ = grade_json(greet_assignment, z)
    _assert_refused(r, f"../{name}")
    _nothing_named(name, tmp_path)


def test_zip_with_absolute_entry(greet_assignment, tmp_path):
    name = f"evil_{random.randrange(10**9)}.py"
    target = f"/tmp/{name}"
    info = zipfile.ZipInfo("placeholder")
    info.filename = target   # ZipInfo() strips a leading /; put it back
    z = _zip(tmp_path / "absolute.zip", [("hello.py", GOOD_HELLO), (info, "x = 1\n")])
    with zipfile.ZipFile(z) as check:
        assert check.namelist()[1] == target
    r, _ = grade_json(greet_assignment, z)
    _assert_refused(r, target)
    _nothing_named(name, tmp_path)


def test_zip_with_symlink_entry(greet_assignment, tmp_path):
    info = zipfile.ZipInfo("link.py")
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    z = _zip(tmp_path / "symlink.zip", [("hello.py", GOOD_HELLO), (info, "/etc/shadow")])
    r, _ = grade_json(greet_assignment, z)
    _assert_refused(r, "link.py")


def test_zip_with_symlink_then_write_through_it(greet_assignment, tmp_path):
    """A symlink to a directory outside, then a file 'through' it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    info = zipfile.ZipInfo("sub")
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    z = _zip(tmp_path / "symlink2.zip", [("hello.py", GOOD_HELLO), (info, str(outside)),
                                         ("sub/evil.py", "x = 1\n")])
    r, _ = grade_json(greet_assignment, z)
    _assert_refused(r)
    assert os.listdir(outside) == []


def test_zip_bomb(greet_assignment, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(_regular("hello.py"), GOOD_HELLO)
        with z.open(_regular("zeros.bin"), "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(60):
                f.write(chunk)
    assert path.stat().st_size < 1 << 20
    r, _ = grade_json(greet_assignment, str(path))
    _assert_refused(r)
    msg = r["assay"]["error"]["message"]
    assert "zeros.bin" in msg or "50 MB" in msg, msg
    assert "limit" in msg


def test_zip_bomb_over_the_total_limit(greet_assignment, tmp_path):
    """Four 15 MB entries: each under the per-file limit, 60 MB in all."""
    path = tmp_path / "bomb2.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(_regular("hello.py"), GOOD_HELLO)
        for k in range(4):
            with z.open(_regular(f"zeros{k}.bin"), "w", force_zip64=True) as f:
                chunk = bytes(1 << 20)
                for _ in range(15):
                    f.write(chunk)
    r, _ = grade_json(greet_assignment, str(path))
    _assert_refused(r, "limit")
    msg = r["assay"]["error"]["message"]
    assert "total" in msg and "zeros3.bin" in msg, msg


def test_zip_with_duplicate_entry(greet_assignment, tmp_path):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # zipfile warns about the duplicate name
        z = _zip(tmp_path / "twice.zip", [("hello.py", GOOD_HELLO), ("hello.py", "x = 1\n")])
    r, _ = grade_json(greet_assignment, z)
    _assert_refused(r, "twice.zip")


def test_zip_with_too_many_entries(greet_assignment, tmp_path):
    entries = [("hello.py", GOOD_HELLO)] + [(f"f/{i}.txt", "") for i in range(1000)]
    r, _ = grade_json(greet_assignment, _zip(tmp_path / "many.zip", entries))
    _assert_refused(r, "1001 entries", "1000")


def test_folder_with_a_file_over_the_size_limit(greet_assignment, make_submission):
    sub = make_submission({"hello.py": GOOD_HELLO})
    with open(os.path.join(sub, "video.bin"), "wb") as f:
        f.truncate(30 << 20)   # sparse: no disk used
    r, _ = grade_json(greet_assignment, sub)
    _assert_refused(r, "video.bin", "20 MB")


def test_not_a_zip(greet_assignment, tmp_path):
    path = tmp_path / "broken.zip"
    path.write_bytes(b"this is not a zip archive\n")
    r, _ = grade_json(greet_assignment, str(path))
    _assert_refused(r, "zip")


def test_single_file_submission(greet_assignment, tmp_path):
    path = tmp_path / "hello.py"
    path.write_text(GOOD_HELLO)
    r, _ = grade_json(greet_assignment, str(path))
    assert r["score"] == pytest.approx(2)


# ---- hostile or broken programs ----

def test_non_utf8_output(greet_assignment, make_submission):
    sub = make_submission({"hello.py": 'import sys\nsys.stdout.buffer.write(b"\\xff\\xfe bad \\x80\\n")\n'})
    r, text = grade_json(greet_assignment, sub)
    t = by_name(r)["greets"]
    assert t["verdict"] == "failed"
    assert t["score"] == 0
    assert "The output is wrong" in t["output"]
    assert "\ufffd" in t["output"]
    assert "bad" in t["output"]
    assert "-    1 | Hello, Ada!" in t["output"]


def test_endless_output_is_stopped(make_assignment, make_submission):
    d = make_assignment([dict(GREET_TEST, name="floods")], required_files=["hello.py"])
    sub = make_submission({"hello.py": "while True:\n    print('x' * 1000)\n"})
    r, text = grade_json(d, sub, timeout=60)
    t = by_name(r)["floods"]
    # output_limit, not timeout: the run was stopped at the cap, not at the wall limit
    assert t["verdict"] == "output_limit"
    assert t["score"] == 0
    assert "256 KB" in t["output"]
    assert len(text) < 64 * 1024, "results.json stays small"


def test_endless_stderr_is_stopped(make_assignment, make_submission):
    d = make_assignment([dict(GREET_TEST, name="floods")], required_files=["hello.py"])
    sub = make_submission({"hello.py": "import sys\nwhile True:\n    sys.stderr.write('e' * 1000)\n"})
    r, text = grade_json(d, sub)
    assert by_name(r)["floods"]["verdict"] == "output_limit"
    assert len(text) < 64 * 1024


def _procs_with(marker):
    return [p for p in processes() if marker in p.argv]


def test_children_that_outlive_the_program_are_killed(greet_assignment, make_submission):
    marker = f"3017.{random.randrange(10**6, 10**7)}"
    prog = ("import os, sys\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
            "    os._exit(0)\n"
            "os.waitpid(pid, 0)\n"
            "print('Hello, Ada!')\n")
    r, _ = grade_json(greet_assignment, make_submission({"hello.py": prog}))
    t = by_name(r)["greets"]
    assert (t["verdict"], t["score"]) == ("passed", 2), t["output"]
    left = _procs_with(marker)
    for p in left:
        try:
            os.kill(p.pid, 9)
        except OSError:
            pass
    assert left == [], f"processes outlived the test: {left}"


def test_detached_popen_child_is_killed(greet_assignment, make_submission):
    marker = f"3018.{random.randrange(10**6, 10**7)}"
    prog = ("import subprocess\n"
            f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "print('Hello, Ada!')\n")
    r, _ = grade_json(greet_assignment, make_submission({"hello.py": prog}))
    assert by_name(r)["greets"]["verdict"] == "passed"
    left = _procs_with(marker)
    for p in left:
        try:
            os.kill(p.pid, 9)
        except OSError:
            pass
    assert left == [], f"processes outlived the test: {left}"


def test_empty_submission(greet_assignment, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "sub").mkdir()   # folders alone are still empty
    r, _ = grade_json(greet_assignment, str(empty))
    _assert_refused(r, "empty")


def test_symlinks_in_a_folder_submission_are_left_out(make_assignment, make_submission):
    d = make_assignment([{"name": "links", "kind": "io", "points": 1,
                          "command": "python3 hello.py", "expected_stdout": "False False\n",
                          "compare": "exact"}], required_files=["hello.py"])
    sub = make_submission({"hello.py": "import os\n"
                                       "print(os.path.lexists('data.txt'), os.path.lexists('etc'))\n"})
    os.symlink("/etc/hostname", os.path.join(sub, "data.txt"))
    os.symlink("/etc", os.path.join(sub, "etc"))
    r, _ = grade_json(d, sub)
    t = by_name(r)["links"]
    assert (t["verdict"], t["score"]) == ("passed", 1), t["output"]


def test_required_file_as_a_symlink_is_missing(greet_assignment, tmp_path):
    sub = tmp_path / "linked"
    sub.mkdir()
    (sub / "README.txt").write_text("my work\n")
    real = tmp_path / "real_hello.py"
    real.write_text(GOOD_HELLO)
    os.symlink(str(real), str(sub / "hello.py"))
    r, _ = grade_json(greet_assignment, str(sub))
    _assert_refused(r, "hello.py")


def test_harness_files_in_submission_are_ignored(tmp_path, make_submission):
    with open(os.path.join(example_submission("stats-pytest", "partial"), "stats.py")) as f:
        partial = f.read()
    plain, _ = grade_json(STATS, make_submission({"stats.py": partial}))
    cheat = make_submission({
        "stats.py": partial,
        "conftest.py": (
            "import pytest\n"
            "@pytest.hookimpl(hookwrapper=True)\n"
            "def pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n"
            "    rep = outcome.get_result()\n"
            "    rep.outcome = 'passed'\n"
            "    rep.longrepr = None\n"),
        "tests/conftest.py": "import pytest\npytest.skip('no', allow_module_level=True)\n",
        "tests/test_stats.py": "def test_everything():\n    assert True\n",
        "pytest.ini": "[pytest]\naddopts = -p no:python\n",
    })
    r, _ = grade_json(STATS, cheat)
    assert r["score"] == pytest.approx(plain["score"]) == pytest.approx(8.5)
    assert by_name(r)["unit tests"]["score"] == pytest.approx(7.5)
    warnings = "\n".join(r["assay"]["warnings"])
    assert "conftest.py" in warnings
    assert "tests/conftest.py" in warnings
    assert "tests/test_stats.py" in warnings
    assert "pytest.ini" in warnings
    assert r["assay"]["status"] == "graded"
    assert plain["assay"]["warnings"] == []


READ_SECRETS = ("import os, sys\n"
                "for p in ['tests/many.out', 'many.out', 'tests/secret.out', 'secret.out',\n"
                "          'tests/secret.in', '../tests/many.out']:\n"
                "    try:\n"
                "        sys.stdout.write(open(p).read())\n"
                "        sys.exit(0)\n"
                "    except OSError:\n"
                "        pass\n"
                "found = [os.path.join(d, f) for d, _, fs in os.walk('.') for f in fs]\n"
                "print('NOT FOUND', sorted(found))\n")


def test_expected_output_is_not_in_the_work_dir(make_submission):
    sub = make_submission({"hello.py": READ_SECRETS, "avg.py": "print(1.667)\n"})
    r, _ = grade_json(HELLO, sub)
    t = by_name(r)["many names"]
    # had tests/many.out been readable, the program would have printed it and passed
    assert (t["verdict"], t["score"]) == ("failed", 0)
    assert "many.out" not in t["output"]


def test_io_files_are_not_in_the_work_dir(make_assignment, make_submission):
    d = make_assignment([{"name": "secret", "kind": "io", "points": 1,
                          "command": "python3 hello.py", "stdin_file": "tests/secret.in",
                          "expected_stdout_file": "tests/secret.out", "compare": "exact"}],
                        files={"tests/secret.in": "in\n", "tests/secret.out": "TOP SECRET\n"})
    r, _ = grade_json(d, make_submission({"hello.py": READ_SECRETS, "notes.txt": "mine\n"}))
    t = by_name(r)["secret"]
    assert (t["verdict"], t["score"]) == ("failed", 0)
    assert "+    1 | NOT FOUND ['./hello.py', './notes.txt']" in t["output"]
    assert "-    1 | TOP SECRET" in t["output"]


def test_file_size_hog(make_assignment, make_submission):
    d = make_assignment([{"name": "writes", "kind": "command", "points": 1,
                          "command": "python3 hog.py", "limits": {"file_mb": 1}}])
    prog = ("chunk = b'0' * (1 << 20)\n"
            "with open('big.bin', 'wb') as f:\n"
            "    for _ in range(100):\n"
            "        f.write(chunk)\n")
    r, _ = grade_json(d, make_submission({"hog.py": prog}))
    t = by_name(r)["writes"]
    assert t["verdict"] == "output_limit"
    assert t["score"] == 0
    assert "file larger than 1 MB" in t["output"]


@pytest.mark.skipif(not IS_ROOT, reason="the process limit is per uid: only safe when "
                    "assay runs tests as a uid of their own (as root)")
def test_fork_bomb(make_assignment, make_submission):
    marker = f"forkbomb_{random.randrange(10**9)}.py"
    d = make_assignment([{"name": "bomb", "kind": "command", "points": 1,
                          "command": f"python3 {marker}",
                          "limits": {"processes": 16, "wall_s": 2, "cpu_s": 1}}])
    prog = ("import os\n"
            "while True:\n"
            "    try:\n"
            "        os.fork()\n"
            "    except OSError:\n"
            "        pass\n")
    r, _ = grade_json(d, make_submission({marker: prog}), timeout=60)
    t = by_name(r)["bomb"]
    assert t["verdict"] in ("runtime_error", "timeout", "failed"), t["output"]
    assert t["score"] == 0
    left = [p for p in processes_of(RUN_UID_RANGE) if any(marker in a for a in p.argv)]
    assert left == [], f"fork bomb processes left: {left[:5]}"


def test_sleeping_forever_times_out(make_assignment, make_submission):
    d = make_assignment([dict(GREET_TEST, name="sleeps", limits={"wall_s": 1})],
                        required_files=["hello.py"])
    r, _ = grade_json(d, make_submission({"hello.py": "import time\ntime.sleep(100)\n"}))
    t = by_name(r)["sleeps"]
    assert t["verdict"] == "timeout"
    assert t["score"] == 0
    assert "Stopped after 1 s" in t["output"]


def test_reading_stdin_forever_with_no_input(make_assignment, make_submission):
    """input() with nothing given gets EOF, not a hang."""
    d = make_assignment([{"name": "reads", "kind": "io", "points": 1,
                          "command": "python3 hello.py", "expected_stdout": "x\n"}],
                        required_files=["hello.py"])
    r, _ = grade_json(d, make_submission({"hello.py": "print(input())\n"}))
    t = by_name(r)["reads"]
    assert t["verdict"] == "runtime_error"
    assert "EOFError" in t["output"]
