/*
 * grade.c - which recorded result is a student's grade (grade.h).
 *
 * Read when a grade is delivered (deliver/dest_canvas.c), at the moment
 * it is sent, so that a delivery retried after an hour sends the grade
 * as it is then, never an older one over a newer.  Lateness is already
 * in each result's score (spool/record.c applies the late policy when it
 * records); the due date here only chooses among versions.
 */
#include "spool/grade.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "contract/assignment.h"
#include "spool/extensions.h"
#include "spool/record.h"
#include "spool/scan.h"

const char *const grade_pick_names[] = {"latest", "best", "latest_before_due", NULL};

/* True when R is a grade of the student's own work. */
static bool counts(const json_t *r)
{
    const json_t *a = json_object_get(r, "assay");
    const char *status = jsonutil_str(a, "status", "graded");
    if (!strcmp(status, "graded"))
        return true;
    return !strcmp(status, "error") &&
           !strcmp(jsonutil_str(json_object_get(a, "error"), "category", ""), "submission");
}

/* STUDENT's due date; false when the assignment has none. */
static bool due_of(const struct spool *s, const char *course, const char *assignment,
                   const char *student, double *due)
{
    char *dir = spool_path(s, "courses/%s/%s", course, assignment);
    struct assignment_summary sum;
    struct problems p = {0};
    assignment_summary_load(dir, &sum, &p);
    bool has = sum.late.has_due;
    bool extended;
    if (has)   /* a broken file: the date it can read, as recording does */
        extensions_due_for(s, course, assignment, student, &sum.late, due, &extended, &p);
    problems_free(&p);
    assignment_summary_free(&sum);
    free(dir);
    return has;
}

static bool before(const json_t *r, double due)
{
    double t;
    const char *at = jsonutil_str(json_object_get(r, "assay"), "submitted_at", "");
    return clock_parse_iso8601(at, &t) && t <= due;
}

json_t *grade_pick(const struct spool *s, const char *course, const char *assignment,
                   const char *student, enum grade_pick pick, long long *version)
{
    double due = 0;
    bool by_due = pick == GRADE_LATEST_BEFORE_DUE &&
                  due_of(s, course, assignment, student, &due);
    size_t n;
    long long *v = spool_versions(s, "results", course, assignment, student, &n);
    json_t *best = NULL;
    for (size_t i = n; i-- > 0;) {
        char rel[400];
        snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, assignment, student, v[i]);
        json_t *r = record_read(s, rel);
        bool take = r && counts(r) && (!by_due || before(r, due)) &&
                    (!best || (pick == GRADE_BEST && jsonutil_num(r, "score", 0) >
                                                     jsonutil_num(best, "score", 0)));
        if (take) {
            json_decref(best);
            best = r;
            *version = v[i];
            if (pick != GRADE_BEST)
                break;
        } else {
            json_decref(r);
        }
    }
    free(v);
    return best;
}
