"""Assay's notebook runner: executes a notebook's code cells in order, in
one Python process with IPython's semantics, and reports how each ended.

Usage (inside the test's work directory, run by the notebook kind):
    python3 -I .assay/notebook_runner.py < PLAN

PLAN, on standard input, is JSON written by Assay: {"cell_timeout_s",
"wall_s", "cells": [{"id", "label", "code", "hidden"}]}.  One JSON line per cell goes to standard
output: {"event": "cell", "id", "status": "ok" | "error" | "timeout" |
"died" | "not_run", "ename", "evalue", "traceback", "stdout", "number"}.
The first line, before any cell: {"event": "ready"} once IPython is
loaded, or {"event": "unavailable", "reason"} when it cannot be (IPython
missing on the worker, say): then no cell runs.

Two processes.  The supervisor (this script's main) never runs student
code.  First thing, before it has read the plan, it starts an executor
(this script with --execute, a fresh interpreter: none of the plan is in
its memory), which loads IPython meanwhile; then it makes itself
non-dumpable (no other process of the run can read its memory or
descriptors), reads the plan, replaces its standard input with
/dev/null, sends the executor one cell at a time over a pipe and waits
for the reply at most the cell's timeout.  A test cell's code is thus within reach of student code only
from the moment it runs; after a cell with hidden tests the executor
drops what IPython keeps of its source (In, _ih, _i*, the line cache,
the last exception).  A cell that overruns is interrupted (SIGINT, as Jupyter's
"interrupt kernel"); an executor that ignores that, or dies, is killed
with its process group, and a fresh one replays the cells that had run
so that later tests can still be graded.  The launcher's wall limit
stays the last line of defence.

The executor decides pass or fail from IPython's ExecutionResult (the
exception the cell raised), never from what was printed: a notebook that
overrides showtraceback or sys.excepthook hides nothing from it.  It
builds IPython's shell without what most notebooks never use (the
terminal front end, the tab completer, the magics, a few modules): each
is loaded the first time something asks for it.
"""
import os
import sys


def spawn_executor():
    """Starts an executor: this script with --execute in a fresh
    interpreter, in a session of its own, its standard streams on
    /dev/null and no descriptor of this process but the two pipe ends it
    is named (those Python opens are close-on-exec; any other that this
    process was started with is closed in the child).  posix_spawn, not
    fork: the child does not copy this process's memory.  Only os and
    sys are needed, so that it can run before this process imports
    anything else.  Returns (pid, the cells' pipe, the replies' pipe)."""
    cmd_r, cmd_w = os.pipe()
    reply_r, reply_w = os.pipe()
    # relative: the work directory's path is nobody's business in `ps`
    argv = [sys.executable, "-I", os.path.relpath(os.path.abspath(__file__)), "--execute",
            str(cmd_r), str(reply_w)]
    env = dict(os.environ, NBGRADER_EXECUTION="autograde")   # as nbgrader autograde
    actions = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in inherited_fds()]
    actions += [(os.POSIX_SPAWN_DUP2, fd, fd) for fd in (cmd_r, reply_w)]   # clears close-on-exec
    try:
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsid=True)
    finally:
        os.close(cmd_r)
        os.close(reply_w)
    return pid, cmd_w, reply_r


def inherited_fds():
    """The descriptors above 2 that an exec would pass on."""
    fds = []
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:   # no /proc: every possible one
        names = range(3, os.sysconf("SC_OPEN_MAX"))
    for name in names:
        fd = int(name)
        try:
            if fd > 2 and os.get_inheritable(fd):
                fds.append(fd)
        except OSError:   # the listing's own descriptor, closed by now
            pass
    return fds


if __name__ == "__main__" and sys.argv[1:2] != ["--execute"]:
    # The executor's interpreter and IPython take most of a notebook's
    # time: it starts before the supervisor imports what it needs, makes
    # itself non-dumpable and reads the plan, so that both load at once.
    # It runs no student code until the first cell comes, by when the
    # supervisor is non-dumpable.
    FIRST_EXECUTOR = spawn_executor()

import json     # noqa: E402 (after the executor has started: see above)
import select   # noqa: E402
import signal   # noqa: E402
import time     # noqa: E402

REPLAY_LIMIT = 3          # executor restarts per notebook
INTERRUPT_GRACE_S = 1.0   # how long an interrupted cell has to stop
MARGIN_S = 1.0            # kept from the wall limit to report what happened
OUTPUT_LIMIT = 4000       # characters of a cell's output kept
TRACEBACK_LIMIT = 4000


# ---- the executor (runs student code) ----

