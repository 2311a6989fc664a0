"""Helpers for the end-to-end tests of the SSH cluster.

A Cluster is a set of worker hosts made by scripts/test-cluster.sh: host k
is a network namespace joined to this machine by a veth pair (10.X.k.1
here, 10.X.k.2 there, X a block the script finds free) running Debian's
sshd and an assay-worker.  The
script writes DIR/workers.json (a JSON list of worker entries),
DIR/known_hosts and DIR/id_ed25519; `test-cluster.sh down DIR` removes the
namespaces, links and processes.

`cluster_or_skip` says why the cluster cannot be built here (not root, no
`ip netns`, no sshd), or None.
`scheduler_running(spool)` starts a spool's scheduler and, whatever
happens, stops it with SIGTERM and checks no assay-shipper of that spool
outlives it.
"""
import contextlib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess

import pytest

from assay_helpers import (BUILD, REPO_ROOT, installation_args, make_tempdir, poll, processes,
                           processes_using, remove_tempdir, wait_for)

SCRIPT = os.path.join(REPO_ROOT, "scripts", "test-cluster.sh")


def _run(argv, timeout=60, check=False):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL, errors="replace")
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
    return p


def cluster_or_skip(n_hosts):
    """A reason the test cluster cannot run on this machine, or None."""
    if os.geteuid() != 0:
        return "the SSH cluster tests need root (network namespaces, sshd, veth links)"
    if not shutil.which("ip"):
        return "the SSH cluster tests need `ip` (iproute2)"
    try:
        p = _run(["ip", "netns", "list"], timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`ip netns` is unavailable: {exc}"
    if p.returncode != 0:
        return f"`ip netns` is unavailable here: {p.stderr.strip()}"
    for tool in ("/usr/sbin/sshd", "ssh-keygen", "useradd", "md5sum"):
        if not (os.access(tool, os.X_OK) if tool.startswith("/") else shutil.which(tool)):
            return f"the SSH cluster tests need {tool} (Debian's openssh-server / openssh-client)"
    for prog in ("assay", "assay-scheduler", "assay-shipper", "assay-worker"):
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            return f"{BUILD}/{prog} is missing (run make)"
    return None


def _kill(pid):
    """SIGKILL to PID; False when it had already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


def _ended(pid):
    """True once PID has exited (gone, or a zombie: its sockets closed)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


class Cluster:
    """The hosts h1..hN of one test-cluster.sh directory."""

    def __init__(self, directory, n_hosts, caps):
        self.dir = os.path.realpath(directory)
        self.n = n_hosts
        self.caps = caps
        self.tag = hashlib.md5(self.dir.encode()).hexdigest()[:6]   # as test-cluster.sh does
        self.cut_links = set()

    # ---- starting and stopping ----

    def up(self):
        env = dict(os.environ, ASSAY_BUILD=BUILD,
                   ASSAY_WORKER_INSTALLATION=shlex.join(installation_args()))
        p = subprocess.run(["sh", SCRIPT, "up", self.dir, str(self.n), *self.caps],
                           capture_output=True, text=True, timeout=180, env=env,
                           stdin=subprocess.DEVNULL, errors="replace")
        if p.returncode != 0:
            raise RuntimeError(f"test-cluster.sh up exited {p.returncode}:\n{p.stdout}\n{p.stderr}")
        with open(os.path.join(self.dir, "workers.json")) as f:
            self.entries = json.load(f)
        assert [e["name"] for e in self.entries] == [f"h{k}" for k in range(1, self.n + 1)], \
            f"test-cluster.sh wrote unexpected workers: {self.entries}"

    def down(self):
        for k in list(self.cut_links):
            self.restore(k)
        p = subprocess.run(["sh", SCRIPT, "down", self.dir], capture_output=True, text=True,
                           timeout=120, stdin=subprocess.DEVNULL, errors="replace")
        return p

    def leftovers(self):
        """What `down` should have removed but did not."""
        left = []
        netns = _run(["ip", "netns", "list"], timeout=10).stdout
        for k in range(1, self.n + 1):
            if self.ns(k) in netns:
                left.append(f"network namespace {self.ns(k)}")
        links = _run(["ip", "-o", "link", "show"], timeout=10).stdout
        for k in range(1, self.n + 1):
            if re.search(rf"^\d+:\s+{self.host_link(k)}[@:]", links, re.M):
                left.append(f"link {self.host_link(k)}")
        for p in processes_using([self.dir]):
            left.append(f"process {p.pid}")
        return left

    # ---- names ----

    def ns(self, k):
        return f"assay-{self.tag}-h{k}"

    def host_link(self, k):
        return f"a{self.tag}{k}"

    def ns_link(self, k):
        return f"b{self.tag}{k}"

    def address(self, k):
        return self.entries[k - 1]["host"]

    def host_dir(self, k):
        return os.path.join(self.dir, f"h{k}")

    def worker_dir(self, k):
        return os.path.join(self.host_dir(k), "worker")

    def known_hosts(self):
        return os.path.join(self.dir, "known_hosts")

    def entry(self, k, **changes):
        e = dict(self.entries[k - 1])
        e.update(changes)
        return e

    def all_entries(self, common=None, **per_host):
        """Entries for h1..hN; COMMON applies to all, PER_HOST (h2={...}) to one."""
        out = []
        for k in range(1, self.n + 1):
            e = self.entry(k, **(common or {}))
            e.update(per_host.get(f"h{k}", {}))
            out.append(e)
        return out

    # ---- host keys ----

    def host_key_line(self, k):
        with open(os.path.join(self.host_dir(k), "ssh_host_ed25519_key.pub")) as f:
            kind, blob = f.read().split()[:2]
        return f"{self.address(k)} {kind} {blob}\n"

    def fingerprint(self, k):
        """"SHA256:..." of host k's real key, as ssh-keygen -l prints it."""
        p = _run(["ssh-keygen", "-lf", os.path.join(self.host_dir(k), "ssh_host_ed25519_key.pub")],
                 check=True)
        m = re.search(r"(SHA256:\S+)", p.stdout)
        assert m, f"no fingerprint in ssh-keygen -l output: {p.stdout!r}"
        return m.group(1)

    # ---- the links ----

    def cut(self, k):
        """Cuts host k off: its end of the veth pair goes down (the host's
        end loses its carrier and keeps its route, so nothing for
        10.X.k.2 leaves this machine)."""
        self.cut_links.add(k)
        _run(["ip", "netns", "exec", self.ns(k), "ip", "link", "set", self.ns_link(k), "down"],
             check=True)

    def restore(self, k):
        _run(["ip", "netns", "exec", self.ns(k), "ip", "link", "set", self.ns_link(k), "up"],
             check=True)
        self.cut_links.discard(k)

    # ---- what is on a host ----

    def archives(self, k, sub):
        """Archive names (ID.TOKEN.zip) in host k's worker SUB directory."""
        try:
            return sorted(n for n in os.listdir(os.path.join(self.worker_dir(k), sub))
                          if n.endswith(".zip") and not n.startswith("."))
        except FileNotFoundError:
            return []

    # ---- a host's processes: its grading daemon and its sshd ----

    def daemon_pid(self, k):
        """The pid of host k's assay-worker daemon."""
        with open(os.path.join(self.host_dir(k), "worker.pid")) as f:
            return int(f.read())

    def start_daemon(self, k):
        """Starts host k's assay-worker again, as test-cluster.sh does (in its
        network namespace only: see the script), and waits until its
        heartbeat is fresh."""
        h = self.host_dir(k)
        # through a shell that exits at once, as the script's daemon is: it
        # is not this process's child, so when killed it leaves no zombie
        # (a zombie's pid still "exists", and the daemon would look hung)
        cmd = (f"nsenter --net=/run/netns/{self.ns(k)} {os.path.join(BUILD, 'assay-worker')} "
               f"--dir {self.worker_dir(k)} --slots 2 --name h{k} "
               f"{shlex.join(installation_args())} </dev/null >/dev/null 2>&1 & echo $!")
        pid = int(_run(["sh", "-c", cmd], check=True).stdout.strip())
        with open(os.path.join(h, "worker.pid"), "w") as f:
            f.write(f"{pid}\n")
        beat = os.path.join(self.worker_dir(k), "heartbeat")

        def beating():
            try:
                with open(beat) as f:
                    return json.load(f).get("pid") == pid
            except (OSError, ValueError):
                return False
        wait_for(f"h{k}'s new assay-worker to start", beating, 30, 0.05)
        return pid

    def sshd_pids(self, k):
        """{pid: True for the listener, False for a session} of host k's sshd."""
        with open(os.path.join(self.host_dir(k), "sshd.pid")) as f:
            listener = int(f.read())
        out = _run(["ip", "netns", "pids", self.ns(k)], timeout=10).stdout.split()
        found = {}
        for pid in map(int, out):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    if f.read().strip() == "sshd":
                        found[pid] = pid == listener
            except OSError:
                pass
        return found

    def kill_sshd(self, k, sessions_only=False):
        """Kills host k's sshd (SIGKILL): its sessions, and unless
        SESSIONS_ONLY its listener too -- first, and gone before the
        sessions die, so a client that connects again on losing its
        session is refused rather than caught by a listener half dead
        (its backlog reset before the banner).  Returns the pids killed."""
        killed = []
        if not sessions_only:
            listener = [pid for pid, is_listener in self.sshd_pids(k).items() if is_listener]
            for pid in listener:
                if _kill(pid):
                    killed.append(pid)
            wait_for(f"h{k}'s sshd listener to end",
                     lambda: all(_ended(pid) for pid in listener), 30, 0.02)
        for pid, is_listener in self.sshd_pids(k).items():
            if not is_listener and _kill(pid):
                killed.append(pid)
        return killed

    def start_sshd(self, k):
        """Starts host k's sshd again, as test-cluster.sh does, and waits
        until it listens."""
        h = self.host_dir(k)
        _run(["ip", "netns", "exec", self.ns(k), "/usr/sbin/sshd", "-f",
              os.path.join(h, "sshd_config"), "-E", os.path.join(h, "sshd.log")], check=True)
        wait_for(f"h{k}'s sshd to listen",
                 lambda: _run(["ip", "netns", "exec", self.ns(k), "bash", "-c",
                               f"exec 3<>/dev/tcp/{self.address(k)}/22"],
                              timeout=10).returncode == 0, 30, 0.1)

    def grader_pids(self, k):
        """{job id: pid} of host k's graders: the children of its assay-worker
        that call themselves `assay-worker grade-one JOB_ID ...`."""
        with open(os.path.join(self.host_dir(k), "worker.pid")) as f:
            daemon = int(f.read())
        return {p.argv[2]: p.pid for p in processes()
                if p.ppid == daemon and p.argv[1:2] == ["grade-one"] and len(p.argv) > 2}


@contextlib.contextmanager
def make_cluster(n_hosts, caps):
    """Builds the cluster in a fresh directory; always tears it down."""
    reason = cluster_or_skip(n_hosts)
    if reason:
        pytest.skip(reason)
    # the hosts' account (assay-ci) must reach its worker directory
    base = make_tempdir("assay-cluster-", parent="/tmp")
    c = Cluster(base, n_hosts, caps)
    try:
        try:
            c.up()
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            pytest.fail(f"cannot build the test cluster: {exc}")
        yield c
    finally:
        p = c.down()
        left = c.leftovers()
        remove_tempdir(base)
        if p.returncode != 0 or left:
            # test-cluster.sh down left something behind: say so loudly.
            print(f"test-cluster.sh down exited {p.returncode} ({p.stderr.strip()}); "
                  f"left behind: {left}")


# ---- a spool's scheduler ----

@contextlib.contextmanager
def scheduler_running(spool):
    """Starts SPOOL's scheduler; on the way out stops it with SIGTERM, waits,
    and fails the test if any assay-shipper of the spool survived it."""
    spool.start()
    failed = True
    try:
        yield spool
        failed = False
    finally:
        p = spool.sched
        spool.cont_all()
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
            in_time = True
        except subprocess.TimeoutExpired:
            in_time = False
        survivors = poll(spool.shippers, 5, 0.05, until=lambda procs: not procs)
        spool.stop()            # kills the process group if anything is left
        spool.kill_leftovers()
        if not failed:
            assert in_time, "assay-scheduler did not stop within 20 s of SIGTERM"
            assert not survivors, (f"assay-shipper processes of the spool survived the "
                                   f"scheduler's SIGTERM: {survivors}")


def health(spool, worker):
    """health/WORKER.json of SPOOL, or None."""
    try:
        with open(spool.path("health", f"{worker}.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def wait_health(spool, worker, status, timeout=30, reason_has=()):
    """Waits until health/WORKER.json says STATUS (and its reason holds
    every string in REASON_HAS); returns the record."""
    last = [None]

    def ok():
        h = last[0] = health(spool, worker)
        if h and h.get("status") == status and all(s in (h.get("reason") or "")
                                                   for s in reason_has):
            return h
        return None

    return wait_for(f"health/{worker}.json to say {status!r}"
                    f"{' with ' + repr(reason_has) if reason_has else ''}", ok, timeout, 0.05,
                    context=lambda: f"last: {last[0]}\n--- log tail ---\n"
                                    f"{spool.log_text()[-5000:]}")


def workers_table(spool):
    """`assay workers` as {name: the row's line, plus its reason line if any}."""
    out = spool.assay_ok("workers")
    rows = {}
    current = None
    for line in out.splitlines()[1:]:
        if line.startswith("    ") and current:
            rows[current] += "\n" + line
        elif line.strip():
            current = line.split()[0]
            rows[current] = line
    return rows
