/* scheduler_lock.h - scheduler.lock: one assay-scheduler per spool, and
 * telling from outside whether one is running and when one last was. */
#ifndef ASSAY_SCHEDULER_LOCK_H
#define ASSAY_SCHEDULER_LOCK_H

#include <jansson.h>

#include "common/err.h"
#include "spool/spool.h"

#define SCHEDULER_LOCK "scheduler.lock"

enum scheduler_presence { SCHEDULER_RUNNING, SCHEDULER_STOPPED, SCHEDULER_UNKNOWN };

struct scheduler_state {
    enum scheduler_presence presence;
    int pid;                /* RUNNING: the holder as this process sees it (0: not known) */
    double last_seen;       /* the lock's mtime, renewed by a running scheduler; 0: none ever ran */
    char why[512];          /* UNKNOWN: why it cannot be told */
};

/* Takes the spool's lock for the calling scheduler (flock, exclusive,
 * not waiting) and marks it seen; the descriptor stays open as long as
 * the scheduler runs.  -1 with the reason, naming the running
 * scheduler's pid when another holds it. */
int scheduler_lock_take(const struct spool *s, struct err *e);
/* A running scheduler says it is alive: the lock's mtime becomes now. */
void scheduler_lock_seen(int fd);
/* Whether a scheduler holds S's lock, read from /proc/locks without
 * touching the lock (so a scheduler starting meanwhile is never refused). */
void scheduler_lock_probe(const struct spool *s, struct scheduler_state *st);
/* ST as JSON: {"running": true|false|null, "pid", "last_seen", "lock", "reason"}. */
json_t *scheduler_state_json(const struct spool *s, const struct scheduler_state *st);

#endif
