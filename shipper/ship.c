/*
 * ship.c - one job's trip: from the slot directory to the worker and
 * back into results/.
 *
 *   begin (or resume) an attempt: a new random token, written to the job
 *   pack job.json + submission/ + assignment/ into one zip
 *   push it through the transport, wait for the result, pull it
 *   check the result names this job and this attempt's token
 *   append the worker's log lines and stack traces to the central logs
 *   record the result (spool/record.c), then remove the job file
 *
 * Anything that goes wrong on the way (the worker unreachable or silent
 * past the job's limits plus a margin, a broken archive) defers the job
 * with exponential backoff; after SHIPPER_MAX_ATTEMPTS it goes to
 * failed/ with a .reason and the student gets an error result saying
 * what happened.  Every step is safe to repeat after a crash.
 */
#define _GNU_SOURCE
#include "shipper/shipper.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/backoff.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/course.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "contract/worker_dir.h"
#include "contract/assignment.h"

#define RESULT_ARCHIVE_LIMIT (256ull << 20)

double shipper_now(const struct shipper *sh)
{
    return sh->now ? sh->now(sh->now_ctx) : clock_wall();
}

static char *archive_name(const struct job *job)
{
    char name[256];
    return worker_archive_name(name, sizeof name, job->id, job->token) < 0 ? NULL : strdup(name);
}

/* Moves a job file the shipper cannot even read to failed/, with why. */
static void fail_unreadable(struct shipper *sh, const char *name, const char *why)
{
    struct err e;
    if (queue_fail(&sh->spool, sh->slot_dir, name, NULL, why, NULL, shipper_now(sh), &e) < 0)
        log_msg(LOG_ERROR, NULL, "cannot move %s out of slot %s: %s", name, sh->slot_name, e.msg);
}

/* True when results/ already holds the result of this job's current
 * attempt (recorded before a crash, with the job file not yet removed). */
static bool already_recorded(const struct shipper *sh, const struct job *job)
{
    char *rel = job_result_rel(job);
    json_t *r = rel ? record_read(&sh->spool, rel) : NULL;   /* out of memory: ship it again */
    bool same = r && record_is_of(r, job);
    json_decref(r);
    free(rel);
    return same;
}

/* A new attempt with a new token, unless this slot's attempt is being
 * resumed after a restart (then the worker may already have it). */
static int begin_attempt(struct shipper *sh, struct job *job, struct err *e)
{
    int rc = queue_claim(&sh->spool, job, sh->slot_dir, sh->slot_name, shipper_now(sh), e);
    if (rc == 1)
        log_msg(LOG_INFO, job->id, "resuming attempt %d in slot %s", job->attempt, sh->slot_name);
    else if (rc == 0)
        log_msg(LOG_INFO, job->id, "attempt %d started in slot %s (%s/%s/%s version %lld)",
                job->attempt, sh->slot_name, job->course, job->assignment, job->student,
                job->version);
    return rc < 0 ? -1 : 0;
}

/* The longest the worker may take: every test's wall limit, half as much
 * again, plus the worker's margin (workers.json timeout_margin_s).  With
 * prefetch a job may first wait in the worker's inbox while a slot
 * finishes another: twice that. */
static double job_timeout(const struct shipper *sh, const struct job *job)
{
    char *dir = spool_path(&sh->spool, "courses/%s/%s", job->course, job->assignment);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    assignment_summary_load(dir, &sum, &ignored);
    double grading = sh->worker->timeout_margin_s + 1.5 * sum.wall_budget_s;
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(dir);
    return sh->worker->prefetch > 0 ? 2 * grading : grading;
}

/* A course may name the root file system its runs use (course.json
 * "rootfs"); the worker, which has no course.json, finds it in job.json.
 * A broken course.json is the scheduler's to report: here it means none. */
