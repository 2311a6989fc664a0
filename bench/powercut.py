#!/usr/bin/python3
"""powercut.py - does every job `assay submit` acknowledged survive a power cut? (root)

    /usr/bin/python3 bench/powercut.py [--cuts 50] [--build DIR] [--seed N]

For each cut: a fresh ext4 file system in an image file, on a loop device,
mounted, with a spool on it (`assay init`, an assignment without tests);
then `assay submit` runs, and at some moment the power is "cut": the image
is copied as it stands, with no sync of any kind.  Every job id a submit
printed before that moment was acknowledged.  The copy is then recovered
as a machine coming back up would: a mount, which replays the ext4
journal, and e2fsck -fn, which says whether the file system is then
consistent (it is repaired with -fy if not, and counted), and every
acknowledged job must be
there: its file in incoming/ (the job id it names, the student's files it
points to) and its second name in jobs/.  Even cuts are a single submit
cut the instant it printed its id; odd cuts are a burst of three streams
of back-to-back submits cut at a random moment 0.1-1.5 s in.  Prints the
acknowledged jobs lost (must be 0), and what was found half there.

Why the copy is a faithful power cut.  What a power cut loses is what the
kernel still holds in memory: dirty pages and the running journal
transaction of the spool's file system (ext4's default: data=ordered, a
journal commit every 5 s or at an fsync).  What the disk holds is what the
file system submitted to its block device.  The loop device is set up
with direct I/O (losetup --direct-io=on): each block written to it goes
straight into the image file, with no cache of its own in between, so the
image file holds exactly what the "disk" received.  Copying the image file
(never syncing or dropping caches, which would write the spool's dirty
state out first) therefore captures the disk at that moment.  Device-mapper
(dm-flakey, dm-log-writes), which could cut writes at the block layer
itself, is not available in every kernel this runs on (it is not here).
So that the copy is not torn by the submits themselves, every submit is
stopped (SIGSTOP to its process group) while the image is copied; an id
in a pipe when they stopped was printed, so acknowledged.  The kernel may
still write in the background meanwhile (a timed journal commit,
writeback): such a write is what the disk would have received a few
milliseconds later, a later but equally possible moment of the cut.  A
copy torn across a journal commit is caught by the journal's checksums at
replay; it could only make a job look lost, never hide a loss, and e2fsck
reports anything it had to repair.

Not a test: it prints figures for docs/SPOOL.md.  Everything it makes is in
one mkdtemp directory, removed at the end; every mount is unmounted and
every loop device detached on every exit path, Ctrl-C and SIGTERM included.
"""
import argparse
import fcntl
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from run_dirs import remove_run_dirs

HERE = os.path.dirname(os.path.abspath(__file__))
COURSE, ASSIGNMENT = "power", "cut"
IMAGE_MB = 64
STREAMS = 3


def run(*argv, ok=(0,)):
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode not in ok:
        raise RuntimeError(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.strip()}")
    return p


