"""The adversarial suite: hostile submissions against the namespace sandbox.

Each case is a submission with the verdict it must get, graded through the
real `assay grade`.  Probes that look for a hole exit 0 when they find
none (verdict "passed") and print what they found otherwise.  After every
grading the slot is checked clean (sbx.assert_slot_clean).  Network cases
only talk to listeners this test starts on 127.0.0.1 or on this host's
own address.
"""
import os
import random
import socket
import subprocess
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbx  # noqa: E402  (puts tests/lib on sys.path)
from assay_helpers import (ASSAY_BIN, by_name, finish_grade, grade_json,  # noqa: E402
                           needs_root, start_grade, tempdir, write_submission)

pytestmark = needs_root


def attack(tmp_path, program, limits=None, files=None, env=None, command="python3 attack.py"):
    """Grades PROGRAM as attack.py in a one-test "command" assignment."""
    a = sbx.security_assignment(tmp_path / "a", [{"name": "attack", "kind": "command",
                                                  "points": 1, "command": command}],
                                limits=limits, files=files)
    s = write_submission(tmp_path / "s", {"attack.py": program})
    r = sbx.grade_clean(a, s, env=env)
    return by_name(r)["attack"]


def expect(t, verdict, *phrases):
    assert t["verdict"] == verdict, t["output"]
    assert t["score"] == (1 if verdict == "passed" else 0)
    for p in phrases:
        assert p in t["output"], (p, t["output"])


# ---- resources ----

def test_fork_bomb(tmp_path):
    t = attack(tmp_path, "import os\nwhile True:\n    try:\n        os.fork()\n"
                         "    except OSError:\n        pass\n",
               limits={"processes": 16, "cpu_s": 1, "wall_s": 20})
    expect(t, "timeout", "CPU time")


def test_thread_bomb(tmp_path):
    t = attack(tmp_path, "import threading, time\nwhile True:\n"
                         "    threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n",
               limits={"processes": 16})
    expect(t, "failed", "can't start new thread")


def test_memory_bomb(tmp_path):
    t = attack(tmp_path, "b = []\nwhile True:\n    b.append(bytearray(1 << 20))\n",
               limits={"memory_mb": 64})
    expect(t, "memory_limit")


def test_memory_held_over_the_limit_while_files_are_not_charged(tmp_path):
    # the cgroup allows the memory limit plus the work area (the files a run
    # writes are charged to it); the run's own pages are held to the limit
    t = attack(tmp_path, "import time\nb = bytearray(150 << 20)\ntime.sleep(2)\n",
               limits={"memory_mb": 64})
    expect(t, "memory_limit")
    files = attack(tmp_path / "files", "with open('f', 'wb') as f:\n"
                   "    for _ in range(150):\n        f.write(b'x' * (1 << 20))\nprint('ok')\n",
                   limits={"memory_mb": 64, "file_mb": 200})
    expect(files, "passed")   # 150 MB of files under a 64 MB memory limit


SYSV_HOARD = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT = 0o1000
seg = libc.shmget(0x5eed, 512 << 20, IPC_CREAT | 0o600)
assert seg >= 0, ctypes.get_errno()
addr = libc.shmat(seg, None, 0)
ctypes.memset(addr, 1, 512 << 20)   # more than the memory limit
"""


def test_sysv_shared_memory_hoarding_counts_as_memory(tmp_path):
    t = attack(tmp_path, SYSV_HOARD, limits={"memory_mb": 64})
    expect(t, "memory_limit")


def test_posix_shared_memory_is_bounded(tmp_path):
    prog = ("import os\nfd = os.open('/dev/shm/hoard', os.O_CREAT | os.O_RDWR)\n"
            "while True:\n    os.write(fd, b'x' * (1 << 20))\n")
    t = attack(tmp_path, prog, limits={"memory_mb": 512, "file_mb": 256})
    expect(t, "failed", "No space left on device")


def test_shared_memory_does_not_outlive_a_run(tmp_path):
    """Test 1 leaves a SysV segment and a /dev/shm file; test 2 (a later
    run in the same slot) must find neither."""
    leave = ("import ctypes, os\nlibc = ctypes.CDLL(None)\n"
             "assert libc.shmget(0x5eed, 4096, 0o1000 | 0o600) >= 0\n"
             "open('/dev/shm/left', 'w').write('x')\n")
    find = ("import ctypes, os, sys\nlibc = ctypes.CDLL(None)\n"
            "seg = libc.shmget(0x5eed, 4096, 0o600)\n"
            "sys.exit(1 if seg >= 0 or os.path.exists('/dev/shm/left') else 0)\n")
    a = sbx.security_assignment(tmp_path / "a", [
        {"name": "leave", "kind": "command", "points": 1, "command": "python3 leave.py"},
        {"name": "find", "kind": "command", "points": 1, "command": "python3 find.py"}])
    s = write_submission(tmp_path / "s", {"leave.py": leave, "find.py": find})
    r = sbx.grade_clean(a, s)
    assert [t["verdict"] for t in r["tests"]] == ["passed", "passed"]


LEAVE = """
import ctypes, os, socket, time
libc = ctypes.CDLL(None)
for d in ("/tmp", "/dev/shm"):
    open(os.path.join(d, "left"), "w").write("x")
