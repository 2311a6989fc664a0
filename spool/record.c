/*
 * record.c - puts a job's result into results/ exactly once.
 *
 * The result is assembled in tmp/, then renamed to
 * results/<course>/<assignment>/<student>/<version>/ with
 * RENAME_NOREPLACE.  If a result is already there for the same job and
 * attempt (same token), this is a repeat (a shipper restarted after
 * recording): nothing changes.  If it is another job's (a regrade of the
 * same version) or another attempt's (a requeued job replacing its error
 * result), the two directories are exchanged atomically and the old one
 * removed.
 * Whoever holds the job file calls this before removing the job, so a
 * crash between the two is harmless.
 *
 * Recording is also where the grades people gave the answers a test
 * leaves to them are folded in (spool/manual.c: they live beside the
 * results, so a regrade keeps them), before the late policy is applied (on
 * the primary, against the job's submitted_at, so a regrade keeps the
 * original submission time; contract/late.c), and where the grading time
 * and the queue wait are noted for the scheduler and `assay status`
 * (spool/stats.c), and the job counted for /metrics (spool/counters.c).
 */
#define _GNU_SOURCE
#include "spool/record.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/counters.h"
#include "spool/extensions.h"
#include "spool/manual.h"
#include "spool/scan.h"
#include "spool/stats.h"
#include "contract/assignment.h"
#include "contract/late.h"
#include "contract/results.h"

#define RESULT_MAX_BYTES (16u << 20)

static void add_history(json_t *results, const struct job *job, const struct record_info *info)
{
    json_t *assay = json_object_get(results, "assay");
    if (!json_is_object(assay)) {
        assay = json_object();
        json_object_set_new(results, "assay", assay);
    }
    char queued[32], started[32], finished[32], submitted[32];
    clock_iso8601(job->queued_at, queued);
    clock_iso8601(job->submitted_at, submitted);
    clock_iso8601(info->started_at, started);
    clock_iso8601(info->finished_at, finished);
    json_object_set_new(assay, "job_id", json_string(job->id));
    json_object_set_new(assay, "course", json_string(job->course));
    json_object_set_new(assay, "assignment", json_string(job->assignment));
    json_object_set_new(assay, "student", json_string(job->student));
    json_object_set_new(assay, "version", json_integer(job->version));
    json_object_set_new(assay, "priority", json_string(job->priority));
    json_object_set_new(assay, "graded_by", info->worker
                            ? json_pack("{s:s, s:i}", "worker", info->worker, "slot", info->slot)
                            : json_null());
    json_object_set_new(assay, "submitted_at", json_string(submitted));
    json_object_set_new(assay, "queued_at", json_string(queued));
    json_object_set_new(assay, "started_at", json_string(started));
    json_object_set_new(assay, "finished_at", json_string(finished));
    double wait = info->started_at - job->queued_at;
    json_object_set_new(assay, "wait_s", json_real(wait > 0 ? wait : 0));
    json_object_set_new(assay, "grading_s", json_real(info->finished_at - info->started_at));
    json_object_set_new(assay, "attempts", json_integer(job->attempt));
    json_object_set_new(assay, "attempt_token", job->token ? json_string(job->token) : json_null());
}

/* Says in RESULTS' assay.late (and the central log) that its penalty
 * may be wrong: the extensions file is broken (P) where it could change
 * this student's due date. */
static void flag_uncertain_due(const struct job *job, json_t *late, bool extended,
                               const struct problems *p)
{
    struct buf msg = BUF_INIT;
    int rc = buf_printf(&msg, "The late penalty counts from %s, because the extensions file "
                        "is broken: %s", extended ? "the student's extension"
                                                  : "the assignment's due date",
                        p->count ? p->items[0] : "?");
    if (rc == 0 && p->count > 1)
        rc = buf_printf(&msg, " (and %zu more problem%s)", p->count - 1, p->count > 2 ? "s" : "");
    if (rc == 0)
        rc = buf_printf(&msg, ". To fix: %s, then regrade.", EXTENSIONS_FIX);
    /* out of memory: the short form still keeps the penalty from passing for certain */
    const char *text = rc == 0 ? buf_str(&msg) : "The late penalty may be wrong: the "
                                                 "extensions file is broken.";
    json_object_set_new(late, "error", json_string(text));
    log_msg(LOG_ERROR, job->id, "%s", text);
    buf_free(&msg);
}

/* Applies the assignment's late policy (if any) to RESULTS.  A broken
 * extensions.json neither waives a penalty nor loses the work: where it
 * leaves the student's due date uncertain, the penalty counts from what
 * can be read (the student's own entry if it is valid, else the
 * assignment's due date), and the result says so (assay.late.error; the
 * student view in words for the student) for the instructor to fix the
 * file and regrade, which `assay regrade` insists on. */
