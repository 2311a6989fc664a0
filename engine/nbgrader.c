/*
 * nbgrader.c - Jupyter notebooks in nbgrader's format: reading them,
 * making the student version, and merging a submission with the source.
 *
 * nbgrader marks cells in metadata.nbgrader ("grade", "solution",
 * "locked", "task", "grade_id", "points", "checksum", schema_version 3).
 * The instructor's source notebook is the authority: `assay notebook
 * release` (nb_release) makes the student version from it, and the
 * notebook test kind (engine/kinds/notebook.c) grades a submission by
 * nb_merge, which takes only the answers from the submission and
 * restores every test and locked cell from the source.  Student
 * notebooks are hostile: any field may be missing or of the wrong type,
 * cells may be deleted, duplicated or stripped of metadata, and nothing
 * here trusts any of it.
 */
#define _GNU_SOURCE
#include "engine/nbgrader.h"

#include <math.h>
#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/jsonutil.h"

#define BEGIN_SOLUTION "### BEGIN SOLUTION"
#define END_SOLUTION "### END SOLUTION"
#define BEGIN_HIDDEN "### BEGIN HIDDEN TESTS"
#define AUTOTEST "### AUTOTEST"
#define HASHED_AUTOTEST "### HASHED AUTOTEST"
#define END_HIDDEN "### END HIDDEN TESTS"
#define CODE_STUB "# YOUR CODE HERE\nraise NotImplementedError()"
#define TEXT_STUB "YOUR ANSWER HERE"
#define ID_SHOWN 60                 /* longest grade_id quoted in a message */

/* ---- reading ---- */

json_t *nb_parse(const char *text, size_t len, const char *what, struct err *e)
{
    json_t *nb = jsonutil_load_text(text, len, what, e);
    if (!nb)
        return NULL;
    const json_t *cells = json_object_get(nb, "cells");
    const json_t *major = json_object_get(nb, "nbformat");
    if (!json_is_object(nb) || !json_is_array(cells)) {
        err_set(e, "%s is not a Jupyter notebook: it has no list of \"cells\"", what);
    } else if (major && (!json_is_integer(major) || json_integer_value(major) != 4)) {
        err_set(e, "%s is in notebook format %s; Assay reads format 4 (save it with a "
                "current Jupyter)", what, json_is_integer(major) ? "3 or older" : "unknown");
    } else {
        return nb;
    }
    json_decref(nb);
    return NULL;
}

json_t *nb_load_file(const char *path, struct err *e)
{
    struct buf b = BUF_INIT;
    json_t *nb = NULL;
    if (fs_read_file(path, NB_MAX_BYTES, &b, e) == 0)
        nb = nb_parse(buf_str(&b), b.len, path, e);
    buf_free(&b);
    return nb;
}

