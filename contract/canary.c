/*
 * canary.c - the canary gradings (canary.h): their built-in assignments,
 * their job archives, and what their results say.
 *
 * Each canary is an assignment of contract/canaries/KIND/ with a
 * submission that earns full marks, built into the binaries by
 * scripts/embed.sh, so nothing is read from a source tree or can go
 * missing after an install.  Its first test, "runtime"
 * (contract/canaries/common/needs.sh), runs in the sandbox like every
 * other and prints one "missing: ..." line for each thing the kind needs
 * that the runs cannot find (the interpreter, a Python module with its
 * Debian package); the second is the kind itself.  A worker with
 * everything scores full marks.  Anything else is told in sentences:
 * the missing lines when there are some (they say what to install),
 * otherwise the worker's error or each test that lost points, with the
 * first lines of its output (a sandbox that cannot start, a setup.sh not
 * run).  Both `assay-shipper --canary` and `assay-worker canary` use
 * this, so they judge and word the same way.
 */
#define _GNU_SOURCE
#include "contract/canary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/archive.h"
#include "common/ids.h"
#include "common/jsonutil.h"

#define PREFIX "canary-"
#define DETAIL_MAX 600       /* bytes of a test's output quoted in a problem */
#define DETAIL_LINES 3

/* build/gen/canary_assets.c (scripts/embed.sh, from contract/canaries/) */
extern const char asset_canary_needs_sh[], asset_canary_needs_py[],
    asset_canary_io_assignment[], asset_canary_io_hello[],
    asset_canary_pytest_assignment[], asset_canary_pytest_test[], asset_canary_pytest_canary[],
    asset_canary_doctest_assignment[], asset_canary_doctest_canary[],
    asset_canary_notebook_assignment[], asset_canary_notebook_source[],
    asset_canary_notebook_canary[],
    asset_canary_gradescope_assignment[], asset_canary_gradescope_run[],
    asset_canary_gradescope_answer[], asset_canary_property_assignment[],
    asset_canary_property_reference[], asset_canary_property_canary[];

#define NEEDS {"submission/needs.sh", asset_canary_needs_sh}, \
              {"submission/needs.py", asset_canary_needs_py}

static const struct canary_file io_files[] = {
    {"assignment/assignment.json", asset_canary_io_assignment},
    {"submission/hello.py", asset_canary_io_hello}, NEEDS, {NULL, NULL}};
static const struct canary_file pytest_files[] = {
    {"assignment/assignment.json", asset_canary_pytest_assignment},
    {"assignment/tests/test_canary.py", asset_canary_pytest_test},
    {"submission/canary.py", asset_canary_pytest_canary}, NEEDS, {NULL, NULL}};
static const struct canary_file doctest_files[] = {
    {"assignment/assignment.json", asset_canary_doctest_assignment},
    {"submission/canary.py", asset_canary_doctest_canary}, NEEDS, {NULL, NULL}};
static const struct canary_file notebook_files[] = {
    {"assignment/assignment.json", asset_canary_notebook_assignment},
    {"assignment/source/canary.ipynb", asset_canary_notebook_source},
    {"submission/canary.ipynb", asset_canary_notebook_canary}, NEEDS, {NULL, NULL}};
static const struct canary_file gradescope_files[] = {
    {"assignment/assignment.json", asset_canary_gradescope_assignment},
    {"assignment/autograder/run_autograder", asset_canary_gradescope_run},
    {"submission/answer.txt", asset_canary_gradescope_answer}, NEEDS, {NULL, NULL}};
static const struct canary_file property_files[] = {
    {"assignment/assignment.json", asset_canary_property_assignment},
    {"assignment/reference/canary.py", asset_canary_property_reference},
    {"submission/canary.py", asset_canary_property_canary}, NEEDS, {NULL, NULL}};

/* The scores are the assignments' totals (contract/canaries/KIND/assignment.json). */
static const struct canary canaries[] = {
    {"io", io_files, 3},
    {"pytest", pytest_files, 3},
    {"doctest", doctest_files, 3},
    {"notebook", notebook_files, 3},
    {"gradescope", gradescope_files, 3},
    {"property", property_files, 3},
};

#define N_CANARIES (sizeof canaries / sizeof *canaries)

const struct canary *canary_all(size_t *n)
{
    *n = N_CANARIES;
    return canaries;
}

const struct canary *canary_find(const char *kind)
{
    for (size_t i = 0; i < N_CANARIES; i++)
        if (!strcmp(canaries[i].kind, kind))
            return &canaries[i];
    return NULL;
}

double canary_wall_s(const struct canary *c)
{
    json_t *a = json_loads(c->files[0].data, 0, NULL);
    const json_t *wall = json_object_get(json_object_get(a, "limits"), "wall_s");
    double s = json_number_value(wall) * (double)json_array_size(json_object_get(a, "tests"));
    json_decref(a);
    return s > 0 ? s : 60;   /* out of memory: a generous guess */
}

