/*
 * metrics.c - GET /metrics: what Prometheus scrapes, in its text format
 * 0.0.4 (HELP and TYPE lines, one group per family, label values
 * escaped, base units: seconds, bytes; counters end in _total).  Labels
 * are courses, capabilities, priorities, workers and fixed words, never a
 * student or a job, so the number of series does not grow with the jobs.
 *
 * Every figure comes from one reader of one fact, and none costs a scan
 * of the queue, so a scrape takes the same time with 10 or 100,000 jobs
 * queued (bench/web.py):
 *   counters and histograms  stats/counters.json and .log (spool/counters.c), kept by
 *                            whoever makes each fact durable, so they
 *                            survive restarts of every process
 *   the queue                scheduler.json, the running scheduler's summary
 *                            (spool/queue_view.c); with no scheduler
 *                            running, the job files of incoming/
 *   deferred, hold, failed,  the number of job files in each directory
 *   slots busy
 *   workers                  workers.json and health/WORKER.json
 * docs/WEB.md lists every metric with its meaning.
 *
 * The HTTP side (web/routes.c) calls metrics_allowed, then
 * metrics_render, and serves the text as METRICS_CONTENT_TYPE.
 */
#define _GNU_SOURCE
#include "web/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/counters.h"
#include "spool/delivery.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue_view.h"
#include "spool/scan.h"
#include "spool/workers.h"

/* A family's header: the two comment lines before its samples. */
static void family(struct buf *out, const char *name, const char *type, const char *help)
{
    const char *parts[] = {"# HELP ", name, " ", help, "\n# TYPE ", name, " ", type, "\n"};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
        buf_puts(out, parts[i]);
}

#define HISTOGRAM_MAX_BUCKETS 31

/* A sample value and its line's end: integers as integers, the rest in
 * full precision.  Written without printf where it can be: a page has
 * thousands of samples, and printf was most of a scrape's time. */
static void value(struct buf *out, double v)
{
    char text[40], *p = text + sizeof text;
    if (isnan(v)) {
        buf_puts(out, "NaN\n");
    } else if (isinf(v)) {
        buf_puts(out, v > 0 ? "+Inf\n" : "-Inf\n");
    } else if (v == floor(v) && fabs(v) < 1e15) {
        long long n = (long long)v;
        unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
        *--p = '\n';
        do
            *--p = (char)('0' + u % 10);
        while ((u /= 10));
        if (n < 0)
            *--p = '-';
        buf_append(out, p, (size_t)(text + sizeof text - p));
    } else {
        int len = snprintf(text, sizeof text, "%.17g\n", v);
        buf_append(out, text, len > 0 ? (size_t)len : 0);
    }
}

/* NAME SUFFIX{LABELS} (no braces without labels), then a space. */
static void series(struct buf *out, const char *name, const char *suffix, const char *labels)
{
    buf_puts(out, name);
    buf_puts(out, suffix);
    if (*labels) {
        buf_append(out, "{", 1);
        buf_puts(out, labels);
        buf_append(out, "}", 1);
    }
    buf_append(out, " ", 1);
}

static void sample(struct buf *out, const char *name, const char *labels, double v)
{
    series(out, name, "", labels);
    value(out, v);
}

/* --- counters (stats/counters.json) --------------------------------- */

/* Counter NAME's series; DEFAULTS (label values of LABEL, NULL-ended)
 * are shown as 0 until counted, so rate() has a series from the start. */
static void counter_family(struct buf *out, const json_t *all, const char *name, const char *help,
                           const char *label, const char *const *defaults, bool unlabeled)
{
    family(out, name, "counter", help);
    const json_t *series = json_object_get(json_object_get(all, "counters"), name);
    for (size_t i = 0; defaults && defaults[i]; i++) {
        struct buf l = BUF_INIT;
        counters_label(&l, label, defaults[i]);
        if (!json_object_get(series, buf_str(&l)))
            sample(out, name, buf_str(&l), 0);
        buf_free(&l);
    }
    if (unlabeled && !json_object_get(series, ""))
        sample(out, name, "", 0);
    const char *labels;
    const json_t *v;
    json_object_foreach((json_t *)series, labels, v)
        if (json_is_number(v))
            sample(out, name, labels, json_number_value(v));
}