char *nb_source(const json_t *cell)
{
    const json_t *src = json_object_get(cell, "source");
    if (json_is_string(src))
        return strdup(json_string_value(src));
    struct buf b = BUF_INIT;
    int rc = buf_append(&b, "", 0);
    size_t i;
    const json_t *line;
    json_array_foreach(src, i, line)
        if (rc == 0 && json_is_string(line))
            rc = buf_append(&b, json_string_value(line), json_string_length(line));
    if (rc < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

const char *nb_cell_type(const json_t *cell)
{
    const char *t = jsonutil_str(cell, "cell_type", "");
    return !strcmp(t, "code") || !strcmp(t, "markdown") || !strcmp(t, "raw") ? t : "";
}

const json_t *nb_meta(const json_t *cell)
{
    const json_t *m = json_object_get(json_object_get(cell, "metadata"), "nbgrader");
    return json_is_object(m) ? m : NULL;
}

const char *nb_grade_id(const json_t *cell)
{
    const char *id = jsonutil_str(nb_meta(cell), "grade_id", NULL);
    return id && *id ? id : NULL;
}

static bool meta_flag(const json_t *cell, const char *key)
{
    return json_is_true(json_object_get(nb_meta(cell), key));
}

enum nb_role nb_role(const json_t *cell)
{
    bool grade = meta_flag(cell, "grade"), solution = meta_flag(cell, "solution");
    if (grade && solution)
        return NB_MANUAL;
    if (solution)
        return NB_ANSWER;
    if (grade)
        return NB_TEST;
    if (meta_flag(cell, "task"))
        return NB_TASK;
    return meta_flag(cell, "locked") ? NB_LOCKED : NB_PLAIN;
}

const char *nb_role_name(enum nb_role r)
{
    static const char *const names[] = {"plain", "answer", "test", "locked", "manual", "task"};
    return names[r];
}

double nb_points(const json_t *cell)
{
    double p = jsonutil_num(nb_meta(cell), "points", 0);
    return isfinite(p) && p > 0 ? p : 0;
}

static char *trimmed(const char *s);

/* ---- rewriting sources ---- */

/* The line of SRC starting at P holds MARKER (after leading spaces). */
static bool line_is(const char *p, const char *marker, size_t *indent)
{
    size_t sp = strspn(p, " \t");
    size_t len = strcspn(p + sp, "\n");
    while (len > 0 && (p[sp + len - 1] == ' ' || p[sp + len - 1] == '\t' || p[sp + len - 1] == '\r'))
        len--;
    if (indent)
        *indent = sp;
    return len == strlen(marker) && !strncmp(p + sp, marker, len);
}

/* Replaces every BEGIN..END region (marker lines included) with
 * REPLACEMENT indented like the BEGIN line (nothing when NULL). */
static char *replace_regions(const char *src, const char *begin, const char *end,
                             const char *replacement, bool *found)
{
    struct buf out = BUF_INIT;
    int rc = src ? buf_append(&out, "", 0) : -1;
    bool inside = false;
    *found = false;
    for (const char *p = src; rc == 0 && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p), indent;
        if (!inside && line_is(p, begin, &indent)) {
            inside = *found = true;
            for (const char *r = replacement; rc == 0 && r && *r;) {
                size_t rl = strcspn(r, "\n");
                rc = buf_append(&out, p, indent) < 0 || buf_append(&out, r, rl) < 0 ||
                     buf_puts(&out, "\n") < 0 ? -1 : 0;
                r += rl + (r[rl] == '\n');
            }
        } else if (inside && line_is(p, end, NULL)) {
            inside = false;
        } else if (!inside) {
            rc = buf_append(&out, p, len);
        }
        p += len;
    }
    if (rc < 0) {   /* out of memory: never a source with a region left in */
        buf_free(&out);
        return NULL;
    }
    /* no trailing newline where the source had none */
    if (out.len > 0 && out.data[out.len - 1] == '\n' && !(*src && src[strlen(src) - 1] == '\n'))
        out.data[--out.len] = '\0';
    return buf_steal(&out);
}

char *nb_visible_source(const char *src, bool *had_hidden)
{
    return replace_regions(src, BEGIN_HIDDEN, END_HIDDEN, NULL, had_hidden);
}

/* Python's str(float(x)) for the values points take ("2.0", "0.5"). */
static void py_float(double x, char out[40])
{
    if (x == floor(x) && fabs(x) < 1e16) {
        snprintf(out, 40, "%.1f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, 40, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

static bool is_locked(const json_t *cell)
{
    enum nb_role r = nb_role(cell);
    return r == NB_TEST || r == NB_LOCKED || (r == NB_TASK && meta_flag(cell, "locked"));
}

/* nbgrader hashes Python's str() of each field: "True" or "False" for flags. */
static void md5_text(MD5_CTX *m, const char *s)
{
    MD5Update(m, (const uint8_t *)s, strlen(s));
}

int nb_checksum(const json_t *cell, char out[33])
{
    MD5_CTX m;
    MD5Init(&m);
    char *src = nb_source(cell);
    if (!src)
        return -1;
    const char *id = jsonutil_str(nb_meta(cell), "grade_id", "");
    bool grade = meta_flag(cell, "grade");
    md5_text(&m, src);
    md5_text(&m, jsonutil_str(cell, "cell_type", ""));
    md5_text(&m, grade ? "True" : "False");
    md5_text(&m, meta_flag(cell, "solution") ? "True" : "False");
    md5_text(&m, is_locked(cell) ? "True" : "False");
    md5_text(&m, id);
    if (grade) {
        char pts[40];
        py_float(nb_points(cell), pts);
        md5_text(&m, pts);
    }
    MD5End(&m, out);
    free(src);
    return 0;
}

/* ---- the instructor's source notebook ---- */

/* The AUTOTEST marker of CELL's first line that has one ("### AUTOTEST"
 * or "### HASHED AUTOTEST", as nbgrader finds them: a comment line
 * holding AUTOTEST), or NULL; *OOM set if memory ran out. */
static const char *autotest_marker(const json_t *cell, bool *oom)
{
    char *src = nb_source(cell);
    const char *found = NULL;
    *oom = !src;
    for (const char *line = src; line && *line && !found;) {
        size_t len = strcspn(line, "\n");
        const char *t = line + strspn(line, " \t");
        const char *hit = memmem(line, len, "AUTOTEST", 8);
        if (hit && *t == '#')
            found = memmem(line, (size_t)(hit - line), "HASHED", 6) ? HASHED_AUTOTEST : AUTOTEST;
        line += len + (line[len] == '\n');
    }
    free(src);
    return found;
}

bool nb_has_autotest(const json_t *nb)
{
    size_t i;
    const json_t *cell;
    bool oom;
    json_array_foreach(json_object_get(nb, "cells"), i, cell)
        if (!strcmp(nb_cell_type(cell), "code") && (autotest_marker(cell, &oom) || oom))
            return true;   /* out of memory: say yes, and the expansion or the check says more */
    return false;
}

/* A source still holding "### AUTOTEST" lines would run them as comments
 * and pass whatever the student wrote: it is refused, saying how to
 * expand it (nbgrader expands them when it makes the release). */
static void check_autotest(const json_t *cell, const char *at, const char *id, struct problems *p)
{
    bool oom;
    const char *marker = autotest_marker(cell, &oom);
    if (oom)
        problems_add(p, at, "out of memory reading the cell");
    else if (marker)
        problems_add(p, at, "(grade_id \"%.*s\") holds nbgrader's \"%s\", which is expanded "
                     "into assertions when the notebook is released: run `assay notebook "
                     "release SOURCE OUT --expanded-source EXPANDED` (with the course's "
                     "autotests.yml) and grade with the expanded source", ID_SHOWN, id, marker);
}

static void check_source_cell(const json_t *cell, size_t i, const char *where, json_t *ids,
                              struct problems *p)
{
    char at[400];
    const json_t *meta = nb_meta(cell);
    snprintf(at, sizeof at, "%s: cell %zu", where, i + 1);
    if (!json_is_object(cell)) {
        problems_add(p, at, "is not a JSON object");
        return;
    }
    enum nb_role r = nb_role(cell);
    if (!meta || r == NB_PLAIN)
        return;
    const char *id = nb_grade_id(cell);
    if (!id) {
        problems_add(p, at, "is an nbgrader %s cell without a \"grade_id\"", nb_role_name(r));
        return;
    }
    if (json_object_get(ids, id))
        problems_add(p, at, "repeats grade_id \"%.*s\" (of cell %lld); every nbgrader cell "
                     "needs its own", ID_SHOWN, id, json_integer_value(json_object_get(ids, id)));
    json_object_set_new(ids, id, json_integer((json_int_t)i + 1));
    const json_t *pts = json_object_get(meta, "points");
    if ((r == NB_TEST || r == NB_MANUAL || r == NB_TASK) &&
        (!json_is_number(pts) || !isfinite(json_number_value(pts)) || json_number_value(pts) < 0))
        problems_add(p, at, "(grade_id \"%.*s\") is a grade cell whose \"points\" is not a "
                     "number of 0 or more", ID_SHOWN, id);
    if (r == NB_TEST && strcmp(nb_cell_type(cell), "code"))
        problems_add(p, at, "(grade_id \"%.*s\") is an autograder test but not a code cell",
                     ID_SHOWN, id);
    if (r == NB_TEST)
        check_autotest(cell, at, id, p);
}

void nb_check_source(const json_t *nb, const char *where, struct problems *p)
{
    json_t *ids = json_object();
    if (!ids) {   /* repeated grade_ids would go unseen */
        problems_add(p, where, "out of memory checking the cells");
        return;
    }
    size_t i;
    const json_t *cell;
    /* a notebook without autograder tests is graded by hand: 0 of 0
     * points from Assay, plus its manually graded cells */
    json_array_foreach(json_object_get(nb, "cells"), i, cell)
        check_source_cell(cell, i, where, ids, p);
    json_decref(ids);
}

double nb_test_points(const json_t *nb)
{
    double sum = 0;
    size_t i;
    const json_t *cell;
    json_array_foreach(json_object_get(nb, "cells"), i, cell)
        if (nb_role(cell) == NB_TEST)
            sum += nb_points(cell);
    return sum;
}

double nb_manual_points(const json_t *nb)
{
    double sum = 0;
    size_t i;
    const json_t *cell;
    json_array_foreach(json_object_get(nb, "cells"), i, cell)
        if (nb_role(cell) == NB_MANUAL || nb_role(cell) == NB_TASK)
            sum += nb_points(cell);
    return sum;
}

/* ---- release ---- */

static int set_source(json_t *cell, const char *src)
{
    return json_object_set_new(cell, "source", json_string(src));
}

char *nb_stub_answer(const json_t *cell, const char *src, const struct nb_stubs *stubs)
{
    bool code = !strcmp(nb_cell_type(cell), "code"), found;
    const char *mine = stubs ? (code ? stubs->code : stubs->text) : NULL;
    const char *stub = mine ? mine : code ? CODE_STUB : TEXT_STUB;
    char *out = replace_regions(src, BEGIN_SOLUTION, END_SOLUTION, stub, &found);
    if (!found) {
        free(out);
        out = strdup(stub);
    }
    return out;
}

int nb_answer_unchanged(const json_t *cell, const char *answer, const struct nb_stubs *stubs)
{
    char *src = nb_source(cell), *stub = src ? nb_stub_answer(cell, src, stubs) : NULL;
    char *a = stub ? trimmed(answer) : NULL, *b = a ? trimmed(stub) : NULL;
    int same = b ? !strcmp(a, b) : -1;
    free(src);
    free(stub);
    free(a);
    free(b);
    return same;
}

/* -1 if memory ran out: the cell may still hold its solution. */
static int release_cell(json_t *cell, const struct nb_stubs *stubs)
{
    json_t *meta = json_object_get(json_object_get(cell, "metadata"), "nbgrader");
    bool code = !strcmp(nb_cell_type(cell), "code");
    int rc = 0;
    if (code) {
        rc |= json_object_set_new(cell, "outputs", json_array());
        rc |= json_object_set_new(cell, "execution_count", json_null());
    }
    if (!json_is_object(meta))
        return rc;
    enum nb_role r = nb_role(cell);
    char *src = nb_source(cell), *out = NULL;
    bool hidden;
    if (r == NB_ANSWER || r == NB_MANUAL)
        out = src ? nb_stub_answer(cell, src, stubs) : NULL;
    else if (r == NB_TEST)
        out = nb_visible_source(src, &hidden);
    if (!src || (!out && (r == NB_ANSWER || r == NB_MANUAL || r == NB_TEST)))
        rc = -1;
    if (out)
        rc |= set_source(cell, out);
    if (is_locked(cell)) {
        json_t *m = json_object_get(cell, "metadata");
        rc |= json_object_set_new(m, "editable", json_false());
        rc |= json_object_set_new(m, "deletable", json_false());
    }
    rc |= json_object_set_new(meta, "cell_type", json_string(nb_cell_type(cell)));
    rc |= json_object_set_new(meta, "schema_version", json_integer(3));
    if (r != NB_PLAIN) {
        char sum[33];
        rc |= nb_checksum(cell, sum) < 0 ? -1 : json_object_set_new(meta, "checksum",
                                                                       json_string(sum));
    }
    free(src);
    free(out);
    return rc;
}

json_t *nb_release(const json_t *source, const struct nb_stubs *stubs)
{
    json_t *nb = json_deep_copy(source);
    size_t i;
    json_t *cell;
    int rc = nb ? 0 : -1;
    json_array_foreach(json_object_get(nb, "cells"), i, cell)
        if (json_is_object(cell))
            rc |= release_cell(cell, stubs);
    if (rc < 0) {   /* never a release that may hold a solution */
        json_decref(nb);
        return NULL;
    }
    return nb;
}

/* ---- merging a submission with the source ---- */

struct merge {
    const json_t *src_cells, *sub_cells;
    size_t n_src, n_sub;
    long *match;            /* submission cell -> source cell, or -1 */
    bool *matched;          /* source cell has a submission cell */
    bool *emitted;          /* source cell is in the plan */
    json_t *plan, *problems;
    size_t tagged, recognised;
    bool failed;            /* out of memory: the plan is not the notebook's */
};

static void problem(struct merge *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct merge *m, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (json_array_append_new(m->problems, jsonutil_text(buf_str(&b), b.len)) < 0)
        m->failed = true;
    buf_free(&b);
}

static bool restored(enum nb_role r)
{
    return r == NB_TEST || r == NB_LOCKED;
}

/* The source cell with grade_id ID, or -1. */
static long find_id(const struct merge *m, const char *id)
{
    for (size_t k = 0; k < m->n_src; k++) {
        const char *sid = nb_grade_id(json_array_get(m->src_cells, k));
        if (sid && !strcmp(sid, id))
            return (long)k;
    }
    return -1;
}

static char *trimmed(const char *s)
{
    if (!s)
        return NULL;   /* out of memory before: still */
    s += strspn(s, " \t\r\n");
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        n--;
    return strndup(s, n);
}

/* A test or locked source cell, not yet matched, whose student version
 * (hidden tests removed) reads like SUB's text: how a cell whose
 * metadata another editor dropped is recognised. */
static long find_by_content(struct merge *m, const json_t *sub)
{
    char *raw = nb_source(sub), *text = trimmed(raw);
    long found = -1;
    m->failed |= !text;
    for (size_t k = 0; k < m->n_src && found < 0 && text && *text; k++) {
        const json_t *c = json_array_get(m->src_cells, k);
        if (m->matched[k] || !restored(nb_role(c)))
            continue;
        bool hidden;
        char *src = nb_source(c), *vis = nb_visible_source(src, &hidden), *t = trimmed(vis);
        m->failed |= !t;
        if (t && !strcmp(t, text))
            found = (long)k;
        free(src);
        free(vis);
        free(t);
    }
    free(raw);
    free(text);
    return found;
}

static void match_cell(struct merge *m, size_t i)
{
    const json_t *sub = json_array_get(m->sub_cells, i);
    const char *id = nb_grade_id(sub);
    long k = id ? find_id(m, id) : -1;
    m->match[i] = -1;
    if (id && k < 0) {
        problem(m, "Cell %zu has grade_id \"%.*s\", which the assignment does not have; it "
                "was run as your own code.", i + 1, ID_SHOWN, id);
    } else if (k >= 0 && m->matched[k]) {
        problem(m, "Cell %zu repeats grade_id \"%.*s\" (a copied cell?); the first cell with "
                "that id counts, this one was run as your own code.", i + 1, ID_SHOWN, id);
    } else if (k >= 0) {
        m->match[i] = k;
        m->matched[k] = true;
    } else if (!nb_meta(sub) && (k = find_by_content(m, sub)) >= 0) {
        m->match[i] = k;
        m->matched[k] = true;
        m->recognised++;
    }
    m->tagged += nb_meta(sub) != NULL;
}

static void emit(struct merge *m, const char *role, const char *type, const char *code,
                 const char *show, const json_t *src_cell, long sub_index)
{
    if (!code || !show) {
        m->failed = true;
        return;
    }
    json_t *e = json_object();
    const char *id = src_cell ? nb_grade_id(src_cell) : NULL;
    int rc = 0;   /* one statement each: the keys keep their order */
    rc |= json_object_set_new(e, "role", json_string(role));
    rc |= json_object_set_new(e, "type", json_string(*type ? type : "raw"));
    rc |= json_object_set_new(e, "code", jsonutil_text(code, strlen(code)));
    rc |= json_object_set_new(e, "show", jsonutil_text(show, strlen(show)));
    rc |= json_object_set_new(e, "grade_id", id ? json_string(id) : json_null());
    rc |= json_object_set_new(e, "points", json_real(src_cell ? nb_points(src_cell) : 0));
    rc |= json_object_set_new(e, "hidden", json_boolean(src_cell && strcmp(code, show)));
    rc |= json_object_set_new(e, "cell", json_integer(sub_index + 1));
    if (rc < 0) {
        json_decref(e);
        m->failed = true;
    } else if (json_array_append_new(m->plan, e) < 0) {
        m->failed = true;
    }
}

/* Puts source cell K (a test or locked cell) in the plan as the source has it. */
static void emit_restored(struct merge *m, size_t k, long sub_index)
{
    const json_t *c = json_array_get(m->src_cells, k);
    bool hidden;
    char *src = nb_source(c), *vis = nb_visible_source(src, &hidden);
    emit(m, nb_role_name(nb_role(c)), nb_cell_type(c), src, vis, c, sub_index);
    m->emitted[k] = true;
    free(src);
    free(vis);
}

/* Test and locked cells before source cell K that the submission lost. */
static void emit_deleted_before(struct merge *m, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        const json_t *c = json_array_get(m->src_cells, j);
        if (m->matched[j] || m->emitted[j] || !restored(nb_role(c)))
            continue;
        problem(m, "The %s cell \"%.*s\" is missing (deleted?); it was restored from the "
                "assignment.", nb_role(c) == NB_TEST ? "test" : "read-only", ID_SHOWN,
                nb_grade_id(c));
        emit_restored(m, j, -1);
    }
}

static void emit_matched(struct merge *m, size_t i, size_t k)
{
    const json_t *sub = json_array_get(m->sub_cells, i), *src = json_array_get(m->src_cells, k);
    const char *id = nb_grade_id(src), *stype = nb_cell_type(sub), *type = nb_cell_type(src);
    enum nb_role r = nb_role(src);
    emit_deleted_before(m, k);
    if (m->emitted[k])
        return;
    if (strcmp(stype, type))
        problem(m, "Cell %zu (\"%.*s\") was changed from %s to %s; it was %s as %s.", i + 1,
                ID_SHOWN, id, type, *stype ? stype : "an unknown type",
                restored(r) ? "restored" : "used", type);
    if (restored(r)) {
        char *mine = nb_source(sub), *theirs = nb_source(src), *a = trimmed(mine);
        bool hidden;
        char *vis = nb_visible_source(theirs, &hidden), *b = trimmed(vis);
        m->failed |= !a || !b;
        if (a && b && strcmp(a, b))
            problem(m, "The %s cell \"%.*s\" (cell %zu) was edited; the assignment's version "
                    "was used.", r == NB_TEST ? "test" : "read-only", ID_SHOWN, id, i + 1);
        free(mine), free(theirs), free(a), free(vis), free(b);
        emit_restored(m, k, (long)i);
        return;
    }
    char *code = nb_source(sub);
    emit(m, nb_role_name(r), type, code, code, src, (long)i);
    m->emitted[k] = true;
    free(code);
}

static void emit_unmatched(struct merge *m, size_t i)
{
    const json_t *sub = json_array_get(m->sub_cells, i);
    char *code = nb_source(sub);
    emit(m, "student", nb_cell_type(sub), code, code, NULL, (long)i);
    free(code);
}

static void report_missing_answers(struct merge *m)
{
    for (size_t k = 0; k < m->n_src; k++) {
        const json_t *c = json_array_get(m->src_cells, k);
        enum nb_role r = nb_role(c);
        if (!m->matched[k] && (r == NB_ANSWER || r == NB_MANUAL) && nb_grade_id(c))
            problem(m, "The answer cell \"%.*s\" is missing (deleted, or its metadata was "
                    "lost); code in other cells still ran.", ID_SHOWN, nb_grade_id(c));
    }
}

json_t *nb_merge(const json_t *source, const json_t *submission, json_t *problems)
{
    struct merge m = {
        .src_cells = json_object_get(source, "cells"),
        .sub_cells = json_object_get(submission, "cells"),
        .plan = json_array(), .problems = problems,
    };
    m.n_src = json_array_size(m.src_cells);
    m.n_sub = json_array_size(m.sub_cells);
    m.match = calloc(m.n_sub + 1, sizeof *m.match);
    m.matched = calloc(m.n_src + 1, sizeof *m.matched);
    m.emitted = calloc(m.n_src + 1, sizeof *m.emitted);
    if (!m.plan || !m.match || !m.matched || !m.emitted) {
        m.failed = true;   /* nothing to walk: NULL below */
        m.n_sub = m.n_src = 0;
    }
    for (size_t i = 0; i < m.n_sub; i++)
        match_cell(&m, i);
    /* plain cells have no metadata in any release: only say so when the
     * notebook lost what it should have */
    if (m.recognised > 0 || (m.tagged == 0 && m.n_sub > 0))
        problem(&m, "%zu of %zu cells had no nbgrader metadata (another editor, such as Colab, "
                "may have removed it); %zu of them were recognised as the assignment's cells "
                "by their content.", m.n_sub - m.tagged, m.n_sub, m.recognised);
    for (size_t i = 0; i < m.n_sub; i++) {
        if (!json_is_object(json_array_get(m.sub_cells, i)))
            problem(&m, "Cell %zu is not a notebook cell (not a JSON object); it was skipped.", i + 1);
        else if (m.match[i] >= 0)
            emit_matched(&m, i, (size_t)m.match[i]);
        else
            emit_unmatched(&m, i);
    }
    emit_deleted_before(&m, m.n_src);
    report_missing_answers(&m);
    free(m.match);
    free(m.matched);
    free(m.emitted);
    if (m.failed) {   /* a plan short of a cell would misgrade: none */
        json_decref(m.plan);
        return NULL;
    }
    return m.plan;
}