class BoundedText:
    """A write-only text stream that keeps the first OUTPUT_LIMIT characters."""

    def __init__(self):
        self.parts, self.size, self.dropped = [], 0, 0

    def write(self, s):
        if not isinstance(s, str):
            s = str(s)
        room = OUTPUT_LIMIT - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def text(self):
        out = "".join(self.parts)
        if self.dropped:
            out += "\n[... %d more characters not shown]" % self.dropped
        return out


# Modules IPython imports at start-up for what most notebooks never use:
# asyncio (top-level await), stack_data (Context and Verbose tracebacks),
# pexpect (`!` commands), pydoc (help()); and, for traitlets' logging
# set-up and IPython's pickleshare database, logging.handlers,
# dataclasses and pickle.  Each is in sys.modules as usual, and runs the
# first time something uses it (an `import` of it included).
DEFERRED = ("asyncio", "stack_data", "pexpect", "pydoc", "logging.handlers", "dataclasses",
            "pickle")
# Submodules that the magics and the modules above import, and that a
# cell may reach through their package's name alone (`import urllib`, then
# urllib.request): imported deferred at start-up, so that their packages
# still have them.
PRESENT = ("concurrent.futures", "http.client", "urllib.error", "urllib.request",
           "urllib.response", "email.base64mime", "email.charset", "email.encoders",
           "email.errors", "email.feedparser", "email.header", "email.iterators",
           "email.message", "email.parser", "email.quoprimime", "email.utils")


def as_at_start(path, run, *args):
    """RUN(*ARGS) with imports searching PATH, sys.path as it was before
    the work directory joined it: what IPython imports late (a deferred
    module, the magics) is what it would have imported at start-up, never
    a notebook's file of the same name."""
    saved, sys.path = sys.path, list(path)
    try:
        return run(*args)
    finally:
        sys.path = saved


def defer_imports(names, path):
    """A finder for sys.meta_path under which the first import of a
    module named in NAMES gives it without running it; it runs (imports
    searching PATH) when first used: when anything reads one of its
    attributes, as `import` does of a module already imported.  A thread
    that uses it meanwhile waits until it has run."""
    import importlib.machinery
    import threading
    import types

    lock = threading.RLock()
    running = set()

    class Deferred(types.ModuleType):
        def __getattribute__(self, attr):
            with lock:
                if type(self) is Deferred and id(self) not in running:
                    running.add(id(self))   # what it reads of itself while it runs is as usual
                    try:
                        loader = types.ModuleType.__getattribute__(self, "__loader__")
                        as_at_start(path, loader.exec_module, self)
                    finally:
                        running.discard(id(self))
                        self.__class__ = types.ModuleType
            return types.ModuleType.__getattribute__(self, attr)

    class Loader:
        def __init__(self, loader):
            self.loader = loader

        def create_module(self, spec):
            return self.loader.create_module(spec)

        def exec_module(self, module):
            module.__spec__.loader = module.__loader__ = self.loader
            module.__class__ = Deferred

    class Finder:
        def find_spec(self, name, search, target=None):
            if name not in names:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, search, target)
            if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
                return None   # left to the usual finders
            spec.loader = Loader(spec.loader)
            return spec

    return Finder()


def load_shell_class(path):
    """IPython's InteractiveShell, without running IPython/__init__.py
    first: that imports the terminal front end (prompt_toolkit, jedi, the
    debugger), a third of the executor's start-up for nothing it uses.
    The package is made from its spec with what IPython.core itself
    imports from it; the rest of its __init__ runs the first time a cell
    asks the package for a name it lacks (IPython.embed, say), so to a
    cell `import IPython` is the whole package as usual.  PATH: see
    as_at_start."""
    import importlib.util
    spec = importlib.util.find_spec("IPython")
    if spec is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError("No module named 'IPython'", name="IPython")
    package = importlib.util.module_from_spec(spec)

    def complete(name):
        del package.__getattr__          # once: the code below defines the rest
        with open(spec.origin, "rb") as f:
            code = compile(f.read(), spec.origin, "exec")
        as_at_start(path, exec, code, package.__dict__)
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError("module 'IPython' has no attribute %r" % name) from None

    sys.modules["IPython"] = package
    try:
        from IPython.core.getipython import get_ipython
        from IPython.core import release
        package.get_ipython = get_ipython
        package.__version__, package.version_info = release.version, release.version_info
        package.__getattr__ = complete
        from IPython.core.interactiveshell import InteractiveShell
    except BaseException:
        del sys.modules["IPython"]
        raise
    return InteractiveShell