class Mounts:
    """The loop devices and mounts made so far, undone in reverse order."""

    def __init__(self):
        self.undo = []

    def attach(self, image, dio):
        args = ["losetup", "-f", "--show"] + (["--direct-io=on"] if dio else []) + [image]
        dev = run(*args).stdout.strip()
        self.undo.append(("losetup", "-d", dev))
        if dio:
            with open(f"/sys/block/{os.path.basename(dev)}/loop/dio") as f:
                if f.read().strip() != "1":
                    raise RuntimeError(f"{dev}: the kernel refused direct I/O for {image}")
        return dev

    def mount(self, dev, where):
        os.makedirs(where, exist_ok=True)
        run("mount", "-t", "ext4", dev, where)
        self.undo.append(("umount", where))

    def release_all(self):
        problems = []
        while self.undo:
            cmd = self.undo.pop()
            for _ in range(50):   # a process just killed may hold the mount a moment
                if subprocess.run(cmd, capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            else:
                problems.append(" ".join(cmd))
        if problems:
            print("warning: could not undo: " + "; ".join(problems), file=sys.stderr)


def make_spool(assay, mounts, work, n):
    """A fresh ext4 image on a direct-I/O loop device, mounted, holding a spool."""
    image = os.path.join(work, f"disk-{n}.img")
    with open(image, "wb") as f:
        f.truncate(IMAGE_MB << 20)
    run("mkfs.ext4", "-q", "-F", image)
    mnt = os.path.join(work, f"mnt-{n}")
    mounts.mount(mounts.attach(image, dio=True), mnt)
    spool = os.path.join(mnt, "spool")
    run(assay, "init", spool)
    adir = os.path.join(spool, "courses", COURSE, ASSIGNMENT)
    os.makedirs(adir)
    with open(os.path.join(adir, "assignment.json"), "w") as f:
        json.dump({"assay": 1, "title": "Power cut", "capability": "python",
                   "required_files": ["hello.py"], "tests": []}, f)
    run("sync", "-f", spool)   # the set-up is not what is measured: on disk before the cuts
    return image, mnt, spool


def submit_cmd(assay, spool, sub, student):
    return [assay, "submit", "--spool", spool, "--course", COURSE, "--assignment", ASSIGNMENT,
            "--student", student, sub]


def single(assay, spool, sub, rng):
    """One submit, cut the instant it printed its id."""
    p = subprocess.run(submit_cmd(assay, spool, sub, "solo"), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"assay submit failed: {p.stderr.strip()}")
    return [p.stdout.strip()], None


def burst(assay, spool, sub, rng):
    """STREAMS shells submitting back to back; returns their process groups
    stopped, and the ids printed so far (read once all are stopped)."""
    streams = []
    for i in range(STREAMS):
        loop = 'while :; do "$@" || exit 1; done'
        argv = ["sh", "-c", loop, "sh"] + submit_cmd(assay, spool, sub, f"s{i}")
        streams.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        start_new_session=True))
    time.sleep(rng.uniform(0.1, 1.5))
    for p in streams:
        os.killpg(p.pid, signal.SIGSTOP)
    acked = []
    for p in streams:
        fd = p.stdout.fileno()
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        try:
            text = os.read(fd, 1 << 20).decode()
        except BlockingIOError:
            text = ""
        acked += [line for line in text.splitlines() if line]
    return acked, streams


