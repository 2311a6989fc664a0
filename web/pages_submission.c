/*
 * pages_submission.c - one student's work on one assignment.
 *
 *   GET /course/C/A/student/U[?v=N]       the result of version N (default:
 *       the newest with a result).  Staff see the student's view and the
 *       instructor's side by side, the job's log lines (the worker's as
 *       kept with the result, and the central log's for the job) and which
 *       worker and slot graded it, and a link to grading by hand
 *       (pages_manual.c) when answers are left to a person; the student U
 *       sees the student's view only (hidden tests summed, never shown),
 *       and where a job of theirs waits in the queue.
 *   GET /course/C/A/student/U/N/feedback/F  a feedback file of that result
 *
 * Feedback HTML (a notebook rendered with the student's own outputs) is
 * student-influenced content: it is shown in an iframe with the sandbox
 * attribute, and served with a Content-Security-Policy that sandboxes it
 * again and allows no script, so nothing in it runs or reaches the
 * console's cookies even when the iframe is opened directly.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/results.h"
#include "spool/course.h"
#include "spool/logread.h"
#include "spool/record.h"
#include "spool/scan.h"
#include "web/data.h"
#include "web/html.h"
#include "web/render.h"
#include "web/routes.h"

#define FEEDBACK_MAX_BYTES (8u << 20)
#define LOG_TAIL_BYTES (4u << 20)
#define WAITING_PLACED 3      /* waiting jobs whose place in the queue is worked out */

static bool is_staff(const struct web_request *req)
{
    if (req->user->admin)
        return true;
    enum course_role r = course_role_of(req->spool, web_param(req, "course"), req->user->name);
    return r == COURSE_ROLE_INSTRUCTOR || r == COURSE_ROLE_TA;
}

/* The version to show: ?v=N when it has a result, else the newest that has one. */
static long long pick_version(struct web_request *req, const char *course, const char *asg,
                              const char *student)
{
    const char *v = web_query(req, "v");
    char *end = NULL;
    long long want = v ? strtoll(v, &end, 10) : 0;
    if (v && (!*v || *end || want < 1))
        want = 0;
    long long latest = 0;
    json_t *r = record_latest(req->spool, course, asg, student, &latest);
    json_decref(r);
    return want > 0 ? want : latest;
}

static void versions_nav(struct buf *b, const struct spool *s, const char *course,
                         const char *asg, const char *student, long long shown)
{
    size_t n = 0;
    long long *vs = spool_versions(s, "results", course, asg, student, &n);
    if (n > 1) {
        buf_puts(b, "<p>Versions: ");
        for (size_t i = 0; i < n; i++)
            html_printf(b, vs[i] == shown ? "<strong>%lld</strong> " :
                        "<a href=\"?v=%lld\">%lld</a> ", vs[i], vs[i]);
        buf_puts(b, "</p>");
    }
    free(vs);
}

/* The jobs of this student's work still in the queue, with a waiting
 * job's place and estimated wait. */
static void section_waiting(struct web_request *req, struct buf *b, const char *course,
                            const char *asg, const char *student)
{
    json_t *jobs = data_queue_jobs(req->spool, course, asg, student);
    size_t i, placed = 0;
    const json_t *j;
    json_array_foreach(jobs, i, j) {
        const char *st = jsonutil_str(j, "state", "");
        long long v = (long long)json_integer_value(json_object_get(j, "version"));
        if (!strcmp(st, "waiting") && ++placed > WAITING_PLACED) {
            html_printf(b, "<p class=\"queued\">Version %lld is waiting to be graded.</p>", v);
        } else if (!strcmp(st, "waiting")) {
            size_t ahead;
            double wait;
            data_queue_place(req->spool, course, asg, jsonutil_str(j, "capability", ""),
                             jsonutil_num(j, "queued_at", 0), &ahead, &wait);
            char w[32];
            render_duration(w, sizeof w, wait);
            html_printf(b, "<p class=\"queued\">Version %lld is waiting to be graded: %zu job%s "
                        "ahead of it, estimated wait %s.</p>", v, ahead, ahead == 1 ? "" : "s",
                        wait < 0 ? "unknown" : w);
        } else if (!strcmp(st, "running")) {
            html_printf(b, "<p class=\"queued\">Version %lld is being graded.</p>", v);
        } else if (strcmp(st, "failed")) {
            html_printf(b, "<p class=\"queued\">Version %lld is queued (%s).</p>", v, st);
        }
    }
    json_decref(jobs);
}

/* The feedback files a page shows: HTML files with plain names. */
static bool is_feedback_html(const char *name)
{
    size_t n = strlen(name);
    return spool_name_is_valid(name) && n > 5 && !strcmp(name + n - 5, ".html");
}

