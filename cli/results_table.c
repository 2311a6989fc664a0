/*
 * results_table.c - results.json as a table a person reads in a terminal.
 *
 * One row per test (points, verdict, time), the total (with what a late
 * penalty took off, since the rows add up to the score before it, and
 * the points still awaiting manual grading), then the feedback of every
 * test that did not pass, indented under its name.
 */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "contract/late.h"
#include "contract/results.h"

static void print_indented(FILE *out, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        cli_printf(out, "    %.*s\n", len, p);
        p += len + (nl ? 1 : 0);
    }
}

/* "Total: 7.2 / 10", and what a late penalty took off: the per-test
 * points above add up to the score before it. */
static void print_total(FILE *out, const json_t *r)
{
    const json_t *late = json_object_get(json_object_get(r, "assay"), "late");
    struct buf why = BUF_INIT;
    int said = late_describe(late, &why);
    struct buf total = BUF_INIT;
    if (results_total_phrase(r, &total) < 0)
        fprintf(out, "Total: %g / %g", jsonutil_num(r, "score", 0), jsonutil_num(r, "max_score", 0));
    else
        fprintf(out, "Total: %s", buf_str(&total));
    buf_free(&total);
    if (said < 0)
        fputs(" (out of memory saying the late penalty)", out);
    else if (said)
        cli_printf(out, " (%s)", buf_str(&why));
    fputc('\n', out);
    buf_free(&why);
    const char *msg = jsonutil_str(late, "message", NULL), *error = jsonutil_str(late, "error", NULL);
    if (msg)
        cli_printf(out, "%s\n", msg);
    if (error)
        cli_printf(out, "Warning: %s\n", error);
}

void results_print_table(FILE *out, const json_t *r)
{
    const json_t *assay = json_object_get(r, "assay");
    const json_t *tests = json_object_get(r, "tests");
    cli_printf(out, "%s\n", jsonutil_str(assay, "title", "Results"));
    cli_printf(out, "  %-3s %-28s %13s  %-14s %8s\n", "#", "Test", "Points", "Verdict", "Time");
    size_t i;
    const json_t *t;
    json_array_foreach(tests, i, t) {
        char points[32];
        snprintf(points, sizeof points, "%g / %g", jsonutil_num(t, "score", 0),
                 jsonutil_num(t, "max_score", 0));
        const char *vis = jsonutil_str(t, "visibility", "visible");
        cli_printf(out, "  %-3zu %-28.28s %13s  %-14s %6.2f s%s%s\n", i + 1,
                   jsonutil_str(t, "name", "?"), points, jsonutil_str(t, "verdict", "?"),
                   jsonutil_num(t, "wall_s", 0), strcmp(vis, "visible") ? "  " : "",
                   strcmp(vis, "visible") ? vis : "");
    }
    print_total(out, r);
    const json_t *hidden = json_object_get(assay, "hidden");
    if (hidden)
        fprintf(out, "Hidden tests: %g of %g points.\n", jsonutil_num(hidden, "score", 0),
                jsonutil_num(hidden, "max_score", 0));
    const json_t *error = json_object_get(assay, "error");
    if (json_is_object(error))
        cli_printf(out, "Error (%s): %s\n", jsonutil_str(error, "category", "?"),
                   jsonutil_str(error, "message", ""));
    json_array_foreach(json_object_get(assay, "warnings"), i, t)
        cli_printf(out, "Warning: %s\n", json_string_value(t));
    json_array_foreach(tests, i, t) {
        const char *fb = jsonutil_str(t, "output", "");
        if (!strcmp(jsonutil_str(t, "verdict", ""), "passed") || !*fb)
            continue;
        cli_printf(out, "\n%zu. %s:\n", i + 1, jsonutil_str(t, "name", "?"));
        print_indented(out, fb);
    }
}