def end_streams(streams):
    for p in streams or []:
        try:
            os.killpg(p.pid, signal.SIGKILL)
            os.killpg(p.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        p.wait()
        p.stdout.close()


def copy_image(image, dst):
    """The image as the disk holds it now: a plain read of the file the loop
    device writes into with direct I/O.  No sync, no cache dropping."""
    with open(image, "rb") as src, open(dst, "wb") as out:
        shutil.copyfileobj(src, out, 1 << 20)


def job_is_whole(spool, job_id, sub_text):
    """'ok', or what is missing of acknowledged job JOB_ID in a recovered spool."""
    path = os.path.join(spool, "incoming", job_id + ".json")
    try:
        with open(path) as f:
            job = json.load(f)
    except (OSError, ValueError) as exc:
        return f"incoming/{job_id}.json: {exc.__class__.__name__}"
    if job.get("id") != job_id:
        return f"incoming/{job_id}.json names job {job.get('id')}"
    if not os.path.exists(os.path.join(spool, "jobs", job_id)):
        return f"jobs/{job_id} missing"
    try:
        with open(os.path.join(spool, job["submission"], "hello.py")) as f:
            if f.read() != sub_text:
                return f"{job['submission']}/hello.py differs"
    except OSError as exc:
        return f"{job['submission']}/hello.py: {exc.strerror}"
    return "ok"


def recover_and_check(copy, mounts, work, n, acked, sub_text):
    """Mounts COPY (which replays its journal) and checks it (e2fsck -fn);
    repairs it if it must (e2fsck -fy), mounts it again and checks every
    job of ACKED.  Returns (lost, half there, whether the file system was
    inconsistent after its journal was replayed)."""
    mnt = os.path.join(work, f"copy-{n}")
    dev = mounts.attach(copy, dio=False)
    mounts.mount(dev, mnt)
    run("umount", mnt)
    mounts.undo.pop()
    inconsistent = run("e2fsck", "-fn", dev, ok=(0, 4)).returncode != 0
    if inconsistent:
        run("e2fsck", "-fy", dev, ok=(0, 1, 2))
    mounts.mount(dev, mnt)
    spool = os.path.join(mnt, "spool")
    lost, half = [], []
    for job_id in acked:
        what = job_is_whole(spool, job_id, sub_text)
        if what == "ok":
            continue
        gone = what.startswith(f"incoming/{job_id}.json")
        (lost if gone else half).append(f"{job_id}: {what}")
    remove_run_dirs(spool)
    return lost, half, inconsistent


def one_cut(assay, work, n, sub, sub_text, rng):
    mounts = Mounts()
    streams = None
    try:
        image, mnt, spool = make_spool(assay, mounts, work, n)
        kind = single if n % 2 == 0 else burst
        acked, streams = kind(assay, spool, sub, rng)
        copy = os.path.join(work, f"cut-{n}.img")
        copy_image(image, copy)
        end_streams(streams)
        streams = None
        remove_run_dirs(spool)
        lost, half, repaired = recover_and_check(copy, mounts, work, n, acked, sub_text)
        return kind.__name__, len(acked), lost, half, repaired
    finally:
        end_streams(streams)
        mounts.release_all()
        for name in (f"disk-{n}.img", f"cut-{n}.img"):
            try:
                os.unlink(os.path.join(work, name))
            except FileNotFoundError:
                pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cuts", type=int, default=50, help="power cuts (default 50)")
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"),
                    help="directory holding assay (default ../build)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("powercut.py must run as root (it makes loop devices and mounts)")
    # Ctrl-C or SIGTERM still run the clean-up (unmount, detach, remove).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    assay = os.path.join(os.path.abspath(args.build), "assay")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    work = tempfile.mkdtemp(prefix="assay-bench-powercut-")
    try:
        sub = os.path.join(work, "hello.py")
        sub_text = "print('hi')\n"
        with open(sub, "w") as f:
            f.write(sub_text)
        rows = []
        for n in range(args.cuts):
            rows.append(one_cut(assay, work, n, sub, sub_text, rng))
            kind, k, lost, half, repaired = rows[-1]
            print(f"cut {n + 1:3d} {kind:6s}: {k:3d} acknowledged, {len(lost)} lost, "
                  f"{len(half)} half there{', e2fsck found errors' if repaired else ''}", flush=True)
            for line in lost + half:
                print("    " + line)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"Power cuts: {args.cuts} (seed {seed}), build {os.path.abspath(args.build)}")
    print(f"command: /usr/bin/python3 bench/powercut.py --cuts {args.cuts} --seed {seed}")
    for kind in ("single", "burst"):
        mine = [r for r in rows if r[0] == kind]
        print(f"  {kind:6s}: {len(mine):3d} cuts, {sum(r[1] for r in mine):5d} acknowledged, "
              f"{sum(len(r[2]) for r in mine):4d} lost, {sum(len(r[3]) for r in mine):4d} half "
              f"there, lost in {sum(1 for r in mine if r[2])} cuts")
    repaired = sum(1 for r in rows if r[4])
    print(f"  inconsistent after journal replay (e2fsck -fn): {repaired} of {len(rows)} copies")
    lost = sum(len(r[2]) + len(r[3]) for r in rows)
    print("RESULT: " + ("no acknowledged job lost" if lost == 0 else
                        f"{lost} acknowledged jobs lost or incomplete"))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
