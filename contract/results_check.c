/*
 * results_check.c - what a worker may send back, checked on the primary
 * before anything of it is recorded or logged.
 *
 * A worker is trusted to grade the jobs sent to it, not to keep within
 * any shape or size: a compromised or broken one could send a
 * results.json that is not an object, nested thousands deep, with a
 * score of 100 out of 1, a feedback file of gigabytes, or a log with
 * lines made to look like the primary's.  The shipper unpacks a result
 * within the sizes below (common/archive.c counts bytes as they come),
 * calls results_check_dir, and treats a refusal as the attempt's
 * failure (deferred, then failed): it is never recorded as the
 * student's grade.  The worker's log lines are kept as sent_lines_split
 * makes them.
 */
#define _GNU_SOURCE
#include "contract/results_check.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"

#define SCORE_SLACK 1e-6   /* relative: totals pass through 10-digit JSON */

/* ---- results.json ---- */

/* True when J has more than LEVELS levels of objects and lists. */
static bool deeper_than(const json_t *j, int levels)
{
    if (!json_is_object(j) && !json_is_array(j))
        return false;
    if (levels == 0)
        return true;
    const char *key;
    size_t i;
    json_t *v;
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v)
            if (deeper_than(v, levels - 1))
                return true;
    } else {
        json_array_foreach(j, i, v)
            if (deeper_than(v, levels - 1))
                return true;
    }
    return false;
}

/* A required "score" within 0 and a required "max_score" within
 * 0..RESULT_MAX_POINTS, for the object at PATH; SCORE and MAX get them. */
static void check_scores(const json_t *o, const char *path, double *score, double *max,
                         struct problems *p)
{
    char where[256];
    for (int i = 0; i < 2; i++) {
        const char *key = i ? "max_score" : "score";
        if (!json_object_get(o, key)) {
            snprintf(where, sizeof where, "%s.%s", path, key);
            problems_add(p, where, "required key is missing");
        }
    }
    *max = check_number(o, path, "max_score", 0, 0, RESULT_MAX_POINTS, p);
    *score = check_number(o, path, "score", 0, 0, *max, p);
}

/* Sub-tests (pytest tests, doctest examples, notebook cells). */
static void check_cases(const json_t *test, const char *path, struct problems *p)
{
    const json_t *cases = json_object_get(test, "cases");
    char where[256];
    snprintf(where, sizeof where, "%s.cases", path);
    if (!cases || json_is_null(cases))
        return;
    if (!json_is_array(cases)) {
        problems_add(p, where, "must be a list, not %s", check_type_name(cases));
        return;
    }
    if (json_array_size(cases) > RESULT_MAX_CASES)
        problems_add(p, where, "%zu cases; at most %d are allowed", json_array_size(cases),
                     RESULT_MAX_CASES);
    for (size_t i = 0; i < json_array_size(cases) && i < RESULT_MAX_CASES; i++) {
        const json_t *c = json_array_get(cases, i);
        snprintf(where, sizeof where, "%s.cases[%zu]", path, i);
        if (!json_is_object(c)) {
            problems_add(p, where, "must be an object, not %s", check_type_name(c));
            continue;
        }
        check_number(c, where, "max_score", 0, 0, RESULT_MAX_POINTS, p);
        check_number(c, where, "score", 0, -RESULT_MAX_POINTS, RESULT_MAX_POINTS, p);
    }
}

/* Answers a person grades (contract/results.h): a worker reports them
 * "pending" or "no_response" ("graded" is the primary's, from a person),
 * each within the test's points, and the test's score leaves room for
 * the pending ones. */
static void check_manual(const json_t *test, const char *path, double score, double max,
                         struct problems *p)
{
    const json_t *items = json_object_get(test, "needs_manual_grading");
    char where[256];
    snprintf(where, sizeof where, "%s.needs_manual_grading", path);
    if (!items)
        return;
    if (!json_is_array(items)) {
        problems_add(p, where, "must be a list, not %s", check_type_name(items));
        return;
    }
    if (json_array_size(items) > RESULT_MAX_CASES) {
        problems_add(p, where, "%zu answers; at most %d are allowed", json_array_size(items),
                     RESULT_MAX_CASES);
        return;
    }
    static const char *const statuses[] = {"pending", "no_response", NULL};
    double points = 0, pending = 0;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        snprintf(where, sizeof where, "%s.needs_manual_grading[%zu]", path, i);
        if (!json_is_object(it)) {
            problems_add(p, where, "must be an object, not %s", check_type_name(it));
            continue;
        }
        check_string(it, where, "grade_id", true, p);
        double pts = check_number(it, where, "points", 0, 0, RESULT_MAX_POINTS, p);
        int st = check_enum(it, where, "status", statuses, p);
        check_number(it, where, "score", 0, 0, st == 1 ? 0 : pts, p);
        const char *strings[] = {"cell_type", "answer", "message"};
        for (size_t k = 0; k < sizeof strings / sizeof *strings; k++)
            check_string(it, where, strings[k], false, p);
        points += pts;
        pending += st == 0 ? pts : 0;
    }
    if (points > max * (1 + SCORE_SLACK) || score + pending > max * (1 + SCORE_SLACK) + SCORE_SLACK)
        problems_add(p, path, "its manually graded answers (%g points, %g pending) do not fit "
                     "its score %g of %g", points, pending, score, max);
}

