"""What `assay` prints is safe on a terminal, and says why it cannot read.

A student's program may print escape sequences (clear the screen, set the
window title, write the clipboard with OSC 52, a C1 CSI); a worker may
send them in its results and log lines.  Everything `assay` prints that
came from them shows those bytes visibly ("\\x1b[2J", "\\u009b") instead
of sending them to the terminal, while results.json keeps the raw bytes.

An unprivileged user running a spool command against root's private spool
is told which folder it cannot read and who may, with a non-zero exit,
instead of seeing an empty queue.
"""
import json
import os
import pty
import pwd
import secrets
import select
import subprocess

import pytest

from assay_helpers import IS_ROOT, make_tempdir, remove_tempdir, run_assay
from pipeline import HI_TEST, assignment_doc, exe, pipeline  # noqa: F401  (the fixture)

# Clear the screen, set the title, write the clipboard (OSC 52), a C1 CSI.
HOSTILE = "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;cHduZWQ=\x07\u009b31mred"
SHOWN = ["\\x1b[2J", "\\x1b]0;pwned\\x07", "\\x1b]52;c;cHduZWQ=\\x07", "\\u009b31mred"]
PRINTS_HOSTILE = {"hello.py": "import sys\nsys.stdout.write(%r + '\\n')\n" % HOSTILE}


def assert_terminal_safe(out):
    """OUT (bytes a terminal would get) holds no ESC, BEL or C1 CSI."""
    for bad in (b"\x1b", b"\x07", b"\xc2\x9b", b"\x9b"):
        assert bad not in out, f"{bad!r} reached the terminal:\n{out[:3000]!r}"


def assert_shown(text):
    for s in SHOWN:
        assert s in text, f"{s!r} is not shown in:\n{text[:3000]}"


