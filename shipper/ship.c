/*
 * ship.c - one job's trip: from the slot directory to the worker and
 * back into results/.
 *
 *   begin (or resume) an attempt: a new random token, written to the job
 *   pack job.json + submission/ + assignment/ into one zip
 *   push it through the transport, wait for the result, pull it
 *   check the result names this job and this attempt's token
 *   append the worker's log lines and stack traces to the central logs,
 *     as data: bounded, escaped, each marked as the worker's
 *   check the result (contract/results_check.c: shape, scores, sizes)
 *   record the result (spool/record.c), then remove the job file
 *
 * A worker is trusted to grade, not to keep to any shape or size
 * (docs/SECURITY.md, "Primary and worker").  Anything that goes wrong on
 * the way (the worker unreachable, its link, host or grading daemon no
 * longer answering while the job waits, or silent past the job's limits
 * plus a margin, a broken archive, a result refused, a result whose error
 * is the worker's own - category "infrastructure") defers the job with
 * exponential backoff, to be tried on another worker if one can take it;
 * after SHIPPER_MAX_ATTEMPTS it goes to failed/ with a .reason and an
 * error result of category "infrastructure" saying what failed where
 * (the student's view says only that grading could not run).  Every step
 * is safe to repeat after a crash.
 *
 * While a job waits, each word from the worker (the transport's
 * heartbeat, about every second) refreshes its health record: last
 * contact and free disk, so a disk that fills under running jobs is
 * seen within seconds.  A job handed to the slot just as its worker was
 * called down goes back to the queue unattempted.
 *
 * Every attempt that ends is counted for /metrics by how it ended
 * (assay_job_attempts_total{reason}: graded, unreachable, timeout,
 * broken_result, refused, stale, worker_failure, not_shipped), and every
 * stale result dropped (assay_stale_results_total; spool/counters.c).
 */
#define _GNU_SOURCE
#include "shipper/shipper.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "spool/counters.h"
#include "spool/course.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "contract/worker_dir.h"
#include "contract/assignment.h"
#include "contract/canary.h"
#include "contract/results_check.h"

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

/* Records that the worker is STATUS ("up", "down", "refusing") because
 * of REASON ("" when up), with INFO what it said (may be NULL); logs a
 * change. */
static void record_health(struct shipper *sh, const char *status, const char *reason,
                          const json_t *info)
{
    struct err e;
    int changed = health_record(&sh->spool, sh->worker->name, status, reason[0] ? reason : NULL,
                                info, &e);
    if (changed < 0)
        log_msg(LOG_ERROR, NULL, "cannot record that worker %s is %s: %s", sh->worker->name, status,
                e.msg);
    if (changed == 1)
        log_msg(strcmp(status, "up") ? LOG_ERROR : LOG_INFO, NULL, "worker %s is %s%s%s",
                sh->worker->name, status, reason[0] ? ": " : "", reason);
}

/* What a worker that answered (INFO: a probe's answer or a heartbeat)
 * is: "up", or "refusing" with why in REASON when its disk is low. */
static const char *judge_answer(const struct shipper *sh, const json_t *info, char *reason,
                                size_t n)
{
    double free_mb = jsonutil_num(info, "free_mb", 1e18);
    if (free_mb >= sh->worker->min_free_mb)
        return "up";
    snprintf(reason, n, "only %.0f MB of disk free (at least %.0f MB needed); free some space "
             "on the worker", free_mb, sh->worker->min_free_mb);
    return "refusing";
}

/* The transport heard the worker while a job waits (transport_listener).
 * Only its free disk, as a number, goes into the record: the worker's
 * words are data (docs/SECURITY.md, "Primary and worker"); and a
 * batch system's pool, as its controller reported it. */
static void heard_worker(void *ctx, const json_t *info)
{
    struct shipper *sh = ctx;
    char reason[300] = "";
    const char *status = judge_answer(sh, info, reason, sizeof reason);
    json_t *kept = json_is_number(json_object_get(info, "free_mb"))
                       ? json_pack("{s:f}", "free_mb", jsonutil_num(info, "free_mb", 0))
                       : NULL;   /* none, or out of memory: the record keeps its last */
    /* a batch system's pool as its controller reports it (the slurm
     * transport's), not the worker's words: kept, and shown escaped */
    const json_t *pool = json_object_get(info, "pool");
    if (kept && json_is_object(pool))
        json_object_set(kept, "pool", (json_t *)pool);
    record_health(sh, status, reason, kept);
    json_decref(kept);
}

