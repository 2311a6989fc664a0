/*
 * policy_fcfs.c - first come, first served; interactive before batch.
 *
 * Two lists in queue order, one per priority.  A slot takes the oldest
 * interactive job it can run, else the oldest batch job.  Jobs mostly
 * arrive in order, so insertion walks back from the tail.  The links
 * live in a node of this file's own (sched_job.policy_node), allocated
 * when a job is queued and freed when it leaves.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/policy.h"

struct fcfs_node {
    struct sched_job *job;
    struct fcfs_node *prev, *next;
};

struct fcfs {
    struct policy base;
    struct fcfs_node *head[2], *tail[2];   /* [0] interactive, [1] batch */
};

static bool before(const struct sched_job *a, const struct sched_job *b)
{
    return a->queued_at < b->queued_at || (a->queued_at == b->queued_at && strcmp(a->id, b->id) < 0);
}

static void fcfs_add(struct policy *p, struct sched_job *j)
{
    struct fcfs *f = (struct fcfs *)p;
    struct fcfs_node *n = malloc(sizeof *n);
    j->policy_node = n;
    if (!n)
        return;   /* out of memory: the job is not queued (policy.h) */
    n->job = j;
    int q = j->batch;
    struct fcfs_node *after = f->tail[q];
    while (after && before(j, after->job))
        after = after->prev;
    n->prev = after;
    n->next = after ? after->next : f->head[q];
    if (n->next)
        n->next->prev = n;
    else
        f->tail[q] = n;
    if (after)
        after->next = n;
    else
        f->head[q] = n;
}

static void fcfs_remove(struct policy *p, struct sched_job *j)
{
    struct fcfs *f = (struct fcfs *)p;
    struct fcfs_node *n = j->policy_node;
    if (!n)
        return;
    int q = j->batch;
    if (n->prev)
        n->prev->next = n->next;
    else
        f->head[q] = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        f->tail[q] = n->prev;
    j->policy_node = NULL;
    free(n);
}

static struct sched_job *fcfs_pick(struct policy *p, const struct worker_cfg *w,
                                   const struct workers *all)
{
    struct fcfs *f = (struct fcfs *)p;
    for (int q = 0; q < 2; q++)
        for (struct fcfs_node *n = f->head[q]; n; n = n->next)
            if (policy_worker_fits(n->job, w, all))
                return n->job;
    return NULL;
}

static void fcfs_destroy(struct policy *p)
{
    struct fcfs *f = (struct fcfs *)p;
    for (int q = 0; q < 2; q++)
        while (f->head[q]) {
            struct fcfs_node *n = f->head[q];
            f->head[q] = n->next;
            n->job->policy_node = NULL;
            free(n);
        }
    free(f);
}

struct policy *policy_fcfs_new(void)
{
    struct fcfs *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->base.name = "fcfs";
    f->base.add = fcfs_add;
    f->base.remove = fcfs_remove;
    f->base.pick = fcfs_pick;
    f->base.destroy = fcfs_destroy;
    return &f->base;
}