assert libc.shmget(0x5eed, 4096, 0o1000 | 0o600) >= 0
assert libc.msgget(0x5eed, 0o1000 | 0o600) >= 0
assert libc.semget(0x5eed, 1, 0o1000 | 0o600) >= 0
s = socket.socket(socket.AF_UNIX)
s.bind("\\0assay-left")
s.listen()
if os.fork() == 0:   # a daemon holding the socket, the files and a changed environment
    os.setsid()
    if os.fork() == 0:
        os.environ["LEFT_BY"] = "the run before"
        time.sleep(30)
    os._exit(0)
os.wait()
"""

FIND = """
import ctypes, os, socket, sys
libc = ctypes.CDLL(None)
found = []
for d in ("/tmp", "/dev/shm"):
    found += [os.path.join(d, n) for n in os.listdir(d)]
for name, call in (("shm", lambda: libc.shmget(0x5eed, 4096, 0o600)),
                   ("msg", lambda: libc.msgget(0x5eed, 0o600)),
                   ("sem", lambda: libc.semget(0x5eed, 1, 0o600))):
    if call() >= 0:
        found.append(name)
mine = {1, os.getpid(), os.getppid()}
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) not in mine:
        try:
            found.append(open(f"/proc/{p}/cmdline").read().replace("\\0", " "))
        except OSError:
            pass
try:
    socket.socket(socket.AF_UNIX).connect("\\0assay-left")
    found.append("abstract socket")
except OSError:
    pass
found += [k for k in os.environ if k == "LEFT_BY"]
print(found)
sys.exit(1 if found else 0)
"""


def test_a_run_finds_nothing_of_the_previous_run(tmp_path):
    """Test 1 leaves files in /tmp and /dev/shm, SysV shared memory, a
    message queue and a semaphore set, a listening abstract socket and a
    daemon with an environment of its own; test 2 (the next run in the
    same slot, whose PID 1 was made ahead while test 1 ran) finds none of
    it.  Run twice, so the second grading's first run follows a run too."""
    a = sbx.security_assignment(tmp_path / "a", [
        {"name": "leave", "kind": "command", "points": 1, "command": "python3 leave.py"},
        {"name": "find", "kind": "command", "points": 1, "command": "python3 find.py"},
        {"name": "find again", "kind": "command", "points": 1, "command": "python3 find.py"}])
    s = write_submission(tmp_path / "s", {"leave.py": LEAVE, "find.py": FIND})
    for _ in range(2):
        r = sbx.grade_clean(a, s)
        assert [t["verdict"] for t in r["tests"]] == ["passed"] * 3, \
            [t["output"] for t in r["tests"]]


def test_filling_the_work_tmpfs(tmp_path):
    prog = ("i = 0\nwhile True:\n    with open(f'fill{i}', 'wb') as f:\n"
            "        f.write(b'x' * (4 << 20))\n    i += 1\n")
    t = attack(tmp_path, prog, limits={"memory_mb": 1024})
    expect(t, "disk_limit", "Wrote more than 256 MB of files")


