/*
 * property.c - the "property" test kind: a submission's function called
 * on inputs generated from a fixed seed and compared with what the
 * instructor's reference solution returns for the same inputs.
 *
 * The inputs come from Hypothesis strategies (a Python file of the
 * instructor's) or from a small JSON description of the arguments,
 * checked here.  engine/python/property_runner.py does the work in one
 * sandboxed run of two processes: a supervisor that holds the
 * reference (it arrives on standard input, never as a file of the work
 * directory), generates the inputs and compares, and an executor, a
 * fresh interpreter that runs the student's function.  Everything the
 * reference's part does wrong (an exception, its limits) is the
 * assignment's error, never the student's score.  Each part gets the
 * test's limits, so the run as a whole gets three times the time (the
 * reference, the student's function, shrinking) and twice the memory.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "engine/assets.h"
#include "engine/kind.h"

#define SOURCE_MAX (1u << 20)   /* bytes of a reference, strategy or comparator file */
#define MAX_DEPTH 8             /* nesting of an argument description */
#define COMMAND "python3 -I .assay/property_runner.py"

static const char *const property_keys[] = {
    "module", "function", "reference", "arguments", "strategies", "examples", "seed",
    "compare", "tolerance", "comparator", NULL,
};
static const char *const compare_names[] = {"equal", "approx", "unordered", "custom", NULL};
static const char *const type_names[] = {"int", "float", "bool", "str", "list", "tuple",
                                         "dict", "choice", NULL};
/* The keys each argument type takes, besides "type" (same order as type_names). */
static const char *const *const type_keys[] = {
    (const char *const[]){"min", "max", NULL},
    (const char *const[]){"min", "max", NULL},
    (const char *const[]){NULL},
    (const char *const[]){"alphabet", "min_size", "max_size", NULL},
    (const char *const[]){"of", "min_size", "max_size", "unique", NULL},
    (const char *const[]){"of", NULL},
    (const char *const[]){"keys", "values", "min_size", "max_size", NULL},
    (const char *const[]){"values", NULL},
};

static void check_argument(const json_t *d, const char *path, int depth, struct problems *p);

/* min_size <= max_size, both 0-1000. */
static void check_sizes(const json_t *d, const char *path, struct problems *p)
{
    double lo = check_number(d, path, "min_size", 0, 0, 1000, p);
    double hi = check_number(d, path, "max_size", 20, 0, 1000, p);
    if (lo > hi)
        problems_add(p, path, "min_size %g is larger than max_size %g", lo, hi);
}

static void check_range(const json_t *d, const char *path, bool integer, struct problems *p)
{
    double lo, hi;
    if (integer) {
        long long a = -1000, b = 1000;
        check_integer(d, path, "min", &a, p);
        check_integer(d, path, "max", &b, p);
        lo = (double)a;
        hi = (double)b;
    } else {
        lo = check_number(d, path, "min", -1e6, -1e300, 1e300, p);
        hi = check_number(d, path, "max", 1e6, -1e300, 1e300, p);
    }
    if (lo > hi)
        problems_add(p, path, "min %g is larger than max %g: swap them", lo, hi);
}

/* The element description at D.KEY (required). */
static void check_child(const json_t *d, const char *path, const char *key, int depth,
                        struct problems *p)
{
    char where[300];
    snprintf(where, sizeof where, "%s.%s", path, key);
    const json_t *c = json_object_get(d, key);
    if (!c)
        problems_add(p, path, "\"%s\" is required for this type (the elements' description, "
                     "for example {\"type\": \"int\"})", key);
    else
        check_argument(c, where, depth + 1, p);
}

