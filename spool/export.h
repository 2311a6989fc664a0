/* export.h - an assignment's gradebook as CSV (export.c), for `assay
 * export --csv` and the web console's download. */
#ifndef ASSAY_EXPORT_H
#define ASSAY_EXPORT_H

#include "common/buf.h"
#include "common/err.h"
#include "spool/spool.h"

#define EXPORT_CSV_HEADER "student,score,max,status,graded_at,late_days,late_penalty_percent," \
    "score_before_penalty,manual_pending_points,manual_pending_answers"

/* Appends to OUT the header and one line per student who submitted to or
 * has a result of COURSE/ASG, by name: the latest graded result (score
 * after any late penalty, max, status, when, days late, the penalty's
 * percentage, the score before it, the points and answers awaiting manual
 * grading), or status "pending" and the rest
 * empty.  -1 with *E when memory ran out (a gradebook short of a
 * student is no gradebook). */
int export_csv(const struct spool *s, const char *course, const char *asg, struct buf *out,
               struct err *e);

#endif
