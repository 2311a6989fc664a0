/*
 * pages_course.c - the staff pages of a course (instructors, TAs, admins).
 *
 *   GET /course/C              the assignments, each with its queue
 *   GET /course/C/A            one assignment: the queue, the live progress
 *                              of its bulk grading, the score histogram, the
 *                              failures grouped by category and reason, every
 *                              student's latest result, and the actions
 *   GET /course/C/A/progress   that progress as a Server-Sent Event
 *   GET /course/C/A/export.csv the gradebook (spool/export.c)
 *
 * Every fact comes from the spool's readers (data.c, record.c, batch.c);
 * the forms post to pages_actions.c.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/results.h"
#include "spool/batch.h"
#include "spool/export.h"
#include "spool/record.h"
#include "spool/scan.h"
#include "web/data.h"
#include "web/html.h"
#include "web/render.h"
#include "web/routes.h"

#define HIST_BINS 10
#define JOBS_SHOWN 200     /* queued jobs listed on an assignment's page, oldest first */

struct queue_counts {
    size_t waiting, running, deferred, held, failed;
    double oldest_wait_s;       /* -1: nothing waiting */
};

static void count_queue(const json_t *jobs, const char *asg, struct queue_counts *q)
{
    memset(q, 0, sizeof *q);
    q->oldest_wait_s = -1;
    double now = clock_wall();
    size_t i;
    const json_t *j;
    json_array_foreach(jobs, i, j) {
        if (asg && strcmp(jsonutil_str(j, "assignment", ""), asg))
            continue;
        const char *st = jsonutil_str(j, "state", "");
        q->waiting += !strcmp(st, "waiting");
        q->running += !strcmp(st, "running");
        q->deferred += !strcmp(st, "deferred");
        q->held += !strcmp(st, "held");
        q->failed += !strcmp(st, "failed");
        double age = now - jsonutil_num(j, "queued_at", now);
        if (!strcmp(st, "waiting") && age > q->oldest_wait_s)
            q->oldest_wait_s = age;
    }
}

static void queue_cells(struct buf *b, const struct queue_counts *q)
{
    char wait[32];
    render_duration(wait, sizeof wait, q->oldest_wait_s);
    html_printf(b, "<td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%s</td>",
                q->waiting, q->running, q->deferred, q->held, q->failed, wait);
}

#define QUEUE_HEAD "<th>waiting</th><th>running</th><th>retrying</th><th>held</th>" \
    "<th>failed</th><th>oldest wait</th>"

int page_course(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course");
    json_t *asgs = data_assignments(req->spool, course);
    json_t *jobs = data_queue_jobs(req->spool, course, NULL, NULL);
    char title[200];
    snprintf(title, sizeof title, "Course %s", course);
    html_begin(req, res, title);
    struct buf *b = &res->body;
    buf_puts(b, "<div class=\"scroll\"><table id=\"assignments\"><tr><th>Assignment</th>"
             QUEUE_HEAD "</tr>");
    size_t i;
    const json_t *a;
    json_array_foreach(asgs, i, a) {
        struct queue_counts q;
        count_queue(jobs, json_string_value(a), &q);
        html_printf(b, "<tr><td><a href=\"/course/%s/%s\">%s</a></td>", course,
                    json_string_value(a), json_string_value(a));
        queue_cells(b, &q);
        buf_puts(b, "</tr>");
    }
    buf_puts(b, "</table></div>");
    if (!json_array_size(asgs))
        buf_puts(b, "<p class=\"muted\">No assignments yet.</p>");
    html_end(res);
    json_decref(asgs);
    json_decref(jobs);
    return 0;
}

/* ---- one assignment ---- */

struct student_row {
    const char *name;
    json_t *result;             /* latest results.json, NULL none */
    long long version;          /* latest submitted */
};

static void section_progress(struct web_request *req, struct buf *b, const char *course,
                             const char *asg)
{
    struct batch_progress p;
    batch_progress(req->spool, course, asg, &p);
    if (!p.started_at)
        return;
    int pct = p.total ? (int)(100 * p.done / p.total) : 100;
    char eta[32];
    render_duration(eta, sizeof eta, p.eta_s);
    html_printf(b, "<h2>Bulk grading</h2><div id=\"progress\" data-src=\"/course/%s/%s/progress\"%s>"
                "<p>Started by %s. <span id=\"progress-text\">%zu/%zu (%d %%), %.2f/s, ETA %s"
                "</span></p><progress id=\"progress-bar\" max=\"100\" value=\"%d\"></progress>"
                "</div>", course, asg, p.done == p.total ? " data-finished=\"1\"" : "", p.by, p.done,
                p.total, pct, p.rate, eta, pct);
}