/* A job handed to this slot as its worker was being called down or
 * refusing (the scheduler had not yet read that): back to the queue for
 * another worker, with no attempt spent.  True when it went back. */
static bool hand_back_if_unavailable(struct shipper *sh, const struct job *job)
{
    json_t *h = health_read(&sh->spool, sh->worker->name);
    bool available = !h || health_available(h);
    struct err e;
    if (!available && queue_unassign(&sh->spool, job->id, sh->slot_dir, &e) < 0) {
        log_msg(LOG_ERROR, job->id, "cannot hand the job back to the queue: %s", e.msg);
        available = true;   /* then it is shipped, and deferred if the worker fails it */
    } else if (!available) {
        log_msg(LOG_WARN, job->id, "handed back to the queue without an attempt: worker %s is "
                "%s (%s)", sh->worker->name, jsonutil_str(h, "status", "?"),
                jsonutil_str(h, "reason", ""));
    }
    json_decref(h);
    return !available;
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
 * again, plus the worker's margin (workers.json timeout_margin_s); and
 * into *MEMORY_MB the assignment's memory limit (0 when it cannot be
 * read), which a transport may reserve for the job.  With
 * prefetch a job may first wait in the worker's inbox while a slot
 * finishes another: twice that. */
static double job_timeout(const struct shipper *sh, const struct job *job, long *memory_mb)
{
    char *dir = spool_path(&sh->spool, "courses/%s/%s", job->course, job->assignment);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    assignment_summary_load(dir, &sum, &ignored);
    double grading = sh->worker->timeout_margin_s + 1.5 * sum.wall_budget_s;
    *memory_mb = sum.limits.memory_mb;
    for (size_t i = 0; sum.test_limits && i < sum.n_tests; i++)
        if (sum.test_limits[i].memory_mb > *memory_mb)
            *memory_mb = sum.test_limits[i].memory_mb;
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
    bool ok = fs_read_file(path, RESULT_FILE_MAX_BYTES, b, &e) == 0;
    if (!ok && (!path || fs_exists(path)))
        log_msg(LOG_WARN, job->id, "cannot forward the worker's %s: %s", name, e.msg);
    free(path);
    return ok;
}

/* The worker's file NAME in RESDIR as the primary keeps it
 * (sent_lines_split: bounded, no control characters), into *L; false
 * when there is none or nothing of it is kept. */
static bool sent_lines(const struct job *job, const char *resdir, const char *name,
                       struct sent_lines *l)
{
    struct buf b = BUF_INIT;
    struct err e;
    bool ok = read_sent(job, resdir, name, &b);
    if (ok && sent_lines_split(buf_str(&b), b.len, l, &e) < 0) {
        log_msg(LOG_WARN, job->id, "cannot forward the worker's %s: %s", name, e.msg);
        ok = false;
    }
    buf_free(&b);
    return ok && (l->n || l->dropped);
}

/* Replaces the worker's file NAME in RESDIR (kept in results/ with the
 * result) by the lines kept of it, so the spool holds no more of it
 * than the central logs. */
static void keep_only(const struct job *job, const char *resdir, const char *name,
                      const struct buf *kept)
{
    char *path = fs_join(resdir, name);
    struct err e;
    if (fs_write_file(path, buf_str(kept), kept->len, false, &e) < 0)
        log_msg(LOG_WARN, job->id, "the worker's %s is not kept with the result: %s", name, e.msg);
    free(path);
}

/* The level the worker gave its line (its fifth field), for `assay logs
 * --errors`; the line itself stays the worker's text. */
static enum log_level sent_level(const char *line)
{
    char level[16];
    if (sscanf(line, "%*s %*s %*s %*s %15s", level) != 1)
        return LOG_INFO;
    return !strcmp(level, "error") ? LOG_ERROR : !strcmp(level, "warning") ? LOG_WARN : LOG_INFO;
}

static void note_dropped(struct buf *kept, size_t dropped)
{
    if (dropped)
        buf_printf(kept, "[... %zu more lines from the worker not kept]\n", dropped);
}

/* The worker's log lines for this job go into the central log as lines
 * of this shipper's, "worker: " and the worker's text, escaped: a worker
 * cannot write a line that passes for the primary's, nor another job's,
 * nor a byte a terminal would act on. */
