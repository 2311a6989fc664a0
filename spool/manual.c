/*
 * manual.c - the grades people give to answers a test leaves to them.
 *
 * A notebook's manually graded cells reach results.json as the test's
 * "needs_manual_grading" items (contract/results.h), pending until a
 * person grades them with `assay manual grade`.  Their grades live in
 * manual/COURSE/ASSIGNMENT/STUDENT/VERSION.json, beside the results and
 * not in them, because recording a regrade replaces the whole result
 * directory: spool/record.c folds the grades in each time it records
 * (manual_apply), and manual_grade brings the recorded result up to date
 * at once (record_refresh_manual).  Both hold the student's lock
 * (manual_lock), so a grade given while a regrade is recorded is in one
 * of them, never lost between them.  manual_latest_score is the one
 * reading of "the score to report" for gradebooks and LMS passback; a
 * grade given queues the new score to the course's destinations
 * (spool/delivery.c), as a recorded result does.
 */
#define _GNU_SOURCE
#include "spool/manual.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "contract/results.h"
#include "spool/delivery.h"
#include "spool/record.h"

#define MANUAL_MAX_BYTES (4u << 20)
#define COMMENT_MAX 4000

void manual_score_of(const json_t *results, struct manual_score *out)
{
    struct manual_tally t;
    const json_t *a = json_object_get(results, "assay");
    results_manual_tally(results, &t);
    out->version = json_integer_value(json_object_get(a, "version"));
    out->score = jsonutil_num(results, "score", 0);
    out->max_score = jsonutil_num(results, "max_score", 0);
    out->pending = t.pending > 0;
    out->pending_answers = t.pending;
    out->pending_points = t.pending_points;
    snprintf(out->status, sizeof out->status, "%s", jsonutil_str(a, "status", "graded"));
}

int manual_latest_score(const struct spool *s, const char *course, const char *asg,
                        const char *student, struct manual_score *out, struct err *e)
{
    long long version = 0;
    memset(out, 0, sizeof *out);
    (void)e;   /* a result that cannot be read is no result, as for every reader of results */
    json_t *r = record_latest(s, course, asg, student, &version);
    if (r) {
        manual_score_of(r, out);
        out->version = version;
    }
    json_decref(r);
    return 0;
}

static char *grades_path(const struct spool *s, const char *course, const char *asg,
                         const char *student, long long version)
{
    return spool_path(s, "manual/%s/%s/%s/%lld.json", course, asg, student, version);
}

json_t *manual_load(const struct spool *s, const char *course, const char *asg,
                    const char *student, long long version, struct err *e)
{
    char *path = grades_path(s, course, asg, student, version);
    json_t *file = NULL, *grades = NULL;
    if (!path)
        err_set(e, "out of memory");
    else if (!fs_exists(path) && !(grades = json_object()))
        err_set(e, "out of memory");
    else if (!grades && (file = jsonutil_load_file(path, MANUAL_MAX_BYTES, e))) {
        grades = json_incref(json_object_get(file, "grades"));
        if (!json_is_object(grades)) {
            err_set(e, "%s has no \"grades\" object (restore it from a backup, or remove it "
                    "and grade again)", path);
            json_decref(grades);
            grades = NULL;
        }
    }
    json_decref(file);
    free(path);
    return grades;
}

int manual_lock(const struct spool *s, const char *course, const char *asg,
                const char *student, struct err *e)
{
    char *dir = spool_path(s, "manual/%s/%s/%s", course, asg, student);
    char *path = dir ? fs_join(dir, ".lock") : NULL;
    int fd = -1;
    if (!path)
        err_set(e, "out of memory");
    else if (fs_mkdir_p(dir, 0700, e) == 0) {
        fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            err_sys(e, "cannot open %s", path);
        else if (flock(fd, LOCK_EX) < 0) {   /* held for milliseconds by a recorder or a grader */
            err_sys(e, "cannot lock %s", path);
            close(fd);
            fd = -1;
        }
    }
    free(path);
    free(dir);
    return fd;
}

int manual_apply(const struct spool *s, json_t *results, struct err *e)
{
    const json_t *a = json_object_get(results, "assay");
    struct manual_tally t;
    results_manual_tally(results, &t);
    if (t.items == 0)
        return 0;   /* nothing a person grades: no file to read */
    json_t *grades = manual_load(s, jsonutil_str(a, "course", ""), jsonutil_str(a, "assignment", ""),
                                 jsonutil_str(a, "student", ""),
                                 json_integer_value(json_object_get(a, "version")), e);
    if (!grades)
        return -1;
    int n = (int)json_object_size(grades);
    if (n > 0 && results_apply_manual(results, grades, NULL) < 0)
        n = err_set(e, "out of memory");
    json_decref(grades);
    return n;
}

int manual_parse_points(const char *text, double *points, struct err *e)
{
    char *end = NULL;
    *points = text ? strtod(text, &end) : NAN;
    if (!text || !*text || *end || !isfinite(*points) || *points < 0)
        return err_set(e, "--points \"%s\" must be a number of 0 or more (fractions allowed: "
                       "1.5)", text ? text : "");
    return 0;
}

/* The "needs_manual_grading" item of RESULTS for CELL, or NULL; the
 * grade_ids there are, in IDS ("q1, q2"), for a message. */
static const json_t *find_item(const json_t *results, const char *cell, struct buf *ids)
{
    size_t i, j;
    const json_t *test, *item, *found = NULL;
    json_array_foreach(json_object_get(results, "tests"), i, test)
        json_array_foreach(json_object_get(test, "needs_manual_grading"), j, item) {
            const char *id = jsonutil_str(item, "grade_id", "");
            buf_printf(ids, "%s%s", ids->len ? ", " : "", id);
            if (!found && !strcmp(id, cell))
                found = item;
        }
    return found;
}

