/*
 * cgroup.c - finding the cgroup hierarchy to use, the file access and
 * the removal of a slot's directory both versions share, and how long a
 * cgroup's tasks waited for a CPU where the kernel does not count it for
 * the cgroup (cg_waits).
 *
 * The sandbox launcher calls cgroup_detect once, then opens its slot with
 * cgroup_v1_open or cgroup_v2_open; after that it only sees struct
 * cgroup_ops.  Detection prefers v2 (one hierarchy, clone3 can place a
 * process in it at birth) and falls back to v1 when the controllers are
 * bound there, as on hybrid hosts whose cgroup2 mount is empty.
 */
#define _GNU_SOURCE
#include "sandbox/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <mntent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "sandbox/launcher_common.h"

/* How long a slot's removal waits for its killed processes to leave. */
#define REMOVE_WAIT_S 2.0

int cg_write(const char *dir, const char *file, const char *value, struct err *e)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    /* O_TRUNC means nothing to cgroupfs; it lets tests use plain files */
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "cannot open %s", path);
    ssize_t n = write(fd, value, strlen(value));
    int saved = errno;
    close(fd);
    if (n < 0) {
        errno = saved;
        return err_sys(e, "cannot write \"%s\" to %s", value, path);
    }
    return 0;
}

static int read_small(const char *dir, const char *file, char *out, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return launcher_read_small(path, out, n) < 0 ? -1 : 0;
}

int cg_read_long(const char *dir, const char *file, long long *v)
{
    char text[64];
    if (read_small(dir, file, text, sizeof text) < 0)
        return -1;
    if (!strncmp(text, "max", 3)) {
        *v = -1;
        return 0;
    }
    char *end;
    *v = strtoll(text, &end, 10);
    return end == text ? -1 : 0;
}

long long cg_read_key(const char *dir, const char *file, const char *key)
{
    char text[4096];
    if (read_small(dir, file, text, sizeof text) < 0)
        return -1;
    size_t kl = strlen(key);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, key, kl) && line[kl] == ' ')
            return strtoll(line + kl + 1, NULL, 10);
    return -1;
}

void cg_remove_dir(const char *dir)
{
    double until = clock_mono() + REMOVE_WAIT_S;
    int rc;
    while ((rc = rmdir(dir)) < 0 && errno == EBUSY && clock_mono() < until)
        usleep(10000);   /* a killed process has not left yet */
    if (rc < 0 && errno != ENOENT) {   /* ENOENT: removed already (v1's cpu and cpuacct
                                        * may be one directory) */
        log_msg(LOG_WARN, NULL, "cannot remove the cgroup %s: %s; it stays until it is removed "
                "by hand (rmdir) or the machine restarts", dir, strerror(errno));
    }
}

static bool listed(const pid_t *list, pid_t pid)
{
    bool children = false;
    for (int i = 0; list && list[i]; i++) {
        if (list[i] == pid)
            return true;
        children |= list[i] < 0;
    }
    if (!children)
        return false;
    char state;
    pid_t parent = 0;
    launcher_proc_stat(pid, &state, &parent);   /* gone: no parent, so not spared */
    for (int i = 0; parent && list[i]; i++)
        if (list[i] == -parent)
            return true;
    return false;
}

int cg_procs(const char *dir, const pid_t *except, bool kill_them)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int count = 0;
    long pid;
    while (fscanf(f, "%ld", &pid) == 1) {
        if (listed(except, (pid_t)pid))
            continue;
        count++;
        if (kill_them)
            kill((pid_t)pid, SIGKILL);
    }
    fclose(f);
    return count;
}

/* ---- waiting for a CPU ---- */

void cg_waits_reset(struct cg_waits *w)
{
    w->total_ns = 0;
    w->n = 0;
}

void cg_waits_free(struct cg_waits *w)
{
    free(w->seen);
    free(w->next);
    memset(w, 0, sizeof *w);
}

/* Room for one more task in the sample being taken. */
static int waits_grow(struct cg_waits *w, size_t want)
{
    if (want <= w->cap)
        return 0;
    size_t cap = w->cap ? w->cap * 2 : 64;
    struct cg_task_wait *a = realloc(w->seen, cap * sizeof *a);
    if (a)
        w->seen = a;
    struct cg_task_wait *b = a ? realloc(w->next, cap * sizeof *b) : NULL;
    if (!b)
        return -1;
    w->next = b;
    w->cap = cap;
    return 0;
}

