/*
 * queue.c - the job's transitions: the one owner of every move of a job
 * file between the spool's states (queue.h lists them, docs/SPOOL.md
 * draws them).
 *
 * Like everything in the spool, a move is one rename; when the job's
 * content changes too (a new attempt, a deferral, a requeue), the new
 * content is written in place first, atomically, then the file is
 * renamed.  Ending a job always goes record -> remove -> log -> notify:
 * recording first makes a crash before the removal harmless (recording
 * again is a repeat, spool/record.c), and whoever the notice wakes finds
 * the result and the log line already there.  Between recording and
 * removing, the result's deliveries are queued (spool/delivery.c).  The scheduler, the
 * shippers and the `assay` tool call only these functions to move jobs.
 */
#define _GNU_SOURCE
#include "spool/queue.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/delivery.h"
#include "spool/counters.h"
#include "spool/scan.h"

#define JOB_MAX_BYTES (1u << 20)

/* "STATE/ID.json", malloc'd (NULL only when memory ran out). */
static char *job_rel(const char *state, const char *id)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s.json", state, id) < 0 ? NULL : p;
}

/* Renames job ID's file from state FROM to state TO: 1 if it was gone. */
static int move_job(const struct spool *s, const char *id, const char *from, const char *to,
                    struct err *e)
{
    char *src = job_rel(from, id), *dst = job_rel(to, id);
    int rc = src && dst ? spool_move(s, src, dst, e) : err_set(e, "out of memory");
    free(src);
    free(dst);
    return rc;
}

/* Writes JSON as job ID's file in STATE (in place, atomically). */
static int rewrite_job(const struct spool *s, const char *state, const char *id, const json_t *json,
                       bool durable, struct err *e)
{
    char *rel = job_rel(state, id);
    int rc = !rel ? err_set(e, "out of memory")
             : durable ? spool_write_json(s, rel, json, e)
                       : spool_update_json(s, rel, json, e);
    free(rel);
    return rc;
}

char *queue_locate(const struct spool *s, const char *id)
{
    const char *states[] = {SPOOL_INCOMING, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED};
    for (int i = 0; i < 4; i++) {
        char *p = spool_path(s, "%s/%s.json", states[i], id);
        bool there = fs_exists(p);
        free(p);
        if (there)
            return strdup(states[i]);
    }
    struct fs_list slots;
    char *found = NULL;
    if (scan_spool(s, SPOOL_SHIPPERS, SCAN_NAMES, &slots) < 0)
        log_msg(LOG_WARN, id, "out of memory listing the slots; looking in those listed");
    for (size_t i = 0; i < slots.n && !found; i++) {
        char *p = spool_path(s, SPOOL_SHIPPERS "/%s/%s.json", slots.names[i], id);
        if (fs_exists(p) && asprintf(&found, SPOOL_SHIPPERS "/%s", slots.names[i]) < 0)
            found = NULL;
        free(p);
    }
    fs_list_free(&slots);
    return found;
}

/* assay_jobs_submitted_total, once the job is queued (spool/counters.c). */
static void count_submitted(const struct spool *s, const struct job *j)
{
    struct buf labels = BUF_INIT;
    counters_label(&labels, "course", j->course);
    counters_label(&labels, "priority", j->priority);
    struct counter_inc inc = {"assay_jobs_submitted_total", buf_str(&labels), 1, false};
    struct err e;
    if (counters_add(s, &inc, 1, &e) < 0)
        log_msg(LOG_WARN, j->id, "queued, but not counted for the metrics: %s", e.msg);
    buf_free(&labels);
}

int queue_enqueue(const struct spool *s, json_t *job, struct err *e)
{
    struct job j;
    if (job_from_json(json_incref(job), &j, e) < 0)
        return -1;
    char *index = job_index_rel(j.id), *incoming = job_rel(SPOOL_INCOMING, j.id);
    int rc = index && incoming ? spool_write_json_linked(s, incoming, job, index, e)
                               : err_set(e, "out of memory");
    if (rc == 0)
        count_submitted(s, &j);
    free(index);
    free(incoming);
    job_free(&j);
    return rc;
}

