/*
 * data.c - the facts assay-web's pages show, each read with the spool's
 * own reader (scan.c lists, job.c reads a job file, queue.c says why a
 * job failed, stats.c knows grading times, workers.c the slots): the
 * pages add nothing of their own to the spool's format.
 *
 * Listing the queue reads each job file once while it stays in the same
 * state directory (the rows are kept, dir_rows): a page lists the
 * directories and reads only the files new since the last page.  The
 * admin page's counts come from spool_status_collect, which uses the
 * scheduler's summary for large queues.
 */
#define _GNU_SOURCE
#include "web/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scan.h"
#include "spool/stats.h"
#include "spool/workers.h"

/* Each state directory's jobs as last seen, {"REL": {"NAME": row}}: a job
 * file is read once while it stays where it is, so a page during a queue
 * of 100,000 jobs costs a directory listing, not 100,000 reads.  Rows
 * keep the job's course; the pages filter on it. */
static json_t *seen;

void data_forget(void)
{
    json_decref(seen);
    seen = NULL;
}

static json_t *job_row(const char *rel, const char *state, const struct job *job)
{
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:f, s:s}", "id", job->id, "state",
                            state, "course", job->course, "assignment", job->assignment,
                            "student", job->student, "version", (json_int_t)job->version,
                            "queued_at", job->queued_at, "capability", job->capability);
    if (row && !strncmp(rel, SPOOL_SHIPPERS "/", 9))
        json_object_set_new(row, "slot", json_string(rel + 9));
    return row;
}

/* A failed job's reason, read until there is one (it is written beside
 * the job file). */
static void add_reason(const struct spool *s, json_t *row)
{
    if (json_object_get(row, "reason"))
        return;
    struct err e;   /* no reason recorded: the page says the job failed, without one */
    char *why = queue_failed_reason(s, jsonutil_str(row, "id", ""), &e);
    if (why)
        json_object_set_new(row, "reason", json_string(why));
    free(why);
}

/* The directory's identity and change time, to tell it changed. */
static void dir_stamp(const struct spool *s, const char *rel, char out[64])
{
    char *dir = spool_path(s, "%s", rel);
    struct stat st;
    if (!dir || stat(dir, &st) < 0)
        snprintf(out, 64, "-");
    else
        snprintf(out, 64, "%llu:%lld.%09ld", (unsigned long long)st.st_ino,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    free(dir);
}

/* Brings ROWS up to date with the listing: new files read, gone ones
 * dropped (each kept row is marked with this pass's number). */
static void refresh_rows(const struct spool *s, const char *rel, const char *state, json_t *rows)
{
    static json_int_t pass;
    pass++;
    struct fs_list files;
    scan_spool(s, rel, SCAN_JOBS, &files);   /* out of memory: those listed are shown */
    for (size_t i = 0; i < files.n; i++) {
        json_t *row = json_object_get(rows, files.names[i]);
        if (!row) {
            char *path = spool_path(s, "%s/%s", rel, files.names[i]);
            struct job job;
            struct err e;
            if (job_load(path, &job, &e) == 0) {   /* else moved on meanwhile, or not a job */
                row = job_row(rel, state, &job);
                json_object_set_new(rows, files.names[i], row);
                job_free(&job);
            }
            free(path);
        }
        json_object_set_new(row, "pass", json_integer(pass));
    }
    fs_list_free(&files);
    const char *name;
    json_t *row, *tmp;
    json_object_foreach_safe(rows, tmp, name, row)
        if (json_integer_value(json_object_get(row, "pass")) != pass)
            json_object_del(rows, name);
}

/* The jobs of state directory REL now: {"NAME": row}, borrowed.  The
 * directory is listed again only when it changed. */
static json_t *dir_rows(const struct spool *s, const char *rel, const char *state)
{
    if (!seen && !(seen = json_object()))
        return NULL;
    json_t *entry = json_object_get(seen, rel);
    if (!entry) {
        entry = json_pack("{s:s, s:{}}", "stamp", "", "rows");
        if (!entry || json_object_set_new(seen, rel, entry) < 0)
            return NULL;
    }
    char stamp[64];
    dir_stamp(s, rel, stamp);
    json_t *rows = json_object_get(entry, "rows");
    if (strcmp(stamp, jsonutil_str(entry, "stamp", ""))) {
        refresh_rows(s, rel, state, rows);
        json_object_set_new(entry, "stamp", json_string(stamp));
    }
    return rows;
}

static bool wanted(const json_t *row, const char *course, const char *asg, const char *student)
{
    return !strcmp(jsonutil_str(row, "course", ""), course) &&
           (!asg || !strcmp(jsonutil_str(row, "assignment", ""), asg)) &&
           (!student || !strcmp(jsonutil_str(row, "student", ""), student));
}

static void add_dir(const struct spool *s, const char *rel, const char *state,
                    const char *const want[3], json_t *out)
{
    const char *name;
    json_t *row, *rows = dir_rows(s, rel, state);   /* once: the macro evaluates it often */
    json_object_foreach(rows, name, row) {
        if (!wanted(row, want[0], want[1], want[2]))
            continue;
        if (!strcmp(state, "failed"))
            add_reason(s, row);
        json_array_append(out, row);
    }
}

static int by_queued_at(const void *a, const void *b)
{
    double x = jsonutil_num(*(json_t *const *)a, "queued_at", 0);
    double y = jsonutil_num(*(json_t *const *)b, "queued_at", 0);
    return x < y ? -1 : x > y;
}

static void sort_rows(json_t *rows)
{
    size_t n = json_array_size(rows);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return;   /* out of memory: shown in the order found */
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(rows, i));
    qsort(v, n, sizeof *v, by_queued_at);
    json_array_clear(rows);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(rows, v[i]);
    free(v);
}

