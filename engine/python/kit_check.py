"""Check your work before you submit it: runs the public tests of an
assignment on your files, the way Assay grades them, and prints the same
table Assay prints for those tests.

Usage:
    python3 check.py [YOUR_FOLDER]      (default: the current folder)

It needs only Python 3 (and pytest, for an assignment with pytest
tests).  Everything it runs comes from kit.json beside it, which
`assay kit` wrote: the public tests, their files under files/, the
required files, and Assay's own pytest and doctest runners.  Hidden
tests are not in the kit: your grade may include tests this does not
run.  Each test runs in a fresh temporary folder holding your files and
that test's files, with the test's time limit.
"""
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RESERVED = {"conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini"}
SHELL_CHARS = set("|&;<>()$`\\\"'*?[]#~=%{}\n")
TAIL_LINES = 12


class Outcome:
    def __init__(self, max_score):
        self.score, self.max_score = 0.0, max_score
        self.verdict, self.feedback, self.wall_s = "failed", "", 0.0


# ---- running a command, as Assay's launcher does ----

def argv_of(command):
    """The command's words, run by /bin/sh only when it uses shell syntax;
    a first word python3 is this interpreter (a student's machine may
    call it otherwise)."""
    if any(c in SHELL_CHARS for c in command):
        if command.startswith("python3 ") and os.name != "nt":
            command = shlex.quote(sys.executable) + command[7:]
        return ["/bin/sh", "-c", command]
    words = shlex.split(command)
    if words and words[0] in ("python3", "python"):
        words[0] = sys.executable
    return words


