/*
 * policy.c - choosing a policy by name, and the eligibility rule every
 * policy shares.
 *
 * Policies (one file each: policy_fair.c, the default, and
 * policy_fcfs.c) only order jobs; whether
 * a worker may take a job at all is decided here, the same for all.
 */
#include "scheduler/policy.h"

#include <string.h>

struct policy *policy_new(const char *name, const struct policy_env *env)
{
    if (!strcmp(name, "fair"))
        return policy_fair_new(env);
    if (!strcmp(name, "fcfs"))
        return policy_fcfs_new();
    return NULL;
}

static bool avoids(const struct sched_job *j, const char *worker)
{
    for (int i = 0; i < j->n_avoid; i++)
        if (!strcmp(j->avoid[i], worker))
            return true;
    return false;
}

bool policy_worker_fits(const struct sched_job *j, const struct worker_cfg *w,
                        const struct workers *all)
{
    if (!w->enabled || !w->available || !worker_offers(w, j->capability))
        return false;
    if (!avoids(j, w->name))
        return true;
    for (size_t i = 0; i < all->n; i++) {
        const struct worker_cfg *o = &all->v[i];
        if (o != w && o->enabled && o->available && worker_offers(o, j->capability) &&
            !avoids(j, o->name))
            return false;   /* another worker can take it: let that one */
    }
    return true;
}