static void add_course_rootfs(struct shipper *sh, const struct job *job, json_t *sent)
{
    struct course_config cfg;
    struct problems p = {0};
    if (course_config_load(&sh->spool, job->course, &cfg, &p) == 0 && cfg.rootfs[0])
        json_object_set_new(sent, "rootfs", json_string(cfg.rootfs));
    problems_free(&p);
}

/* Packs the job into FD, a file in memory: archives never touch the
 * spool's disk (creating and removing a file per job costs more than the
 * copy, on ext4 without a journal far more). */
static int pack_job(struct shipper *sh, const struct job *job, int fd, const char *name,
                    struct err *e)
{
    json_t *sent = json_copy(job->json);
    add_course_rootfs(sh, job, sent);
    char *jobjson = jsonutil_dump(sent);
    json_decref(sent);
    if (!jobjson)
        return err_set(e, "out of memory");
    char *sub = spool_path(&sh->spool, "%s", job->submission);
    char *asg = spool_path(&sh->spool, "courses/%s/%s", job->course, job->assignment);
    struct archive_part parts[] = {{.prefix = "job.json", .data = jobjson, .len = strlen(jobjson)},
                                   {.dir = sub, .prefix = "submission/"},
                                   {.dir = asg, .prefix = "assignment/"}};
    int rc = archive_create_fd(fd, name, parts, 3, e);
    free(jobjson);
    free(sub);
    free(asg);
    return rc;
}

/* Reads the file NAME the worker sent back in RESDIR into B; false
 * when there is none (traces.log comes only after a crash) or it cannot
 * be read (logged). */
static bool read_sent(const struct job *job, const char *resdir, const char *name, struct buf *b)
{
    char *path = fs_join(resdir, name);
    struct err e;
    bool ok = fs_read_file(path, 4u << 20, b, &e) == 0;
    if (!ok && (!path || fs_exists(path)))
        log_msg(LOG_WARN, job->id, "cannot forward the worker's %s: %s", name, e.msg);
    free(path);
    return ok;
}

/* Appends LEN bytes of DATA (the worker's WHAT) to the central log PATH. */
static void append_to(const struct job *job, const char *path, const char *data, size_t len,
                      const char *what)
{
    int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd < 0 || write(fd, data, len) < 0)
        log_msg(LOG_WARN, job->id, "cannot append the worker's %s to %s: %s", what,
                path ? path : "the central logs", path ? strerror(errno) : "out of memory");
    if (fd >= 0)
        close(fd);
}

/* Appends the worker's log lines and stack traces to the central logs. */
static void forward_logs(struct shipper *sh, const struct job *job, const char *resdir)
{
    struct buf b = BUF_INIT;
    char *central = spool_path(&sh->spool, "logs/assay.log");
    char *tlog = spool_path(&sh->spool, "logs/traces.log");
    if (read_sent(job, resdir, "worker.log", &b) && b.len > 0)
        append_to(job, central, b.data, b.len, "log lines");
    buf_reset(&b);
    if (read_sent(job, resdir, "traces.log", &b) && b.len > 0) {
        struct buf out = BUF_INIT;
        char *save = NULL;
        for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            buf_printf(&out, "[worker %s job %s] %s\n", sh->worker->name, job->id, line);
        append_to(job, tlog, out.data, out.len, "stack traces");
        log_msg(LOG_ERROR, job->id, "worker %s sent back a stack trace (see logs/traces.log)",
                sh->worker->name);
        buf_free(&out);
    }
    buf_free(&b);
    free(central);
    free(tlog);
}

/* The archive pulled is the one named "<job id>.<token>.zip", so it is
 * this attempt's; earlier workers also echoed id and token in job.json,
 * checked here when present. */
