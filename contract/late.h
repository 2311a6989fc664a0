/* late.h - late submissions: the "late" policy of assignment.json, the
 * per-student extensions file, and the penalty applied to a result. */
#ifndef ASSAY_LATE_H
#define ASSAY_LATE_H

#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"
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

/* One student's entry of extensions.json, ENTRY ({"due": ISO 8601} or
 * {"days": N}, JSON path WHERE such as $.alice): sets *DUE (the
 * assignment's moved by "days" of LP) and returns 0, or -1 with its
 * problems added to *p. */
int late_extension_read(const json_t *entry, const char *where, const struct late_policy *lp,
                        double *due, struct problems *p);

/* What a recorded penalty (LATE, a results.json's assay.late) did, as
 * "9 before a late penalty of 20 %: 2 days late": the score before the
 * penalty, the penalty and how late, appended to B.  Returns 1 if it
 * wrote something, 0 if LATE records no penalty (NULL, or only an
 * error), -1 if memory ran out. */
int late_describe(const json_t *late, struct buf *b);
/* RESULTS' score line, "Score: 7.2 / 10\n", with late_describe in
 * parentheses when a penalty was taken off; appended to B.  -1 if memory
 * ran out. */
int late_score_line(const json_t *results, struct buf *b);

/* Applies the policy to RESULTS (a graded results.json) of a submission
 * made at SUBMITTED_AT against DUE: lowers "score", says so in one line
 * of "output" (and assay.late.message, which the student view shows) and
 * sets assay.late.  Nothing changes for an on-time submission, without a
 * penalty, or for a result that is not "graded". */
void late_apply(json_t *results, const struct late_policy *lp, double due, bool extended,
                double submitted_at);

/* Takes back what late_apply did to RESULTS (the score before the
 * penalty, assay.late, its line in "output"), so the policy can be
 * applied again to a score that changed (a grade given by hand). */
void late_undo(json_t *results);

#endif
