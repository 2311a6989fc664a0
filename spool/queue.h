/* queue.h - finding and moving a job between the spool's states. */
#ifndef ASSAY_QUEUE_H
#define ASSAY_QUEUE_H

#include <jansson.h>

#include "common/err.h"
#include "spool/spool.h"

/* The state directory that holds job ID ("incoming", "deferred", "hold",
 * "failed" or "shippers/W.K"), malloc'd; NULL when it is in none (done). */
char *queue_locate(const struct spool *s, const char *id);

/* Moves job ID from FROM to TO (state directories), optionally applying
 * EDIT to its content first (written in place, then renamed). */
int queue_move(const struct spool *s, const char *id, const char *from, const char *to,
               void (*edit)(json_t *job), struct err *e);

/* Moves DIR/NAME, a file that is not a valid job, to failed/NAME and
 * writes WHY to failed/ID.reason (ID: NAME without ".json"). */
int queue_quarantine(const struct spool *s, const char *dir, const char *name, const char *why,
                     struct err *e);

/* Queues a new job for an existing submission version (regrade). */
int queue_enqueue(const struct spool *s, json_t *job, struct err *e);

#endif