static int check_result(const struct job *job, const char *resdir, struct err *e)
{
    char *path = fs_join(resdir, "job.json"), *rpath = fs_join(resdir, "results.json");
    bool echoed = fs_exists(path);
    json_t *j = echoed ? jsonutil_load_file(path, 1u << 20, e) : NULL;   /* none: nothing to check */
    int rc = -1;
    if (!path || !rpath)
        err_set(e, "out of memory");
    else if (echoed && !j)
        rc = -1;   /* *e says why it cannot be read */
    else if (!fs_exists(rpath))
        err_set(e, "the result archive has no results.json");
    else if (strcmp(jsonutil_str(j, "id", job->id), job->id))
        err_set(e, "the result archive is for job %s", jsonutil_str(j, "id", "?"));
    else if (strcmp(jsonutil_str(j, "token", job->token), job->token))
        err_set(e, "the result is stale (token %s, expected %s)", jsonutil_str(j, "token", "?"),
                job->token);
    else
        rc = 0;
    json_decref(j);
    if (path)
        unlink(path);   /* served its purpose (or was never there) */
    free(path);
    free(rpath);
    return rc;
}

/* The attempt failed for REASON: the job waits and is tried again, on
 * another worker if one can take it, until its attempts are used up. */
static void defer_or_fail(struct shipper *sh, struct job *job, const char *reason)
{
    struct err e;
    if (job->attempt >= SHIPPER_MAX_ATTEMPTS) {
        char msg[1400], name[128];
        snprintf(msg, sizeof msg, "Assay could not grade this submission after %d attempts "
                 "(last: %s). This is not a problem with your work; the admins can see the "
                 "details, and you can submit again.", job->attempt, reason);
        snprintf(name, sizeof name, "%s.json", job->id);
        if (queue_fail(&sh->spool, sh->slot_dir, name, job, reason, msg, shipper_now(sh), &e) < 0)
            log_msg(LOG_ERROR, job->id, "cannot move the job to failed/: %s", e.msg);
        return;
    }
    double delay = backoff_delay(job->attempt, SHIPPER_BACKOFF_S, SHIPPER_BACKOFF_MAX_S);
    if (queue_defer(&sh->spool, job, sh->slot_dir, sh->worker->name, reason,
                    shipper_now(sh) + delay, &e) < 0)
        log_msg(LOG_ERROR, job->id, "cannot defer attempt %d (%s): %s", job->attempt, reason,
                e.msg);
    else
        log_msg(LOG_WARN, job->id, "attempt %d deferred for %.0f s: %s", job->attempt, delay,
                reason);
}

/* Records an error that no worker is needed for; the job is done. */
static void finish_with_error(struct shipper *sh, struct job *job, const char *category,
                              const char *message)
{
    struct err e;
    double now = shipper_now(sh);
    struct job_end end = {.kind = END_ERROR, .category = category, .message = message,
                          .info = {NULL, 0, now, now}};
    char line[1600];
    snprintf(line, sizeof line, "not graded (%s): %s", category, message);
    if (queue_finish(&sh->spool, job, sh->slot_dir, &end, line, &e) < 0)
        log_msg(LOG_ERROR, job->id, "cannot record the error result (%s): %s", line, e.msg);
}

/* Returns 0 when the job's prerequisites are in the spool. */
static int check_inputs(struct shipper *sh, struct job *job)
{
    char *asg = spool_path(&sh->spool, "courses/%s/%s/assignment.json", job->course, job->assignment);
    char *sub = spool_path(&sh->spool, "%s", job->submission);
    char msg[700];
    int rc = 0;
    if (!fs_exists(asg)) {
        snprintf(msg, sizeof msg, "The spool has no assignment \"%s\" in course \"%s\" "
                 "(courses/%s/%s/assignment.json): check the names, or install the "
                 "assignment and regrade.", job->assignment, job->course, job->course,
                 job->assignment);
        finish_with_error(sh, job, "assignment", msg);
        rc = -1;
    } else if (!fs_is_dir(sub)) {
        snprintf(msg, sizeof msg, "The submission's files are missing from the spool (%s); "
                 "submit again.", job->submission);
        finish_with_error(sh, job, "infrastructure", msg);
        rc = -1;
    }
    free(asg);
    free(sub);
    return rc;
}

