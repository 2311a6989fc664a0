"""run_dirs.py - removes the directories a spool's local workers keep on a tmpfs.

`assay init` puts the local worker's directory on a tmpfs (/run/assay/ or
/dev/shm/: the archives in flight never touch a disk).  Removing
the spool leaves it there until the next boot; the benchmarks remove it
with the spool:

    from run_dirs import remove_run_dirs
    remove_run_dirs(spool)   # before shutil.rmtree(spool)
"""
import json
import os
import shutil


def remove_run_dirs(spool):
    try:
        with open(os.path.join(spool, "workers.json")) as f:
            workers = json.load(f).get("workers", [])
    except (OSError, ValueError):
        return
    for w in workers:
        d = w.get("dir", "")
        in_run = d.startswith("/run/assay/") and os.path.basename(d).startswith("local-")
        if w.get("transport") == "local" and (in_run or d.startswith("/dev/shm/assay-local-")):
            shutil.rmtree(d, ignore_errors=True)
