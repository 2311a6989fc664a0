/*
 * pages_manual.c - grading by hand from the web console: the answers a
 * test leaves to a person (nbgrader's manually graded cells and tasks,
 * "needs_manual_grading" items of a result; docs/NOTEBOOKS.md).  Staff
 * of the course only (the route's access rule), as `assay manual`:
 *
 *   GET  /course/C/A/manual[?all=1]   the answers awaiting a grade in
 *        every student's latest result (all=1: every answer, graded or not)
 *   GET  /course/C/A/manual/U[?v=N]   U's answers in version N (default:
 *        the newest with a result): the text, the current grade, who gave
 *        it and when, and a form per answer
 *   POST /course/C/A/manual/U         fields "cell", "points", "comment",
 *        "version": the grade, given by the signed-in user
 *
 * The grade goes through manual_grade() (spool/manual.c), as `assay
 * manual grade` does, so the points are checked, the result and the
 * student's view updated, regrades keep it and the new score is queued
 * to the course's destinations; the refusals are the command's words,
 * shown with 400.  The answers are the student's text: escaped, shown
 * as text (markdown unrendered).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "contract/results.h"
#include "spool/manual.h"
#include "spool/record.h"
#include "web/data.h"
#include "web/html.h"
#include "web/routes.h"

static bool assignment_exists(const struct web_request *req)
{
    char *p = spool_path(req->spool, "courses/%s/%s/assignment.json", web_param(req, "course"),
                         web_param(req, "asg"));
    bool ok = p && fs_exists(p);
    free(p);
    return ok;
}

static void flash(struct web_request *req, struct buf *b)
{
    const char *done = web_query(req, "done");
    if (done && *done)
        html_printf(b, "<p class=\"flash\" id=\"flash\">%s</p>", done);
}

/* "1.5 / 2" for a graded answer, "- / 2" for one awaiting a person. */
static void score_cell(char *out, size_t n, const json_t *item)
{
    const char *status = jsonutil_str(item, "status", "pending");
    if (!strcmp(status, "pending"))
        snprintf(out, n, "- / %g", jsonutil_num(item, "points", 0));
    else
        snprintf(out, n, "%g / %g", jsonutil_num(item, "score", 0),
                 jsonutil_num(item, "points", 0));
}

/* ---- the list ---- */

/* STUDENT's answers of result R as rows of the list (only those pending
 * unless ALL); the count of pending answers added to *PENDING. */
static void list_rows(struct buf *b, const char *course, const char *asg, const char *student,
                      long long version, const json_t *r, bool all, size_t *pending)
{
    size_t i, j;
    const json_t *test, *it;
    json_array_foreach(json_object_get(r, "tests"), i, test)
        json_array_foreach(json_object_get(test, "needs_manual_grading"), j, it) {
            const char *status = jsonutil_str(it, "status", "pending");
            bool waiting = !strcmp(status, "pending");
            *pending += waiting;
            if (!waiting && !all)
                continue;
            char score[64];
            score_cell(score, sizeof score, it);
            html_printf(b, "<tr data-student=\"%s\" data-cell=\"%s\"><td><a href=\"/course/%s/%s/"
                        "manual/%s?v=%lld\">%s</a></td><td>%lld</td><td>%s</td><td>%s</td>"
                        "<td>%s</td><td>%s</td><td>%s</td></tr>", student,
                        jsonutil_str(it, "grade_id", "?"), course, asg, student, version,
                        student, version, jsonutil_str(it, "grade_id", "?"),
                        jsonutil_str(it, "cell_type", ""), score, status,
                        jsonutil_str(it, "graded_by", ""));
        }
}