static void apply_late_policy(const struct spool *s, const struct job *job, json_t *results)
{
    char *dir = spool_path(s, "courses/%s/%s", job->course, job->assignment);
    struct assignment_summary sum;
    struct problems p = {0};
    assignment_summary_load(dir, &sum, &p);
    problems_free(&p);   /* the rest of the file is not this step's concern */
    if (sum.late.penalised && sum.late_ok) {
        double due;
        bool extended;
        int certain = extensions_due_for(s, job->course, job->assignment, job->student,
                                         &sum.late, &due, &extended, &p);
        late_apply(results, &sum.late, due, extended, job->submitted_at);
        json_t *late = json_object_get(json_object_get(results, "assay"), "late");
        if (certain < 0 && late)   /* on time whatever the file says: nothing to doubt */
            flag_uncertain_due(job, late, extended, &p);
    }
    problems_free(&p);
    assignment_summary_free(&sum);
    free(dir);
}

/* Folds the grades people gave into RESULTS (before the late policy,
 * which counts from the combined score).  Grades that cannot be read
 * leave the answers pending, which every view then shows; the log says why. */
static void apply_manual_grades(const struct spool *s, const char *id, json_t *results)
{
    struct err e;
    int applied = manual_apply(s, results, &e);
    if (applied < 0)
        log_msg(LOG_ERROR, id, "the grades given by hand are not in this result: %s", e.msg);
    else if (applied > 0 && results_refresh_score_line(results) < 0)
        log_msg(LOG_WARN, id, "out of memory rewriting the score line of the result");
}

json_t *record_read(const struct spool *s, const char *rel)
{
    char *path = spool_path(s, "%s/results.json", rel);
    struct err ignored;   /* absent or unreadable both mean: no result to show */
    json_t *r = fs_exists(path) ? jsonutil_load_file(path, RESULT_MAX_BYTES, &ignored) : NULL;
    free(path);
    return r;
}

json_t *record_latest(const struct spool *s, const char *course, const char *assignment,
                      const char *student, long long *version)
{
    size_t n;
    long long *v = spool_versions(s, "results", course, assignment, student, &n);
    json_t *r = NULL;
    for (size_t i = n; i-- > 0 && !r;) {
        char rel[400];
        snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, assignment, student, v[i]);
        if ((r = record_read(s, rel)) && version)
            *version = v[i];
    }
    free(v);
    return r;
}

bool record_is_of(const json_t *results, const struct job *job)
{
    const json_t *a = json_object_get(results, "assay");
    return !strcmp(jsonutil_str(a, "job_id", ""), job->id) &&
           !strcmp(jsonutil_str(a, "attempt_token", ""), job->token ? job->token : "");
}

/* Moves TMP into FINAL; 1 if FINAL already holds this attempt's result. */
static int put_in_place(const char *tmp, const char *final, const struct job *job, struct err *e)
{
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0)
        return 0;
    if (errno != EEXIST && errno != ENOTEMPTY)
        return err_sys(e, "cannot move the result to %s", final);
    char *path = fs_join(final, "results.json");
    struct err ignored;   /* unreadable is not this attempt's: exchanged below, as another's */
    json_t *old = jsonutil_load_file(path, RESULT_MAX_BYTES, &ignored);
    free(path);
    bool same = old && record_is_of(old, job);
    json_decref(old);
    if (same)
        return 1;
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) < 0)
        return err_sys(e, "cannot replace the result in %s", final);
    return 0;   /* the old result is now at tmp and is removed by the caller */
}

/* The verdicts that mean a run hit one of its limits, and the name of
 * that limit in assay_sandbox_limit_hits_total. */
static const struct {
    enum verdict verdict;
    const char *limit;
} limit_verdicts[] = {
    {VERDICT_TIMEOUT, "time"}, {VERDICT_MEMORY_LIMIT, "memory"},
    {VERDICT_OUTPUT_LIMIT, "output"}, {VERDICT_DISK_LIMIT, "disk"},
};
#define N_LIMITS (sizeof limit_verdicts / sizeof *limit_verdicts)

/* What the metrics count of a result, taken before it is recorded. */
struct result_tally {
    char outcome[24];           /* graded, superseded, or the error's category */
    int limit_hits[N_LIMITS];
};