static void histogram_family(struct buf *out, const json_t *all, const char *name,
                             const char *help)
{
    family(out, name, "histogram", help);
    size_t n;
    const double *bounds = counters_buckets(name, &n);
    const json_t *series_of = json_object_get(json_object_get(all, "histograms"), name);
    char le[HISTOGRAM_MAX_BUCKETS + 1][48];   /* each bucket's le="BOUND"} made once */
    for (size_t i = 0; bounds && i <= n && i <= HISTOGRAM_MAX_BUCKETS; i++) {
        if (i < n)
            snprintf(le[i], sizeof le[i], "le=\"%g\"} ", bounds[i]);
        else
            snprintf(le[i], sizeof le[i], "le=\"+Inf\"} ");
    }
    const char *labels;
    const json_t *h;
    json_object_foreach((json_t *)series_of, labels, h) {
        const json_t *buckets = json_object_get(h, "buckets");
        if (!bounds || n > HISTOGRAM_MAX_BUCKETS || json_array_size(buckets) != n + 1)
            continue;   /* written by a version with other bounds: skipped until counted again */
        double cumulative = 0;
        for (size_t i = 0; i <= n; i++) {
            cumulative += (double)json_integer_value(json_array_get(buckets, i));
            buf_puts(out, name);
            buf_puts(out, "_bucket{");
            if (*labels) {
                buf_puts(out, labels);
                buf_append(out, ",", 1);
            }
            buf_puts(out, le[i]);
            value(out, cumulative);
        }
        series(out, name, "_sum", labels);
        value(out, jsonutil_num(h, "sum", 0));
        series(out, name, "_count", labels);
        value(out, cumulative);
    }
}

static const char *const attempt_reasons[] = {"graded", "unreachable", "timeout", "broken_result",
                                              "refused", "stale", "worker_failure",
                                              "not_shipped", NULL};
static const char *const limit_names[] = {"time", "memory", "output", "disk", NULL};

static void render_counters(const struct spool *s, struct buf *out)
{
    struct err e;
    json_t *all = counters_load(s, &e);
    if (!all) {
        /* Left out rather than shown as 0, which Prometheus would take
         * for a reset of every counter. */
        log_msg(LOG_WARN, NULL, "web: /metrics without its counters: %s", e.msg);
        return;
    }
    counter_family(out, all, "assay_jobs_submitted_total", "Jobs queued (assay submit, regrade, "
                   "grade-all), by course and priority.", NULL, NULL, false);
    counter_family(out, all, "assay_jobs_completed_total", "Jobs whose result was recorded, by "
                   "course and outcome (graded, submission, assignment, infrastructure, "
                   "superseded).", NULL, NULL, false);
    counter_family(out, all, "assay_job_attempts_total", "Attempts the shippers finished, by "
                   "how they ended.", "reason", attempt_reasons, false);
    counter_family(out, all, "assay_stale_results_total", "Results dropped because their "
                   "attempt token was no longer the job's.", NULL, NULL, true);
    counter_family(out, all, "assay_sandbox_limit_hits_total", "Tests whose run hit a limit, "
                   "by limit (time, memory, output, disk).", "limit", limit_names, false);
    counter_family(out, all, "assay_deliveries_total", "Grades and statuses sent to Canvas, "
                   "GitHub or GitLab, by destination and outcome (delivered, retried, dead).",
                   NULL, NULL, false);
    counter_family(out, all, "assay_deliveries_dead_total", "Deliveries given up, by destination "
                   "and why (unknown_student, token, unpublished, refused, config, attempts).",
                   NULL, NULL, false);
    histogram_family(out, all, "assay_job_wait_seconds", "Time graded jobs waited in the queue "
                     "before a worker slot took them, by course.");
    histogram_family(out, all, "assay_job_run_seconds", "Time graded jobs held a worker slot, "
                     "by course and capability.");
    json_decref(all);
}

