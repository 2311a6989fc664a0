"""Assay's property runner: calls a submission's function and the
instructor's reference solution on the same generated inputs and
compares what they return.

Usage (inside the test's work directory, run by the property kind):
    python3 -I .assay/property_runner.py < PLAN

PLAN, on standard input, is JSON written by Assay: {"module",
"function", "reference", "reference_name", "arguments" (Assay's JSON
description of the arguments) or "strategies" (the source of a Python
file defining `arguments`, a list of Hypothesis strategies, one per
argument), "examples", "seed", "compare", "tolerance", "comparator" (the
source of a file defining compare(expected, actual, args)), "wall_s",
"cpu_s", "memory_mb"}.  One JSON line per event goes to standard output,
the first {"event": "ready"} (or "unavailable" when Hypothesis is
missing), then "reference_error", "reference_limit" or "reference_done",
then "import_error", "limit" or "result", and "finished".

Two processes, as in the notebook runner.  The supervisor (this
script's main) never runs student code: it makes itself non-dumpable,
reads the plan, replaces its standard input with /dev/null, generates the
inputs with Hypothesis from a fixed seed and calls the reference on each
(the reference's part: its own time limits, and any exception it raises
is the assignment's error, reported before any student code runs).  Then
it starts an executor (this script with --execute: a fresh interpreter
holding nothing of the plan) that imports the submission and calls its
function on each input sent over a pipe, returning the result as plain
data (never an object the supervisor would call).  The supervisor
compares.  On a mismatch it lets Hypothesis shrink the failing input
from the same seed, so the student sees the smallest failing input it
found, with the expected and the actual value.
"""
import json
import math
import os
import resource
import select
import signal
import subprocess
import sys
import time
import traceback

REPLY_LIMIT = 1 << 20      # bytes of one reply from the executor
SHOWN_LIMIT = 600          # characters of a value shown to the student
SHRINK_EXAMPLES = 400      # Hypothesis's budget for finding and shrinking a failure


# ---- values as plain data (both processes) ----

def encode(v, depth=0):
    """V as JSON data a process that never runs the other's code can
    rebuild: lists are lists, everything else not JSON is a tagged object."""
    if depth > 50:
        raise ValueError("the value is nested more than 50 levels deep")
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return v if type(v) is int else {"int": int(v)}
    if isinstance(v, float):
        return v if math.isfinite(v) else {"float": repr(v)}
    if type(v) is list:
        return [encode(x, depth + 1) for x in v]
    if type(v) is tuple:
        return {"tuple": [encode(x, depth + 1) for x in v]}
    if type(v) in (set, frozenset):
        return {type(v).__name__: [encode(x, depth + 1) for x in v]}
    if type(v) is dict:
        return {"dict": [[encode(k, depth + 1), encode(x, depth + 1)] for k, x in v.items()]}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    return {"object": type(v).__name__, "repr": repr(v)[:SHOWN_LIMIT]}


class Opaque:
    """A value of a class of its own, known by its type's name and repr."""

    def __init__(self, name, text):
        self.name, self.text = name, text

    def __eq__(self, other):
        return isinstance(other, Opaque) and (self.name, self.text) == (other.name, other.text)

    def __hash__(self):
        return hash((self.name, self.text))

    def __repr__(self):
        return self.text


def decode(d):
    if isinstance(d, list):
        return [decode(x) for x in d]
    if not isinstance(d, dict):
        return d
    if "int" in d:
        return int(d["int"])
    if "float" in d:
        return float(d["float"])
    if "tuple" in d:
        return tuple(decode(x) for x in d["tuple"])
    if "set" in d:
        return set(decode(x) for x in d["set"])
    if "frozenset" in d:
        return frozenset(decode(x) for x in d["frozenset"])
    if "dict" in d:
        return {decode(k): decode(x) for k, x in d["dict"]}
    if "bytes" in d:
        return bytes.fromhex(d["bytes"])
    return Opaque(str(d.get("object", "?")), str(d.get("repr", "?")))


def shown(v):
    text = repr(v)
    return text if len(text) <= SHOWN_LIMIT else text[:SHOWN_LIMIT] + " [...]"


