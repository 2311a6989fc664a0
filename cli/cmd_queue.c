/*
 * cmd_queue.c - `assay hold|release|requeue JOB` and `assay regrade`:
 * what an admin or instructor does to jobs in the queue.
 *
 *   hold     incoming/ or deferred/ -> hold/  (the scheduler leaves it alone)
 *   release  hold/ -> incoming/
 *   requeue  failed/, deferred/ or hold/ -> incoming/, with fresh attempts
 *   regrade  a new batch job for the latest version of every student; nothing
 *            while the assignment's extensions.json is broken
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "contract/assignment.h"
#include "spool/extensions.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "spool/scan.h"

static const char queue_usage[] =
    "Usage: assay hold|release|requeue JOB [--spool S]\n"
    "\n"
    "  hold JOB      keep a queued or deferred job from being graded\n"
    "  release JOB   put a held job back in the queue\n"
    "  requeue JOB   queue a failed, deferred or held job again, with fresh attempts\n";

static int parse_spool_opt(int argc, char **argv, const char **spool, const char *usage)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 's')
            *spool = optarg;
        else if (c == 'h') {
            fputs(usage, stdout);
            exit(EXIT_OK);
        } else
            return -1;
    }
    return 0;
}

/* The transition each command names (spool/queue.h). */
static int (*transition_for(const char *cmd))(const struct spool *, const char *, char **,
                                              struct err *)
{
    if (!strcmp(cmd, "hold"))
        return queue_hold;
    if (!strcmp(cmd, "release"))
        return queue_release;
    return queue_requeue;
}

int cmd_queue(int argc, char **argv)
{
    const char *cmd = argv[0], *spool = NULL;
    if (parse_spool_opt(argc, argv, &spool, queue_usage) < 0 || argc - optind != 1) {
        fputs(queue_usage, stderr);
        return EXIT_USAGE;
    }
    const char *id = argv[optind];
    struct spool s;
    if (cli_open_spool(spool, &s, cmd, true) < 0)
        return EXIT_FAILED;
    char *from = NULL;
    int rc = EXIT_FAILED;
    struct err e;
    if (transition_for(cmd)(&s, id, &from, &e) < 0) {
        cli_printf(stderr, "assay %s: %s\n", cmd, e.msg);
    } else {
        cli_printf(stdout, "%s: %s/ -> %s/\n", id, from, strcmp(cmd, "hold") ? SPOOL_INCOMING : SPOOL_HOLD);
        rc = EXIT_OK;
    }
    free(from);
    spool_close(&s);
    return rc;
}

static const char regrade_usage[] =
    "Usage: assay regrade --course C --assignment A [--wait [--timeout S]] [--spool S]\n"
    "\n"
    "Queues the latest version of every student's submission to assignment A of\n"
    "course C again, at batch priority (interactive submissions go first).  With\n"
    "--wait, shows progress until all are graded, then a summary (as grade-all).\n";

/* A regrade is late exactly when the submission was: it keeps the time of
 * the submission, read from the version's recorded result.  -1 if memory
 * ran out (a regrade late by the time it is queued would be wrong). */
static int keep_submission_time(const struct spool *s, json_t *job)
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
        cli_printf(stderr, "assay regrade: warning: %s/results.json has no recorded submission "
                   "time; a late policy measures this regrade from now\n", rel);
    json_decref(r);
    return rc;
}

