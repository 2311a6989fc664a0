/*
 * cmd_status.c - `assay status`: what the queue and the workers are doing.
 *
 * Read straight from the spool (no connection to the scheduler needed):
 * whether a scheduler holds the spool's lock (and, when none does, when
 * one was last seen: spool/scheduler_lock.c); counts per state, per
 * course and per capability; every slot, idle or busy with which job for
 * how long; the age of the oldest waiting job;
 * and every queued job that no enabled worker can take, with the reason.
 * Per course also how long its oldest queued job has waited and the
 * median wait of its jobs graded in the last hour (from the rolling log
 * spool/stats.c keeps, so the cost does not grow with results/).
 * Failures that are not the students' are counted apart: the jobs in
 * failed/ (their attempts spent on infrastructure failures, each with
 * its reason) and in deferred/ (waiting to be retried), beside the last
 * hour's results with an error in the submission or the assignment.
 * With a large queue (SPOOL_VIEW_MIN_JOBS or more) and the scheduler
 * running, the queued jobs per course and capability come from the
 * summary the scheduler keeps (scheduler.json, scheduler/snapshot.c)
 * instead of every job file; the total is still counted from incoming/.
 * --json prints the same as one JSON object.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scan.h"
#include "spool/stats.h"
#include "spool/workers.h"

static const char usage[] =
    "Usage: assay status [--spool S] [--json]\n"
    "\n"
    "Shows whether a scheduler is running (and if not, when one last was), the\n"
    "queue (jobs per state, per course, per capability), each worker\n"
    "slot (idle, or busy with which job for how long), the oldest waiting job, and\n"
    "queued jobs that no enabled worker can take, with the reason.  Per course:\n"
    "the wait of its oldest queued job and the median wait over the last hour.\n"
    "Failures that are not the students' (infrastructure: jobs failed after their\n"
    "attempts, with the reason, and jobs waiting to be retried) are counted apart from\n"
    "the last hour's results with an error in the submission or the assignment.\n";

static const char *const states[] = {"incoming", "running", "deferred", "hold", "failed"};
#define N_STATES 5

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
        fprintf(stderr, "assay status: out of memory listing %s/; counting those listed\n", rel);
    for (size_t i = 0; i < files.n; i++) {
        char *path = spool_path(sc->s, "%s/%s", rel, files.names[i]);
        struct job job;
        struct err e;
        if (job_load(path, &job, &e) < 0) {
            if (fs_exists(path))   /* else moved on meanwhile (dispatched, held, done) */
                cli_printf(stderr, "assay status: %s\n", e.msg);
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

/* The scheduler's summary of incoming/ when it is running, else NULL. */
static json_t *scheduler_view(const struct spool *s)
{
    struct scheduler_state st;
    scheduler_lock_probe(s, &st);
    if (st.presence != SCHEDULER_RUNNING)
        return NULL;
    char *path = spool_path(s, "%s", SPOOL_SCHEDULER_VIEW);
    struct err e;   /* no view, or an unreadable one: the job files are read instead */
    json_t *v = fs_exists(path) ? jsonutil_load_file(path, 64u << 20, &e) : NULL;
    free(path);
    return v;
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
    json_t *v = n >= SPOOL_VIEW_MIN_JOBS ? scheduler_view(sc->s) : NULL;
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

/* "scheduler": whether one holds the spool's lock, and when one was last
 * seen; "no_scheduler": the sentence saying none is running, if none is. */
static void add_scheduler(const struct spool *s, json_t *out)
{
    struct scheduler_state st;
    scheduler_lock_probe(s, &st);
    json_object_set_new(out, "scheduler", scheduler_state_json(s, &st));
    char *none = cli_no_scheduler(s, &st);
    if (none)
        json_object_set_new(out, "no_scheduler", json_string(none));
    free(none);
}

/* The workers that are pools of a batch system (transport "slurm"), as
 * their health records say: status, reason and the pool. */
static json_t *pools_of(const struct spool *s, const struct workers *w)
{
    json_t *pools = json_array();
    for (size_t i = 0; pools && i < w->n; i++) {
        if (strcmp(w->v[i].transport, "slurm"))
            continue;
        json_t *h = health_read(s, w->v[i].name);
        json_t *p = json_pack("{s:s, s:s, s:s}", "worker", w->v[i].name, "status",
                              !w->v[i].enabled ? "disabled" : h ? jsonutil_str(h, "status", "?")
                                                                 : "unknown",
                              "reason", jsonutil_str(h, "reason", ""));
        if (p && json_is_object(json_object_get(h, "pool")))
            json_object_set(p, "pool", json_object_get(h, "pool"));
        json_array_append_new(pools, p);   /* NULL (out of memory): a pool left out */
        json_decref(h);
    }
    return pools;
}

static json_t *collect(const struct spool *s, const struct workers *w)
{
    struct tally sc = {s, w, json_pack("{s:s}", "spool", s->root), json_object(), json_object(),
                      json_array(), json_array(), 0, json_object(), json_object(), clock_wall(),
                      INFINITY, NULL, {0}};
    json_t *slots = json_array();
    if (!sc.out || !sc.courses || !sc.caps || !sc.stuck || !sc.failed || !sc.why_cache ||
        !sc.incoming_ids || !slots) {   /* out of memory: no status rather than a wrong count */
        json_t *all[] = {sc.out, sc.courses, sc.caps, sc.stuck, sc.failed, sc.why_cache,
                         sc.incoming_ids, slots};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++)
            json_decref(all[i]);
        return NULL;
    }
    for (int i = 0; i < N_STATES; i++)
        json_object_set_new(sc.out, states[i], json_integer(0));
    add_scheduler(s, sc.out);
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
    json_object_set_new(sc.out, "pools", pools_of(s, w));
    add_recent_waits(s, sc.courses, sc.now);
    add_failures(&sc);
    json_decref(sc.failed);
    json_object_set_new(sc.out, "slots", slots);
    json_object_set_new(sc.out, "courses", sc.courses);
    json_object_set_new(sc.out, "capabilities", sc.caps);
    json_object_set_new(sc.out, "cannot_run", sc.stuck);
    json_decref(sc.why_cache);
    json_decref(sc.incoming_ids);
    if (isfinite(sc.oldest))
        json_object_set_new(sc.out, "oldest_waiting", json_pack("{s:s, s:f}", "job", sc.oldest_buf,
                                                                "age_s", sc.now - sc.oldest));
    return sc.out;
}

