"""An assignment (or its course) may name its own root file system: the
runs then see that directory's system, read-only, instead of the worker's.

The root used here is made by the test: dash as /bin/sh, cat and the C
library copied from this machine, and a marker file in its /etc that the
worker's own /etc does not have.  Python is not in it, so a run that finds
python3 was given the worker's system instead.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sbx  # noqa: E402  (puts tests/lib on sys.path)
from assay_helpers import (ROOTFS_MARKER, grade, make_small_root, needs_root,  # noqa: E402
                           tempdir, write_submission)

pytestmark = needs_root

MARKER = ROOTFS_MARKER


@pytest.fixture
def small_root():
    with tempdir("assay-rootfs-") as top:
        yield make_small_root(top, MARKER)


def probe_tests():
    return [
        {"name": "marker", "kind": "io", "points": 1, "command": "cat /etc/assay-marker",
         "expected_stdout": MARKER},
        {"name": "no python", "kind": "command", "points": 1,
         "command": "if command -v python3 >/dev/null; then echo python3 is here; exit 1; fi"},
    ]


def test_an_assignment_runs_in_its_own_root(tmp_path, small_root):
    os.chmod(tmp_path, 0o755)
    a = sbx.security_assignment(tmp_path / "a", probe_tests(), top={"rootfs": small_root})
    s = write_submission(tmp_path / "s", {"x.txt": "x\n"})
    r = sbx.grade_clean(a, s)
    assert {t["name"]: t["verdict"] for t in r["tests"]} == {"marker": "passed",
                                                             "no python": "passed"}, r["tests"]
    assert r["score"] == 2


def test_without_rootfs_the_workers_system_is_used(tmp_path):
    a = sbx.security_assignment(tmp_path / "a", probe_tests())
    s = write_submission(tmp_path / "s", {"x.txt": "x\n"})
    r = sbx.grade_clean(a, s)
    assert {t["name"]: t["verdict"] for t in r["tests"]} == {"marker": "runtime_error",
                                                             "no python": "failed"}, r["tests"]


def test_a_missing_root_is_the_assignments_error(tmp_path):
    a = sbx.security_assignment(tmp_path / "a", probe_tests(),
                                top={"rootfs": str(tmp_path / "nowhere")})
    s = write_submission(tmp_path / "s", {"x.txt": "x\n"})
    _, r, _ = grade(a, s, "--json")
    assert r["assay"]["status"] == "error", r["assay"]
    assert r["assay"]["error"]["category"] == "assignment"
    assert str(tmp_path / "nowhere") in r["assay"]["error"]["message"]


@pytest.mark.parametrize("bad", ["relative/dir", "/", "/srv/../etc", 7])
def test_a_bad_rootfs_value_is_named(tmp_path, bad):
    a = sbx.security_assignment(tmp_path / "a", probe_tests(), top={"rootfs": bad})
    s = write_submission(tmp_path / "s", {"x.txt": "x\n"})
    rc, out, err = grade(a, s)
    assert rc == 3, (rc, out, err)
    assert "$.rootfs" in err, err


def test_the_rlimit_mode_refuses_a_root_it_cannot_give(tmp_path, small_root):
    a = sbx.security_assignment(tmp_path / "a", probe_tests(), top={"rootfs": small_root})
    s = write_submission(tmp_path / "s", {"x.txt": "x\n"})
    _, r, _ = grade(a, s, "--json", "--sandbox", "rlimit")
    assert [t["verdict"] for t in r["tests"]] == ["setup_error", "setup_error"], r["tests"]
    assert "needs the namespace sandbox" in r["tests"][0]["output"], r["tests"][0]["output"]