/* Push, wait, pull, unpack: fills RESDIR or returns -1 with why. */
static int round_trip(struct shipper *sh, struct job *job, const char *name, const char *resdir,
                      struct err *e)
{
    struct transport *t = sh->transport;
    double timeout = job_timeout(sh, job);
    int zip = memfd_create(name, MFD_CLOEXEC), back = -1;
    int rc = zip < 0 ? err_sys(e, "cannot make room for the job archive") : 0;
    if (rc == 0)
        rc = pack_job(sh, job, zip, name, e);
    if (rc == 0 && (rc = t->ops->push(t, zip, name, e)) < 0)
        err_prefix(e, "cannot deliver the job to worker %s", sh->worker->name);
    if (zip >= 0)
        close(zip);
    if (rc == 0) {
        int ready = t->ops->wait(t, name, timeout, e);
        if (ready == 0)
            rc = err_set(e, "worker %s did not return a result within %.1f s", sh->worker->name,
                         timeout);
        else if (ready < 0)
            rc = -1;
    }
    struct archive_limits lim = {RESULT_ARCHIVE_LIMIT, RESULT_ARCHIVE_LIMIT, 1000};
    if (rc == 0)
        rc = t->ops->pull(t, name, &back, e);
    if (rc == 0 && (rc = archive_extract_fd(back, name, resdir, &lim, e)) < 0)
        err_prefix(e, "the result archive from worker %s is broken", sh->worker->name);
    if (rc == 0)
        rc = check_result(job, resdir, e);
    if (back >= 0)
        close(back);
    return rc;
}

/* Records the result in RESDIR; the job is done. */
static void finish_graded(struct shipper *sh, struct job *job, const char *resdir,
                          double started, const char *name)
{
    struct err e;
    double now = shipper_now(sh);
    struct job_end end = {.kind = END_RESULT, .dir = resdir,
                          .info = {sh->worker->name, sh->slot, started, now}};
    char line[200];
    snprintf(line, sizeof line, "result recorded (attempt %d, %.3f s)", job->attempt, now - started);
    if (queue_finish(&sh->spool, job, sh->slot_dir, &end, line, &e) < 0)
        log_msg(LOG_ERROR, job->id, "cannot record the result: %s", e.msg);
    else
        sh->transport->ops->forget(sh->transport, name);
}

static int ship_loaded(struct shipper *sh, struct job *job)
{
    struct err e = {{0}};
    if (already_recorded(sh, job)) {
        struct job_end end = {.kind = END_ALREADY};
        if (queue_finish(&sh->spool, job, sh->slot_dir, &end, NULL, &e) < 0)
            log_msg(LOG_ERROR, job->id, "%s", e.msg);
        return 0;
    }
    if (begin_attempt(sh, job, &e) < 0) {
        log_msg(LOG_ERROR, job->id, "cannot start an attempt: %s", e.msg);
        return 0;
    }
    if (check_inputs(sh, job) < 0)
        return 0;
    int rc = 0;
    char *name = archive_name(job), *resdir = spool_tmpdir(&sh->spool, "result", &e);
    double started = shipper_now(sh);
    clock_parse_iso8601(jsonutil_str(job->json, "started_at", ""), &started);
    if (!name && resdir)
        err_set(&e, "out of memory");
    if (!name || !resdir || round_trip(sh, job, name, resdir, &e) < 0) {
        if (name)
            sh->transport->ops->forget(sh->transport, name);
        defer_or_fail(sh, job, e.msg);
        rc = -1;
    } else {
        forward_logs(sh, job, resdir);
        finish_graded(sh, job, resdir, started, name);
    }
    struct err ignored;   /* a leftover in tmp/ is only untidy */
    if (resdir && fs_exists(resdir))
        fs_remove_tree(resdir, &ignored);
    free(resdir);
    free(name);
    return rc;
}