int queue_hand_to_slot(const struct spool *s, const char *id, const char *slot, struct err *e)
{
    return move_job(s, id, SPOOL_INCOMING, slot, e);
}

int queue_unassign(const struct spool *s, const char *id, const char *slot, struct err *e)
{
    return move_job(s, id, slot, SPOOL_INCOMING, e);
}

int queue_claim(const struct spool *s, struct job *job, const char *slot, const char *slot_name,
                double now, struct err *e)
{
    const char *was = jsonutil_str(job->json, "slot", NULL);
    if (job->token && was && !strcmp(was, slot_name))
        return 1;
    char token[33], started[32];
    ids_random_hex(token, 16);
    clock_iso8601(now, started);
    json_object_set_new(job->json, "attempt", json_integer(job->attempt + 1));
    json_object_set_new(job->json, "token", json_string(token));
    json_object_set_new(job->json, "slot", json_string(slot_name));
    json_object_set_new(job->json, "started_at", json_string(started));
    /* not synced: after a power cut the job merely gets another token */
    if (rewrite_job(s, slot, job->id, job->json, false, e) < 0 || job_refresh(job, e) < 0)
        return -1;
    struct err qe;
    if (delivery_queue_commit_status(s, job, "running", NULL, &qe) < 0)   /* a push's "running" */
        log_msg(LOG_WARN, job->id, "its commit status \"running\" is not sent: %s", qe.msg);
    return 0;
}

int queue_defer(const struct spool *s, struct job *job, const char *from, const char *worker,
                const char *reason, double not_before, struct err *e)
{
    json_object_set_new(job->json, "not_before", json_real(not_before));
    json_object_set_new(job->json, "last_error", json_string(reason));
    json_t *avoid = json_object_get(job->json, "failed_on");
    if (!json_is_array(avoid)) {
        avoid = json_array();
        json_object_set_new(job->json, "failed_on", avoid);
    }
    json_array_append_new(avoid, json_string(worker));
    json_object_del(job->json, "slot");
    if (rewrite_job(s, from, job->id, job->json, true, e) < 0 || job_refresh(job, e) < 0)
        return -1;
    return move_job(s, job->id, from, SPOOL_DEFERRED, e) < 0 ? -1 : 0;
}

int queue_retry(const struct spool *s, const char *id, struct err *e)
{
    return move_job(s, id, SPOOL_DEFERRED, SPOOL_INCOMING, e);
}

/* NAME without ".json" (a file that is not a job may lack it). */
static void base_name(const char *name, char *out, size_t n)
{
    if (!job_name_to_id(name, out, n))
        snprintf(out, n, "%s", name);
}

static int write_reason(const struct spool *s, const char *base, const char *text, struct err *e)
{
    char *rel = NULL, *line = NULL;
    int rc = asprintf(&rel, SPOOL_FAILED "/%s.reason", base) < 0 || asprintf(&line, "%s\n", text) < 0
                 ? err_set(e, "out of memory")
                 : spool_write(s, rel, line, strlen(line), e);
    free(rel);
    free(line);
    return rc;
}

/* The name FROM/NAME takes in failed/: its own, unless "BASE.reason" would
 * be longer than a file name may be (a file dropped in incoming/ with a
 * name of 249 characters or more); then its first 200 characters and a
 * random tag, so it still leaves incoming/ once instead of being found
 * again at every scan.  The reason names the original file. */
static void failed_name(const char *name, char *out, size_t n)
{
    char base[256];
    base_name(name, base, sizeof base);
    if (strlen(base) + strlen(".reason") <= NAME_MAX) {
        snprintf(out, n, "%s", name);
        return;
    }
    char tag[9];
    ids_random_hex(tag, 4);
    snprintf(out, n, "%.200s~%s", name, tag);
}

