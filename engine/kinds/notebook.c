/*
 * notebook.c - the "notebook" test kind: a Jupyter notebook in
 * nbgrader's format, graded cell by cell.
 *
 *   {"kind": "notebook", "source": "source/hw2.ipynb", "notebook": "hw2.ipynb",
 *    "cell_timeout_s": 30}
 *
 * The instructor's source notebook is read here, outside the sandbox,
 * and never copied into the work directory (it holds the solutions).
 * nb_merge (engine/nbgrader.c) builds the cells to run from it and the
 * submission; engine/python/notebook_runner.py runs them in the sandbox
 * and reports how each cell ended on its standard output.  The cells
 * reach the runner on its standard input, never as a file of the work
 * directory: its supervisor, which no cell can read, hands the notebook's
 * Python process one cell at a time, so a hidden test exists where
 * student code runs only from the moment that test runs.  What cells
 * print is cleared of hidden test lines before anything is kept.  A test cell
 * earns its points when it runs without error, 0 when it raises, times
 * out or never runs, and partial credit when its last expression is a
 * number (nbgrader's rule).  Students see the problems found in their
 * notebook, each test cell's result, and an HTML copy of the notebook
 * (feedback/<name>.html) in which hidden tests never appear.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "engine/assets.h"
#include "common/check.h"
#include "engine/kind.h"
#include "engine/kinds/notebook_html.h"
#include "engine/nbgrader.h"

/* The plan goes on standard input (a memfd): nothing a cell could read
 * by name, and the runner drops it once read. */
#define COMMAND "python3 -I .assay/notebook_runner.py"
#define DEFAULT_CELL_TIMEOUT_S 30
#define MESSAGE_MAX 1500
#define SHOWN_CELL_ERRORS 5

static const char *const notebook_keys[] = {"source", "notebook", "cell_timeout_s", "stub", NULL};
static const char *const stub_keys[] = {"code", "text", NULL};
#define ANSWER_MAX 20000            /* characters of a manually graded answer kept */

/* The released answers' stub, as the test's "stub" gives it (defaults:
 * nbgrader's). */
static struct nb_stubs test_stubs(const json_t *t)
{
    const json_t *stub = json_object_get(t, "stub");
    return (struct nb_stubs){jsonutil_str(stub, "code", NULL), jsonutil_str(stub, "text", NULL)};
}

static void validate_stub(const json_t *t, const char *path, struct problems *p)
{
    const json_t *stub = json_object_get(t, "stub");
    char where[300];
    snprintf(where, sizeof where, "%s.stub", path);
    if (!stub)
        return;
    if (!json_is_object(stub)) {
        problems_add(p, where, "must be an object such as {\"code\": \"# YOUR CODE HERE\", "
                     "\"text\": \"YOUR ANSWER HERE\"} (what `assay notebook release "
                     "--code-stub/--text-stub` put in the answers)");
        return;
    }
    check_known_keys(stub, where, stub_keys, NULL, p);
    for (size_t i = 0; stub_keys[i]; i++)
        if (check_string(stub, where, stub_keys[i], false, p) &&
            !*json_string_value(json_object_get(stub, stub_keys[i])))
            problems_add(p, where, "\"%s\" must not be empty: an empty answer would count "
                         "as no response", stub_keys[i]);
}

static void notebook_validate(const char *dir, const json_t *t, const char *path,
                              struct problems *p)
{
    const char *source = check_string(t, path, "source", true, p);
    const char *nb = check_string(t, path, "notebook", true, p);
    check_number(t, path, "cell_timeout_s", DEFAULT_CELL_TIMEOUT_S, 0.1, 3600, p);
    validate_stub(t, path, p);
    char where[300];
    if (json_object_get(t, "points"))
        problems_add(p, path, "a notebook's points come from its cells' nbgrader \"points\"; "
                     "remove \"points\"");
    if (nb && !fs_relpath_is_safe(nb)) {
        snprintf(where, sizeof where, "%s.notebook", path);
        problems_add(p, where, "\"%s\" must be a relative file name", nb);
    }
    if (!source)
        return;
    snprintf(where, sizeof where, "%s.source", path);
    size_t before = p->count;
    check_instructor_file(dir, source, where, p);
    if (p->count > before)
        return;
    char *file = fs_join(dir, source);
    struct err e;
    json_t *src = nb_load_file(file, &e);
    if (!src)
        problems_add(p, where, "%s", e.msg);
    else
        nb_check_source(src, where, p);
    json_decref(src);
    free(file);
}

