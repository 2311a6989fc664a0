/*
 * pytest_count.c - counts the tests of a pytest file from its text.
 *
 * The pytest kind's maximum before any run (with "points_per_test": a
 * required file missing, the whole run failing) must be the one a run
 * gives, whatever the mistake, so this counts what pytest would collect
 * the way engine/python/pytest_runner.py counts a file that cannot be
 * imported, without Python: the source is cut into logical lines
 * (strings, comments and bracketed continuations understood), the
 * top-level functions and classes and the methods of each class are
 * found by indentation, and literal parametrize lists are counted.
 * The instructor's file is trusted; a file it cannot read plainly
 * counts what it finds.
 */
#define _GNU_SOURCE
#include "engine/kinds/pytest_count.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_CLASSES 256
#define MAX_METHODS 512
#define NAME_MAX_LEN 128

struct method {
    char name[NAME_MAX_LEN];
    size_t count;               /* parametrized cases */
};

struct pyclass {
    char name[NAME_MAX_LEN];
    char *bases;                /* the text between the parentheses */
    size_t product;             /* the class's own parametrize cases */
    bool has_init;
    struct method *methods;
    size_t n_methods;
};

struct scan {
    struct pyclass classes[MAX_CLASSES];
    size_t n_classes;
    struct pyclass *current;    /* the class whose body is being read */
    long body_indent;           /* its methods' indentation, -1 before the first */
    size_t pending;             /* parametrize cases of the decorators read so far */
    size_t functions;           /* top-level test cases */
};

/* ---- logical lines ---- */

/* Skips the string starting at P (a quote, possibly a triple one); returns
 * the character after it (or the end of TEXT). */
static const char *skip_string(const char *p)
{
    char q = *p;
    bool triple = p[1] == q && p[2] == q;
    p += triple ? 3 : 1;
    while (*p) {
        if (*p == '\\' && p[1]) {
            p += 2;
        } else if (*p == q && (!triple || (p[1] == q && p[2] == q))) {
            return p + (triple ? 3 : 1);
        } else if (*p == '\n' && !triple) {
            return p;   /* an unterminated string ends with its line */
        } else {
            p++;
        }
    }
    return p;
}

/* The end of the logical line starting at P: its newline outside brackets
 * and strings (or the end of the text). */
static const char *logical_end(const char *p)
{
    int depth = 0;
    while (*p) {
        if (*p == '"' || *p == '\'') {
            p = skip_string(p);
        } else if (*p == '#') {
            p += strcspn(p, "\n");
        } else if (*p == '\\' && p[1] == '\n') {
            p += 2;
        } else if (*p == '\n' && depth <= 0) {
            return p;
        } else {
            depth += (*p == '(' || *p == '[' || *p == '{') - (*p == ')' || *p == ']' || *p == '}');
            p++;
        }
    }
    return p;
}

/* ---- parametrize ---- */

/* The number of top-level elements of the bracketed list at P ('[' or
 * '('), at least 1. */
static size_t count_elements(const char *p)
{
    int depth = 0;
    size_t commas = 0;
    bool any = false, after_comma = false;
    for (; *p; p++) {
        if (*p == '"' || *p == '\'') {
            p = skip_string(p) - 1;
            any = true, after_comma = false;
        } else if (*p == '#') {
            p += strcspn(p, "\n") - 1;   /* to the comment's last character */
        } else if (*p == '(' || *p == '[' || *p == '{') {
            if (depth++ > 0)
                any = true, after_comma = false;
        } else if (*p == ')' || *p == ']' || *p == '}') {
            if (--depth == 0)
                break;
        } else if (*p == ',' && depth == 1) {
            commas++;
            after_comma = true;
        } else if (!isspace((unsigned char)*p) && *p != '\\') {
            any = true, after_comma = false;
        }
    }
    size_t n = any ? commas + 1 - (after_comma ? 1 : 0) : 0;
    return n ? n : 1;
}

/* The cases a decorator makes: a call parametrize(NAMES, [literal list])
 * makes one per element; anything else (a list built by code, argvalues
 * given by keyword) counts 1, as the runner counts it. */
