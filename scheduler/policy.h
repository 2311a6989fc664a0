/* policy.h - the scheduling policy interface: which job goes to an idle slot. */
#ifndef ASSAY_POLICY_H
#define ASSAY_POLICY_H

#include <stdbool.h>

#include "spool/workers.h"

/* A job waiting in incoming/, as the scheduler keeps it in memory. */
struct sched_job {
    char id[48];
    const char *capability;     /* interned: compare pointers or strings */
    const char *course;         /* interned */
    bool batch;
    double queued_at;
    char **avoid;               /* workers where an attempt already failed */
    int n_avoid;
    struct sched_job *prev, *next;   /* the policy's lists */
    struct sched_job *hash_next;     /* the scheduler's id table */
};

/* A policy orders the waiting jobs; the scheduler owns the jobs. */
struct policy {
    const char *name;
    void (*add)(struct policy *p, struct sched_job *j);
    void (*remove)(struct policy *p, struct sched_job *j);
    /* The job an idle slot of worker W should take now, or NULL.  ALL is
     * every worker, so a job can avoid a worker it failed on whenever
     * another could take it. */
    struct sched_job *(*pick)(struct policy *p, const struct worker_cfg *w,
                              const struct workers *all);
    void (*destroy)(struct policy *p);
};

struct policy *policy_fcfs_new(void);
/* By name ("fcfs"); NULL if unknown. */
struct policy *policy_new(const char *name);

/* True when W may take J: it offers the capability and J does not avoid
 * it (unless no other enabled worker offers the capability). */
bool policy_worker_fits(const struct sched_job *j, const struct worker_cfg *w,
                        const struct workers *all);

#endif
