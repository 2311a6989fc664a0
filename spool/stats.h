/* stats.h - figures learnt from recorded results: each assignment's
 * moving-average grading time, and a rolling log of queue waits. */
#ifndef ASSAY_STATS_H
#define ASSAY_STATS_H

#include <jansson.h>
#include <stdbool.h>

#include "spool/spool.h"

#define STATS_ALPHA 0.2                    /* weight of the newest grading time */
#define STATS_WAITS_MAX_BYTES (4u << 20)   /* waits.log rolls over to waits.log.1 */

/* Notes one graded job of COURSE/ASSIGNMENT: how long it waited in the
 * queue and held its slot, finishing at FINISHED_AT (epoch seconds), and
 * its OUTCOME ("graded", or its result's error category).
 * Best effort: a lost update only blurs an average, so the caller only
 * logs a failure (-1, *e says why). */
int stats_note_job(const struct spool *s, const char *course, const char *assignment,
                   double wait_s, double grading_s, double finished_at, const char *outcome,
                   struct err *e);
/* COURSE/ASSIGNMENT's moving-average grading time; false without history. */
bool stats_grading_avg(const struct spool *s, const char *course, const char *assignment,
                       double *avg);
/* {course: {"median_wait_s": m, "jobs": n, "outcomes": {outcome: n}}}
 * over the jobs that finished at or after SINCE, from logs of at most
 * 2 x STATS_WAITS_MAX_BYTES. */
json_t *stats_recent_waits(const struct spool *s, double since);

#endif
