/*
 * deliverer.c - the scheduler's assay-deliver: started, and restarted
 * like the shippers (supervise.c), once some course's course.json
 * configures a destination (an "lms" block), so a spool that sends
 * grades nowhere runs no delivery process.  Checked at start-up and at
 * every rescan (30 s), so a course that adds a block is served within
 * half a minute without a restart; once started it keeps running.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/fs.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/course.h"
#include "spool/scan.h"

/* True when some course of the spool configures a destination. */
static bool some_course_delivers(struct sched *s)
{
    struct fs_list courses;
    if (scan_spool(&s->spool, "courses", SCAN_NAMES, &courses) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing courses; looking at those listed");
    bool found = false;
    for (size_t i = 0; i < courses.n && !found; i++) {
        struct course_config cfg;
        struct problems p = {0};   /* the catalog logs course.json's problems */
        course_config_load(&s->spool, courses.names[i], &cfg, &p);
        problems_free(&p);
        found = cfg.n_destinations > 0;
    }
    fs_list_free(&courses);
    return found;
}

void deliverer_refresh(struct sched *s)
{
    struct child *c = &s->deliverer;
    /* forges.json: pushes get commit statuses, which are deliveries too */
    if (c->argv || s->stopping || (!some_course_delivers(s) && !sched_has_forges(s)))
        return;
    char *exe = fs_join(s->bindir, "assay-deliver");
    c->argv = child_argv(exe, "--spool", s->spool.root, "--die-with-parent", NULL);
    free(exe);
    if (!c->argv) {
        log_msg(LOG_ERROR, NULL, "cannot start assay-deliver: out of memory; the next rescan "
                "tries again");
        return;
    }
    c->s = s;
    snprintf(c->label, sizeof c->label, "assay-deliver");
    c->worker[0] = '\0';
    child_start(c);
}
