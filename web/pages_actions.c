/*
 * pages_actions.c - what course staff do from the assignment page, each a
 * POST carrying the session's CSRF token (checked in dispatch.c before
 * any of these runs) and each logged with who did it:
 *
 *   POST /course/C/A/grade-all      queue every student's latest version (batch)
 *   POST /course/C/A/regrade        the same for one student (field "student")
 *   POST /course/C/A/rerun-failed   requeue the jobs in failed/ (infrastructure)
 *   POST /course/C/A/hold, release  one job (field "job") of this assignment
 *   POST /course/C/A/extension      grant "days" to "student" (instructors)
 *
 * Each goes through the same spool function as the assay command that
 * does it (spool/regrade.c, queue.c, extensions.c, batch.c), then sends
 * the browser back to the assignment page with a line saying what was
 * done (303, so a reload does not post again).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "contract/assignment.h"
#include "spool/batch.h"
#include "spool/course.h"
#include "spool/extensions.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/regrade.h"
#include "web/data.h"
#include "web/html.h"
#include "web/routes.h"

/* Logs what USER did (about JOB, or NULL) and sends the browser back
 * with MESSAGE shown. */
static int done_job(struct web_request *req, struct web_response *res, int status,
                    const char *message, const char *job)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    log_msg(status < 400 ? LOG_INFO : LOG_WARN, job, "web: %s/%s: %s (by %s from %s)", course,
            asg, message, req->user->name, req->peer);
    if (status >= 400)
        return web_respond_error(res, status, message);
    struct buf to = BUF_INIT;
    buf_printf(&to, "/course/%s/%s?done=", course, asg);
    html_url_escape(&to, message);
    int rc = web_redirect(res, buf_str(&to));
    buf_free(&to);
    return rc;
}

static int done(struct web_request *req, struct web_response *res, int status,
                const char *message)
{
    return done_job(req, res, status, message, NULL);
}

static bool assignment_exists(const struct web_request *req)
{
    char *p = spool_path(req->spool, "courses/%s/%s/assignment.json", web_param(req, "course"),
                         web_param(req, "asg"));
    bool ok = p && fs_exists(p);
    free(p);
    return ok;
}

/* Regrading's sentences, gathered for the answer. */
static void say_buf(void *arg, bool headline, const char *line)
{
    struct buf *b = arg;
    buf_printf(b, "%s%s", b->len && headline ? " " : b->len ? " " : "", line);
}

static int queue_again(struct web_request *req, struct web_response *res, const char *student)
{
    const char *course = web_param(req, "course"), *asg = web_param(req, "asg");
    if (!assignment_exists(req))
        return done(req, res, 404, "there is no such assignment");
    json_t *queued = json_array();
    struct buf said = BUF_INIT;
    struct regrade_out out = {say_buf, &said};
    int rc = regrade_queue(req->spool, course, asg, student, queued, "grade-all", &out);
    size_t n = json_array_size(queued);
    struct err e;
    if (n && !student && batch_save(req->spool, course, asg, queued, req->user->name, &e) < 0)
        log_msg(LOG_WARN, NULL, "web: %s (the jobs are queued)", e.msg);
    char msg[2300];
    snprintf(msg, sizeof msg, "%s: queued %zu submission%s%s%s", student ? "regrade" : "grade all",
             n, n == 1 ? "" : "s", said.len ? "; " : "", buf_str(&said));
    buf_free(&said);
    json_decref(queued);
    return done(req, res, rc < 0 && n == 0 ? 409 : 303, msg);
}

int action_grade_all(struct web_request *req, struct web_response *res)
{
    return queue_again(req, res, NULL);
}

int action_regrade(struct web_request *req, struct web_response *res)
{
    char *student = web_form(req, "student");
    int rc;
    if (student && *student && !spool_name_is_valid(student))
        rc = done(req, res, 400, "the field \"student\" must be a student's name");
    else
        rc = queue_again(req, res, student && *student ? student : NULL);
    free(student);
    return rc;
}

int action_rerun_failed(struct web_request *req, struct web_response *res)
{
    json_t *jobs = data_queue_jobs(req->spool, web_param(req, "course"), web_param(req, "asg"),
                                   NULL);
    size_t again = 0, i;
    const json_t *j;
    json_array_foreach(jobs, i, j) {
        char *from = NULL;
        struct err e;
        if (strcmp(jsonutil_str(j, "state", ""), "failed"))
            continue;
        if (queue_requeue(req->spool, jsonutil_str(j, "id", ""), &from, &e) == 0)
            again++;
        else   /* moved meanwhile: another admin requeued it */
            log_msg(LOG_WARN, jsonutil_str(j, "id", ""), "web: cannot requeue: %s", e.msg);
        free(from);
    }
    json_decref(jobs);
    char msg[200];
    snprintf(msg, sizeof msg, "requeued %zu job%s that failed for infrastructure reasons", again,
             again == 1 ? "" : "s");
    return done(req, res, 303, msg);
}