def run(command, workdir, t, stdin=b""):
    """(exit status or None if the time ran out, stdout, stderr, seconds).
    The environment: this machine's, Assay's variables, then the test's
    "env" and the assignment's, as Assay sets them."""
    limits = t["limits"]
    env = dict(os.environ, HOME=workdir, TMPDIR=workdir, LANG="C.UTF-8", LC_ALL="C.UTF-8",
               PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg", TERM="dumb")
    env.update({k: v for k, v in KIT.get("env", {}).items() if k not in t.get("env", {})})
    env.update(t.get("env", {}))
    started = time.monotonic()
    try:
        p = subprocess.run(argv_of(command), cwd=workdir, input=stdin, capture_output=True,
                           timeout=limits.get("wall_s", 10), env=env)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b"", time.monotonic() - started
    except OSError as e:
        return 127, b"", str(e).encode(), time.monotonic() - started
    return p.returncode, p.stdout, p.stderr, time.monotonic() - started


def text(b):
    return b.decode("utf-8", "replace")


def tail(b, lines=TAIL_LINES):
    return "\n".join(text(b).rstrip("\n").splitlines()[-lines:])


def describe_crash(code, err):
    if code is not None and code >= 0:
        msg = "The program exited with code %d.\n" % code
    else:
        msg = "The program was killed by signal %d.\n" % -code
    return msg + (tail(err) + "\n" if err else "")


def timed_out(limits):
    return ("Stopped after %g s, the time limit: look for an infinite loop, or for input() "
            "reading more lines than are given.\n" % limits.get("wall_s", 10))


# ---- io and command ----

def trim(s):
    lines = [line.rstrip() for line in s.split("\n")]
    out = "\n".join(lines)
    return out.rstrip("\n")


def is_number(tok):
    try:
        v = float(tok)
    except ValueError:
        return None
    return v if v == v and abs(v) != float("inf") else None


def compare_numeric(expected, actual, tol):
    e, a = expected.split(), actual.split()
    for n in range(1, max(len(e), len(a)) + 1):
        if n > len(e) or n > len(a):
            return "expected %s value %d but the output %s" % (
                "a" if n <= len(e) else "no", n, "ended" if n <= len(e) else "has more")
        ev, av = is_number(e[n - 1]), is_number(a[n - 1])
        if ev is not None and av is not None:
            if abs(ev - av) > tol + 1e-9 * max(1, abs(ev), abs(av)):
                return "value %d is %s, expected %s (tolerance %g)" % (n, a[n - 1], e[n - 1], tol)
        elif e[n - 1] != a[n - 1]:
            return 'value %d is "%s", expected "%s"' % (n, a[n - 1], e[n - 1])
    return None


def diff(expected, actual):
    import difflib
    lines = []
    for d in difflib.ndiff(expected.splitlines(), actual.splitlines()):
        if d[:1] in "-+ ":
            lines.append(d[0] + " " + d[2:])
    return "Expected (-) and your output (+):\n" + "\n".join(lines[:40]) + "\n"


def judge_output(t, expected, actual, o):
    mode, tol = t.get("compare", "trimmed"), t.get("tolerance", 1e-6)
    why = None
    if mode == "exact":
        ok = expected == actual
    elif mode == "trimmed":
        ok = trim(expected) == trim(actual)
    elif mode == "contains":
        ok = expected in actual
    elif mode == "regex":
        ok = re.search(expected, actual[:-1] if actual.endswith("\n") else actual,
                       re.MULTILINE) is not None
    else:
        why = compare_numeric(expected, actual, tol)
        ok = why is None
    if ok:
        o.verdict = "passed"
    elif why:
        o.feedback = "The output is wrong: %s.\n" % why
    elif mode in ("contains", "regex"):
        o.feedback = "The output should %s:\n%s\n" % (
            "contain" if mode == "contains" else "match the pattern", expected[:500])
    else:
        o.feedback = "The output is wrong.\n" + diff(expected, actual)


def read_kit_file(rel, binary=False):
    with open(os.path.join(HERE, "files", rel), "rb") as f:
        data = f.read()
    return data if binary else text(data)


def grade_io(t, workdir, o):
    stdin = t["stdin"].encode() if "stdin" in t else \
        read_kit_file(t["stdin_file"], True) if "stdin_file" in t else b""
    key = "expected_output" if "output_file" in t else "expected_stdout"
    expected = t[key] if key in t else read_kit_file(t[key + "_file"])
    if "input_file" in t:   # a file I/O task: the input file in the work directory
        name = t.get("input_name", os.path.basename(t["input_file"]))
        shutil.copyfile(os.path.join(HERE, "files", t["input_file"]), os.path.join(workdir, name))
    code, out, err, o.wall_s = run(t["command"], workdir, t, stdin)
    if code is None:
        o.verdict, o.feedback = "timeout", timed_out(t["limits"])
    elif code != 0 and "exit_code" not in t or code < 0:
        o.verdict, o.feedback = "runtime_error", describe_crash(code, err)
    elif "exit_code" in t and code != t["exit_code"]:
        o.feedback = "The program exited with code %d; expected %d.\n" % (code, t["exit_code"])
    elif "output_file" in t:
        try:
            with open(os.path.join(workdir, t["output_file"]), "rb") as f:
                written = text(f.read())
        except OSError as e:
            o.feedback = ("The program did not write the file %s, where its answer should go "
                          "(%s).\n" % (t["output_file"], e.strerror))
        else:
            judge_output(t, expected, written, o)
            if o.verdict != "passed":
                o.feedback = "In the file %s:\n" % t["output_file"] + o.feedback
    else:
        judge_output(t, expected, text(out), o)
    o.score = o.max_score if o.verdict == "passed" else 0


def grade_command(t, workdir, o):
    code, out, err, o.wall_s = run(t["command"], workdir, t)
    if code is None:
        o.verdict, o.feedback = "timeout", timed_out(t["limits"])
    elif code == 0:
        o.verdict = "passed"
    else:
        o.verdict = "failed" if code > 0 else "runtime_error"
        o.feedback = '"%s" failed.\n' % t["command"] + describe_crash(code, err)
        if not err and out:
            o.feedback += tail(out) + "\n"
    o.score = o.max_score if o.verdict == "passed" else 0


# ---- pytest and doctest: Assay's own runners, scored as Assay scores them ----

def run_runner(name, args, workdir, t):
    os.makedirs(os.path.join(workdir, ".assay"), exist_ok=True)
    with open(os.path.join(workdir, ".assay", name), "w", encoding="utf-8") as f:
        f.write(KIT["runners"][name])
    report = ".assay/%s-report.jsonl" % name.split("_")[0]
    command = "python3 -I .assay/%s %s %s" % (name, report, " ".join(shlex.quote(a) for a in args))
    code, out, err, wall = run(command, workdir, t)
    first = text(out).split("\n", 1)[0]
    if '"unavailable"' in first:
        sys.exit("check.py: this test needs %s, which this Python lacks: %s" % (
            "pytest" if name.startswith("pytest") else "a module",
            json.loads(first).get("reason", "")))
    events = []
    try:
        with open(os.path.join(workdir, report), encoding="utf-8") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue   # a line cut mid-write
                if isinstance(ev, dict):
                    events.append(ev)
    except OSError:
        pass
    return code, err, wall, events


class Cases:
    def __init__(self):
        self.names, self.status, self.memory = [], {}, False
        self.leave_out_skipped = False

    def add(self, name):
        if name not in self.status:
            self.names.append(name)
            self.status[name] = None

    def set(self, name, outcome, message, memory=False):
        self.add(name)
        self.status[name] = (outcome, message or "")
        self.memory |= bool(memory)


def score_cases(cases, code, per, all_or_nothing, t, o):
    limited = code is None
    if limited:
        o.verdict, o.feedback = "timeout", timed_out(t["limits"])
    elif cases.memory:
        limited = True
        o.verdict = "memory_limit"
        o.feedback = ("Ran out of memory (the limit is %d MB): look for a list or string that "
                      "keeps growing.\n" % t["limits"].get("memory_mb", 256))
    unfinished = ("not finished: the run was stopped at the time limit" if code is None
                  else "not finished: the test run ended before this test")
    passed, shown, previous, failures, left_out = 0, 0, None, "", 0
    for name in cases.names:
        s = cases.status[name]
        outcome, message = s if s else (None, unfinished)
        if cases.leave_out_skipped and outcome == "skipped":
            left_out += 1   # counts for nothing: "count_skipped": false
            continue
        ok = outcome == "passed"
        passed += ok
        if not ok:
            shown += 1
            if shown <= 10:
                again = previous is not None and previous == message
                failures += "\n✗ %s\n%s\n" % (name, "(the same error as above)" if again
                                             else message)
                previous = message
    if shown > 10:
        failures += "\n[... %d more failures not shown]\n" % (shown - 10)
    n = len(cases.names) - left_out
    if all_or_nothing:
        o.max_score = t["points"]
        o.score = t["points"] if passed == n and (n > 0 or left_out > 0) else 0
    else:
        o.max_score, o.score = per * n, per * passed
    if not limited:
        o.verdict = "passed" if passed == n and (n > 0 or left_out > 0) else "failed"
    o.feedback += "%d of %d passed.\n" % (passed, n)
    if left_out:
        o.feedback += "%d skipped, left out of the points.\n" % left_out
    o.feedback += failures


def grade_pytest(t, workdir, o):
    code, err, o.wall_s, events = run_runner("pytest_runner.py", t["files"], workdir, t)
    cases, planned = Cases(), {}
    for ev in events:
        kind = ev.get("event")
        if kind == "planned" and ev.get("tests") is not None:
            planned[ev.get("file", "?")] = ev["tests"]
        elif kind == "collected":
            cases.add(ev.get("nodeid", "?"))
        elif kind == "result":
            cases.set(ev.get("nodeid", "?"), ev.get("outcome", "failed"), ev.get("message", ""),
                      ev.get("memory"))
        elif kind == "collect_error":
            f = ev.get("file", "?")
            msg = "%s could not be imported, so none of its tests ran:\n%s" % (
                f, ev.get("message", ""))
            for name in ev.get("tests", []):
                cases.set("%s::%s" % (f, name), "failed", msg, ev.get("memory"))
    for f, names in planned.items():
        if not any(n.startswith(f + "::") for n in cases.names):
            for name in names:
                cases.add("%s::%s" % (f, name))
    n = len(cases.names)
    if n == 0:
        if code is None:
            o.verdict, o.feedback = "timeout", timed_out(t["limits"])
        else:
            o.verdict = "runtime_error"
            o.feedback = ("pytest collected no tests from the instructor's files.\n" +
                          describe_crash(code, err))
        return
    cases.leave_out_skipped = t.get("count_skipped") is False
    counted = n - (sum(1 for s in cases.status.values() if s and s[0] == "skipped")
                   if cases.leave_out_skipped else 0)
    per = t["points_per_test"] if "points_per_test" in t else \
        t["points"] / counted if counted else 0
    score_cases(cases, code, per, False, t, o)


def grade_doctest(t, workdir, o):
    target = t.get("module") or t.get("file")
    mode = "module" if "module" in t else "file"
    code, err, o.wall_s, events = run_runner("doctest_runner.py", [mode, target], workdir, t)
    cases, import_error = Cases(), None
    for ev in events:
        kind = ev.get("event")
        if kind == "collected":
            cases.add(ev.get("name", "?"))
        elif kind == "result":
            cases.set(ev.get("name", "?"), ev.get("outcome", "failed"), ev.get("message", ""),
                      ev.get("memory"))
        elif kind == "import_error":
            import_error = ev
    n = len(cases.names)
    if import_error is not None:
        if code is None:
            o.verdict, o.feedback = "timeout", timed_out(t["limits"])
            return
        o.verdict = "memory_limit" if import_error.get("memory") else "runtime_error"
        o.feedback = "%s could not be imported, so none of its examples ran:\n%s\n" % (
            t.get("module", "the module"), import_error.get("message", ""))
    elif n == 0:
        if code is None:
            o.verdict, o.feedback = "timeout", timed_out(t["limits"])
        elif code == 0 and "module" in t:
            o.feedback = ('No doctest examples were found in %s: add examples such as '
                          '">>> f(2)" followed by the expected result to your docstrings.\n'
                          % t["module"])
        else:
            o.verdict = "runtime_error"
            o.feedback = "The doctest run found no examples.\n" + describe_crash(code, err)
    else:
        score_cases(cases, code, t["points"] / n, t.get("scoring") == "all_or_nothing", t, o)


GRADERS = {"io": grade_io, "command": grade_command, "pytest": grade_pytest,
           "doctest": grade_doctest}


# ---- the submission and the table ----

def submission_files(top):
    """Relative paths of the files below TOP (this kit's own folder left
    out, if it is inside)."""
    found = []
    for d, dirs, files in os.walk(top):
        dirs[:] = sorted(x for x in dirs if os.path.abspath(os.path.join(d, x)) != HERE)
        for name in sorted(files):
            path = os.path.join(d, name)
            if os.path.isfile(path) and not os.path.islink(path):
                found.append(os.path.relpath(path, top))
    return found


def matches(pattern, rel):
    """fnmatch with FNM_PATHNAME | FNM_PERIOD, as Assay matches a
    required_files pattern: "*" stays within a folder, and a leading dot
    is matched only by a dot."""
    import fnmatch
    parts, names = pattern.split("/"), rel.split("/")
    return len(parts) == len(names) and all(
        fnmatch.fnmatchcase(n, p) and (not n.startswith(".") or p.startswith("."))
        for p, n in zip(parts, names))


def has_required(files, req):
    if any(c in req for c in "*?["):
        return any(matches(req, f) for f in files)
    return req in files


def stage(path):
    """The folder holding the student's files (a single top folder is
    unwrapped, as Assay does) and their relative names."""
    if os.path.isfile(path):
        return os.path.dirname(os.path.abspath(path)), [os.path.basename(path)]
    files = submission_files(path)
    required = KIT["required_files"]
    entries = [e for e in os.listdir(path) if os.path.abspath(os.path.join(path, e)) != HERE]
    if any(not has_required(files, r) for r in required) and len(entries) == 1 and \
            os.path.isdir(os.path.join(path, entries[0])):
        path = os.path.join(path, entries[0])
        files = submission_files(path)
    return path, files


def workdir_for(t, top, files, base, warnings):
    workdir = tempfile.mkdtemp(prefix="test-", dir=base)
    own = list(t.get("support_files", [])) + list(t.get("files", []))
    if t["kind"] == "doctest" and "file" in t:
        own.append(t["file"])
    for rel in own:
        dst = os.path.join(workdir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(HERE, "files", rel), dst)
    for rel in files:
        dst = os.path.join(workdir, rel)
        base_name = os.path.basename(rel)
        if base_name in RESERVED or rel.startswith(".assay/") or os.path.exists(dst):
            warnings.append("Your file %s was not used: %s." % (
                rel, "a file of the same name comes with the assignment's tests"
                if os.path.exists(dst) else "that name is reserved for the test harness"))
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(top, rel), dst)
    return workdir


