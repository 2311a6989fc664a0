/*
 * counters.c - running totals that /metrics reports, kept in the spool.
 *
 * Prometheus counters must only grow while Assay runs, however often
 * assay-web or the scheduler restarts, so they cannot live in any one
 * process's memory.  Whoever makes a fact durable counts it here right
 * after: queue_enqueue (jobs submitted), record_result (jobs completed,
 * their wait and run times, the limits their tests hit), the shippers
 * (attempts and how they ended, stale results).
 *
 * Counting must cost a job next to nothing, and a new file per count
 * would not (on a disk file system each replaced inode costs a shipper
 * milliseconds), so a count is one line appended to stats/counters.log:
 *
 *   # assay counters log 3f9a0c1d2e4b5a69         its generation, first
 *   c 1 assay_jobs_submitted_total course="cs101",priority="interactive"
 *   h 0.25 assay_job_wait_seconds course="cs101"  a histogram observes 0.25
 *
 * (one short O_APPEND write, under a shared flock of stats/counters.lock).
 * Once the log passes COUNTERS_LOG_MAX bytes, the writer that notices
 * folds it, under the exclusive lock, into stats/counters.json, the
 * totals so far:
 *
 *   {"counters":   {"assay_jobs_submitted_total":
 *                       {"course=\"cs101\",priority=\"interactive\"": 12}},
 *    "histograms": {"assay_job_wait_seconds":
 *                       {"course=\"cs101\"": {"buckets": [3, 1, ..., 0],
 *                                             "sum": 4.2, "count": 12}}},
 *    "folded": {"generation": "3f9a...", "bytes": 16500}}
 *
 * written in one rename, then removes the log; the next count starts a
 * log of a new generation.  "folded" says how much of which log is in
 * the totals already, so a folder killed between the two steps counts
 * nothing twice.  Readers (counters_load) take the shared lock and add
 * the log to the totals.  Neither file is synced: a power cut may lose
 * the last counts, which Prometheus takes for a counter reset; the facts
 * themselves (results/, the queue) are durable.
 *
 * The series' keys are their label lists as the text format writes them,
 * so the renderer (web/metrics.c) prints them as they are.  The labels
 * are courses, capabilities, priorities and fixed words, never students
 * or jobs, so the totals stay a few kilobytes.
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
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"

#define COUNTERS_LOCK "stats/counters.lock"
#define COUNTERS_LOG "stats/counters.log"
#define COUNTERS_LOG_MAX (16u << 10)   /* folded past this: a reader's cost stays small */
#define LOG_HEADER "# assay counters log "

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
    if (out->len)
        buf_append(out, ",", 1);
    buf_puts(out, name);
    buf_append(out, "=\"", 2);
    for (const char *p = value; *p; p++) {
        if (*p == '\\' || *p == '"')
            buf_append(out, "\\", 1);
        if (*p == '\n')
            buf_append(out, "\\n", 2);
        else
            buf_append(out, p, 1);
    }
    buf_append(out, "\"", 1);
}

/* --- the totals in memory -------------------------------------------- */

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

static void add_counter(json_t *all, const char *name, const char *labels, double value)
{
    json_t *series = object_at(object_at(all, "counters"), name);
    json_t *old = json_object_get(series, labels);
    double v = (json_is_number(old) ? json_number_value(old) : 0) + value;
    /* integral counts stay integers, so the file reads as they are */
    json_object_set_new(series, labels, v == floor(v) && fabs(v) < 9e15
                                            ? json_integer((json_int_t)v) : json_real(v));
}

static void observe(json_t *all, const char *name, const char *labels, double value)
{
    size_t n;
    const double *bounds = counters_buckets(name, &n);
    if (!bounds || !isfinite(value))
        return;
    json_t *h = object_at(object_at(object_at(all, "histograms"), name), labels);
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
    while (at < n && value > bounds[at])
        at++;
    json_array_set_new(buckets, at, json_integer(json_integer_value(json_array_get(buckets, at)) + 1));
    json_object_set_new(h, "sum", json_real(jsonutil_num(h, "sum", 0) + value));
    json_object_set_new(h, "count", json_integer(json_integer_value(json_object_get(h, "count")) + 1));
}