static void tally_result(const json_t *r, struct result_tally *t)
{
    const json_t *assay = json_object_get(r, "assay");
    const char *status = jsonutil_str(assay, "status", "graded");
    snprintf(t->outcome, sizeof t->outcome, "%s",
             !strcmp(status, "superseded") ? "superseded"
             : jsonutil_str(json_object_get(assay, "error"), "category", "graded"));
    memset(t->limit_hits, 0, sizeof t->limit_hits);
    size_t i;
    const json_t *test;
    json_array_foreach(json_object_get(r, "tests"), i, test)
        for (size_t k = 0; k < N_LIMITS; k++)
            if (!strcmp(jsonutil_str(test, "verdict", ""), verdict_name(limit_verdicts[k].verdict)))
                t->limit_hits[k]++;
}

/* Counts JOB, just recorded, for /metrics: completed, with its outcome;
 * when a worker graded it, its wait and run times and the limits hit. */
static void count_recorded(const struct spool *s, const struct job *job,
                           const struct record_info *info, const struct result_tally *t)
{
    struct buf course = BUF_INIT, done = BUF_INIT, run = BUF_INIT, limits[N_LIMITS];
    counters_label(&course, "course", job->course);
    buf_printf(&done, "%s", buf_str(&course));
    counters_label(&done, "outcome", t->outcome);
    buf_printf(&run, "%s", buf_str(&course));
    counters_label(&run, "capability", job->capability);
    struct counter_inc incs[3 + N_LIMITS];
    size_t n = 0;
    incs[n++] = (struct counter_inc){"assay_jobs_completed_total", buf_str(&done), 1, false};
    if (info->worker) {
        incs[n++] = (struct counter_inc){"assay_job_wait_seconds", buf_str(&course),
                                         fmax(0, info->started_at - job->queued_at), true};
        incs[n++] = (struct counter_inc){"assay_job_run_seconds", buf_str(&run),
                                         fmax(0, info->finished_at - info->started_at), true};
    }
    for (size_t k = 0; k < N_LIMITS; k++) {
        limits[k] = (struct buf)BUF_INIT;
        counters_label(&limits[k], "limit", limit_verdicts[k].limit);
        if (t->limit_hits[k])
            incs[n++] = (struct counter_inc){"assay_sandbox_limit_hits_total",
                                             buf_str(&limits[k]), t->limit_hits[k], false};
    }
    struct err e;
    if (counters_add(s, incs, n, &e) < 0)
        log_msg(LOG_WARN, job->id, "the result is recorded, but not counted for the metrics: %s",
                e.msg);
    buf_free(&course);
    buf_free(&done);
    buf_free(&run);
    for (size_t k = 0; k < N_LIMITS; k++)
        buf_free(&limits[k]);
}

int record_result(const struct spool *s, const struct job *job, const char *dir,
                  const struct record_info *info, struct err *e)
{
    char *path = fs_join(dir, "results.json");
    json_t *r = jsonutil_load_file(path, RESULT_MAX_BYTES, e);
    int rc = -1;
    char outcome[24];   /* for the statistics: r is gone by then */
    snprintf(outcome, sizeof outcome, "%s", jsonutil_str(json_object_get(json_object_get(r,
             "assay"), "error"), "category", "graded"));
    struct err why;
    struct manual_tally tally;
    results_manual_tally(r, &tally);
    /* only a result with answers graded by hand has grades to fold in */
    int lock = tally.items ? manual_lock(s, job->course, job->assignment, job->student, &why) : -1;
    if (tally.items && lock < 0)   /* the grades are still read; one given this instant waits for the next regrade */
        log_msg(LOG_WARN, job->id, "recording without the manual grades' lock: %s", why.msg);
    struct result_tally counts;
    tally_result(r, &counts);
    if (r && json_is_object(r)) {
        add_history(r, job, info);
        apply_manual_grades(s, job->id, r);
        apply_late_policy(s, job, r);
        json_t *student = results_student_view(r, clock_wall());
        char *spath = fs_join(dir, "results.student.json");
        /* every file on disk (the worker's log, feedback files) before
         * the rename that records the result */
        if (jsonutil_write_scratch(path, r, false, e) == 0 &&
            jsonutil_write_scratch(spath, student, false, e) == 0 && fs_sync_tree(dir, e) == 0) {
            char *rel = job_result_rel(job), *final = rel ? spool_path(s, "%s", rel) : NULL;
            char *parent = final ? strdup(final) : NULL;
            if (!parent)
                err_set(e, "out of memory");
            else
                *strrchr(parent, '/') = '\0';
            if (parent && fs_mkdir_p_durable(parent, 0755, e) == 0)
                rc = put_in_place(dir, final, job, e);
            /* on disk before anyone is told; a repeat syncs too, in case
             * the first time was killed between rename and sync */
            if (rc >= 0 && fs_sync_dir(parent, e) < 0)
                rc = -1;
            free(parent);
            free(final);
            free(rel);
        }
        free(spath);
        json_decref(student);
    } else if (r) {
        err_set(e, "%s does not hold a JSON object", path);
    }
    if (lock >= 0)
        close(lock);
    json_decref(r);
    free(path);
    struct err ignored;   /* a leftover in tmp/ is only untidy */
    if (rc != -1 && fs_exists(dir))
        fs_remove_tree(dir, &ignored);
    if (rc == 0 && info->worker &&
        stats_note_job(s, job->course, job->assignment, fmax(0, info->started_at - job->queued_at),
                       info->finished_at - info->started_at, info->finished_at, outcome, &why) < 0)
        log_msg(LOG_WARN, job->id, "the result is recorded, but not in the statistics: %s",
                why.msg);
    if (rc == 0)
        count_recorded(s, job, info, &counts);
    return rc;
}