static void notebook_instructor_files(const json_t *t, json_t *files)
{
    (void)t;   /* the source notebook holds the solutions: it stays outside */
    (void)files;
}

static json_t *load_source(const char *dir, const json_t *spec, struct err *e)
{
    char *file = fs_join(dir, jsonutil_str(spec, "source", ""));
    json_t *src = nb_load_file(file, e);
    free(file);
    return src;
}

static double notebook_planned_points(const char *dir, const struct test_def *t)
{
    struct err e;   /* unreadable plans no points; grading reports the notebook itself */
    json_t *src = load_source(dir, t->spec, &e);
    double points = src ? nb_test_points(src) + nb_manual_points(src) : 0;
    json_decref(src);
    return points;
}

/* ---- preparing the run ---- */

static void cell_label(const json_t *entry, char *out, size_t n)
{
    const char *id = jsonutil_str(entry, "grade_id", NULL);
    long long cell = json_integer_value(json_object_get(entry, "cell"));
    if (id && cell > 0)
        snprintf(out, n, "cell %lld (%.60s)", cell, id);
    else if (id)
        snprintf(out, n, "restored cell (%.60s)", id);
    else
        snprintf(out, n, "cell %lld", cell);
}

/* The runner's input: the code cells to run, in order; NULL if out of
 * memory (a plan short of a cell would misgrade). */
static char *runner_plan(const json_t *plan, const struct test_run *run)
{
    json_t *cells = json_array();
    size_t i;
    const json_t *entry;
    int rc = cells ? 0 : -1;
    json_array_foreach(plan, i, entry) {
        if (rc < 0 || strcmp(jsonutil_str(entry, "type", ""), "code"))
            continue;
        char label[128];
        cell_label(entry, label, sizeof label);
        bool hidden = json_is_true(json_object_get(entry, "hidden"));
        rc = json_array_append_new(cells, json_pack("{s:i, s:s, s:O, s:b}", "id", (int)i,
                                                    "label", label, "code",
                                                    json_object_get(entry, "code"), "hidden",
                                                    hidden));
    }
    if (rc < 0) {
        json_decref(cells);
        return NULL;
    }
    double cell_timeout = jsonutil_num(run->test->spec, "cell_timeout_s", DEFAULT_CELL_TIMEOUT_S);
    json_t *j = json_pack("{s:f, s:f, s:o}", "cell_timeout_s", cell_timeout, "wall_s",
                          run->test->limits.wall_s, "cells", cells);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    return text;
}

/* ---- reading the results ---- */

struct graded {
    const json_t *source;
    struct nb_stubs stubs;
    json_t *plan, *problems;
    json_t *manual;         /* the answers a person grades (contract/results.h) */
    double manual_points, manual_pending;
    json_t *events;         /* plan index (as a string) -> cell event */
    bool finished, restarted, timed_out;
    double score, max;
    size_t tests, passed;
};

/* -1 if out of memory: a cell's event lost would read as a cell not run. */
static int index_events(struct graded *g, const json_t *events)
{
    size_t i;
    const json_t *ev;
    int rc = 0;
    json_array_foreach(events, i, ev) {
        const char *kind = jsonutil_str(ev, "event", "");
        if (!strcmp(kind, "finished"))
            g->finished = true;
        else if (!strcmp(kind, "restarted"))
            g->restarted = true;
        else if (!strcmp(kind, "cell") && json_is_integer(json_object_get(ev, "id"))) {
            char key[32];
            snprintf(key, sizeof key, "%lld", json_integer_value(json_object_get(ev, "id")));
            rc |= json_object_set(g->events, key, (json_t *)ev);
        }
    }
    return rc;
}