/* --- the queue (scheduler.json, or incoming/ itself) ---------------- */

/* VIEW's "queue" and per-capability oldest job from the job files, for
 * when no scheduler runs: slow for a long queue, but then nothing else
 * is reading it either. */
static json_t *view_from_files(const struct spool *s)
{
    json_t *queue = json_object(), *caps = json_object();
    struct fs_list files;
    if (scan_spool(s, SPOOL_INCOMING, SCAN_JOBS, &files) < 0) {
        /* out of memory: the jobs listed so far are counted */
    }
    for (size_t i = 0; i < files.n; i++) {
        char *path = spool_path(s, "%s/%s", SPOOL_INCOMING, files.names[i]);
        struct job job;
        struct err e;   /* moved on meanwhile, or broken (the scheduler fails it): not counted */
        if (path && job_load(path, &job, &e) == 0) {
            json_t *c = json_object_get(queue, job.course);
            if (!c)
                json_object_set_new(queue, job.course, c = json_object());
            json_t *k = json_object_get(c, job.capability);
            if (!k)
                json_object_set_new(c, job.capability, k = json_object());
            json_object_set_new(k, job.priority, json_integer(json_integer_value(
                                                     json_object_get(k, job.priority)) + 1));
            json_t *cap = json_object_get(caps, job.capability);
            double oldest = jsonutil_num(json_array_get(json_object_get(cap, "jobs"), 0),
                                         "queued_at", INFINITY);
            if (job.queued_at < oldest)
                json_object_set_new(caps, job.capability, json_pack("{s:[{s:f}]}", "jobs",
                                                                    "queued_at", job.queued_at));
            job_free(&job);
        }
        free(path);
    }
    fs_list_free(&files);
    return json_pack("{s:o, s:o}", "queue", queue, "capabilities", caps);
}

static void render_queue(const struct spool *s, double now, struct buf *out)
{
    struct scheduler_state st;
    json_t *view = queue_view_read(s, &st);
    family(out, "assay_scheduler_up", "gauge", "1 while an assay-scheduler holds the spool's "
           "lock, 0 when none runs, NaN when it cannot be told.");
    sample(out, "assay_scheduler_up", "", st.presence == SCHEDULER_RUNNING ? 1
                                          : st.presence == SCHEDULER_STOPPED ? 0 : NAN);
    if (!view)
        view = view_from_files(s);
    family(out, "assay_queue_jobs", "gauge", "Jobs waiting in incoming/ for a worker slot, by "
           "course, capability and priority.");
    const char *course, *cap, *prio;
    json_t *per_course, *per_cap, *n;
    json_object_foreach(json_object_get(view, "queue"), course, per_course)
        json_object_foreach(per_course, cap, per_cap)
            json_object_foreach(per_cap, prio, n) {
                struct buf l = BUF_INIT;
                counters_label(&l, "course", course);
                counters_label(&l, "capability", cap);
                counters_label(&l, "priority", prio);
                sample(out, "assay_queue_jobs", buf_str(&l), (double)json_integer_value(n));
                buf_free(&l);
            }
    family(out, "assay_queue_oldest_job_age_seconds", "gauge", "How long the oldest job "
           "waiting for each capability has waited.");
    json_object_foreach(json_object_get(view, "capabilities"), cap, per_cap) {
        double q = jsonutil_num(json_array_get(json_object_get(per_cap, "jobs"), 0), "queued_at",
                                NAN);
        if (!isfinite(q))
            continue;
        struct buf l = BUF_INIT;
        counters_label(&l, "capability", cap);
        sample(out, "assay_queue_oldest_job_age_seconds", buf_str(&l), fmax(0, now - q));
        buf_free(&l);
    }
    json_decref(view);
}

