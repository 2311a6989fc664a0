/*
 * report.c - scoring for kinds whose runner reports sub-tests.
 *
 * The pytest and doctest runners write a JSON line per event; each kind
 * reads its own events into a case_list (which cases exist, how each
 * ended) and this file does the part they share: a score per case, a
 * verdict for the test, and feedback listing what failed.  Cases that
 * never reported (the run was killed while they ran) count as failed.
 */
#include "engine/kinds/report.h"

#include <string.h>

#include "common/jsonutil.h"

#define FEEDBACK_MAX_FAILURES 10

void case_list_init(struct case_list *c)
{
    c->names = json_array();
    c->status = json_object();
    c->memory = false;
    c->lost = !c->names || !c->status;
}

void case_list_free(struct case_list *c)
{
    json_decref(c->names);
    json_decref(c->status);
}

void case_list_add(struct case_list *c, const char *name)
{
    if (!json_object_get(c->status, name) &&
        (json_array_append_new(c->names, json_string(name)) < 0 ||
         json_object_set_new(c->status, name, json_object()) < 0))
        c->lost = true;
}

void case_list_set(struct case_list *c, const char *name, const char *outcome,
                   const char *message, bool memory)
{
    case_list_add(c, name);
    json_t *s = json_object_get(c->status, name);
    if (json_object_set_new(s, "outcome", json_string(outcome)) < 0 ||
        json_object_set_new(s, "message", jsonutil_text(message, message ? strlen(message) : 0)) < 0)
        c->lost = true;
    c->memory |= memory;
}

bool case_list_lost(const struct case_list *c, struct test_outcome *out)
{
    if (!c->lost)
        return false;
    out->verdict = VERDICT_SETUP_ERROR;
    out->infra_error = strdup("out of memory reading the test's report");
    buf_puts(&out->feedback, "Assay could not read this test's report: out of memory.\n");
    return true;
}

size_t case_list_count(const struct case_list *c, const char *outcome)
{
    size_t n = 0, i;
    const json_t *name;
    json_array_foreach(c->names, i, name)
        n += !strcmp(jsonutil_str(json_object_get(c->status, json_string_value(name)), "outcome",
                                  ""), outcome);
    return n;
}

/* A skipped case that counts for nothing: listed, 0 of 0, "skipped". */
static void add_left_out(struct test_outcome *out, const char *name, const char *message)
{
    kind_add_case(out, name, false, 0, 0, message);
    json_t *last = json_array_get(out->cases, json_array_size(out->cases) - 1);
    if (last && json_object_set_new(last, "status", json_string("skipped")) < 0 && !out->infra_error)
        out->infra_error = strdup("out of memory listing the test's cases");
}

static const char *unfinished_message(const struct test_outcome *out)
{
    switch (out->verdict) {
    case VERDICT_TIMEOUT: return "not finished: the run was stopped at the time limit";
    case VERDICT_MEMORY_LIMIT: return "not finished: the run ran out of memory";
    case VERDICT_OUTPUT_LIMIT: return "not finished: the run printed too much";
    case VERDICT_DISK_LIMIT: return "not finished: the run filled its work area";
    default: return "not finished: the test run ended before this test";
    }
}

void case_list_score(struct case_list *c, struct test_run *run,
                     const struct run_result *res, double per, bool all_or_nothing,
                     struct test_outcome *out)
{
    bool limited = kind_judge_limits(run, res, out);
    if (!limited && c->memory) {
        out->verdict = VERDICT_MEMORY_LIMIT;
        buf_printf(&out->feedback, "Ran out of memory (the limit is %ld MB): look for a "
                   "list or string that keeps growing.\n", run->test->limits.memory_mb);
        limited = true;
    }
    size_t n = json_array_size(c->names), passed = 0, shown = 0, left_out = 0;
    const char *previous = NULL;
    struct buf failures = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const char *name = json_string_value(json_array_get(c->names, i));
        json_t *s = json_object_get(c->status, name);
        const char *outcome = jsonutil_str(s, "outcome", NULL);
        const char *message = outcome ? jsonutil_str(s, "message", "") : unfinished_message(out);
        bool ok = outcome && !strcmp(outcome, "passed");
        if (c->leave_out_skipped && outcome && !strcmp(outcome, "skipped")) {
            add_left_out(out, name, message);
            left_out++;
            continue;
        }
        passed += ok;
        kind_add_case(out, name, ok, ok && !all_or_nothing ? per : 0,
                      all_or_nothing ? 0 : per, ok ? NULL : message);
        if (!ok && shown++ < FEEDBACK_MAX_FAILURES) {
            bool again = previous && !strcmp(previous, message);
            buf_printf(&failures, "\n✗ %s\n%s\n", name, again ? "(the same error as above)" : message);
            previous = message;
        }
    }
    if (shown > FEEDBACK_MAX_FAILURES)
        buf_printf(&failures, "\n[... %zu more failures not shown]\n", shown - FEEDBACK_MAX_FAILURES);
    n -= left_out;
    if (all_or_nothing) {
        out->max_score = run->test->points;
        out->score = passed == n && (n > 0 || left_out > 0) ? run->test->points : 0;
    } else {
        out->max_score = per * (double)n;
        out->score = per * (double)passed;
    }
    if (!limited)
        out->verdict = passed == n && (n > 0 || left_out > 0) ? VERDICT_PASSED : VERDICT_FAILED;
    buf_printf(&out->feedback, "%zu of %zu passed.\n", passed, n);
    if (left_out)
        buf_printf(&out->feedback, "%zu skipped, left out of the points.\n", left_out);
    buf_puts(&out->feedback, buf_str(&failures));
    buf_free(&failures);
}