int page_manual_list(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    if (!assignment_exists(req))
        return web_respond_error(res, 404, "There is no such assignment in this course.");
    const char *q = web_query(req, "all");
    bool all = q && !strcmp(q, "1");
    json_t *names = data_students(req->spool, course, asg);
    if (!names)
        return -1;
    char title[200];
    snprintf(title, sizeof title, "%s / %s: grading by hand", course, asg);
    html_begin(req, res, title);
    struct buf *b = &res->body, rows = BUF_INIT;
    size_t pending = 0, students = 0, i;
    const json_t *name;
    json_array_foreach(names, i, name) {
        long long version = 0;
        const char *student = json_string_value(name);
        json_t *r = record_latest(req->spool, course, asg, student, &version);
        struct manual_tally t;
        results_manual_tally(r, &t);
        if (r && t.items > 0) {
            students++;
            list_rows(&rows, course, asg, student, version, r, all, &pending);
        }
        json_decref(r);
    }
    html_printf(b, "<p><a href=\"/course/%s/%s\">Back to %s</a></p><p id=\"manual-summary\">"
                "%zu answer%s awaiting manual grading, in the latest results of %zu student%s "
                "with answers graded by hand.</p><p>", course, asg, asg, pending,
                pending == 1 ? "" : "s", students, students == 1 ? "" : "s");
    html_printf(b, all ? "<a href=\"/course/%s/%s/manual\">Show only the answers awaiting a "
                         "grade</a>" : "<a href=\"/course/%s/%s/manual?all=1\">Show every answer "
                         "graded by hand</a>", course, asg);
    buf_puts(b, "</p><div class=\"scroll\"><table id=\"manual-answers\"><tr><th>Student</th>"
             "<th>Version</th><th>Answer</th><th>Type</th><th>Points</th><th>Status</th>"
             "<th>Graded by</th></tr>");
    buf_puts(b, buf_str(&rows));
    buf_puts(b, "</table></div>");
    html_end(res);
    buf_free(&rows);
    json_decref(names);
    return 0;
}

/* ---- one student's answers ---- */

/* The version to show: ?v=N (N >= 1), else the newest with a result. */
static long long shown_version(struct web_request *req, const char *course, const char *asg,
                               const char *student)
{
    const char *v = web_query(req, "v");
    char *end = NULL;
    long long want = v ? strtoll(v, &end, 10) : 0;
    if (v && *v && !*end && want >= 1)
        return want;
    long long latest = 0;
    json_decref(record_latest(req->spool, course, asg, student, &latest));
    return latest;
}

/* One answer: what the student wrote, its grade, and the form that changes it. */
static void answer_section(struct web_request *req, struct web_response *res,
                           const char *action, long long version, const json_t *it)
{
    struct buf *b = &res->body;
    const char *id = jsonutil_str(it, "grade_id", "?");
    const char *status = jsonutil_str(it, "status", "pending");
    char score[64];
    score_cell(score, sizeof score, it);
    html_printf(b, "<section class=\"manual-answer\" data-cell=\"%s\"><h2>%s <span class=\"muted\">"
                "(%s, %g point%s)</span></h2><p class=\"grade\">%s: %s", id, id,
                jsonutil_str(it, "cell_type", ""), jsonutil_num(it, "points", 0),
                jsonutil_num(it, "points", 0) == 1 ? "" : "s", status, score);
    if (json_object_get(it, "graded_by"))
        html_printf(b, ", graded by <span class=\"graded-by\">%s</span> at %s",
                    jsonutil_str(it, "graded_by", ""), jsonutil_str(it, "graded_at", "?"));
    else if (json_object_get(it, "message"))
        html_printf(b, " (%s)", jsonutil_str(it, "message", ""));
    buf_puts(b, "</p>");
    if (json_object_get(it, "answer"))
        html_printf(b, "<pre class=\"answer\">%s</pre>", jsonutil_str(it, "answer", ""));
    else
        buf_puts(b, "<p class=\"muted\">(a task: nothing written in the notebook to show)</p>");
    html_form_begin(req, res, action, "stack");
    char points[40] = "";
    if (strcmp(status, "pending"))
        snprintf(points, sizeof points, "%g", jsonutil_num(it, "score", 0));
    html_printf(b, "<input type=\"hidden\" name=\"cell\" value=\"%s\"><input type=\"hidden\" "
                "name=\"version\" value=\"%lld\"><label>Points (0 to %g)<input name=\"points\" "
                "type=\"number\" min=\"0\" max=\"%g\" step=\"any\" required value=\"%s\"></label>"
                "<label>Comment<textarea name=\"comment\" rows=\"3\" cols=\"60\">%s</textarea>"
                "</label><p><button>Save grade</button></p></form></section>", id, version,
                jsonutil_num(it, "points", 0), jsonutil_num(it, "points", 0), points,
                jsonutil_str(it, "comment", ""));
}