/* ---- keeping hidden tests out of what cells printed ---- */

#define HIDDEN_LINE_MIN 8       /* shorter lines ("pass", "else:") say nothing */
#define REDACTED "[a line quoting a hidden test was removed]"

/* The lines of the plan's hidden test regions ("code" lines missing from
 * "show"), trimmed, at least HIDDEN_LINE_MIN long; NULL if out of memory. */
static json_t *hidden_lines(const json_t *plan)
{
    json_t *lines = json_array();
    size_t i;
    const json_t *entry;
    json_array_foreach(plan, i, entry) {
        if (!lines || !json_is_true(json_object_get(entry, "hidden")))
            continue;
        const char *show = jsonutil_str(entry, "show", "");
        char *code = strdup(jsonutil_str(entry, "code", "")), *save = NULL;
        if (!code) {
            json_decref(lines);
            return NULL;
        }
        for (char *l = strtok_r(code, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
            l += strspn(l, " \t");
            size_t n = strlen(l);
            while (n > 0 && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
                l[--n] = '\0';
            if (n >= HIDDEN_LINE_MIN && !strstr(show, l) &&
                json_array_append_new(lines, json_string(l)) < 0) {
                json_decref(lines);
                lines = NULL;
                break;
            }
        }
        free(code);
    }
    return lines;
}

static bool quotes_hidden(const char *line, size_t len, const json_t *hidden)
{
    size_t i;
    const json_t *h;
    json_array_foreach(hidden, i, h)
        if (memmem(line, len, json_string_value(h), json_string_length(h)))
            return true;
    return false;
}

/* EV's KEY with every line quoting a hidden test line replaced; -1 if
 * out of memory (the text cannot be kept as it is). */
static int redact_field(json_t *ev, const char *key, const json_t *hidden)
{
    const char *text = json_string_value(json_object_get(ev, key));
    if (!text)
        return 0;
    struct buf b = BUF_INIT;
    bool changed = false;
    int rc = buf_append(&b, "", 0);
    for (const char *p = text; rc == 0 && *p;) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool hit = quotes_hidden(p, len, hidden);
        changed |= hit;
        rc = hit ? buf_puts(&b, REDACTED) : buf_append(&b, p, len);
        if (rc == 0 && end)
            rc = buf_puts(&b, "\n");
        p += len + (end != NULL);
    }
    if (rc == 0 && changed)
        rc = json_object_set_new(ev, key, json_string(buf_str(&b)));
    buf_free(&b);
    return rc;
}

/* Clears what every cell printed or raised of lines of hidden tests, so
 * that neither results.json nor the feedback page quote one, whatever a
 * cell printed.  (Cells cannot read a hidden test before it runs; this
 * covers verbatim copies of one that already ran.)  -1 if out of memory. */
static int redact_events(json_t *events, const json_t *plan)
{
    json_t *hidden = hidden_lines(plan);
    if (!hidden)
        return -1;
    int rc = 0;
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev) {
        if (json_array_size(hidden) == 0)
            break;
        rc |= redact_field(ev, "stdout", hidden);
        rc |= redact_field(ev, "traceback", hidden);
        rc |= redact_field(ev, "evalue", hidden);
        rc |= redact_field(ev, "ename", hidden);
        rc |= redact_field(ev, "reason", hidden);
    }
    json_decref(hidden);
    return rc;
}

static const json_t *event_of(const struct graded *g, size_t i)
{
    char key[32];
    snprintf(key, sizeof key, "%zu", i);
    return json_object_get(g->events, key);
}

/* What went wrong in a cell, in words a student can use.  For a cell
 * with hidden tests only the exception (no traceback: its lines would
 * quote the hidden code). */
