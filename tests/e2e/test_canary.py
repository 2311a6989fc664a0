"""Canary gradings: `assay workers check` grades a built-in assignment of
every test kind on each worker through its real transport and sandbox, and
names what a worker lacks.

The SSH workers are hosts of scripts/test-cluster.sh (network namespaces
with Debian's sshd and an assay-worker each).  A missing package is
simulated honestly: host h2's assay-worker is restarted in a mount
namespace of its own in which IPython's directory (where Debian's
python3-ipython installs it) is covered by an empty tmpfs, so neither the
daemon nor the runs of its sandbox, whose root is built from the daemon's
view of /usr, can import it.  A Gradescope autograder's setup.sh that was
never run on a worker is one whose content no stamp names (a unique
marker in it); `assay gradescope setup` then runs it with a state
directory of the test's own, which the restarted worker is given.

Needs root and `ip netns` (the cluster); the local-worker tests need root
for the namespace sandbox.
"""
import contextlib
import fcntl
import json
import os
import resource
import shlex
import signal
import subprocess
import threading
import uuid

import pytest

from assay_helpers import (BUILD, IS_ROOT, exe, installation_args, make_tempdir, poll,
                           remove_tempdir, wait_for, worker_daemon_running)
from cluster import make_cluster, scheduler_running, wait_health
from pipeline import HI_TEST, VARIANTS, assignment_doc, pipeline  # noqa: F401

KINDS = ["io", "pytest", "doctest", "notebook", "gradescope", "property"]
IPYTHON_MISSING = "missing: Python module IPython (Debian package python3-ipython)"
NOT_RUN = "the autograder's setup.sh has not been run on this worker"
RUN_AUTOGRADER = ("#!/bin/sh\nprintf '{\"score\": 1}' >/autograder/results/results.json\n")

needs_root = pytest.mark.skipif(not IS_ROOT, reason="the namespace sandbox runs as root only")


@pytest.fixture(scope="module")
def cluster():
    with make_cluster(2, ["python", "python"]) as c:
        yield c


def check(spool, *args, timeout=300):
    return spool.assay("workers", "check", *args, timeout=timeout)


def check_json(spool, *args):
    p = check(spool, "--json", *args)
    try:
        return p.returncode, {row["name"]: row for row in json.loads(p.stdout)}
    except ValueError:
        pytest.fail(f"assay workers check --json printed invalid JSON:\n{p.stdout}\n{p.stderr}")


def lines_of(stdout, worker):
    """{label: the words after "WORKER LABEL: "} of the canary lines, and
    the worker's own lines ("WORKER: ...")."""
    canaries, own = {}, []
    for line in stdout.splitlines():
        if line.startswith(f"{worker}: "):
            own.append(line[len(worker) + 2:])
        elif line.startswith(f"{worker} "):
            label, _, said = line[len(worker) + 1:].partition(": ")
            canaries[label] = said
    return canaries, own


def assert_all_ok(stdout, worker):
    canaries, own = lines_of(stdout, worker)
    assert own and own[0].startswith("ok ("), stdout
    assert sorted(canaries) == sorted(KINDS), stdout
    for kind in KINDS:
        assert canaries[kind].startswith("ok (3 of 3 points, "), (kind, stdout)


