/*
 * pages_admin.c - the admin pages.
 *
 *   GET /admin          the whole queue by course and by capability (with
 *                       the oldest wait), every worker (up, down, refusing,
 *                       disabled; why, since when, last contact, slots busy
 *                       with which job), and the capabilities that no
 *                       enabled worker offers (asked for by a queued job or
 *                       an assignment)
 *   GET /admin/logs     the central log, filtered: ?job=&worker=&course=
 *                       &errors=1&since=10m (the last 500 lines that match)
 *   GET /admin/traces   the stack-trace log, with the same filters
 *
 * The figures are those of `assay status` and `assay workers`
 * (spool/status.c, spool/health.c), the filter that of `assay logs`
 * (spool/logread.c).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "contract/assignment.h"
#include "spool/health.h"
#include "spool/logread.h"
#include "spool/status.h"
#include "spool/workers.h"
#include "web/data.h"
#include "web/html.h"
#include "web/render.h"
#include "web/routes.h"

#define LOG_TAIL_BYTES (8u << 20)
#define LOG_LINES 500

static void counts_table(struct buf *b, const char *id, const char *what, const json_t *rows,
                         bool with_wait)
{
    html_printf(b, "<div class=\"scroll\"><table id=\"%s\"><tr><th>%s</th>", id, what);
    for (int i = 0; i < SPOOL_STATUS_N_STATES; i++)
        html_printf(b, "<th>%s</th>", spool_status_states[i]);
    buf_puts(b, with_wait ? "<th>oldest wait</th></tr>" : "</tr>");
    const char *name;
    const json_t *row;
    json_object_foreach((json_t *)rows, name, row) {
        html_printf(b, "<tr><td>%s</td>", name);
        for (int i = 0; i < SPOOL_STATUS_N_STATES; i++)
            html_printf(b, "<td>%lld</td>", (long long)json_integer_value(
                                                json_object_get(row, spool_status_states[i])));
        char wait[32];
        render_duration(wait, sizeof wait, json_is_number(json_object_get(row, "oldest_wait_s"))
                                               ? jsonutil_num(row, "oldest_wait_s", -1) : -1);
        if (with_wait)
            html_printf(b, "<td>%s</td>", wait);
        buf_puts(b, "</tr>");
    }
    buf_puts(b, "</table></div>");
}

/* The job each busy slot of worker NAME holds, from the status's slots. */
static void slot_jobs(struct buf *b, const json_t *slots, const char *name)
{
    size_t i, n = strlen(name);
    const json_t *s;
    json_array_foreach(slots, i, s) {
        const char *slot = jsonutil_str(s, "slot", "");
        if (strncmp(slot, name, n) || slot[n] != '.' || !json_object_get(s, "job"))
            continue;
        char f[32];
        render_duration(f, sizeof f, jsonutil_num(s, "for_s", 0));
        html_printf(b, "%s: %s (%s, %s)<br>", slot, jsonutil_str(s, "what", ""),
                    jsonutil_str(s, "job", ""), f);
    }
}

static void workers_table(struct web_request *req, struct buf *b, const struct workers *w,
                          const json_t *slots)
{
    buf_puts(b, "<h2>Workers</h2><div class=\"scroll\"><table id=\"workers\"><tr><th>Worker</th>"
             "<th>Status</th><th>Reason</th><th>Since</th><th>Last contact</th><th>Slots busy</th>"
             "<th>Jobs</th></tr>");
    for (size_t i = 0; i < w->n; i++) {
        json_t *row = health_worker_row(req->spool, &w->v[i]);
        html_printf(b, "<tr><td>%s</td><td class=\"status\">%s</td><td>%s",
                    jsonutil_str(row, "name", ""), jsonutil_str(row, "status", ""),
                    jsonutil_str(row, "reason", ""));
        char pool[600];   /* a Slurm pool: its partition, nodes and jobs */
        health_pool_line(json_object_get(row, "pool"), pool, sizeof pool);
        if (*pool)
            html_printf(b, "<div class=\"pool\">%s</div>", pool);
        html_printf(b, "</td><td>%s</td><td>%s</td><td>%lld / %lld</td><td>",
                    jsonutil_str(row, "since", ""), jsonutil_str(row, "last_contact", ""),
                    (long long)json_integer_value(json_object_get(row, "busy")),
                    (long long)json_integer_value(json_object_get(row, "slots")));
        slot_jobs(b, slots, w->v[i].name);
        buf_puts(b, "</td></tr>");
        json_decref(row);
    }
    buf_puts(b, "</table></div>");
}

/* Capabilities asked for (by queued jobs or by assignments) that no
 * enabled worker offers. */
