/*
 * stats.c - what Assay learns from the results it records.
 *
 *   stats/COURSE/ASSIGNMENT.json  {"grading_s_avg": 1.8, "jobs": 412}
 *       an exponential moving average of the time a job of the assignment
 *       holds a slot (the shipper's round trip), updated in place by
 *       record.c; the fair scheduling policy charges a course this much
 *       per job.
 *   stats/waits.log               "FINISHED_AT COURSE WAIT_S OUTCOME" per line
 *       appended by record.c for every job a worker graded (one short
 *       O_APPEND write, atomic between shippers); OUTCOME is "graded", or
 *       the category of the result's error ("submission", "assignment";
 *       lines of older versions have none: "graded"); when it passes
 *       STATS_WAITS_MAX_BYTES it becomes waits.log.1, so `assay status`
 *       reads at most two bounded files for its median wait of the last
 *       hour, however many results the spool holds.
 *
 * Both are a convenience: losing either only loses history.
 */
#define _GNU_SOURCE
#include "spool/stats.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/jsonutil.h"

static int note_grading(const struct spool *s, const char *course, const char *assignment,
                        double grading_s, struct err *e)
{
    char *dir = spool_path(s, "stats/%s", course);
    char *path = spool_path(s, "stats/%s/%s.json", course, assignment);
    int rc = fs_mkdir_p(dir, 0755, e);
    if (rc == 0) {
        struct err torn;   /* a write caught half done: no history yet (below) */
        json_t *old = fs_exists(path) ? jsonutil_load_file(path, 1u << 16, &torn) : NULL;
        double avg = jsonutil_num(old, "grading_s_avg", NAN);
        double n = jsonutil_num(old, "jobs", 0);
        avg = isfinite(avg) && n > 0 ? (1 - STATS_ALPHA) * avg + STATS_ALPHA * grading_s : grading_s;
        char text[96];
        int len = snprintf(text, sizeof text, "{\"grading_s_avg\": %.6f, \"jobs\": %.0f}\n", avg,
                           n + 1);
        /* Written over the old text, not a new file renamed in: every
         * graded job updates this file, and on a disk file system a new
         * inode costs a shipper far more than the write.  A reader that
         * catches the write half done sees broken JSON, which counts as
         * no history yet. */
        if (len > 0 && (size_t)len < sizeof text)
            rc = fs_write_file(path, text, (size_t)len, false, e);
        else
            rc = err_set(e, "cannot note a grading time of %g s in %s", avg, path);
        json_decref(old);
    }
    free(path);
    free(dir);
    return rc;
}

static int note_wait(const struct spool *s, const char *course, double wait_s, double finished_at,
                     const char *outcome, struct err *e)
{
    char *path = spool_path(s, "stats/waits.log");
    if (!path)
        return err_set(e, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0644);
    int rc = fd < 0 ? err_sys(e, "cannot open %s", path) : 0;
    if (fd >= 0) {
        char line[160];
        int n = snprintf(line, sizeof line, "%.3f %s %.3f %.20s\n", finished_at, course, wait_s,
                         outcome);
        struct stat st;
        if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) != n)
            rc = err_sys(e, "cannot append to %s", path);
        if (rc == 0 && fstat(fd, &st) == 0 && st.st_size > (off_t)STATS_WAITS_MAX_BYTES) {
            char *old = spool_path(s, "stats/waits.log.1");
            /* ENOENT: another shipper rolled it over first */
            if (!old || (rename(path, old) < 0 && errno != ENOENT))
                rc = err_sys(e, "cannot roll %s over", path);
            free(old);
        }
        close(fd);
    }
    free(path);
    return rc;
}

int stats_note_job(const struct spool *s, const char *course, const char *assignment,
                   double wait_s, double grading_s, double finished_at, const char *outcome,
                   struct err *e)
{
    struct err later;   /* the first failure is the one reported */
    int rc = note_grading(s, course, assignment, grading_s, e);
    if (note_wait(s, course, wait_s, finished_at, outcome, rc < 0 ? &later : e) < 0)
        rc = -1;
    return rc;
}

bool stats_grading_avg(const struct spool *s, const char *course, const char *assignment,
                       double *avg)
{
    char *path = spool_path(s, "stats/%s/%s.json", course, assignment);
    struct err e;   /* unreadable (a write caught half done) is no history, like none */
    json_t *j = fs_exists(path) ? jsonutil_load_file(path, 1u << 16, &e) : NULL;
    double v = jsonutil_num(j, "grading_s_avg", NAN);
    json_decref(j);
    free(path);
    if (!isfinite(v) || v < 0)
        return false;
    *avg = v;
    return true;
}

/* Counts OUTCOME for COURSE in OUTCOMES ({course: {outcome: n}}). */
static void count_outcome(json_t *outcomes, const char *course, const char *outcome)
{
    json_t *per = json_object_get(outcomes, course);
    if (!per) {
        per = json_object();
        json_object_set_new(outcomes, course, per);
    }
    json_object_set_new(per, outcome,
                        json_integer(json_integer_value(json_object_get(per, outcome)) + 1));
}

/* Adds the waits of FILE that finished at or after SINCE to WAITS
 * ({course: [wait, ...]}) and their outcomes to OUTCOMES. */
static void read_waits(const char *file, double since, json_t *waits, json_t *outcomes)
{
    struct buf b = BUF_INIT;
    struct err e;   /* rolled over meanwhile, or unreadable: only history goes uncounted */
    if (fs_read_file(file, 2 * STATS_WAITS_MAX_BYTES, &b, &e) < 0 || !b.data) {
        buf_free(&b);
        return;
    }
    char *save = NULL;
    for (char *line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char course[80], outcome[24] = "graded";
        double at, wait;
        if (sscanf(line, "%lf %79s %lf %23s", &at, course, &wait, outcome) < 3 || at < since)
            continue;
        count_outcome(outcomes, course, outcome);
        json_t *list = json_object_get(waits, course);
        if (!list) {
            list = json_array();
            json_object_set_new(waits, course, list);
        }
        json_array_append_new(list, json_real(wait));
    }
    buf_free(&b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

json_t *stats_recent_waits(const struct spool *s, double since)
{
    json_t *waits = json_object(), *out = json_object(), *outcomes = json_object();
    const char *files[] = {"stats/waits.log.1", "stats/waits.log"};
    for (int i = 0; i < 2; i++) {
        char *path = spool_path(s, "%s", files[i]);
        if (fs_exists(path))
            read_waits(path, since, waits, outcomes);
        free(path);
    }
    const char *course;
    json_t *list;
    json_object_foreach(waits, course, list) {
        size_t n = json_array_size(list);
        double *v = malloc(n * sizeof *v);
        if (!v)
            continue;
        for (size_t i = 0; i < n; i++)
            v[i] = json_real_value(json_array_get(list, i));
        qsort(v, n, sizeof *v, cmp_double);
        double median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        json_object_set_new(out, course, json_pack("{s:f, s:I, s:O}", "median_wait_s", median,
                                                    "jobs", (json_int_t)n, "outcomes",
                                                    json_object_get(outcomes, course)));
        free(v);
    }
    json_decref(waits);
    json_decref(outcomes);
    return out;
}
