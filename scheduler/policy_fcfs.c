/*
 * policy_fcfs.c - first come, first served; interactive before batch.
 *
 * Two lists in queue order, one per priority.  A slot takes the oldest
 * interactive job it can run, else the oldest batch job.  Jobs mostly
 * arrive in order, so insertion walks back from the tail.
 */
#include <stdlib.h>
#include <string.h>

#include "scheduler/policy.h"

struct fcfs {
    struct policy base;
    struct sched_job *head[2], *tail[2];   /* [0] interactive, [1] batch */
};

static bool before(const struct sched_job *a, const struct sched_job *b)
{
    return a->queued_at < b->queued_at || (a->queued_at == b->queued_at && strcmp(a->id, b->id) < 0);
}

static void fcfs_add(struct policy *p, struct sched_job *j)
{
    struct fcfs *f = (struct fcfs *)p;
    int q = j->batch;
    struct sched_job *after = f->tail[q];
    while (after && before(j, after))
        after = after->prev;
    j->prev = after;
    j->next = after ? after->next : f->head[q];
    if (j->next)
        j->next->prev = j;
    else
        f->tail[q] = j;
    if (after)
        after->next = j;
    else
        f->head[q] = j;
}

static void fcfs_remove(struct policy *p, struct sched_job *j)
{
    struct fcfs *f = (struct fcfs *)p;
    int q = j->batch;
    if (j->prev)
        j->prev->next = j->next;
    else
        f->head[q] = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        f->tail[q] = j->prev;
    j->prev = j->next = NULL;
}

static struct sched_job *fcfs_pick(struct policy *p, const struct worker_cfg *w,
                                   const struct workers *all)
{
    struct fcfs *f = (struct fcfs *)p;
    for (int q = 0; q < 2; q++)
        for (struct sched_job *j = f->head[q]; j; j = j->next)
            if (policy_worker_fits(j, w, all))
                return j;
    return NULL;
}

static void fcfs_destroy(struct policy *p)
{
    free(p);
}

struct policy *policy_fcfs_new(void)
{
    struct fcfs *f = calloc(1, sizeof *f);
    f->base.name = "fcfs";
    f->base.add = fcfs_add;
    f->base.remove = fcfs_remove;
    f->base.pick = fcfs_pick;
    f->base.destroy = fcfs_destroy;
    return &f->base;
}