int shipper_ship_job(struct shipper *sh, const char *name)
{
    char *path = spool_path(&sh->spool, "%s/%s", sh->slot_dir, name);
    struct job job;
    struct err e;
    int rc = 0;
    if (job_load(path, &job, &e) < 0)
        fail_unreadable(sh, name, e.msg);
    else
        rc = ship_loaded(sh, &job);
    job_free(&job);
    free(path);
    return rc;
}

bool shipper_check_worker(struct shipper *sh)
{
    json_t *info = NULL;
    struct err e;
    const char *status = "up";
    char reason[1200] = "";
    if (sh->transport->ops->probe(sh->transport, &info, &e) < 0) {
        status = "down";
        snprintf(reason, sizeof reason, "%s", e.msg);
    } else if (jsonutil_num(info, "free_mb", 1e18) < sh->worker->min_free_mb) {
        status = "refusing";
        snprintf(reason, sizeof reason, "only %.0f MB of disk free (at least %.0f MB needed); "
                 "free some space on the worker", jsonutil_num(info, "free_mb", 0),
                 sh->worker->min_free_mb);
    }
    int changed = health_record(&sh->spool, sh->worker->name, status, reason[0] ? reason : NULL,
                                info, &e);
    if (changed < 0)
        log_msg(LOG_ERROR, NULL, "cannot record that worker %s is %s: %s", sh->worker->name, status,
                e.msg);
    if (changed == 1)
        log_msg(strcmp(status, "up") ? LOG_ERROR : LOG_INFO, NULL, "worker %s is %s%s%s",
                sh->worker->name, status, reason[0] ? ": " : "", reason);
    json_decref(info);
    return !strcmp(status, "up");
}

/* What a result NAME ("<id>.<token>.zip") on the worker is to us. */
enum result_state { RESULT_CURRENT, RESULT_RECORDED, RESULT_STALE };

static enum result_state result_state(struct shipper *sh, const char *name, char *id, size_t n)
{
    char tok[128];
    if (!worker_archive_parse(name, id, tok, n < sizeof tok ? n : sizeof tok)) {
        snprintf(id, n, "%s", name);
        return RESULT_STALE;
    }
    struct job j = {0};
    for (int k = 1; k <= worker_shippers(sh->worker); k++) {
        char *p = spool_path(&sh->spool, SPOOL_SHIPPERS "/%s.%d/%s.json", sh->worker->name, k, id);
        struct err e;   /* a broken job file is its own shipper's to report */
        /* out of memory (no P): kept as current, looked at again next time */
        bool current = !p || (fs_exists(p) && job_load(p, &j, &e) == 0 && j.token &&
                              !strcmp(j.token, tok));
        job_free(&j);
        free(p);
        if (current)
            return RESULT_CURRENT;
    }
    /* Just recorded by a sibling shipper that has not removed it yet? */
    char *irel = job_index_rel(id), *index = irel ? spool_path(&sh->spool, "%s", irel) : NULL;
    char *rel = job_result_rel_from_index(index);
    enum result_state st = RESULT_STALE;
    if (rel) {
        json_t *r = record_read(&sh->spool, rel);
        const json_t *a = json_object_get(r, "assay");
        if (r && !strcmp(jsonutil_str(a, "job_id", ""), id) &&
            !strcmp(jsonutil_str(a, "attempt_token", ""), tok))
            st = RESULT_RECORDED;
        json_decref(r);
    }
    free(rel);
    free(irel);
    free(index);
    return st;
}

void shipper_drop_stale(struct shipper *sh)
{
    char **names = sh->transport->ops->results(sh->transport);
    for (size_t i = 0; names && names[i]; i++) {
        char id[256];
        enum result_state st = result_state(sh, names[i], id, sizeof id);
        if (st == RESULT_CURRENT)
            continue;
        if (st == RESULT_STALE)
            log_msg(LOG_WARN, id, "dropping stale result %s from worker %s (no current attempt "
                    "has that token)", names[i], sh->worker->name);
        sh->transport->ops->forget(sh->transport, names[i]);   /* recorded: just tidy up */
    }
    transport_free_names(names);
}