def test_one_file_over_the_size_limit(tmp_path):
    t = attack(tmp_path, "open('big', 'wb').write(b'x' * (9 << 20))\n", limits={"file_mb": 8})
    expect(t, "output_limit", "larger than 8 MB")


def test_stdout_flood(tmp_path):
    t = attack(tmp_path, "while True:\n    print('flood' * 100)\n", limits={"output_kb": 64})
    expect(t, "output_limit", "more than 64 KB")


def test_sleeping_past_the_wall_limit(tmp_path):
    t = attack(tmp_path, "import time\ntime.sleep(100)\n", limits={"wall_s": 1})
    expect(t, "timeout", "Stopped after 1 s")


def test_multi_process_busy_loop_is_accounted_in_full(tmp_path):
    prog = ("import os\nfor _ in range(3):\n    if os.fork() == 0:\n        break\n"
            "while True:\n    pass\n")
    t = attack(tmp_path, prog, limits={"cpu_s": 1, "wall_s": 20})
    expect(t, "timeout", "CPU time")
    assert t["cpu_s"] >= 1.0   # every process's CPU time, from the cgroup


# ---- the file system ----

HOST_WRITES = """
import os, sys
holes = []
for p in ["/etc/owned", "/usr/owned", "/usr/lib/owned", "/owned", "/proc/owned",
          "/dev/owned", "/run/owned", "/bin/owned", "/lib/owned"]:
    try:
        open(p, "w").write("x")
        holes.append(p)
    except OSError:
        pass
print(holes)
sys.exit(1 if holes else 0)
"""


def test_writing_to_host_paths(tmp_path):
    t = attack(tmp_path, HOST_WRITES)
    expect(t, "passed")
    for p in ["/etc/owned", "/usr/owned", "/usr/lib/owned", "/owned", "/bin/owned"]:
        assert not os.path.exists(p)


SETUID = """
import os, subprocess, sys
gained = []
for cmd in (["/usr/bin/mount", "-t", "tmpfs", "none", "/tmp"], ["/usr/bin/su", "-c", "id -u"],
            ["/usr/bin/newgrp", "root"], ["/usr/bin/passwd", "-S", "root"]):
    if not os.path.exists(cmd[0]):
        continue
    p = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if p.returncode == 0:
        gained.append((cmd, p.stdout))
print(gained)
sys.exit(1 if gained or os.geteuid() == 0 else 0)
"""


def test_setuid_binaries_do_not_raise_privileges(tmp_path):
    # su and newgrp each wait about 1 s before refusing (the delay after a
    # failed authentication): a wall limit well above that, as the limit is
    # not what this checks
    expect(attack(tmp_path, SETUID, limits={"wall_s": 30}), "passed")


HIDDEN = """
import os, sys
found = []
for root, dirs, files in os.walk("/"):
    if root == "/" and "proc" in dirs:
        dirs.remove("proc")
    for name in files:
        path = os.path.join(root, name)
        if name == "attack.py":   # itself: it holds the marker it looks for
            continue
        if name in ("secret_input.txt", "expected.out", "notes.txt"):
            found.append(path)
        elif root.startswith("/run") or root.startswith("/tmp"):
            try:
                if b"HIDDEN-MARK" in open(path, "rb").read(1 << 20):
                    found.append(path)
            except OSError:
                pass
print(found)
sys.exit(1 if found else 0)
"""


def test_reading_the_assignments_hidden_files(tmp_path):
    """Only the files a test needs are in its work directory: the other
    tests' hidden inputs and every expected output stay outside.  Both
    tests walk the sandbox's whole file system, which can take longer than
    the default 5 s on a loaded machine with a cold cache: they get a
    generous wall limit (the limit is not what this case checks)."""
    files = {"tests/secret_input.txt": "HIDDEN-MARK input\n",
             "tests/expected.out": "HIDDEN-MARK expected\n", "tests/notes.txt": "HIDDEN-MARK\n"}
    a = sbx.security_assignment(tmp_path / "a", [
        {"name": "attack", "kind": "command", "points": 1, "command": "python3 attack.py"},
        {"name": "hidden io", "kind": "io", "points": 1, "visibility": "hidden",
         "command": "python3 attack.py", "stdin_file": "tests/secret_input.txt",
         "expected_stdout_file": "tests/expected.out"}], files=files,
        limits={"wall_s": 60, "cpu_s": 30})
    s = write_submission(tmp_path / "s", {"attack.py": HIDDEN})
    r = sbx.grade_clean(a, s, timeout=300)   # two runs of up to 60 s each, and the rest
    expect(by_name(r)["attack"], "passed")


