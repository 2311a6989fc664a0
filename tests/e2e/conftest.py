"""Fixtures for Assay's end-to-end tests.

The tests drive the real `assay grade` binary (found through the
environment variable ASSAY_BIN, by default build/assay in the repository)
on the example assignments and on small assignments written into
pytest's tmp_path, and check the exit status, results.json and stderr.

The helpers themselves are in tests/lib/assay_helpers.py, shared with
tests/security; this file puts tests/lib on sys.path, defines the
fixtures, and re-exports the helpers' names for modules that import them
from here.
"""
import os
import sys

import pytest

E2E_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(E2E_DIR), "lib"))

from assay_helpers import (  # noqa: E402,F401  (re-exported)
    ASSAY_BIN, EXAMPLES, GRADE_TIMEOUT_S, IS_ROOT, REPO_ROOT, RUN_UID_RANGE, assignment_doc,
    by_name, copy_assignment, example_dir, example_submission, grade, grade_json, processes,
    run_assay, work_base, write_assignment, write_files, write_submission)

# Small limits so runaway submissions are stopped quickly.
SMALL_LIMITS = {"wall_s": 3, "cpu_s": 2, "memory_mb": 256, "processes": 32,
                "file_mb": 8, "output_kb": 256}


@pytest.fixture
def make_assignment(tmp_path):
    """Factory: make_assignment(tests, files=None, **top) -> assignment dir.

    Writes assignment.json (format v1, title "T", capability "python",
    SMALL_LIMITS unless `limits` is given, and any other top-level keys in
    TOP) and the instructor FILES into a fresh directory under tmp_path.
    Pass raw=<str> to write assignment.json verbatim instead.
    """
    counter = [0]

    def make(tests=None, files=None, raw=None, **top):
        counter[0] += 1
        if raw is None:
            top = {"capability": "python", "limits": dict(SMALL_LIMITS), **top}
            doc = assignment_doc(tests if tests is not None else [], **top)
        return write_assignment(tmp_path / f"assignment{counter[0]}",
                                raw if raw is not None else doc, files)

    return make


@pytest.fixture
def make_submission(tmp_path):
    """Factory: make_submission(files) -> a submission directory under tmp_path."""
    counter = [0]

    def make(files):
        counter[0] += 1
        return write_submission(tmp_path / f"submission{counter[0]}", files)

    return make


def pytest_report_header(config):
    return [f"assay binary: {ASSAY_BIN}", f"python: {sys.executable}",
            f"running as {'root' if IS_ROOT else 'uid %d' % os.geteuid()}"]
