/*
 * status.c - what the queue and the workers are doing, read straight from
 * the spool: counts per state, per course and per capability; every slot,
 * idle or busy with which job for how long, and its worker's health; the
 * oldest waiting job; queued jobs no enabled worker can take, with the
 * reason; per course the wait of its oldest queued job and the median
 * wait of the last hour (spool/stats.c); the failures that are not the
 * students' (failed/, deferred/) apart from the last hour's errors in
 * submissions and assignments.  With a large queue (SPOOL_VIEW_MIN_JOBS
 * or more) and the scheduler running, incoming/ is read from the
 * scheduler's summary (scheduler.json) instead of every job file.
 *
 * One reader for `assay status` (cli/cmd_status.c prints it) and
 * assay-web's admin and course pages (web/pages_admin.c).
 */
#define _GNU_SOURCE
#include "spool/status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/queue_view.h"
#include "spool/scan.h"
#include "spool/scheduler_lock.h"
#include "spool/stats.h"

const char *const spool_status_states[] = {"incoming", "running", "deferred", "hold", "failed"};
#define states spool_status_states
#define N_STATES SPOOL_STATUS_N_STATES

#define RECENT_S 3600.0   /* "the last hour" of the median wait */

static json_t *row_of(json_t *table, const char *key)
{
    json_t *row = json_object_get(table, key);
    if (!row) {
        row = json_pack("{s:i, s:i, s:i, s:i, s:i}", "incoming", 0, "running", 0, "deferred", 0,
                        "hold", 0, "failed", 0);
        json_object_set_new(table, key, row);
    }
    return row;
}

static void add_count(json_t *table, const char *key, int state, int delta)
{
    json_t *row = row_of(table, key);
    json_object_set_new(row, states[state],
                        json_integer(json_integer_value(json_object_get(row, states[state])) + delta));
}

static void count(json_t *table, const char *key, int state)
{
    add_count(table, key, state, 1);
}

/* Why no enabled, available worker can take CAPABILITY, or NULL if one can. */
static char *why_stuck(const struct workers *w, const char *capability)
{
    struct buf disabled = BUF_INIT, down = BUF_INIT;
    bool can = false;
    for (size_t i = 0; i < w->n; i++) {
        const struct worker_cfg *c = &w->v[i];
        if (!worker_offers(c, capability))
            continue;
        if (!c->enabled)
            buf_printf(&disabled, "%s%s", disabled.len ? ", " : "", c->name);
        else if (!c->available)
            buf_printf(&down, "%s%s", down.len ? ", " : "", c->name);
        else
            can = true;
    }
    char *msg = NULL;
    int rc = 0;
    if (can)
        rc = 0;
    else if (down.len)
        rc = asprintf(&msg, "capability \"%s\" is offered only by workers that are down or "
                      "refusing jobs (%s; see assay workers)%s%s", capability, buf_str(&down),
                      disabled.len ? " or disabled: " : "", buf_str(&disabled));
    else if (disabled.len)
        rc = asprintf(&msg, "capability \"%s\" is offered only by disabled workers (%s)",
                      capability, buf_str(&disabled));
    else
        rc = asprintf(&msg, "no worker offers capability \"%s\"", capability);
    if (rc < 0)
        msg = NULL;
    buf_free(&disabled);
    buf_free(&down);
    return msg;
}

#define FAILED_SHOWN 10   /* failed jobs listed with their reason */

struct tally {
    const struct spool *s;
    const struct workers *w;
    json_t *out, *courses, *caps, *stuck;
    json_t *failed;             /* the first FAILED_SHOWN jobs of failed/, with why */
    json_int_t n_failed;        /* jobs in failed/ (not counting files that are no job) */
    json_t *why_cache;          /* capability -> reason (or null): one answer each */
    json_t *incoming_ids;       /* jobs counted in incoming/, read file by file */
    json_t *unreadable;         /* what could not be read, one sentence each */
    double now, oldest;
    const char *oldest_id;
    char oldest_buf[64];
};