# ---- results read back ----

PLANT_REPORT = """
import os
def test_plants():
    report = ".assay/pytest-report.jsonl"
    os.unlink(report)
    os.{how}
"""


@pytest.mark.parametrize("how", ["symlink(SECRET, report)", "mkfifo(report)",
                                 "link('solution.py', report)"],
                         ids=["symlink", "fifo", "hardlink"])
def test_planted_report_is_not_followed(tmp_path, how):
    """The runner's report is replaced by a symlink to a host file, a FIFO
    or a hard link: the engine reads none of them as a report, so no test
    counts as passed, and the host file's content never shows."""
    secret = tmp_path / "host-secret.txt"
    secret.write_text('{"event": "result", "HOST-SECRET": 1}\n')
    test_file = (PLANT_REPORT.replace("{how}", how)
                 .replace("SECRET", repr(str(secret))))
    a = sbx.security_assignment(tmp_path / "a", [{"name": "plant", "kind": "pytest",
                                                  "points": 2, "files": ["tests/test_plant.py"]}],
                                files={"tests/test_plant.py": test_file})
    s = write_submission(tmp_path / "s", {"solution.py": "x = 1\n"})
    r = sbx.grade_clean(a, s)
    t = by_name(r)["plant"]
    expect(t, "runtime_error", "pytest collected no tests")
    assert "HOST-SECRET" not in str(r)


# ---- processes, signals, the kernel ----

PROC = """
import os, sys
seen = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
leaks = []
for pid in seen:
    for what in ("cmdline", "environ"):
        try:
            data = open(f"/proc/{pid}/{what}", "rb").read()
        except OSError:
            continue
        if b"ASSAY_SECRET" in data or b"grade" in data or b"assignment" in data:
            leaks.append((pid, what))
extra = set(os.environ) - {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL",
                           "PYTHONDONTWRITEBYTECODE", "MPLBACKEND", "TERM"}
print(seen, leaks, extra)
sys.exit(1 if leaks or extra or seen[0] != 1 or len(seen) > 3 else 0)
"""


def test_reading_the_workers_proc_entries_and_environment(tmp_path):
    env = dict(os.environ, ASSAY_SECRET="sekrit-token")
    expect(attack(tmp_path, PROC, env=env), "passed")


PTRACE = """
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
PTRACE_ATTACH, PTRACE_TRACEME = 16, 0
bad = []
if libc.ptrace(PTRACE_ATTACH, 1, None, None) == 0:
    bad.append("attached to PID 1")
if libc.ptrace(PTRACE_TRACEME, 0, None, None) == 0:
    bad.append("traceme")
try:
    open("/proc/1/mem", "rb").read(1)
    bad.append("read /proc/1/mem")
except OSError:
    pass
print(bad)
sys.exit(1 if bad else 0)
"""


def test_ptrace_of_pid_1(tmp_path):
    expect(attack(tmp_path, PTRACE), "passed")


SYSCALLS = """
import ctypes, errno, fcntl, sys, termios
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER, CLONE_NEWNET = 0x10000000, 0x40000000
allowed = []
def refused(name, rc):
    if rc != -1 or ctypes.get_errno() not in (errno.EPERM, errno.ENOSYS):
        allowed.append((name, rc, ctypes.get_errno()))
refused("unshare(user)", libc.unshare(CLONE_NEWUSER))
refused("unshare(net)", libc.unshare(CLONE_NEWNET))
refused("keyctl", libc.syscall(250, 0, -3, 0))          # KEYCTL_GET_KEYRING_ID
refused("add_key", libc.syscall(248, b"user", b"k", b"v", 1, -3))
params = ctypes.create_string_buffer(120)
refused("io_uring_setup", libc.syscall(425, 8, params))
refused("bpf", libc.syscall(321, 0, None, 0))
refused("perf_event_open", libc.syscall(298, None, 0, -1, -1, 0))
refused("mount", libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    allowed.append("TIOCSTI")
except OSError as e:
    if e.errno != errno.EPERM:
        allowed.append(("TIOCSTI", e.errno))
import subprocess
if subprocess.run(["unshare", "-r", "true"], capture_output=True).returncode == 0:
    allowed.append("unshare -r")
print(allowed)
sys.exit(1 if allowed else 0)
"""