static char *cell_problem(const json_t *ev, bool hidden)
{
    const char *status = ev ? jsonutil_str(ev, "status", "") : "not_run";
    struct buf b = BUF_INIT;
    if (!strcmp(status, "timeout"))
        buf_printf(&b, json_is_true(json_object_get(ev, "whole_notebook"))
                           ? "stopped: the whole notebook's time limit was reached while it ran"
                           : "stopped after %g s, the time limit for one cell: look for an "
                             "infinite loop or a call that waits forever",
                   jsonutil_num(ev, "limit_s", 0));
    else if (!strcmp(status, "died"))
        buf_puts(&b, "the notebook's Python process died while this cell ran (os._exit, a "
                     "crash, or running out of memory)");
    else if (!strcmp(status, "not_run"))
        buf_printf(&b, "not run: %s", ev ? jsonutil_str(ev, "reason", "") :
                   "the notebook runner stopped before this cell");
    else if (hidden)
        buf_printf(&b, "%s%s%s\n(this cell holds hidden tests, so only the error is shown)",
                   jsonutil_str(ev, "ename", "Error"), *jsonutil_str(ev, "evalue", "") ? ": " : "",
                   jsonutil_str(ev, "evalue", ""));
    else
        buf_puts(&b, jsonutil_str(ev, "traceback", jsonutil_str(ev, "ename", "Error")));
    char *text = text_first_bytes(buf_str(&b), b.len, MESSAGE_MAX);
    buf_free(&b);
    return text;
}

/* nbgrader's rule: full points without an error, the number the cell's
 * last expression gave (between 0 and the points) when there is one. */
static double cell_score(const json_t *ev, double points)
{
    if (!ev || strcmp(jsonutil_str(ev, "status", ""), "ok"))
        return 0;
    const json_t *n = json_object_get(ev, "number");
    if (!json_is_number(n))
        return points;
    double v = json_number_value(n);
    return v <= 0 ? 0 : v > points ? points : v;
}

/* Puts how a code cell ended into its plan entry as "result" (what the
 * HTML feedback shows): the output, unless the cell holds hidden tests,
 * and the problem, if any. */
static void annotate(struct graded *g, size_t i, json_t *entry)
{
    const json_t *ev = event_of(g, i);
    bool hidden = json_is_true(json_object_get(entry, "hidden"));
    bool ok = ev && !strcmp(jsonutil_str(ev, "status", ""), "ok");
    g->timed_out |= ev && !strcmp(jsonutil_str(ev, "status", ""), "timeout");
    json_t *result = json_object();
    json_object_set_new(result, "status", json_string(ok ? "ok" : "error"));
    if (ev && !hidden && *jsonutil_str(ev, "stdout", ""))
        json_object_set(result, "stdout", json_object_get(ev, "stdout"));
    if (!ok) {
        char *msg = cell_problem(ev, hidden);
        json_object_set_new(result, "message", json_string(msg));
        free(msg);
    }
    json_object_set_new(entry, "result", result);
}

static void score_test(struct graded *g, size_t i, const json_t *entry, struct test_outcome *out)
{
    const json_t *ev = event_of(g, i);
    double points = jsonutil_num(entry, "points", 0), score = cell_score(ev, points);
    bool ok = ev && !strcmp(jsonutil_str(ev, "status", ""), "ok");
    bool full = ok && score >= points;
    char *msg = NULL;
    if (!ok)
        msg = cell_problem(ev, json_is_true(json_object_get(entry, "hidden")));
    else if (!full && asprintf(&msg, "partial credit: the cell's result was %g of %g points",
                               score, points) < 0)
        msg = NULL;
    kind_add_case(out, jsonutil_str(entry, "grade_id", "?"), full, score, points, msg);
    json_t *result = json_object_get(entry, "result");
    json_object_set_new(result, "status", json_string(full ? "passed" : ok ? "partial" : "failed"));
    json_object_set_new(result, "score", json_real(score));
    json_object_set_new(result, "max_score", json_real(points));
    if (msg)
        json_object_set_new(result, "message", json_string(msg));
    g->score += score;
    g->max += points;
    g->tests++;
    g->passed += full;
    free(msg);
}

