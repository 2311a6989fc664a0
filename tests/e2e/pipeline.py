"""Helpers for the end-to-end tests of the spool pipeline.

`assay submit` -> assay-scheduler -> assay-shipper (one per slot) ->
assay-worker -> results/, driven with real processes on a spool in a
fresh temporary directory.  The binaries come from $ASSAY_BUILD (set by
tests/run.sh), by default build/ in the repository.

The `pipeline` fixture makes spools (Spool objects) and guarantees that,
whatever a test does, every scheduler it started is stopped (SIGTERM, up
to 10 s, then SIGKILL of its process group), that no process of the
spool survives (found through /proc: an argument naming the spool, or a
working directory inside it), that stopped processes are continued, that
a tmpfs mounted for the spool is unmounted, and that the directory is
removed (kept if $ASSAY_E2E_KEEP is set, for a post-mortem).

The general helpers (/proc, assignments, waiting) are in
tests/lib/assay_helpers.py; the names this module used to define
(exe, parse_time, parent_pid, BUILD, ...) can still be imported from it.
"""
import json
import os
import shutil
import signal
import subprocess
import time

import pytest

from assay_helpers import (  # noqa: F401  (BUILD, IS_ROOT, REPO_ROOT, parse_time: re-exported)
    BUILD, IS_ROOT, REPO_ROOT, descendants, exe, make_tempdir, parent_pid, parse_time, poll,
    processes_using, remove_installation_traces, remove_tempdir, wait_for, write_assignment,
    write_submission)
from assay_helpers import assignment_doc as _assignment_doc

E2E_DIR = os.path.dirname(os.path.abspath(__file__))

# Small limits: a job is given up on after 1.5 * wall_s + the worker's margin.
LIMITS = {"wall_s": 2, "cpu_s": 2, "memory_mb": 256, "processes": 32, "file_mb": 8,
          "output_kb": 256}

# One io test: 2 points for printing exactly "hi".
HI_TEST = {"name": "says hi", "kind": "io", "points": 2, "command": "python3 hello.py",
           "expected_stdout": "hi\n", "compare": "trimmed"}
# A second io test: 1 point if the output contains "hi" anywhere.
HI_CONTAINS_TEST = {"name": "mentions hi", "kind": "io", "points": 1,
                    "command": "python3 hello.py", "expected_stdout": "hi",
                    "compare": "contains"}

# hello.py variants and their scores on [HI_TEST] and [HI_TEST, HI_CONTAINS_TEST].
VARIANTS = {
    "right": ("print('hi')\n", 2, 3),
    "close": ("print('hi there')\n", 0, 1),
    "wrong": ("print('bye')\n", 0, 0),
}


def slow_hello(seconds):
    """A hello.py that takes about SECONDS before printing "hi"."""
    return f"import time\ntime.sleep({seconds})\nprint('hi')\n"


def assignment_doc(tests, title="T", capability="python", limits=None, **top):
    """assay_helpers.assignment_doc with these tests' defaults: capability
    "python", hello.py required, LIMITS."""
    top = {"capability": capability, "required_files": ["hello.py"],
           "limits": dict(limits or LIMITS), **top}
    return _assignment_doc(tests, title=title, **top)



def _is_run_dir(path):
    """Whether PATH is a local worker's directory `assay init` put on a
    tmpfs: INSTALLATION_RUN_DIR/local-ID (/run/assay/NAME/local-ID) or
    /dev/shm/assay-local-ID."""
    return (path.startswith("/run/assay/") and os.path.basename(path).startswith("local-")) or \
        path.startswith("/dev/shm/assay-local-")

class LogLine:
    __slots__ = ("raw", "time", "process", "pid", "worker", "job", "level", "message")

    def __init__(self, raw):
        self.raw = raw
        parts = raw.split(" ", 5)
        if len(parts) < 6:
            parts += [""] * (6 - len(parts))
        self.time, proc, self.worker, self.job, self.level, self.message = parts
        self.process, _, pid = proc.partition("[")
        self.pid = pid.rstrip("]")

    def __repr__(self):
        return self.raw


