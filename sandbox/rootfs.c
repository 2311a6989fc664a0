/*
 * rootfs.c - the file system a sandboxed run sees.
 *
 * Two halves, so that the expensive part is done once per slot:
 *
 * sandbox_rootfs_prepare builds the part every run of a slot shares, in
 * a private mount namespace: at ROOT_MNT a small "staging" tmpfs holding
 * prep/ and run/; at prep/ a tmpfs with the system directories the
 * language needs (/usr, /bin, /lib*, a few /etc entries python and its
 * libraries read; or the top-level directories of a root filesystem an
 * assignment names) bound read-only, nosuid and nodev, /etc/passwd,
 * group and hosts written for the run's uid, and a minimal /dev (null,
 * zero, full, random, urandom); then prep/ and /dev are made read-only.
 * On a cgroup v1 host the keeper (keeper.c) calls it once, as root, in a
 * mount namespace of its own, and every run is cloned from there; on v2
 * each run's PID 1 calls it itself.
 *
 * sandbox_rootfs_build, in a run's PID 1 made ahead of the run, inside
 * its new user and mount namespaces - whose copy of the prepared tree the
 * kernel has locked (MNT_LOCKED, and the read-only/nosuid/nodev flags
 * locked too: the run's user namespace is less privileged than the
 * tree's owner) - does the per-run part no run decides: a fresh tmpfs at
 * run/ becomes the new root; each top-level entry of prep/ is bound
 * recursively into it (the copies keep their flags and locks) or, for a
 * symlink, recreated; size-limited tmpfs on /tmp and /dev/shm; a fresh
 * /proc that shows only the run's processes.  sandbox_rootfs_enter, once
 * the run is known: the work directory bound writable at its own path (it
 * lives on the slot's size-limited tmpfs, visible to PID 1 until the
 * pivot); the test's extra binds (these after /tmp, which may hold them);
 * then pivot_root, the old root detached, and the new root made read-only.  Nothing else of the host - the spool,
 * the worker's directories, the assignment, other slots - exists inside,
 * and nothing a run does persists: everything writable is per run.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/fs.h"

/* Host directories that make up the default root. */
static const char *const system_dirs[] = {
    "usr", "bin", "sbin", "lib", "lib64", "lib32", "libx32", NULL,
};

/* /etc entries python, pytest, IPython and matplotlib read; the rest of
 * /etc (host keys, the worker's configuration) stays out. */
static const char *const etc_entries[] = {
    "alternatives", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone",
    "mime.types", "matplotlibrc", "nsswitch.conf", "host.conf", "protocols", "services",
    "ssl", "ca-certificates", "fonts", "python3*", "IPython", "jupyter", "papersize",
    "debian_version", "os-release", NULL,
};

/* Top-level entries of an assignment's own root filesystem not bound. */
static const char *const rootfs_skipped[] = {
    "proc", "dev", "sys", "tmp", "run", "mnt", "media", "home", "root", "boot",
    "lost+found", NULL,
};

static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom", NULL};

struct build {
    const char *root;           /* the directory being built: prep/ or run/ */
    char *why;
    size_t n;
};

static int fail(struct build *b, const char *what, const char *path)
{
    snprintf(b->why, b->n, "%s %s: %s", what, path, strerror(errno));
    return -1;
}

/* Fails with the sentence a helper recorded in E. */
static int fail_err(struct build *b, const struct err *e)
{
    snprintf(b->why, b->n, "%s", e->msg);
    return -1;
}

/* ROOT + PATH (PATH absolute) into OUT. */
static void inside(const struct build *b, const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s%s", b->root, path);
}

static int set_attrs(const char *path, unsigned int flags, uint64_t attrs)
{
    struct mount_attr a = {.attr_set = attrs};
    return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, flags, &a, sizeof a);
}

