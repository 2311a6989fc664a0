/* cgroup.h - a slot's control group, one implementation per cgroup
 * version (cgroup_v1.c, cgroup_v2.c), chosen by cgroup_open_slot. */
#ifndef ASSAY_SANDBOX_CGROUP_H
#define ASSAY_SANDBOX_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "sandbox/launcher.h"

/* The controllers a slot needs (bits of cgroup->controllers). */
#define CG_MEMORY 1
#define CG_PIDS 2
#define CG_CPU 4
#define CG_ALL (CG_MEMORY | CG_PIDS | CG_CPU)

/* Processes a slot's cgroup holds besides the run's: the sandbox's PID 1
 * and the keeper that the runs are born from (keeper.c). */
#define CG_EXTRA_TASKS 2

/* What one run used, read from the cgroup after it ended. */
struct cgroup_usage {
    double cpu_s;               /* every process of the run, not only waited-for ones */
    long peak_kb;               /* memory high-water mark, page cache and tmpfs included */
    long end_kb;                /* still charged once the run's processes are gone: its
                                 * files, page cache, the slot's residue; 0 if unknown */
    long oom_kills;             /* processes the memory limit killed */
    long limit_hits;            /* times a charge met the memory limit (reclaim may have
                                 * made room: no verdict on its own) */
    long pids_refused;          /* forks refused by the process limit */
};

struct cgroup;

struct cgroup_ops {
    const char *name;           /* "v1" or "v2" */
    /* Sets the run's limits and resets the counters: called before each
     * run, while the cgroup holds no process of a run. */
    int (*prepare)(struct cgroup *cg, const struct run_limits *l, struct err *e);
    /* CPU seconds used since prepare (polled to enforce the CPU limit). */
    int (*cpu_used)(struct cgroup *cg, double *cpu_s);
    /* The run's own memory now (anonymous pages: not the files it wrote,
     * which the work area's size bounds), in KB; polled to enforce the
     * memory limit, which the cgroup's own limit cannot tell from files. */
    int (*anon_kb)(struct cgroup *cg, long long *kb);
    /* Seconds the processes in the cgroup but EXCEPT (the keeper) have
     * waited for a CPU since prepare.  Where the kernel keeps no such
     * count for the cgroup it is summed from its tasks' own counts
     * (launcher_task_cpu_wait_ns), which end with them: the launcher
     * calls this every tick while the run lives, and a task that ends
     * between two calls loses what it waited since the first. */
    int (*cpu_wait)(struct cgroup *cg, pid_t except, double *wait_s);
    /* What the run used since prepare. */
    int (*usage)(struct cgroup *cg, struct cgroup_usage *u, struct err *e);
    /* True when no process but those in EXCEPT (a list ending in 0;
     * NULL: none; an entry -P stands for every child of P) is in the
     * cgroup. */
    bool (*is_empty)(struct cgroup *cg, const pid_t *except);
    /* SIGKILLs every process in the cgroup but those in EXCEPT. */
    void (*kill_all)(struct cgroup *cg, const pid_t *except);
    /* Moves PID into the slot (v1's keeper, once per launcher). */
    int (*enter)(struct cgroup *cg, pid_t pid, struct err *e);
    /* A directory fd for clone3(CLONE_INTO_CGROUP), or -1 where runs
     * are born from a keeper instead (v1). */
    int (*clone_fd)(struct cgroup *cg);
    /* Gives back what the slot's memory cgroup can give back (page
     * cache, freed tmpfs pages) and sets *LEFT to the bytes still
     * charged to it: called between runs, when only what no run needs
     * any more is charged.  -1 if the charge cannot be read. */
    int (*reclaim)(struct cgroup *cg, long long *left, struct err *e);
    /* Sets *BYTES to what is charged to the slot's memory cgroup now,
     * without reclaiming (0 where memory is not enforced). */
    int (*charged)(struct cgroup *cg, long long *bytes, struct err *e);
    /* Removes the slot's directories: for a launcher done with the slot,
     * whose processes it has killed.  The installation's group above
     * them stays, with whatever an admin set on it (a CPU quota, say). */
    void (*remove)(struct cgroup *cg);
    void (*close)(struct cgroup *cg);
};

struct cgroup {
    const struct cgroup_ops *ops;
    int controllers;            /* CG_* bits the slot enforces */
    char path[256];             /* for messages: the slot's directory (v2) or memory dir (v1) */
};

/* The hierarchy this host offers: v2 when a cgroup2 mount has memory,
 * pids and cpu available, else v1 when memory, pids and cpuacct are
 * mounted.  On failure the error says what is missing and how to enable
 * it. */
int cgroup_detect(int *version, char *root, size_t n, struct err *e);

/* Opens (creating once) the cgroup GROUP/slot-SLOT under ROOT, which is
 * the cgroup2 mount (v2) or the directory holding the v1 controller
 * mounts; GROUP is the installation's (struct sandbox_site), "assay" or
 * "assay/NAME".  NEED is the CG_* controllers to enforce. */
struct cgroup *cgroup_v1_open(const char *root, const char *group, int slot, int need,
                              struct err *e);
struct cgroup *cgroup_v2_open(const char *root, const char *group, int slot, int need,
                              struct err *e);

/* What the tasks listed in a cgroup waited for a CPU, summed from their
 * own counts at each sample (shared by the two versions). */
struct cg_task_wait {
    pid_t tid;
    long long ns;               /* its count at the last sample */
};
struct cg_waits {
    long long total_ns;         /* since the last reset */
    struct cg_task_wait *seen;  /* the tasks of the last sample, n of them */
    struct cg_task_wait *next;  /* the sample being taken (both hold cap) */
    size_t n, cap;
};

void cg_waits_reset(struct cg_waits *w);
/* Reads the task ids in DIR/FILE (tasks, cgroup.threads) but EXCEPT and
 * adds what each waited since the last sample (a task not seen before:
 * all it waited, from its birth).  -1 if the list cannot be read. */
int cg_waits_sample(struct cg_waits *w, const char *dir, const char *file, pid_t except);
void cg_waits_free(struct cg_waits *w);

/* File helpers shared by the two versions. */
int cg_write(const char *dir, const char *file, const char *value, struct err *e);
int cg_read_long(const char *dir, const char *file, long long *v);
/* Reads "KEY VALUE" lines of DIR/FILE; VALUE of KEY, or -1 if absent. */
long long cg_read_key(const char *dir, const char *file, const char *key);
/* Removes the cgroup directory DIR, waiting a moment for killed
 * processes to leave it; what cannot be removed is logged. */
void cg_remove_dir(const char *dir);
/* Pids listed in DIR/cgroup.procs other than those in EXCEPT (a list
 * ending in 0, or NULL; an entry -P stands for every child of P): kills
 * them if KILL; returns how many there were (-1 if unreadable). */
int cg_procs(const char *dir, const pid_t *except, bool kill_them);

#endif