def read_pty(argv):
    """Runs ARGV with stdout on a pseudo-terminal; returns (exit status,
    what the terminal got)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    got = b""
    while True:
        r, _, _ = select.select([master], [], [], 120)
        assert r, "no output for 120 s"
        try:
            chunk = os.read(master, 65536)
        except OSError:   # EIO: the program closed the terminal
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    p.stderr.read()
    return p.wait(timeout=60), got


# ---- assay grade ----

def test_grade_table_shows_escape_sequences_visibly(make_assignment, make_submission, tmp_path):
    a = make_assignment([HI_TEST])
    s = make_submission(PRINTS_HOSTILE)
    out_dir = tmp_path / "out"
    p = run_assay("grade", a, s, "--out", out_dir)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert_terminal_safe(p.stdout)
    assert_shown(p.stdout.decode())
    assert "Total: 0 / 2" in p.stdout.decode()
    with open(out_dir / "results.json", encoding="utf-8") as f:
        r = json.load(f)
    assert HOSTILE in r["tests"][0]["output"]   # the JSON keeps the bytes


def test_grade_json_on_a_terminal_escapes_c1_controls(make_assignment, make_submission):
    a = make_assignment([HI_TEST])
    s = make_submission(PRINTS_HOSTILE)
    rc, got = read_pty([exe("assay"), "grade", str(a), str(s), "--json"])
    assert rc == 0
    assert_terminal_safe(got)
    r = json.loads(got.decode("ascii"))   # all of it ASCII on a terminal, and the same JSON
    assert HOSTILE in r["tests"][0]["output"]


# ---- assay results and assay logs, on a spool ----

def _graded_spool(pipeline):
    """A spool with one graded job of a student whose program prints HOSTILE;
    returns (spool, job id)."""
    spool = pipeline()
    spool.add_assignment("c1", "a1", assignment_doc([HI_TEST]))
    spool.start()
    job, r = spool.submit_wait("c1", "a1", "u1", spool.make_submission("s", PRINTS_HOSTILE))
    assert HOSTILE in r["tests"][0]["output"]
    return spool, job


def _assay_bytes(spool, *args):
    return subprocess.run([exe("assay"), *map(str, args), "--spool", spool.root],
                          capture_output=True, timeout=120, stdin=subprocess.DEVNULL)


def test_results_table_and_gradebook_show_escape_sequences_visibly(pipeline):
    spool, job = _graded_spool(pipeline)
    # what a hostile worker could have put in the fields of the gradebook
    path = spool.path(spool.result_rel(job), "results.json")
    with open(path, encoding="utf-8") as f:
        r = json.load(f)
    r["assay"]["status"] = HOSTILE
    r["assay"]["finished_at"] = HOSTILE
    with open(path, "w", encoding="utf-8") as f:
        json.dump(r, f)

    p = _assay_bytes(spool, "results", "--job", job)
    assert p.returncode == 0, p.stderr
    assert_terminal_safe(p.stdout)
    assert_shown(p.stdout.decode())
    for view in ([], ["--student", "u1"]):
        p = _assay_bytes(spool, "results", "--course", "c1", "--assignment", "a1", *view)
        assert p.returncode == 0, p.stderr
        assert_terminal_safe(p.stdout)
        assert_shown(p.stdout.decode())
        assert "1 result\n" in p.stdout.decode()
    # --json keeps the bytes (a pipe gets them as jansson writes them)
    p = _assay_bytes(spool, "results", "--job", job, "--json")
    assert json.loads(p.stdout)["assay"]["status"] == HOSTILE


def test_logs_show_escape_sequences_visibly(pipeline):
    spool, job = _graded_spool(pipeline)
    line = f"2030-01-01T00:00:00.000Z assay-worker[1] local {job} error {HOSTILE}\n"
    with open(spool.path("logs", "assay.log"), "a", encoding="utf-8") as f:
        f.write(line)
    with open(spool.path("logs", "traces.log"), "a", encoding="utf-8") as f:
        f.write(f"[worker local job {job}] {HOSTILE}\n")
    for args in ([], ["--job", job], ["--errors"]):
        p = _assay_bytes(spool, "logs", *args)
        assert p.returncode == 0, p.stderr
        assert_terminal_safe(p.stdout)
        text = p.stdout.decode()
        assert f"local {job} error " + "".join(SHOWN) in text
        assert f"[worker local job {job}] " + "".join(SHOWN) in text


def test_status_and_workers_show_a_workers_words_visibly(pipeline):
    spool = pipeline()
    # what a worker's answers put in its health record (its reason, its version)
    with open(spool.path("health", "local.json"), "w", encoding="utf-8") as f:
        json.dump({"worker": "local", "status": "refusing", "since": "2030-01-01T00:00:00.000Z",
                   "reason": HOSTILE, "last_contact": "2030-01-01T00:00:00.000Z",
                   "version": HOSTILE, "free_mb": 1000}, f)
    for args in (["status"], ["workers"]):
        p = _assay_bytes(spool, *args)
        assert p.returncode == 0, p.stderr
        assert_terminal_safe(p.stdout)
        assert "".join(SHOWN) in p.stdout.decode()


# ---- an unprivileged user ----

@pytest.fixture
def stranger():
    """A system user made for the test (random name), removed after."""
    if not IS_ROOT:
        pytest.skip("making a user needs root")
    name = "assay-t-" + secrets.token_hex(4)
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    name], check=True, capture_output=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], capture_output=True)


@pytest.mark.parametrize("args,verb,folder", [
    (["status"], "read", "incoming"),
    (["results", "--course", "c1", "--assignment", "a1"], "read", "incoming"),
    (["results", "--job", "0123456789abcdef"], "read", "incoming"),
    (["workers"], "read", "incoming"),
    (["hold", "0123456789abcdef"], "read", "incoming"),
    (["logs"], "read", "incoming"),
])
def test_unprivileged_user_is_told_permission_denied(pipeline, stranger, args, verb, folder):
    spool = pipeline()
    # the binary where the user can run it: the build directory may be private
    bindir = make_tempdir("assay-bin-")
    try:
        os.chmod(bindir, 0o755)
        binary = os.path.join(bindir, "assay")
        with open(exe("assay"), "rb") as src, open(binary, "wb") as dst:
            dst.write(src.read())
        os.chmod(binary, 0o755)
        p = subprocess.run(["setpriv", f"--reuid={stranger.pw_uid}", f"--regid={stranger.pw_gid}",
                            "--clear-groups", binary, *args, "--spool", spool.root],
                           capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        remove_tempdir(bindir)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stdout == ""
    assert p.stderr == (f"assay {args[0]}: cannot {verb} {spool.path(folder)}: Permission denied "
                        f"(it is root's, group root, mode 0700: run assay as root)\n")