static void log_not_a_job(const char *from, const char *name, const char *moved, const char *why)
{
    if (strcmp(moved, name) != 0)
        log_msg(LOG_ERROR, NULL, "%s/%s is not a valid job and went to failed/%s (its name is too "
                "long to keep): %s", from, name, moved, why);
    else
        log_msg(LOG_ERROR, NULL, "%s/%s is not a valid job and went to failed/: %s", from, name, why);
}

int queue_fail(const struct spool *s, const char *from, const char *name, const struct job *job,
               const char *why, const char *message, double now, struct err *e)
{
    char base[256], moved[256], *src = NULL, *dst = NULL, *text = NULL;
    failed_name(name, moved, sizeof moved);
    base_name(moved, base, sizeof base);
    int rc = 0;
    if (job) {
        struct record_info info = {NULL, 0, now, now};
        if (record_error(s, job, "infrastructure", message, &info, e) < 0)
            log_msg(LOG_ERROR, job->id, "cannot record the error result: %s", e->msg);
    }
    /* the reason names the file when there is no job to name it */
    int n = job ? asprintf(&text, "%s", why) : asprintf(&text, "%s/%s: %s", from, name, why);
    if (n < 0 || asprintf(&src, "%s/%s", from, name) < 0 ||
        asprintf(&dst, SPOOL_FAILED "/%s", moved) < 0)
        rc = err_set(e, "out of memory");
    if (rc == 0 && (rc = write_reason(s, base, text, e)) == 0)
        rc = spool_move(s, src, dst, e) < 0 ? -1 : 0;
    if (job)
        log_msg(LOG_ERROR, job->id, "failed after %d attempts: %s", job->attempt, why);
    else if (rc == 0)   /* else nothing went to failed/: the caller logs why, from *e */
        log_not_a_job(from, name, moved, why);
    if (job)
        spool_notify(s, job->id);   /* after the line: the woken may read the log */
    free(src);
    free(dst);
    free(text);
    return rc;
}

char *queue_failed_reason(const struct spool *s, const char *id, struct err *e)
{
    char *path = spool_path(s, SPOOL_FAILED "/%s.reason", id), *reason = NULL;
    struct buf b = BUF_INIT;
    if (!path)
        err_set(e, "out of memory");
    else if (fs_read_file(path, 4096, &b, e) == 0 && !(reason = buf_steal(&b)))
        err_set(e, "out of memory");
    if (reason)
        reason[strcspn(reason, "\n")] = '\0';
    buf_free(&b);
    free(path);
    return reason;
}

static int record_end(const struct spool *s, const struct job *job, const struct job_end *end,
                      struct err *e)
{
    switch (end->kind) {
    case END_RESULT: return record_result(s, job, end->dir, &end->info, e);
    case END_ERROR: return record_error(s, job, end->category, end->message, &end->info, e);
    case END_SUPERSEDED:
        return record_superseded(s, job, end->newer_id, end->newer_version, e);
    case END_ALREADY: return 1;
    }
    return err_set(e, "unknown kind of ending");
}

int queue_finish(const struct spool *s, const struct job *job, const char *from,
                 const struct job_end *end, const char *line, struct err *e)
{
    int recorded = record_end(s, job, end, e);
    if (recorded < 0)
        return -1;
    /* Before the job file goes: a crash up to its removal records again
     * (a repeat) and queues again (a repeat too, by the delivery's key),
     * so no recorded grade misses its delivery.  A superseded job and an
     * error that is not the student's are no grade to send. */
    bool grade = end->kind != END_SUPERSEDED &&
                 (end->kind != END_ERROR || !strcmp(end->category, "submission"));
    if (grade)
        delivery_queue_for_result(s, job);   /* what failed is logged with the command that
                                              * sends it later */
    struct err qe;   /* a push's commit status, whatever the ending: it says why too */
    if (delivery_queue_commit_status(s, job, NULL, NULL, &qe) < 0)
        log_msg(LOG_ERROR, job->id, "its commit status is not sent: %s", qe.msg);
    char *rel = job_rel(from, job->id), *path = rel ? spool_path(s, "%s", rel) : NULL;
    if (!path || unlink(path) < 0)   /* it is then found again, and seen to be recorded */
        log_msg(LOG_WARN, job->id, "cannot remove the job file %s/%s.json after recording it: %s",
                from, job->id, strerror(errno));
    free(path);
    free(rel);
    if (recorded == 1)
        log_msg(LOG_INFO, job->id, "result was already recorded");
    else
        log_msg(end->kind == END_ERROR ? LOG_WARN : LOG_INFO, job->id, "%s", line);
    spool_notify(s, job->id);
    return recorded;
}

