/*
 * pending.c - what assay-deliver knows of deliveries/pending/ (pending.h).
 *
 * The files' names are listed at every scan (sorted, so the previous
 * entries are merged in one pass); a file is read only when its name is
 * new, or when its entry went stale because this process took it and
 * may have written it back (deferred) with a new due time.  Nobody else
 * rewrites a file while it stays in pending/: `assay sync retry` and
 * `resend` bring files in under names that are new here, so an entry
 * read once stays true until it is taken.
 */
#define _GNU_SOURCE
#include "deliver/pending.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "deliver/destination.h"
#include "spool/delivery.h"

/* Fills E from pending KEY's file; an unreadable one is buried. */
static void entry_read(struct pending_entry *e, const struct spool *s, const char *key)
{
    struct delivery d;
    struct err why;
    memset(e->lane, 0, sizeof e->lane);
    e->skip = true;
    e->stale = false;
    if (delivery_load(s, DELIVERY_PENDING, key, &d, &why) < 0) {
        struct err bury;
        const char *where = delivery_locate(s, key);
        if (!where || strcmp(where, DELIVERY_PENDING))
            return;   /* gone meanwhile: nothing to bury */
        if (delivery_bury(s, key, why.msg, &bury) < 0)
            log_msg(LOG_ERROR, NULL, "cannot move unreadable delivery %s to dead/: %s", key,
                    bury.msg);
        else
            log_msg(LOG_ERROR, NULL, "delivery %s is unreadable, moved to dead/: %s", key,
                    why.msg);
        return;
    }
    if (!dest_find(d.dest)) {
        log_msg(LOG_ERROR, d.job_id, "delivery %s names no known destination \"%s\"; it waits "
                "in pending/", key, d.dest);
    } else {
        snprintf(e->lane, sizeof e->lane, "%s/%s", d.course, d.dest);
        snprintf(e->assignment, sizeof e->assignment, "%s", d.assignment);
        double queued = 0;
        clock_parse_iso8601(jsonutil_str(d.json, "queued_at", ""), &queued);
        e->batch = d.batch && !d.unsure;
        e->due = d.not_before;
        if (e->batch && d.tries == 0 && queued + PENDING_BATCH_LINGER_S > e->due)
            e->due = queued + PENDING_BATCH_LINGER_S;
        e->skip = false;
    }
    delivery_free(&d);
}

int pending_refresh(struct pending *p, const struct spool *s)
{
    struct fs_list l;
    int rc = delivery_list(s, DELIVERY_PENDING, &l);
    struct pending_entry *v = calloc(l.n ? l.n : 1, sizeof *v);
    if (!v) {
        fs_list_free(&l);
        return -1;
    }
    size_t j = 0, n = 0;
    for (size_t i = 0; i < l.n; i++) {
        while (j < p->n && strcmp(p->v[j].key, l.names[i]) < 0)
            free(p->v[j++].key);
        if (j < p->n && !strcmp(p->v[j].key, l.names[i]) && !p->v[j].stale) {
            v[n++] = p->v[j++];   /* known: kept as it was read */
            continue;
        }
        if (j < p->n && !strcmp(p->v[j].key, l.names[i]))
            free(p->v[j++].key);
        if (!(v[n].key = strdup(l.names[i]))) {
            rc = -1;
            continue;
        }
        entry_read(&v[n++], s, l.names[i]);
    }
    while (j < p->n)
        free(p->v[j++].key);
    free(p->v);
    p->v = v;
    p->n = n;
    fs_list_free(&l);
    return rc;
}

void pending_forget(struct pending *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].key, key))
            p->v[i].stale = true;
}

void pending_free(struct pending *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i].key);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}