/* why_stuck, asked once per capability: a queue of 100,000 jobs has few. */
static const char *stuck_reason(struct tally *sc, const char *capability)
{
    json_t *known = json_object_get(sc->why_cache, capability);
    if (!known) {
        char *why = why_stuck(sc->w, capability);
        known = why ? json_string(why) : json_null();
        free(why);
        json_object_set_new(sc->why_cache, capability, known);
    }
    return json_string_value(known);
}

/* The scheduler moved JOB from incoming/ into a slot while this scan ran:
 * it was counted waiting, and is running. */
static void uncount_moved(struct tally *sc, const struct job *job)
{
    add_count(sc->courses, job->course, 0, -1);
    add_count(sc->caps, job->capability, 0, -1);
    json_object_set_new(sc->out, states[0],
                        json_integer(json_integer_value(json_object_get(sc->out, states[0])) - 1));
}

/* Lists JOB, which is in failed/, with its reason (the first few). */
static void note_failed(struct tally *sc, const struct job *job)
{
    if (sc->n_failed++ >= FAILED_SHOWN)
        return;
    struct err e;   /* no reason to show is shown as such */
    char *reason = queue_failed_reason(sc->s, job->id, &e);
    json_array_append_new(sc->failed, json_pack("{s:s, s:s, s:s, s:s, s:s}", "job", job->id,
                                                "course", job->course, "assignment",
                                                job->assignment, "student", job->student,
                                                "reason", reason ? reason : "(no reason recorded)"));
    free(reason);
}

static void tally_dir(struct tally *sc, const char *rel, int state, json_t *slot)
{
    struct fs_list files;
    if (scan_spool(sc->s, rel, SCAN_JOBS, &files) < 0)
        json_array_append_new(sc->unreadable, json_sprintf("out of memory listing %s/; counting "
                                                           "those listed", rel));
    for (size_t i = 0; i < files.n; i++) {
        char *path = spool_path(sc->s, "%s/%s", rel, files.names[i]);
        struct job job;
        struct err e;
        if (job_load(path, &job, &e) < 0) {
            if (fs_exists(path))   /* else moved on meanwhile (dispatched, held, done) */
                json_array_append_new(sc->unreadable, json_string(e.msg));
            count(sc->courses, "(unreadable job files)", state);
            json_object_set_new(sc->out, states[state],
                                json_integer(json_integer_value(json_object_get(sc->out, states[state])) + 1));
            free(path);
            continue;
        }
        count(sc->courses, job.course, state);
        count(sc->caps, job.capability, state);
        json_object_set_new(sc->out, states[state],
                            json_integer(json_integer_value(json_object_get(sc->out, states[state])) + 1));
        if (state == 0)
            json_object_set_new(sc->incoming_ids, job.id, json_true());
        if (slot && json_object_get(sc->incoming_ids, job.id))
            uncount_moved(sc, &job);
        if (state == 0) {
            json_t *row = json_object_get(sc->courses, job.course);
            double age = sc->now - job.queued_at;
            if (age > jsonutil_num(row, "oldest_wait_s", -1))
                json_object_set_new(row, "oldest_wait_s", json_real(age));
        }
        if (state == 0 && job.queued_at < sc->oldest) {
            sc->oldest = job.queued_at;
            snprintf(sc->oldest_buf, sizeof sc->oldest_buf, "%s", job.id);
        }
        if (state == 4)
            note_failed(sc, &job);
        const char *why = state == 0 ? stuck_reason(sc, job.capability) : NULL;
        if (why)
            json_array_append_new(sc->stuck, json_pack("{s:s, s:s, s:s, s:s, s:s}", "job", job.id,
                                                       "course", job.course, "assignment", job.assignment,
                                                       "student", job.student, "reason", why));
        if (slot) {
            double started = sc->now;
            clock_parse_iso8601(jsonutil_str(job.json, "started_at", ""), &started);
            json_object_set_new(slot, "job", json_string(job.id));
            /* The job may have started after this scan read the clock. */
            json_object_set_new(slot, "for_s", json_real(started < sc->now ? sc->now - started : 0));
            char what[300];
            snprintf(what, sizeof what, "%s/%s/%s v%lld", job.course, job.assignment, job.student,
                     job.version);
            json_object_set_new(slot, "what", json_string(what));
        }
        free(path);
        job_free(&job);
    }
    fs_list_free(&files);
}