/* Queues STUDENT's latest version; QUEUED gets {"id", "student", "rel"}. */
static int regrade_student(const struct spool *s, const char *course, const char *asg,
                           const char *student, const char *capability, json_t *queued,
                           struct err *e)
{
    long long v = spool_latest_version(s, "submissions", course, asg, student);
    if (v < 1)
        return 0;
    json_t *job = job_new(course, asg, student, v, true, capability);
    if (!job || keep_submission_time(s, job) < 0) {
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

/* -1 (said, every problem) if the assignment's extensions.json is
 * broken: its results would carry late penalties counted from dates it
 * may have moved. */
static int check_extensions(const struct spool *s, const char *course, const char *asg,
                            const struct late_policy *lp, const char *cmd)
{
    struct problems p = {0};
    json_t *ext = extensions_load(s, course, asg, lp, &p);
    const char *student;
    json_t *entry;
    /* not an error: a student may be granted time before submitting anything */
    json_object_foreach(ext, student, entry)
        if (spool_name_is_valid(student) && !extensions_student_known(s, course, student))
            cli_printf(stderr, "assay %s: warning: courses/%s/%s/extensions.json: $.%s: %s has "
                       "submitted nothing to course %s (is the name misspelt?)\n", cmd, course,
                       asg, student, student, course);
    json_decref(ext);
    if (!p.count)
        return 0;
    cli_printf(stderr, "assay %s: courses/%s/%s/extensions.json is broken (%zu problem%s), so "
               "nothing was queued:\n", cmd, course, asg, p.count, p.count == 1 ? "" : "s");
    for (size_t i = 0; i < p.count; i++)
        cli_printf(stderr, "  %s\n", p.items[i]);
    cli_printf(stderr, "To fix: %s; then run assay %s again.\n", EXTENSIONS_FIX, cmd);
    problems_free(&p);
    return -1;
}

int regrade_queue_all(const struct spool *s, const char *course, const char *asg,
                      json_t *queued, const char *cmd)
{
    if (!queued) {
        fprintf(stderr, "assay %s: out of memory\n", cmd);
        return -1;
    }
    char *adir = spool_path(s, "courses/%s/%s", course, asg);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    struct err e;
    assignment_summary_load(adir, &sum, &ignored);
    char *cap = strdup(sum.capability);
    int broken = check_extensions(s, course, asg, &sum.late, cmd);
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(adir);
    if (broken < 0) {
        free(cap);
        return -1;
    }
    char rel[200];
    snprintf(rel, sizeof rel, "submissions/%s/%s", course, asg);
    struct fs_list students;
    int rc = scan_spool(s, rel, SCAN_NAMES, &students);
    if (rc < 0)
        fprintf(stderr, "assay %s: out of memory listing the students of %s\n", cmd, rel);
    for (size_t i = 0; i < students.n; i++) {
        if (regrade_student(s, course, asg, students.names[i], cap, queued, &e) < 0) {
            cli_printf(stderr, "assay %s: %s: %s\n", cmd, students.names[i], e.msg);
            rc = -1;
        }
    }
    fs_list_free(&students);
    free(cap);
    return rc;
}

int cmd_regrade(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
        {"wait", no_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL, *course = NULL, *asg = NULL;
    bool wait = false;
    double timeout = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'c': course = optarg; break;
        case 'a': asg = optarg; break;
        case 'w': wait = true; break;
        case 't': timeout = atof(optarg); break;
        case 'h': fputs(regrade_usage, stdout); return EXIT_OK;
        default: fputs(regrade_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!course || !asg || optind != argc || !spool_name_is_valid(course) || !spool_name_is_valid(asg)) {
        fputs(regrade_usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "regrade", true) < 0)
        return EXIT_FAILED;
    json_t *queued = json_array();
    int rc = regrade_queue_all(&s, course, asg, queued, "regrade") < 0 ? EXIT_FAILED : EXIT_OK;
    size_t n = json_array_size(queued);
    /* stopped before queuing anything (said): no summary of nothing, "0 failed" */
    bool stopped = rc != EXIT_OK && n == 0;
    if (!stopped)
        cli_printf(stdout, "queued %zu submission%s of %s/%s for regrading (batch priority)\n", n,
                   n == 1 ? "" : "s", course, asg);
    if (!stopped && wait && bulk_wait_and_summarize(&s, queued, timeout) != EXIT_OK)
        rc = EXIT_FAILED;
    json_decref(queued);
    spool_close(&s);
    return rc;
}