/* Jobs in the states other than waiting, counted by their files. */
static void render_states(const struct spool *s, const struct workers *w, struct buf *out)
{
    family(out, "assay_jobs", "gauge", "Jobs in the spool's other states: running (in a "
           "worker slot), deferred (to be retried), hold, failed.");
    size_t running = 0;
    for (size_t i = 0; w && i < w->n; i++)
        for (int k = 1; k <= worker_shippers(&w->v[i]); k++) {
            char name[160], rel[200];
            spool_slot_name(name, sizeof name, w->v[i].name, k);
            snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s", name);
            running += scan_count_jobs(s, rel);
        }
    const char *names[] = {"running", "deferred", "hold", "failed"};
    size_t counts[] = {running, scan_count_jobs(s, SPOOL_DEFERRED), scan_count_jobs(s, SPOOL_HOLD),
                       scan_count_jobs(s, SPOOL_FAILED)};
    for (size_t i = 0; i < 4; i++) {
        struct buf l = BUF_INIT;
        counters_label(&l, "state", names[i]);
        sample(out, "assay_jobs", buf_str(&l), (double)counts[i]);
        buf_free(&l);
    }
}

/* Deliveries waiting to be sent (pending/, sending/): few at any time,
 * since the ones settled leave those directories. */
static void render_deliveries(const struct spool *s, struct buf *out)
{
    family(out, "assay_deliveries", "gauge", "Deliveries not yet settled: pending (waiting for "
           "their turn or a retry), sending.");
    struct fs_list l;
    const char *states[] = {DELIVERY_PENDING, DELIVERY_SENDING}, *names[] = {"pending", "sending"};
    for (size_t i = 0; i < 2; i++) {
        if (delivery_list(s, states[i], &l) < 0)
            continue;   /* out of memory: the series is left out, not shown as 0 */
        struct buf lab = BUF_INIT;
        counters_label(&lab, "state", names[i]);
        sample(out, "assay_deliveries", buf_str(&lab), (double)l.n);
        buf_free(&lab);
        fs_list_free(&l);
    }
}

/* --- workers (workers.json, health/) --------------------------------- */

static void worker_label(struct buf *l, const char *worker, const char *state)
{
    buf_reset(l);
    counters_label(l, "worker", worker);
    if (state)
        counters_label(l, "state", state);
}

static void render_workers(const struct spool *s, const struct workers *w, struct buf *out)
{
    struct buf l = BUF_INIT;
    family(out, "assay_worker_up", "gauge", "1 when the worker's shippers last found it up, "
           "0 when down or refusing jobs (or not probed yet), by worker.");
    json_t **health = calloc(w ? w->n + 1 : 1, sizeof *health);
    for (size_t i = 0; w && health && i < w->n; i++) {
        health[i] = health_read(s, w->v[i].name);
        worker_label(&l, w->v[i].name, NULL);
        sample(out, "assay_worker_up", buf_str(&l),
               !strcmp(jsonutil_str(health[i], "status", ""), "up"));
    }
    family(out, "assay_worker_enabled", "gauge", "1 when workers.json lets the worker take "
           "jobs, by worker.");
    for (size_t i = 0; w && i < w->n; i++) {
        worker_label(&l, w->v[i].name, NULL);
        sample(out, "assay_worker_enabled", buf_str(&l), w->v[i].enabled);
    }
    family(out, "assay_worker_slots", "gauge", "The worker's slots (one per shipper, prefetch "
           "included), by state: busy (a job in it) or idle.");
    for (size_t i = 0; w && i < w->n; i++) {
        int busy = 0, total = worker_shippers(&w->v[i]);
        for (int k = 1; k <= total; k++) {
            char name[160], rel[200];
            spool_slot_name(name, sizeof name, w->v[i].name, k);
            snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s", name);
            busy += scan_count_jobs(s, rel) > 0;
        }
        worker_label(&l, w->v[i].name, "busy");
        sample(out, "assay_worker_slots", buf_str(&l), busy);
        worker_label(&l, w->v[i].name, "idle");
        sample(out, "assay_worker_slots", buf_str(&l), total - busy);
    }
    family(out, "assay_worker_last_contact_timestamp_seconds", "gauge", "When the worker last "
           "answered its shippers (seconds since the epoch), by worker.");
    for (size_t i = 0; w && health && i < w->n; i++) {
        double t;
        if (!clock_parse_iso8601(jsonutil_str(health[i], "last_contact", ""), &t))
            continue;   /* never heard from: no sample rather than a 1970 one */
        worker_label(&l, w->v[i].name, NULL);
        sample(out, "assay_worker_last_contact_timestamp_seconds", buf_str(&l), t);
    }
    for (size_t i = 0; w && health && i < w->n; i++)
        json_decref(health[i]);
    free(health);
    buf_free(&l);
}