static void print_table(const char *title, const json_t *rows)
{
    cli_printf(stdout, "\n%-22s", title);
    for (int i = 0; i < N_STATES; i++)
        cli_printf(stdout, " %9s", states[i]);
    putchar('\n');
    const char *key;
    const json_t *row;
    json_object_foreach((json_t *)rows, key, row) {
        cli_printf(stdout, "  %-20s", key);
        for (int i = 0; i < N_STATES; i++)
            printf(" %9lld", (long long)json_integer_value(json_object_get(row, states[i])));
        putchar('\n');
    }
}

/* "12.3 s", or "-" for null. */
static const char *seconds(const json_t *v, char *buf, size_t n)
{
    if (!json_is_number(v))
        return "-";
    snprintf(buf, n, "%.1f s", json_number_value(v));
    return buf;
}

static void print_courses(const json_t *rows)
{
    cli_printf(stdout, "\n%-22s %9s %9s %9s %9s %9s %12s %14s\n", "By course:", "queued", "running",
               "deferred", "hold", "failed", "oldest wait", "median wait 1h");
    const char *key;
    const json_t *row;
    json_object_foreach((json_t *)rows, key, row) {
        char a[32], b[32];
        cli_printf(stdout, "  %-20s", key);
        for (int i = 0; i < N_STATES; i++)
            printf(" %9lld", (long long)json_integer_value(json_object_get(row, states[i])));
        cli_printf(stdout, " %12s %14s\n", seconds(json_object_get(row, "oldest_wait_s"), a, sizeof a),
                   seconds(json_object_get(row, "median_wait_1h_s"), b, sizeof b));
    }
}

static const char *plural(json_int_t n)
{
    return n == 1 ? "" : "s";
}

/* Infrastructure failures, then the last hour's results with errors the
 * students or the instructors must fix: never counted together. */
static void print_failures(const json_t *st)
{
    const json_t *infra = json_object_get(st, "infrastructure"), *r = json_object_get(st, "results_1h");
    json_int_t failed = json_integer_value(json_object_get(infra, "failed"));
    json_int_t retrying = json_integer_value(json_object_get(infra, "retrying"));
    json_int_t sub = json_integer_value(json_object_get(r, "submission_errors"));
    json_int_t asg = json_integer_value(json_object_get(r, "assignment_errors"));
    cli_printf(stdout, "Infrastructure failures (not the students'): %lld job%s failed after "
               "every attempt, %lld waiting to be retried\n", (long long)failed, plural(failed),
               (long long)retrying);
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(infra, "failed_jobs"), i, f)
        cli_printf(stdout, "  %s  %s/%s/%s: %s\n", jsonutil_str(f, "job", "?"),
                   jsonutil_str(f, "course", "?"), jsonutil_str(f, "assignment", "?"),
                   jsonutil_str(f, "student", "?"), jsonutil_str(f, "reason", "?"));
    if (failed > (json_int_t)i)
        printf("  ... and %lld more (`assay logs --errors` has every one)\n",
               (long long)(failed - (json_int_t)i));
    json_int_t graded = json_integer_value(json_object_get(r, "graded"));
    cli_printf(stdout, "Graded in the last hour: %lld, of which %lld with an error in the "
               "submission and %lld with an error in the assignment\n", (long long)graded,
               (long long)sub, (long long)asg);
}

static void print_scheduler(const json_t *st)
{
    const json_t *sched = json_object_get(st, "scheduler");
    const char *none = jsonutil_str(st, "no_scheduler", NULL);
    if (none)
        cli_printf(stdout, "Warning: %s.\n", none);
    else if (json_is_true(json_object_get(sched, "running")))
        cli_printf(stdout, "Scheduler: running (pid %lld)\n",
                   (long long)json_integer_value(json_object_get(sched, "pid")));
    else
        cli_printf(stdout, "Scheduler: cannot tell whether one is running (%s)\n",
                   jsonutil_str(sched, "reason", "?"));
}