/* Makes an empty directory or file at DST to mount SRC's kind over. */
static int make_mount_point(const char *src, const char *dst)
{
    struct stat st;
    if (stat(src, &st) < 0)
        return -1;
    if (S_ISDIR(st.st_mode))
        return mkdir(dst, 0755) < 0 && errno != EEXIST ? -1 : 0;
    int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Binds SRC at DST (a path below the new root), read-only unless
 * WRITABLE, always nosuid and nodev (DEV_OK: device nodes allowed). */
static int bind(struct build *b, const char *src, const char *dst, bool writable, bool dev_ok)
{
    if (make_mount_point(src, dst) < 0)
        return fail(b, "cannot make a mount point for", src);
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return fail(b, "cannot bind", src);
    uint64_t attrs = MOUNT_ATTR_NOSUID | (writable ? 0 : MOUNT_ATTR_RDONLY) |
                     (dev_ok ? MOUNT_ATTR_NOEXEC : MOUNT_ATTR_NODEV);
    if (set_attrs(dst, AT_RECURSIVE, attrs) < 0)
        return fail(b, "cannot restrict the bind of", src);
    return 0;
}

/* Recreates symlink SRC at DST (merged-/usr hosts: /bin -> usr/bin). */
static int copy_symlink(struct build *b, const char *src, const char *dst)
{
    char target[4096];
    ssize_t n = readlink(src, target, sizeof target - 1);
    if (n < 0)
        return fail(b, "cannot read the link", src);
    target[n] = '\0';
    return symlink(target, dst) < 0 ? fail(b, "cannot link", dst) : 0;
}

/* Binds (or links) host entry DIR/NAME at the same place in the root. */
static int bind_entry(struct build *b, const char *dir, const char *name, const char *at)
{
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/%s", dir, name);
    snprintf(dst, sizeof dst, "%s%s/%s", b->root, at, name);
    struct stat st;
    if (lstat(src, &st) < 0)
        return errno == ENOENT ? 0 : fail(b, "cannot stat", src);
    if (S_ISLNK(st.st_mode))
        return copy_symlink(b, src, dst);
    if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return 0;
    return bind(b, src, dst, false, false);
}

static bool matches(const char *const *patterns, const char *name)
{
    for (int i = 0; patterns[i]; i++)
        if (!fnmatch(patterns[i], name, 0))
            return true;
    return false;
}

/* Binds the entries of host directory DIR that match PATTERNS (or, with
 * SKIP, all but those) at AT in the root. */
static int bind_listed(struct build *b, const char *dir, const char *at,
                       const char *const *patterns, bool skip)
{
    DIR *d = opendir(dir);
    if (!d)
        return fail(b, "cannot read", dir);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)))
        if (de->d_name[0] != '.' && matches(patterns, de->d_name) != skip)
            rc = bind_entry(b, dir, de->d_name, at);
    closedir(d);
    return rc;
}

static int write_text(struct build *b, const char *path, const char *text)
{
    char dst[4096];
    inside(b, path, dst, sizeof dst);
    int fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        if (fd >= 0)
            close(fd);
        return fail(b, "cannot write", path);
    }
    close(fd);
    return 0;
}

static int build_system(struct build *b, const char *rootfs)
{
    char etc[4096];
    if (rootfs)
        return bind_listed(b, rootfs, "", rootfs_skipped, true);
    if (bind_listed(b, "/", "", system_dirs, false) < 0)
        return -1;
    inside(b, "/etc", etc, sizeof etc);
    if (mkdir(etc, 0755) < 0)
        return fail(b, "cannot create", "/etc");
    if (bind_listed(b, "/etc", "/etc", etc_entries, false) < 0 ||
        write_text(b, "/etc/passwd", "root:x:0:0:root:/:/usr/sbin/nologin\n"
                   "student:x:1000:1000:Assay sandbox:/tmp:/bin/sh\n"
                   "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n") < 0 ||
        write_text(b, "/etc/group", "root:x:0:\nstudent:x:1000:\nnogroup:x:65534:\n") < 0 ||
        write_text(b, "/etc/hosts", "127.0.0.1 localhost assay-sandbox\n::1 localhost\n") < 0 ||
        write_text(b, "/etc/hostname", "assay-sandbox\n") < 0)
        return -1;
    return 0;
}

