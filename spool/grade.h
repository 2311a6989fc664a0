/* grade.h - which recorded result is a student's grade for an assignment
 * (latest, best, or latest before their due date): what a destination
 * such as Canvas is sent. */
#ifndef ASSAY_GRADE_H
#define ASSAY_GRADE_H

#include <jansson.h>

#include "spool/spool.h"

enum grade_pick { GRADE_LATEST, GRADE_BEST, GRADE_LATEST_BEFORE_DUE };
/* The names in course.json ("latest", "best", "latest_before_due"),
 * by enum grade_pick, NULL-terminated. */
extern const char *const grade_pick_names[];

/* The results.json of STUDENT's version that counts under PICK: only
 * results that are a grade of the student's work count (graded, or an
 * error of category "submission"); "best" is the highest score, the
 * latest of equals; "latest_before_due" the latest submitted by the
 * student's due date (extensions.json, else the assignment's "due"; no
 * due date: the latest).  A new reference and *VERSION, or NULL when no
 * result counts. */
json_t *grade_pick(const struct spool *s, const char *course, const char *assignment,
                   const char *student, enum grade_pick pick, long long *version);

#endif