def shown_call(function, args):
    return "%s(%s)" % (function, ", ".join(shown(a) for a in args))


# ---- the executor (runs student code) ----

def student_traceback(exc, workdir):
    """EXC's traceback with only the submission's own frames."""
    helpers = os.path.join(workdir, ".assay") + os.sep
    frames = [f for f in traceback.extract_tb(exc.__traceback__)
              if f.filename.startswith(workdir + os.sep) and not f.filename.startswith(helpers)]
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) \
        if frames else ""
    text = (text + "".join(traceback.format_exception_only(type(exc), exc)))
    text = text.replace(workdir + os.sep, "").rstrip()
    return text if len(text) <= 1500 else "[...]\n" + text[-1500:]


def executor_main(module, function, cmd_fd, reply_fd):
    workdir = os.getcwd()
    replies = os.fdopen(reply_fd, "w", encoding="utf-8")
    commands = os.fdopen(cmd_fd, "r", encoding="utf-8")

    def reply(**r):
        replies.write(json.dumps(r) + "\n")
        replies.flush()

    sys.path.insert(0, workdir)
    try:
        import importlib
        loaded = importlib.import_module(module[:-3].replace("/", "."))
        target = getattr(loaded, function, None)
        if target is None:
            reply(event="import_error", message="%s defines no function named %s: check its "
                  "name and spelling (names are case-sensitive)." % (module, function))
            return
        if not callable(target):
            raise TypeError("%s in %s is not a function" % (function, module))
    except BaseException as e:  # the student's module: anything can happen
        reply(event="import_error", message=student_traceback(e, workdir),
              missing=isinstance(e, (ModuleNotFoundError, AttributeError)))
        return
    reply(event="ready")
    for line in commands:
        args = decode(json.loads(line))
        try:
            value = target(*args)
        except BaseException as e:  # the student's function: anything can happen
            reply(raised="%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__,
                  traceback=student_traceback(e, workdir), memory=isinstance(e, MemoryError))
            continue
        try:
            reply(value=encode(value))
        except BaseException as e:
            reply(raised="the function returned a value Assay could not read (%s)" % e,
                  traceback="", memory=isinstance(e, MemoryError))


# ---- the supervisor (never runs student code) ----

def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def make_undumpable():
    """Keeps the executor (same uid) out of /proc/<supervisor>/fd, mem
    and environ, and from ptrace-ing the supervisor: it can neither read
    the reference nor write the report."""
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:   # PR_SET_DUMPABLE, 0
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def read_plan():
    data = sys.stdin.buffer.read()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return json.loads(data)


def load_source(name, source, filename):
    """A module made from SOURCE, with FILENAME in its tracebacks; it
    lives only in the supervisor's memory."""
    import linecache
    import types
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(compile(source, filename, "exec"), module.__dict__)
    return module


def strategy_of(d):
    """A Hypothesis strategy from Assay's JSON description (checked by the
    property kind before the run)."""
    from hypothesis import strategies as st
    kind = d["type"]
    if kind == "int":
        return st.integers(d.get("min", -1000), d.get("max", 1000))
    if kind == "float":
        return st.floats(d.get("min", -1e6), d.get("max", 1e6), allow_nan=False,
                         allow_infinity=False)
    if kind == "bool":
        return st.booleans()
    if kind == "str":
        alphabet = d.get("alphabet")
        return st.text(alphabet=alphabet if alphabet else st.characters(
            min_codepoint=32, max_codepoint=126), min_size=d.get("min_size", 0),
            max_size=d.get("max_size", 20))
    if kind == "list":
        return st.lists(strategy_of(d["of"]), min_size=d.get("min_size", 0),
                        max_size=d.get("max_size", 20), unique=d.get("unique", False))
    if kind == "tuple":
        return st.tuples(*[strategy_of(x) for x in d["of"]])
    if kind == "dict":
        return st.dictionaries(strategy_of(d["keys"]), strategy_of(d["values"]),
                               min_size=d.get("min_size", 0), max_size=d.get("max_size", 20))
    if kind == "choice":
        return st.sampled_from(d["values"])
    raise ValueError("unknown argument type %r" % kind)


