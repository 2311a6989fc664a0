/*
 * regrade.c - queuing students' latest versions again, as batch jobs.
 *
 * One code path for `assay regrade`, `assay grade-all` (cli/) and the
 * web console's "grade all" and "regrade" actions (web/): each student's
 * newest submitted version becomes a new job through queue_enqueue,
 * keeping the version's submission time so that a late policy judges the
 * regrade exactly as it judged the submission.  A broken extensions.json
 * stops it before anything is queued, since every result would carry
 * penalties counted from dates the file may have moved.
 */
#define _GNU_SOURCE
#include "spool/regrade.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "contract/assignment.h"
#include "spool/extensions.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "spool/scan.h"

static void say(const struct regrade_out *out, bool headline, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(const struct regrade_out *out, bool headline, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (out && out->say)
        out->say(out->arg, headline, line);
}

/* A regrade is late exactly when the submission was: it keeps the time of
 * the submission, read from the version's recorded result.  -1 if memory
 * ran out (a regrade late by the time it is queued would be wrong). */
static int keep_submission_time(const struct spool *s, json_t *job, const struct regrade_out *out)
{
    char rel[400];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", jsonutil_str(job, "course", ""),
             jsonutil_str(job, "assignment", ""), jsonutil_str(job, "student", ""),
             (long long)json_integer_value(json_object_get(job, "version")));
    json_t *r = record_read(s, rel);
    const json_t *assay = json_object_get(r, "assay");
    const char *when = jsonutil_str(assay, "submitted_at", jsonutil_str(assay, "queued_at", NULL));
    double t;
    int rc = 0;
    if (when && clock_parse_iso8601(when, &t))
        rc = json_object_set_new(job, "submitted_at", json_string(when));
    else
        say(out, true, "warning: %s/results.json has no recorded submission time; a late "
            "policy measures this regrade from now", rel);
    json_decref(r);
    return rc;
}

/* Queues STUDENT's latest version; QUEUED gets {"id", "student", "rel"}. */
static int regrade_student(const struct spool *s, const char *course, const char *asg,
                           const char *student, const char *capability, json_t *queued,
                           const struct regrade_out *out, struct err *e)
{
    long long v = spool_latest_version(s, "submissions", course, asg, student);
    if (v < 1)
        return 0;
    json_t *job = job_new(course, asg, student, v, true, capability);
    if (!job || keep_submission_time(s, job, out) < 0) {
        json_decref(job);
        return err_set(e, "out of memory");
    }
    int rc = queue_enqueue(s, job, e);
    char rel[512];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, v);
    if (rc == 0 && json_array_append_new(queued, json_pack("{s:O, s:s, s:s}", "id",
                                                           json_object_get(job, "id"), "student",
                                                           student, "rel", rel)) < 0)
        rc = err_set(e, "queued as job %s, but out of memory following it",
                     jsonutil_str(job, "id", "?"));
    json_decref(job);
    return rc < 0 ? -1 : 1;
}

/* -1 (said, every problem) if the assignment's extensions.json is broken. */
static int check_extensions(const struct spool *s, const char *course, const char *asg,
                            const struct late_policy *lp, const char *cmd,
                            const struct regrade_out *out)
{
    struct problems p = {0};
    json_t *ext = extensions_load(s, course, asg, lp, &p);
    const char *student;
    json_t *entry;
    /* not an error: a student may be granted time before submitting anything */
    json_object_foreach(ext, student, entry)
        if (spool_name_is_valid(student) && !extensions_student_known(s, course, student))
            say(out, true, "warning: courses/%s/%s/extensions.json: $.%s: %s has submitted "
                "nothing to course %s (is the name misspelt?)", course, asg, student, student,
                course);
    json_decref(ext);
    if (!p.count)
        return 0;
    say(out, true, "courses/%s/%s/extensions.json is broken (%zu problem%s), so nothing was "
        "queued:", course, asg, p.count, p.count == 1 ? "" : "s");
    for (size_t i = 0; i < p.count; i++)
        say(out, false, "  %s", p.items[i]);
    say(out, false, "To fix: %s; then run assay %s again.", EXTENSIONS_FIX, cmd);
    problems_free(&p);
    return -1;
}

int regrade_queue(const struct spool *s, const char *course, const char *asg,
                  const char *student, json_t *queued, const char *cmd,
                  const struct regrade_out *out)
{
    if (!queued) {
        say(out, true, "out of memory");
        return -1;
    }
    char *adir = spool_path(s, "courses/%s/%s", course, asg);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    struct err e;
    assignment_summary_load(adir, &sum, &ignored);
    char *cap = strdup(sum.capability);
    int broken = check_extensions(s, course, asg, &sum.late, cmd, out);
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(adir);
    if (broken < 0 || !cap) {
        free(cap);
        return -1;
    }
    char rel[200];
    snprintf(rel, sizeof rel, "submissions/%s/%s", course, asg);
    struct fs_list students;
    int rc = scan_spool(s, rel, SCAN_NAMES, &students);
    if (rc < 0)
        say(out, true, "out of memory listing the students of %s", rel);
    for (size_t i = 0; i < students.n; i++) {
        if (student && strcmp(student, students.names[i]))
            continue;
        if (regrade_student(s, course, asg, students.names[i], cap, queued, out, &e) < 0) {
            say(out, true, "%s: %s", students.names[i], e.msg);
            rc = -1;
        }
    }
    fs_list_free(&students);
    free(cap);
    return rc;
}