/* Each pool of a batch system (a Slurm partition behind one worker),
 * one line: its state and why, or its partition's nodes and jobs. */
static void print_pools(const json_t *pools)
{
    if (!json_array_size(pools))
        return;
    printf("\nPools:\n");
    size_t i;
    const json_t *p;
    json_array_foreach(pools, i, p) {
        char line[600];
        cli_pool_line(json_object_get(p, "pool"), line, sizeof line);
        const char *status = jsonutil_str(p, "status", "unknown");
        const char *reason = jsonutil_str(p, "reason", "");
        cli_printf(stdout, "  %-12s %s: %s\n", jsonutil_str(p, "worker", "?"), status,
                   strcmp(status, "up") && *reason ? reason : *line ? line : "no report yet");
    }
}

static void print_status(const json_t *st)
{
    cli_printf(stdout, "Spool %s\n", jsonutil_str(st, "spool", "?"));
    print_scheduler(st);
    cli_printf(stdout, "Queue:");
    for (int i = 0; i < N_STATES; i++)
        cli_printf(stdout, "%s %lld %s", i ? "," : "", (long long)json_integer_value(json_object_get(st, states[i])),
                   states[i]);
    putchar('\n');
    const json_t *old = json_object_get(st, "oldest_waiting");
    if (old)
        cli_printf(stdout, "Oldest waiting job: %s, waiting %.1f s\n", jsonutil_str(old, "job", "?"),
                   jsonutil_num(old, "age_s", 0));
    print_failures(st);
    print_courses(json_object_get(st, "courses"));
    print_table("By capability:", json_object_get(st, "capabilities"));
    printf("\nSlots:\n");
    size_t i;
    const json_t *slot;
    json_array_foreach(json_object_get(st, "slots"), i, slot) {
        const char *job = jsonutil_str(slot, "job", NULL);
        const char *health = jsonutil_str(slot, "worker_status", "unknown");
        char note[1300] = "";
        if (!json_is_true(json_object_get(slot, "enabled")))
            snprintf(note, sizeof note, "  [worker disabled]");
        else if (!strcmp(health, "down") || !strcmp(health, "refusing"))
            snprintf(note, sizeof note, "  [worker %s: %.1200s]", health,
                     jsonutil_str(slot, "worker_reason", ""));
        if (job)
            cli_printf(stdout, "  %-20s busy  %s (%s) for %.1f s%s\n", jsonutil_str(slot, "slot", "?"), job,
                       jsonutil_str(slot, "what", ""), jsonutil_num(slot, "for_s", 0), note);
        else
            cli_printf(stdout, "  %-20s idle%s\n", jsonutil_str(slot, "slot", "?"), note);
    }
    print_pools(json_object_get(st, "pools"));
    const json_t *stuck = json_object_get(st, "cannot_run");
    if (json_array_size(stuck)) {
        printf("\nQueued jobs no enabled worker can take:\n");
        json_array_foreach(stuck, i, slot)
            cli_printf(stdout, "  %s  %s/%s/%s: %s\n", jsonutil_str(slot, "job", "?"), jsonutil_str(slot, "course", "?"),
                       jsonutil_str(slot, "assignment", "?"), jsonutil_str(slot, "student", "?"),
                       jsonutil_str(slot, "reason", "?"));
        json_int_t more = json_integer_value(json_object_get(st, "cannot_run_more"));
        if (more > 0)
            printf("  ... and %lld more\n", (long long)more);
    }
    const json_t *view = json_object_get(st, "queue_view");
    if (view)
        cli_printf(stdout, "\n(Queued jobs per course and capability as the running scheduler counted them "
                   "%.1f s ago, in %s.)\n", jsonutil_num(view, "age_s", 0),
                   jsonutil_str(view, "from", "?"));
}

int cmd_status(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL;
    bool as_json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'j': as_json = true; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    struct spool s;
    if (optind != argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (cli_open_spool(spool, &s, "status", false) < 0)
        return EXIT_FAILED;
    struct workers w;
    struct problems p = {0};
    if (workers_load(&s, &w, &p) < 0) {
        cli_printf(stderr, "assay status: workers.json is invalid: %s\n", p.count ? p.items[0] : "?");
        problems_free(&p);
        workers_free(&w);
        spool_close(&s);
        return EXIT_FAILED;
    }
    for (size_t i = 0; i < w.n; i++) {
        json_t *h = health_read(&s, w.v[i].name);
        w.v[i].available = !h || health_available(h);
        json_decref(h);
    }
    json_t *st = collect(&s, &w);
    if (!st) {
        fprintf(stderr, "assay status: out of memory\n");
        workers_free(&w);
        spool_close(&s);
        return EXIT_FAILED;
    }
    if (as_json) {
        cli_print_json(stdout, st, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    } else {
        print_status(st);
    }
    json_decref(st);
    workers_free(&w);
    spool_close(&s);
    return EXIT_OK;
}