static void section_feedback(struct buf *b, const struct spool *s, const char *course,
                             const char *asg, const char *student, long long v)
{
    char *dir = spool_path(s, "results/%s/%s/%s/%lld/feedback", course, asg, student, v);
    struct fs_list l = {0};
    fs_list(dir, is_feedback_html, fs_cmp_names, &l);   /* out of memory: those listed are shown */
    for (size_t i = 0; i < l.n; i++) {
        html_printf(b, "<h2>Feedback: %s</h2><iframe class=\"feedback\" sandbox=\"\" "
                    "referrerpolicy=\"no-referrer\" src=\"/course/%s/%s/student/%s/%lld/feedback/%s\">"
                    "</iframe>", l.names[i], course, asg, student, v, l.names[i]);
    }
    fs_list_free(&l);
    free(dir);
}

static void section_staff(struct web_request *req, struct buf *b, const json_t *full,
                          const char *rel)
{
    const json_t *a = json_object_get(full, "assay");
    const json_t *by = json_object_get(a, "graded_by");
    html_printf(b, "<h2>Grading</h2><p id=\"graded-by\">Job %s, graded by worker %s slot %lld "
                "(attempt %lld), waited %.1f s, graded in %.1f s.</p>",
                jsonutil_str(a, "job_id", "?"), jsonutil_str(by, "worker", "(none)"),
                (long long)json_integer_value(json_object_get(by, "slot")),
                (long long)json_integer_value(json_object_get(a, "attempts")),
                jsonutil_num(a, "wait_s", 0), jsonutil_num(a, "grading_s", 0));
    struct buf text = BUF_INIT;
    struct err e;
    char *wlog = spool_path(req->spool, "%s/worker.log", rel);
    if (wlog && fs_read_file(wlog, 1u << 20, &text, &e) == 0 && text.len)
        html_printf(b, "<h2>Worker log</h2><pre id=\"worker-log\">%s</pre>", buf_str(&text));
    free(wlog);
    buf_reset(&text);
    struct log_filter f = {.job = jsonutil_str(a, "job_id", "")};
    if (f.job[0] && log_read_matching(req->spool, "assay.log", &f, LOG_TAIL_BYTES, 200, &text) == 0 &&
        text.len)
        html_printf(b, "<h2>Log</h2><pre id=\"job-log\">%s</pre>", buf_str(&text));
    buf_free(&text);
}

/* For staff: where to grade this version's answers left to a person. */
static void manual_link(struct buf *b, const char *course, const char *asg, const char *student,
                        long long v, const json_t *full)
{
    struct manual_tally t;
    results_manual_tally(full, &t);
    if (t.items)
        html_printf(b, "<p id=\"manual\"><a href=\"/course/%s/%s/manual/%s?v=%lld\">Grade the "
                    "answers graded by hand</a>: %zu of %zu awaiting a grade.</p>", course, asg,
                    student, v, t.pending, t.items);
}

int page_submission(struct web_request *req, struct web_response *res)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    const char *student = web_param(req, "student");
    bool staff = is_staff(req);
    long long v = pick_version(req, course, asg, student);
    char title[300], rel[400];
    snprintf(title, sizeof title, "%s / %s: %s", course, asg, student);
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, v);
    json_t *full = v > 0 ? record_read(req->spool, rel) : NULL;
    json_t *view = full ? results_student_view(full, clock_wall()) : NULL;
    html_begin(req, res, title);
    struct buf *b = &res->body;
    if (staff)
        html_printf(b, "<p><a href=\"/course/%s/%s\">Back to %s</a></p>", course, asg, asg);
    section_waiting(req, b, course, asg, student);
    if (!full) {
        buf_puts(b, "<p class=\"muted\">No result yet.</p>");
    } else {
        versions_nav(b, req->spool, course, asg, student, v);
        if (staff)
            manual_link(b, course, asg, student, v, full);
        html_printf(b, "<p>Version %lld, submitted %s.</p>", v,
                    jsonutil_str(json_object_get(full, "assay"), "submitted_at", "?"));
        buf_puts(b, staff ? "<div class=\"views\"><section id=\"student-view\"><h2>Student's view"
                            "</h2>" : "<section id=\"student-view\">");
        if (view)
            render_result(b, view);
        buf_puts(b, "</section>");
        if (staff) {
            buf_puts(b, "<section id=\"instructor-view\"><h2>Instructor's view</h2>");
            render_result(b, full);
            buf_puts(b, "</section></div>");
        }
        section_feedback(b, req->spool, course, asg, student, v);
        if (staff)
            section_staff(req, b, full, rel);
    }
    html_end(res);
    json_decref(view);
    json_decref(full);
    return 0;
}

int page_feedback(struct web_request *req, struct web_response *res)
{
    const char *file = web_param(req, "file");
    char *path = spool_path(req->spool, "results/%s/%s/%s/%s/feedback/%s",
                            web_param(req, "course"), web_param(req, "asg"),
                            web_param(req, "student"), web_param(req, "version"), file);
    struct err e;
    if (!path || !is_feedback_html(file) ||
        fs_read_file(path, FEEDBACK_MAX_BYTES, &res->body, &e) < 0) {
        free(path);
        return web_respond_error(res, 404, "No such feedback file.");
    }
    free(path);
    res->content_type = "text/html; charset=utf-8";
    return web_add_header(res, "Content-Security-Policy",
                          "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
                          "img-src data:; frame-ancestors 'self'");
}
