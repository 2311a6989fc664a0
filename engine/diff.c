/*
 * diff.c - feedback for an io test whose output differs.
 *
 * A student needs to see where the output went wrong, not a wall of
 * text: this is a longest-common-subsequence diff over lines, shown as
 * numbered "-"/"+" lines with a little context, cut to a fixed number of
 * lines.  Outputs too large for the quadratic table fall back to marking
 * the whole differing middle (after the common head and tail).
 */
#include "engine/diff.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

#define DIFF_MAX_CELLS 4000000
#define DIFF_CONTEXT 2
#define DIFF_LINE_BYTES 200

struct line {
    const char *s;
    size_t len;
};

struct lines {
    struct line *v;
    size_t n;
};

/* -1 if memory ran out. */
static int split_lines(const char *s, size_t len, struct lines *out)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0, i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && s[end] != '\n')
            end++;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 64;
            struct line *grown = realloc(out->v, cap * sizeof *out->v);
            if (!grown)
                return -1;
            out->v = grown;
        }
        out->v[out->n++] = (struct line){s + i, end - i};
        i = end + 1;
    }
    return 0;
}

static bool line_eq(const struct line *a, const struct line *b)
{
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

/* One step of the edit script: ' ' keep, '-' expected only, '+' actual only. */
struct op {
    char kind;
    size_t ei, ai;   /* 0-based line indexes */
};

/* Out of memory, *CAP becomes SIZE_MAX and no step is added: the script
 * is then known to be incomplete. */
static void push(struct op **ops, size_t *n, size_t *cap, struct op op)
{
    if (*cap == SIZE_MAX)
        return;
    if (*n == *cap) {
        struct op *grown = realloc(*ops, (*cap ? *cap * 2 : 128) * sizeof **ops);
        if (!grown) {
            *cap = SIZE_MAX;
            return;
        }
        *ops = grown;
        *cap = *cap ? *cap * 2 : 128;
    }
    (*ops)[(*n)++] = op;
}

/* LCS over e[lo_e..hi_e) x a[lo_a..hi_a), emitted into ops in order. */
static void lcs_middle(const struct lines *e, const struct lines *a, size_t lo, size_t ehi,
                       size_t ahi, struct op **ops, size_t *n, size_t *cap)
{
    size_t rows = ehi - lo, cols = ahi - lo;
    unsigned *t = rows * cols > DIFF_MAX_CELLS || rows == 0 || cols == 0
                      ? NULL : calloc((rows + 1) * (cols + 1), sizeof *t);
    if (!t) {   /* too large for the table (or no memory for it): the whole middle */
        for (size_t i = lo; i < ehi; i++)
            push(ops, n, cap, (struct op){'-', i, lo});
        for (size_t j = lo; j < ahi; j++)
            push(ops, n, cap, (struct op){'+', ehi, j});
        return;
    }
#define T(i, j) t[(i) * (cols + 1) + (j)]
    for (size_t i = rows; i-- > 0;)
        for (size_t j = cols; j-- > 0;)
            T(i, j) = line_eq(&e->v[lo + i], &a->v[lo + j]) ? T(i + 1, j + 1) + 1
                      : T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1);
    size_t i = 0, j = 0;
    while (i < rows || j < cols) {
        if (i < rows && j < cols && line_eq(&e->v[lo + i], &a->v[lo + j])) {
            push(ops, n, cap, (struct op){' ', lo + i, lo + j});
            i++, j++;
        } else if (i < rows && (j == cols || T(i + 1, j) >= T(i, j + 1))) {
            push(ops, n, cap, (struct op){'-', lo + i, lo + j});
            i++;
        } else {
            push(ops, n, cap, (struct op){'+', lo + i, lo + j});
            j++;
        }
    }
#undef T
    free(t);
}

static int emit_line(struct buf *out, char kind, size_t number, const struct line *l)
{
    size_t len = l->len > DIFF_LINE_BYTES ? DIFF_LINE_BYTES : l->len;
    char *clean = text_utf8_clean(l->s, len);
    int rc = clean ? buf_printf(out, "%c %4zu | %s%s\n", kind, number + 1, clean,
                                l->len > DIFF_LINE_BYTES ? " [...]" : "")
                   : -1;
    free(clean);
    return rc;
}

/* Renders ops with context, at most max_lines lines; -1 if memory ran out. */
static int render(const struct op *ops, size_t n, const struct lines *e,
                  const struct lines *a, int max_lines, struct buf *out)
{
    int written = 0;
    size_t last_shown = (size_t)-1;
    size_t changes_left = 0;
    for (size_t k = 0; k < n; k++)
        changes_left += ops[k].kind != ' ';
    for (size_t k = 0; k < n; k++) {
        bool near = false;
        for (size_t d = 0; d <= 2 * DIFF_CONTEXT && !near; d++) {
            size_t lo = k >= DIFF_CONTEXT ? k - DIFF_CONTEXT : 0;
            if (lo + d < n && lo + d <= k + DIFF_CONTEXT && ops[lo + d].kind != ' ')
                near = true;
        }
        if (!near)
            continue;
        if (written >= max_lines) {
            if (changes_left == 0)
                return 0;
            return buf_printf(out, "[... %zu more differing lines not shown]\n", changes_left);
        }
        if (last_shown != (size_t)-1 && k != last_shown + 1 && buf_puts(out, "  ...\n") < 0)
            return -1;
        const struct op *op = &ops[k];
        if (emit_line(out, op->kind, op->kind == '-' ? op->ei : op->ai,
                      op->kind == '-' ? &e->v[op->ei] : &a->v[op->ai]) < 0)
            return -1;
        changes_left -= op->kind != ' ';
        last_shown = k;
        written++;
    }
    return 0;
}

char *diff_lines(const char *expected, size_t elen, const char *actual, size_t alen,
                 int max_lines)
{
    struct lines e, a;
    int rc = split_lines(expected, elen, &e) | split_lines(actual, alen, &a);
    if (rc < 0) {
        free(e.v);
        free(a.v);
        return NULL;
    }
    size_t lo = 0;
    while (lo < e.n && lo < a.n && line_eq(&e.v[lo], &a.v[lo]))
        lo++;
    size_t ehi = e.n, ahi = a.n;
    while (ehi > lo && ahi > lo && line_eq(&e.v[ehi - 1], &a.v[ahi - 1]))
        ehi--, ahi--;
    struct op *ops = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < lo; i++)
        push(&ops, &n, &cap, (struct op){' ', i, i});
    lcs_middle(&e, &a, lo, ehi, ahi, &ops, &n, &cap);
    for (size_t i = ehi, j = ahi; i < e.n; i++, j++)
        push(&ops, &n, &cap, (struct op){' ', i, j});
    struct buf out = BUF_INIT;
    rc = cap == SIZE_MAX ? -1 : buf_puts(&out, "Expected (-) and your output (+), by line number:\n");
    if (rc == 0)
        rc = render(ops, n, &e, &a, max_lines, &out);
    if (rc == 0 && elen > 0 && alen > 0 &&
        (expected[elen - 1] == '\n') != (actual[alen - 1] == '\n'))
        rc = buf_printf(&out, "(%s ends without a newline)\n",
                        expected[elen - 1] == '\n' ? "your output" : "the expected output");
    if (rc == 0 && lo == e.n && lo == a.n)
        rc = buf_puts(&out, "(the lines are equal; the difference is in line endings)\n");
    free(ops);
    free(e.v);
    free(a.v);
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out);
}
