"""One contract for every transport (shipper/transport.h), checked on a real
worker of each.

The checks are in tests/contract/transport_contract.c, built by `make test`
into build/tests/transport_contract: it opens a worker of a spool through
transport_open(), as assay-shipper does, and checks probe, push, wait,
pull, results and forget, playing the worker itself in the worker's
directory.  It runs twice per transport: once while the worker is up and
once while it is down.

Each transport is a fixture below that gives a ContractWorker: the spool,
the worker's name, its directory as seen from this machine, and how to
make it "paused" (up and answering, with its assay-worker kept from
grading the driver's archives) and "down".  A new transport adds its
fixture and its name to TRANSPORTS; the test itself stays as it is.
"""
import contextlib
import dataclasses
import os
import signal
import subprocess
import time
from typing import Callable

import pytest

from cluster import make_cluster
from pipeline import BUILD, exe, pipeline  # noqa: F401  (pipeline: a fixture)
from slurm_cluster import slurm_cluster

TRANSPORTS = ["local", "ssh", "slurm"]
DRIVER = os.path.join(BUILD, "tests", "transport_contract")
DRIVER_TIMEOUT_S = 300   # the checks take seconds; this only stops a hang


@dataclasses.dataclass
class ContractWorker:
    spool: str                  # spool root; its workers.json names the worker
    name: str
    dir: str                    # the worker directory, as seen from this machine
    paused: Callable            # () -> context manager: up, grading nothing
    down: Callable              # () -> context manager: not answering
    batch: bool = False         # a batch system's pool: no grading daemon of ours


# ---- local: a worker directory on this machine ----

def wait_started(daemon, log, timeout=30):
    """Waits until assay-worker DAEMON says in LOG that it started: it holds
    its directory's lock by then.  (Trying the lock from here instead
    could make the daemon's own attempt fail.)"""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), open(log, errors="replace") as f:
            if " started on " in f.read():
                return
        if daemon.poll() is not None or time.monotonic() > deadline:
            with contextlib.suppress(OSError), open(log, errors="replace") as f:
                text = f.read()
            pytest.fail(f"assay-worker did not start (exit status {daemon.poll()}):\n{text}")
        time.sleep(0.05)


@contextlib.contextmanager
def local_daemon_paused(spool, name, directory):
    """A real assay-worker on DIRECTORY, stopped (SIGSTOP) once it holds the
    directory's lock: the local transport's probe sees a running worker,
    and nothing takes the driver's archives.  Killed on the way out."""
    log = os.path.join(spool.base, "contract-worker.log")
    # rlimit: it grades nothing, and the namespace sandbox's start-up
    # checks would only add ways for it not to start.
    daemon = subprocess.Popen([exe("assay-worker"), "--dir", directory, "--slots", "1",
                               "--name", name, "--sandbox", "rlimit", "--log", log],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_started(daemon, log)
        daemon.send_signal(signal.SIGSTOP)
        yield
    finally:
        daemon.kill()
        daemon.wait(timeout=10)


@pytest.fixture
def local_worker(pipeline):
    spool = pipeline()
    name = spool.workers()[0]["name"]   # the local worker of `assay init`
    directory = spool.worker_dir(name)
    # Down: paused() killed its daemon, so nothing holds the lock.
    return ContractWorker(spool.root, name, directory,
                          paused=lambda: local_daemon_paused(spool, name, directory),
                          down=contextlib.nullcontext)


# ---- ssh: a host of the test cluster (network namespaces, sshd) ----

@contextlib.contextmanager
def host_daemon_paused(cluster, k):
    """Host K's assay-worker stopped (SIGSTOP) meanwhile: sshd and
    `assay-worker status` still answer, nothing takes the driver's archives."""
    with open(os.path.join(cluster.host_dir(k), "worker.pid")) as f:
        daemon = int(f.read())
    os.kill(daemon, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(daemon, signal.SIGCONT)


@contextlib.contextmanager
def host_cut(cluster, k):
    cluster.cut(k)
    try:
        yield
    finally:
        cluster.restore(k)


@pytest.fixture
def ssh_worker(pipeline):
    with make_cluster(1, ["python"]) as cluster:   # skips, saying why, where it cannot run
        spool = pipeline()
        spool.set_workers([cluster.entry(1)])
        yield ContractWorker(spool.root, "h1", cluster.worker_dir(1),
                             paused=lambda: host_daemon_paused(cluster, 1),
                             down=lambda: host_cut(cluster, 1))


# ---- slurm: a pool of a private Slurm cluster (scripts/test-slurm.sh) ----

@contextlib.contextmanager
def rest_stopped(cluster):
    cluster.script("rest-stop")
    try:
        yield
    finally:
        cluster.script("rest-start")


@pytest.fixture
def slurm_worker(pipeline):
    with slurm_cluster(1) as cluster:   # skips, saying why, where it cannot run
        # Its jobs hold a node and grade nothing: the driver plays the worker.
        hold = os.path.join(cluster.dir, "hold-worker")
        with open(hold, "w") as f:
            f.write(f'#!/bin/sh\n[ "$1" = --version ] && exec {exe("assay-worker")} --version\n'
                    'exec sleep 600\n')
        os.chmod(hold, 0o755)
        spool = pipeline()
        spool.set_workers([cluster.entry("hpc", worker_command=hold)])
        yield ContractWorker(spool.root, "hpc", cluster.shared, paused=contextlib.nullcontext,
                             down=lambda: rest_stopped(cluster), batch=True)


# ---- the test ----

@pytest.fixture(params=TRANSPORTS)
def worker(request):
    return request.getfixturevalue(f"{request.param}_worker")


def run_driver(worker, *args):
    if not os.access(DRIVER, os.X_OK):
        pytest.fail(f"{DRIVER} not found: `make test` builds it")
    p = subprocess.run([DRIVER, "--spool", worker.spool, "--worker", worker.name, *args],
                       capture_output=True, text=True, errors="replace",
                       timeout=DRIVER_TIMEOUT_S, stdin=subprocess.DEVNULL)
    shown = f"transport_contract {' '.join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
    assert p.returncode == 0, shown
    assert "\nok: " in p.stdout and "FAIL" not in p.stdout, shown


def test_transport_keeps_the_contract(worker):
    batch = ["--batch"] if worker.batch else []
    with worker.paused():
        run_driver(worker, "--dir", worker.dir, *batch)
    with worker.down():
        run_driver(worker, "--down", *batch)
