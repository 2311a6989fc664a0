/* status.h - the queue and the workers as one JSON object (status.c),
 * for `assay status` and assay-web. */
#ifndef ASSAY_STATUS_H
#define ASSAY_STATUS_H

#include <jansson.h>

#include "spool/spool.h"
#include "spool/workers.h"

/* The states counted, in the order shown. */
extern const char *const spool_status_states[];
#define SPOOL_STATUS_N_STATES 5

/* {"spool", "incoming".."failed" (counts), "slots": [{slot, enabled,
 * worker_status, worker_reason, job, for_s, what}], "courses": {C: counts,
 * oldest_wait_s, median_wait_1h_s, graded_1h, outcomes_1h}, "capabilities":
 * {K: counts}, "cannot_run": [{job, course, assignment, student, reason}],
 * "oldest_waiting", "infrastructure", "results_1h", "unreadable": [the
 * job files that could not be read, one sentence each]}; NULL when
 * memory ran out. */
json_t *spool_status_collect(const struct spool *s, const struct workers *w);

#endif
