/* manual.h - grades people give to answers a test leaves to them
 * (nbgrader's manually graded cells): manual/C/A/U/V.json, kept beside
 * the results so that regrading version V keeps them (docs/SPOOL.md,
 * "Manual grades"). */
#ifndef ASSAY_MANUAL_H
#define ASSAY_MANUAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "spool/spool.h"

/* A submission's score as every gradebook should show it: the tests'
 * points plus the grades people gave, after any late penalty. */
struct manual_score {
    long long version;          /* the version scored; 0: no result yet */
    double score, max_score;
    bool pending;               /* some answers still await a person */
    size_t pending_answers;
    double pending_points;      /* their points (in max_score, not in score) */
    char status[16];            /* assay.status: "graded", "error", "superseded" */
};

/* The combined score of STUDENT's latest result for COURSE/ASG, and
 * whether manual grading is pending: the one function LMS passback and
 * exports call.  0 with OUT->version 0 when there is no result yet; -1
 * with *E if one cannot be read. */
int manual_latest_score(const struct spool *s, const char *course, const char *asg,
                        const char *student, struct manual_score *out, struct err *e);
/* The same for RESULTS, a results.json already read. */
void manual_score_of(const json_t *results, struct manual_score *out);

/* The grades given to version VERSION: an object grade_id -> {"points",
 * "max_points", "comment", "graded_by", "graded_at"}, empty when none
 * (a new reference); NULL with *E when the file cannot be read. */
json_t *manual_load(const struct spool *s, const char *course, const char *asg,
                    const char *student, long long version, struct err *e);

/* Holds STUDENT's grades of COURSE/ASG against other writers and the
 * recorder (an flock) until the descriptor returned is closed; -1 with *E. */
int manual_lock(const struct spool *s, const char *course, const char *asg,
                const char *student, struct err *e);

/* What record.c calls while recording RESULTS (holding manual_lock):
 * the grades given to its version folded into its scores.  -1 with *E
 * when the grades cannot be read (the result is recorded without them,
 * and the caller says so). */
int manual_apply(const struct spool *s, json_t *results, struct err *e);

/* Reads TEXT, the points a person gives (`--points` of `assay manual
 * grade`, the points box of the web console), into *POINTS: a number of
 * 0 or more, fractions allowed.  -1 with *E saying so (the same words
 * wherever the points came from). */
int manual_parse_points(const char *text, double *points, struct err *e);

/* Gives CELL of STUDENT's version VERSION (0: the latest with a result)
 * POINTS, with COMMENT (may be NULL), by WHO: checks the result holds
 * that answer and the points are within its maximum, writes the grade
 * durably, and updates the recorded result (its scores, the student's
 * view).  *VERSION_OUT gets the version graded, *BEFORE the grade it
 * replaced (a new reference, or NULL).  -1 with *E saying what to fix. */
int manual_grade(const struct spool *s, const char *course, const char *asg,
                 const char *student, long long version, const char *cell, double points,
                 const char *comment, const char *who, long long *version_out,
                 json_t **before, struct err *e);

#endif
