"""Helpers for the end-to-end tests of the slurm transport.

A SlurmCluster is a private Slurm cluster made by scripts/test-slurm.sh in
a fresh directory: munged, slurmctld, slurmd w1..wN (each in a network
namespace of its own) and slurmrestd, with free ports.  `entry()` is a
workers.json entry for a pool of it; the shared directory is DIR/shared.

`slurm_or_skip()` says why the cluster cannot be built here, or None.
"""
import contextlib
import json
import os
import shlex
import shutil
import subprocess

import pytest

from assay_helpers import (BUILD, REPO_ROOT, installation_args, make_tempdir, processes_using,
                           remove_tempdir)

SCRIPT = os.path.join(REPO_ROOT, "scripts", "test-slurm.sh")


def slurm_or_skip():
    """A reason the test Slurm cluster cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "the Slurm tests need root (munged, slurmd, network namespaces)"
    for tool in ("/usr/sbin/slurmctld", "/usr/sbin/slurmd", "/usr/sbin/slurmrestd",
                 "/usr/sbin/munged", "sbatch", "scontrol", "ip", "nsenter"):
        if not (os.access(tool, os.X_OK) if tool.startswith("/") else shutil.which(tool)):
            return f"the Slurm tests need {tool} (scripts/install-deps.sh installs it)"
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/slurm-wlm/auth_jwt.so"):
        return "the Slurm tests need slurm-wlm-jwt-plugin (scripts/install-deps.sh installs it)"
    for prog in ("assay", "assay-scheduler", "assay-shipper", "assay-worker"):
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            return f"{BUILD}/{prog} is missing (run make)"
    return None


class SlurmCluster:
    def __init__(self, directory, nodes):
        self.dir = os.path.realpath(directory)
        self.nodes = nodes

    def script(self, *args, timeout=120, check=True):
        p = subprocess.run(["sh", SCRIPT, args[0], self.dir, *map(str, args[1:])],
                           capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, errors="replace")
        if check and p.returncode != 0:
            raise RuntimeError(f"test-slurm.sh {' '.join(map(str, args))} exited "
                               f"{p.returncode}:\n{p.stdout}\n{p.stderr}")
        return p

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read().strip()

    @property
    def url(self):
        return self.read("url")

    @property
    def token_file(self):
        return os.path.join(self.dir, "token")

    @property
    def shared(self):
        return os.path.join(self.dir, "shared")

    def worker_command(self):
        """The nodes' assay-worker, as the test installation (its uids, slot
        directories and cgroups: never a live installation's), through a
        wrapper script in the cluster's directory."""
        path = os.path.join(self.dir, "assay-worker")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexec " + shlex.join([os.path.join(BUILD, "assay-worker")]) +
                        ' "$@" ' + shlex.join(installation_args()) + "\n")
            os.chmod(path, 0o755)
        return path

    def entry(self, name="hpc", slots=6, capabilities=("python",), **extra):
        """A workers.json entry for a pool of this cluster's partition."""
        e = {"name": name, "transport": "slurm", "url": self.url, "user": "root",
             "token_file": self.token_file, "partition": "assay", "shared_dir": self.shared,
             "worker_command": self.worker_command(), "slots": slots,
             "capabilities": list(capabilities), "timeout_margin_s": 30}
        e.update(extra)
        return e

    def env(self):
        return dict(os.environ, SLURM_CONF=os.path.join(self.dir, "slurm.conf"))

    def command(self, *argv, timeout=30):
        p = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                           env=self.env(), stdin=subprocess.DEVNULL, errors="replace")
        return p

    def jobs(self):
        """[(slurm id, name, state, node)] of every job Slurm still knows."""
        p = self.command("squeue", "--noheader", "--states=all", "--format=%i|%j|%T|%N")
        out = []
        for line in p.stdout.splitlines():
            parts = line.split("|")
            if len(parts) == 4:
                out.append((int(parts[0]), parts[1], parts[2], parts[3]))
        return out

    def node_states(self):
        p = self.command("sinfo", "--noheader", "--Node", "--format=%N %T")
        return dict(line.split() for line in p.stdout.splitlines() if line.strip())


@contextlib.contextmanager
def slurm_cluster(nodes=3):
    """A running test Slurm cluster of NODES nodes (skips, saying why,
    where it cannot run); stopped and removed on the way out."""
    why = slurm_or_skip()
    if why:
        pytest.skip(why)
    d = make_tempdir("assay-slurm-")
    c = SlurmCluster(d, nodes)
    try:
        c.script("up", nodes)
        yield c
    finally:
        c.script("down", check=False)
        left = [p.pid for p in processes_using([c.dir])]
        remove_tempdir(d)
        assert not left, f"test-slurm.sh down left processes {left}"


def write_json(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f)
