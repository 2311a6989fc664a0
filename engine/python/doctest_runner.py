"""Assay's doctest runner: runs the doctest examples of a submission's
module, or of an instructor's file against the submission, and writes one
JSON line per event to REPORT.

Usage (inside the test's work directory):
    python3 -I .assay/doctest_runner.py REPORT module fizz.py
    python3 -I .assay/doctest_runner.py REPORT file tests/examples.txt

The first line of its standard output is {"event": "ready"}: the runner
is loaded, and no code of the submission has run yet.
"""
import ast
import doctest
import importlib
import json
import os
import sys
import traceback

REPORT, MODE, TARGET = sys.argv[1:4]
WORKDIR = os.getcwd()
_out = open(REPORT, "w", encoding="utf-8")


def emit(**event):
    _out.write(json.dumps(event) + "\n")
    _out.flush()


print(json.dumps({"event": "ready"}), flush=True)   # before any of the submission's code runs
sys.path.insert(0, WORKDIR)


def tidy(text, limit=1500):
    text = text.replace(WORKDIR + os.sep, "").rstrip()
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def student_traceback(exc):
    """The traceback of EXC with only the submission's own frames."""
    helpers = os.path.join(WORKDIR, ".assay") + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(WORKDIR + os.sep) and not f.filename.startswith(helpers)]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) \
        if frames else ""
    return tidy(text + "".join(traceback.format_exception_only(type(exc), exc)))


def example_name(test, example):
    first = example.source.strip().splitlines()[0] if example.source.strip() else ""
    line = (test.lineno or 0) + example.lineno + 1
    return "%s, line %d: >>> %s" % (test.name, line, first)


def static_example_count(path):
    """How many examples the module's docstrings hold, without importing it."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return 0
    parser, count = doctest.DocTestParser(), 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                count += len(parser.get_examples(doc))
    return count


class Recorder(doctest.DocTestRunner):
    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        emit(event="result", name=example_name(test, example), outcome="passed")

    def report_failure(self, out, test, example, got):
        emit(event="result", name=example_name(test, example), outcome="failed",
             message=tidy("Expected:\n%sGot:\n%s" % (example.want or "(nothing)\n",
                                                     got or "(nothing)\n")))

    def report_unexpected_exception(self, out, test, example, exc_info):
        emit(event="result", name=example_name(test, example), outcome="failed",
             message="Raised an exception:\n" + student_traceback(exc_info[1]),
             memory=issubclass(exc_info[0], MemoryError))


def module_tests(path):
    if not os.path.isfile(path):
        emit(event="import_error", message="%s is not in the submission" % path, examples=0)
        sys.exit(1)
    name = path[:-3].replace(os.sep, ".")
    try:
        module = importlib.import_module(name)
    except BaseException as e:  # the student's module: anything can happen
        emit(event="import_error", message=student_traceback(e),
             memory=isinstance(e, MemoryError), examples=static_example_count(path))
        sys.exit(1)
    tests = doctest.DocTestFinder().find(module)
    return sorted(tests, key=lambda t: (t.lineno or 0, t.name))


def file_tests(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    parser = doctest.DocTestParser()
    return [parser.get_doctest(text, {"__name__": "__main__"}, os.path.basename(path), path, 0)]


tests = [t for t in (module_tests(TARGET) if MODE == "module" else file_tests(TARGET))
         if t.examples]
for test in tests:
    for example in test.examples:
        emit(event="collected", name=example_name(test, example))
runner = Recorder(verbose=False)
for test in tests:
    runner.run(test, out=lambda s: None, clear_globs=True)
emit(event="finished")