static void forward_log(struct shipper *sh, const struct job *job, const char *resdir)
{
    struct sent_lines l;
    if (!sent_lines(job, resdir, "worker.log", &l))
        return;
    struct buf kept = BUF_INIT;
    for (size_t i = 0; i < l.n; i++) {
        log_msg(sent_level(l.lines[i]), job->id, "worker: %s", l.lines[i]);
        buf_printf(&kept, "%s\n", l.lines[i]);
    }
    if (l.dropped)
        log_msg(LOG_WARN, job->id, "worker: [... %zu more lines from worker %s not kept]",
                l.dropped, sh->worker->name);
    note_dropped(&kept, l.dropped);
    keep_only(job, resdir, "worker.log", &kept);
    buf_free(&kept);
    sent_lines_free(&l);
}

/* The worker's stack traces, bounded and escaped likewise, each line
 * marked with the worker and job it came from. */
static void forward_traces(struct shipper *sh, const struct job *job, const char *resdir)
{
    struct sent_lines l;
    if (!sent_lines(job, resdir, "traces.log", &l))
        return;
    struct buf out = BUF_INIT, kept = BUF_INIT;
    for (size_t i = 0; i < l.n; i++) {
        buf_printf(&out, "[worker %s job %s] %s\n", sh->worker->name, job->id, l.lines[i]);
        buf_printf(&kept, "%s\n", l.lines[i]);
    }
    if (l.dropped)
        buf_printf(&out, "[worker %s job %s] [... %zu more lines from the worker not kept]\n",
                   sh->worker->name, job->id, l.dropped);
    note_dropped(&kept, l.dropped);
    char *tlog = spool_path(&sh->spool, "logs/traces.log");
    int fd = tlog ? open(tlog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd < 0 || write(fd, buf_str(&out), out.len) < 0)
        log_msg(LOG_WARN, job->id, "cannot append the worker's stack traces to %s: %s",
                tlog ? tlog : "the central logs", tlog ? strerror(errno) : "out of memory");
    if (fd >= 0)
        close(fd);
    log_msg(LOG_ERROR, job->id, "worker %s sent back a stack trace (see logs/traces.log)",
            sh->worker->name);
    keep_only(job, resdir, "traces.log", &kept);
    free(tlog);
    buf_free(&out);
    buf_free(&kept);
    sent_lines_free(&l);
}

/* The archive pulled is the one named "<job id>.<token>.zip", so it is
 * this attempt's; earlier workers also echoed id and token in job.json,
 * checked here when present. */
static int check_result(const struct job *job, const char *resdir, const char **how,
                        struct err *e)
{
    *how = "broken_result";
    char *path = fs_join(resdir, "job.json");
    bool echoed = fs_exists(path);
    json_t *j = echoed ? jsonutil_load_file(path, 1u << 20, e) : NULL;   /* none: nothing to check */
    int rc = -1;
    if (!path)
        err_set(e, "out of memory");
    else if (echoed && !j)
        rc = -1;   /* *e says why it cannot be read */
    else if (strcmp(jsonutil_str(j, "id", job->id), job->id))
        err_set(e, "the result archive is for job %s", jsonutil_str(j, "id", "?"));
    else if (strcmp(jsonutil_str(j, "token", job->token), job->token)) {
        err_set(e, "the result is stale (token %s, expected %s)", jsonutil_str(j, "token", "?"),
                job->token);
        *how = "stale";
    }
    else
        rc = 0;
    json_decref(j);
    if (path)
        unlink(path);   /* served its purpose (or was never there) */
    free(path);
    return rc;
}

/* "worker w1, then w2, then w1": where JOB's attempts ran, from the
 * workers it failed on before (failed_on) and this slot's, into OUT. */
static void tried_on(const struct shipper *sh, const struct job *job, char *out, size_t n)
{
    const json_t *before = json_object_get(job->json, "failed_on");
    size_t count = json_array_size(before) + 1, len = 0;
    for (size_t i = 0; i < count && len < n; i++) {
        const char *w = i + 1 < count ? json_string_value(json_array_get(before, i))
                                      : sh->worker->name;
        int k = snprintf(out + len, n - len, "%s%s", i == 0 ? "worker " : ", then ",
                         w ? w : "?");
        len += k > 0 ? (size_t)k : 0;
    }
}

/* Counts one attempt of JOB that ended as HOW, and STALE stale results,
 * for /metrics; a count lost is only logged. */
