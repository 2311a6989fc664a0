/* results.h - views of a results.json. */
#ifndef ASSAY_RESULTS_H
#define ASSAY_RESULTS_H

#include <jansson.h>

/* The student's view of FULL at time NOW (seconds since the epoch):
 * tests hidden from students are removed (their points still count and
 * are summed in one line), and errors that are not the student's to fix
 * are told in a sentence meant for the student.  A new reference. */
json_t *results_student_view(const json_t *full, double now);

#endif
