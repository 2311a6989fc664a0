/* late.h - late submissions: the "late" policy of assignment.json, the
 * per-student extensions file, and the penalty applied to a result. */
#ifndef ASSAY_LATE_H
#define ASSAY_LATE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

struct late_policy {
    bool has_due;
    double due;                 /* seconds since the epoch */
    bool penalised;             /* "late" is given */
    double percent;             /* of max_score, per started unit late */
    double unit_s;              /* 86400 (per day) or 3600 (per hour) */
    const char *unit;           /* "day" or "hour" */
    bool has_max;
    double max_late_days;       /* later than this: score 0 */
};

/* Reads "due" and "late" of an assignment.json object; every problem is
 * added to *p with its JSON path ($.late.penalty_per_day: ...). */
void late_policy_read(const json_t *assignment, struct late_policy *lp, struct problems *p);

/* STUDENT's due date: the assignment's, or the one DIR/extensions.json
 * gives them ({"alice": {"due": ISO 8601}, "bob": {"days": 2}}).  Returns
 * 0, or -1 with the problems of a broken file (each naming the file and
 * the student); *due is then the assignment's. */
int late_due_for(const char *dir, const char *student, const struct late_policy *lp,
                 double *due, bool *extended, struct problems *p);

/* Applies the policy to RESULTS (a graded results.json) of a submission
 * made at SUBMITTED_AT against DUE: lowers "score", says so in one line
 * of "output" (and assay.late.message, which the student view shows) and
 * sets assay.late.  Nothing changes for an on-time submission, without a
 * penalty, or for a result that is not "graded". */
void late_apply(json_t *results, const struct late_policy *lp, double due, bool extended,
                double submitted_at);

#endif