/* Applies one log line, "c|h VALUE NAME LABELS"; others (a line cut by a
 * power cut) are skipped. */
static void apply_line(json_t *all, char *line)
{
    char kind = line[0], *end;
    if ((kind != 'c' && kind != 'h') || line[1] != ' ')
        return;
    double value = strtod(line + 2, &end);
    if (end == line + 2 || *end != ' ')
        return;
    char *name = end + 1, *labels = strchr(name, ' ');
    if (!labels || labels == name)
        return;
    *labels++ = '\0';
    if (kind == 'h')
        observe(all, name, labels, value);
    else
        add_counter(all, name, labels, value);
}

/* --- the files -------------------------------------------------------- */

/* The lock (an flock on a file of its own: counters.json is replaced and
 * counters.log removed, so neither can carry it), taken as OP.  Returns
 * its descriptor or -1. */
static int lock_counters(const struct spool *s, int op, struct err *e)
{
    char *dir = spool_path(s, "stats"), *path = spool_path(s, COUNTERS_LOCK);
    int fd = -1;
    if (!dir || !path)
        err_set(e, "out of memory");
    else if (fs_mkdir_p(dir, 0755, e) == 0) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
            err_sys(e, "cannot open %s", path);
        else if (flock(fd, op) < 0) {   /* held for a moment by a folder */
            err_sys(e, "cannot lock %s", path);
            close(fd);
            fd = -1;
        }
    }
    free(dir);
    free(path);
    return fd;
}

/* The totals (counters.json, or empty ones) and the log's text (LOG,
 * empty when there is none).  Called under the lock. */
static json_t *read_both(const struct spool *s, struct buf *log, struct err *e)
{
    char *jpath = spool_path(s, COUNTERS_FILE), *lpath = spool_path(s, COUNTERS_LOG);
    json_t *all = NULL;
    struct err broken;
    if (!jpath || !lpath)
        err_set(e, "out of memory");
    else if (!fs_exists(jpath) || !(all = jsonutil_load_file(jpath, COUNTERS_MAX_BYTES, &broken)) ||
             !json_is_object(all)) {
        /* none yet; or a file no writer made (by hand, a disk error):
         * counting starts again rather than stopping for good */
        json_decref(all);
        all = json_pack("{s:{}, s:{}}", "counters", "histograms");
    }
    if (all && fs_exists(lpath) && fs_read_file(lpath, 4 * COUNTERS_LOG_MAX + (1u << 20), log, e) < 0) {
        json_decref(all);
        all = NULL;
    }
    free(jpath);
    free(lpath);
    return all;
}

/* Adds LOG's lines to ALL, but those "folded" says ALL holds already;
 * *GEN (33 bytes) gets the log's generation ("" when it has none). */
static void apply_log(json_t *all, struct buf *log, char *gen)
{
    gen[0] = '\0';
    if (!log->len)
        return;
    char *p = log->data, *nl = strchr(p, '\n');
    size_t hl = strlen(LOG_HEADER);
    if (nl && !strncmp(p, LOG_HEADER, hl) && nl - p - (long)hl < 33) {
        snprintf(gen, 33, "%.*s", (int)(nl - p - (long)hl), p + hl);
        p = nl + 1;
    }
    const json_t *folded = json_object_get(all, "folded");
    if (gen[0] && !strcmp(jsonutil_str(folded, "generation", ""), gen)) {
        size_t skip = (size_t)jsonutil_num(folded, "bytes", 0);
        p = skip <= log->len ? log->data + skip : log->data + log->len;
    }
    while (p < log->data + log->len && (nl = strchr(p, '\n'))) {
        *nl = '\0';
        apply_line(all, p);
        p = nl + 1;
    }
}