int record_refresh_manual(const struct spool *s, const char *course, const char *asg,
                          const char *student, long long version, struct err *e)
{
    char *dir = spool_path(s, "results/%s/%s/%s/%lld", course, asg, student, version);
    char *path = dir ? fs_join(dir, "results.json") : NULL;
    char *spath = dir ? fs_join(dir, "results.student.json") : NULL;
    json_t *r = spath ? jsonutil_load_file(path, RESULT_MAX_BYTES, e) : NULL, *view = NULL;
    const json_t *a = json_object_get(r, "assay");
    struct job job = {.id = jsonutil_str(a, "job_id", "?"), .course = course, .assignment = asg,
                      .student = student, .version = version};
    int rc = -1;
    if (!spath)
        err_set(e, "out of memory");
    else if (r && !clock_parse_iso8601(jsonutil_str(a, "submitted_at", ""), &job.submitted_at))
        err_set(e, "%s has no submitted_at to count a late penalty from", path);
    else if (r) {
        late_undo(r);
        if (manual_apply(s, r, e) >= 0) {
            apply_late_policy(s, &job, r);
            view = results_refresh_score_line(r) == 0 ? results_student_view(r, clock_wall()) : NULL;
            if (!view)
                err_set(e, "out of memory");
            else if (jsonutil_save_file(path, r, e) == 0 && jsonutil_save_file(spath, view, e) == 0)
                rc = 0;
        }
    }
    json_decref(view);
    json_decref(r);
    free(spath);
    free(path);
    free(dir);
    return rc;
}

int record_error(const struct spool *s, const struct job *job, const char *category,
                 const char *message, const struct record_info *info, struct err *e)
{
    char *dir = spool_tmpdir(s, "error", e);
    if (!dir)
        return -1;
    json_t *r = json_pack("{s:f, s:f, s:f, s:s, s:[], s:{s:s, s:{s:s, s:s}, s:[]}}",
                          "score", 0.0, "max_score", 0.0, "execution_time", 0.0,
                          "output", message, "tests", "assay", "status", "error",
                          "error", "category", category, "message", message, "warnings");
    char *path = fs_join(dir, "results.json");
    int rc = jsonutil_write_scratch(path, r, false, e);   /* record_result syncs */
    free(path);
    json_decref(r);
    struct err ignored;   /* *e holds the failure; a leftover in tmp/ is only untidy */
    if (rc == 0)
        rc = record_result(s, job, dir, info, e);
    else
        fs_remove_tree(dir, &ignored);
    free(dir);
    return rc;
}

int record_superseded(const struct spool *s, const struct job *job, const char *newer_id,
                      long long newer_version, struct err *e)
{
    char *dir = spool_tmpdir(s, "superseded", e);
    if (!dir)
        return -1;
    char msg[400];
    snprintf(msg, sizeof msg, "Not graded: version %lld of this submission replaced it while "
             "it was still waiting (job %s); the newer version is graded instead.",
             newer_version, newer_id);
    json_t *r = json_pack("{s:f, s:f, s:f, s:s, s:[], s:{s:s, s:{s:s, s:I}, s:n, s:[]}}",
                          "score", 0.0, "max_score", 0.0, "execution_time", 0.0,
                          "output", msg, "tests", "assay", "status", "superseded",
                          "superseded_by", "job_id", newer_id, "version",
                          (json_int_t)newer_version, "error", "warnings");
    char *path = fs_join(dir, "results.json");
    int rc = jsonutil_write_scratch(path, r, false, e);   /* record_result syncs */
    free(path);
    json_decref(r);
    double now = clock_wall();
    struct record_info info = {NULL, 0, now, now};
    struct err ignored;   /* *e holds the failure; a leftover in tmp/ is only untidy */
    if (rc == 0)
        rc = record_result(s, job, dir, &info, e);
    else
        fs_remove_tree(dir, &ignored);
    free(dir);
    return rc;
}