static void unoffered(struct web_request *req, struct buf *b, const struct workers *w,
                      const json_t *status)
{
    json_t *wanted = json_object();
    const char *cap;
    json_t *v;
    json_object_foreach(json_object_get(status, "capabilities"), cap, v)
        json_object_set_new(wanted, cap, json_string("queued jobs"));
    json_t *courses = data_courses(req->spool);
    size_t i, k;
    const json_t *c, *a;
    json_array_foreach(courses, i, c) {
        json_t *asgs = data_assignments(req->spool, json_string_value(c));
        json_array_foreach(asgs, k, a) {
            char *dir = spool_path(req->spool, "courses/%s/%s", json_string_value(c),
                                   json_string_value(a));
            struct assignment_summary sum;
            struct problems ignored = {0};   /* grading reports an assignment's problems */
            assignment_summary_load(dir, &sum, &ignored);
            if (sum.capability[0] && !json_object_get(wanted, sum.capability))
                json_object_set_new(wanted, sum.capability, json_sprintf("assignment %s/%s",
                                    json_string_value(c), json_string_value(a)));
            assignment_summary_free(&sum);
            problems_free(&ignored);
            free(dir);
        }
        json_decref(asgs);
    }
    buf_puts(b, "<h2>Capabilities no enabled worker offers</h2><ul id=\"unoffered\">");
    size_t n = 0;
    json_object_foreach(wanted, cap, v)
        if (!workers_can_take(w, cap) && ++n)
            html_printf(b, "<li><strong>%s</strong>, asked for by %s</li>", cap,
                        json_string_value(v));
    buf_puts(b, n ? "</ul>" : "<li class=\"muted\">none</li></ul>");
    json_decref(courses);
    json_decref(wanted);
}

int page_admin(struct web_request *req, struct web_response *res)
{
    struct workers w;
    struct problems p = {0};
    workers_load(req->spool, &w, &p);
    json_t *st = spool_status_collect(req->spool, &w);
    if (!st) {
        workers_free(&w);
        problems_free(&p);
        return -1;
    }
    html_begin(req, res, "Administration");
    struct buf *b = &res->body;
    buf_puts(b, "<p><a href=\"/admin/logs\">Log</a> · <a href=\"/admin/traces\">Stack traces</a>"
             "</p>");
    for (size_t i = 0; i < p.count; i++)
        html_printf(b, "<p class=\"error\">workers.json: %s</p>", p.items[i]);
    const json_t *old = json_object_get(st, "oldest_waiting");
    char age[32];
    render_duration(age, sizeof age, old ? jsonutil_num(old, "age_s", -1) : -1);
    html_printf(b, "<h2>Queue</h2><p id=\"oldest\">Oldest waiting job: %s (%s).</p>",
                old ? jsonutil_str(old, "job", "") : "none", age);
    counts_table(b, "by-course", "Course", json_object_get(st, "courses"), true);
    counts_table(b, "by-capability", "Capability", json_object_get(st, "capabilities"), false);
    workers_table(req, b, &w, json_object_get(st, "slots"));
    unoffered(req, b, &w, st);
    html_end(res);
    json_decref(st);
    workers_free(&w);
    problems_free(&p);
    return 0;
}

/* The filter of ?job=&worker=&course=&errors=1&since=D; -1 (answered)
 * when a value is not one. */
static int read_filter(struct web_request *req, struct web_response *res, struct log_filter *f)
{
    memset(f, 0, sizeof *f);
    const char *names[] = {"job", "worker", "course"};
    const char **dst[] = {&f->job, &f->worker, &f->course};
    for (int i = 0; i < 3; i++) {
        const char *v = web_query(req, names[i]);
        if (v && *v && (strlen(v) > 128 || strpbrk(v, " /\\")))
            return web_respond_error(res, 400, "A filter value may not hold spaces or slashes.");
        *dst[i] = v && *v ? v : NULL;
    }
    const char *e = web_query(req, "errors"), *since = web_query(req, "since");
    f->errors = e && *e && strcmp(e, "0");
    if (since && *since) {
        double d = log_parse_since(since);
        if (d < 0)
            return web_respond_error(res, 400, "\"since\" must be like 30s, 10m, 2h or 1d.");
        f->since = clock_wall() - d;
    }
    return 0;
}

static void filter_form(struct buf *b, const char *action, const struct log_filter *f,
                        const char *since)
{
    html_printf(b, "<form method=\"get\" action=\"%s\" class=\"actions\">"
                "<input name=\"job\" placeholder=\"job\" value=\"%s\">"
                "<input name=\"worker\" placeholder=\"worker\" value=\"%s\">"
                "<input name=\"course\" placeholder=\"course\" value=\"%s\">"
                "<input name=\"since\" placeholder=\"since (10m)\" value=\"%s\">"
                "<label><input type=\"checkbox\" name=\"errors\" value=\"1\"%s> errors only</label>"
                "<button>Filter</button></form>", action, f->job ? f->job : "",
                f->worker ? f->worker : "", f->course ? f->course : "", since ? since : "",
                f->errors ? " checked" : "");
}

static int log_page(struct web_request *req, struct web_response *res, const char *file,
                    const char *title, const char *action)
{
    struct log_filter f;
    if (read_filter(req, res, &f) < 0)
        return 0;
    struct buf lines = BUF_INIT;
    int rc = log_read_matching(req->spool, file, &f, LOG_TAIL_BYTES, LOG_LINES, &lines);
    html_begin(req, res, title);
    filter_form(&res->body, action, &f, web_query(req, "since"));
    if (rc < 0 && !lines.len)
        buf_puts(&res->body, "<p class=\"muted\">Nothing logged yet.</p>");
    html_printf(&res->body, "<pre id=\"log\">%s</pre>", buf_str(&lines));
    html_end(res);
    buf_free(&lines);
    return 0;
}

int page_admin_logs(struct web_request *req, struct web_response *res)
{
    return log_page(req, res, "assay.log", "Log", "/admin/logs");
}

int page_admin_traces(struct web_request *req, struct web_response *res)
{
    return log_page(req, res, "traces.log", "Stack traces", "/admin/traces");
}
