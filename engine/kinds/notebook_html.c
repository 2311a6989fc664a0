/*
 * notebook_html.c - the HTML feedback page of a graded notebook.
 *
 * The notebook kind (notebook.c) writes one page per graded notebook to
 * feedback/<name>.html beside results.json: the notebook's cells in the
 * order they ran, each test cell with its points and what went wrong.
 * The page is built here, outside the sandbox, from the merged plan, so
 * it shows test cells only as students may see them (the "show" text,
 * hidden tests removed) and never the output of a cell with hidden
 * tests.  Everything from the notebook is escaped; the page loads
 * nothing from anywhere.
 */
#include "engine/kinds/notebook_html.h"

#include <string.h>

#include "common/buf.h"
#include "common/jsonutil.h"

#define HIDDEN_NOTE "# (hidden tests ran here; they are not shown)"

static const char style[] =
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}"
    "pre{white-space:pre-wrap;word-wrap:break-word;margin:0;padding:.5em;font-size:90%}"
    ".cell{border:1px solid #ccc;border-radius:4px;margin:1em 0}"
    ".label{font-size:80%;color:#666;padding:.2em .5em;background:#f4f4f4}"
    ".src{background:#fafafa}.md{color:#333}.out{border-top:1px dashed #ccc}"
    ".err{background:#fdecea;color:#7a1c12}.passed{background:#e8f5e9}"
    ".failed{background:#fdecea}.partial{background:#fff8e1}"
    ".verdict{padding:.3em .5em;font-weight:bold}";

static void escape(struct buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': buf_puts(b, "&amp;"); break;
        case '<': buf_puts(b, "&lt;"); break;
        case '>': buf_puts(b, "&gt;"); break;
        case '"': buf_puts(b, "&quot;"); break;
        case '\'': buf_puts(b, "&#39;"); break;
        default: buf_append(b, s, 1);
        }
    }
}

static void pre(struct buf *b, const char *cls, const char *text)
{
    buf_printf(b, "<pre class=\"%s\">", cls);
    escape(b, text);
    buf_puts(b, "</pre>\n");
}

static void label(struct buf *b, const json_t *entry)
{
    const char *role = jsonutil_str(entry, "role", ""), *id = jsonutil_str(entry, "grade_id", NULL);
    long long cell = json_integer_value(json_object_get(entry, "cell"));
    buf_puts(b, "<div class=\"label\">");
    if (cell > 0)
        buf_printf(b, "cell %lld", cell);
    else
        buf_puts(b, "restored from the assignment");
    buf_printf(b, " &middot; %s", !strcmp(role, "student") || !strcmp(role, "plain") ? "code" : role);
    if (id) {
        buf_puts(b, " &middot; ");
        escape(b, id);
    }
    buf_puts(b, "</div>\n");
}

static void test_verdict(struct buf *b, const json_t *entry, const json_t *result)
{
    const char *status = jsonutil_str(result, "status", "failed");
    buf_printf(b, "<div class=\"verdict %s\">%s ", status,
               !strcmp(status, "passed") ? "&#10003;" : "&#10007;");
    escape(b, jsonutil_str(entry, "grade_id", ""));
    buf_printf(b, ": %g / %g points</div>\n", jsonutil_num(result, "score", 0),
               jsonutil_num(result, "max_score", 0));
}

static void code_cell(struct buf *b, const json_t *entry)
{
    const json_t *result = json_object_get(entry, "result");
    bool test = !strcmp(jsonutil_str(entry, "role", ""), "test");
    buf_puts(b, "<div class=\"cell\">\n");
    label(b, entry);
    struct buf src = BUF_INIT;
    buf_puts(&src, jsonutil_str(entry, "show", ""));
    if (json_is_true(json_object_get(entry, "hidden")))
        buf_printf(&src, "%s" HIDDEN_NOTE, src.len && src.data[src.len - 1] != '\n' ? "\n" : "");
    pre(b, "src", buf_str(&src));
    buf_free(&src);
    if (json_object_get(result, "stdout"))
        pre(b, "out", jsonutil_str(result, "stdout", ""));
    if (json_object_get(result, "message"))
        pre(b, "err", jsonutil_str(result, "message", ""));
    if (test)
        test_verdict(b, entry, result);
    buf_puts(b, "</div>\n");
}

char *notebook_html(const char *name, const json_t *plan, const json_t *problems,
                    double score, double max, double pending)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Feedback: ");
    escape(&b, name);
    buf_printf(&b, "</title><style>%s</style></head><body>\n<h1>Feedback: ", style);
    escape(&b, name);
    if (pending > 0)   /* as graded; a person's grades show in the results, not here */
        buf_printf(&b, "</h1>\n<p class=\"score\">Score: %g of %g points, %g awaiting manual "
                   "grading</p>\n", score, max, pending);
    else
        buf_printf(&b, "</h1>\n<p class=\"score\">Score: %g / %g</p>\n", score, max);
    if (json_array_size(problems) > 0) {
        buf_puts(&b, "<h2>Problems found in this notebook</h2>\n<ul>\n");
        size_t i;
        const json_t *p;
        json_array_foreach(problems, i, p) {
            buf_puts(&b, "<li>");
            escape(&b, json_string_value(p));
            buf_puts(&b, "</li>\n");
        }
        buf_puts(&b, "</ul>\n");
    }
    size_t i;
    const json_t *entry;
    json_array_foreach(plan, i, entry) {
        if (!strcmp(jsonutil_str(entry, "type", ""), "code"))
            code_cell(&b, entry);
        else
            pre(&b, "md", jsonutil_str(entry, "show", ""));
    }
    buf_puts(&b, "</body></html>\n");
    return buf_steal(&b);
}