/* Whether job ID (in any state) is of this page's course and assignment:
 * staff of one course never move another's jobs. */
static bool job_is_here(const struct web_request *req, const char *id)
{
    if (!id || !*id || strchr(id, '/') || id[0] == '.')
        return false;
    char *state = queue_locate(req->spool, id);
    char *path = state ? spool_path(req->spool, "%s/%s.json", state, id) : NULL;
    struct job job;
    struct err e;
    bool here = path && job_load(path, &job, &e) == 0;
    if (here) {
        here = !strcmp(job.course, web_param(req, "course")) &&
               !strcmp(job.assignment, web_param(req, "asg"));
        job_free(&job);
    }
    free(path);
    free(state);
    return here;
}

static int move_job(struct web_request *req, struct web_response *res, bool hold)
{
    char *id = web_form(req, "job");
    int rc;
    char msg[400];
    if (!job_is_here(req, id)) {
        rc = done(req, res, 404, "no such job in this assignment's queue");
    } else {
        char *from = NULL;
        struct err e;
        if ((hold ? queue_hold : queue_release)(req->spool, id, &from, &e) < 0) {
            rc = done_job(req, res, 409, e.msg, id);
        } else {
            snprintf(msg, sizeof msg, "%s job %s", hold ? "held" : "released", id);
            rc = done_job(req, res, 303, msg, id);
        }
        free(from);
    }
    free(id);
    return rc;
}

int action_hold(struct web_request *req, struct web_response *res)
{
    return move_job(req, res, true);
}

int action_release(struct web_request *req, struct web_response *res)
{
    return move_job(req, res, false);
}

static int grant(struct web_request *req, struct web_response *res, const char *student,
                 double days, const struct late_policy *lp)
{
    struct err e;
    struct problems p = {0};
    json_t *entry = days == floor(days) ? json_pack("{s:I}", "days", (json_int_t)days)
                                        : json_pack("{s:f}", "days", days);
    struct buf msg = BUF_INIT;
    int rc;
    if (extensions_set(req->spool, web_param(req, "course"), web_param(req, "asg"), student,
                       entry, lp, NULL, &p, &e) == 0) {
        buf_printf(&msg, "extension of %s: %g day%s after the due date", student, days,
                   days == 1 ? "" : "s");
        rc = done(req, res, 303, buf_str(&msg));
    } else {
        buf_printf(&msg, "%s%s", p.count ? p.items[0] : e.msg,
                   p.count ? " (the file is broken: fix it first; `assay extensions list` shows "
                             "every problem)" : "");
        rc = done(req, res, 409, buf_str(&msg));
    }
    buf_free(&msg);
    problems_free(&p);
    return rc;
}

int action_extension(struct web_request *req, struct web_response *res)
{
    char *student = web_form(req, "student"), *days_s = web_form(req, "days");
    char *end = NULL;
    double days = days_s ? strtod(days_s, &end) : NAN;
    int rc;
    char *dir = spool_path(req->spool, "courses/%s/%s", web_param(req, "course"),
                           web_param(req, "asg"));
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the assignment's own problems are reported by grading */
    assignment_summary_load(dir, &sum, &ignored);
    bool loaded = sum.json != NULL;
    if (!student || !spool_name_is_valid(student))
        rc = done(req, res, 400, "the field \"student\" must be a student's name");
    else if (!days_s || !*days_s || *end || !(days >= 0 && days <= 365))
        rc = done(req, res, 400, "the field \"days\" must be a number of days from 0 to 365");
    else if (!loaded || !sum.late.has_due)
        rc = done(req, res, 409, "this assignment has no due date (\"due\" in its "
                  "assignment.json), so an extension would change nothing");
    else if (!extensions_student_known(req->spool, web_param(req, "course"), student) &&
             !course_on_roster(req->spool, web_param(req, "course"), student))
        rc = done(req, res, 409, "no such student in this course (check the spelling)");
    else
        rc = grant(req, res, student, days, &sum.late);
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(dir);
    free(student);
    free(days_s);
    return rc;
}
