/*
 * doctest.c - the "doctest" test kind: the examples in the docstrings of
 * a submission's module ("module"), or in an instructor's file run
 * against the submission ("file"); points per example or all-or-nothing.
 *
 * engine/python/doctest_runner.py reports each example as it runs.  A
 * module that fails to import is a runtime error with its traceback; a
 * module with no examples at all fails with a sentence saying so.
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
#include "engine/kinds/report.h"

#define REPORT ".assay/doctest-report.jsonl"

static const char *const doctest_keys[] = {"module", "file", "scoring", NULL};
static const char *const scoring_names[] = {"per_example", "all_or_nothing", NULL};

static void doctest_validate(const char *dir, const json_t *t, const char *path,
                             struct problems *p)
{
    check_one_of(t, path, "module", "file", true, p);
    const char *module = check_string(t, path, "module", false, p);
    const char *file = check_string(t, path, "file", false, p);
    char where[300];
    if (module) {
        size_t len = strlen(module);
        snprintf(where, sizeof where, "%s.module", path);
        if (!fs_relpath_is_safe(module) || len < 4 || strcmp(module + len - 3, ".py"))
            problems_add(p, where, "\"%s\" must be the relative name of a .py file in the "
                         "submission", module);
    }
    if (file) {
        snprintf(where, sizeof where, "%s.file", path);
        check_instructor_file(dir, file, where, p);
    }
    check_enum(t, path, "scoring", scoring_names, p);
}

static void doctest_instructor_files(const json_t *t, json_t *files)
{
    const json_t *file = json_object_get(t, "file");
    if (file)
        json_array_append(files, (json_t *)file);
}

static char *build_command(const json_t *t)
{
    const char *module = jsonutil_str(t, "module", NULL);
    char *target = kind_shell_quote(module ? module : jsonutil_str(t, "file", ""));
    char *cmd = NULL;
    if (!target || asprintf(&cmd, "python3 -I .assay/doctest_runner.py " REPORT " %s %s",
                            module ? "module" : "file", target) < 0)
        cmd = NULL;   /* out of memory: kind_run_reporter says so */
    free(target);
    return cmd;
}

/* Returns the import error event, if the module could not be imported. */
static const json_t *read_events(const json_t *events, struct case_list *cases)
{
    const json_t *import_error = NULL;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        const char *kind = jsonutil_str(ev, "event", "");
        if (!strcmp(kind, "collected"))
            case_list_add(cases, jsonutil_str(ev, "name", "?"));
        else if (!strcmp(kind, "result"))
            case_list_set(cases, jsonutil_str(ev, "name", "?"), jsonutil_str(ev, "outcome", "failed"),
                          jsonutil_str(ev, "message", ""), json_is_true(json_object_get(ev, "memory")));
        else if (!strcmp(kind, "import_error"))
            import_error = ev;
    }
    return import_error;
}

static void report_import_error(struct test_run *run, const json_t *ev,
                                const struct run_result *res, struct test_outcome *out)
{
    if (kind_judge_limits(run, res, out))
        return;
    out->verdict = json_is_true(json_object_get(ev, "memory")) ? VERDICT_MEMORY_LIMIT
                                                               : VERDICT_RUNTIME_ERROR;
    buf_printf(&out->feedback, "%s could not be imported, so none of its examples ran:\n%s\n",
               jsonutil_str(run->test->spec, "module", "the module"),
               jsonutil_str(ev, "message", ""));
}

static void report_no_examples(struct test_run *run, const struct run_result *res,
                               struct test_outcome *out)
{
    if (kind_judge_limits(run, res, out))
        return;
    const char *module = jsonutil_str(run->test->spec, "module", NULL);
    if (res->exited && res->exit_code == 0 && module) {
        out->verdict = VERDICT_FAILED;
        buf_printf(&out->feedback, "No doctest examples were found in %s: add examples "
                   "such as \">>> f(2)\" followed by the expected result to your "
                   "docstrings.\n", module);
    } else {
        out->verdict = VERDICT_RUNTIME_ERROR;
        buf_puts(&out->feedback, "The doctest run found no examples.\n");
        kind_describe_crash(res, &out->feedback);
    }
}

static void doctest_grade(struct test_run *run, struct test_outcome *out)
{
    char *command = build_command(run->test->spec);
    struct run_result res;
    json_t *events = kind_run_reporter(run, "doctest_runner.py", asset_doctest_runner,
                                       command, -1, REPORT, &res, out);
    free(command);
    if (!events)
        return;
    struct case_list cases;
    case_list_init(&cases);
    const json_t *import_error = read_events(events, &cases);
    size_t n = json_array_size(cases.names);
    bool all = !strcmp(jsonutil_str(run->test->spec, "scoring", "per_example"), "all_or_nothing");
    if (case_list_lost(&cases, out)) {
        /* said */
    } else if (import_error) {
        report_import_error(run, import_error, &res, out);
    } else if (n == 0) {
        report_no_examples(run, &res, out);
    } else {
        case_list_score(&cases, run, &res, run->test->points / (double)n, all, out);
    }
    case_list_free(&cases);
    json_decref(events);
    run_result_free(&res);
}

const struct test_kind kind_doctest = {
    .name = "doctest",
    .keys = doctest_keys,
    .validate = doctest_validate,
    .instructor_files = doctest_instructor_files,
    .grade = doctest_grade,
};
