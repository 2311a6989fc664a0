/*
 * cgroup_v2.c - a slot's cgroup on a unified (v2) hierarchy.
 *
 * The slot is one leaf, <mount>/GROUP/slot-N (GROUP the installation's:
 * assay or assay/NAME), created the first time the slot is used
 * (enabling memory, pids and cpu for the subtree at each level on the way)
 * and kept.  Runs are born inside it by clone3(CLONE_INTO_CGROUP) with
 * the fd clone_fd returns, so no process is ever migrated.  Per run:
 * memory.max, memory.swap.max=0 (no swap), pids.max; v2's counters cannot
 * be zeroed, so cpu.stat usage_usec, memory.events oom_kill and
 * pids.events max are read as deltas from prepare, and the peak comes
 * from an fd of memory.peak reset by a write (Linux 6.12 and later; the
 * cgroup's lifetime peak before that).  cgroup.kill empties the slot in
 * one write.  Every slot has the same cpu.weight below one parent, so the
 * CPUs are shared between slots, not between processes.  The time the
 * run waited for a CPU is the cgroup's CPU pressure (cpu.pressure "some"
 * total: time during which one of its tasks was ready to run and not
 * running), or, on kernels without PSI, the sum of its tasks' own counts
 * (cg_waits).
 */
#define _GNU_SOURCE
#include "sandbox/cgroup.h"
#include "sandbox/launcher_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

struct cgroup_v2 {
    struct cgroup base;
    char dir[256];
    int dir_fd;                 /* for CLONE_INTO_CGROUP */
    int peak_fd;                /* memory.peak, reset for this run; -1 if unsupported */
    long long cpu_base_us, oom_base, pids_base, max_base;
    long long pressure_base_us;   /* cpu.pressure's total at prepare; -1: no PSI */
    bool weight_set;              /* cpu.weight written since open */
    struct cg_waits waits;        /* without PSI: the run's tasks' waits */
};

/* Every slot's weight: the same for all (100 is the kernel's default). */
#define SLOT_CPU_WEIGHT "100"

static bool wants(const struct cgroup_v2 *c, int bit)
{
    return (c->base.controllers & bit) != 0;
}

/* Opens memory.peak and resets it for reads through this fd. */
static void reset_peak(struct cgroup_v2 *c)
{
    if (c->peak_fd >= 0)
        close(c->peak_fd);
    char path[512];
    snprintf(path, sizeof path, "%s/memory.peak", c->dir);
    c->peak_fd = open(path, O_RDWR | O_CLOEXEC);
    if (c->peak_fd >= 0 && write(c->peak_fd, "reset\n", 6) < 0) {
        close(c->peak_fd);
        c->peak_fd = -1;   /* before 6.12: the lifetime peak, read by name */
    }
}

static long long cpu_usec(const struct cgroup_v2 *c)
{
    return cg_read_key(c->dir, "cpu.stat", "usage_usec");
}

/* The "some" line's total of cpu.pressure, in microseconds; -1 without
 * PSI (the file is missing, or reading it fails: PSI disabled at boot). */
static long long pressure_usec(const struct cgroup_v2 *c)
{
    char path[512], text[512];
    snprintf(path, sizeof path, "%s/cpu.pressure", c->dir);
    if (launcher_read_small(path, text, sizeof text) <= 0)
        return -1;
    const char *total = strncmp(text, "some ", 5) ? NULL : strstr(text, "total=");
    return total ? strtoll(total + 6, NULL, 10) : -1;
}

static int v2_prepare(struct cgroup *cg, const struct run_limits *l, struct err *e)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    char v[32];
    if (wants(c, CG_MEMORY)) {
        snprintf(v, sizeof v, "%lld", (long long)l->memory_mb << 20);
        if (cg_write(c->dir, "memory.max", v, e) < 0 ||
            cg_write(c->dir, "memory.swap.max", "0", e) < 0)
            return -1;
        reset_peak(c);
        c->oom_base = cg_read_key(c->dir, "memory.events", "oom_kill");
        c->max_base = cg_read_key(c->dir, "memory.events", "max");
    }
    if (wants(c, CG_PIDS)) {
        snprintf(v, sizeof v, "%ld", l->processes + CG_EXTRA_TASKS);
        if (cg_write(c->dir, "pids.max", v, e) < 0)
            return -1;
        c->pids_base = cg_read_key(c->dir, "pids.events", "max");
    }
    if (wants(c, CG_CPU) && !c->weight_set) {
        if (cg_write(c->dir, "cpu.weight", SLOT_CPU_WEIGHT, e) < 0)
            return -1;
        c->weight_set = true;
    }
    c->cpu_base_us = cpu_usec(c);
    c->pressure_base_us = pressure_usec(c);
    cg_waits_reset(&c->waits);
    return 0;
}