def argument_strategies(plan):
    if "strategies" in plan:
        module = load_source("assay_strategies", plan["strategies"], plan["strategies_name"])
        strategies = getattr(module, "arguments", None)
        if not isinstance(strategies, (list, tuple)):
            raise TypeError("%s must define `arguments`, a list of Hypothesis strategies "
                            "(one per argument of the function)" % plan["strategies_name"])
        return list(strategies)
    return [strategy_of(d) for d in plan["arguments"]]


def run_given(plan, strategies, test, examples, phases):
    """Runs TEST (a function of the arguments) under Hypothesis with the
    plan's fixed seed: every student gets the same inputs."""
    from hypothesis import HealthCheck, Verbosity, given, seed, settings
    from hypothesis import strategies as st
    from hypothesis.reporting import with_reporter

    def one(args):
        test(*args)

    wrapped = seed(plan.get("seed", 0))(settings(
        database=None, max_examples=examples, deadline=None, derandomize=False,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet, phases=phases,
        report_multiple_bugs=False, print_blob=False)(given(st.tuples(*strategies))(one)))
    with with_reporter(lambda message: None):
        wrapped()


class ReferenceFailed(Exception):
    pass


def reference_traceback(exc, filename):
    """EXC's traceback from the instructor's file on (the runner's own
    frames say nothing to the instructor)."""
    frames = traceback.extract_tb(exc.__traceback__)
    mine = [i for i, f in enumerate(frames) if f.filename == filename]
    frames = frames[mine[0]:] if mine else frames
    text = "Traceback (most recent call last):\n" + "".join(traceback.format_list(frames)) + \
        "".join(traceback.format_exception_only(type(exc), exc))
    return text.rstrip()[-1500:]


class ReferenceTooCostly(Exception):
    pass


def reference_phase(plan, reference, strategies):
    """Every generated input with the reference's result; None after an
    event saying why the reference could not be judged against.  The
    reference's part has the test's limits, checked after every call so
    that it is stopped before the run's own limits."""
    import copy
    from hypothesis import Phase
    inputs, started, cpu0 = [], time.monotonic(), time.process_time()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def used():
        rss = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
        return time.monotonic() - started, time.process_time() - cpu0, rss

    def record(*args):
        try:
            value = reference(*copy.deepcopy(args))
        except Exception as e:
            raise ReferenceFailed("%s raised %s for %s:\n%s" % (
                plan["reference_name"], type(e).__name__, shown_call(plan["function"], args),
                reference_traceback(e, plan["reference_name"])))
        inputs.append((encode(list(args)), encode(value)))
        wall, cpu, rss = used()
        if wall > plan["wall_s"] or cpu > plan["cpu_s"] or rss > plan["memory_mb"]:
            raise ReferenceTooCostly()

    try:
        run_given(plan, strategies, record, plan["examples"], [Phase.generate])
    except ReferenceFailed as e:
        emit(event="reference_error", message=str(e))
        return None
    except ReferenceTooCostly:
        wall, cpu, rss = used()
        emit(event="reference_limit", message="the reference solution went past the test's "
             "limits (%g s, %g s of CPU time, %g MB) after %d of the %d generated inputs "
             "(%.2f s, %.2f s of CPU time, %.0f MB more memory): raise the test's limits or "
             "generate fewer or smaller inputs" % (
                 plan["wall_s"], plan["cpu_s"], plan["memory_mb"], len(inputs),
                 plan["examples"], wall, cpu, rss))
        return None
    except Exception as e:   # Hypothesis refusing the strategies, say: the instructor's to fix
        emit(event="reference_error", message="the inputs could not be generated: %s: %s" % (
            type(e).__name__, str(e)[:1000]))
        return None
    emit(event="reference_done", inputs=len(inputs), cpu_s=used()[1])
    return inputs


