/*
 * counters.c - running totals that /metrics reports, kept in the spool.
 *
 * Prometheus counters must only grow while Assay runs, however often
 * assay-web or the scheduler restarts, so they cannot live in any one
 * process's memory.  Whoever makes a fact durable counts it here right
 * after: queue_enqueue (jobs submitted), record_result (jobs completed,
 * their wait and run times, the limits their tests hit), the shippers
 * (attempts and how they ended, stale results).  All of them go to one
 * small file, stats/counters.json:
 *
 *   {"counters":   {"assay_jobs_submitted_total":
 *                       {"course=\"cs101\",priority=\"interactive\"": 12}},
 *    "histograms": {"assay_job_wait_seconds":
 *                       {"course=\"cs101\"": {"buckets": [3, 1, ..., 0],
 *                                             "sum": 4.2, "count": 12}}}}
 *
 * The series' keys are their label lists as the text format writes them,
 * so the renderer (web/metrics.c) prints them as they are.  A change is
 * read, applied and written back under an flock of stats/counters.lock,
 * in one rename (spool_update_json), so a reader never sees half a file
 * and two shippers never lose each other's counts.  Not synced: a power
 * cut may lose the last counts, which Prometheus takes for a restart of
 * the counter; the facts themselves (results/, the queue) are durable.
 *
 * The file holds one series per label set, and the labels are courses,
 * capabilities, priorities and fixed words, never students or jobs, so it
 * stays a few kilobytes however many jobs the spool has seen.
 */
#define _GNU_SOURCE
#include "spool/counters.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"

#define COUNTERS_LOCK "stats/counters.lock"

/* Queue waits run from milliseconds (an idle pool) to an hour (a
 * deadline flood); a grading from a few hundredths of a second (an io
 * test) to the longest limits teachers give. */
static const double wait_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
                                     10, 30, 60, 120, 300, 600, 1800, 3600};
static const double run_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

static const struct {
    const char *name;
    const double *bounds;
    size_t n;
} histograms[] = {
    {"assay_job_wait_seconds", wait_bounds, sizeof wait_bounds / sizeof *wait_bounds},
    {"assay_job_run_seconds", run_bounds, sizeof run_bounds / sizeof *run_bounds},
};

const double *counters_buckets(const char *name, size_t *n)
{
    for (size_t i = 0; i < sizeof histograms / sizeof *histograms; i++)
        if (!strcmp(histograms[i].name, name)) {
            *n = histograms[i].n;
            return histograms[i].bounds;
        }
    return NULL;
}

void counters_label(struct buf *out, const char *name, const char *value)
{
    buf_printf(out, "%s%s=\"", out->len ? "," : "", name);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_printf(out, "\\%c", *p);
        else if (*p == '\n')
            buf_printf(out, "\\n");
        else
            buf_append(out, p, 1);
    }
    buf_append(out, "\"", 1);
}

json_t *counters_load_file(const char *path, struct err *e)
{
    if (!fs_exists(path))
        return json_pack("{s:{}, s:{}}", "counters", "histograms");
    json_t *j = jsonutil_load_file(path, COUNTERS_MAX_BYTES, e);
    if (j && !json_is_object(j)) {
        json_decref(j);
        err_set(e, "%s does not hold a JSON object", path);
        return NULL;
    }
    return j;
}

/* The object KEY of PARENT, made empty if it is missing or no object. */
static json_t *object_at(json_t *parent, const char *key)
{
    json_t *o = json_object_get(parent, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(parent, key, o);
    }
    return o;
}

static void add_counter(json_t *all, const struct counter_inc *c)
{
    json_t *series = object_at(object_at(all, "counters"), c->name);
    json_t *old = json_object_get(series, c->labels);
    double v = json_is_number(old) ? json_number_value(old) : 0;
    v += c->value;
    /* integral counts stay integers, so the file reads as they are */
    json_object_set_new(series, c->labels, v == floor(v) && fabs(v) < 9e15
                                               ? json_integer((json_int_t)v) : json_real(v));
}

static void observe(json_t *all, const struct counter_inc *c)
{
    size_t n;
    const double *bounds = counters_buckets(c->name, &n);
    if (!bounds || !isfinite(c->value))
        return;
    json_t *h = object_at(object_at(object_at(all, "histograms"), c->name), c->labels);
    json_t *buckets = json_object_get(h, "buckets");
    if (!json_is_array(buckets) || json_array_size(buckets) != n + 1) {
        /* new, or the bounds changed with a new version: start again */
        buckets = json_array();
        for (size_t i = 0; i <= n; i++)
            json_array_append_new(buckets, json_integer(0));
        json_object_set_new(h, "buckets", buckets);
        json_object_set_new(h, "sum", json_real(0));
        json_object_set_new(h, "count", json_integer(0));
    }
    size_t at = 0;
    while (at < n && c->value > bounds[at])
        at++;
    json_array_set_new(buckets, at, json_integer(json_integer_value(json_array_get(buckets, at)) + 1));
    json_object_set_new(h, "sum", json_real(jsonutil_num(h, "sum", 0) + c->value));
    json_object_set_new(h, "count", json_integer(json_integer_value(json_object_get(h, "count")) + 1));
}

/* Holds the counters' lock (an flock on its own file: the counters file
 * itself is replaced by every change).  Returns the descriptor or -1. */
static int lock_counters(const struct spool *s, struct err *e)
{
    char *dir = spool_path(s, "stats"), *path = spool_path(s, COUNTERS_LOCK);
    int fd = -1;
    if (!dir || !path)
        err_set(e, "out of memory");
    else if (fs_mkdir_p(dir, 0755, e) == 0) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            err_sys(e, "cannot open %s", path);
        else if (flock(fd, LOCK_EX) < 0) {   /* held for a millisecond by another writer */
            err_sys(e, "cannot lock %s", path);
            close(fd);
            fd = -1;
        }
    }
    free(dir);
    free(path);
    return fd;
}

int counters_add(const struct spool *s, const struct counter_inc *incs, size_t n, struct err *e)
{
    int fd = lock_counters(s, e);
    if (fd < 0)
        return -1;
    char *path = spool_path(s, COUNTERS_FILE);
    struct err broken;
    json_t *all = path ? counters_load_file(path, &broken) : NULL;
    int rc = 0;
    if (!path)
        rc = err_set(e, "out of memory");
    else if (!all) {
        /* A file no writer made (written by hand, a disk error): counting
         * starts again rather than stopping for good; Prometheus sees a
         * counter reset, which it handles. */
        all = json_pack("{s:{}, s:{}}", "counters", "histograms");
    }
    for (size_t i = 0; rc == 0 && all && i < n; i++) {
        if (incs[i].histogram)
            observe(all, &incs[i]);
        else
            add_counter(all, &incs[i]);
    }
    if (rc == 0)
        rc = all ? spool_update_json(s, COUNTERS_FILE, all, e) : err_set(e, "out of memory");
    json_decref(all);
    free(path);
    close(fd);   /* drops the lock */
    return rc;
}
