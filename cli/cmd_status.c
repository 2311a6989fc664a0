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
#include "spool/status.h"
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

#define states spool_status_states
#define N_STATES SPOOL_STATUS_N_STATES

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

/* The status, with the scheduler's state added (cli_no_scheduler words
 * it as every command does); the job files that could not be read are
 * said on stderr. */
static json_t *collect(const struct spool *s, const struct workers *w)
{
    json_t *out = spool_status_collect(s, w);
    if (!out)
        return NULL;
    add_scheduler(s, out);
    json_object_set_new(out, "pools", pools_of(s, w));
    size_t i;
    const json_t *u;
    json_array_foreach(json_object_get(out, "unreadable"), i, u)
        cli_printf(stderr, "assay status: %s\n", json_string_value(u));
    json_object_del(out, "unreadable");
    return out;
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
        health_pool_line(json_object_get(p, "pool"), line, sizeof line);
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