class Executor:
    """The student's process: a fresh interpreter under the test's CPU and
    memory limits."""

    def __init__(self, plan):
        cmd_r, self.cmd_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        # the interpreter's own start-up is not the student's memory
        cpu, mem = int(math.ceil(plan["cpu_s"])), (int(plan["memory_mb"]) + 64) << 20

        def limit():
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            resource.setrlimit(resource.RLIMIT_AS, (mem, mem))

        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-B", os.path.relpath(os.path.abspath(__file__)), "--execute",
             plan["module"], plan["function"], str(cmd_r), str(reply_w)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(cmd_r, reply_w), start_new_session=True, preexec_fn=limit)
        os.close(cmd_r)
        os.close(reply_w)
        self.pending = b""

    def reply(self, deadline):
        """The next reply as a dict, or "timeout", "cpu" or "died"."""
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.reply_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.reply_r, 1 << 16)
            if not chunk:
                return "cpu" if self.proc.wait() == -signal.SIGXCPU else "died"
            self.pending += chunk
            if len(self.pending) > REPLY_LIMIT:
                return "died"
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return "died"
        return reply if isinstance(reply, dict) else "died"

    def call(self, encoded_args, deadline):
        try:
            os.write(self.cmd_w, (json.dumps(encoded_args) + "\n").encode("utf-8"))
        except OSError:
            return "died"
        return self.reply(deadline)

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        os.close(self.cmd_w)
        os.close(self.reply_r)


def equal(a, b, tolerance):
    if isinstance(a, float) or isinstance(b, float):
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
                not isinstance(a, bool) and not isinstance(b, bool):
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) and math.isnan(b)
            return math.isclose(a, b, rel_tol=tolerance, abs_tol=tolerance)
        return False
    if type(a) is not type(b) and not (isinstance(a, int) and isinstance(b, int)):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(equal(x, y, tolerance) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k], tolerance) for k in a)
    return a == b


def make_judge(plan):
    """judge(expected, actual, args) -> True when ACTUAL is right."""
    how, tolerance = plan.get("compare", "equal"), plan.get("tolerance", 0.0)
    if how == "approx":
        return lambda e, a, args: equal(e, a, tolerance)
    if how == "unordered":
        def unordered(e, a, args):
            if not isinstance(a, (list, tuple, set, frozenset)):
                return False
            return equal(sorted(e, key=repr), sorted(a, key=repr), tolerance)
        return unordered
    if how == "custom":
        module = load_source("assay_comparator", plan["comparator"], plan["comparator_name"])
        return lambda e, a, args: bool(module.compare(e, a, args))
    return lambda e, a, args: equal(e, a, 0.0)


class Verdict(Exception):
    """How one call of the student's function went wrong."""

    def __init__(self, kind, args, expected=None, actual=None, raised=None, traceback=""):
        super().__init__(kind)
        self.kind, self.call_args, self.expected = kind, args, expected
        self.actual, self.raised, self.tb = actual, raised, traceback


def judge_reply(plan, judge, args, expected, reply):
    """None if REPLY is right for ARGS, else the Verdict."""
    if reply in ("timeout", "cpu"):
        return Verdict("timeout", args, expected)
    if reply == "died":
        return Verdict("died", args, expected)
    if reply.get("memory"):
        return Verdict("memory", args, expected)
    if "raised" in reply:
        return Verdict("raised", args, expected, raised=str(reply["raised"]),
                       traceback=str(reply.get("traceback", "")))
    try:
        actual = decode(reply.get("value"))
    except Exception:
        return Verdict("died", args, expected)
    try:
        right = judge(expected, actual, list(args))
    except Exception as e:
        raise ReferenceFailed("the comparator %s raised %s comparing %s with %s: %s" % (
            plan.get("comparator_name", "?"), type(e).__name__, shown(expected), shown(actual), e))
    return None if right else Verdict("wrong", args, expected, actual=actual)


def start_executor(plan):
    """A ready executor, or the import error event's fields."""
    executor = Executor(plan)
    ready = executor.reply(time.monotonic() + plan["wall_s"])
    if isinstance(ready, dict) and ready.get("event") == "ready":
        return executor, None
    executor.kill()
    if isinstance(ready, dict) and ready.get("event") == "import_error":
        return None, ready
    return None, {"message": "the module %s did not load within the limits (%s)" % (
        plan["module"], "time limit" if ready in ("timeout", "cpu") else "it stopped"),
        "limit": ready in ("timeout", "cpu")}