static void check_test(const json_t *t, const char *path, double *score, double *max,
                       struct problems *p)
{
    *score = *max = 0;
    if (!json_is_object(t)) {
        problems_add(p, path, "must be an object, not %s", check_type_name(t));
        return;
    }
    check_scores(t, path, score, max, p);
    const char *strings[] = {"name", "output", "status", "verdict", "visibility", "kind"};
    for (size_t i = 0; i < sizeof strings / sizeof *strings; i++)
        check_string(t, path, strings[i], false, p);
    check_cases(t, path, p);
    check_manual(t, path, *score, *max, p);
}

static void check_tests(const json_t *r, double score, double max, struct problems *p)
{
    const json_t *tests = json_object_get(r, "tests");
    if (!tests) {
        problems_add(p, "$.tests", "required key is missing");
        return;
    }
    if (!json_is_array(tests)) {
        problems_add(p, "$.tests", "must be a list, not %s", check_type_name(tests));
        return;
    }
    size_t n = json_array_size(tests);
    if (n > RESULT_MAX_TESTS) {
        problems_add(p, "$.tests", "%zu tests; at most %d are allowed", n, RESULT_MAX_TESTS);
        return;
    }
    double sum = 0, sum_max = 0;
    for (size_t i = 0; i < n; i++) {
        char where[64];
        double s, m;
        snprintf(where, sizeof where, "$.tests[%zu]", i);
        check_test(json_array_get(tests, i), where, &s, &m, p);
        sum += s;
        sum_max += m;
    }
    if (n == 0 || p->count)
        return;   /* an error result has no tests; sums of bad numbers say nothing */
    if (fabs(score - sum) > SCORE_SLACK * fmax(1, sum))
        problems_add(p, "$.score", "%g, but the tests' scores add up to %g", score, sum);
    if (fabs(max - sum_max) > SCORE_SLACK * fmax(1, sum_max))
        problems_add(p, "$.max_score", "%g, but the tests' max_score add up to %g", max, sum_max);
}

/* The "assay" object: what graded it and how it ended.  Keys the
 * primary adds when recording (the late penalty, the student view's)
 * must not come from a worker. */
static void check_assay(const json_t *r, struct problems *p)
{
    const json_t *a = json_object_get(r, "assay");
    if (!a)
        return;
    if (!json_is_object(a)) {
        problems_add(p, "$.assay", "must be an object, not %s", check_type_name(a));
        return;
    }
    static const char *const statuses[] = {"graded", "error", NULL};
    static const char *const categories[] = {"submission", "assignment", "infrastructure", NULL};
    check_enum(a, "$.assay", "status", statuses, p);
    const json_t *error = json_object_get(a, "error");
    if (json_is_object(error)) {
        if (check_string(error, "$.assay.error", "category", true, p))
            check_enum(error, "$.assay.error", "category", categories, p);
        check_string(error, "$.assay.error", "message", true, p);
    } else if (error && !json_is_null(error)) {
        problems_add(p, "$.assay.error", "must be an object or null, not %s", check_type_name(error));
    }
    const json_t *warnings = json_object_get(a, "warnings");
    size_t i;
    json_t *w;
    if (warnings && !json_is_array(warnings))
        problems_add(p, "$.assay.warnings", "must be a list, not %s", check_type_name(warnings));
    json_array_foreach(warnings, i, w)
        if (!json_is_string(w)) {
            problems_add(p, "$.assay.warnings", "must hold strings, not %s", check_type_name(w));
            break;
        }
    static const char *const primary_keys[] = {"late", "view", "hidden", "superseded_by"};
    for (size_t k = 0; k < sizeof primary_keys / sizeof *primary_keys; k++)
        if (json_object_get(a, primary_keys[k]))
            problems_add(p, "$.assay", "\"%s\" is set by the primary, never by a worker",
                         primary_keys[k]);
}

/* Up to three problems in *E, after "results.json: ". */
static int report(struct problems *p, struct err *e)
{
    struct buf msg = BUF_INIT;
    buf_puts(&msg, "results.json: ");
    for (size_t i = 0; i < p->count && i < 3; i++)
        buf_printf(&msg, "%s%s", i ? "; " : "", p->items[i]);
    if (p->count > 3)
        buf_printf(&msg, " (and %zu more)", p->count - 3);
    err_set(e, "%s", msg.data ? msg.data : "results.json is invalid (out of memory saying why)");
    buf_free(&msg);
    problems_free(p);
    return -1;
}