static void section_queue(struct web_request *req, struct web_response *res, const char *course,
                          const char *asg, const json_t *jobs)
{
    struct buf *b = &res->body;
    struct queue_counts q;
    count_queue(jobs, asg, &q);
    buf_puts(b, "<h2>Queue</h2><div class=\"scroll\"><table id=\"queue\"><tr>" QUEUE_HEAD "</tr><tr>");
    queue_cells(b, &q);
    buf_puts(b, "</tr></table></div>");
    if (!json_array_size(jobs))
        return;
    buf_puts(b, "<div class=\"scroll\"><table id=\"jobs\"><tr><th>Job</th><th>Student</th>"
             "<th>State</th><th>Where</th><th></th></tr>");
    size_t i;
    const json_t *j;
    char action[300];
    snprintf(action, sizeof action, "/course/%s/%s/", course, asg);
    json_array_foreach(jobs, i, j) {
        if (i == JOBS_SHOWN) {
            html_printf(b, "<tr><td colspan=\"5\">and %zu more</td></tr>",
                        json_array_size(jobs) - JOBS_SHOWN);
            break;
        }
        const char *st = jsonutil_str(j, "state", "");
        html_printf(b, "<tr><td>%s</td><td>%s v%lld</td><td>%s</td><td>%s</td><td>",
                    jsonutil_str(j, "id", ""), jsonutil_str(j, "student", ""),
                    (long long)json_integer_value(json_object_get(j, "version")), st,
                    jsonutil_str(j, "slot", jsonutil_str(j, "reason", "")));
        bool hold = !strcmp(st, "waiting") || !strcmp(st, "deferred");
        if (hold || !strcmp(st, "held")) {
            char to[320];
            snprintf(to, sizeof to, "%s%s", action, hold ? "hold" : "release");
            html_form_begin(req, res, to, "inline");
            html_printf(b, "<input type=\"hidden\" name=\"job\" value=\"%s\"><button>%s</button>"
                        "</form>", jsonutil_str(j, "id", ""), hold ? "Hold" : "Release");
        }
        buf_puts(b, "</td></tr>");
    }
    buf_puts(b, "</table></div>");
}

static void section_histogram(struct buf *b, const struct student_row *rows, size_t n)
{
    size_t counts[HIST_BINS] = {0}, graded = 0, most = 0;
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (rows[i].result && jsonutil_num(rows[i].result, "max_score", 0) > max)
            max = jsonutil_num(rows[i].result, "max_score", 0);
    for (size_t i = 0; i < n; i++) {
        const json_t *r = rows[i].result;
        if (!r || strcmp(jsonutil_str(json_object_get(r, "assay"), "status", ""), "graded"))
            continue;
        double frac = max > 0 ? jsonutil_num(r, "score", 0) / max : 1;
        int bin = (int)(frac * HIST_BINS);
        bin = bin < 0 ? 0 : bin >= HIST_BINS ? HIST_BINS - 1 : bin;
        most = ++counts[bin] > most ? counts[bin] : most;
        graded++;
    }
    html_printf(b, "<h2>Scores</h2><p>%zu graded (out of %g).</p><table class=\"hist\" "
                "id=\"histogram\">", graded, max);
    for (int k = 0; k < HIST_BINS; k++)
        html_printf(b, "<tr><td>%g – %g</td><td class=\"n\">%zu</td><td><progress max=\"%zu\" "
                    "value=\"%zu\"></progress></td></tr>", max * k / HIST_BINS,
                    max * (k + 1) / HIST_BINS, counts[k], most ? most : 1, counts[k]);
    buf_puts(b, "</table>");
}

/* Adds STUDENT to GROUPS under "CATEGORY\tREASON". */
static void group_add(json_t *groups, const char *category, const char *reason,
                      const char *student)
{
    char *key = NULL;
    if (asprintf(&key, "%s\t%s", category, reason) < 0)
        return;   /* out of memory: this one is not listed */
    json_t *list = json_object_get(groups, key);
    if (!list && json_object_set_new(groups, key, list = json_array()) < 0)
        list = NULL;
    json_array_append_new(list, json_string(student));
    free(key);
}

/* Failures by category and reason: results with an error, and jobs that
 * failed for infrastructure reasons (never the student's). */
