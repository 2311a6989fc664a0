/*
 * daemon_grade.c - assay-worker's grading of one job, in a process of
 * its own (`assay-worker grade-one`), started by the daemon (daemon.c).
 *
 * A job archive holds job.json, submission/ and assignment/.  The grader
 * unpacks it, validates the assignment, runs the engine, and writes a
 * result archive of the same name (results.json, feedback files,
 * worker.log with this job's log lines, traces.log if something in
 * Assay crashed) as outbox/.NAME.part and renames it into place.  A malformed
 * archive or assignment still gives a result, an error one, so the
 * primary always learns what happened.  If this process itself crashes,
 * its crash handler leaves a backtrace that the daemon sends back.
 */
#define _GNU_SOURCE
#include "worker/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/buf.h"
#include "common/crash.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "engine/assignment.h"
#include "engine/engine.h"
#include "contract/worker_dir.h"

static void install_crash_handler(const char *dir, const char *name)
{
    char *path = worker_trace_path(dir, name);
    if (!path)
        return;   /* out of memory: a crash then goes unreported, nothing else */
    crash_install(path, "assay-worker grade-one");
    free(path);
}

/* Zips RESDIR into D/outbox/NAME, written as outbox/.NAME.part (tmp/ may
 * be another file system) and renamed. */
static int publish(const char *dir, const char *name, const char *resdir, struct err *e)
{
    char *partial = worker_part_path(dir, WORKER_OUTBOX, name);
    char *final = worker_path(dir, WORKER_OUTBOX, name);
    int rc = -1;
    if (!partial || !final)
        err_set(e, "out of memory");
    else if (archive_create(partial, &(struct archive_part){.dir = resdir, .prefix = ""}, 1, e) == 0) {
        rc = rename(partial, final) == 0 ? 0 : err_sys(e, "cannot move the result to %s", final);
    }
    if (rc < 0 && partial)
        unlink(partial);   /* *e holds the failure; the daemon clears .part files at start too */
    free(partial);
    free(final);
    return rc;
}

void worker_job_id(const char *name, char *out, size_t n)
{
    char token[128];
    if (!worker_archive_parse(name, out, token, n))
        snprintf(out, n, "%s", name);   /* not ours: named as it came */
}

static int copy_text_into(const char *resdir, const char *file, const char *src, struct err *e)
{
    struct buf b = BUF_INIT;
    int rc = fs_read_file(src, 4u << 20, &b, e);
    char *path = fs_join(resdir, file);
    if (rc == 0 && b.len > 0)
        rc = fs_write_atomic(path, b.data, b.len, e);
    free(path);
    buf_free(&b);
    return rc;
}

static const struct launcher_type *sandbox_type;   /* NULL: the registry's default */
static const struct sandbox_site *sandbox_site;    /* NULL: the unnamed installation */

void worker_set_sandbox(const struct launcher_type *type, const struct sandbox_site *site)
{
    sandbox_type = type;
    sandbox_site = site;
}

struct launcher *worker_own_launcher(struct err *e)
{
    const struct launcher_type *t = sandbox_type ? sandbox_type : launcher_find(NULL);
    return t->create(sandbox_site, e);
}

static json_t *error_results(const char *category, const char *message)
{
    return json_pack("{s:f, s:f, s:f, s:s, s:[], s:{s:s, s:{s:s, s:s}, s:[]}}",
                     "score", 0.0, "max_score", 0.0, "execution_time", 0.0,
                     "output", message, "tests", "assay", "status", "error",
                     "error", "category", category, "message", message, "warnings");
}

/* Saves R into RESDIR and publishes it as D/outbox/NAME (the name says
 * which job and attempt it is for). */
static int finish(const char *dir, const char *name, const char *resdir, const json_t *r,
                  struct err *e)
{
    char *path = fs_join(resdir, "results.json");
    int rc = jsonutil_write_scratch(path, r, false, e);
    free(path);
    if (rc == 0)
        rc = publish(dir, name, resdir, e);
    return rc;
}