static int v2_cpu_wait(struct cgroup *cg, pid_t except, double *wait_s)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    long long now = c->pressure_base_us >= 0 ? pressure_usec(c) : -1;
    if (now >= 0) {
        *wait_s = (double)(now - c->pressure_base_us) / 1e6;
        return 0;
    }
    if (cg_waits_sample(&c->waits, c->dir, "cgroup.threads", except) < 0)
        return -1;
    *wait_s = (double)c->waits.total_ns / 1e9;
    return 0;
}

static int v2_anon_kb(struct cgroup *cg, long long *kb)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    /* "anon": the processes' own pages; tmpfs pages are "shmem" */
    long long anon = wants(c, CG_MEMORY) ? cg_read_key(c->dir, "memory.stat", "anon") : -1;
    if (anon < 0)
        return -1;
    *kb = anon / 1024;
    return 0;
}

static int v2_cpu_used(struct cgroup *cg, double *cpu_s)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    long long now = cpu_usec(c);
    if (now < 0)
        return -1;
    *cpu_s = (double)(now - (c->cpu_base_us > 0 ? c->cpu_base_us : 0)) / 1e6;
    return 0;
}

static long long read_peak(struct cgroup_v2 *c)
{
    if (c->peak_fd >= 0) {
        char text[64];
        ssize_t n = pread(c->peak_fd, text, sizeof text - 1, 0);
        if (n > 0) {
            text[n] = '\0';
            return strtoll(text, NULL, 10);
        }
    }
    long long v;
    return cg_read_long(c->dir, "memory.peak", &v) == 0 ? v : -1;
}

static int v2_usage(struct cgroup *cg, struct cgroup_usage *u, struct err *e)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    memset(u, 0, sizeof *u);
    if (v2_cpu_used(cg, &u->cpu_s) < 0)
        return err_set(e, "cannot read %s/cpu.stat", c->dir);
    if (wants(c, CG_MEMORY)) {
        long long peak = read_peak(c);
        u->peak_kb = peak > 0 ? (long)(peak / 1024) : 0;
        long long now;
        if (peak > 0 && cg_read_long(c->dir, "memory.current", &now) == 0)
            u->end_kb = (long)(now / 1024);
        long long ooms = cg_read_key(c->dir, "memory.events", "oom_kill");
        u->oom_kills = ooms >= 0 && c->oom_base >= 0 ? (long)(ooms - c->oom_base) : 0;
        long long hits = cg_read_key(c->dir, "memory.events", "max");
        u->limit_hits = hits >= 0 && c->max_base >= 0 ? (long)(hits - c->max_base) : 0;
    }
    if (wants(c, CG_PIDS)) {
        long long refused = cg_read_key(c->dir, "pids.events", "max");
        u->pids_refused = refused >= 0 && c->pids_base >= 0 ? (long)(refused - c->pids_base) : 0;
    }
    return 0;
}

static bool v2_is_empty(struct cgroup *cg, const pid_t *except)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    if (!except || !except[0]) {
        long long populated = cg_read_key(c->dir, "cgroup.events", "populated");
        if (populated >= 0)
            return populated == 0;
    }
    return cg_procs(c->dir, except, false) == 0;
}

static void v2_kill_all(struct cgroup *cg, const pid_t *except)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    struct err e;   /* no cgroup.kill (before Linux 5.14): killed one by one instead */
    if ((except && except[0]) || cg_write(c->dir, "cgroup.kill", "1", &e) < 0)
        cg_procs(c->dir, except, true);   /* is_empty tells whether it worked */
}

static int v2_enter(struct cgroup *cg, pid_t pid, struct err *e)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    char v[24];
    snprintf(v, sizeof v, "%d", (int)pid);
    return cg_write(c->dir, "cgroup.procs", v, e);
}

