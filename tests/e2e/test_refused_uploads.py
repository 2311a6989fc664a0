"""Refused uploads leave nothing in the spool: `assay submit` stages a
submission in the spool's tmp/ and removes the staging on every path, a
zip 300 directories deep included (refused by name and limit, never
called empty).  The sandbox side of slot cleanliness is
tests/security/test_slot_clean.py."""
import os
import zipfile

from pipeline import HI_TEST, VARIANTS, assignment_doc, pipeline  # noqa: F401  (the fixture)

COURSE, ASG = "cs101", "hello"


def deep_zip(path, depth=300):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("sub/" + "a/" * depth + "x.py", "x = 1\n")
        z.writestr("hello.py", VARIANTS["right"][0])
    return str(path)


def test_a_refused_deep_zip_leaves_nothing_in_the_spool(pipeline, tmp_path):
    spool = pipeline()
    spool.add_assignment(COURSE, ASG, assignment_doc([HI_TEST], title="Hello"))
    z = deep_zip(tmp_path / "deep.zip")
    for _ in range(6):
        p = spool.assay("submit", "--course", COURSE, "--assignment", ASG, "--student", "s1", z)
        assert p.returncode != 0
        assert 'deep.zip: entry "sub/a/.../x.py" is 301 directories deep; at most 64 are ' \
               'allowed' in p.stderr, p.stderr
        assert "nothing was queued" in p.stderr and "empty" not in p.stderr
        assert os.listdir(spool.path("tmp")) == []
    assert spool.queue("incoming") == []
    # the spool still takes the next, correct, submission and grades it
    spool.start()
    ok = spool.make_submission("right", {"hello.py": VARIANTS["right"][0]})
    _, r = spool.submit_wait(COURSE, ASG, "s1", ok)
    assert r["score"] == 2 and r["assay"]["error"] is None
