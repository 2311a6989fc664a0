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
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/job.h"
#include "spool/record.h"
#include "engine/engine.h"

/* A launcher that runs nothing: an assignment without tests never asks
 * for a run, and the scheduler must not become a sandbox's parent. */
static int none_adopt_dir(struct launcher *self, const char *dir, struct err *e)
{
    (void)self;
    (void)dir;
    (void)e;
    return 0;
}

static int none_run(struct launcher *self, const struct run_spec *spec, struct run_result *res,
                    struct err *e)
{
    (void)self;
    (void)spec;
    (void)res;
    return err_set(e, "the scheduler runs no tests");
}

static void none_destroy(struct launcher *self)
{
    (void)self;
}

static struct launcher none_launcher = {
    .name = "none", .slot = -1, .adopt_dir = none_adopt_dir, .run = none_run,
    .destroy = none_destroy,
};

static void remove_incoming(struct sched *s, const char *name)
{
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
    unlink(path);
    free(path);
}

/* Grades JOB (an assignment without tests) and records the result. */
static int grade_here(struct sched *s, const struct job *job, const struct assignment *a,
                      struct err *e)
{
    char *sub = spool_path(&s->spool, "%s", job->submission), *tmp = spool_path(&s->spool, "tmp");
    struct engine_options eo = {.launcher = &none_launcher, .work_base = tmp};
    double started = clock_wall();
    json_t *r = engine_grade(a, sub, &eo);
    char *dir = r ? spool_tmpdir(&s->spool, "result", e) : NULL;
    int rc = -1;
    if (!r)
        err_set(e, "out of memory");
    if (dir) {
        char *path = fs_join(dir, "results.json");
        struct record_info info = {NULL, 0, started, clock_wall()};
        if (jsonutil_write_scratch(path, r, true, e) == 0)
            rc = record_result(&s->spool, job, dir, &info, e);
        free(path);
        struct err ignored;
        if (fs_exists(dir))
            fs_remove_tree(dir, &ignored);
    }
    json_decref(r);
    free(dir);
    free(sub);
    free(tmp);
    return rc;
}

bool bypass_no_tests(struct sched *s, const struct job *job, const char *name)
{
    if (!catalog_assignment(s, job->course, job->assignment)->no_tests)
        return false;
    char *dir = spool_path(&s->spool, "courses/%s/%s", job->course, job->assignment);
    struct assignment a;
    struct problems p = {0};
    bool done = false;
    /* an invalid assignment takes the usual way: the worker reports it */
    if (assignment_load(dir, &a, &p) == 0 && a.n_tests == 0) {
        struct err e;
        if (grade_here(s, job, &a, &e) < 0) {
            log_msg(LOG_ERROR, job->id, "cannot record the result of an assignment without "
                    "tests: %s; it waits for a worker", e.msg);
        } else {
            /* the line first: whoever the notice wakes may read the log */
            remove_incoming(s, name);
            log_msg(LOG_INFO, job->id, "recorded without a worker: %s/%s has no tests",
                    job->course, job->assignment);
            spool_notify(&s->spool, job->id);
            done = true;
        }
    }
    assignment_free(&a);
    problems_free(&p);
    free(dir);
    return done;
}

void bypass_supersede(struct sched *s, struct sched_job *older, const struct sched_job *newer)
{
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s.json", older->id);
    struct job job;
    struct err e;
    if (job_load(path, &job, &e) < 0) {
        free(path);
        return;   /* gone meanwhile, or broken: the next scan deals with it */
    }
    if (record_superseded(&s->spool, &job, newer->id, newer->version, &e) < 0) {
        log_msg(LOG_ERROR, older->id, "cannot record it as superseded: %s; it stays queued", e.msg);
    } else {
        unlink(path);
        log_msg(LOG_INFO, older->id, "superseded by version %lld (job %s) of %s/%s/%s",
                newer->version, newer->id, job.course, job.assignment, job.student);
        spool_notify(&s->spool, job.id);
        pending_drop(s, older);
    }
    job_free(&job);
    free(path);
}