def guarded_shell_class(InteractiveShell, path):
    """IPython's shell, with an error display no cell can break, and
    built without what it does not need until something asks for it.
    PATH: see as_at_start."""
    import keyword
    from traitlets import default

    class GuardedShell(InteractiveShell):
        # IPython builds its tab completer (and imports jedi with it) at
        # start-up; no cell is ever completed here, so it is built only
        # if something asks for it (a cell, or %debug).
        def init_completer(self):
            pass

        @property
        def Completer(self):
            if "_assay_completer" not in self.__dict__:
                InteractiveShell.init_completer(self)
            return self.__dict__["_assay_completer"]

        @Completer.setter
        def Completer(self, value):
            self.__dict__["_assay_completer"] = value

        # Registering IPython's magics imports all of IPython.core.magics
        # (with urllib, asyncio and the magics' argument parsers): a third
        # of the shell's start-up, for notebooks that mostly use no magic.
        # The shell is built without them and without the aliases (line
        # magics too).  Whatever then reads the magics manager, the alias
        # manager, register_magics or the list of configurables registers
        # them as __init__ would have (the managers' traits get them as
        # their dynamic defaults).  Until then nothing else can have been
        # registered (that takes the manager), so a line magic named by a
        # Python keyword or by no identifier at all, as no line magic of
        # IPython's is, is known to be absent without them: the automagic
        # check of a one-line cell such as "import math" or "df.head()"
        # asks just that.
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.__dict__["_assay_built"] = True

        def init_magics(self):
            self.__dict__["_assay_magics_at"] = len(self.configurables)
            self.register_magics = self._assay_register_magics

        def init_alias(self):
            pass

        def _assay_load_magics(self):
            at = self.__dict__.pop("_assay_magics_at", None)
            if at is None:
                return   # registered, or being registered now
            end = len(self.configurables)
            # init_magics ends with `%colors NoColor`, a no-op here: the
            # shell's traceback printers and inspector were built NoColor.
            self.run_line_magic = lambda *args, **kwargs: None
            try:
                as_at_start(path, InteractiveShell.init_magics, self)
            finally:
                del self.run_line_magic
            as_at_start(path, InteractiveShell.init_alias, self)
            added = self.configurables[end:]
            del self.configurables[end:]
            self.configurables[at:at] = added

        def _assay_register_magics(self, *magic_objects):
            self._assay_load_magics()
            return self.register_magics(*magic_objects)

        @default("magics_manager")
        def _assay_magics_manager(self):
            self._assay_load_magics()
            return self._trait_values.get("magics_manager")

        @default("alias_manager")
        def _assay_alias_manager(self):
            self._assay_load_magics()
            return self._trait_values.get("alias_manager")

        @property
        def configurables(self):
            if "_assay_built" in self.__dict__:
                self._assay_load_magics()
            return self.__dict__["_assay_configurables"]

        @configurables.setter
        def configurables(self, value):
            self.__dict__["_assay_configurables"] = value

        def _assay_no_line_magic(self, name):
            return ("_assay_magics_at" in self.__dict__ and isinstance(name, str)
                    and (keyword.iskeyword(name) or not name.isidentifier()))

        def find_line_magic(self, magic_name):
            if self._assay_no_line_magic(magic_name):
                return None
            return super().find_line_magic(magic_name)

        def find_magic(self, magic_name, magic_kind="line"):
            if magic_kind == "line" and self._assay_no_line_magic(magic_name):
                return None
            return super().find_magic(magic_name, magic_kind)

        # A cell may replace showtraceback (to hide tracebacks: harmless,
        # pass or fail comes from the ExecutionResult) with None or with a
        # function that raises; IPython would then fail while showing the
        # student's error, losing it, and its process would die.  Here
        # what a cell assigns is kept aside and called through a guard
        # that swallows its failures, so the result still holds the
        # student's own error.
        _unset = object()

        @property
        def showtraceback(self):
            custom = self.__dict__.get("_assay_display", self._unset)
            display = super().showtraceback if custom is self._unset else custom

            def guarded(*args, **kwargs):
                try:
                    if callable(display):
                        return display(*args, **kwargs)
                except (Exception, SystemExit):   # the display's own failure: not the cell's
                    pass
                return None
            return guarded

        @showtraceback.setter
        def showtraceback(self, value):
            self.__dict__["_assay_display"] = value

    return GuardedShell


