/* batch.h - the last bulk grading of an assignment and its progress
 * (batch.c): courses/C/A/batch.json. */
#ifndef ASSAY_BATCH_H
#define ASSAY_BATCH_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "spool/spool.h"

/* Records QUEUED (regrade_queue's [{"id", "student", "rel"}]) as the
 * assignment's current bulk grading, started now by WHO. */
int batch_save(const struct spool *s, const char *course, const char *asg, const json_t *queued,
               const char *who, struct err *e);

struct batch_progress {
    size_t total, done, failed;    /* failed: in failed/ (not the students') */
    double started_at, elapsed_s;  /* started_at 0: no bulk grading recorded */
    double rate;                   /* jobs finished per second so far */
    double eta_s;                  /* seconds to go at that rate; -1 unknown */
    char by[80];
};

/* How far the assignment's last bulk grading is. */
void batch_progress(const struct spool *s, const char *course, const char *asg,
                    struct batch_progress *p);

#endif