int results_check(const json_t *r, struct err *e)
{
    if (!json_is_object(r))
        return err_set(e, "results.json holds %s, not an object", check_type_name(r));
    if (deeper_than(r, RESULT_JSON_MAX_DEPTH))
        return err_set(e, "results.json is nested more than %d levels deep",
                       RESULT_JSON_MAX_DEPTH);
    struct problems p = {0};
    double score, max;
    check_scores(r, "$", &score, &max, &p);
    check_string(r, "$", "output", false, &p);
    check_tests(r, score, max, &p);
    check_assay(r, &p);
    return p.count ? report(&p, e) : 0;
}

/* ---- the archive's files ---- */

struct file_count {
    size_t n;
    unsigned long long bytes;
    char bad[300];   /* the first file that may not be there */
};

static bool allowed_name(const char *rel)
{
    return !strcmp(rel, "results.json") || !strcmp(rel, "worker.log") ||
           !strcmp(rel, "traces.log") || !strncmp(rel, "feedback/", 9);
}

static int count_file(const char *rel, off_t size, void *arg)
{
    struct file_count *c = arg;
    c->n++;
    c->bytes += (unsigned long long)size;
    if (!c->bad[0] && (!allowed_name(rel) || (unsigned long long)size > RESULT_FILE_MAX_BYTES))
        snprintf(c->bad, sizeof c->bad, "%s", rel);
    return 0;
}

static int check_files(const char *dir, struct err *e)
{
    struct file_count c = {0};
    if (fs_walk_files(dir, count_file, &c, e) < 0)
        return -1;
    if (c.bad[0] && !allowed_name(c.bad))
        return err_set(e, "the result holds \"%.300s\"; a result holds only results.json, "
                       "worker.log, traces.log and feedback/", c.bad);
    if (c.bad[0])
        return err_set(e, "\"%.300s\" is larger than %u MB, the most a file of a result may be",
                       c.bad, RESULT_FILE_MAX_BYTES >> 20);
    if (c.n > RESULT_MAX_FILES)
        return err_set(e, "the result holds %zu files; at most %d are allowed", c.n,
                       RESULT_MAX_FILES);
    if (c.bytes > RESULT_ARCHIVE_MAX_BYTES)
        return err_set(e, "the result's files add up to %llu bytes; at most %u MB are allowed",
                       c.bytes, RESULT_ARCHIVE_MAX_BYTES >> 20);
    return 0;
}

/* results.json, which must be a regular file: lstat, so a link (which
 * the archive reader refuses anyway) is never followed. */
static json_t *load_results(const char *dir, struct err *e)
{
    char *path = fs_join(dir, "results.json");
    struct stat st;
    struct buf text = BUF_INIT;
    json_t *r = NULL;
    if (!path)
        err_set(e, "out of memory");
    else if (lstat(path, &st) < 0 && errno == ENOENT)
        err_set(e, "the result has no results.json");
    else if (lstat(path, &st) < 0)
        err_sys(e, "cannot read results.json");
    else if (!S_ISREG(st.st_mode))
        err_set(e, "results.json is %s, not a file", S_ISDIR(st.st_mode) ? "a directory"
                                                                         : "a link or special file");
    else if (fs_read_file(path, RESULT_JSON_MAX_BYTES, &text, e) == 0)
        r = jsonutil_load_text(buf_str(&text), text.len, "results.json", e);
    buf_free(&text);
    free(path);
    return r;
}

int results_check_dir(const char *dir, struct err *e)
{
    json_t *r = load_results(dir, e);
    int rc = r && check_files(dir, e) == 0 ? results_check(r, e) : -1;
    json_decref(r);
    return rc;
}

/* ---- a worker's log lines ---- */

static int keep_line(struct sent_lines *out, const char *line, size_t len, size_t *bytes)
{
    char *shown = text_visible(line, len < RESULT_LOG_LINE_MAX ? len : RESULT_LOG_LINE_MAX, 0);
    char **grown = shown ? realloc(out->lines, (out->n + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(shown);
        return -1;
    }
    out->lines = grown;
    out->lines[out->n++] = shown;
    *bytes += strlen(shown) + 1;
    return 0;
}

int sent_lines_split(const char *text, size_t len, struct sent_lines *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    size_t bytes = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n > 0) {
            if (out->n >= RESULT_LOG_MAX_LINES || bytes >= RESULT_LOG_MAX_BYTES)
                out->dropped++;
            else if (keep_line(out, p, n, &bytes) < 0) {
                sent_lines_free(out);
                return err_set(e, "out of memory keeping the worker's log lines");
            }
        }
        p += n + 1;
    }
    return 0;
}

void sent_lines_free(struct sent_lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof *l);
}
