/* policy.h - the scheduling policy interface: which job goes to an idle slot. */
#ifndef ASSAY_POLICY_H
#define ASSAY_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "spool/workers.h"

/* A job waiting in incoming/, as the scheduler keeps it in memory. */
struct sched_job {
    char id[48];
    const char *capability;     /* interned: compare pointers or strings */
    const char *course;         /* interned */
    const char *assignment;     /* interned */
    const char *student;        /* interned */
    long long version;
    bool batch;
    double queued_at;
    double cost;                /* expected seconds of a slot: the assignment's
                                   moving average, or its time limit */
    double weight;              /* its course's share (course.json), default 1 */
    char **avoid;               /* workers where an attempt already failed */
    int n_avoid;
    unsigned seen;              /* the scheduler's rescan mark */
    struct sched_job *hash_next;     /* the scheduler's id table */
    /* The policy's record of where the job waits: its own type, private
     * to its file, so a new policy changes nothing here.  NULL when the
     * job is in no policy (before add, after remove, or when add ran out
     * of memory); only the policy sets it. */
    void *policy_node;
};

/* What a policy may ask of its surroundings: the clock (simulated in
 * tests and benchmarks) and its tunables. */
struct policy_env {
    double (*now)(void *ctx);   /* seconds; NULL: the wall clock */
    void *ctx;
    double age_guard_s;         /* fair: a batch job waiting longer is served
                                   as interactive; <= 0: the default */
};

/* A policy orders the waiting jobs; the scheduler owns the jobs, the
 * policy its node for each (sched_job.policy_node).  A job's facts must
 * not change between add and remove: the policy's order is built on them. */
struct policy {
    const char *name;
    /* Queues J (its policy_node must be NULL).  Out of memory, J stays
     * out of the policy: never picked, and removing it does nothing. */
    void (*add)(struct policy *p, struct sched_job *j);
    /* Takes J out (a job the policy does not hold is ignored) and frees
     * its node. */
    void (*remove)(struct policy *p, struct sched_job *j);
    /* The job an idle slot of worker W should take now, or NULL.  ALL is
     * every worker, so a job can avoid a worker it failed on whenever
     * another could take it.  The job returned is taken: the caller hands
     * it over and removes it (a policy may charge its course for it). */
    struct sched_job *(*pick)(struct policy *p, const struct worker_cfg *w,
                              const struct workers *all);
    /* Frees the policy and the nodes of jobs still queued (their
     * policy_node becomes NULL). */
    void (*destroy)(struct policy *p);
};

#define POLICY_AGE_GUARD_S 600.0
#define POLICY_NAMES "fair, fcfs"

struct policy *policy_fcfs_new(void);
struct policy *policy_fair_new(const struct policy_env *env);
/* By name ("fair", "fcfs"); NULL if unknown.  ENV may be NULL. */
struct policy *policy_new(const char *name, const struct policy_env *env);

/* True when W may take J: it offers the capability and J does not avoid
 * it (unless no other enabled worker offers the capability). */
bool policy_worker_fits(const struct sched_job *j, const struct worker_cfg *w,
                        const struct workers *all);

#endif