/* ---- answers a person grades ---- */

/* The plan entry of the submission's answer cell ID, or NULL (deleted). */
static const json_t *answer_entry(const json_t *plan, const char *id)
{
    size_t i;
    const json_t *entry;
    json_array_foreach(plan, i, entry) {
        const char *role = jsonutil_str(entry, "role", "");
        if ((!strcmp(role, "manual") || !strcmp(role, "task")) &&
            !strcmp(jsonutil_str(entry, "grade_id", ""), id))
            return entry;
    }
    return NULL;
}

/* One "needs_manual_grading" item for source cell CELL; NULL if out of
 * memory.  An answer left as released (or deleted) is nbgrader's "No
 * response.": 0 points, nothing for a person to grade. */
static json_t *manual_item(struct graded *g, const json_t *cell, const char *id)
{
    const json_t *entry = answer_entry(g->plan, id);
    const char *answer = entry ? jsonutil_str(entry, "code", "") : NULL;
    int unchanged = nb_role(cell) != NB_MANUAL ? 0
                    : answer ? nb_answer_unchanged(cell, answer, &g->stubs) : 1;
    json_t *it = unchanged < 0 ? NULL
                 : json_pack("{s:s, s:s, s:f, s:s}", "grade_id", id, "cell_type",
                             nb_cell_type(cell), "points", nb_points(cell), "status",
                             unchanged ? "no_response" : "pending");
    int rc = it ? 0 : -1;
    if (rc == 0 && answer) {
        size_t len = strlen(answer);
        rc = json_object_set_new(it, "answer", jsonutil_text(answer, len < ANSWER_MAX ? len
                                                                          : ANSWER_MAX));
    }
    if (rc == 0 && unchanged)
        rc = json_object_set_new(it, "score", json_real(0)) |
             json_object_set_new(it, "message", json_string(answer ? "No response." :
                                 "No response: the answer cell is missing."));
    if (rc < 0) {
        json_decref(it);
        return NULL;
    }
    return it;
}

/* Lists the source's manually graded answers and tasks in G->manual;
 * -1 if out of memory (a missing answer would drop its points). */
static int list_manual(struct graded *g)
{
    size_t k;
    const json_t *cell;
    json_array_foreach(json_object_get(g->source, "cells"), k, cell) {
        enum nb_role r = nb_role(cell);
        const char *id = nb_grade_id(cell);
        if ((r != NB_MANUAL && r != NB_TASK) || !id)
            continue;
        json_t *it = manual_item(g, cell, id);
        if (!it || json_array_append_new(g->manual, it) < 0)
            return -1;
        g->manual_points += nb_points(cell);
        if (!strcmp(jsonutil_str(it, "status", ""), "pending"))
            g->manual_pending += nb_points(cell);
    }
    return 0;
}

static void write_manual_feedback(const struct graded *g, struct test_outcome *out)
{
    size_t i;
    const json_t *it;
    if (json_array_size(g->manual) > 0)
        buf_puts(&out->feedback, "\nAnswers graded by a person:\n");
    json_array_foreach(g->manual, i, it) {
        bool pending = !strcmp(jsonutil_str(it, "status", ""), "pending");
        buf_printf(&out->feedback, "- %s: %s (%g points)\n", jsonutil_str(it, "grade_id", ""),
                   pending ? "awaiting manual grading" : jsonutil_str(it, "message", ""),
                   jsonutil_num(it, "points", 0));
    }
}

