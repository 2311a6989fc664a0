"""workers.json checked whole, though each transport owns its keys: the
spool reads the keys every worker has (and a local worker's directory and
sandbox), each transport checks its own through `assay-shipper
--check-config`, and `assay workers` and the scheduler list every problem
with its JSON path; the scheduler does not start on a broken file."""
import json
import os
import subprocess

from assay_helpers import ASSAY_BIN, exe, make_tempdir, remove_tempdir


def spool_with(workers):
    """A spool whose workers.json holds WORKERS (after `assay init`'s local one)."""
    base = make_tempdir("assay-workers-")
    root = os.path.join(base, "spool")
    subprocess.run([ASSAY_BIN, "init", root], check=True, capture_output=True, timeout=30)
    path = os.path.join(root, "workers.json")
    with open(path) as f:
        doc = json.load(f)
    doc["workers"] = [dict(doc["workers"][0], **workers[0])] + workers[1:]
    with open(path, "w") as f:
        json.dump(doc, f)
    return base, root


SSH = {"name": "far", "transport": "ssh", "host": "192.0.2.7", "key": "keys/id",
       "known_hosts": "keys/known_hosts", "slots": 1, "capabilities": ["python"]}


def test_each_transport_checks_its_own_keys():
    base, root = spool_with([{"sandbox": "chroot"}, dict(SSH, hots="x", port=70000),
                             {"name": "odd", "transport": "pigeon", "slots": 1,
                              "capabilities": ["python"]}])
    try:
        p = subprocess.run([ASSAY_BIN, "workers", "--spool", root], capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 1, p.stdout + p.stderr
        for want in ['$.workers[0].sandbox: "chroot" is not a sandbox assay-worker knows '
                     '(namespace, rlimit)',
                     "$.workers[1].hots: unknown key",
                     "$.workers[1].port",
                     '$.workers[2]: transport "pigeon" is not one Assay has (local, ssh, slurm)']:
            assert want in p.stderr, f"{want!r} not in:\n{p.stderr}"
        s = subprocess.run([exe("assay-scheduler"), "--spool", root], capture_output=True,
                           text=True, timeout=60)
        assert s.returncode != 0 and "$.workers[1].hots: unknown key" in s.stderr, s.stderr
    finally:
        remove_tempdir(base)


def test_a_valid_file_is_accepted_by_both():
    base, root = spool_with([{"sandbox": "rlimit"}, SSH])
    try:
        p = subprocess.run([exe("assay-shipper"), "--spool", root, "--check-config"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0 and p.stdout == "", p.stdout + p.stderr
        w = subprocess.run([ASSAY_BIN, "workers", "--spool", root, "--json"],
                           capture_output=True, text=True, timeout=60)
        rows = {r["name"]: r for r in json.loads(w.stdout)}
        assert rows["far"]["host"] == "192.0.2.7" and rows["local"]["transport"] == "local"
    finally:
        remove_tempdir(base)
