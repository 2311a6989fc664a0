/*
 * results.c - a results.json's words (verdicts, visibilities) and the
 * student's view of it.
 *
 * A results.json is kept in the instructor's view: every test with its
 * output.  Students see a copy without the tests whose visibility hides
 * them ("hidden", or "after_due_date" before the due date) - not their
 * input, expected output, output or name - and one line such as
 * "Hidden tests: 3 of 5 points." so the total still adds up.  A late
 * penalty is said on the score line ("Score: 7.2 / 10 (9 before a late
 * penalty of 20 %: 2 days late)") and in the penalty's own sentence.
 *
 * Answers a person grades (nbgrader's manually graded cells) travel in
 * each test's "needs_manual_grading" list; while any waits, every total
 * says so ("5 of 7 points, 2 awaiting manual grading"), and the grades
 * a person gives (kept in the spool by spool/manual.c) are folded into
 * the scores by results_apply_manual, each time the result is recorded.
 */
#include "contract/results.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "contract/late.h"

const char *verdict_name(enum verdict v)
{
    static const char *const names[] = {"passed", "failed", "runtime_error", "timeout",
                                        "memory_limit", "output_limit", "setup_error",
                                        "disk_limit"};
    return names[v];
}

const char *const visibility_names[] = {"visible", "hidden", "after_due_date", NULL};

const char *visibility_name(enum visibility v)
{
    return visibility_names[v];
}

/* ---- manual grading ---- */

void results_manual_tally(const json_t *results, struct manual_tally *t)
{
    *t = (struct manual_tally){0};
    size_t i, j;
    const json_t *test, *item;
    json_array_foreach(json_object_get(results, "tests"), i, test)
        json_array_foreach(json_object_get(test, "needs_manual_grading"), j, item) {
            t->items++;
            if (!strcmp(jsonutil_str(item, "status", "pending"), "pending")) {
                t->pending++;
                t->pending_points += jsonutil_num(item, "points", 0);
            }
        }
}

int results_total_phrase(const json_t *results, struct buf *b)
{
    struct manual_tally t;
    results_manual_tally(results, &t);
    double score = jsonutil_num(results, "score", 0), max = jsonutil_num(results, "max_score", 0);
    if (t.pending == 0)
        return buf_printf(b, "%g / %g", score, max);
    return buf_printf(b, "%g of %g points, %g awaiting manual grading", score, max,
                      t.pending_points);
}

/* The score ITEM counts for now: a person's or nbgrader's 0, none while pending. */
static double item_score(const json_t *item)
{
    return strcmp(jsonutil_str(item, "status", "pending"), "pending")
               ? jsonutil_num(item, "score", 0) : 0;
}

/* ITEM graded as GRADE says; the change to its test's score in *DELTA. */
static int grade_item(json_t *item, const json_t *grade, double *delta)
{
    double points = jsonutil_num(grade, "points", 0), max = jsonutil_num(item, "points", 0);
    points = fmax(0, fmin(points, max));   /* checked when given; a file edited by hand is not */
    *delta = points - item_score(item);
    int rc = json_object_set_new(item, "status", json_string("graded"));
    rc |= json_object_set_new(item, "score", json_real(points));
    json_object_del(item, "message");   /* "No response." no longer stands; absent: nothing to do */
    /* a grade replaces the one before whole: a key it lacks (a comment
     * not given again) goes, or the item would keep the old grade's
     * comment until the next regrade; absent already: nothing to do */
    const char *keys[] = {"comment", "graded_by", "graded_at"};
    for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
        const char *v = jsonutil_str(grade, keys[k], NULL);
        if (v)
            rc |= json_object_set_new(item, keys[k], json_string(v));
        else
            json_object_del(item, keys[k]);
    }
    return rc < 0 ? -1 : 0;
}

int results_apply_manual(json_t *results, const json_t *grades, size_t *unused)
{
    size_t used = 0, i, j;
    double total = 0;
    json_t *test, *item;
    int rc = 0;
    json_array_foreach(json_object_get(results, "tests"), i, test) {
        double change = 0;
        json_array_foreach(json_object_get(test, "needs_manual_grading"), j, item) {
            const json_t *grade = json_object_get(grades, jsonutil_str(item, "grade_id", ""));
            double delta = 0;
            if (!json_is_object(grade))
                continue;
            used++;
            rc |= grade_item(item, grade, &delta);
            change += delta;
        }
        if (change != 0)
            rc |= json_object_set_new(test, "score",
                                      json_real(jsonutil_num(test, "score", 0) + change));
        total += change;
    }
    if (total != 0)
        rc |= json_object_set_new(results, "score",
                                  json_real(jsonutil_num(results, "score", 0) + total));
    if (unused)
        *unused = json_object_size(grades) - used;
    return rc < 0 ? -1 : 0;
}