int canary_archive_name(char *out, size_t n, const char *kind, double now)
{
    char token[33];
    ids_random_hex(token, 16);
    int len = snprintf(out, n, PREFIX "%lld-%s.%s.zip", (long long)now, kind, token);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

bool canary_archive_fresh(const char *name, double now)
{
    long long made;
    char dash;
    if (strncmp(name, PREFIX, strlen(PREFIX)) ||
        sscanf(name + strlen(PREFIX), "%lld%c", &made, &dash) != 2 || dash != '-')
        return false;
    return now - (double)made < CANARY_MAX_AGE_S;
}

int canary_pack(const struct canary *c, int fd, const char *name, const char *id,
                const char *setup, size_t len, struct err *e)
{
    json_t *job = json_pack("{s:s, s:s}", "id", id, "canary", c->kind);
    char *text = job ? jsonutil_dump(job) : NULL;
    json_decref(job);
    struct archive_part parts[16];
    size_t n = 0;
    if (!text)
        return err_set(e, "out of memory");
    parts[n++] = (struct archive_part){.prefix = "job.json", .data = text, .len = strlen(text)};
    for (const struct canary_file *f = c->files; f->path && n < 14; f++)
        parts[n++] = (struct archive_part){.prefix = f->path, .data = f->data,
                                           .len = strlen(f->data)};
    if (setup)
        parts[n++] = (struct archive_part){.prefix = "assignment/autograder/setup.sh",
                                           .data = setup, .len = len};
    int rc = archive_create_fd(fd, name, parts, n, e);
    free(text);
    return rc;
}

/* ---- judging ---- */

/* The "missing: ..." lines of every test's output, as problems; how many. */
static size_t add_missing(json_t *problems, const json_t *tests)
{
    size_t i, found = 0;
    const json_t *t;
    json_array_foreach(tests, i, t) {
        const char *out = jsonutil_str(t, "output", "");
        for (const char *line = out; *line;) {
            size_t len = strcspn(line, "\n");
            if (!strncmp(line, "missing: ", 9)) {
                jsonutil_append_textf(problems, "%.*s",
                                      (int)(len < DETAIL_MAX ? len : DETAIL_MAX), line);
                found++;
            }
            line += len + (line[len] == '\n');
        }
    }
    return found;
}

/* The first lines of TEXT, joined with spaces, at most DETAIL_MAX bytes. */
static void first_lines(const char *text, struct buf *out)
{
    int lines = 0;
    for (const char *line = text; *line && lines < DETAIL_LINES;) {
        size_t len = strcspn(line, "\n");
        if (len > 0) {
            size_t room = DETAIL_MAX > out->len ? DETAIL_MAX - out->len : 0;
            buf_printf(out, "%s%.*s", lines ? " " : "", (int)(len < room ? len : room), line);
            lines++;
        }
        line += len + (line[len] == '\n');
    }
}

/* Each test that lost points: its name, verdict and what it said. */
static void add_failed_tests(json_t *problems, const json_t *tests)
{
    size_t i;
    const json_t *t;
    json_array_foreach(tests, i, t) {
        double score = jsonutil_num(t, "score", 0), max = jsonutil_num(t, "max_score", 0);
        if (score >= max && max > 0)
            continue;
        struct buf said = BUF_INIT;
        first_lines(jsonutil_str(t, "output", ""), &said);
        jsonutil_append_textf(problems, "test \"%s\" (%s, %g of %g points): %s",
                              jsonutil_str(t, "name", "?"), jsonutil_str(t, "verdict", "?"), score,
                              max, said.len ? buf_str(&said) : "it said nothing");
        buf_free(&said);
    }
}

static void judge_result(const struct canary *c, const json_t *r, json_t *problems)
{
    const json_t *a = json_object_get(r, "assay"), *tests = json_object_get(r, "tests");
    const json_t *error = json_object_get(a, "error");
    double score = jsonutil_num(r, "score", -1), max = jsonutil_num(r, "max_score", -1);
    bool full = score == c->score && max == c->score;
    if (add_missing(problems, tests) > 0)
        return;   /* what to install: the rest follows from it */
    if (json_is_object(error))
        jsonutil_append_textf(problems, "the worker could not grade it: %s",
                              jsonutil_str(error, "message", "(no message)"));
    else if (!full)
        add_failed_tests(problems, tests);
    if (json_array_size(problems) == 0 && !full)
        jsonutil_append_textf(problems, "it scored %g of %g points; a worker with everything "
                              "scores %g of %g", score, max, c->score, c->score);
}

json_t *canary_judge(const struct canary *c, const char *label, const json_t *r,
                     const char *why, double seconds)
{
    json_t *problems = json_array();
    if (!problems)
        return NULL;
    if (r)
        judge_result(c, r, problems);
    else
        jsonutil_append_textf(problems, "%s", why ? why : "no result came back");
    bool ok = r && json_array_size(problems) == 0;
    /* the worker's own grading time, when it says: the wait includes its queue */
    seconds = jsonutil_num(json_object_get(r, "assay"), "grading_s", seconds);
    return json_pack("{s:s, s:s, s:b, s:f, s:f, s:f, s:o}", "canary", label, "kind", c->kind,
                     "ok", ok, "score", jsonutil_num(r, "score", 0), "expected", c->score,
                     "seconds", seconds, "problems", problems);
}

int canary_describe(const json_t *o, struct buf *out)
{
    const json_t *problems = json_object_get(o, "problems");
    if (json_is_true(json_object_get(o, "ok")))
        return buf_printf(out, "ok (%g of %g points, %.1f s)", jsonutil_num(o, "score", 0),
                          jsonutil_num(o, "expected", 0), jsonutil_num(o, "seconds", 0));
    size_t i, missing = 0;
    const json_t *p;
    json_array_foreach(problems, i, p)
        missing += !strncmp(json_string_value(p) ? json_string_value(p) : "", "missing: ", 9);
    bool all_missing = missing > 0 && missing == json_array_size(problems);
    int rc = buf_puts(out, all_missing ? "MISSING: " : "FAILED: ");
    json_array_foreach(problems, i, p) {
        const char *text = json_string_value(p) ? json_string_value(p) : "?";
        rc |= buf_printf(out, "%s%s", i ? "; " : "", all_missing ? text + 9 : text);
    }
    return rc;
}