static void count_attempt(struct shipper *sh, const char *job_id, const char *how, int stale)
{
    struct buf labels = BUF_INIT;
    if (how)
        counters_label(&labels, "reason", how);
    struct counter_inc incs[2];
    size_t n = 0;
    if (how)
        incs[n++] = (struct counter_inc){"assay_job_attempts_total", buf_str(&labels), 1, false};
    if (stale)
        incs[n++] = (struct counter_inc){"assay_stale_results_total", "", stale, false};
    struct err e;
    if (n && counters_add(&sh->spool, incs, n, &e) < 0)
        log_msg(LOG_WARN, job_id, "not counted for the metrics: %s", e.msg);
    buf_free(&labels);
}

/* The attempt failed for REASON: the job waits and is tried again, on
 * another worker if one can take it, until its attempts are used up. */
static void defer_or_fail(struct shipper *sh, struct job *job, const char *reason)
{
    struct err e;
    if (job->attempt >= SHIPPER_MAX_ATTEMPTS) {
        char msg[2000], name[128], where[600];
        tried_on(sh, job, where, sizeof where);
        snprintf(msg, sizeof msg, "Assay could not grade this submission after %d attempts, "
                 "for reasons that are not the student's (on %s; the last: %s). Fix the "
                 "cause, then `assay requeue %s` grades it again; `assay logs --job %s` "
                 "shows every attempt.", job->attempt, where, reason, job->id, job->id);
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
                 "they cannot be graded until the student hands them in again.",
                 job->submission);
        finish_with_error(sh, job, "infrastructure", msg);
        rc = -1;
    }
    free(asg);
    free(sub);
    return rc;
}

/* Push, wait, pull, unpack: fills RESDIR or returns -1 with why. */
static int round_trip(struct shipper *sh, struct job *job, const char *name, const char *resdir,
                      const char **how, struct err *e)
{
    struct transport *t = sh->transport;
    long memory_mb = 0;
    double timeout = job_timeout(sh, job, &memory_mb);
    t->needs = (struct transport_needs){timeout, memory_mb};
    int zip = memfd_create(name, MFD_CLOEXEC), back = -1;
    int rc = zip < 0 ? err_sys(e, "cannot make room for the job archive") : 0;
    if (rc == 0)
        rc = pack_job(sh, job, zip, name, e);
    if (rc == 0 && (rc = t->ops->push(t, zip, name, e)) < 0) {
        err_prefix(e, "cannot deliver the job to worker %s", sh->worker->name);
        *how = "unreachable";
    }
    if (zip >= 0)
        close(zip);
    if (rc == 0) {
        struct transport_listener hear = {heard_worker, sh};
        int ready = t->ops->wait(t, name, timeout, &hear, e);
        if (ready == 0)
            rc = err_set(e, "worker %s did not return a result within %.1f s", sh->worker->name,
                         timeout);
        else if (ready < 0)
            rc = -1;
        if (ready <= 0)
            *how = ready == 0 ? "timeout" : "unreachable";
    }
    /* the limits of results_check.h, counted as the bytes come: a
     * feedback file of gigabytes is refused before it is on disk */
    struct archive_limits lim = {RESULT_ARCHIVE_MAX_BYTES, RESULT_FILE_MAX_BYTES, RESULT_MAX_FILES};
    if (rc == 0 && (rc = t->ops->pull(t, name, &back, e)) < 0)
        *how = "unreachable";
    if (rc == 0 && (rc = archive_extract_fd(back, name, resdir, &lim, e)) < 0) {
        err_prefix(e, "the result archive from worker %s is broken", sh->worker->name);
        *how = "broken_result";
    }
    if (rc == 0)
        rc = check_result(job, resdir, how, e);
    if (back >= 0)
        close(back);
    return rc;
}

#define WORKER_REASON_MAX 600   /* bytes of the worker's message kept, before escaping */

/* The worker's own failure that RESDIR's results.json reports (an error
 * of category "infrastructure": a grader killed, a sandbox that could not
 * be set up, an interpreter or package missing there), as one line of
 * visible text, malloc'd; NULL when the result is the student's to have. */
static char *worker_failure(const char *resdir)
{
    char *path = fs_join(resdir, "results.json");
    struct err ignored;   /* results_check_dir has just read it whole: it reads */
    json_t *r = path ? jsonutil_load_file(path, RESULT_JSON_MAX_BYTES, &ignored) : NULL;
    const json_t *error = json_object_get(json_object_get(r, "assay"), "error");
    char *reason = NULL;
    if (!strcmp(jsonutil_str(error, "category", ""), "infrastructure")) {
        const char *msg = jsonutil_str(error, "message", "");
        char *cut = text_first_bytes(msg, strlen(msg), WORKER_REASON_MAX);
        reason = cut ? text_visible(cut, strlen(cut), 0) : NULL;
        free(cut);
        if (!reason)   /* out of memory: still the worker's failure, never a grade */
            reason = strdup("(its message is not kept: out of memory)");
    }
    json_decref(r);
    free(path);
    return reason;
}