int results_refresh_score_line(json_t *results)
{
    const char *old = jsonutil_str(results, "output", "");
    if (!strncmp(old, "Score: ", 7))
        old = strchr(old, '\n') ? strchr(old, '\n') + 1 : "";
    struct buf b = BUF_INIT;
    int rc = late_score_line(results, &b);
    if (rc == 0)
        rc = buf_puts(&b, old);
    if (rc == 0)
        rc = json_object_set_new(results, "output", json_string(buf_str(&b)));
    buf_free(&b);
    return rc;
}

/* ---- the student's view ---- */

static bool hidden_now(const json_t *test, const json_t *assay, double now)
{
    const char *vis = jsonutil_str(test, "visibility", "visible");
    if (!strcmp(vis, "hidden"))
        return true;
    if (!strcmp(vis, "after_due_date")) {
        double due;
        const char *d = jsonutil_str(assay, "due", NULL);
        return !d || !clock_parse_iso8601(d, &due) || now < due;
    }
    return false;
}

static const char *student_error_message(const char *category, const char *message)
{
    if (!strcmp(category, "assignment"))
        return "This assignment's tests could not run because of a problem in the "
               "assignment itself, not in your work; your instructor can see the details.";
    if (!strcmp(category, "infrastructure"))
        return "Your submission could not be graded because of a problem in the grading "
               "system, not in your work. The course staff have been told and can grade it "
               "again once the problem is fixed; you do not need to submit again.";
    return message;
}

/* What a student is told when a broken extensions file may have made
 * their late penalty wrong (spool/record.c). */
static const char late_error_for_student[] =
    "This late penalty may change: your instructor's list of extensions for this "
    "assignment has a mistake. If you were granted an extension, it will be counted "
    "once the list is corrected and your work regraded.";

/* Sub-tests carry their own visibility (a Gradescope autograder's
 * tests): the hidden ones go, their points stay in the test's score. */
static void drop_hidden_cases(json_t *test, const json_t *assay, double now)
{
    json_t *cases = json_object_get(test, "cases");
    for (size_t i = 0; i < json_array_size(cases);) {
        if (hidden_now(json_array_get(cases, i), assay, now))
            json_array_remove(cases, i);
        else
            i++;
    }
}

json_t *results_student_view(const json_t *full, double now)
{
    json_t *view = json_deep_copy(full);
    json_t *assay = json_object_get(view, "assay");
    json_t *tests = json_object_get(view, "tests");
    double hidden_score = 0, hidden_max = 0;
    size_t hidden = 0;
    for (size_t i = 0; i < json_array_size(tests);) {
        json_t *t = json_array_get(tests, i);
        if (hidden_now(t, assay, now)) {
            hidden_score += jsonutil_num(t, "score", 0);
            hidden_max += jsonutil_num(t, "max_score", 0);
            hidden++;
            json_array_remove(tests, i);
        } else {
            drop_hidden_cases(t, assay, now);
            i++;
        }
    }
    /* every change must take: a half-made view could show the student
     * the instructor's output and error details */
    int rc = view ? 0 : -1;
    json_t *error = json_object_get(assay, "error");
    if (json_is_object(error)) {
        const char *msg = student_error_message(jsonutil_str(error, "category", ""),
                                                jsonutil_str(error, "message", ""));
        rc |= json_object_set_new(error, "message", json_string(msg));
    }
    struct buf out = BUF_INIT;
    rc |= late_score_line(view, &out);
    json_t *late = json_object_get(assay, "late");
    const char *late_msg = jsonutil_str(late, "message", NULL);
    if (late_msg)
        rc |= buf_printf(&out, "%s\n", late_msg);   /* spool/record.c applied a late penalty */
    if (json_object_get(late, "error")) {   /* the instructor's details: the file, its fields */
        rc |= json_object_set_new(late, "error", json_string(late_error_for_student));
        rc |= buf_printf(&out, "%s\n", late_error_for_student);
    }
    if (json_is_object(error))
        rc |= buf_printf(&out, "%s\n", jsonutil_str(error, "message", ""));
    size_t i;
    json_t *w;
    json_array_foreach(json_object_get(assay, "warnings"), i, w)
        rc |= buf_printf(&out, "%s\n", json_string_value(w));
    if (hidden) {
        rc |= buf_printf(&out, "Hidden tests: %g of %g points.\n", hidden_score, hidden_max);
        if (json_is_object(assay))
            rc |= json_object_set_new(assay, "hidden",
                                      json_pack("{s:i, s:f, s:f}", "tests", (int)hidden, "score",
                                                hidden_score, "max_score", hidden_max));
    }
    rc |= json_object_set_new(view, "output", json_string(buf_str(&out)));
    if (json_is_object(assay))
        rc |= json_object_set_new(assay, "view", json_string("student"));
    buf_free(&out);
    if (rc < 0) {
        json_decref(view);
        return NULL;   /* out of memory */
    }
    return view;
}