def test_namespaces_keyctl_io_uring_tiocsti_are_refused(tmp_path):
    expect(attack(tmp_path, SYSCALLS), "passed")


KILL_ALL = """
import os, signal, sys, time
child = os.fork()
if child == 0:
    time.sleep(60)
    os._exit(0)
os.kill(-1, signal.SIGKILL)      # every process this one may signal, but itself
_, status = os.waitpid(child, 0)
sys.exit(0 if os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9 else 1)
"""


def test_kill_minus_one(tmp_path):
    """kill(-1) reaches only the run's own processes (its child dies), never
    a process of the host (a sleeper of an unprivileged uid survives)."""
    sleeper = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                "sleep", "60"])
    try:
        expect(attack(tmp_path, KILL_ALL), "passed")
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


DAEMON = """
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(30)
        open("survived", "w").write("x")
        os._exit(0)
    os._exit(0)
"""


def test_double_fork_daemon_does_not_outlive_the_run(tmp_path):
    expect(attack(tmp_path, DAEMON), "passed")   # sbx.grade_clean checked no process is left


# ---- the network ----

NETWORK = """
import socket, sys
reached = []
if [n for _, n in socket.if_nameindex()] != ["lo"]:
    reached.append(("interfaces", socket.if_nameindex()))
for host in HOSTS:
    try:
        socket.create_connection((host, TCP_PORT), timeout=2).close()
        reached.append(("tcp", host))
    except OSError:
        pass
    try:
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.sendto(b"hello", (host, UDP_PORT))
    except OSError:
        pass
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect("\\0" + ABSTRACT)
    reached.append("abstract unix socket")
except OSError:
    pass
print(reached)
sys.exit(1 if reached else 0)
"""