int page_manual_student(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    const char *student = web_param(req, "student");
    if (!assignment_exists(req))
        return web_respond_error(res, 404, "There is no such assignment in this course.");
    long long v = shown_version(req, course, asg, student);
    char title[300], rel[400], action[400];
    snprintf(title, sizeof title, "%s / %s: %s, graded by hand", course, asg, student);
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, v);
    snprintf(action, sizeof action, "/course/%s/%s/manual/%s", course, asg, student);
    json_t *r = v > 0 ? record_read(req->spool, rel) : NULL;
    html_begin(req, res, title);
    struct buf *b = &res->body;
    html_printf(b, "<p><a href=\"/course/%s/%s/manual\">Back to the answers awaiting a grade</a>"
                " · <a href=\"/course/%s/%s/student/%s?v=%lld\">The whole result</a></p>", course,
                asg, course, asg, student, v);
    flash(req, b);
    struct manual_tally t;
    results_manual_tally(r, &t);
    if (!r) {
        buf_puts(b, "<p class=\"muted\">No result yet.</p>");
    } else if (t.items == 0) {
        html_printf(b, "<p class=\"muted\">Version %lld has no answers graded by hand.</p>", v);
    } else {
        struct buf total = BUF_INIT;
        results_total_phrase(r, &total);   /* out of memory: an empty total, the answers shown */
        html_printf(b, "<p>Version %lld. <span id=\"manual-total\">Total: %s</span></p>", v,
                    buf_str(&total));
        buf_free(&total);
        size_t i, j;
        const json_t *test, *it;
        json_array_foreach(json_object_get(r, "tests"), i, test)
            json_array_foreach(json_object_get(test, "needs_manual_grading"), j, it)
                answer_section(req, res, action, v, it);
    }
    html_end(res);
    json_decref(r);
    return 0;
}

/* ---- the grade ---- */

/* Logs what the user did and answers: 303 back to the student's page
 * with MESSAGE shown, or STATUS with it. */
static int graded(struct web_request *req, struct web_response *res, int status,
                  const char *message, long long version)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    const char *student = web_param(req, "student");
    log_msg(status < 400 ? LOG_INFO : LOG_WARN, NULL, "web: %s/%s: %s%s (by %s from %s)", course,
            asg, status < 400 ? "" : "manual grade refused: ", message, req->user->name,
            req->peer);
    if (status >= 400)
        return web_respond_error(res, status, message);
    struct buf to = BUF_INIT;
    buf_printf(&to, "/course/%s/%s/manual/%s?v=%lld&done=", course, asg, student, version);
    html_url_escape(&to, message);
    int rc = web_redirect(res, buf_str(&to));
    buf_free(&to);
    return rc;
}

/* The grade of a valid form: through manual_grade, as `assay manual grade`. */
static int give_grade(struct web_request *req, struct web_response *res, long long version,
                      const char *cell, double points, const char *comment)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    const char *student = web_param(req, "student");
    struct err e;
    json_t *before = NULL;
    long long got = 0;
    if (manual_grade(req->spool, course, asg, student, version, cell, points, comment,
                     req->user->name, &got, &before, &e) < 0)
        return graded(req, res, 400, e.msg, version);
    char was[64] = "none";
    if (before)
        snprintf(was, sizeof was, "%g", jsonutil_num(before, "points", 0));
    json_decref(before);
    char rel[600];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, got);
    json_t *r = record_read(req->spool, rel);
    struct buf total = BUF_INIT, msg = BUF_INIT;
    if (r)
        results_total_phrase(r, &total);   /* out of memory: the line says less */
    buf_printf(&msg, "manual grade of %s's answer %s version %lld: %g points (was: %s); total "
               "now %s", student, cell, got, points, was,
               r ? buf_str(&total) : "unknown (the result cannot be read)");
    int rc = graded(req, res, 303, buf_str(&msg), got);
    buf_free(&msg);
    buf_free(&total);
    json_decref(r);
    return rc;
}

int action_manual_grade(struct web_request *req, struct web_response *res)
{
    char *cell = web_form(req, "cell"), *points_s = web_form(req, "points");
    char *comment = web_form(req, "comment"), *version_s = web_form(req, "version");
    char *end = NULL;
    long long version = version_s && *version_s ? strtoll(version_s, &end, 10) : 0;
    double points = 0;
    struct err e;
    int rc;
    if (!assignment_exists(req))
        rc = graded(req, res, 404, "there is no such assignment", version);
    else if (!cell || !*cell || strlen(cell) > 200)
        rc = graded(req, res, 400, "the field \"cell\" must name an answer (its grade_id)",
                    version);
    else if (end && (*end || version < 1))
        rc = graded(req, res, 400, "the field \"version\" must be a version number (1, 2, ...)",
                    0);
    else if (manual_parse_points(points_s, &points, &e) < 0)
        rc = graded(req, res, 400, e.msg, version);
    else
        rc = give_grade(req, res, version, cell, points, comment);
    free(cell);
    free(points_s);
    free(comment);
    free(version_s);
    return rc;
}
