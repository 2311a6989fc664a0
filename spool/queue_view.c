/*
 * queue_view.c - the one reader of scheduler.json, the summary of
 * incoming/ that a running scheduler keeps (scheduler/snapshot.c): how
 * many jobs wait per course, capability and priority, and the oldest few
 * of each capability.  `assay status` takes it for large queues and
 * /metrics (web/metrics.c) at every scrape, instead of reading every job
 * file.  A view is believed only while a scheduler holds the spool's
 * lock: one left by a scheduler killed with -9 is stale.
 */
#include "spool/queue_view.h"

#include <stdlib.h>

#include "common/fs.h"
#include "common/jsonutil.h"

#define QUEUE_VIEW_MAX_BYTES (64u << 20)

json_t *queue_view_read(const struct spool *s, struct scheduler_state *st)
{
    struct scheduler_state probe;
    if (!st)
        st = &probe;
    scheduler_lock_probe(s, st);
    if (st->presence != SCHEDULER_RUNNING)
        return NULL;
    char *path = spool_path(s, "%s", SPOOL_SCHEDULER_VIEW);
    struct err e;   /* no view, or an unreadable one: the job files are read instead */
    json_t *v = path && fs_exists(path) ? jsonutil_load_file(path, QUEUE_VIEW_MAX_BYTES, &e) : NULL;
    free(path);
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}