int metrics_render(const struct spool *s, double now, struct buf *out, struct err *e)
{
    size_t start = out->len;
    family(out, "assay_build_info", "gauge", "Always 1; the version of Assay serving the metrics.");
    struct buf l = BUF_INIT;
    counters_label(&l, "version", ASSAY_VERSION);
    sample(out, "assay_build_info", buf_str(&l), 1);
    buf_free(&l);
    struct workers w;
    struct problems p = {0};
    /* a broken workers.json (the scheduler keeps its last good one): no worker series */
    bool have_workers = workers_load(s, &w, &p) == 0;
    problems_free(&p);
    render_queue(s, now, out);
    render_states(s, have_workers ? &w : NULL, out);
    render_workers(s, have_workers ? &w : NULL, out);
    render_deliveries(s, out);
    render_counters(s, out);
    workers_free(&w);
    /* buf_printf fails only when memory ran out: a half page is no page */
    if (!out->data || out->len == start || out->data[out->len - 1] != '\n')
        return err_set(e, "out of memory rendering the metrics");
    return 0;
}

/* --- access ---------------------------------------------------------- */

int metrics_token_load(const char *path, char **token, struct err *e)
{
    *token = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0)
        return err_sys(e, "cannot read the metrics token file %s (web.json: metrics.token_file)",
                       path);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        close(fd);
        return err_set(e, "the metrics token file %s (web.json: metrics.token_file) must be a "
                       "regular file only its owner can read: chmod 600 %s", path, path);
    }
    struct buf b = BUF_INIT;
    char chunk[512];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 && b.len < 4096)
        buf_append(&b, chunk, (size_t)n);
    close(fd);
    char *text = b.data ? strndup(b.data, strcspn(b.data, "\r\n")) : NULL;
    buf_free(&b);
    if (!text || strlen(text) < 16) {
        free(text);
        return err_set(e, "the metrics token file %s (web.json: metrics.token_file) must hold "
                       "a token of at least 16 characters on its first line (e.g. `head -c 32 "
                       "/dev/urandom | base64 >%s`)", path, path);
    }
    *token = text;
    return 0;
}

static bool is_loopback(const char *peer)
{
    return peer && (!strncmp(peer, "127.", 4) || !strcmp(peer, "::1") ||
                    !strncmp(peer, "::ffff:127.", 11));
}

bool metrics_allowed(const char *token, const char *peer, const char *forwarded,
                     const char *authorization)
{
    if (!token)
        return is_loopback(peer) && !forwarded;
    static const char scheme[] = "Bearer ";
    if (!authorization || strncasecmp(authorization, scheme, sizeof scheme - 1))
        return false;
    const char *given = authorization + sizeof scheme - 1;
    size_t len = strlen(token);
    /* compared in constant time: a scraper's guesses learn nothing from timing */
    return strlen(given) == len && sodium_memcmp(given, token, len) == 0;
}
