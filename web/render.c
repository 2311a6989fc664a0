/*
 * render.c - the HTML of a result and small formatting shared by the
 * pages.  A result holds what the student's code printed and what the
 * tests said of it: every string goes through html_escape.
 */
#include "web/render.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/jsonutil.h"
#include "web/html.h"

void render_duration(char *out, size_t n, double s)
{
    if (!isfinite(s) || s < 0)
        snprintf(out, n, "-");
    else if (s < 120)
        snprintf(out, n, "%.0f s", s);
    else if (s < 7200)
        snprintf(out, n, "%.0f min", s / 60);
    else
        snprintf(out, n, "%.0f h %.0f min", floor(s / 3600), fmod(s, 3600) / 60);
}

void render_late_days(char *out, size_t n, const json_t *r)
{
    const json_t *late = json_object_get(json_object_get(r, "assay"), "late");
    if (!r)
        snprintf(out, n, "%s", "");
    else
        snprintf(out, n, "%g", jsonutil_num(late, "days", 0));
}

static void render_error(struct buf *b, const json_t *err)
{
    if (!json_is_object(err))
        return;
    html_printf(b, "<p class=\"error result-error\"><strong>Error (%s):</strong> %s</p>",
                jsonutil_str(err, "category", "?"), jsonutil_str(err, "message", ""));
}

static void render_tests(struct buf *b, const json_t *tests)
{
    if (!json_array_size(tests))
        return;
    buf_puts(b, "<div class=\"scroll\"><table class=\"tests\"><tr><th>Test</th><th>Score</th>"
             "<th>Verdict</th></tr>");
    size_t i;
    const json_t *t;
    json_array_foreach(tests, i, t) {
        html_printf(b, "<tr><td>%s</td><td>%g / %g</td><td>%s</td></tr>",
                    jsonutil_str(t, "name", "?"), jsonutil_num(t, "score", 0),
                    jsonutil_num(t, "max_score", 0),
                    jsonutil_str(t, "verdict", jsonutil_str(t, "status", "")));
        const char *out = jsonutil_str(t, "output", "");
        if (out[0])
            html_printf(b, "<tr><td colspan=\"3\"><pre>%s</pre></td></tr>", out);
    }
    buf_puts(b, "</table></div>");
}

void render_result(struct buf *b, const json_t *r)
{
    const json_t *a = json_object_get(r, "assay");
    html_printf(b, "<p class=\"total\"><strong>Score: %g / %g</strong> <span class=\"muted\">"
                "(%s)</span></p>", jsonutil_num(r, "score", 0), jsonutil_num(r, "max_score", 0),
                jsonutil_str(a, "status", "graded"));
    const json_t *late = json_object_get(a, "late");
    if (json_is_number(json_object_get(late, "penalty_percent")) &&
        jsonutil_num(late, "penalty_percent", 0) > 0)
        html_printf(b, "<p>Late by %g day(s): %g %% off (%g before the penalty).</p>",
                    jsonutil_num(late, "days", 0), jsonutil_num(late, "penalty_percent", 0),
                    jsonutil_num(late, "score_before", 0));
    render_error(b, json_object_get(a, "error"));
    const json_t *hidden = json_object_get(a, "hidden");
    if (json_is_object(hidden))
        html_printf(b, "<p class=\"hidden-summary\">Hidden tests: %g of %g points.</p>",
                    jsonutil_num(hidden, "score", 0), jsonutil_num(hidden, "max_score", 0));
    render_tests(b, json_object_get(r, "tests"));
    const char *out = jsonutil_str(r, "output", "");
    if (out[0])
        html_printf(b, "<details><summary>Output</summary><pre>%s</pre></details>", out);
}
