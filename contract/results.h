/* results.h - a results.json: the words its tests are described with,
 * and its views. */
#ifndef ASSAY_RESULTS_H
#define ASSAY_RESULTS_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"

/* A test's "verdict". */
enum verdict {
    VERDICT_PASSED,
    VERDICT_FAILED,
    VERDICT_RUNTIME_ERROR,
    VERDICT_TIMEOUT,
    VERDICT_MEMORY_LIMIT,
    VERDICT_OUTPUT_LIMIT,
    VERDICT_SETUP_ERROR,
    VERDICT_DISK_LIMIT,         /* the run filled its work area */
};
const char *verdict_name(enum verdict v);

/* A test's "visibility" (Gradescope's values), as assignment.json gives it. */
enum visibility { VIS_VISIBLE, VIS_HIDDEN, VIS_AFTER_DUE_DATE };
extern const char *const visibility_names[];   /* by enum visibility, NULL-terminated */
const char *visibility_name(enum visibility v);

/* Manual grading.  A test whose answers a person grades (nbgrader's
 * manually graded cells) lists them in "needs_manual_grading": one
 * object per answer, {"grade_id", "cell_type", "points", "status",
 * "score", "answer", "message", "comment", "graded_by", "graded_at"},
 * status "pending" (no score yet: its points are in the test's
 * max_score, not its score), "no_response" (the answer was left as
 * released: 0, message "No response.", as nbgrader) or "graded" (a
 * person gave "score"; spool/manual.c). */
struct manual_tally {
    size_t items;               /* answers a person grades */
    size_t pending;             /* of them, without a score yet */
    double pending_points;      /* their points */
};
void results_manual_tally(const json_t *results, struct manual_tally *t);
/* The total in words, appended to B: "5 / 7", or "5 of 7 points, 2
 * awaiting manual grading" while answers wait for a person.  -1 if
 * memory ran out. */
int results_total_phrase(const json_t *results, struct buf *b);
/* Gives RESULTS' answers the scores of GRADES (an object: grade_id ->
 * {"points", "comment", "graded_by", "graded_at"}), adjusting each
 * test's score and the total by the difference.  Grades of answers the
 * result does not hold are left out; *UNUSED (if not NULL) counts them.
 * -1 if memory ran out (RESULTS may be half changed: drop it). */
int results_apply_manual(json_t *results, const json_t *grades, size_t *unused);
/* Replaces the "Score: ..." line at the top of RESULTS' output with the
 * current one (late_score_line).  -1 if memory ran out. */
int results_refresh_score_line(json_t *results);

/* The student's view of FULL at time NOW (seconds since the epoch):
 * tests hidden from students are removed (their points still count and
 * are summed in one line), and errors that are not the student's to fix
 * are told in a sentence meant for the student.  A new reference; NULL
 * if memory ran out (never a view that shows what it should hide). */
json_t *results_student_view(const json_t *full, double now);

#endif
