/* regrade.h - queuing students' latest versions again (regrade.c), for
 * `assay regrade`, `assay grade-all` and the web console's actions. */
#ifndef ASSAY_REGRADE_H
#define ASSAY_REGRADE_H

#include <jansson.h>
#include <stdbool.h>

#include "spool/spool.h"

/* Where regrading's sentences go: HEADLINE lines are the command's own
 * ("assay CMD: ..." on a terminal), the others continue the one before. */
struct regrade_out {
    void (*say)(void *arg, bool headline, const char *line);
    void *arg;
};

/* Queues the latest version of STUDENT (NULL: of every student who
 * submitted) to COURSE/ASG again as a batch job, keeping each version's
 * submission time (a late policy judges the regrade as the submission
 * was).  Nothing is queued while the assignment's extensions.json is
 * broken.  QUEUED gets {"id", "student", "rel"} per job.  CMD names the
 * command to run again once fixed.  -1 if some could not be queued
 * (each said through OUT). */
int regrade_queue(const struct spool *s, const char *course, const char *asg,
                  const char *student, json_t *queued, const char *cmd,
                  const struct regrade_out *out);

#endif
