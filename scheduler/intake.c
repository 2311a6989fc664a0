/*
 * intake.c - the scheduler's assay-intake: started, and restarted like
 * the shippers (supervise.c), once the spool has a forges.json (GitHub or
 * GitLab set up), so a spool without webhooks runs no intake process.
 * Checked at start-up and at every rescan (30 s), like assay-deliver.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/fs.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/forges.h"

bool sched_has_forges(struct sched *s)
{
    char *path = spool_path(&s->spool, "%s", FORGES_FILE);
    bool there = fs_exists(path);
    free(path);
    return there;
}

void intake_refresh(struct sched *s)
{
    struct child *c = &s->intake;
    if (c->argv || s->stopping || !sched_has_forges(s))
        return;
    char *exe = fs_join(s->bindir, "assay-intake");
    c->argv = child_argv(exe, "--spool", s->spool.root, "--die-with-parent", NULL);
    free(exe);
    if (!c->argv) {
        log_msg(LOG_ERROR, NULL, "cannot start assay-intake: out of memory; the next rescan "
                "tries again");
        return;
    }
    c->s = s;
    snprintf(c->label, sizeof c->label, "assay-intake");
    c->worker[0] = '\0';
    child_start(c);
}
