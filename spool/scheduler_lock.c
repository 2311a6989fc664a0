/*
 * scheduler_lock.c - scheduler.lock, the spool's one-scheduler lock, and
 * the answer to "is a scheduler running, and since when not?".
 *
 * assay-scheduler takes an exclusive flock on S/scheduler.lock at
 * start-up (scheduler_lock_take) and holds it until it exits; the kernel
 * drops it when the process dies, even by kill -9.  While it runs it
 * renews the file's mtime (scheduler_lock_seen: at start-up, at every
 * rescan and when it stops), so the mtime of a lock nobody holds is the
 * last moment a scheduler was known to be alive.
 *
 * `assay status` and `assay submit --wait` ask with scheduler_lock_probe.
 * Trying the lock would hold it for an instant, and a scheduler starting
 * in that instant would be refused as a second one; so the probe never
 * locks: it looks for the lock in /proc/locks (the kernel's list of
 * every lock, naming the file by device and inode and the holder by
 * pid).  That list shows only holders in the reader's pid namespace; a
 * reader that cannot read it says it cannot tell rather than guess.
 */
#define _GNU_SOURCE
#include "spool/scheduler_lock.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/clock.h"

void scheduler_lock_seen(int fd)
{
    /* only a hint for `assay status`: failing to renew it never stops a scheduler */
    if (futimens(fd, NULL) < 0) {
    }
}

int scheduler_lock_take(const struct spool *s, struct err *e)
{
    char *path = spool_path(s, SCHEDULER_LOCK);
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd < 0)
        err_sys(e, "cannot open %s/" SCHEDULER_LOCK, s->root);
    free(path);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
        close(fd);
        struct scheduler_state st;
        scheduler_lock_probe(s, &st);
        if (st.presence == SCHEDULER_RUNNING && st.pid > 0)
            return err_set(e, "another assay-scheduler (pid %d) is running on %s", st.pid,
                           s->root);
        return err_set(e, "another assay-scheduler is running on %s", s->root);
    }
    if (fd >= 0)
        scheduler_lock_seen(fd);
    return fd;
}

/* True if process PID has the file (DEV, INO) open: for file systems
 * whose stat(2) device is not the one /proc/locks prints (btrfs
 * subvolumes).  True also when PID's descriptors cannot be looked at:
 * "no scheduler" is said only when it is known. */
static bool holds_open(int pid, dev_t dev, ino_t ino)
{
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    if (!d)
        return errno != ENOENT;
    bool found = false;
    struct dirent *ent;
    while (!found && (ent = readdir(d))) {
        char path[320];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        found = ent->d_name[0] != '.' && stat(path, &st) == 0 && st.st_dev == dev &&
                st.st_ino == ino;
    }
    closedir(d);
    return found;
}

/* The pid holding an exclusive flock on the file LOCK (stat'ed), 0 if
 * none, -1 if /proc/locks cannot be read (errno set). */
static int flock_holder(const struct stat *lock)
{
    FILE *f = fopen("/proc/locks", "re");
    if (!f)
        return -1;
    char line[256];
    int holder = 0;
    while (!holder && fgets(line, sizeof line, f)) {
        /* "4: FLOCK  ADVISORY  WRITE 15416 fe:00:10952737 0 EOF"; a waiter's
         * line has "->" after the number and is not a holder */
        char type[16], mode[16];
        unsigned maj, min;
        unsigned long long ino;
        int pid;
        if (sscanf(line, "%*d: %15s %*s %15s %d %x:%x:%llu", type, mode, &pid, &maj, &min,
                   &ino) != 6 || strcmp(type, "FLOCK") || strcmp(mode, "WRITE") || pid <= 0 ||
            ino != (unsigned long long)lock->st_ino)
            continue;
        if ((maj == major(lock->st_dev) && min == minor(lock->st_dev)) ||
            holds_open(pid, lock->st_dev, lock->st_ino))
            holder = pid;
    }
    fclose(f);
    return holder;
}

void scheduler_lock_probe(const struct spool *s, struct scheduler_state *st)
{
    memset(st, 0, sizeof *st);
    char *path = spool_path(s, SCHEDULER_LOCK);
    struct stat lock;
    st->presence = SCHEDULER_UNKNOWN;
    if (!path) {
        snprintf(st->why, sizeof st->why, "out of memory");
    } else if (stat(path, &lock) < 0) {
        if (errno == ENOENT)
            st->presence = SCHEDULER_STOPPED;   /* no scheduler ever started here */
        else
            snprintf(st->why, sizeof st->why, "cannot look at %s: %s", path, strerror(errno));
    } else {
        st->last_seen = (double)lock.st_mtim.tv_sec + lock.st_mtim.tv_nsec / 1e9;
        int pid = flock_holder(&lock);
        if (pid < 0)
            snprintf(st->why, sizeof st->why, "cannot read /proc/locks: %s", strerror(errno));
        else
            st->presence = pid ? SCHEDULER_RUNNING : SCHEDULER_STOPPED;
        st->pid = pid > 0 ? pid : 0;
    }
    free(path);
}

json_t *scheduler_state_json(const struct spool *s, const struct scheduler_state *st)
{
    char seen[32];
    clock_iso8601(st->last_seen, seen);
    char *lock = spool_path(s, SCHEDULER_LOCK);
    json_t *j = json_pack("{s:o, s:o, s:o, s:s?}", "running",
                          st->presence == SCHEDULER_UNKNOWN ? json_null()
                                                            : json_boolean(st->presence == SCHEDULER_RUNNING),
                          "pid", st->pid > 0 ? json_integer(st->pid) : json_null(),
                          "last_seen", st->last_seen > 0 ? json_string(seen) : json_null(),
                          "lock", lock);
    if (j && st->presence == SCHEDULER_UNKNOWN)
        json_object_set_new(j, "reason", json_string(st->why));
    free(lock);
    return j;
}