static int mount_tmpfs(struct build *b, const char *path, const char *options, unsigned long flags)
{
    char dst[4096];
    inside(b, path, dst, sizeof dst);
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return fail(b, "cannot create", path);
    if (mount("tmpfs", dst, "tmpfs", flags, options) < 0)
        return fail(b, "cannot mount a tmpfs on", path);
    return 0;
}

/* The shared /dev: its nodes and links, and an empty shm/ for each run's
 * own tmpfs; read-only. */
static int build_dev(struct build *b)
{
    char dev[1024];
    if (mount_tmpfs(b, "/dev", "size=64k,nr_inodes=64,mode=0755", MS_NOSUID | MS_NOEXEC) < 0)
        return -1;
    inside(b, "/dev", dev, sizeof dev);
    for (int i = 0; dev_nodes[i]; i++) {
        char src[64], dst[4096];
        snprintf(src, sizeof src, "/dev/%s", dev_nodes[i]);
        snprintf(dst, sizeof dst, "%s/%s", dev, dev_nodes[i]);
        if (bind(b, src, dst, true, true) < 0)
            return -1;
    }
    static const char *const links[][2] = {{"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
                                           {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
    for (int i = 0; i < 4; i++) {
        char dst[4096];
        snprintf(dst, sizeof dst, "%s/%s", dev, links[i][1]);
        if (symlink(links[i][0], dst) < 0)
            return fail(b, "cannot link", dst);
    }
    char shm[4096];
    snprintf(shm, sizeof shm, "%s/shm", dev);
    if (mkdir(shm, 01777) < 0)
        return fail(b, "cannot create", "/dev/shm");
    return set_attrs(dev, 0, MOUNT_ATTR_RDONLY) < 0 ? fail(b, "cannot make read-only", "/dev") : 0;
}

/* Where the prepared tree and each run's root go, below ROOT_MNT. */
static void staging_path(const char *root_mnt, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", root_mnt, name);
}

int sandbox_rootfs_prepare(const char *root_mnt, const char *rootfs, char *why, size_t n)
{
    char prep[512], run[512];
    struct build b = {prep, why, n};
    staging_path(root_mnt, "prep", prep, sizeof prep);
    staging_path(root_mnt, "run", run, sizeof run);
    /* nothing mounted here reaches the host, nor anything the host mounts later */
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(&b, "cannot make private", "/");
    /* a previous prepared tree (another root filesystem) goes first */
    if (umount2(root_mnt, MNT_DETACH) < 0 && errno != EINVAL)
        return fail(&b, "cannot detach", root_mnt);
    if (mount("tmpfs", root_mnt, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
              "size=16k,nr_inodes=8,mode=0755") < 0)
        return fail(&b, "cannot mount the staging tmpfs on", root_mnt);
    if (mkdir(prep, 0755) < 0 || mkdir(run, 0755) < 0 ||
        set_attrs(root_mnt, 0, MOUNT_ATTR_RDONLY) < 0)
        return fail(&b, "cannot lay out", root_mnt);
    if (mount("tmpfs", prep, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755") < 0)
        return fail(&b, "cannot mount the root tmpfs on", prep);
    if (build_system(&b, rootfs) < 0 || build_dev(&b) < 0)
        return -1;
    return set_attrs(prep, 0, MOUNT_ATTR_RDONLY) < 0 ? fail(&b, "cannot make read-only", prep)
                                                     : 0;
}

/* ---- per run ---- */

/* Brings prepared entry PREP/NAME into the new root: a recursive bind,
 * whose mounts keep their read-only/nosuid/nodev flags (locked), or, for
 * a symlink, a copy. */
static int take_prepared(struct build *b, const char *prep, const char *name)
{
    char src[4096], dst[4096];
    snprintf(src, sizeof src, "%s/%s", prep, name);
    snprintf(dst, sizeof dst, "%s/%s", b->root, name);
    struct stat st;
    if (lstat(src, &st) < 0)
        return fail(b, "cannot stat", src);
    if (S_ISLNK(st.st_mode))
        return copy_symlink(b, src, dst);
    if (make_mount_point(src, dst) < 0)
        return fail(b, "cannot make a mount point for", src);
    return mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0 ? fail(b, "cannot bind", src) : 0;
}

static int take_all_prepared(struct build *b, const char *prep)
{
    DIR *d = opendir(prep);
    if (!d)
        return fail(b, "cannot read", prep);
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            rc = take_prepared(b, prep, de->d_name);
    closedir(d);
    return rc;
}

static int build_workdir(struct build *b, const struct sandbox_job *job)
{
    char dst[4096];
    struct err e;
    inside(b, job->workdir, dst, sizeof dst);
    /* its parents are there already when it is in the slot's work area */
    if (mkdir(dst, 0755) < 0 && fs_mkdir_p(dst, 0755, &e) < 0)
        return fail_err(b, &e);
    return bind(b, job->workdir, dst, true, false);
}

static int build_binds(struct build *b, const struct sandbox_job *job)
{
    for (int i = 0; i < job->n_binds; i++) {
        const struct run_bind *rb = &job->binds[i];
        char dst[4096];
        struct err e;
        inside(b, rb->target, dst, sizeof dst);
        char *slash = strrchr(dst, '/');
        *slash = '\0';
        int rc = fs_mkdir_p(dst, 0755, &e);
        *slash = '/';
        if (rc < 0)
            return fail_err(b, &e);
        if (bind(b, rb->source, dst, rb->writable, false) < 0)
            return -1;
    }
    return 0;
}

static int build_proc(struct build *b)
{
    char dst[4096];
    inside(b, "/proc", dst, sizeof dst);
    if (mkdir(dst, 0555) < 0)
        return fail(b, "cannot create", "/proc");
    if (mount("proc", dst, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
        return fail(b, "cannot mount", "/proc");
    return 0;
}

static int enter_root(struct build *b)
{
    if (chdir(b->root) < 0)
        return fail(b, "cannot enter", b->root);
    /* pivot_root(".", ".") stacks the old root under the new one; the
     * lazy unmount then drops the whole host tree (and the prepared one)
     * from view */
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        return fail(b, "cannot pivot to", b->root);
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return fail(b, "cannot detach", "the host's root");
    return set_attrs("/", 0, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV) < 0
               ? fail(b, "cannot make read-only", "/")
               : 0;
}

int sandbox_rootfs_build(const char *root_mnt, const char *work_base, char *why, size_t n)
{
    char prep[512], run[512], opts[64];
    struct build b = {run, why, n};
    staging_path(root_mnt, "prep", prep, sizeof prep);
    staging_path(root_mnt, "run", run, sizeof run);
    snprintf(opts, sizeof opts, "size=%dm,mode=1777", SANDBOX_TMP_MB);
    /* a fresh root of its own: pivot_root refuses a locked mount, and
     * nothing written here outlives the run */
    if (mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=4096,mode=0755") < 0)
        return fail(&b, "cannot mount the root tmpfs on", run);
    if (take_all_prepared(&b, prep) < 0 || mount_tmpfs(&b, "/tmp", opts, MS_NOSUID | MS_NODEV) < 0 ||
        mount_tmpfs(&b, "/dev/shm", opts, MS_NOSUID | MS_NODEV) < 0 || build_proc(&b) < 0)
        return -1;
    char dst[4096];
    struct err e;
    inside(&b, work_base ? work_base : "", dst, sizeof dst);
    return work_base && fs_mkdir_p(dst, 0755, &e) < 0 ? fail_err(&b, &e) : 0;
}

int sandbox_rootfs_enter(const char *root_mnt, const struct sandbox_job *job, char *why, size_t n)
{
    char run[512];
    struct build b = {run, why, n};
    staging_path(root_mnt, "run", run, sizeof run);
    if (build_workdir(&b, job) < 0 || build_binds(&b, job) < 0)
        return -1;
    return enter_root(&b);
}
