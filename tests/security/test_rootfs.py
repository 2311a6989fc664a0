"""An assignment (or its course) may name its own root file system: the
runs then see that directory's system, read-only, instead of the worker's.

The root used here is made by the test: dash as /bin/sh, cat and the C
library copied from this machine, and a marker file in its /etc that the
worker's own /etc does not have.  Python is not in it, so a run that finds
python3 was given the worker's system instead.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbx  # noqa: E402

pytestmark = sbx.needs_root

MARKER = sbx.ROOTFS_MARKER


@pytest.fixture
def small_root():
    top = tempfile.mkdtemp(prefix="assay-rootfs-")
    yield sbx.make_small_root(top, MARKER)
    shutil.rmtree(top, ignore_errors=True)


def probe_tests():
    return [
        {"name": "marker", "kind": "io", "points": 1, "command": "cat /etc/assay-marker",
         "expected_stdout": MARKER},
        {"name": "no python", "kind": "command", "points": 1,
         "command": "if command -v python3 >/dev/null; then echo python3 is here; exit 1; fi"},
    ]


def test_an_assignment_runs_in_its_own_root(tmp_path, small_root):
    os.chmod(tmp_path, 0o755)
    a = sbx.write_assignment(tmp_path / "a", probe_tests(), top={"rootfs": small_root})
    s = sbx.write_submission(tmp_path / "s", {"x.txt": "x\n"})
    r = sbx.grade(a, s)
    assert {t["name"]: t["verdict"] for t in r["tests"]} == {"marker": "passed",
                                                             "no python": "passed"}, r["tests"]
    assert r["score"] == 2


def test_without_rootfs_the_workers_system_is_used(tmp_path):
    a = sbx.write_assignment(tmp_path / "a", probe_tests())
    s = sbx.write_submission(tmp_path / "s", {"x.txt": "x\n"})
    r = sbx.grade(a, s)
    assert {t["name"]: t["verdict"] for t in r["tests"]} == {"marker": "runtime_error",
                                                             "no python": "failed"}, r["tests"]


def test_a_missing_root_is_the_assignments_error(tmp_path):
    a = sbx.write_assignment(tmp_path / "a", probe_tests(), top={"rootfs": str(tmp_path / "nowhere")})
    s = sbx.write_submission(tmp_path / "s", {"x.txt": "x\n"})
    p = subprocess.run([sbx.ASSAY_BIN, "grade", a, s, "--json"], capture_output=True, text=True)
    r = json.loads(p.stdout)
    assert r["assay"]["status"] == "error", r["assay"]
    assert r["assay"]["error"]["category"] == "assignment"
    assert str(tmp_path / "nowhere") in r["assay"]["error"]["message"]


@pytest.mark.parametrize("bad", ["relative/dir", "/", "/srv/../etc", 7])
def test_a_bad_rootfs_value_is_named(tmp_path, bad):
    a = sbx.write_assignment(tmp_path / "a", probe_tests(), top={"rootfs": bad})
    s = sbx.write_submission(tmp_path / "s", {"x.txt": "x\n"})
    p = subprocess.run([sbx.ASSAY_BIN, "grade", a, s], capture_output=True, text=True)
    assert p.returncode == 3, (p.returncode, p.stdout, p.stderr)
    assert "$.rootfs" in p.stderr, p.stderr


def test_the_rlimit_mode_refuses_a_root_it_cannot_give(tmp_path, small_root):
    a = sbx.write_assignment(tmp_path / "a", probe_tests(), top={"rootfs": small_root})
    s = sbx.write_submission(tmp_path / "s", {"x.txt": "x\n"})
    p = subprocess.run([sbx.ASSAY_BIN, "grade", a, s, "--json", "--sandbox", "rlimit"],
                       capture_output=True, text=True)
    r = json.loads(p.stdout)
    assert [t["verdict"] for t in r["tests"]] == ["setup_error", "setup_error"], r["tests"]
    assert "needs the namespace sandbox" in r["tests"][0]["output"], r["tests"][0]["output"]