/* What the worker sent back in RESDIR: its log lines forwarded (kept
 * as data, whatever the result), then the result checked
 * (contract/results_check.c).  A result refused, and one saying the
 * worker itself failed, are this attempt's failure, never the student's
 * grade: the job is tried again, on another worker if one can take it. */
static int take_result(struct shipper *sh, const struct job *job, const char *resdir,
                       const char **how, struct err *e)
{
    forward_log(sh, job, resdir);
    forward_traces(sh, job, resdir);
    *how = "refused";
    if (results_check_dir(resdir, e) < 0)
        return err_prefix(e, "the result from worker %s is refused", sh->worker->name);
    char *failure = worker_failure(resdir);
    if (!failure)
        return 0;
    *how = "worker_failure";
    err_set(e, "worker %s could not grade it: %s", sh->worker->name, failure);
    log_msg(LOG_ERROR, job->id, "attempt %d: infrastructure failure on worker %s: %s",
            job->attempt, sh->worker->name, failure);
    free(failure);
    return -1;
}

/* Records the result in RESDIR; the job is done.  A request to stop
 * (the scheduler's SIGTERM) waits until the record and its log line are
 * both written: between the two, it would leave a result that no line
 * speaks of, since a shipper started again finds it recorded. */
static void finish_graded(struct shipper *sh, struct job *job, const char *resdir,
                          double started, const char *name)
{
    struct err e;
    double now = shipper_now(sh);
    struct job_end end = {.kind = END_RESULT, .dir = resdir,
                          .info = {sh->worker->name, sh->slot, started, now}};
    char line[200];
    snprintf(line, sizeof line, "result recorded (attempt %d, %.3f s)", job->attempt, now - started);
    sigset_t stop, before;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, &before);
    if (queue_finish(&sh->spool, job, sh->slot_dir, &end, line, &e) < 0)
        log_msg(LOG_ERROR, job->id, "cannot record the result: %s", e.msg);
    else
        sh->transport->ops->forget(sh->transport, name, true);
    sigprocmask(SIG_SETMASK, &before, NULL);   /* a stop held back takes effect here */
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
    if (hand_back_if_unavailable(sh, job))
        return 0;
    if (begin_attempt(sh, job, &e) < 0) {
        log_msg(LOG_ERROR, job->id, "cannot start an attempt: %s", e.msg);
        return 0;
    }
    if (check_inputs(sh, job) < 0) {
        count_attempt(sh, job->id, "not_shipped", 0);
        return 0;
    }
    int rc = 0;
    char *name = archive_name(job), *resdir = spool_tmpdir(&sh->spool, "result", &e);
    double started = shipper_now(sh);
    clock_parse_iso8601(jsonutil_str(job->json, "started_at", ""), &started);
    if (!name && resdir)
        err_set(&e, "out of memory");
    const char *how = "not_shipped";   /* until the trip says how it went */
    if (!name || !resdir || round_trip(sh, job, name, resdir, &how, &e) < 0 ||
        take_result(sh, job, resdir, &how, &e) < 0) {
        if (name)
            sh->transport->ops->forget(sh->transport, name, false);
        defer_or_fail(sh, job, e.msg);
        count_attempt(sh, job->id, how, !strcmp(how, "stale"));
        rc = -1;
    } else {
        finish_graded(sh, job, resdir, started, name);
        count_attempt(sh, job->id, "graded", 0);
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
    const char *status;
    char reason[1200] = "";
    if (sh->transport->ops->probe(sh->transport, &info, &e) < 0) {
        status = "down";
        snprintf(reason, sizeof reason, "%s", e.msg);
    } else {
        status = judge_answer(sh, info, reason, sizeof reason);
    }
    record_health(sh, status, reason, info);
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
    /* `assay workers check` may be waiting for it (canary.c): its own */
    if (canary_archive_fresh(name, shipper_now(sh)))
        return RESULT_CURRENT;
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
        if (st == RESULT_STALE) {
            log_msg(LOG_WARN, id, "dropping stale result %s from worker %s (no current attempt "
                    "has that token)", names[i], sh->worker->name);
            count_attempt(sh, id, NULL, 1);
        }
        sh->transport->ops->forget(sh->transport, names[i], true);   /* a result: just tidy up */
    }
    transport_free_names(names);
}