/* Checks CELL and POINTS against the recorded RESULTS; its maximum in *MAX. */
static int check_grade(const json_t *results, const char *who_what, const char *cell,
                       double points, double *max, struct err *e)
{
    struct buf ids = BUF_INIT;
    const json_t *item = find_item(results, cell, &ids);
    int rc = 0;
    if (!item)
        rc = ids.len ? err_set(e, "%s has no answer \"%s\" to grade by hand; it has: %s",
                               who_what, cell, buf_str(&ids))
                     : err_set(e, "%s has no answers graded by hand (no notebook cell of the "
                               "assignment is a manually graded answer or task)", who_what);
    *max = item ? jsonutil_num(item, "points", 0) : 0;
    if (rc == 0 && (!isfinite(points) || points < 0 || points > *max))
        rc = err_set(e, "--points %g is not between 0 and %g, the points of answer \"%s\"",
                     points, *max, cell);
    buf_free(&ids);
    return rc;
}

/* Writes GRADES as the version's file, durably. */
static int save_grades(const struct spool *s, const char *course, const char *asg,
                       const char *student, long long version, const json_t *grades,
                       struct err *e)
{
    char *rel = NULL;
    json_t *file = json_pack("{s:I, s:O}", "version", (json_int_t)version, "grades", grades);
    int rc = file && asprintf(&rel, "manual/%s/%s/%s/%lld.json", course, asg, student, version) >= 0
                 ? spool_write_json(s, rel, file, e) : err_set(e, "out of memory");
    free(rel);
    json_decref(file);
    return rc;
}

static json_t *new_grade(double points, double max, const char *comment, const char *who)
{
    char now[32];
    clock_iso8601(clock_wall(), now);
    json_t *g = json_pack("{s:f, s:f, s:s, s:s}", "points", points, "max_points", max,
                          "graded_by", who, "graded_at", now);
    if (g && comment && *comment) {
        size_t len = strlen(comment);
        if (json_object_set_new(g, "comment", jsonutil_text(comment, len < COMMENT_MAX ? len
                                                                          : COMMENT_MAX)) < 0) {
            json_decref(g);
            g = NULL;
        }
    }
    return g;
}

/* The grading itself, holding the student's lock. */
static int grade_locked(const struct spool *s, const char *course, const char *asg,
                        const char *student, long long version, const char *cell,
                        json_t *grade, json_t **before, struct err *e)
{
    char rel[600], what[400];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, version);
    snprintf(what, sizeof what, "The result of %s's version %lld of %s/%s", student, version,
             course, asg);
    json_t *r = record_read(s, rel), *grades = NULL;
    double max;
    int rc = -1;
    if (!r)
        err_set(e, "%s has no result to grade (not graded yet, or no such version)", what + 14);
    else if (check_grade(r, what, cell, json_real_value(json_object_get(grade, "points")),
                              &max, e) == 0 &&
             (grades = manual_load(s, course, asg, student, version, e))) {
        *before = json_incref(json_object_get(grades, cell));
        json_object_set_new(grade, "max_points", json_real(max));
        if (json_object_set(grades, cell, grade) < 0)
            err_set(e, "out of memory");
        else if (save_grades(s, course, asg, student, version, grades, e) == 0)
            rc = record_refresh_manual(s, course, asg, student, version, e);
    }
    json_decref(grades);
    json_decref(r);
    return rc;
}

/* The score STUDENT's VERSION now has, queued to each destination the
 * course sends grades to.  The grade stands whatever happens here: a
 * delivery that cannot be queued is logged with the command that sends
 * it later. */
static void deliver_new_score(const struct spool *s, const char *course, const char *asg,
                              const char *student, long long version)
{
    char id[40], change[80], rel[600];
    ids_job_id(id);
    snprintf(change, sizeof change, "%s.manual", id);
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, version);
    json_t *r = record_read(s, rel);
    struct delivery_target t = {course, asg, student, version,
                                jsonutil_str(json_object_get(r, "assay"), "job_id", id), 0, false,
                                NULL};
    struct err e;
    if (delivery_queue_change(s, &t, change, &e) < 0)
        log_msg(LOG_ERROR, id, "the manual grade of %s's %s/%s is not delivered: %s; `assay sync "
                "resend --course %s --assignment %s --student %s` sends it", student, course, asg,
                e.msg, course, asg, student);
    json_decref(r);
}

int manual_grade(const struct spool *s, const char *course, const char *asg,
                 const char *student, long long version, const char *cell, double points,
                 const char *comment, const char *who, long long *version_out,
                 json_t **before, struct err *e)
{
    *before = NULL;
    if (version == 0)
        json_decref(record_latest(s, course, asg, student, &version));   /* only its version */
    if (version == 0)
        return err_set(e, "%s has no graded submission to %s/%s yet (see assay results "
                       "--course %s --assignment %s)", student, course, asg, course, asg);
    *version_out = version;
    json_t *grade = new_grade(points, 0, comment, who);
    if (!grade)
        return err_set(e, "out of memory");
    int lock = manual_lock(s, course, asg, student, e);
    int rc = lock < 0 ? -1 : grade_locked(s, course, asg, student, version, cell, grade, before, e);
    if (lock >= 0)
        close(lock);
    json_decref(grade);
    if (rc == 0)
        deliver_new_score(s, course, asg, student, version);
    return rc;
}
