"""Assay's pytest runner: runs the instructor's test files and writes one
JSON line per event to REPORT, so results survive a run cut short.

Usage (inside the test's work directory):
    python3 -I .assay/pytest_runner.py REPORT FILE...

-I keeps the work directory off sys.path until pytest itself is imported,
so a student's pytest.py cannot stand in for it.  "-c /dev/null" keeps a
student's pytest.ini/setup.cfg/pyproject.toml from adding options.  The
first line of its standard output is {"event": "ready"} (pytest is
loaded; no code of the submission has run yet) or {"event":
"unavailable", "reason"}.
"""
import ast
import json
import os
import sys

REPORT, FILES = sys.argv[1], sys.argv[2:]
_out = open(REPORT, "w", encoding="utf-8")


def emit(**event):
    _out.write(json.dumps(event) + "\n")
    _out.flush()


# "ready", on standard output, before any of the submission's code can
# run; without pytest the worker lacks what the test needs, which Assay
# reports as its own failure
try:
    import pytest
except ImportError as exc:
    print(json.dumps({"event": "unavailable", "reason": "%s: %s" % (type(exc).__name__, exc)}),
          flush=True)
    sys.exit(3)
print(json.dumps({"event": "ready"}), flush=True)
WORKDIR = os.getcwd()
sys.path.insert(0, WORKDIR)
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"


def tidy(text, limit=1500):
    """Drops the work directory from paths and keeps the end of long text."""
    text = text.replace(WORKDIR + os.sep, "").rstrip()
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def without_internal_frames(text):
    """Keeps the frames of the test and submission files of a pytest
    traceback, dropping pytest's and importlib's."""
    out, keep = [], True
    for line in text.splitlines():
        if line.strip() == "???":
            continue
        if not line.startswith((" ", "E ")):
            keep = not line.startswith(("/", "<frozen"))
        if keep:
            out.append(line)
    return "\n".join(out)


def _parametrize_count(decorators):
    """How many cases @pytest.mark.parametrize(..., [literal list]) makes."""
    count = 1
    for d in decorators:
        if (isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr == "parametrize" and len(d.args) >= 2
                and isinstance(d.args[1], (ast.List, ast.Tuple))):
            count *= max(1, len(d.args[1].elts))
    return count


def _expand(name, count):
    return [name] if count == 1 else ["%s[%d]" % (name, i) for i in range(count)]


def _is_testcase(node, classes, seen=()):
    """Whether class NODE derives from unittest.TestCase (named TestCase or
    unittest.TestCase, or through a class of the same file): pytest
    collects those whatever their names."""
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", None)
        if name in ("TestCase", "IsolatedAsyncioTestCase"):
            return True
        local = classes.get(name)
        if local is not None and local is not node and name not in seen and \
                _is_testcase(local, classes, seen + (name,)):
            return True
    return False


def _methods(node, classes, seen=()):
    """The test methods of class NODE with their parametrize counts,
    inherited ones from classes of the same file included."""
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    found = {}
    for base in node.bases:
        local = classes.get(getattr(base, "id", None))
        if local is not None and local is not node and local.name not in seen:
            found.update(_methods(local, classes, seen + (node.name,)))
    for sub in node.body:
        if isinstance(sub, funcs) and sub.name.startswith("test"):
            found[sub.name] = _parametrize_count(sub.decorator_list)
    return found


def _has_init(node):
    return any(isinstance(sub, ast.FunctionDef) and sub.name == "__init__" for sub in node.body)


def test_names(path):
    """The tests a file holds as pytest would collect them, from its
    syntax tree (without running it): what counts when the file cannot be
    imported or collection never ends, so that the maximum does not
    depend on the kind of mistake.  Functions named test*, methods test*
    of classes named Test* (without __init__) and of unittest.TestCase
    subclasses of any name, parametrized ones once per case.  A file
    with no tests (a helper module) holds none; one that is not Python
    counts as one test, for it surely held some."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return [os.path.basename(path)]
    names = []
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, funcs) and node.name.startswith("test"):
            names += _expand(node.name, _parametrize_count(node.decorator_list))
        elif isinstance(node, ast.ClassDef):
            unit = _is_testcase(node, classes)
            if not unit and not (node.name.startswith("Test") and not _has_init(node)):
                continue
            # unittest ignores pytest's parametrize marks on methods
            outer = 1 if unit else _parametrize_count(node.decorator_list)
            for name, count in _methods(node, classes).items():
                names += _expand(node.name + "::" + name, outer * (1 if unit else count))
    return names


def failure_message(report):
    """The assertion lines ("E ...") and location, like pytest's summary."""
    text = report.longreprtext or ""
    lines = [line for line in text.splitlines() if line.startswith("E ")]
    crash = getattr(getattr(report.longrepr, "reprcrash", None), "path", None)
    where = ""
    if crash:
        lineno = report.longrepr.reprcrash.lineno
        where = "\n(at %s:%d)" % (crash, lineno)
    return tidy("\n".join(lines) + where if lines else text)


class Reporter:
    def __init__(self):
        self.state = {}

    def pytest_collectreport(self, report):
        if report.failed:
            text = report.longreprtext or ""
            emit(event="collect_error", file=os.path.relpath(str(report.fspath), WORKDIR),
                 message=tidy(without_internal_frames(text)), memory="MemoryError" in text,
                 tests=test_names(str(report.fspath)))

    def pytest_collection_finish(self, session):
        for item in session.items:
            emit(event="collected", nodeid=item.nodeid)

    def pytest_runtest_logreport(self, report):
        st = self.state.setdefault(report.nodeid, {"outcome": "passed", "message": ""})
        if report.failed and st["outcome"] != "failed":
            st["outcome"] = "failed"
            st["message"] = failure_message(report)
            st["memory"] = "MemoryError" in (report.longreprtext or "")
        elif report.skipped and st["outcome"] == "passed":
            st["outcome"] = "skipped"
            st["message"] = "skipped: " + tidy(str(report.longrepr))
        if report.when == "call":
            st["duration"] = report.duration
        if report.when == "teardown":
            emit(event="result", nodeid=report.nodeid, **self.state.pop(report.nodeid))


for path in FILES:
    emit(event="planned", file=path, tests=test_names(path))
code = pytest.main(["-q", "-c", os.devnull, "--rootdir", WORKDIR, "-p", "no:cacheprovider",
                    "--continue-on-collection-errors", "--tb=short",
                    "-o", "console_output_style=classic"] + FILES,
                   plugins=[Reporter()])
emit(event="finished", exitstatus=int(code))