def executor_main(cmd_fd, reply_fd):
    import gc
    import linecache
    import math
    import numbers
    import re
    import traceback

    path = list(sys.path)
    finder = defer_imports(DEFERRED + PRESENT, path)
    sys.meta_path.insert(0, finder)
    try:
        InteractiveShell = load_shell_class(path)
        from traitlets.config import Config
    except ImportError as exc:   # the worker lacks IPython: its failure, not the notebook's
        os.write(reply_fd, (json.dumps({"event": "unavailable", "reason": "%s: %s" % (
            type(exc).__name__, exc)}) + "\n").encode("utf-8"))
        return

    GuardedShell = guarded_shell_class(InteractiveShell, path)
    cfg = Config()
    cfg.HistoryManager.enabled = False
    cfg.InteractiveShell.colors = "NoColor"
    cfg.InteractiveShell.xmode = "Plain"
    shell = GuardedShell.instance(config=cfg)
    for name in PRESENT:
        __import__(name)
    sys.meta_path.remove(finder)   # a cell's imports are as usual
    # only now, so that a student's IPython.py cannot stand in for IPython
    sys.path.insert(0, os.getcwd())
    commands = os.fdopen(cmd_fd, "r", encoding="utf-8")
    write = os.write
    dumps = json.dumps
    write(reply_fd, b'{"event": "ready"}\n')
    labels = {}
    code_name = re.compile(r"<ipython-input-(\d+)-[0-9a-f]+>")
    ipython_dir = os.path.dirname(os.path.dirname(os.path.abspath(
        sys.modules[InteractiveShell.__module__].__file__)))

    def describe(err):
        frames = [f for f in traceback.extract_tb(err.__traceback__)
                  if not f.filename.startswith(ipython_dir)]
        text = "".join(traceback.format_list(frames)) if frames else ""
        text = "Traceback (most recent call last):\n" + text if text else ""
        text += "".join(traceback.format_exception_only(type(err), err))
        text = code_name.sub(lambda m: labels.get(int(m.group(1)), "a cell"), text)
        text = text.replace(os.getcwd() + os.sep, "")
        return text[-TRACEBACK_LIMIT:]

    def forget(cell, number):
        """Drops IPython's copies of a hidden cell's source (what a later
        cell could print).  Objects the cell made itself (functions and
        their constants, values) stay: they are the notebook's state."""
        hist = shell.history_manager
        for lines in (hist.input_hist_parsed, hist.input_hist_raw):
            if len(lines) > number:
                lines[number] = ""
        texts = {cell["code"], shell.user_ns.get("_i", ""), hist._i00}
        for name in ("_i00", "_i", "_ii", "_iii"):   # what the next cell shifts into _i
            if getattr(hist, name, None) in texts:
                setattr(hist, name, "")
        for ns in (shell.user_ns, shell.user_ns_hidden):
            for name, value in list(ns.items()):
                if re.fullmatch(r"_i+\d*", name) and isinstance(value, str) and value in texts:
                    ns[name] = ""
        prefix = "<ipython-input-%d-" % number
        for cache in (linecache.cache, getattr(linecache, "_ipython_cache", {})):
            for name in [n for n in cache if isinstance(n, str) and n.startswith(prefix)]:
                del cache[name]
        for name in ("last_type", "last_value", "last_traceback", "last_exc"):
            if hasattr(sys, name):
                delattr(sys, name)
        shell.last_execution_result = None
        gc.collect()

    def run(cell):
        number = shell.execution_count
        labels[number] = cell.get("label", "a cell")
        out = BoundedText()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            result = shell.run_cell(cell["code"], store_history=True)
        finally:
            sys.stdout, sys.stderr = saved
        err = result.error_before_exec or result.error_in_exec
        reply = {"event": "cell", "id": cell["id"], "status": "ok" if err is None else "error",
                 "stdout": out.text()}
        if err is not None:
            reply["ename"] = type(err).__name__
            reply["evalue"] = str(err)[:1000]
            reply["traceback"] = describe(err)
        value = result.result
        if (isinstance(value, numbers.Real) and not isinstance(value, bool)
                and math.isfinite(float(value))):
            reply["number"] = float(value)
        if cell.get("hidden"):
            del result, err, value
            forget(cell, number)
        return reply

    while True:
        try:
            line = commands.readline()
            if not line:
                return
            reply = run(json.loads(line))
        except KeyboardInterrupt:   # an interrupt that came between cells
            continue
        write(reply_fd, (dumps(reply) + "\n").encode("utf-8", "replace"))


# ---- the supervisor (never runs student code) ----

def emit(**event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def make_undumpable():
    """Keeps the executor (same uid) out of /proc/<supervisor>/fd, mem
    and environ, and from ptrace-ing the supervisor: it can neither write
    the report nor read the cells still to come.  Without it the plan is
    not read at all."""
    import ctypes
    if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:   # PR_SET_DUMPABLE, 0
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE) failed")