static void write_feedback(struct graded *g, struct test_outcome *out)
{
    if (g->tests > 0)
        buf_printf(&out->feedback, "%zu of %zu test cells passed (%g of %g points).\n",
                   g->passed, g->tests, g->score, g->max);
    else
        buf_puts(&out->feedback, "This notebook has no autograder test cells.\n");
    size_t i;
    const json_t *c;
    json_array_foreach(out->cases, i, c) {
        bool ok = !strcmp(jsonutil_str(c, "status", ""), "passed");
        buf_printf(&out->feedback, "%s %s: %g / %g\n", ok ? "✓" : "✗", jsonutil_str(c, "name", ""),
                   jsonutil_num(c, "score", 0), jsonutil_num(c, "max_score", 0));
        if (!ok)
            buf_printf(&out->feedback, "  %s\n", jsonutil_str(c, "message", ""));
    }
    size_t shown = 0;
    json_array_foreach(g->plan, i, c) {
        const json_t *result = json_object_get(c, "result");
        if (!strcmp(jsonutil_str(c, "role", ""), "test") ||
            strcmp(jsonutil_str(result, "status", "ok"), "error"))
            continue;
        if (shown++ == 0)
            buf_puts(&out->feedback, "\nOther cells that did not run cleanly:\n");
        if (shown > SHOWN_CELL_ERRORS)
            continue;
        char label[128];
        cell_label(c, label, sizeof label);
        buf_printf(&out->feedback, "- %s: %s\n", label, jsonutil_str(result, "message", ""));
    }
    if (shown > SHOWN_CELL_ERRORS)
        buf_printf(&out->feedback, "[... %zu more]\n", shown - SHOWN_CELL_ERRORS);
    write_manual_feedback(g, out);
    if (g->restarted)
        json_array_append_new(g->problems, json_string(
            "A cell hung or crashed the notebook's Python process, which was restarted; the "
            "cells that had run before it were run again so that later tests could be graded."));
    if (json_array_size(g->problems) > 0)
        buf_puts(&out->feedback, "\nProblems found in this notebook:\n");
    json_array_foreach(g->problems, i, c)
        buf_printf(&out->feedback, "- %s\n", json_string_value(c));
}

static void set_verdict(struct graded *g, struct test_run *run, struct run_result *res,
                        struct test_outcome *out)
{
    out->score = g->score;
    out->max_score = g->max + g->manual_points;
    if (kind_judge_limits(run, res, out))
        return;
    if (!g->finished) {
        buf_puts(&out->feedback, "\nThe notebook runner stopped early: ");
        kind_describe_crash(res, &out->feedback);
    }
    out->verdict = g->passed == g->tests ? VERDICT_PASSED
                   : g->timed_out        ? VERDICT_TIMEOUT
                                         : VERDICT_FAILED;
}

/* feedback/<notebook name>.html beside results.json. */
static void save_html(struct test_run *run, struct graded *g, const char *name,
                      struct test_outcome *out)
{
    if (!run->files_dir)
        return;
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    size_t len = strlen(base);
    if (len > 6 && !strcmp(base + len - 6, ".ipynb"))
        len -= 6;
    char rel[300], *dir = fs_join(run->files_dir, "feedback");
    snprintf(rel, sizeof rel, "feedback/%.*s.html", (int)(len < 200 ? len : 200), base);
    char *path = fs_join(run->files_dir, rel);
    char *html = notebook_html(name, g->plan, g->problems, g->score, g->max + g->manual_points,
                               g->manual_pending);
    struct err e;
    if (!html)
        err_set(&e, "out of memory");
    if (html && fs_mkdir_p(dir, 0755, &e) == 0 &&
        fs_write_file(path, html, strlen(html), false, &e) == 0)
        json_object_set_new(json_object_get(out->extra, "notebook"), "feedback_file",
                            json_string(rel));
    else   /* the feedback in results.json stands; only the page is missing */
        log_msg(LOG_WARN, NULL, "the notebook's feedback page %s is not saved: %s", rel, e.msg);
    free(html);
    free(path);
    free(dir);
}

/* ---- the kind ---- */