/* The incoming/ part of the scan, from the scheduler's view V. */
static void apply_view(struct tally *sc, const json_t *v, size_t incoming)
{
    json_object_set_new(sc->out, states[0], json_integer((json_int_t)incoming));
    const char *name;
    json_t *x;
    json_object_foreach(json_object_get(v, "courses"), name, x) {
        json_t *row = row_of(sc->courses, name);
        json_object_set(row, states[0], json_object_get(x, "incoming"));
        json_object_set_new(row, "oldest_wait_s",
                            json_real(sc->now - jsonutil_num(x, "oldest_queued_at", sc->now)));
    }
    json_object_foreach(json_object_get(v, "capabilities"), name, x) {
        json_object_set(row_of(sc->caps, name), states[0], json_object_get(x, "incoming"));
        const char *why = stuck_reason(sc, name);
        size_t i;
        json_t *job;
        json_array_foreach(json_object_get(x, "jobs"), i, job) {
            double q = jsonutil_num(job, "queued_at", INFINITY);
            if (q < sc->oldest) {
                sc->oldest = q;
                snprintf(sc->oldest_buf, sizeof sc->oldest_buf, "%s", jsonutil_str(job, "job", ""));
            }
            if (why)
                json_array_append_new(sc->stuck, json_pack("{s:s, s:s, s:s, s:s, s:s}", "job",
                    jsonutil_str(job, "job", ""), "course", jsonutil_str(job, "course", ""),
                    "assignment", jsonutil_str(job, "assignment", ""), "student",
                    jsonutil_str(job, "student", ""), "reason", why));
        }
        json_int_t more = json_integer_value(json_object_get(x, "incoming")) -
                          (json_int_t)json_array_size(json_object_get(x, "jobs"));
        if (why && more > 0)
            json_object_set_new(sc->out, "cannot_run_more",
                                json_integer(more + json_integer_value(
                                                        json_object_get(sc->out, "cannot_run_more"))));
    }
    json_object_set_new(sc->out, "queue_view",
                        json_pack("{s:s, s:f}", "from", SPOOL_SCHEDULER_VIEW, "age_s",
                                  sc->now - jsonutil_num(v, "written_at", sc->now)));
}

/* incoming/: from the scheduler's view for a large queue, else file by file. */
static void tally_incoming(struct tally *sc)
{
    size_t n = scan_count_jobs(sc->s, SPOOL_INCOMING);
    json_t *v = n >= SPOOL_VIEW_MIN_JOBS ? queue_view_read(sc->s, NULL) : NULL;
    if (v)
        apply_view(sc, v, n);
    else
        tally_dir(sc, SPOOL_INCOMING, 0, NULL);
    json_decref(v);
}

/* Each course's median wait over the last hour (null when none finished). */
static void add_recent_waits(const struct spool *s, json_t *courses, double now)
{
    json_t *recent = stats_recent_waits(s, now - RECENT_S);
    const char *course;
    json_t *v;
    json_object_foreach(recent, course, v)
        if (spool_name_is_valid(course))
            row_of(courses, course);
    json_object_foreach(courses, course, v) {
        const json_t *r = json_object_get(recent, course);
        json_object_set_new(v, "median_wait_1h_s", r ? json_real(jsonutil_num(r, "median_wait_s", 0))
                                                     : json_null());
        json_object_set_new(v, "graded_1h", json_integer((json_int_t)jsonutil_num(r, "jobs", 0)));
        json_t *outcomes = json_object_get(r, "outcomes");
        json_object_set_new(v, "outcomes_1h", outcomes ? json_incref(outcomes) : json_object());
        if (!json_object_get(v, "oldest_wait_s"))
            json_object_set_new(v, "oldest_wait_s", json_null());
    }
    json_decref(recent);
}