static size_t parametrize_cases(const char *deco)
{
    const char *p = strstr(deco, "parametrize");
    if (!p || (p > deco && (isalnum((unsigned char)p[-1]) || p[-1] == '_')))
        return 1;
    p += strlen("parametrize");
    p += strspn(p, " \t");
    if (*p != '(')
        return 1;
    int depth = 0;
    for (p++; *p; p++) {   /* to the first argument's end */
        if (*p == '"' || *p == '\'')
            p = skip_string(p) - 1;
        else if (*p == '#')
            p += strcspn(p, "\n") - 1;
        else if (*p == '(' || *p == '[' || *p == '{')
            depth++;
        else if (*p == ')' || *p == ']' || *p == '}') {
            if (depth-- == 0)
                return 1;   /* a single argument */
        } else if (*p == ',' && depth == 0)
            break;
    }
    if (*p != ',')
        return 1;
    for (p++;; p += strcspn(p, "\n")) {   /* white space and comments */
        p += strspn(p, " \t\r\n\\");
        if (*p != '#')
            break;
    }
    return *p == '[' || *p == '(' ? count_elements(p) : 1;
}

/* ---- statements ---- */

/* The identifier after KEYWORD at the start of S ("def test_x(" ->
 * "test_x"), into OUT; false if S does not start so. */
static bool word_after(const char *s, const char *keyword, char out[NAME_MAX_LEN])
{
    size_t k = strlen(keyword);
    if (strncmp(s, keyword, k) || !isspace((unsigned char)s[k]))
        return false;
    s += k;
    s += strspn(s, " \t");
    size_t n = 0;
    while ((isalnum((unsigned char)s[n]) || s[n] == '_') && n < NAME_MAX_LEN - 1)
        n++;
    memcpy(out, s, n);
    out[n] = '\0';
    return n > 0;
}

static bool def_name(const char *s, char out[NAME_MAX_LEN])
{
    if (!strncmp(s, "async", 5) && isspace((unsigned char)s[5]))
        s += 5 + strspn(s + 5, " \t");
    return word_after(s, "def", out);
}

