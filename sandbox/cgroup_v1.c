/*
 * cgroup_v1.c - a slot's cgroups on a v1 (or hybrid) host.
 *
 * The slot is one directory per controller: memory/GROUP/slot-N,
 * pids/GROUP/slot-N, cpuacct/GROUP/slot-N and cpu/GROUP/slot-N (GROUP
 * the installation's: assay or assay/NAME), created the first time the
 * slot is used and kept.  v1 cannot place a process in a cgroup at
 * birth, and moving one in costs milliseconds, so the launcher moves a
 * keeper process in once (enter) and every run is forked from it
 * (keeper.c).  The cpu cgroups give every slot the same cpu.shares below
 * one parent, so the scheduler shares the CPUs between slots, not between
 * processes: a run of 8 busy processes gets no more than a run of one
 * beside it.  v1 keeps no per-cgroup count of the time waited for a CPU
 * without CONFIG_SCHEDSTATS, so cpu_wait sums the tasks' own counts
 * (cg_waits).
 * Per run: limits are written (only when they differ from the last run's:
 * nothing inside a run can change them, and each write costs a few tens
 * of microseconds), then the counters that can be zeroed are
 * (cpuacct.usage, memory.max_usage_in_bytes, memory.failcnt); the OOM
 * kill and refused-fork counts cannot be, so they are read as deltas.
 * memory.memsw.limit_in_bytes equal to the memory limit means no swap.
 */
#define _GNU_SOURCE
#include "sandbox/cgroup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"

enum { MEM, PIDS, CPUACCT, CPU, N_DIRS };
static const char *const controller_dir[N_DIRS] = {"memory", "pids", "cpuacct", "cpu"};
static const int controller_bit[N_DIRS] = {CG_MEMORY, CG_PIDS, CG_CPU, CG_CPU};

/* Every slot's weight: the same for all, so each gets an equal share of
 * the CPUs whatever its number of processes (1024 is the kernel's
 * default, a nice-0 process's weight). */
#define SLOT_CPU_SHARES "1024"

struct cgroup_v1 {
    struct cgroup base;
    char dir[N_DIRS][256];
    bool has_memsw;
    bool shares_set;               /* cpu.shares written since open */
    long long oom_base, pids_base;
    long long mem_set, pids_set;   /* the limits last written; 0: not known */
    struct cg_waits waits;         /* the run's tasks' waits for a CPU */
};

static bool wants(const struct cgroup_v1 *c, int i)
{
    return (c->base.controllers & controller_bit[i]) != 0;
}

static int v1_prepare(struct cgroup *cg, const struct run_limits *l, struct err *e)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    char v[32];
    if (wants(c, MEM)) {
        const char *m = c->dir[MEM];
        long long bytes = (long long)l->memory_mb << 20;
        snprintf(v, sizeof v, "%lld", bytes);
        if (c->mem_set != bytes) {
            c->mem_set = 0;
            /* memsw must stay >= the memory limit: lift it, set memory, then pin it */
            if ((c->has_memsw && cg_write(m, "memory.memsw.limit_in_bytes", "-1", e) < 0) ||
                cg_write(m, "memory.limit_in_bytes", v, e) < 0 ||
                (c->has_memsw && cg_write(m, "memory.memsw.limit_in_bytes", v, e) < 0))
                return -1;
            c->mem_set = bytes;
        }
        if (cg_write(m, "memory.max_usage_in_bytes", "0", e) < 0 ||
            cg_write(m, "memory.failcnt", "0", e) < 0)
            return -1;
        c->oom_base = cg_read_key(m, "memory.oom_control", "oom_kill");
    }
    if (wants(c, PIDS)) {
        long long pids = l->processes + CG_EXTRA_TASKS;
        snprintf(v, sizeof v, "%lld", pids);
        if (c->pids_set != pids) {
            c->pids_set = 0;
            if (cg_write(c->dir[PIDS], "pids.max", v, e) < 0)
                return -1;
            c->pids_set = pids;
        }
        c->pids_base = cg_read_key(c->dir[PIDS], "pids.events", "max");
    }
    if (wants(c, CPUACCT) && cg_write(c->dir[CPUACCT], "cpuacct.usage", "0", e) < 0)
        return -1;
    if (wants(c, CPU) && !c->shares_set) {
        if (cg_write(c->dir[CPU], "cpu.shares", SLOT_CPU_SHARES, e) < 0)
            return -1;
        c->shares_set = true;
    }
    cg_waits_reset(&c->waits);
    return 0;
}

static int v1_anon_kb(struct cgroup *cg, long long *kb)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    /* total_rss: anonymous pages and swap cache of the group and below;
     * tmpfs pages are "shmem", counted apart */
    long long rss = wants(c, MEM) ? cg_read_key(c->dir[MEM], "memory.stat", "total_rss") : -1;
    if (rss < 0)
        return -1;
    *kb = rss / 1024;
    return 0;
}

static int v1_cpu_used(struct cgroup *cg, double *cpu_s)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    long long ns;
    if (!wants(c, CPUACCT) || cg_read_long(c->dir[CPUACCT], "cpuacct.usage", &ns) < 0)
        return -1;
    *cpu_s = (double)ns / 1e9;
    return 0;
}

static int v1_cpu_wait(struct cgroup *cg, pid_t except, double *wait_s)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    if (!wants(c, CPU) || cg_waits_sample(&c->waits, c->dir[CPU], "tasks", except) < 0)
        return -1;
    *wait_s = (double)c->waits.total_ns / 1e9;
    return 0;
}