def read_plan():
    """The plan from standard input, which is then /dev/null: no copy of
    it stays open for a child to inherit."""
    data = sys.stdin.buffer.read()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return json.loads(data)


class Executor:
    def __init__(self, started=None):
        """STARTED: spawn_executor()'s result, or None to start one now."""
        self.pid, self.cmd_w, self.reply_r = started or spawn_executor()
        self.pending = b""
        self.failure = None

    def start(self, timeout):
        """Waits until IPython is loaded, so that its start-up time is not
        counted against the first cell's timeout.  If it is not, FAILURE
        says why."""
        ready = self.reply(timeout)
        if isinstance(ready, dict) and ready.get("event") == "ready":
            return True
        if isinstance(ready, dict) and ready.get("event") == "unavailable":
            self.failure = str(ready.get("reason", ""))
        elif ready == "timeout":
            self.failure = "IPython did not load within %.1f s" % max(timeout, 0)
        else:
            self.failure = "the executor ended before IPython was loaded"
        self.kill()
        return False

    def send(self, cell):
        try:
            os.write(self.cmd_w, (json.dumps(cell) + "\n").encode("utf-8"))
            return True
        except OSError:
            return False

    def reply(self, timeout):
        """The next reply line as a dict; "timeout" or "died" if none came."""
        deadline = time.monotonic() + max(timeout, 0)
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            ready, _, _ = select.select([self.reply_r], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.reply_r, 1 << 16)
            if not chunk:
                return "died"
            self.pending += chunk
            if len(self.pending) > (1 << 20):
                return "died"
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            reply = json.loads(line)
        except ValueError:
            return "died"
        return reply if isinstance(reply, dict) else "died"

    def run(self, cell, timeout):
        if not self.send(cell):
            return "died"
        reply = self.reply(timeout)
        if reply == "timeout":
            try:
                os.kill(self.pid, signal.SIGINT)
            except OSError:
                pass
            late = self.reply(INTERRUPT_GRACE_S)
            if isinstance(late, dict):
                return "timeout"    # interrupted: the executor lives on
            self.kill()
            return "killed"
        return reply

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        os.close(self.cmd_w)
        os.close(self.reply_r)


def status_event(cell, status, **extra):
    emit(event="cell", id=cell["id"], status=status, **extra)


def main():
    make_undumpable()
    started = time.monotonic()
    plan = read_plan()
    cell_timeout = float(plan.get("cell_timeout_s", 30))
    wall = float(plan.get("wall_s", 60))
    deadline = started + max(wall - MARGIN_S, min(wall, 1.0))
    executor, ran, restarts = Executor(FIRST_EXECUTOR), [], 0
    if executor.start(deadline - time.monotonic()):
        emit(event="ready")     # no cell has run yet
    else:                       # nor can any: the worker's failure, not the notebook's
        emit(event="unavailable", reason="the notebook's Python process could not be "
             "started: %s" % executor.failure)
        executor = None
    for cell in plan["cells"]:
        left = deadline - time.monotonic()
        if executor is None:
            status_event(cell, "not_run", reason="the notebook's Python process could not "
                         "be started, or restarted after an earlier cell")
            continue
        if left <= 0:
            status_event(cell, "not_run", reason="the whole notebook's time limit (%g s) "
                         "was reached before this cell" % wall)
            continue
        limit = min(cell_timeout, left)
        reply = executor.run(cell, limit)
        if isinstance(reply, dict):
            emit(**reply)
            if reply.get("status") == "ok":
                ran.append(cell)
            continue
        whole = limit < cell_timeout
        status_event(cell, "timeout" if reply in ("timeout", "killed") else "died",
                     limit_s=limit, whole_notebook=whole)
        if reply == "timeout":
            continue
        if reply == "died":
            executor.kill()
        executor, restarts = replay(ran, restarts, cell_timeout, deadline), restarts + 1
    emit(event="finished", seconds=time.monotonic() - started)
    if executor is not None:
        executor.kill()


def replay(ran, restarts, cell_timeout, deadline):
    """A fresh executor that has run RAN again, or None."""
    if restarts >= REPLAY_LIMIT:
        return None
    executor = Executor()
    if not executor.start(deadline - time.monotonic()):
        return None
    for cell in ran:
        left = deadline - time.monotonic()
        reply = executor.run(cell, min(cell_timeout, left)) if left > 0 else "timeout"
        if not isinstance(reply, dict):
            if reply != "killed":
                executor.kill()
            return None
    emit(event="restarted", replayed=len(ran))
    return executor


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--execute":
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        executor_main(int(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