static void check_tuple(const json_t *d, const char *path, int depth, struct problems *p)
{
    const json_t *of = json_object_get(d, "of");
    if (!json_is_array(of) || json_array_size(of) == 0) {
        problems_add(p, path, "a tuple needs \"of\": a non-empty list of descriptions, one "
                     "per element");
        return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(of, i, c) {
        char where[300];
        snprintf(where, sizeof where, "%s.of[%zu]", path, i);
        check_argument(c, where, depth + 1, p);
    }
}

static void check_choice(const json_t *d, const char *path, struct problems *p)
{
    const json_t *values = json_object_get(d, "values");
    size_t i;
    const json_t *v;
    bool scalars = json_is_array(values) && json_array_size(values) > 0;
    json_array_foreach(values, i, v)
        scalars &= !json_is_object(v) && !json_is_array(v);
    if (!scalars)
        problems_add(p, path, "a choice needs \"values\": a non-empty list of numbers, strings, "
                     "booleans or null to pick from");
}

/* One argument's description, e.g. {"type": "list", "of": {"type": "int"}}. */
static void check_argument(const json_t *d, const char *path, int depth, struct problems *p)
{
    if (!json_is_object(d)) {
        problems_add(p, path, "must be an object describing the argument, for example "
                     "{\"type\": \"int\", \"min\": 0, \"max\": 10}, not %s", check_type_name(d));
        return;
    }
    if (depth > MAX_DEPTH) {
        problems_add(p, path, "nested more than %d levels deep", MAX_DEPTH);
        return;
    }
    if (!json_object_get(d, "type")) {
        problems_add(p, path, "\"type\" is required: one of int, float, bool, str, list, "
                     "tuple, dict, choice");
        return;
    }
    int t = check_enum(d, path, "type", type_names, p);
    if (t < 0)
        return;
    static const char *const type_key[] = {"type", NULL};
    check_known_keys(d, path, type_key, type_keys[t], p);
    switch (t) {
    case 0: check_range(d, path, true, p); break;
    case 1: check_range(d, path, false, p); break;
    case 3:
        check_string(d, path, "alphabet", false, p);
        check_sizes(d, path, p);
        break;
    case 4:
        check_child(d, path, "of", depth, p);
        check_sizes(d, path, p);
        if (json_object_get(d, "unique") && !json_is_boolean(json_object_get(d, "unique")))
            problems_add(p, path, "\"unique\" must be true or false");
        break;
    case 5: check_tuple(d, path, depth, p); break;
    case 6:
        check_child(d, path, "keys", depth, p);
        check_child(d, path, "values", depth, p);
        check_sizes(d, path, p);
        break;
    case 7: check_choice(d, path, p); break;
    default: break;
    }
}

static void check_arguments(const json_t *t, const char *path, struct problems *p)
{
    const json_t *args = json_object_get(t, "arguments");
    char where[300];
    snprintf(where, sizeof where, "%s.arguments", path);
    if (!args)
        return;
    if (!json_is_array(args)) {
        problems_add(p, where, "must be a list with one description per argument of the "
                     "function, for example [{\"type\": \"int\"}]");
        return;
    }
    size_t i;
    const json_t *d;
    json_array_foreach(args, i, d) {
        char one[340];
        snprintf(one, sizeof one, "%s[%zu]", where, i);
        check_argument(d, one, 0, p);
    }
}

static void check_file_key(const char *dir, const json_t *t, const char *path, const char *key,
                           bool required, struct problems *p)
{
    const char *rel = check_string(t, path, key, required, p);
    char where[300];
    snprintf(where, sizeof where, "%s.%s", path, key);
    if (rel)
        check_instructor_file(dir, rel, where, p);
}

static void property_validate(const char *dir, const json_t *t, const char *path,
                              struct problems *p)
{
    const char *module = check_string(t, path, "module", true, p);
    const char *function = check_string(t, path, "function", true, p);
    char where[300];
    if (module && (!fs_relpath_is_safe(module) || strlen(module) < 4 ||
                   strcmp(module + strlen(module) - 3, ".py"))) {
        snprintf(where, sizeof where, "%s.module", path);
        problems_add(p, where, "\"%s\" must be the relative name of a .py file in the "
                     "submission, for example \"stats.py\"", module);
    }
    if (function && (!*function || strspn(function, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
                     "NOPQRSTUVWXYZ0123456789_") != strlen(function) || isdigit((unsigned char)*function))) {
        snprintf(where, sizeof where, "%s.function", path);
        problems_add(p, where, "\"%s\" must be the name of a Python function, for example "
                     "\"median\"", function);
    }
    check_file_key(dir, t, path, "reference", true, p);
    check_one_of(t, path, "arguments", "strategies", true, p);
    check_arguments(t, path, p);
    check_file_key(dir, t, path, "strategies", false, p);
    long long n = 100, seed = 0;
    if (check_integer(t, path, "examples", &n, p) && (n < 1 || n > 10000)) {
        snprintf(where, sizeof where, "%s.examples", path);
        problems_add(p, where, "must be between 1 and 10000 (the number of generated inputs)");
    }
    check_integer(t, path, "seed", &seed, p);
    int cmp = check_enum(t, path, "compare", compare_names, p);
    check_number(t, path, "tolerance", 1e-9, 0, 1e6, p);
    check_file_key(dir, t, path, "comparator", cmp == 3, p);
    if (cmp != 3 && json_object_get(t, "comparator"))
        problems_add(p, path, "\"comparator\" is used only with \"compare\": \"custom\"");
}

static void property_instructor_files(const json_t *t, json_t *files)
{
    (void)t;
    (void)files;   /* none: the reference, strategies and comparator travel on standard input */
}

/* Sets KEY of PLAN to the text of the instructor's file named by the
 * test's SPEC_KEY (if given), and KEY_name to its name. */
static int plan_add_source(json_t *plan, const struct test_run *run, const char *spec_key,
                           const char *key, struct err *e)
{
    const char *rel = jsonutil_str(run->test->spec, spec_key, NULL);
    if (!rel)
        return 0;
    char *path = fs_join(run->asg->sum.dir, rel), name[64];
    struct buf b = BUF_INIT;
    int rc = path ? fs_read_file(path, SOURCE_MAX, &b, e) : err_set(e, "out of memory");
    snprintf(name, sizeof name, "%s_name", key);
    if (rc == 0 && (json_object_set_new(plan, key, jsonutil_text(buf_str(&b), b.len)) < 0 ||
                    json_object_set_new(plan, name, json_string(rel)) < 0))
        rc = err_set(e, "out of memory");
    free(path);
    buf_free(&b);
    return rc;
}

/* The runner's plan (see property_runner.py), as JSON text; NULL with E set. */
static char *make_plan(const struct test_run *run, struct err *e)
{
    const json_t *s = run->test->spec;
    const struct run_limits *l = &run->test->limits;
    json_t *plan = json_pack("{s:s, s:s, s:I, s:I, s:s, s:f, s:f, s:f, s:f}",
                             "module", jsonutil_str(s, "module", ""),
                             "function", jsonutil_str(s, "function", ""),
                             "examples", (json_int_t)jsonutil_num(s, "examples", 100),
                             "seed", (json_int_t)jsonutil_num(s, "seed", 0),
                             "compare", jsonutil_str(s, "compare", "equal"),
                             "tolerance", jsonutil_num(s, "tolerance", 1e-9),
                             "wall_s", l->wall_s, "cpu_s", l->cpu_s, "memory_mb", (double)l->memory_mb);
    if (!plan) {
        err_set(e, "out of memory");
        return NULL;
    }
    int rc = plan_add_source(plan, run, "reference", "reference", e);
    if (rc == 0)
        rc = plan_add_source(plan, run, "strategies", "strategies", e);
    if (rc == 0)
        rc = plan_add_source(plan, run, "comparator", "comparator", e);
    if (rc == 0 && json_object_get(s, "arguments") &&
        json_object_set(plan, "arguments", json_object_get(s, "arguments")) < 0)
        rc = err_set(e, "out of memory");
    char *text = rc == 0 ? json_dumps(plan, JSON_COMPACT) : NULL;
    if (rc == 0 && !text)
        err_set(e, "out of memory");
    json_decref(plan);
    return text;
}

/* The test's definition with each part's limits: the run holds the
 * reference's part, the student's and shrinking, each with the test's
 * time, and both processes' memory. */
static struct test_def run_limits_for_parts(const struct test_def *t)
{
    struct test_def whole = *t;
    whole.limits.wall_s = 3 * t->limits.wall_s + 2;
    whole.limits.cpu_s = 3 * t->limits.cpu_s + 2;
    whole.limits.memory_mb = 2 * t->limits.memory_mb + 128;
    return whole;
}

/* The reference's part went wrong: the instructor's to fix. */
static void assignment_error(struct test_outcome *out, const char *what)
{
    struct buf msg = BUF_INIT;
    buf_printf(&msg, "The property test's reference solution could not be used: %s", what);
    out->verdict = VERDICT_SETUP_ERROR;
    out->score = 0;
    out->assignment_error = buf_steal(&msg);
    if (!out->assignment_error)
        out->assignment_error = strdup("out of memory");
    /* the details quote the reference: the instructor's, in the error */
    buf_puts(&out->feedback, "This test could not run because of a problem in the "
             "assignment's reference solution, not in your work; your instructor can see "
             "the details.\n");
}

static const json_t *find_event(const json_t *events, const char *name)
{
    size_t i;
    const json_t *ev;
    json_array_foreach(events, i, ev)
        if (!strcmp(jsonutil_str(ev, "event", ""), name))
            return ev;
    return NULL;
}

/* What went wrong for the smallest failing input, for the student. */
static void describe_failure(const struct test_run *run, const json_t *r, struct buf *fb)
{
    const char *kind = jsonutil_str(r, "kind", "");
    const char *function = jsonutil_str(run->test->spec, "function", "?");
    long total = (long)jsonutil_num(r, "total", 0), passed = (long)jsonutil_num(r, "passed", 0);
    bool shrunk = json_is_true(json_object_get(r, "shrunk"));
    if (!strcmp(kind, "wrong") || !strcmp(kind, "raised"))
        buf_printf(fb, "%s gave a different result from the reference solution on %ld of "
                   "%ld generated inputs.\n", function, total - passed, total);
    buf_printf(fb, "%s:\n    %s\nExpected: %s\n", shrunk ? "Smallest failing input found"
               : "Failing input", jsonutil_str(r, "call", "?"), jsonutil_str(r, "expected", "?"));
    if (!strcmp(kind, "wrong"))
        buf_printf(fb, "Your function returned: %s\n", jsonutil_str(r, "actual", "?"));
    else if (!strcmp(kind, "raised"))
        buf_printf(fb, "Your function raised %s\n%s\n", jsonutil_str(r, "raised", "?"),
                   jsonutil_str(r, "traceback", ""));
    else if (!strcmp(kind, "timeout"))
        buf_printf(fb, "Your function did not return within the time limit (%g s in all, "
                   "%g s of CPU time) on this input: look for an infinite loop or a much "
                   "slower algorithm than needed.\n", run->test->limits.wall_s,
                   run->test->limits.cpu_s);
    else if (!strcmp(kind, "memory"))
        buf_printf(fb, "Your function ran out of memory (the limit is %ld MB) on this input: "
                   "look for a list or string that keeps growing.\n", run->test->limits.memory_mb);
    else
        buf_puts(fb, "The process running your function died on this input (it exited or "
                 "was killed instead of returning).\n");
}

static enum verdict verdict_of(const char *kind)
{
    if (!strcmp(kind, "timeout"))
        return VERDICT_TIMEOUT;
    if (!strcmp(kind, "memory"))
        return VERDICT_MEMORY_LIMIT;
    if (!strcmp(kind, "died"))
        return VERDICT_RUNTIME_ERROR;
    return VERDICT_FAILED;
}

static void score_result(const struct test_run *run, const json_t *r, struct test_outcome *out)
{
    const char *kind = jsonutil_str(r, "kind", NULL);
    char name[128];
    snprintf(name, sizeof name, "%g generated inputs", jsonutil_num(r, "total", 0));
    json_t *detail = json_pack("{s:O, s:O, s:O}", "inputs", json_object_get(r, "total"),
                               "passed", json_object_get(r, "passed"), "failing",
                               kind ? json_object_get(r, "call") : json_null());
    if (detail && (out->extra = json_object()))
        json_object_set_new(out->extra, "property", detail);   /* lost: the entry lacks a detail */
    else
        json_decref(detail);
    if (!kind) {
        out->verdict = VERDICT_PASSED;
        out->score = run->test->points;
        buf_printf(&out->feedback, "All %g generated inputs gave the reference's result.\n",
                   jsonutil_num(r, "total", 0));
        kind_add_case(out, name, true, out->score, out->max_score, NULL);
        return;
    }
    out->verdict = verdict_of(kind);
    out->score = 0;
    describe_failure(run, r, &out->feedback);
    kind_add_case(out, name, false, 0, out->max_score, buf_str(&out->feedback));
}

static void judge_events(const struct test_run *run, const json_t *events,
                         const struct run_result *res, struct test_outcome *out)
{
    const json_t *ev;
    if ((ev = find_event(events, "reference_error")) || (ev = find_event(events, "reference_limit"))) {
        assignment_error(out, jsonutil_str(ev, "message", "?"));
    } else if (!find_event(events, "reference_done")) {
        assignment_error(out, res->wall_exceeded || res->cpu_exceeded || res->memory_exceeded
                                  ? "it did not finish within the test's limits"
                                  : "the runner stopped before the reference had run");
    } else if ((ev = find_event(events, "import_error"))) {
        out->verdict = json_is_true(json_object_get(ev, "limit")) ? VERDICT_TIMEOUT
                                                                  : VERDICT_RUNTIME_ERROR;
        buf_printf(&out->feedback, "%s could not be loaded, so %s could not be called:\n%s\n",
                   jsonutil_str(run->test->spec, "module", "?"),
                   jsonutil_str(run->test->spec, "function", "?"), jsonutil_str(ev, "message", ""));
    } else if ((ev = find_event(events, "result"))) {
        score_result(run, ev, out);
    } else if (!kind_judge_limits(run, res, out)) {
        out->verdict = VERDICT_RUNTIME_ERROR;
        buf_puts(&out->feedback, "The test stopped before it could compare your function's "
                 "results.\n");
        kind_describe_crash(res, &out->feedback);
    }
}

static void property_grade(struct test_run *run, struct test_outcome *out)
{
    struct err e;
    char *plan = make_plan(run, &e);
    int in = plan ? kind_stdin_text(plan, strlen(plan), &e) : -1;
    free(plan);
    if (in < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not prepare this test: %s\n", e.msg);
        return;
    }
    struct test_def whole = run_limits_for_parts(run->test);
    struct test_run parts = *run;
    parts.test = &whole;
    struct run_result res;
    json_t *events = kind_run_reporter(&parts, "property_runner.py", asset_property_runner,
                                       COMMAND, in, NULL, &res, out);
    close(in);
    if (!events)
        return;
    judge_events(run, events, &res, out);
    json_decref(events);
    run_result_free(&res);
}

const struct test_kind kind_property = {
    .name = "property",
    .keys = property_keys,
    .validate = property_validate,
    .instructor_files = property_instructor_files,
    .grade = property_grade,
};
