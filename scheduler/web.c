/*
 * web.c - assay-web as one of the scheduler's children, when the spool's
 * web.json says "start": true.
 *
 * A spool served on the web usually wants the console up whenever the
 * queue is: then the scheduler starts assay-web (--spool S
 * --die-with-parent) beside the shippers, restarts it with the same
 * backoff when it dies (supervise.c), restarts it on SIGHUP so it reads
 * a changed web.json, and stops it with everything else.  Without the
 * key (or with false) assay-web runs on its own, from its systemd unit.
 * Only "start" is read here; assay-web reads and checks the rest of the
 * file itself.
 */
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "scheduler/scheduler.h"

#define WEB_JSON "web.json"

/* Whether web.json asks for assay-web; a broken file is logged and
 * taken as no (assay-web would refuse it anyway, saying why). */
static bool web_wanted(const struct sched *s)
{
    char *path = spool_path(&s->spool, WEB_JSON);
    bool wanted = false;
    struct err e;
    json_t *j = path && fs_exists(path) ? jsonutil_load_file(path, 1u << 16, &e) : NULL;
    if (path && !j && fs_exists(path))
        log_msg(LOG_ERROR, NULL, "assay-web not started: %s", e.msg);
    const json_t *start = json_object_get(j, "start");
    if (start && !json_is_boolean(start))
        log_msg(LOG_ERROR, NULL, "assay-web not started: %s: \"start\" must be true or false",
                path);
    else
        wanted = json_is_true(start);
    json_decref(j);
    free(path);
    return wanted;
}

void web_configure(struct sched *s)
{
    bool wanted = web_wanted(s);
    struct child *c = &s->web;
    if (!wanted) {
        if (c->wanted)
            log_msg(LOG_INFO, NULL, "web.json no longer asks for assay-web: stopping it");
        child_stop(c);
        return;
    }
    char *exe = fs_join(s->bindir, "assay-web");
    char **argv = child_argv(exe, "--spool", s->spool.root, "--die-with-parent", NULL);
    free(exe);
    c->s = s;
    snprintf(c->label, sizeof c->label, "assay-web");
    if (c->argv)
        child_restart(c, argv);   /* a reload: it reads web.json again */
    else if ((c->argv = argv))
        child_start(c);
    else
        log_msg(LOG_ERROR, NULL, "cannot start assay-web: out of memory");
}