static json_t *failure_groups(const struct student_row *rows, size_t n, const json_t *jobs)
{
    json_t *groups = json_object();
    for (size_t i = 0; i < n; i++) {
        const json_t *err = json_object_get(json_object_get(rows[i].result, "assay"), "error");
        if (json_is_object(err))
            group_add(groups, jsonutil_str(err, "category", "?"), jsonutil_str(err, "message", ""),
                      rows[i].name);
    }
    size_t i;
    const json_t *j;
    json_array_foreach(jobs, i, j)
        if (!strcmp(jsonutil_str(j, "state", ""), "failed"))
            group_add(groups, "infrastructure (not graded)", jsonutil_str(j, "reason", ""),
                      jsonutil_str(j, "student", ""));
    return groups;
}

static void section_failures(struct buf *b, const char *course, const char *asg,
                             const struct student_row *rows, size_t n, const json_t *jobs)
{
    json_t *groups = failure_groups(rows, n, jobs);
    buf_puts(b, "<h2>Failures</h2>");
    if (!json_object_size(groups))
        buf_puts(b, "<p class=\"muted\">None.</p>");
    else
        buf_puts(b, "<div class=\"scroll\"><table id=\"failures\"><tr><th>Category</th><th>Reason"
                 "</th><th>Count</th><th>Students</th></tr>");
    const char *key;
    json_t *list;
    json_object_foreach(groups, key, list) {
        const char *tab = strchr(key, '\t');
        char cat[64];
        snprintf(cat, sizeof cat, "%.*s", (int)(tab - key), key);
        html_printf(b, "<tr><td>%s</td><td>%s</td><td>%zu</td><td>", cat, tab + 1,
                    json_array_size(list));
        size_t k;
        const json_t *st;
        json_array_foreach(list, k, st)
            html_printf(b, "%s<a href=\"/course/%s/%s/student/%s\">%s</a>", k ? ", " : "", course,
                        asg, json_string_value(st), json_string_value(st));
        buf_puts(b, "</td></tr>");
    }
    if (json_object_size(groups))
        buf_puts(b, "</table></div>");
    json_decref(groups);
}

static const char *row_status(const struct student_row *r, const json_t *jobs)
{
    size_t i;
    const json_t *j;
    json_array_foreach(jobs, i, j)
        if (!strcmp(jsonutil_str(j, "student", ""), r->name) &&
            strcmp(jsonutil_str(j, "state", ""), "failed"))
            return jsonutil_str(j, "state", "");
    if (!r->result)
        return "pending";
    return jsonutil_str(json_object_get(r->result, "assay"), "status", "graded");
}

static void section_students(struct web_request *req, struct web_response *res,
                             const char *course, const char *asg, const struct student_row *rows,
                             size_t n, const json_t *jobs)
{
    struct buf *b = &res->body;
    html_printf(b, "<h2>Students</h2><div class=\"scroll\"><table id=\"students\"><tr><th>Student"
                "</th><th>Score</th><th>Version</th><th>Late days</th><th>Status</th><th></th></tr>");
    char action[300];
    snprintf(action, sizeof action, "/course/%s/%s/regrade", course, asg);
    for (size_t i = 0; i < n; i++) {
        const json_t *r = rows[i].result;
        char score[64] = "", late[32];
        if (r)
            snprintf(score, sizeof score, "%g / %g", jsonutil_num(r, "score", 0),
                     jsonutil_num(r, "max_score", 0));
        render_late_days(late, sizeof late, r);
        html_printf(b, "<tr data-student=\"%s\"><td><a href=\"/course/%s/%s/student/%s\">%s</a>"
                    "</td><td>%s</td><td>%lld</td><td>%s</td><td>%s</td><td>", rows[i].name,
                    course, asg, rows[i].name, rows[i].name, score, rows[i].version, late,
                    row_status(&rows[i], jobs));
        html_form_begin(req, res, action, "inline");
        html_printf(b, "<input type=\"hidden\" name=\"student\" value=\"%s\"><button>Regrade"
                    "</button></form></td></tr>", rows[i].name);
    }
    buf_puts(b, "</table></div>");
}

static void section_actions(struct web_request *req, struct web_response *res, const char *course,
                            const char *asg)
{
    struct buf *b = &res->body;
    char to[300];
    buf_puts(b, "<div class=\"actions\">");
    snprintf(to, sizeof to, "/course/%s/%s/grade-all", course, asg);
    html_form_begin(req, res, to, "inline");
    buf_puts(b, "<button id=\"grade-all\">Grade all</button></form>");
    snprintf(to, sizeof to, "/course/%s/%s/rerun-failed", course, asg);
    html_form_begin(req, res, to, "inline");
    buf_puts(b, "<button id=\"rerun-failed\">Rerun infrastructure failures</button></form>");
    html_printf(b, "<a id=\"export\" href=\"/course/%s/%s/export.csv\" download>Download CSV</a>"
                "</div>", course, asg);
}