/* What TID's count was at the last sample; 0 for a task born since. */
static long long waits_last(const struct cg_waits *w, pid_t tid)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->seen[i].tid == tid)
            return w->seen[i].ns;
    return 0;
}

int cg_waits_sample(struct cg_waits *w, const char *dir, const char *file, pid_t except)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t k = 0;
    long long added = 0;
    long tid;
    while (fscanf(f, "%ld", &tid) == 1) {
        if ((pid_t)tid == except)
            continue;
        long long ns = launcher_task_cpu_wait_ns((pid_t)tid);
        if (ns < 0)
            continue;   /* ended since the list was read: its last wait is lost */
        if (waits_grow(w, k + 1) < 0) {
            fclose(f);   /* this sample is dropped whole: nothing is counted twice */
            return -1;
        }
        long long last = waits_last(w, (pid_t)tid);
        if (ns > last)
            added += ns - last;
        w->next[k++] = (struct cg_task_wait){(pid_t)tid, ns};
    }
    fclose(f);
    w->total_ns += added;
    struct cg_task_wait *t = w->seen;
    w->seen = w->next;
    w->next = t;
    w->n = k;
    return 0;
}

/* The mount point of a cgroup2 filesystem, or of the v1 hierarchy
 * carrying CONTROLLER, from /proc/self/mounts. */
static bool find_mount(const char *type, const char *controller, char *out, size_t n)
{
    FILE *f = setmntent("/proc/self/mounts", "re");
    struct mntent *m;
    bool found = false;
    while (f && !found && (m = getmntent(f))) {
        if (strcmp(m->mnt_type, type))
            continue;
        if (controller && !hasmntopt(m, controller))
            continue;
        snprintf(out, n, "%s", m->mnt_dir);
        found = true;
    }
    if (f)
        endmntent(f);
    return found;
}

static bool has_word(const char *text, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = text; (p = strstr(p, word)); p += wl)
        if ((p == text || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || !p[wl]))
            return true;
    return false;
}

static bool v2_usable(const char *mnt)
{
    char ctl[256];
    if (read_small(mnt, "cgroup.controllers", ctl, sizeof ctl) < 0)
        return false;
    return has_word(ctl, "memory") && has_word(ctl, "pids") && has_word(ctl, "cpu");
}

int cgroup_detect(int *version, char *root, size_t n, struct err *e)
{
    char mnt[256];
    if (find_mount("cgroup2", NULL, mnt, sizeof mnt) && v2_usable(mnt)) {
        *version = 2;
        snprintf(root, n, "%s", mnt);
        return 0;
    }
    /* cpu: the slots' equal shares of the CPUs; cpuacct: their CPU time */
    static const char *const needed[] = {"memory", "pids", "cpuacct", "cpu"};
    struct buf missing = BUF_INIT;
    char first[256] = "";
    for (size_t i = 0; i < sizeof needed / sizeof *needed; i++) {
        if (!find_mount("cgroup", needed[i], mnt, sizeof mnt))
            buf_printf(&missing, "%s%s", missing.len ? ", " : "", needed[i]);
        else if (!first[0])
            snprintf(first, sizeof first, "%s", mnt);
    }
    if (missing.len == 0) {
        /* /sys/fs/cgroup/memory -> /sys/fs/cgroup: controllers sit side by side */
        char *slash = strrchr(first, '/');
        if (slash)
            *slash = '\0';
        *version = 1;
        snprintf(root, n, "%s", first);
        buf_free(&missing);
        return 0;
    }
    err_set(e, "the namespace sandbox needs the memory, pids and cpu cgroup controllers: "
            "no cgroup2 mount offers all three, and the cgroup v1 controller%s %s %s not "
            "mounted. Either boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1) so that "
            "/sys/fs/cgroup/cgroup.controllers lists memory, pids and cpu, or mount the v1 "
            "controllers, e.g. `mkdir -p /sys/fs/cgroup/pids && mount -t cgroup -o pids cgroup "
            "/sys/fs/cgroup/pids` (likewise memory, cpuacct and cpu); or, for development only, "
            "pass --sandbox rlimit",
            strchr(buf_str(&missing), ',') ? "s" : "", buf_str(&missing),
            strchr(buf_str(&missing), ',') ? "are" : "is");
    buf_free(&missing);
    return -1;
}