class Spool:
    """One spool in a temporary directory, and the scheduler running it."""

    def __init__(self, base, root):
        self.base = base                  # temporary directory holding the spool
        self.root = root                  # the spool itself
        self.sched = None                 # the running assay-scheduler (Popen)
        self.n_starts = 0
        self.stopped_pids = set()         # processes a test SIGSTOPped
        self.mounted = False
        self.outside = []   # local worker directories outside the spool, removed at the end

    # ---- running things ----

    def assay(self, *args, timeout=120, input=None):
        """Runs `assay ARGS... --spool ROOT`; returns the CompletedProcess (text)."""
        return subprocess.run([exe("assay"), *map(str, args), "--spool", self.root],
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL if input is None else None, input=input,
                              errors="replace")

    def assay_ok(self, *args, timeout=120):
        p = self.assay(*args, timeout=timeout)
        assert p.returncode == 0, (f"assay {' '.join(map(str, args))} exited {p.returncode}\n"
                                   f"stdout:\n{p.stdout}\nstderr:\n{p.stderr}")
        return p.stdout

    def assay_json(self, *args, timeout=120):
        out = self.assay_ok(*args, "--json", timeout=timeout)
        try:
            return json.loads(out)
        except ValueError as exc:
            pytest.fail(f"assay {' '.join(map(str, args))} --json printed invalid JSON "
                        f"({exc}):\n{out[:3000]}")

    def start(self, *args, program=None):
        """Starts assay-scheduler (with extra ARGS, e.g. "--policy", "fcfs")
        in a process group of its own; PROGRAM: another copy of it (its
        directory's assay-shipper and assay-worker are the ones it runs)."""
        assert self.sched is None or self.sched.poll() is not None, "a scheduler is running"
        self.n_starts += 1
        out = open(os.path.join(self.base, f"scheduler-{self.n_starts}.out"), "wb")
        self.sched = subprocess.Popen([program or exe("assay-scheduler"), "--spool", self.root,
                                       *args],
                                      stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                      start_new_session=True)
        out.close()
        return self.sched

    def scheduler_output(self):
        text = ""
        for i in range(1, self.n_starts + 1):
            try:
                with open(os.path.join(self.base, f"scheduler-{i}.out"), errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self, timeout=10):
        """SIGTERM to the scheduler; waits up to TIMEOUT s, then SIGKILLs its
        process group.  Returns (exit status, whether it stopped in time)."""
        p = self.sched
        if p is None:
            return None, True
        self.cont_all()
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            rc = p.wait(timeout=timeout)
            in_time = True
        except subprocess.TimeoutExpired:
            in_time = False
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            rc = p.wait(timeout=10)
        # the group may hold children that outlived it
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return rc, in_time

    def kill9_scheduler(self):
        p = self.sched
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=10)

    def processes(self):
        """[(pid, argv)] of every live process of this spool: an argument
        naming the spool or holding a path in it (or in a local worker's
        directory outside it), or a working directory inside one of them."""
        # The local workers' directories may be outside the spool (/dev/shm).
        return [(p.pid, p.argv) for p in processes_using([self.root] + self.outside)]

    def procs_named(self, name):
        """[(pid, argv)] of this spool's processes whose program is NAME."""
        return [(pid, argv) for pid, argv in self.processes()
                if argv and os.path.basename(argv[0]) == name]

    def shippers(self):
        return self.procs_named("assay-shipper")

    def worker_daemons(self, worker=None):
        """The assay-worker daemons, not the processes they fork (graders,
        the sandbox's keepers), whose parent is an assay-worker."""
        workers = [(pid, argv) for pid, argv in self.procs_named("assay-worker")
                   if "grade-one" not in argv]
        pids = {pid for pid, _ in workers}
        out = []
        for pid, argv in workers:
            ppid = parent_pid(pid)
            if ppid is None or ppid in pids:
                continue
            if worker is not None:
                if "--name" not in argv or argv[argv.index("--name") + 1] != worker:
                    continue
            out.append((pid, argv))
        return out

    def wait_for(self, what, predicate, timeout=30, interval=0.02):
        """assay_helpers.wait_for, failing with the scheduler's output and
        the log's tail."""
        return wait_for(what, predicate, timeout, interval,
                        context=lambda: (f"--- scheduler output ---\n"
                                         f"{self.scheduler_output()[-3000:]}\n"
                                         f"--- log tail ---\n{self.log_text()[-6000:]}"))

    def wait_running(self, slots, daemons, timeout=20):
        """Waits until SLOTS shippers and DAEMONS worker daemons are running
        and have said so in the log."""
        def ready():
            lines = self.log_lines()
            started = sum(1 for l in lines if l.message.startswith("shipper for slot"))
            workers = sum(1 for l in lines if l.process == "assay-worker" and
                          " started on " in l.message)
            return (len(self.shippers()) == slots and len(self.worker_daemons()) == daemons
                    and started >= slots and workers >= daemons)
        self.wait_for(f"{slots} shippers and {daemons} workers", ready, timeout)

    def leftovers(self, timeout=5):
        """This spool's processes still alive after waiting up to TIMEOUT s."""
        return poll(self.processes, timeout, 0.05, until=lambda procs: not procs)

    def kill_leftovers(self):
        for _ in range(3):
            procs = self.processes()
            if not procs:
                return
            for pid, _argv in procs:
                for sig in (signal.SIGCONT, signal.SIGKILL):
                    try:
                        os.kill(pid, sig)
                    except (ProcessLookupError, PermissionError):
                        pass
            time.sleep(0.2)

    def stop_tree(self, pid):
        """SIGSTOPs PID and all its descendants; returns the PIDs stopped."""
        stopped = []
        os.kill(pid, signal.SIGSTOP)
        stopped.append(pid)
        for _ in range(3):   # again, for anything forked meanwhile
            for c in descendants(pid):
                if c not in stopped:
                    try:
                        os.kill(c, signal.SIGSTOP)
                        stopped.append(c)
                    except ProcessLookupError:
                        pass
        self.stopped_pids.update(stopped)
        return stopped

    def cont_all(self):
        for pid in list(self.stopped_pids):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self.stopped_pids.clear()

    # ---- configuration ----

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def add_assignment(self, course, assignment, doc, files=None):
        """Writes the assignment courses/COURSE/ASSIGNMENT (DOC and the
        instructor FILES); returns its directory."""
        return write_assignment(self.path("courses", course, assignment), doc, files)

    def workers(self):
        with open(self.path("workers.json")) as f:
            return json.load(f)["workers"]

    def worker_dir(self, name):
        """The directory of local worker NAME, as workers.json gives it
        (`assay init` puts it on a tmpfs when it can)."""
        for w in self.workers():
            if w["name"] == name:
                return w["dir"] if os.path.isabs(w["dir"]) else self.path(w["dir"])
        raise KeyError(name)

    def run_dirs(self):
        """Local worker directories `assay init` put outside the spool (on a tmpfs)."""
        return [w["dir"] for w in self.workers()
                if w.get("transport") == "local" and
                _is_run_dir(w.get("dir", ""))]

    def installation(self):
        """workers.json's "installation" ({"name", "uids"}), or None."""
        with open(self.path("workers.json")) as f:
            return json.load(f).get("installation")

    def installation_name(self):
        """The installation's name; "" when there is none or workers.json
        is broken (a test of bad input may have broken it)."""
        try:
            return (self.installation() or {}).get("name", "")
        except (OSError, ValueError, AttributeError):
            return ""

    def set_workers(self, workers):
        """Replaces workers.json's workers, keeping the spool's installation."""
        doc = {"workers": workers}
        if self.installation():
            doc["installation"] = self.installation()
        tmp = self.path("workers.json.new")
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=2)
        os.rename(tmp, self.path("workers.json"))

    def two_workers(self, slots=2, **extra):
        """workers.json with workers "local" and "w2", SLOTS slots each."""
        ws = []
        for name in ("local", "w2"):
            w = {"name": name, "transport": "local", "dir": f"workers/{name}", "slots": slots,
                 "capabilities": ["python"], "enabled": True}
            w.update(extra)
            ws.append(w)
        self.set_workers(ws)

    # ---- submitting ----

    def make_submission(self, name, files):
        """A submission folder NAME holding FILES, beside the spool."""
        return write_submission(os.path.join(self.base, "src", name), files)

    def submit(self, course, assignment, student, path, *extra, timeout=120):
        """`assay submit`; returns the job id it printed."""
        p = self.assay("submit", "--course", course, "--assignment", assignment,
                       "--student", student, path, *extra, timeout=timeout)
        assert p.returncode == 0, (f"assay submit exited {p.returncode}\nstdout:\n{p.stdout}\n"
                                   f"stderr:\n{p.stderr}")
        job = p.stdout.splitlines()[0].strip()
        assert job, "assay submit printed no job id"
        return job

    def submit_wait(self, course, assignment, student, path, timeout=60, view="instructor"):
        """`assay submit --wait --json`; returns (job id, results)."""
        p = self.assay("submit", "--course", course, "--assignment", assignment,
                       "--student", student, path, "--wait", "--timeout", timeout, "--json",
                       "--view", view, timeout=timeout + 30)
        assert p.returncode == 0, (f"assay submit --wait exited {p.returncode}\nstdout:\n"
                                   f"{p.stdout}\nstderr:\n{p.stderr}\n--- log tail ---\n"
                                   f"{self.log_text()[-4000:]}")
        job, _, rest = p.stdout.partition("\n")
        try:
            return job.strip(), json.loads(rest)
        except ValueError as exc:
            pytest.fail(f"assay submit --wait --json printed invalid JSON ({exc}):\n{p.stdout}")

    # ---- reading the spool ----

    def queue(self, state):
        """Job file names in a queue directory (incoming, deferred, hold, failed)."""
        try:
            return sorted(os.listdir(self.path(state)))
        except FileNotFoundError:
            return []

    def slot_jobs(self):
        """{slot name: [file names other than the lock]} of shippers/."""
        out = {}
        base = self.path("shippers")
        for slot in sorted(os.listdir(base)):
            out[slot] = sorted(n for n in os.listdir(os.path.join(base, slot)) if n != ".lock")
        return out

    def slot_of(self, job):
        for slot, names in self.slot_jobs().items():
            if f"{job}.json" in names:
                return slot
        return None

    def result_rel(self, job):
        """The result directory jobs/ID points to (relative to the spool):
        jobs/ID is the job file as queued."""
        with open(self.path("jobs", job)) as f:
            j = json.load(f)
        return "results/%s/%s/%s/%d" % (j["course"], j["assignment"], j["student"], j["version"])

    def result(self, job):
        """results.json of JOB if its result is recorded (job id matches), else None."""
        try:
            rel = self.result_rel(job)
            with open(self.path(rel, "results.json")) as f:
                r = json.load(f)
        except (OSError, ValueError):
            return None
        return r if r.get("assay", {}).get("job_id") == job else None

    def wait_results(self, jobs, timeout=60):
        """Waits until every job in JOBS has its result; returns {job: results}."""
        done = {}

        def all_done():
            for j in jobs:
                if j not in done:
                    r = self.result(j)
                    if r is not None:
                        done[j] = r
            return len(done) == len(jobs)

        def missing():
            left = [j for j in jobs if j not in done]
            return (f"{len(left)} of {len(jobs)} jobs have no result (e.g. {left[:3]}); "
                    f"incoming {len(self.queue('incoming'))}, deferred "
                    f"{self.queue('deferred')[:3]}, failed {self.queue('failed')[:4]}, slots "
                    f"{self.slot_jobs()}\n--- scheduler output ---\n"
                    f"{self.scheduler_output()[-2000:]}\n--- log tail ---\n"
                    f"{self.log_text()[-6000:]}")

        wait_for(f"the results of {len(jobs)} jobs", all_done, timeout, 0.05, context=missing)
        return done

    def result_dirs(self):
        """Every results/C/A/U/V directory, relative to the spool."""
        out = []
        base = self.path("results")
        for c in sorted(os.listdir(base)):
            for a in sorted(os.listdir(os.path.join(base, c))):
                for u in sorted(os.listdir(os.path.join(base, c, a))):
                    for v in sorted(os.listdir(os.path.join(base, c, a, u))):
                        out.append(f"results/{c}/{a}/{u}/{v}")
        return out

    def log_text(self):
        try:
            with open(self.path("logs", "assay.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_lines(self):
        return [LogLine(l) for l in self.log_text().splitlines() if l]

    def job_lines(self, job):
        return [l for l in self.log_lines() if l.job == job]


def recorded_counts(spool):
    """{job id: number of "result recorded" log lines}."""
    counts = {}
    for l in spool.log_lines():
        if l.message.startswith("result recorded"):
            counts[l.job] = counts.get(l.job, 0) + 1
    return counts


def wait_recorded(spool, jobs, timeout=10):
    """recorded_counts, once every job in JOBS has its "result recorded" line
    (a shipper writes it just after the result appears), or after TIMEOUT s."""
    return poll(lambda: recorded_counts(spool), timeout, 0.05,
                until=lambda counts: all(counts.get(j) for j in jobs))


@pytest.fixture
def pipeline():
    """Factory: pipeline(tmpfs_mb=None) -> an initialised Spool.

    The spool lives in a fresh world-traversable directory (the sandbox's
    run uid must reach the worker's work directories under it).  With
    TMPFS_MB, a tmpfs of that size is mounted as the spool first (root
    only).  Teardown stops everything and removes it all.
    """
    made = []

    def make(tmpfs_mb=None):
        base = make_tempdir("assay-e2e-")
        root = os.path.join(base, "spool")
        spool = Spool(base, root)
        made.append(spool)
        if tmpfs_mb:
            os.mkdir(root)
            p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={tmpfs_mb}m,mode=0755",
                                "tmpfs", root], capture_output=True, text=True)
            if p.returncode != 0:
                pytest.skip(f"cannot mount a tmpfs here: {p.stderr.strip()}")
            spool.mounted = True
        p = subprocess.run([exe("assay"), "init", root], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, f"assay init failed: {p.stderr}"
        spool.outside = spool.run_dirs()
        return spool

    yield make
    for spool in made:
        try:
            spool.stop()
        finally:
            spool.kill_leftovers()
            there = os.path.exists(spool.root)
            for d in set(spool.outside + (spool.run_dirs() if there else [])):
                shutil.rmtree(d, ignore_errors=True)
            if there:
                remove_installation_traces(spool.installation_name())
            if spool.mounted:
                subprocess.run(["umount", "-l", spool.root], capture_output=True)
            remove_tempdir(spool.base)
