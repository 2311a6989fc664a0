"""scripts/deploy-worker.sh: installing a worker host.

The script is run with --root PREFIX into tmp_path, so nothing on this
machine changes: it writes the binary, the worker directory, the
primary's key in authorized_keys and the systemd unit under PREFIX, and
prints the workers.json entry, which must be accepted by the real
workers.json parser (`assay workers`).  Running it twice must be fine.

Its last step, the canary gradings, runs when an assay-worker runs on the
directory: the tests start one under PREFIX (as root, with the test
installation's uids), once with everything and once in a mount namespace
where IPython's directory is covered by an empty tmpfs.
"""
import contextlib
import json
import os
import pwd
import re
import shlex
import signal
import stat
import subprocess

import pytest

from assay_helpers import (IS_ROOT, REPO_ROOT, exe, installation_args, make_tempdir,
                           remove_tempdir, wait_for, worker_daemon_running)

SCRIPT = os.path.join(REPO_ROOT, "scripts", "deploy-worker.sh")
RESTRICTIONS = ("no-port-forwarding", "no-agent-forwarding", "no-X11-forwarding", "no-pty")


def deploy(*args, timeout=60):
    return subprocess.run([SCRIPT, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def pubkey(tmp_path):
    """A fresh ed25519 key pair standing for the primary's; returns the .pub path."""
    key = tmp_path / "primary" / "id_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "primary@test",
                    "-f", str(key)], check=True, capture_output=True)
    return str(key) + ".pub"


@pytest.fixture
def worker_binary():
    return exe("assay-worker")


def key_fields(pub):
    with open(pub) as f:
        return f.read().split()[:2]   # type, base64


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    return p


def printed_entry(stdout):
    """The workers.json entry the script printed, parsed."""
    m = re.search(r'^\s*(\{"name".*?\})\s*$', stdout, re.S | re.M)
    assert m, f"no workers.json entry in the output:\n{stdout}"
    return json.loads(m.group(1))


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_help_exits_0():
    p = deploy("--help")
    assert p.returncode == 0, p.stderr
    for word in ("--pubkey", "--name", "--slots", "--dir", "--user", "--binary", "--root",
                 "--no-start"):
        assert word in p.stdout, word
    assert p.stderr == ""