int worker_write_error(const char *dir, const char *name, const char *category,
                       const char *message, const char *trace)
{
    struct err e;
    char id[128];
    worker_job_id(name, id, sizeof id);
    char *base = worker_path(dir, WORKER_TMP, NULL), *resdir = NULL;
    int rc = fs_mkdtemp(base, "error", &resdir, &e);
    free(base);
    if (rc == 0 && trace && fs_exists(trace) && copy_text_into(resdir, "traces.log", trace, &e) < 0)
        log_msg(LOG_WARN, id, "the error result goes without the stack trace: %s", e.msg);
    json_t *r = rc == 0 ? error_results(category, message) : NULL;
    if (rc == 0 && !r)
        rc = err_set(&e, "out of memory");
    if (rc == 0)
        rc = finish(dir, name, resdir, r, &e);
    if (rc < 0)   /* the shipper then waits out the job's time limit and tries again */
        log_msg(LOG_ERROR, id, "cannot write the error result (%s): %s", message, e.msg);
    struct err ignored;   /* tmp/ is emptied when the daemon starts */
    if (resdir)
        fs_remove_tree(resdir, &ignored);
    free(resdir);
    json_decref(r);
    return rc;
}

/* An assignment that names no root file system gets its course's, which
 * the shipper sent in job.json (course.json "rootfs"). */
static void use_course_rootfs(const char *jobdir, struct assignment *a, const char *id)
{
    if (a->sum.rootfs)
        return;
    char *path = fs_join(jobdir, "job.json");
    struct err e;
    json_t *job = jsonutil_load_file(path, 1u << 20, &e);
    if (!job && (!path || fs_exists(path)))   /* no job.json: an archive packed by hand */
        log_msg(LOG_WARN, id, "the course's root file system is not known: %s", e.msg);
    free(path);
    const char *rootfs = jsonutil_str(job, "rootfs", NULL);
    if (rootfs && rootfs_path_ok(rootfs)) {
        json_object_set_new(a->sum.json, "rootfs", json_string(rootfs));
        a->sum.rootfs = json_string_value(json_object_get(a->sum.json, "rootfs"));
    }
    json_decref(job);
}

/* Feedback files the kinds write (feedback/...) go into RESDIR, so they
 * travel with results.json to results/ on the primary.  NULL with *E
 * and *CATEGORY saying why when not even the engine could run: an
 * invalid assignment is the instructor's to fix, anything else (no
 * memory, no sandbox) this worker's. */
static json_t *grade_unpacked(const char *jobdir, const char *resdir, struct launcher *given,
                              const char *id, const char **category, struct err *e)
{
    *category = "infrastructure";
    char *adir = fs_join(jobdir, "assignment"), *sdir = fs_join(jobdir, "submission");
    char *work = fs_join(jobdir, "..");
    struct assignment a;
    struct problems p = {0};
    json_t *r = NULL;
    if (!sdir || !work) {
        memset(&a, 0, sizeof a);
        err_set(e, "out of memory");
    } else if (assignment_load(adir, &a, &p) < 0) {
        struct buf msg = BUF_INIT;
        buf_printf(&msg, "The assignment is invalid (%zu problem%s): ", p.count,
                   p.count == 1 ? "" : "s");
        for (size_t i = 0; i < p.count && i < 10; i++)
            buf_printf(&msg, "%s%s", i ? "; " : "", p.items[i]);
        buf_puts(&msg, ". Fix assignment.json and regrade.");
        err_set(e, "%s", buf_str(&msg));
        buf_free(&msg);
        *category = "assignment";
    } else {
        use_course_rootfs(jobdir, &a, id);
        struct launcher *l = given ? given : worker_own_launcher(e);
        if (!l)
            err_prefix(e, "the worker cannot set up its sandbox");
        if (l) {
            /* a launcher given is the daemon's, which made its slot clean
             * just before this grader was forked */
            struct engine_options o = {.launcher = l, .work_base = work, .files_dir = resdir,
                                       .slot_cleaned = given != NULL};
            if (!(r = engine_grade(&a, fs_exists(sdir) ? sdir : jobdir, &o)))
                err_set(e, "out of memory");
            if (!given)
                l->destroy(l);
        }
    }
    free(work);
    problems_free(&p);
    assignment_free(&a);
    free(adir);
    free(sdir);
    return r;
}