static void section_extension(struct web_request *req, struct web_response *res,
                              const char *course, const char *asg)
{
    struct buf *b = &res->body;
    char to[300];
    snprintf(to, sizeof to, "/course/%s/%s/extension", course, asg);
    buf_puts(b, "<h2>Extensions</h2>");
    html_form_begin(req, res, to, "stack");
    buf_puts(b, "<label for=\"ext-student\">Student</label><input id=\"ext-student\" "
             "name=\"student\" required><label for=\"ext-days\">Days after the due date</label>"
             "<input id=\"ext-days\" name=\"days\" type=\"number\" min=\"0\" max=\"365\" "
             "step=\"any\" required><p><button>Grant extension</button></p></form>");
}

/* A link to grading by hand when some latest result has answers left to
 * a person, with how many still await a grade. */
static void section_manual(struct buf *b, const char *course, const char *asg,
                           const struct student_row *rows, size_t n)
{
    size_t items = 0, pending = 0;
    for (size_t i = 0; i < n; i++) {
        struct manual_tally t;
        results_manual_tally(rows[i].result, &t);
        items += t.items;
        pending += t.pending;
    }
    if (items)
        html_printf(b, "<p id=\"manual\"><a href=\"/course/%s/%s/manual\">Grading by hand</a>: "
                    "%zu answer%s awaiting a grade.</p>", course, asg, pending,
                    pending == 1 ? "" : "s");
}

static void flash(struct web_request *req, struct buf *b)
{
    const char *done = web_query(req, "done");
    if (done && *done)
        html_printf(b, "<p class=\"flash\" id=\"flash\">%s</p>", done);
}

int page_assignment(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    char *apath = spool_path(req->spool, "courses/%s/%s/assignment.json", course, asg);
    bool known = apath && fs_exists(apath);
    free(apath);
    if (!known)
        return web_respond_error(res, 404, "There is no such assignment in this course.");
    json_t *names = data_students(req->spool, course, asg);
    json_t *jobs = data_queue_jobs(req->spool, course, asg, NULL);
    size_t n = json_array_size(names);
    struct student_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows || !names || !jobs) {
        free(rows);
        json_decref(names);
        json_decref(jobs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].name = json_string_value(json_array_get(names, i));
        rows[i].result = record_latest(req->spool, course, asg, rows[i].name, NULL);
        rows[i].version = spool_latest_version(req->spool, "submissions", course, asg, rows[i].name);
    }
    char title[200];
    snprintf(title, sizeof title, "%s / %s", course, asg);
    html_begin(req, res, title);
    flash(req, &res->body);
    section_actions(req, res, course, asg);
    section_manual(&res->body, course, asg, rows, n);
    section_progress(req, &res->body, course, asg);
    section_queue(req, res, course, asg, jobs);
    section_histogram(&res->body, rows, n);
    section_failures(&res->body, course, asg, rows, n, jobs);
    section_students(req, res, course, asg, rows, n, jobs);
    section_extension(req, res, course, asg);
    buf_puts(&res->body, "<script src=\"/static/assay.js\"></script>");
    html_end(res);
    for (size_t i = 0; i < n; i++)
        json_decref(rows[i].result);
    free(rows);
    json_decref(names);
    json_decref(jobs);
    return 0;
}

/* One Server-Sent Event with the progress, then the end of the response:
 * the browser's EventSource reconnects after "retry" ms, so the loop
 * never holds a connection open waiting for news. */
int page_progress(struct web_request *req, struct web_response *res)
{
    struct batch_progress p;
    batch_progress(req->spool, web_param(req, "course"), web_param(req, "asg"), &p);
    res->content_type = "text/event-stream";
    int pct = p.total ? (int)(100 * p.done / p.total) : 0;
    return buf_printf(&res->body, "retry: 1000\ndata: {\"done\": %zu, \"total\": %zu, "
                      "\"failed\": %zu, \"rate\": %.3f, \"eta_s\": %.1f, \"percent\": %d}\n\n",
                      p.done, p.total, p.failed, p.rate, p.eta_s, pct);
}

int page_export(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    struct err e;
    if (export_csv(req->spool, course, asg, &res->body, &e) < 0)
        return web_respond_error(res, 500, e.msg);
    res->content_type = "text/csv; charset=utf-8";
    char disp[300];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s-%s.csv\"", course, asg);
    return web_add_header(res, "Content-Disposition", disp);
}
