/*
 * bypass.c - jobs the scheduler settles itself, without a worker slot.
 *
 *   no tests    an upload-only or lateness-only assignment ("tests": [])
 *               runs no student code, so the scheduler grades it on the
 *               spot with the engine (which only stages the submission
 *               and checks the required files) and records the result:
 *               no slot is held, and the late policy applies as usual.
 *   superseded  when a course enables "supersede" (course.json), a newer
 *               version of a student's submission replaces an older one
 *               still waiting in incoming/; the older job gets a result
 *               with assay.status "superseded" naming the newer job, so
 *               it is visible, never silently lost.
 *
 * Both record first and remove the job file after, like a shipper: a
 * crash in between only means recording again, which record.c treats as
 * a repeat.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "engine/engine.h"

/* Grades JOB (an assignment without tests), records the result and
 * ends the job. */
static int grade_here(struct sched *s, const struct job *job, const struct assignment *a,
                      struct err *e)
{
    char *sub = spool_path(&s->spool, "%s", job->submission), *tmp = spool_path(&s->spool, "tmp");
    if (!sub || !tmp) {
        free(sub);
        free(tmp);
        return err_set(e, "out of memory");
    }
    /* no launcher: no test runs, and the scheduler never becomes a sandbox's parent */
    struct engine_options eo = {.launcher = NULL, .work_base = tmp};
    double started = clock_wall();
    json_t *r = engine_grade(a, sub, &eo);
    char *dir = r ? spool_tmpdir(&s->spool, "result", e) : NULL;
    int rc = -1;
    if (!r)
        err_set(e, "out of memory");
    if (dir) {
        char *path = fs_join(dir, "results.json"), line[300];
        struct job_end end = {.kind = END_RESULT, .dir = dir, .info = {NULL, 0, started, clock_wall()}};
        snprintf(line, sizeof line, "recorded without a worker: %s/%s has no tests", job->course,
                 job->assignment);
        if (jsonutil_write_scratch(path, r, true, e) == 0)
            rc = queue_finish(&s->spool, job, SPOOL_INCOMING, &end, line, e);
        free(path);
        struct err ignored;   /* a leftover in tmp/ is only untidy */
        if (fs_exists(dir))
            fs_remove_tree(dir, &ignored);
    }
    json_decref(r);
    free(dir);
    free(sub);
    free(tmp);
    return rc;
}

bool bypass_no_tests(struct sched *s, const struct job *job)
{
    if (!catalog_assignment(s, job->course, job->assignment)->no_tests)
        return false;
    char *dir = spool_path(&s->spool, "courses/%s/%s", job->course, job->assignment);
    struct assignment a = {0};   /* no tests: its summary is all of it */
    struct problems p = {0};
    bool done = false;
    /* an invalid assignment takes the usual way: the worker reports it */
    if (assignment_summary_load(dir, &a.sum, &p) == 0 && a.sum.n_tests == 0) {
        struct err e;
        if (grade_here(s, job, &a, &e) < 0)
            log_msg(LOG_ERROR, job->id, "cannot record the result of an assignment without "
                    "tests: %s; it waits for a worker", e.msg);
        else
            done = true;
    }
    assignment_summary_free(&a.sum);
    problems_free(&p);
    free(dir);
    return done;
}

void bypass_supersede(struct sched *s, struct sched_job *older, const struct sched_job *newer)
{
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s.json", older->id);
    struct job job;
    struct err e;   /* unloadable: gone meanwhile, or broken, which the next scan reports */
    if (job_load(path, &job, &e) < 0) {
        free(path);
        return;   /* gone meanwhile, or broken: the next scan deals with it */
    }
    struct job_end end = {.kind = END_SUPERSEDED, .newer_id = newer->id,
                          .newer_version = newer->version};
    char line[400];
    snprintf(line, sizeof line, "superseded by version %lld (job %s) of %s/%s/%s", newer->version,
             newer->id, job.course, job.assignment, job.student);
    if (queue_finish(&s->spool, &job, SPOOL_INCOMING, &end, line, &e) < 0)
        log_msg(LOG_ERROR, older->id, "cannot record it as superseded: %s; it stays queued", e.msg);
    else
        pending_drop(s, older);
    job_free(&job);
    free(path);
}