def test_missing_pubkey_is_a_usage_error(tmp_path, worker_binary):
    p = deploy("--root", tmp_path / "root", "--binary", worker_binary)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "--pubkey FILE is required" in p.stderr
    assert "ssh-keygen" in p.stderr          # says how to make one
    assert not (tmp_path / "root" / "usr").exists()


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "unknown option"),
    (["--slots", "0"], "--slots must be a whole number from 1 to 256"),
    (["--slots", "many"], "--slots must be a whole number from 1 to 256"),
    (["--name", "a b"], "--name"),
    (["--dir", "relative/dir"], "--dir must be an absolute path"),
    (["--user", "Bad User"], "not a valid account name"),
    (["--capabilities", "python,,gpu"], "--capabilities"),
    (["--pubkey"], "--pubkey needs a value"),
])
def test_bad_options_are_usage_errors(tmp_path, pubkey, worker_binary, args, message):
    p = deploy("--pubkey", pubkey, "--root", tmp_path / "root", "--binary", worker_binary, *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert message in p.stderr
    assert "--help" in p.stderr


def test_private_key_or_garbage_is_refused(tmp_path, pubkey, worker_binary):
    private = pubkey[:-len(".pub")]
    p = deploy("--pubkey", private, "--root", tmp_path / "root", "--binary", worker_binary)
    assert p.returncode == 1
    assert "PRIVATE key" in p.stderr
    junk = tmp_path / "junk.pub"
    junk.write_text("hello world\n")
    p = deploy("--pubkey", junk, "--root", tmp_path / "root", "--binary", worker_binary)
    assert p.returncode == 1
    assert "does not hold an SSH public key" in p.stderr
    p = deploy("--pubkey", tmp_path / "absent.pub", "--root", tmp_path / "root",
               "--binary", worker_binary)
    assert p.returncode == 1
    assert "cannot read the public key file" in p.stderr


def test_missing_binary_is_refused(tmp_path, pubkey):
    p = deploy("--pubkey", pubkey, "--root", tmp_path / "root", "--binary", tmp_path / "nope")
    assert p.returncode == 1
    assert "no such file" in p.stderr


def test_installs_everything_under_root(tmp_path, pubkey, worker_binary):
    root = tmp_path / "root"
    before = os.path.exists("/etc/systemd/system/assay-worker.service")
    p = ok(deploy("--pubkey", pubkey, "--root", root, "--binary", worker_binary, "--name", "w1",
                  "--slots", "3", "--host", "192.0.2.7", "--capabilities", "python,gpu"))

    # the binary
    binary = root / "usr/local/bin/assay-worker"
    assert os.access(binary, os.X_OK)
    assert binary.read_bytes() == open(worker_binary, "rb").read()
    v = subprocess.run([str(binary), "--version"], capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.startswith("assay-worker ")

    # the unit: runs as root (for the run uids) with this worker's flags
    unit = (root / "etc/systemd/system/assay-worker.service").read_text()
    assert ("\nExecStart=/usr/local/bin/assay-worker --dir /var/lib/assay-worker --slots 3 "
            "--name w1\n") in unit
    for line in ("User=root", "Restart=on-failure", "KillMode=mixed",
                 "WantedBy=multi-user.target"):
        assert f"\n{line}\n" in unit, line

    # the worker directory: inbox/active/outbox closed to everyone but the
    # account; tmp/ passable (not listable) for the run uids
    wdir = root / "var/lib/assay-worker"
    assert mode(wdir) == 0o711
    for sub, m in (("inbox", 0o700), ("active", 0o700), ("outbox", 0o700), ("tmp", 0o711),
                   ("logs", 0o700)):
        assert (wdir / sub).is_dir(), sub
        assert mode(wdir / sub) == m, sub

    # the key, restricted
    lines = (wdir / ".ssh/authorized_keys").read_text().splitlines()
    assert len(lines) == 1
    opts, ktype, blob = lines[0].split()[:3]
    assert [ktype, blob] == key_fields(pubkey)
    assert set(RESTRICTIONS) <= set(opts.split(","))
    assert "primary@test" in lines[0]
    assert mode(wdir / ".ssh/authorized_keys") & 0o022 == 0   # sshd's StrictModes

    # nothing outside the prefix
    assert os.path.exists("/etc/systemd/system/assay-worker.service") == before
    assert "not created: --root" in p.stdout
    # no worker runs there: the canary gradings are left for later, saying how
    assert ("Canary gradings: not run, the service is not running here; once it is: "
            "/usr/local/bin/assay-worker canary --dir /var/lib/assay-worker\n") in p.stdout

    # what to do on the primary
    assert "ssh-keyscan -p 22 192.0.2.7 >> /var/spool/assay/keys/known_hosts" in p.stdout
    assert "ssh-keygen -lf" in p.stdout
    e = printed_entry(p.stdout)
    assert e == {"name": "w1", "transport": "ssh", "host": "192.0.2.7", "port": 22,
                 "user": "assay", "key": "keys/id_ed25519", "known_hosts": "keys/known_hosts",
                 "remote_dir": "/var/lib/assay-worker",
                 "worker_command": "/usr/local/bin/assay-worker", "slots": 3,
                 "capabilities": ["python", "gpu"], "enabled": True, "timeout_margin_s": 10,
                 "min_free_mb": 100}


def test_printed_entry_is_a_valid_workers_json(tmp_path, pubkey, worker_binary):
    p = ok(deploy("--pubkey", pubkey, "--root", tmp_path / "root", "--binary", worker_binary,
                  "--name", "lab-3", "--slots", "2", "--host", "lab3.example.org"))
    spool = tmp_path / "spool"
    assay = exe("assay")
    subprocess.run([assay, "init", str(spool)], check=True, capture_output=True)
    (spool / "workers.json").write_text(json.dumps({"workers": [printed_entry(p.stdout)]}))
    w = subprocess.run([assay, "workers", "--spool", str(spool), "--json"], capture_output=True,
                       text=True, timeout=30)
    assert w.returncode == 0, w.stderr
    rows = json.loads(w.stdout)
    assert [(r["name"], r["transport"], r["host"], r["slots"]) for r in rows] == \
        [("lab-3", "ssh", "lab3.example.org", 2)]


def test_running_twice_is_fine(tmp_path, pubkey, worker_binary):
    root = tmp_path / "root"
    args = ["--pubkey", pubkey, "--root", root, "--binary", worker_binary, "--name", "w1",
            "--slots", "2"]
    first = ok(deploy(*args))
    ak = root / "var/lib/assay-worker/.ssh/authorized_keys"
    unit = root / "etc/systemd/system/assay-worker.service"
    unit_text = unit.read_text()
    # an admin's own key, added by hand, must survive a second run
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBtcC8eKcQkgzTuh0uFGcCqXIl7JvDlJqcqUHPs1QNYy admin\n"
    with open(ak, "a") as f:
        f.write(other)
    (root / "var/lib/assay-worker/inbox/queued.zip").write_text("a job waiting")

    second = ok(deploy(*args))
    assert printed_entry(second.stdout) == printed_entry(first.stdout)
    assert unit.read_text() == unit_text
    lines = ak.read_text().splitlines()
    ours = [l for l in lines if key_fields(pubkey)[1] in l]
    assert len(ours) == 1                       # not added twice
    assert other.strip() in lines               # the other key kept
    assert (root / "var/lib/assay-worker/inbox/queued.zip").read_text() == "a job waiting"
    assert not [n for n in os.listdir(ak.parent) if ".new." in n]    # no leftovers
    assert not [n for n in os.listdir(unit.parent) if ".new." in n]

    # a third run with other settings rewrites the unit
    ok(deploy(*args[:-1], "6"))
    assert "--slots 6 --name w1\n" in unit.read_text()


def test_other_dir_user_and_from(tmp_path, pubkey, worker_binary):
    root = tmp_path / "root"
    p = ok(deploy("--pubkey", pubkey, "--root", root, "--binary", worker_binary, "--name", "g1",
                  "--dir", "/srv/grading", "--user", "grader", "--from", "192.0.2.1",
                  "--port", "2222", "--host", "192.0.2.9"))
    assert (root / "srv/grading/inbox").is_dir()
    unit = (root / "etc/systemd/system/assay-worker.service").read_text()
    assert "ExecStart=/usr/local/bin/assay-worker --dir /srv/grading --slots " in unit
    line = (root / "srv/grading/.ssh/authorized_keys").read_text()
    assert line.startswith('from="192.0.2.1",no-port-forwarding,')
    assert "ssh-keyscan -p 2222 192.0.2.9" in p.stdout
    e = printed_entry(p.stdout)
    assert (e["user"], e["port"], e["remote_dir"]) == ("grader", 2222, "/srv/grading")


@pytest.mark.skipif(not IS_ROOT, reason="chown needs root")
def test_directories_go_to_an_existing_account(tmp_path, pubkey, worker_binary):
    # --root creates no account, but gives the directories to one that exists
    root = tmp_path / "root"
    ok(deploy("--pubkey", pubkey, "--root", root, "--binary", worker_binary, "--user", "nobody"))
    uid = pwd.getpwnam("nobody").pw_uid
    wdir = root / "var/lib/assay-worker"
    for sub in ("inbox", "active", "outbox"):
        assert os.stat(wdir / sub).st_uid == uid, sub
    for path in (wdir, wdir / "tmp", wdir / "logs", wdir / ".ssh/authorized_keys"):
        assert os.stat(path).st_uid == 0, path   # the account cannot change them


# ---------------------------------------------------------------------------
# the canary gradings at the end

CANARY_KINDS = ["io", "pytest", "doctest", "notebook", "gradescope", "property"]


@contextlib.contextmanager
def worker_running(wdir, hide=()):
    """An assay-worker daemon on WDIR (the test installation's uids), in a
    mount namespace of its own where each directory of HIDE is covered by
    an empty tmpfs; stopped afterwards."""
    argv = [exe("assay-worker"), "--dir", wdir, "--slots", "2", "--name", "deployed",
            *installation_args()]
    if hide:
        mounts = "".join(f"mount -t tmpfs -o size=1m,mode=0755 assay-hidden {shlex.quote(d)} && "
                         for d in hide)
        argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                mounts + "exec " + shlex.join(argv)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for("the deployed worker's daemon", lambda: worker_daemon_running(wdir), 30,
                 context=lambda: f"exit status {p.poll()}")
        yield p
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.fixture
def prefix():
    """A --root PREFIX the run uids can pass through (tmp_path is 0700)."""
    d = make_tempdir("assay-deploy-")
    yield d
    remove_tempdir(d)


def canary_lines(stdout):
    """{kind: what the canary line after "Canary gradings" says}."""
    out = {}
    tail = stdout.split("Canary gradings (", 1)[-1]
    for line in tail.splitlines()[1:]:
        if not line.startswith("  "):
            break
        kind, _, said = line.strip().partition(": ")
        out[kind] = said
    return out


@pytest.mark.skipif(not IS_ROOT, reason="the worker's namespace sandbox runs as root only")
def test_deploy_ends_with_every_canary_passing(prefix, pubkey, worker_binary):
    args = ["--pubkey", pubkey, "--root", prefix, "--binary", worker_binary, "--name", "w1"]
    ok(deploy(*args))
    wdir = os.path.join(prefix, "var/lib/assay-worker")
    with worker_running(wdir):
        p = ok(deploy(*args, timeout=300))
    assert f"Canary gradings (assay-worker canary --dir {wdir}):" in p.stdout, p.stdout
    said = canary_lines(p.stdout)
    assert sorted(said) == sorted(CANARY_KINDS), p.stdout
    for kind in CANARY_KINDS:
        assert said[kind].startswith("ok (3 of 3 points, "), (kind, p.stdout)
    assert printed_entry(p.stdout)["name"] == "w1"        # then what to do on the primary
    for sub in ("inbox", "active", "outbox"):                # a canary leaves nothing behind
        assert not os.listdir(os.path.join(wdir, sub)), sub


@pytest.mark.skipif(not IS_ROOT, reason="the worker's namespace sandbox runs as root only")
def test_deploy_fails_naming_a_missing_package(prefix, pubkey, worker_binary):
    found = subprocess.run(["/usr/bin/python3", "-c", "import IPython, os; "
                            "print(os.path.dirname(IPython.__file__))"],
                           capture_output=True, text=True, timeout=60)
    if found.returncode != 0:
        pytest.skip("IPython is not installed here (python3-ipython), so it cannot be hidden")
    args = ["--pubkey", pubkey, "--root", prefix, "--binary", worker_binary, "--name", "w1"]
    ok(deploy(*args))
    wdir = os.path.join(prefix, "var/lib/assay-worker")
    with worker_running(wdir, hide=[found.stdout.strip()]):
        p = deploy(*args, timeout=300)
    assert p.returncode == 1, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    said = canary_lines(p.stdout)
    assert said["notebook"] == \
        "MISSING: Python module IPython (Debian package python3-ipython)", p.stdout
    for kind in ("io", "pytest", "doctest", "gradescope", "property"):
        assert said[kind].startswith("ok (3 of 3 points, "), (kind, p.stdout)
    assert ("error: the canary gradings failed: this worker cannot grade every kind of test "
            "(see above)") in p.stderr, p.stderr
    assert "/usr/local/bin/assay-worker canary --dir /var/lib/assay-worker" in p.stderr
    assert '{"name"' not in p.stdout      # no workers.json entry for a worker that cannot grade