def ipython_dir():
    p = subprocess.run(["/usr/bin/python3", "-c", "import IPython, os; "
                        "print(os.path.dirname(IPython.__file__))"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        pytest.skip("IPython is not installed here (python3-ipython), so it cannot be hidden")
    return p.stdout.strip()


def restart_worker(cluster, k, hide=(), env=None):
    """Replaces host k's assay-worker by one started as test-cluster.sh
    starts it, in a mount namespace of its own where each directory of
    HIDE is covered by an empty tmpfs, with ENV added to its environment."""
    pidfile = os.path.join(cluster.host_dir(k), "worker.pid")
    with open(pidfile) as f:
        old = int(f.read())
    try:
        os.kill(old, signal.SIGTERM)
    except ProcessLookupError:
        pass
    wdir = cluster.worker_dir(k)
    wait_for(f"h{k}'s assay-worker to stop", lambda: not worker_daemon_running(wdir), 30)
    mounts = "".join(f"mount -t tmpfs -o size=1m,mode=0755 assay-hidden {shlex.quote(d)} && "
                     for d in hide)
    worker = (f"exec nsenter --net=/run/netns/{cluster.ns(k)} {shlex.quote(BUILD)}/assay-worker "
              f"--dir {shlex.quote(wdir)} --slots 2 --name h{k} {shlex.join(installation_args())}")
    argv = (["unshare", "--mount", "--propagation", "private", "sh", "-c", mounts + worker]
            if hide else ["sh", "-c", worker])
    p = subprocess.Popen(argv, env=dict(os.environ, **(env or {})), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    with open(pidfile, "w") as f:
        f.write(str(p.pid))    # sh, unshare and nsenter exec: the pid is the daemon's
    wait_for(f"h{k}'s new assay-worker to start", lambda: worker_daemon_running(wdir), 30,
             context=lambda: f"exit status {p.poll()}")
    return p


@contextlib.contextmanager
def worker_restarted(cluster, k, hide=(), env=None):
    """restart_worker for a with block; afterwards host k runs a plain
    assay-worker again."""
    restart_worker(cluster, k, hide, env)
    try:
        yield
    finally:
        restart_worker(cluster, k)


def gradescope_assignment(spool, course, name, capability="python"):
    """A Gradescope assignment whose setup.sh no worker has run: its
    content (a unique marker) has no stamp anywhere.  Returns its directory."""
    doc = {"assay": 1, "title": "GS", "capability": capability,
           "required_files": ["calc.py"],
           "limits": {"wall_s": 10, "cpu_s": 5, "memory_mb": 256},
           "tests": [{"name": "autograder", "kind": "gradescope", "autograder": "autograder",
                      "points": 1}]}
    files = {"autograder/setup.sh": f"#!/bin/bash\n# {uuid.uuid4()}\ntrue\n",
             "autograder/run_autograder": RUN_AUTOGRADER}
    spool.add_assignment(course, name, doc, files)
    return spool.path("courses", course, name)


def assert_nothing_recorded(spool, cluster=None):
    """Canaries are never jobs: no result, job, stats or queue entry of theirs."""
    for area in ("results", "jobs", "incoming", "deferred", "failed", "hold"):
        found = [n for n in spool.queue(area) if not n.startswith(".")]
        assert not [n for n in found if "canary" in n], (area, found)
    for rel in spool.result_dirs():
        assert "canary" not in rel, rel
    stats = spool.path("stats")
    for dirpath, _, names in os.walk(stats):
        for n in names:
            with open(os.path.join(dirpath, n), errors="replace") as f:
                assert "canary" not in f.read(), os.path.join(dirpath, n)
    if cluster:
        for k in range(1, cluster.n + 1):
            for sub in ("inbox", "active", "outbox"):
                assert not [n for n in cluster.archives(k, sub) if n.startswith("canary-")], \
                    (k, sub, cluster.archives(k, sub))


# ---------------------------------------------------------------------------


def test_a_complete_worker_passes_every_canary_while_jobs_are_graded(cluster, pipeline):
    """Both hosts have everything: every canary scores full marks, exit 0,
    even while the scheduler's shippers grade students' jobs on the same
    workers and tidy their outboxes; the students' results are the only
    ones recorded."""
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    spool.add_assignment("cs101", "hw", assignment_doc([HI_TEST]))
    src = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    with scheduler_running(spool):
        for name in ("h1", "h2"):
            wait_health(spool, name, "up", timeout=30)
        jobs = []
        submitter = threading.Thread(target=lambda: jobs.extend(
            spool.submit("cs101", "hw", f"s{i}", src) for i in range(8)))
        submitter.start()
        p = check(spool)
        submitter.join()
        assert p.returncode == 0, f"assay workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
        for name in ("h1", "h2"):
            assert_all_ok(p.stdout, name)
        results = spool.wait_results(jobs, timeout=120)
        assert all(r["score"] == 2 for r in results.values()), results
        assert sorted(spool.result_dirs()) == sorted(f"results/cs101/hw/s{i}/1" for i in range(8))

        rc, rows = check_json(spool)
        assert rc == 0
        for name in ("h1", "h2"):
            row = rows[name]
            assert row["ok"] is True and row["problems"] == [], row
            assert [c["canary"] for c in row["canaries"]] == KINDS, row
            for c in row["canaries"]:
                assert (c["kind"], c["ok"], c["score"], c["expected"], c["problems"]) == \
                    (c["canary"], True, 3, 3, []), c
        stale = [l for l in spool.log_lines() if "dropping stale result" in l.message]
        assert not stale, stale
    assert_nothing_recorded(spool, cluster)


def test_missing_ipython_is_named_and_fails_the_check(cluster, pipeline):
    hidden = ipython_dir()
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    with worker_restarted(cluster, 2, hide=[hidden]):
        p = check(spool)
        assert p.returncode == 1, f"assay workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
        assert_all_ok(p.stdout, "h1")
        canaries, own = lines_of(p.stdout, "h2")
        assert own == ["PROBLEM: it cannot grade: notebook (the canary gradings below say why)"], \
            p.stdout
        assert canaries["notebook"] == "MISSING: " + IPYTHON_MISSING[len("missing: "):], p.stdout
        for kind in ("io", "pytest", "doctest", "gradescope", "property"):
            assert canaries[kind].startswith("ok (3 of 3 points, "), (kind, p.stdout)

        rc, rows = check_json(spool, "h2")
        assert rc == 1 and list(rows) == ["h2"]
        notebook = [c for c in rows["h2"]["canaries"] if c["canary"] == "notebook"][0]
        assert notebook["ok"] is False and notebook["problems"] == [IPYTHON_MISSING], notebook
        assert notebook["score"] < 3, notebook
    p = check(spool, "h2")
    assert p.returncode == 0, p.stdout     # IPython back: the same worker passes
    assert_nothing_recorded(spool, cluster)


def test_a_gradescope_setup_not_run_is_named_with_its_assignment(cluster, pipeline):
    spool = pipeline()
    spool.set_workers(cluster.all_entries())
    gs = gradescope_assignment(spool, "cs101", "gs")
    gradescope_assignment(spool, "cs102", "gpu-only", capability="gpu")   # no worker offers it
    p = check(spool, "h1")
    assert p.returncode == 1, f"assay workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
    canaries, own = lines_of(p.stdout, "h1")
    assert own == ["PROBLEM: it cannot grade: gradescope cs101/gs (the canary gradings below "
                   "say why)"], p.stdout
    assert sorted(canaries) == sorted(KINDS + ["gradescope cs101/gs"]), p.stdout
    said = canaries["gradescope cs101/gs"]
    assert said.startswith("FAILED: the worker could not grade it: ") and NOT_RUN in said, said
    assert "assay gradescope setup" in said, said

    state = make_tempdir("assay-gs-state-")
    try:
        env = {"ASSAY_GRADESCOPE_STATE": state}
        with worker_restarted(cluster, 1, env=env):
            done = subprocess.run([exe("assay"), "gradescope", "setup", gs], capture_output=True,
                                  text=True, timeout=60, env=dict(os.environ, **env))
            assert done.returncode == 0, done.stdout + done.stderr
            p = check(spool, "h1")
            assert p.returncode == 0, p.stdout
            canaries, _ = lines_of(p.stdout, "h1")
            assert canaries["gradescope cs101/gs"].startswith("ok (3 of 3 points, "), p.stdout
    finally:
        remove_tempdir(state)
    assert_nothing_recorded(spool, cluster)


@needs_root
def test_local_worker_canaries_and_a_sandbox_that_cannot_run_gradescope(pipeline):
    """A local worker through the local transport: with the namespace
    sandbox every canary passes; with the rlimit launcher the gradescope
    canary fails with the launcher's own words, and nothing else does."""
    spool = pipeline()
    with scheduler_running(spool):
        wait_health(spool, "local", "up", timeout=30)
        p = check(spool)
        assert p.returncode == 0, f"assay workers check exited {p.returncode}:\n{p.stdout}{p.stderr}"
        assert_all_ok(p.stdout, "local")
    local = spool.workers()[0]
    spool.set_workers([dict(local, sandbox="rlimit")])
    with scheduler_running(spool):
        # health/ still says "up" from the first run: wait for the daemon itself
        wait_for("the local worker's daemon", lambda: worker_daemon_running(spool.worker_dir("local")), 30)
        p = check(spool)
        assert p.returncode == 1, p.stdout
        canaries, _ = lines_of(p.stdout, "local")
        assert "gradescope" in canaries, p.stdout + p.stderr
        assert canaries["gradescope"].startswith("FAILED: "), p.stdout
        assert "namespace sandbox" in canaries["gradescope"], p.stdout
        for kind in ("io", "pytest", "doctest", "notebook", "property"):
            assert canaries[kind].startswith("ok (3 of 3 points, "), (kind, p.stdout)
    assert_nothing_recorded(spool)


@contextlib.contextmanager
def every_uid_leased(installation):
    """Holds the lease of every sandbox uid of INSTALLATION ({"name",
    "uids"}) as a launcher would (a lock on /run/lock/assay/NAME/uid-N),
    so that no sandbox of it can start: its launcher says so itself."""
    first, last = (int(u) for u in installation["uids"].split("-"))
    lock_dir = os.path.join("/run/lock/assay", installation["name"])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = last - first + 1 + 512
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"holding {last - first + 1} leases needs {need} descriptors (hard limit {hard})")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    os.makedirs(lock_dir, exist_ok=True)
    fds = []
    try:
        for u in range(first, last + 1):
            fd = os.open(os.path.join(lock_dir, f"uid-{u}"), os.O_RDWR | os.O_CREAT, 0o600)
            fds.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield f"all {last - first + 1} sandbox uids of this installation ({first}-{last}, " \
              f"leases in {lock_dir}) are in use"
    finally:
        for fd in fds:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@needs_root
def test_a_sandbox_that_cannot_start_is_named_in_its_own_words(pipeline):
    spool = pipeline()
    with every_uid_leased(spool.installation()) as why:
        with scheduler_running(spool):
            wait_health(spool, "local", "up", timeout=30)
            p = check(spool)
    assert p.returncode == 1, p.stdout
    canaries, own = lines_of(p.stdout, "local")
    assert own == [f"PROBLEM: it cannot grade: {', '.join(KINDS)} (the canary gradings below "
                   "say why)"], p.stdout
    for kind in KINDS:
        assert canaries[kind] == ("FAILED: the worker could not grade it: the worker cannot set up its "
                                   f"sandbox: {why}"), (kind, p.stdout)
    assert_nothing_recorded(spool)


def test_a_worker_that_cannot_be_reached_gets_no_canaries(pipeline):
    spool = pipeline()          # no scheduler: its local worker is not running
    p = check(spool)
    assert p.returncode == 1
    assert p.stdout.startswith("local: PROBLEM: no assay-worker is running on "), p.stdout
    assert len(p.stdout.splitlines()) == 1, p.stdout
