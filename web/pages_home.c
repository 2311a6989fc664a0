/*
 * pages_home.c - the start page and the static files.
 *
 *   GET /                 what the signed-in user may open: the courses
 *                         they teach (instructor, TA; every course for an
 *                         admin) and, for a student, their own results in
 *                         each course they take, with a job's place in the
 *                         queue while it waits
 *   GET /static/assay.css the one stylesheet
 *   GET /static/assay.js  the one script (live progress)
 *
 * The static files are built into the binary (scripts/embed.sh), so an
 * installed assay-web cannot lose them.
 */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "contract/results.h"
#include "spool/course.h"
#include "spool/record.h"
#include "spool/scan.h"
#include "web/data.h"
#include "web/html.h"
#include "web/render.h"
#include "web/routes.h"

extern const char asset_web_css[];
extern const char asset_web_js[];

int page_stylesheet(struct web_request *req, struct web_response *res)
{
    (void)req;
    res->content_type = "text/css; charset=utf-8";
    web_add_header(res, "Cache-Control", "max-age=3600");
    return buf_puts(&res->body, asset_web_css);
}

int page_script(struct web_request *req, struct web_response *res)
{
    (void)req;
    res->content_type = "text/javascript; charset=utf-8";
    web_add_header(res, "Cache-Control", "max-age=3600");
    return buf_puts(&res->body, asset_web_js);
}

/* One line per assignment of COURSE: the student's latest score (their
 * view: hidden tests summed) and whether a job of theirs waits. */
static void student_course(struct web_request *req, struct buf *b, const char *course)
{
    const char *me = req->user->name;
    json_t *asgs = data_assignments(req->spool, course);
    json_t *jobs = data_queue_jobs(req->spool, course, NULL, me);
    html_printf(b, "<h2>%s</h2><div class=\"scroll\"><table class=\"mine\" data-course=\"%s\">"
                "<tr><th>Assignment</th><th>Score</th><th>Version</th><th>Status</th></tr>",
                course, course);
    size_t i;
    const json_t *a;
    json_array_foreach(asgs, i, a) {
        const char *asg = json_string_value(a);
        long long v = spool_latest_version(req->spool, "submissions", course, asg, me);
        json_t *full = record_latest(req->spool, course, asg, me, NULL);
        json_t *view = full ? results_student_view(full, clock_wall()) : NULL;
        char score[64] = "-", status[64] = "not submitted";
        if (view) {
            snprintf(score, sizeof score, "%g / %g", jsonutil_num(view, "score", 0),
                     jsonutil_num(view, "max_score", 0));
            snprintf(status, sizeof status, "%s",
                     jsonutil_str(json_object_get(view, "assay"), "status", "graded"));
        }
        size_t k;
        const json_t *j;
        json_array_foreach(jobs, k, j)
            if (!strcmp(jsonutil_str(j, "assignment", ""), asg) &&
                strcmp(jsonutil_str(j, "state", ""), "failed"))
                snprintf(status, sizeof status, "%s", jsonutil_str(j, "state", ""));
        html_printf(b, "<tr><td><a href=\"/course/%s/%s/student/%s\">%s</a></td><td>%s</td>"
                    "<td>%lld</td><td>%s</td></tr>", course, asg, me, asg, score, v, status);
        json_decref(view);
        json_decref(full);
    }
    buf_puts(b, "</table></div>");
    json_decref(jobs);
    json_decref(asgs);
}

int page_home(struct web_request *req, struct web_response *res)
{
    html_begin(req, res, "Assay");
    struct buf *b = &res->body;
    if (!req->user) {
        buf_puts(b, "<p><a href=\"/login\">Sign in</a> to see your courses and results.</p>");
        html_end(res);
        return 0;
    }
    json_t *courses = data_courses(req->spool);
    struct buf teach = BUF_INIT, mine = BUF_INIT;
    size_t i, taking = 0;
    const json_t *c;
    json_array_foreach(courses, i, c) {
        const char *course = json_string_value(c);
        enum course_role r = course_role_of(req->spool, course, req->user->name);
        if (req->user->admin || r == COURSE_ROLE_INSTRUCTOR || r == COURSE_ROLE_TA)
            html_printf(&teach, "<li><a href=\"/course/%s\">%s</a>%s</li>", course, course,
                        r == COURSE_ROLE_TA ? " (TA)" : r == COURSE_ROLE_INSTRUCTOR ?
                        " (instructor)" : "");
        else if (r == COURSE_ROLE_STUDENT && ++taking)
            student_course(req, &mine, course);
    }
    /* both already escaped, piece by piece */
    if (teach.len)
        buf_printf(b, "<h2>Courses you teach</h2><ul id=\"teaching\">%s</ul>", buf_str(&teach));
    if (taking)
        buf_printf(b, "<div id=\"my-results\">%s</div>", buf_str(&mine));
    if (!teach.len && !taking)
        buf_puts(b, "<p class=\"muted\">You are not in any course yet.</p>");
    buf_free(&teach);
    buf_free(&mine);
    json_decref(courses);
    html_end(res);
    return 0;
}