/* The failures that are not the students' (the jobs in failed/ and
 * deferred/) apart from the last hour's results whose error is in the
 * submission or the assignment (the course rows' "outcomes"). */
static void add_failures(struct tally *sc)
{
    json_int_t graded = 0, submission = 0, assignment = 0;
    const char *course;
    json_t *row;
    json_object_foreach(sc->courses, course, row) {
        graded += json_integer_value(json_object_get(row, "graded_1h"));
        const json_t *o = json_object_get(row, "outcomes_1h");
        submission += json_integer_value(json_object_get(o, "submission"));
        assignment += json_integer_value(json_object_get(o, "assignment"));
    }
    json_object_set_new(sc->out, "infrastructure",
                        json_pack("{s:I, s:O, s:O}", "failed", sc->n_failed,
                                  "retrying", json_object_get(sc->out, "deferred"),
                                  "failed_jobs", sc->failed));
    json_object_set_new(sc->out, "results_1h",
                        json_pack("{s:I, s:I, s:I}", "graded", graded, "submission_errors",
                                  submission, "assignment_errors", assignment));
}

json_t *spool_status_collect(const struct spool *s, const struct workers *w)
{
    struct tally sc = {s, w, json_pack("{s:s}", "spool", s->root), json_object(), json_object(),
                      json_array(), json_array(), 0, json_object(), json_object(), json_array(),
                      clock_wall(), INFINITY, NULL, {0}};
    json_t *slots = json_array();
    if (!sc.out || !sc.courses || !sc.caps || !sc.stuck || !sc.failed || !sc.why_cache ||
        !sc.incoming_ids || !sc.unreadable || !slots) {   /* out of memory: no status rather than a wrong count */
        json_t *all[] = {sc.out, sc.courses, sc.caps, sc.stuck, sc.failed, sc.why_cache,
                         sc.incoming_ids, sc.unreadable, slots};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            json_decref(all[i]);
        return NULL;
    }
    for (int i = 0; i < N_STATES; i++)
        json_object_set_new(sc.out, states[i], json_integer(0));
    const char *dirs[] = {NULL, NULL, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED};
    tally_incoming(&sc);
    for (int i = 0; i < N_STATES; i++)
        if (dirs[i])
            tally_dir(&sc, dirs[i], i, NULL);
    for (size_t i = 0; i < w->n; i++)
        for (int k = 1; k <= worker_shippers(&w->v[i]); k++) {
            char name[160], rel[200];
            spool_slot_name(name, sizeof name, w->v[i].name, k);
            snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s", name);
            json_t *h = health_read(s, w->v[i].name);
            json_t *slot = json_pack("{s:s, s:b, s:s, s:s}", "slot", name, "enabled", w->v[i].enabled,
                                     "worker_status", h ? jsonutil_str(h, "status", "?") : "unknown",
                                     "worker_reason", jsonutil_str(h, "reason", ""));
            json_decref(h);
            tally_dir(&sc, rel, 1, slot);
            json_array_append_new(slots, slot);
        }
    add_recent_waits(s, sc.courses, sc.now);
    add_failures(&sc);
    json_decref(sc.failed);
    json_object_set_new(sc.out, "slots", slots);
    json_object_set_new(sc.out, "courses", sc.courses);
    json_object_set_new(sc.out, "capabilities", sc.caps);
    json_object_set_new(sc.out, "cannot_run", sc.stuck);
    json_object_set_new(sc.out, "unreadable", sc.unreadable);
    json_decref(sc.why_cache);
    json_decref(sc.incoming_ids);
    if (isfinite(sc.oldest))
        json_object_set_new(sc.out, "oldest_waiting", json_pack("{s:s, s:f}", "job", sc.oldest_buf,
                                                                "age_s", sc.now - sc.oldest));
    return sc.out;
}