json_t *data_queue_jobs(const struct spool *s, const char *course, const char *asg,
                        const char *student)
{
    const char *const w[3] = {course, asg, student};
    json_t *rows = json_array();
    if (!rows)
        return NULL;
    add_dir(s, SPOOL_INCOMING, "waiting", w, rows);
    add_dir(s, SPOOL_DEFERRED, "deferred", w, rows);
    add_dir(s, SPOOL_HOLD, "held", w, rows);
    add_dir(s, SPOOL_FAILED, "failed", w, rows);
    struct fs_list slots;
    char *dir = spool_path(s, SPOOL_SHIPPERS);
    if (dir && scan_dir(dir, SCAN_NAMES, &slots) == 0)
        for (size_t i = 0; i < slots.n; i++) {
            char rel[300];
            snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s", slots.names[i]);
            add_dir(s, rel, "running", w, rows);
        }
    fs_list_free(&slots);
    free(dir);
    sort_rows(rows);
    return rows;
}

static json_t *names_in(const struct spool *s, const char *rel, json_t *set)
{
    struct fs_list l;
    scan_spool(s, rel, SCAN_NAMES, &l);   /* out of memory: those listed are shown */
    for (size_t i = 0; i < l.n; i++)
        json_object_set_new(set, l.names[i], json_true());
    fs_list_free(&l);
    return set;
}

static json_t *sorted_keys(json_t *set)
{
    json_t *out = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v)
        json_array_append_new(out, json_string(k));
    json_decref(set);
    size_t n = json_array_size(out);
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        return out;
    for (size_t i = 0; i < n; i++)
        names[i] = json_string_value(json_array_get(out, i));
    qsort(names, n, sizeof *names, fs_cmp_names);
    json_t *sorted = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(sorted, json_string(names[i]));
    free(names);
    json_decref(out);
    return sorted;
}

json_t *data_students(const struct spool *s, const char *course, const char *asg)
{
    char a[300], b[300];
    snprintf(a, sizeof a, "submissions/%s/%s", course, asg);
    snprintf(b, sizeof b, "results/%s/%s", course, asg);
    json_t *set = json_object();
    names_in(s, a, set);
    names_in(s, b, set);
    return sorted_keys(set);
}

json_t *data_assignments(const struct spool *s, const char *course)
{
    char rel[300];
    snprintf(rel, sizeof rel, "courses/%s", course);
    json_t *set = names_in(s, rel, json_object()), *keep = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(set, k, v) {
        char *p = spool_path(s, "courses/%s/%s/assignment.json", course, k);
        if (p && fs_exists(p))
            json_object_set_new(keep, k, json_true());
        free(p);
    }
    json_decref(set);
    return sorted_keys(keep);
}

json_t *data_courses(const struct spool *s)
{
    return sorted_keys(names_in(s, "courses", json_object()));
}

void data_queue_place(const struct spool *s, const char *course, const char *asg,
                      const char *capability, double queued_at, size_t *ahead, double *wait_s)
{
    *ahead = 0;
    *wait_s = -1;
    const char *name;
    json_t *row, *rows = dir_rows(s, SPOOL_INCOMING, "waiting");   /* once: see add_dir */
    json_object_foreach(rows, name, row)
        *ahead += jsonutil_num(row, "queued_at", 0) < queued_at &&
                  !strcmp(jsonutil_str(row, "capability", ""), capability);
    struct workers w;
    struct problems p = {0};
    int slots = 0;
    if (workers_load(s, &w, &p) == 0)
        for (size_t i = 0; i < w.n; i++)
            if (w.v[i].enabled && worker_offers(&w.v[i], capability))
                slots += w.v[i].slots;
    workers_free(&w);
    problems_free(&p);
    double avg;
    if (slots > 0 && stats_grading_avg(s, course, asg, &avg))
        *wait_s = ceil((double)(*ahead + 1) / slots) * avg;
}