static int v2_clone_fd(struct cgroup *cg)
{
    return ((struct cgroup_v2 *)cg)->dir_fd;
}

static void v2_close(struct cgroup *cg)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    if (c->dir_fd >= 0)
        close(c->dir_fd);
    if (c->peak_fd >= 0)
        close(c->peak_fd);
    cg_waits_free(&c->waits);
    free(c);
}

/* memory.reclaim answers EAGAIN when less than asked for could be
 * reclaimed, which is the usual case: what stays is read afterwards. */
static int v2_reclaim(struct cgroup *cg, long long *left, struct err *e)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    *left = 0;
    if (!wants(c, CG_MEMORY))
        return 0;
    struct err ignored;   /* EAGAIN: the charge left is what tells */
    cg_write(c->dir, "memory.reclaim", "1G", &ignored);
    if (cg_read_long(c->dir, "memory.current", left) < 0)
        return err_set(e, "cannot read %s/memory.current", c->dir);
    return 0;
}

static int v2_charged(struct cgroup *cg, long long *bytes, struct err *e)
{
    struct cgroup_v2 *c = (struct cgroup_v2 *)cg;
    *bytes = 0;
    if (wants(c, CG_MEMORY) && cg_read_long(c->dir, "memory.current", bytes) < 0)
        return err_set(e, "cannot read %s/memory.current", c->dir);
    return 0;
}

static void v2_remove(struct cgroup *cg)
{
    cg_remove_dir(((struct cgroup_v2 *)cg)->dir);
}

static const struct cgroup_ops v2_ops = {
    "v2", v2_prepare, v2_cpu_used, v2_anon_kb, v2_cpu_wait, v2_usage, v2_is_empty, v2_kill_all,
    v2_enter, v2_clone_fd, v2_reclaim, v2_charged, v2_remove, v2_close,
};

/* "+memory +pids +cpu" for the controllers in NEED. */
static void enable_list(int need, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", need & CG_MEMORY ? "+memory " : "", need & CG_PIDS ? "+pids " : "",
             need & CG_CPU ? "+cpu" : "");
}

/* Makes DIR's children get NEED's controllers (a no-op if they do). */
static int enable_subtree(const char *dir, int need, struct err *e)
{
    char list[64];
    enable_list(need, list, sizeof list);
    if (!list[0])
        return 0;
    return cg_write(dir, "cgroup.subtree_control", list, e);
}

/* Creates ROOT/GROUP one level at a time, each level delegating NEED's
 * controllers to the next; the slot's leaf goes below the last. */
static int make_group(const char *root, const char *group, int need, struct err *e)
{
    char path[256];
    snprintf(path, sizeof path, "%s", root);
    if (enable_subtree(path, need, e) < 0)
        return -1;
    for (const char *p = group; *p;) {
        size_t len = strcspn(p, "/");
        size_t at = strlen(path);
        if (at + 1 + len >= sizeof path)
            return err_set(e, "the cgroup path %s/%s is too long", root, group);
        snprintf(path + at, sizeof path - at, "/%.*s", (int)len, p);
        if ((mkdir(path, 0755) < 0 && errno != EEXIST && err_sys(e, "cannot create %s", path)) ||
            enable_subtree(path, need, e) < 0)
            return -1;
        p += len + (p[len] == '/');
    }
    return 0;
}

struct cgroup *cgroup_v2_open(const char *root, const char *group, int slot, int need,
                              struct err *e)
{
    struct cgroup_v2 *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    c->base.ops = &v2_ops;
    c->base.controllers = need;
    c->dir_fd = c->peak_fd = -1;
    c->oom_base = c->pids_base = c->max_base = c->pressure_base_us = -1;
    snprintf(c->dir, sizeof c->dir, "%.150s/%.80s/slot-%d", root, group, slot);
    snprintf(c->base.path, sizeof c->base.path, "%s", c->dir);
    if (make_group(root, group, need, e) < 0 ||
        (mkdir(c->dir, 0755) < 0 && errno != EEXIST && err_sys(e, "cannot create %s", c->dir))) {
        err_prefix(e, "cannot set up the slot's cgroup");
        free(c);
        return NULL;
    }
    c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (c->dir_fd < 0) {
        err_sys(e, "cannot open %s", c->dir);
        free(c);
        return NULL;
    }
    return &c->base;
}
