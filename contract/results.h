/* results.h - a results.json: the words its tests are described with,
 * and its views. */
#ifndef ASSAY_RESULTS_H
#define ASSAY_RESULTS_H

#include <jansson.h>

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

/* The student's view of FULL at time NOW (seconds since the epoch):
 * tests hidden from students are removed (their points still count and
 * are summed in one line), and errors that are not the student's to fix
 * are told in a sentence meant for the student.  A new reference; NULL
 * if memory ran out (never a view that shows what it should hide). */
json_t *results_student_view(const json_t *full, double now);

#endif