def print_table(rows, error, warnings):
    print(KIT["title"])
    print("  %-3s %-28s %13s  %-14s %8s" % ("#", "Test", "Points", "Verdict", "Time"))
    for i, (t, o) in enumerate(rows, 1):
        points = "%g / %g" % (o.score, o.max_score)
        print("  %-3d %-28.28s %13s  %-14s %6.2f s" % (i, t["name"], points, o.verdict, o.wall_s))
    print("Total: %g / %g" % (sum(o.score for _, o in rows), sum(o.max_score for _, o in rows)))
    if error:
        print("Error (submission): %s" % error)
    for w in dict.fromkeys(warnings):
        print("Warning: %s" % w)
    for i, (t, o) in enumerate(rows, 1):
        if o.verdict != "passed" and o.feedback:
            print("\n%d. %s:" % (i, t["name"]))
            for line in o.feedback.rstrip("\n").split("\n"):
                print("    " + line)
    if KIT["left_out"]:
        print("\nNot in this kit (Assay runs them when you submit):")
        for x in KIT["left_out"]:
            print("  %s: %s" % (x["name"], x["reason"]))
    print("\nHidden tests, if the assignment has any, are not in this kit.")


def main():
    top = sys.argv[1] if len(sys.argv) > 1 else "."
    if not os.path.exists(top):
        sys.exit("check.py: %s: no such file or folder" % top)
    top, files = stage(top)
    missing = [r for r in KIT["required_files"] if not has_required(files, r)]
    rows, warnings, error = [], [], None
    if not files:
        error = ("The submission is empty: it holds no files. Hand in the files the "
                 "assignment asks for.")
    elif missing:
        error = ("The submission has no file %s %s, which the assignment requires (it "
                 "holds: %s). File names are case-sensitive; rename or add the file and "
                 "submit again." % ("matching" if any(c in missing[0] for c in "*?[")
                                    else "named", missing[0], ", ".join(files)[:300]))
    base, stopped_by = tempfile.mkdtemp(prefix="assay-kit-"), None
    try:
        for t in KIT["tests"]:
            o = Outcome(t["planned_points"])
            if error:
                o.verdict = "setup_error"
                o.feedback = "Not run: the submission is not complete (see the error above).\n"
            elif stopped_by:
                o.verdict = "setup_error"
                o.feedback = ('Not run: the test "%s" did not pass, and the tests after it run '
                              'only when it does (see its feedback above).\n' % stopped_by)
            else:
                workdir = workdir_for(t, top, files, base, warnings)
                GRADERS[t["kind"]](t, workdir, o)
                o.feedback = o.feedback.replace(workdir + os.sep, "")   # "hello.py", as Assay says
                shutil.rmtree(workdir, ignore_errors=True)
                if t.get("stop_if_failed") and o.verdict != "passed":
                    stopped_by = t["name"]   # a check step: the later tests would repeat it
            rows.append((t, o))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print_table(rows, error, warnings)


with open(os.path.join(HERE, "kit.json"), encoding="utf-8") as _f:
    KIT = json.load(_f)

if __name__ == "__main__":
    main()