/* The submission's notebook, or NULL with OUT saying why. */
static json_t *read_submission(struct test_run *run, const char *name, struct test_outcome *out)
{
    struct buf b = BUF_INIT;
    struct err e;
    json_t *nb = NULL;
    if (fs_read_beneath(run->workdir_fd, name, NB_MAX_BYTES, &b, &e) < 0)
        err_set(&e, "The submission has no readable notebook %s (%s); hand in the notebook "
                "the assignment asks for.", name, e.msg);
    else if (!(nb = nb_parse(buf_str(&b), b.len, name, &e)))
        err_prefix(&e, "Your notebook could not be read; open it in Jupyter, save it, and "
                   "submit it again");
    buf_free(&b);
    if (!nb) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->submission_error = strdup(e.msg);
        buf_printf(&out->feedback, "%s\n", e.msg);
    }
    return nb;
}

static void grade_merged(struct test_run *run, struct graded *g, const char *name,
                         struct test_outcome *out)
{
    char *input = runner_plan(g->plan, run);
    struct err e;
    struct run_result res;
    json_t *events = NULL;
    int plan_fd = input ? kind_stdin_text(input, strlen(input), &e) : err_set(&e, "out of memory");
    if (plan_fd < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not prepare this test: %s\n", e.msg);
    } else {
        events = kind_run_reporter(run, "notebook_runner.py", asset_notebook_runner, COMMAND,
                                   plan_fd, NULL, &res, out);
        close(plan_fd);
    }
    free(input);
    if (!events)
        return;
    if (redact_events(events, g->plan) < 0 || index_events(g, events) < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup("out of memory reading the notebook's results");
        buf_puts(&out->feedback, "Assay could not read the notebook's results: out of memory.\n");
        json_decref(events);
        run_result_free(&res);
        return;
    }
    size_t i;
    json_t *entry;
    json_array_foreach(g->plan, i, entry) {
        if (strcmp(jsonutil_str(entry, "type", ""), "code"))
            continue;
        annotate(g, i, entry);
        if (!strcmp(jsonutil_str(entry, "role", ""), "test"))
            score_test(g, i, entry, out);
    }
    if (list_manual(g) < 0 || (json_array_size(g->manual) > 0 &&
        json_object_set(out->extra, "needs_manual_grading", g->manual) < 0)) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup("out of memory listing the answers graded by hand");
        buf_puts(&out->feedback, "Assay could not list the answers graded by hand: out of memory.\n");
        json_decref(events);
        run_result_free(&res);
        return;
    }
    write_feedback(g, out);
    set_verdict(g, run, &res, out);
    save_html(run, g, name, out);
    json_decref(events);
    run_result_free(&res);
}

static void notebook_grade(struct test_run *run, struct test_outcome *out)
{
    const char *name = jsonutil_str(run->test->spec, "notebook", "");
    struct err e;
    json_t *source = load_source(run->asg->sum.dir, run->test->spec, &e);
    if (!source) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not read the assignment's notebook: %s\n", e.msg);
        return;
    }
    json_t *sub = read_submission(run, name, out);
    if (sub) {
        struct graded g = {.source = source, .stubs = test_stubs(run->test->spec),
                           .problems = json_array(), .events = json_object(),
                           .manual = json_array()};
        g.plan = g.problems && g.events && g.manual ? nb_merge(source, sub, g.problems) : NULL;
        out->extra = g.plan ? json_pack("{s:{s:O}}", "notebook", "problems", g.problems) : NULL;
        if (!out->extra) {
            out->verdict = VERDICT_SETUP_ERROR;
            out->infra_error = strdup("out of memory merging the notebook");
            buf_puts(&out->feedback, "Assay could not read the notebook: out of memory.\n");
        } else {
            grade_merged(run, &g, name, out);
        }
        json_decref(g.plan);
        json_decref(g.problems);
        json_decref(g.events);
        json_decref(g.manual);
    }
    json_decref(sub);
    json_decref(source);
}

const struct test_kind kind_notebook = {
    .name = "notebook",
    .keys = notebook_keys,
    .validate = notebook_validate,
    .instructor_files = notebook_instructor_files,
    .planned_points = notebook_planned_points,
    .grade = notebook_grade,
};
