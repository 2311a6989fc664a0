/*
 * pytest.c - the "pytest" test kind: the instructor's pytest files run
 * against the submission, points per collected test.
 *
 * The test files come from the assignment directory at grading time,
 * never from the submission (a submission's conftest.py is never copied;
 * see engine.c).  engine/python/pytest_runner.py reports every test as
 * it finishes; a file that fails to import still counts every test it
 * holds (found from its syntax tree) as failed, so a broken submission
 * scores 0 of 10, never 0 of 0.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "engine/assets.h"
#include "common/check.h"
#include "engine/kind.h"
#include "engine/kinds/pytest_count.h"
#include "engine/kinds/report.h"

#define REPORT ".assay/pytest-report.jsonl"

static const char *const pytest_keys[] = {"files", "points_per_test", "count_skipped", NULL};

static void pytest_validate(const char *dir, const json_t *t, const char *path,
                            struct problems *p)
{
    check_string_list(t, path, "files", true, p);
    const json_t *files = json_object_get(t, "files");
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f) {
        char where[300];
        snprintf(where, sizeof where, "%s.files[%zu]", path, i);
        if (json_is_string(f))
            check_instructor_file(dir, json_string_value(f), where, p);
    }
    check_number(t, path, "points_per_test", 0, 0, 1e6, p);
    const json_t *skipped = json_object_get(t, "count_skipped");
    if (skipped && !json_is_boolean(skipped))
        problems_add(p, path, "\"count_skipped\" must be true (a skipped test counts as not "
                     "passed, the default) or false (it is left out of the maximum)");
    if (json_object_get(t, "points") && json_object_get(t, "points_per_test"))
        problems_add(p, path, "give either \"points\" (split over the tests) or "
                     "\"points_per_test\", not both");
}

static void pytest_instructor_files(const json_t *t, json_t *files)
{
    json_array_extend(files, json_object_get(t, "files"));
}

/* The tests pytest would collect from the files, counted from their
 * text as the runner counts a file it cannot import: the maximum before
 * a run, the same whatever the submission's mistake. */
static double pytest_planned_points(const char *dir, const struct test_def *t)
{
    const json_t *ppt = json_object_get(t->spec, "points_per_test");
    if (!ppt)
        return t->points;
    size_t i, count = 0;
    const json_t *f;
    json_array_foreach(json_object_get(t->spec, "files"), i, f) {
        char *path = fs_join(dir, json_string_value(f));
        struct buf b = BUF_INIT;
        struct err e;   /* unreadable plans no tests; the run reports the file itself */
        if (fs_read_file(path, 16u << 20, &b, &e) == 0)
            count += pytest_count_tests(buf_str(&b));
        buf_free(&b);
        free(path);
    }
    return json_number_value(ppt) * (double)count;
}

/* NULL if out of memory: a command missing a file would run fewer tests. */
static char *build_command(const json_t *t)
{
    struct buf cmd = BUF_INIT;
    int rc = buf_puts(&cmd, "python3 -I .assay/pytest_runner.py " REPORT);
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(t, "files"), i, f) {
        char *q = rc == 0 ? kind_shell_quote(json_string_value(f)) : NULL;
        rc = q ? buf_printf(&cmd, " %s", q) : -1;
        free(q);
    }
    if (rc < 0) {
        buf_free(&cmd);
        return NULL;
    }
    return buf_steal(&cmd);
}

static void add_collect_error(struct case_list *cases, const json_t *ev)
{
    const char *file = jsonutil_str(ev, "file", "?");
    char *msg = NULL;
    if (asprintf(&msg, "%s could not be imported, so none of its tests ran:\n%s", file,
                 jsonutil_str(ev, "message", "")) < 0)
        msg = NULL;
    size_t j;
    json_t *name;
    json_array_foreach(json_object_get(ev, "tests"), j, name) {
        char id[1024];
        snprintf(id, sizeof id, "%s::%s", file, json_string_value(name));
        case_list_set(cases, id, "failed", msg, json_is_true(json_object_get(ev, "memory")));
    }
    free(msg);
}

/* A file that never collected (the run was cut short first) still counts
 * the tests the runner planned from its syntax tree, as not finished. */
static void add_uncollected(struct case_list *cases, const json_t *planned)
{
    const char *file;
    json_t *names;
    json_object_foreach((json_t *)planned, file, names) {
        size_t flen = strlen(file), i;
        bool seen = false;
        json_t *n;
        json_array_foreach(cases->names, i, n)
            seen |= !strncmp(json_string_value(n), file, flen) &&
                    !strncmp(json_string_value(n) + flen, "::", 2);
        json_array_foreach(names, i, n) {
            char id[1024];
            snprintf(id, sizeof id, "%s::%s", file, json_string_value(n));
            if (!seen)
                case_list_add(cases, id);
        }
    }
}

static void read_events(json_t *events, struct case_list *cases)
{
    json_t *planned = json_object();
    size_t i;
    json_t *ev;
    cases->lost |= !planned;
    json_array_foreach(events, i, ev) {
        const char *kind = jsonutil_str(ev, "event", "");
        json_t *tests = json_object_get(ev, "tests");
        if (!strcmp(kind, "planned")) {
            if (tests && json_object_set(planned, jsonutil_str(ev, "file", "?"), tests) < 0)
                cases->lost = true;
        } else if (!strcmp(kind, "collected"))
            case_list_add(cases, jsonutil_str(ev, "nodeid", "?"));
        else if (!strcmp(kind, "result"))
            case_list_set(cases, jsonutil_str(ev, "nodeid", "?"), jsonutil_str(ev, "outcome", "failed"),
                          jsonutil_str(ev, "message", ""), json_is_true(json_object_get(ev, "memory")));
        else if (!strcmp(kind, "collect_error"))
            add_collect_error(cases, ev);
    }
    add_uncollected(cases, planned);
    json_decref(planned);
}

static void pytest_grade(struct test_run *run, struct test_outcome *out)
{
    char *command = build_command(run->test->spec);
    struct run_result res;
    json_t *events = kind_run_reporter(run, "pytest_runner.py", asset_pytest_runner,
                                       command, -1, REPORT, &res, out);
    free(command);
    if (!events)
        return;
    struct case_list cases;
    case_list_init(&cases);
    read_events(events, &cases);
    size_t n = json_array_size(cases.names);
    const json_t *ppt = json_object_get(run->test->spec, "points_per_test");
    if (case_list_lost(&cases, out)) {
        /* said */
    } else if (n == 0 && !kind_judge_limits(run, &res, out)) {
        out->verdict = VERDICT_RUNTIME_ERROR;
        buf_puts(&out->feedback, "pytest collected no tests from the instructor's files.\n");
        kind_describe_crash(&res, &out->feedback);
    } else if (n > 0) {
        cases.leave_out_skipped = json_is_false(json_object_get(run->test->spec, "count_skipped"));
        size_t counted = n - (cases.leave_out_skipped ? case_list_count(&cases, "skipped") : 0);
        double per = ppt ? json_number_value(ppt) : counted ? run->test->points / (double)counted : 0;
        case_list_score(&cases, run, &res, per, false, out);
    }
    case_list_free(&cases);
    json_decref(events);
    run_result_free(&res);
}

const struct test_kind kind_pytest = {
    .name = "pytest",
    .keys = pytest_keys,
    .validate = pytest_validate,
    .instructor_files = pytest_instructor_files,
    .planned_points = pytest_planned_points,
    .grade = pytest_grade,
};