static void start_class(struct scan *sc, const char *s, const char *name, size_t cases)
{
    sc->current = NULL;
    if (sc->n_classes >= MAX_CLASSES)
        return;   /* more classes than any test file has: the rest are not counted */
    struct pyclass *c = &sc->classes[sc->n_classes++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    const char *open = strchr(s, '('), *colon = strrchr(s, ':');
    c->bases = open && colon && colon > open ? strndup(open + 1, (size_t)(colon - open - 1))
                                             : strdup("");
    c->product = cases;
    sc->current = c;
    sc->body_indent = -1;
}

static void add_method(struct pyclass *c, const char *name, size_t count)
{
    if (c->n_methods >= MAX_METHODS)
        return;
    if (!c->methods && !(c->methods = calloc(MAX_METHODS, sizeof *c->methods)))
        return;   /* out of memory: the plan counts fewer; the run's count stands */
    struct method *m = &c->methods[c->n_methods++];
    snprintf(m->name, sizeof m->name, "%s", name);
    m->count = count;
}

/* One logical line S at INDENT. */
static void statement(struct scan *sc, const char *s, long indent)
{
    char name[NAME_MAX_LEN];
    if (indent > 0 && sc->current) {
        if (sc->body_indent < 0)
            sc->body_indent = indent;
        if (indent != sc->body_indent)
            return;   /* inside a method */
    } else if (indent > 0) {
        return;       /* inside a function or another block */
    } else {
        sc->current = NULL;
    }
    if (*s == '@') {
        sc->pending *= parametrize_cases(s);
        return;
    }
    size_t cases = sc->pending;
    sc->pending = 1;
    if (indent == 0 && word_after(s, "class", name)) {
        start_class(sc, s, name, cases);
    } else if (def_name(s, name) && indent > 0) {   /* a method of the current class */
        if (!strcmp(name, "__init__"))
            sc->current->has_init = true;
        else if (!strncmp(name, "test", 4))
            add_method(sc->current, name, cases);
    } else if (def_name(s, name) && !strncmp(name, "test", 4)) {
        sc->functions += cases;
    }
}

/* ---- classes ---- */

static struct pyclass *find_class(struct scan *sc, const char *name, size_t len)
{
    for (size_t i = 0; i < sc->n_classes; i++)
        if (strlen(sc->classes[i].name) == len && !strncmp(sc->classes[i].name, name, len))
            return &sc->classes[i];
    return NULL;
}

/* Calls FN for each base of C named by a plain identifier or a dotted
 * name's last part (unittest.TestCase -> TestCase). */
static bool any_base(struct scan *sc, const struct pyclass *c, int depth,
                     bool (*fn)(struct scan *, const char *, size_t, int, void *), void *arg)
{
    const char *p = c->bases;
    while (p && *p) {
        size_t len = strcspn(p, ",");
        const char *end = p + len, *start = p;
        for (const char *q = p; q < end; q++)
            if (*q == '.')
                start = q + 1;
        start += strspn(start, " \t\r\n\\");
        size_t n = 0;
        while (start + n < end && (isalnum((unsigned char)start[n]) || start[n] == '_'))
            n++;
        if (n && fn(sc, start, n, depth, arg))
            return true;
        p = *end ? end + 1 : end;
    }
    return false;
}

static bool is_testcase(struct scan *sc, const struct pyclass *c, int depth);

static bool base_is_testcase(struct scan *sc, const char *name, size_t n, int depth, void *arg)
{
    (void)arg;
    if ((n == 8 && !strncmp(name, "TestCase", 8)) ||
        (n == 23 && !strncmp(name, "IsolatedAsyncioTestCase", 23)))
        return true;
    struct pyclass *local = find_class(sc, name, n);
    return local && depth < 16 && is_testcase(sc, local, depth + 1);
}

static bool is_testcase(struct scan *sc, const struct pyclass *c, int depth)
{
    return any_base(sc, c, depth, base_is_testcase, NULL);
}

/* The methods of a class, inherited ones from classes of the file
 * included, with their counts. */
struct collected {
    struct method *all;
    size_t n;
};

static void collect(struct scan *sc, const struct pyclass *c, int depth, struct collected *out);

static bool base_methods(struct scan *sc, const char *name, size_t n, int depth, void *arg)
{
    struct pyclass *local = find_class(sc, name, n);
    if (local && depth < 16)
        collect(sc, local, depth + 1, arg);
    return false;
}

static void collect(struct scan *sc, const struct pyclass *c, int depth, struct collected *out)
{
    any_base(sc, c, depth, base_methods, out);
    for (size_t i = 0; i < c->n_methods; i++) {
        size_t j = 0;
        while (j < out->n && strcmp(out->all[j].name, c->methods[i].name))
            j++;
        if (j == out->n && out->n < MAX_METHODS)
            out->all[out->n++] = c->methods[i];
        else if (j < out->n)
            out->all[j] = c->methods[i];   /* overridden */
    }
}

static size_t class_tests(struct scan *sc, const struct pyclass *c)
{
    bool unit = is_testcase(sc, c, 0);
    if (!unit && (strncmp(c->name, "Test", 4) || c->has_init))
        return 0;
    struct collected got = {calloc(MAX_METHODS, sizeof *got.all), 0};
    if (!got.all)
        return 0;   /* out of memory: the plan counts fewer; the run's count stands */
    collect(sc, c, 0, &got);
    size_t n = 0;
    for (size_t i = 0; i < got.n; i++)
        n += unit ? 1 : c->product * got.all[i].count;   /* unittest ignores parametrize */
    free(got.all);
    return n;
}

size_t pytest_count_tests(const char *text)
{
    struct scan *sc = calloc(1, sizeof *sc);
    if (!sc)
        return 0;
    sc->pending = 1;
    for (const char *p = text; p && *p;) {
        const char *end = logical_end(p);
        long indent = (long)strspn(p, " \t");
        const char *s = p + indent;
        char *line = strndup(s, (size_t)(end - s));
        if (line && *line && *line != '#' && *line != '\n' && *line != '\r')
            statement(sc, line, indent);
        free(line);
        p = *end ? end + 1 : end;
    }
    size_t n = sc->functions;
    for (size_t i = 0; i < sc->n_classes; i++)
        n += class_tests(sc, &sc->classes[i]);
    for (size_t i = 0; i < sc->n_classes; i++) {
        free(sc->classes[i].bases);
        free(sc->classes[i].methods);
    }
    free(sc);
    return n;
}