def student_phase(plan, judge, inputs):
    """How many inputs gave the right result, and the first Verdict."""
    executor, failure = start_executor(plan)
    if failure:
        return 0, failure
    deadline, passed, first = time.monotonic() + plan["wall_s"], 0, None
    for encoded_args, encoded_expected in inputs:
        args, expected = decode(encoded_args), decode(encoded_expected)
        verdict = judge_reply(plan, judge, args, expected, executor.call(encoded_args, deadline))
        if verdict is None:
            passed += 1
            continue
        first = first or verdict
        if verdict.kind in ("timeout", "died", "memory"):
            break   # the executor is gone or stuck: the rest are not judged
    executor.kill()
    return passed, first


def shrink_phase(plan, reference, judge, strategies):
    """The smallest failing call Hypothesis finds from the same seed (a
    Verdict), or None if none was found within the budget."""
    import copy
    from hypothesis import Phase, reject
    state = {"executor": None, "last": None}
    deadline = time.monotonic() + plan["wall_s"]

    def check(*args):
        try:
            expected = reference(*copy.deepcopy(args))
        except Exception:
            reject()   # the reference ran on every generated input; not on this one
        if state["executor"] is None:
            state["executor"], failure = start_executor(plan)
            if failure:
                reject()
        reply = state["executor"].call(encode(list(args)), min(deadline, time.monotonic() + 2))
        verdict = judge_reply(plan, judge, args, expected, reply)
        if verdict is not None and verdict.kind in ("timeout", "died", "memory"):
            state["executor"].kill()
            state["executor"] = None
            reject()   # shrink towards wrong answers, not towards a stuck process
        if verdict is not None:
            state["last"] = verdict
            raise verdict

    try:
        run_given(plan, strategies, check, SHRINK_EXAMPLES, [Phase.generate, Phase.shrink])
    except Verdict:
        pass
    finally:
        if state["executor"] is not None:
            state["executor"].kill()
    return state["last"]


def report(plan, passed, total, verdict, shrunk):
    fields = dict(passed=passed, total=total, kind=verdict.kind, shrunk=shrunk,
                  call=shown_call(plan["function"], verdict.call_args),
                  expected=shown(verdict.expected))
    if verdict.kind == "wrong":
        fields["actual"] = shown(verdict.actual)
    if verdict.kind == "raised":
        fields["raised"] = verdict.raised
        fields["traceback"] = verdict.tb
    emit(event="result", **fields)


def supervise():
    make_undumpable()
    plan = read_plan()
    try:
        import hypothesis  # noqa: F401
    except ImportError as e:
        emit(event="unavailable", reason="Hypothesis is missing (%s)" % e)
        return
    emit(event="ready")   # before any of the submission's code runs
    try:
        strategies = argument_strategies(plan)
        reference = getattr(load_source("assay_reference", plan["reference"],
                                        plan["reference_name"]), plan["function"])
        judge = make_judge(plan)
    except Exception as e:
        emit(event="reference_error", message="the instructor's files could not be loaded:\n" +
             reference_traceback(e, "<none>"))
        return
    inputs = reference_phase(plan, reference, strategies)
    if inputs is None:
        return
    try:
        passed, verdict = student_phase(plan, judge, inputs)
        if isinstance(verdict, dict):
            emit(event="import_error", message=verdict.get("message", ""),
                 limit=bool(verdict.get("limit")))
        elif verdict is None:
            emit(event="result", passed=passed, total=len(inputs))
        else:
            smaller = shrink_phase(plan, reference, judge, strategies) \
                if verdict.kind in ("wrong", "raised") else None
            report(plan, passed, len(inputs), smaller or verdict, smaller is not None)
    except ReferenceFailed as e:
        emit(event="reference_error", message=str(e))
        return
    emit(event="finished")


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--execute":
        executor_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        supervise()
