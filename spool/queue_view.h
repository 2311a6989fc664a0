/* queue_view.h - reading the running scheduler's summary of incoming/
 * (scheduler.json, written by scheduler/snapshot.c). */
#ifndef ASSAY_QUEUE_VIEW_H
#define ASSAY_QUEUE_VIEW_H

#include <jansson.h>
#include <stdbool.h>

#include "spool/scheduler_lock.h"
#include "spool/spool.h"

/* The view, when a scheduler holds the spool's lock and has written one;
 * NULL otherwise (then the job files are the only account of the queue).
 * ST, when not NULL, gets what the lock probe found. */
json_t *queue_view_read(const struct spool *s, struct scheduler_state *st);

#endif