static int v1_usage(struct cgroup *cg, struct cgroup_usage *u, struct err *e)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    memset(u, 0, sizeof *u);
    if (wants(c, CPUACCT) && v1_cpu_used(cg, &u->cpu_s) < 0)
        return err_set(e, "cannot read %s/cpuacct.usage", c->dir[CPUACCT]);
    if (wants(c, MEM)) {
        long long peak;
        if (cg_read_long(c->dir[MEM], "memory.max_usage_in_bytes", &peak) < 0)
            return err_set(e, "cannot read %s/memory.max_usage_in_bytes", c->dir[MEM]);
        u->peak_kb = (long)(peak / 1024);
        long long now;
        if (cg_read_long(c->dir[MEM], "memory.usage_in_bytes", &now) == 0)
            u->end_kb = (long)(now / 1024);
        long long ooms = cg_read_key(c->dir[MEM], "memory.oom_control", "oom_kill");
        u->oom_kills = ooms >= 0 && c->oom_base >= 0 ? (long)(ooms - c->oom_base) : 0;
        long long hits;   /* zeroed by prepare */
        u->limit_hits = cg_read_long(c->dir[MEM], "memory.failcnt", &hits) == 0 ? (long)hits : 0;
    }
    if (wants(c, PIDS)) {
        long long refused = cg_read_key(c->dir[PIDS], "pids.events", "max");
        u->pids_refused = refused >= 0 && c->pids_base >= 0 ? (long)(refused - c->pids_base) : 0;
    }
    return 0;
}

static bool v1_is_empty(struct cgroup *cg, const pid_t *except)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    for (int i = 0; i < N_DIRS; i++)
        if (wants(c, i) && cg_procs(c->dir[i], except, false) != 0)
            return false;
    return true;
}

static void v1_kill_all(struct cgroup *cg, const pid_t *except)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    for (int i = 0; i < N_DIRS; i++)
        if (wants(c, i))
            cg_procs(c->dir[i], except, true);   /* is_empty tells whether it worked */
}

static int v1_enter(struct cgroup *cg, pid_t pid, struct err *e)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    char v[24];
    snprintf(v, sizeof v, "%d", (int)pid);
    for (int i = 0; i < N_DIRS; i++)
        if (wants(c, i) && cg_write(c->dir[i], "cgroup.procs", v, e) < 0)
            return -1;
    return 0;
}

static int v1_clone_fd(struct cgroup *cg)
{
    (void)cg;
    return -1;
}

/* memory.force_empty reclaims until nothing reclaimable is left (the
 * cgroup keeps its processes: the keeper's own pages stay charged). */
static int v1_reclaim(struct cgroup *cg, long long *left, struct err *e)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    *left = 0;
    if (!wants(c, MEM))
        return 0;
    if (cg_write(c->dir[MEM], "memory.force_empty", "0", e) < 0)
        return -1;
    if (cg_read_long(c->dir[MEM], "memory.usage_in_bytes", left) < 0)
        return err_set(e, "cannot read %s/memory.usage_in_bytes", c->dir[MEM]);
    return 0;
}

static int v1_charged(struct cgroup *cg, long long *bytes, struct err *e)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    *bytes = 0;
    if (wants(c, MEM) && cg_read_long(c->dir[MEM], "memory.usage_in_bytes", bytes) < 0)
        return err_set(e, "cannot read %s/memory.usage_in_bytes", c->dir[MEM]);
    return 0;
}

static void v1_remove(struct cgroup *cg)
{
    struct cgroup_v1 *c = (struct cgroup_v1 *)cg;
    for (int i = 0; i < N_DIRS; i++)
        if (wants(c, i))
            cg_remove_dir(c->dir[i]);
}

static void v1_close(struct cgroup *cg)
{
    cg_waits_free(&((struct cgroup_v1 *)cg)->waits);
    free(cg);
}

static const struct cgroup_ops v1_ops = {
    "v1", v1_prepare, v1_cpu_used, v1_anon_kb, v1_cpu_wait, v1_usage, v1_is_empty, v1_kill_all,
    v1_enter, v1_clone_fd, v1_reclaim, v1_charged, v1_remove, v1_close,
};

struct cgroup *cgroup_v1_open(const char *root, const char *group, int slot, int need,
                              struct err *e)
{
    struct cgroup_v1 *c = calloc(1, sizeof *c);
    if (!c) {
        err_set(e, "out of memory");
        return NULL;
    }
    c->base.ops = &v1_ops;
    c->base.controllers = need;
    for (int i = 0; i < N_DIRS; i++) {
        if (!wants(c, i))
            continue;
        snprintf(c->dir[i], sizeof c->dir[i], "%s/%s/%s/slot-%d", root, controller_dir[i], group,
                 slot);
        if (fs_mkdir_p(c->dir[i], 0755, e) < 0) {
            err_prefix(e, "cannot create the slot's %s cgroup", controller_dir[i]);
            free(c);
            return NULL;
        }
    }
    snprintf(c->base.path, sizeof c->base.path, "%s", c->dir[wants(c, MEM) ? MEM : PIDS]);
    char memsw[512];
    snprintf(memsw, sizeof memsw, "%s/memory.memsw.limit_in_bytes", c->dir[MEM]);
    c->has_memsw = wants(c, MEM) && fs_exists(memsw);
    c->oom_base = c->pids_base = -1;
    return &c->base;
}