json_t *counters_load(const struct spool *s, struct err *e)
{
    int fd = lock_counters(s, LOCK_SH, e);
    if (fd < 0)
        return NULL;
    struct buf log = BUF_INIT;
    json_t *all = read_both(s, &log, e);
    char gen[33];
    if (all)
        apply_log(all, &log, gen);
    buf_free(&log);
    close(fd);
    return all;
}

/* Folds the log into counters.json, then removes it (under the
 * exclusive lock, which the caller holds). */
static int fold(const struct spool *s, struct err *e)
{
    struct buf log = BUF_INIT;
    json_t *all = read_both(s, &log, e);
    char gen[33];
    int rc = -1;
    if (all) {
        size_t bytes = log.len;
        apply_log(all, &log, gen);
        json_object_set_new(all, "folded", json_pack("{s:s, s:I}", "generation", gen, "bytes",
                                                     (json_int_t)bytes));
        rc = spool_update_json(s, COUNTERS_FILE, all, e);
    }
    char *lpath = spool_path(s, COUNTERS_LOG);
    if (rc == 0 && lpath && unlink(lpath) < 0 && errno != ENOENT)
        rc = err_sys(e, "cannot remove %s after folding it into %s", lpath, COUNTERS_FILE);
    free(lpath);
    json_decref(all);
    buf_free(&log);
    return rc;
}

/* The log, opened for appending; made (with a new generation) under the
 * exclusive lock when there is none.  *LOCK is the lock's descriptor,
 * held shared on return. */
static int open_log(const struct spool *s, int *lock, struct err *e)
{
    char *path = spool_path(s, COUNTERS_LOG);
    if (!path)
        return err_set(e, "out of memory");
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT && flock(*lock, LOCK_EX) == 0) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0) {
            char header[80], gen[33];
            ids_random_hex(gen, 16);
            int n = snprintf(header, sizeof header, LOG_HEADER "%s\n", gen);
            if (write(fd, header, (size_t)n) != n) {
                close(fd);
                fd = -1;
            }
        } else if (errno == EEXIST) {   /* another writer made it first */
            fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        }
        if (flock(*lock, LOCK_SH) < 0 && fd >= 0) {
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0)
        err_sys(e, "cannot append to %s", path);
    free(path);
    return fd;
}

int counters_add(const struct spool *s, const struct counter_inc *incs, size_t n, struct err *e)
{
    int lock = lock_counters(s, LOCK_SH, e);
    if (lock < 0)
        return -1;
    int fd = open_log(s, &lock, e), rc = fd < 0 ? -1 : 0;
    struct buf lines = BUF_INIT;
    for (size_t i = 0; rc == 0 && i < n; i++)
        buf_printf(&lines, "%c %.17g %s %s\n", incs[i].histogram ? 'h' : 'c', incs[i].value,
                   incs[i].name, incs[i].labels);
    /* one write: appends of several writers never interleave within it */
    if (rc == 0 && (!lines.data || write(fd, lines.data, lines.len) != (ssize_t)lines.len))
        rc = err_sys(e, "cannot append to %s", COUNTERS_LOG);
    struct stat st;
    bool full = rc == 0 && fstat(fd, &st) == 0 && st.st_size > (off_t)COUNTERS_LOG_MAX;
    if (fd >= 0)
        close(fd);
    buf_free(&lines);
    /* Only one of the writers that see it full folds it: the others find
     * a fresh log once they hold the exclusive lock. */
    if (full && flock(lock, LOCK_EX) == 0) {
        char *path = spool_path(s, COUNTERS_LOG);
        struct stat now;
        if (path && stat(path, &now) == 0 && now.st_size > (off_t)COUNTERS_LOG_MAX)
            rc = fold(s, e);
        free(path);
    }
    close(lock);   /* drops the lock */
    return rc;
}