/* The line that says how grading ended: an error of this worker's own
 * (category "infrastructure") is logged as an error, for `assay logs
 * --errors` on the primary, which also tries the job again elsewhere;
 * the student's and the instructor's errors are graded outcomes. */
static void log_graded(const char *id, const json_t *r)
{
    const json_t *error = json_object_get(json_object_get(r, "assay"), "error");
    const char *category = jsonutil_str(error, "category", NULL);
    double score = jsonutil_num(r, "score", 0), max = jsonutil_num(r, "max_score", 0);
    if (category && !strcmp(category, "infrastructure"))
        log_msg(LOG_ERROR, id, "not graded (infrastructure): %s",
                jsonutil_str(error, "message", ""));
    else if (category)
        log_msg(LOG_INFO, id, "graded: score %g of %g, with an error (%s): %s", score, max,
                category, jsonutil_str(error, "message", ""));
    else
        log_msg(LOG_INFO, id, "graded: score %g of %g", score, max);
}

int worker_grade_one(const char *dir, const char *name, const char *worker,
                     struct launcher *launcher)
{
    log_set_worker(worker);
    install_crash_handler(dir, name);
    char *archive = worker_path(dir, WORKER_ACTIVE, name), *tmp = worker_path(dir, WORKER_TMP, NULL);
    char *jobdir = NULL, *resdir = NULL;
    struct err e = {{0}};
    char id[128];
    worker_job_id(name, id, sizeof id);
    if (!archive || !tmp)
        err_set(&e, "out of memory");
    if (!archive || !tmp || fs_mkdtemp(tmp, "job", &jobdir, &e) < 0 || fs_mkdtemp(tmp, "res", &resdir, &e) < 0) {
        log_msg(LOG_ERROR, id, "cannot create the work directories: %s", e.msg);
        return worker_write_error(dir, name, "infrastructure", "The worker could not create "
                                  "its work directories (is its disk full?).", NULL);
    }
    /* jobdir stays 0700: it holds the assignment's hidden files */
    char *joblog = fs_join(resdir, "worker.log");
    int logfd = joblog ? open(joblog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
    if (logfd < 0)
        log_msg(LOG_WARN, id, "the job's log lines stay in this worker's log: cannot create "
                "%s: %s", joblog ? joblog : "worker.log", joblog ? strerror(errno) : "out of memory");
    log_also(logfd);
    log_msg(LOG_INFO, id, "grading started");
    struct archive_limits lim = {512ull << 20, 128ull << 20, 20000};
    json_t *r = NULL;
    const char *category = "infrastructure";   /* the archive came broken, or the disk is full */
    if (archive_extract(archive, jobdir, &lim, &e) == 0)
        r = grade_unpacked(jobdir, resdir, launcher, id, &category, &e);
    if (r) {
        log_graded(id, r);
    } else {
        log_msg(!strcmp(category, "infrastructure") ? LOG_ERROR : LOG_WARN, id,
                "not graded (%s): %s", category, e.msg);
        r = error_results(category, e.msg);
    }
    int rc = finish(dir, name, resdir, r, &e);
    if (rc < 0)
        rc = worker_write_error(dir, name, "infrastructure", e.msg, NULL);
    log_also(-1);
    if (logfd >= 0)
        close(logfd);
    json_decref(r);
    const char *dirs[] = {jobdir, resdir};
    for (int i = 0; i < 2; i++)
        if (fs_remove_tree(dirs[i], &e) < 0)   /* tmp/ is emptied when the daemon starts */
            log_msg(LOG_WARN, id, "%s; it stays until assay-worker restarts", e.msg);
    free(joblog);
    free(archive);
    free(tmp);
    free(jobdir);
    free(resdir);
    return rc;
}