def host_addresses():
    """127.0.0.1 and this host's own global IPv4 addresses."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                         capture_output=True, text=True).stdout
    return ["127.0.0.1"] + [line.split()[3].split("/")[0] for line in out.splitlines()]


def test_network_reaches_nothing_on_the_host(tmp_path):
    hosts = host_addresses()
    tcp = socket.socket()
    tcp.bind(("0.0.0.0", 0))
    tcp.listen()
    tcp.settimeout(0.2)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", 0))
    udp.settimeout(0.2)
    abstract = f"assay-security-{random.randrange(10**9)}"
    unix = socket.socket(socket.AF_UNIX)
    unix.bind("\0" + abstract)
    unix.listen()
    unix.settimeout(0.2)
    got = []

    def listen():
        for s in (tcp, udp, unix):
            try:
                got.append(s.accept() if s is not udp else s.recvfrom(100))
            except OSError:
                pass
    prog = (NETWORK.replace("HOSTS", repr(hosts)).replace("TCP_PORT", str(tcp.getsockname()[1]))
            .replace("UDP_PORT", str(udp.getsockname()[1])).replace("ABSTRACT", repr(abstract)))
    try:
        t = attack(tmp_path, prog)
        listener = threading.Thread(target=listen)
        listener.start()
        listener.join()
        expect(t, "passed")
        assert got == []
    finally:
        tcp.close()
        udp.close()
        unix.close()


TIME_WAIT_LEAVE = """
import socket
server = socket.socket()
server.bind(("127.0.0.1", 40404))
server.listen()
client = socket.create_connection(("127.0.0.1", 40404))
conn, _ = server.accept()
conn.close()      # the side that closes first keeps the connection in TIME_WAIT
client.close()
server.close()
states = [line.split()[3] for line in open("/proc/net/tcp").readlines()[1:]]
assert "06" in states, states   # 06: TIME_WAIT, as the next run must not find it
"""

TIME_WAIT_FIND = """
import socket, sys
left = open("/proc/net/tcp").readlines()[1:] + open("/proc/net/tcp6").readlines()[1:]
s = socket.socket()
s.bind(("127.0.0.1", 40404))   # no SO_REUSEADDR: a TIME_WAIT left here would refuse it
table = open("/proc/sys/net/ipv4/tcp_ehash_entries").read().strip()
print(left, table)
sys.exit(1 if left or table != "1024" else 0)
"""


def test_a_runs_connections_are_its_own(tmp_path):
    """A run that leaves a loopback connection in TIME_WAIT leaves nothing
    for the next run: its TCP table is empty and the port binds without
    SO_REUSEADDR.  The run's TCP table is its own, of 1024 buckets (the
    keeper's network namespace sets net.ipv4.tcp_child_ehash_entries): a
    namespace that shares the host's table reads the host's size, negated."""
    a = sbx.security_assignment(tmp_path / "a", [
        {"name": "leave", "kind": "command", "points": 1, "command": "python3 leave.py"},
        {"name": "find", "kind": "command", "points": 1, "command": "python3 find.py"}])
    s = write_submission(tmp_path / "s", {"leave.py": TIME_WAIT_LEAVE, "find.py": TIME_WAIT_FIND})
    r = sbx.grade_clean(a, s)
    assert [t["verdict"] for t in r["tests"]] == ["passed", "passed"], \
        [t["output"] for t in r["tests"]]


# ---- two slots at once ----

NEIGHBOUR = """
import fcntl, os, sys, time
me = ME
open(f"/dev/shm/{me}", "w").write(me)
lock = open("/tmp/shared.lock", "w")
fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)   # fails if the other holds it
time.sleep(2)                                      # both runs overlap here
others = [n for n in os.listdir("/dev/shm") if n != me]
procs = [p for p in os.listdir("/proc") if p.isdigit()]
signalled = []
for pid in range(2, 400):
    if str(pid) in procs:
        continue
    try:
        os.kill(pid, 0)
        signalled.append(pid)
    except OSError:
        pass
print(others, procs, signalled)
sys.exit(1 if others or signalled or len(procs) > 3 else 0)
"""


def test_two_slots_at_once_cannot_see_or_signal_each_other(tmp_path):
    runs = []
    for me in ("left", "right"):
        a = sbx.security_assignment(tmp_path / me / "a", [
            {"name": "attack", "kind": "command", "points": 1, "command": "python3 attack.py"}],
            limits={"wall_s": 30})   # each sleeps 2 s; the limit is not what this checks
        s = write_submission(tmp_path / me / "s",
                             {"attack.py": NEIGHBOUR.replace("ME", repr(me))})
        runs.append(start_grade(a, s))
    results = [sbx.sandboxed(finish_grade(p)[0]) for p in runs]
    slots = [r["assay"]["sandbox_slot"] for r in results]
    assert slots[0] != slots[1]
    for r in results:
        expect(by_name(r)["attack"], "passed")
    for slot in slots:
        sbx.assert_slot_clean(slot)


# ---- degradation ----

def test_refuses_to_start_without_root_and_says_what_to_do():
    with tempdir("assay-security-") as base:   # not tmp_path: uid 65534 must reach it
        a = sbx.security_assignment(os.path.join(base, "a"), [
            {"name": "attack", "kind": "command", "points": 1, "command": "true"}])
        s = write_submission(os.path.join(base, "s"), {"attack.py": "pass\n"})
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            ASSAY_BIN, "grade", a, s, "--json"], capture_output=True, text=True)
    assert p.returncode != 0
    assert "the namespace sandbox must run as root" in p.stderr
    assert "--sandbox rlimit" in p.stderr


def test_rlimit_mode_is_recorded(tmp_path):
    a = sbx.security_assignment(tmp_path / "a", [
        {"name": "attack", "kind": "command", "points": 1, "command": "python3 attack.py"}])
    s = write_submission(tmp_path / "s", {"attack.py": "pass\n"})
    r, _ = grade_json(a, s, "--sandbox", "rlimit")
    assert r["assay"]["sandbox"] == "rlimit"
    assert "sandbox_slot" not in r["assay"]