/* ---- what an admin does ---- */

static bool in(const char *state, const char *a, const char *b, const char *c)
{
    return !strcmp(state, a) || (b && !strcmp(state, b)) || (c && !strcmp(state, c));
}

/* Locates job ID for COMMAND; -1 unless it is in one of the states it takes. */
static int locate_for(const char *id, const char *command, bool ok, const char *state,
                      struct err *e)
{
    if (!state)
        return err_set(e, "no job %s in the queue (it may be graded already: see `assay results "
                       "--job %s`)", id, id);
    if (!ok)
        return err_set(e, "job %s is in %s/, where %s does not apply", id, state, command);
    return 0;
}

int queue_hold(const struct spool *s, const char *id, char **from, struct err *e)
{
    char *state = queue_locate(s, id);
    bool ok = state && in(state, SPOOL_INCOMING, SPOOL_DEFERRED, NULL);
    int rc = locate_for(id, "hold", ok, state, e);
    if (rc == 0)
        rc = move_job(s, id, state, SPOOL_HOLD, e) < 0 ? -1 : 0;
    *from = state;
    return rc;
}

int queue_release(const struct spool *s, const char *id, char **from, struct err *e)
{
    char *state = queue_locate(s, id);
    bool ok = state && in(state, SPOOL_HOLD, NULL, NULL);
    int rc = locate_for(id, "release", ok, state, e);
    if (rc == 0)
        rc = move_job(s, id, state, SPOOL_INCOMING, e) < 0 ? -1 : 0;
    *from = state;
    return rc;
}

static void fresh_attempts(json_t *job)
{
    json_object_set_new(job, "attempt", json_integer(0));
    json_object_set_new(job, "token", json_null());
    json_object_del(job, "not_before");
    json_object_del(job, "failed_on");
    json_object_del(job, "slot");
}

int queue_requeue(const struct spool *s, const char *id, char **from, struct err *e)
{
    char *state = queue_locate(s, id);
    bool ok = state && in(state, SPOOL_FAILED, SPOOL_DEFERRED, SPOOL_HOLD);
    int rc = locate_for(id, "requeue", ok, state, e);
    char *rel = rc == 0 ? job_rel(state, id) : NULL, *path = rel ? spool_path(s, "%s", rel) : NULL;
    json_t *j = path ? jsonutil_load_file(path, JOB_MAX_BYTES, e) : NULL;
    if (rc == 0 && !j)
        rc = -1;
    if (rc == 0) {
        fresh_attempts(j);
        rc = rewrite_job(s, state, id, j, true, e);
    }
    if (rc == 0)
        rc = move_job(s, id, state, SPOOL_INCOMING, e) < 0 ? -1 : 0;
    if (rc == 0 && !strcmp(state, SPOOL_FAILED)) {
        char *reason = spool_path(s, SPOOL_FAILED "/%s.reason", id);
        if (unlink(reason) < 0 && fs_exists(reason))
            log_msg(LOG_WARN, id, "cannot remove %s; the job is requeued all the same", reason);
        free(reason);
    }
    json_decref(j);
    free(path);
    free(rel);
    *from = state;
    return rc;
}
