/*
 * compare.c - the comparison modes of io tests.
 *
 *   exact     byte for byte
 *   trimmed   trailing whitespace of each line and trailing blank lines
 *             ignored (what most students mean by "the same")
 *   contains  the expected text appears somewhere in the output
 *   regex     a POSIX extended regex found somewhere in the output
 *   numeric   whitespace-separated tokens; numbers equal within
 *             tolerance (absolute), other tokens equal exactly
 *   stripped  Windows line ends read as Unix ones and whitespace at the
 *             start and end of the whole text ignored, then exact: how
 *             GitHub Classroom's autograder compares, so that an
 *             imported Classroom test scores as it did there
 *
 * The engine compares outside the run, so expected outputs never enter a
 * work directory where student code could read them.
 */
#define _GNU_SOURCE
#include "engine/compare.h"

#include <ctype.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

static const char *const mode_names[] = {"exact", "trimmed", "contains", "regex", "numeric",
                                          "stripped"};

int compare_mode_parse(const char *name, enum compare_mode *out)
{
    for (size_t i = 0; i < sizeof mode_names / sizeof *mode_names; i++)
        if (!strcmp(name, mode_names[i])) {
            *out = (enum compare_mode)i;
            return 0;
        }
    return -1;
}

const char *compare_mode_name(enum compare_mode m)
{
    return mode_names[m];
}

int compare_regex_check(const char *pattern, char *why, size_t n)
{
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc == 0) {
        regfree(&re);
        return 0;
    }
    regerror(rc, &re, why, n);
    regfree(&re);
    return -1;
}

char *compare_trim(const char *s, size_t len, size_t *outlen)
{
    struct buf out = BUF_INIT;
    int rc = buf_append(&out, "", 0);
    size_t i = 0;
    while (rc == 0 && i < len) {
        size_t end = i;
        while (end < len && s[end] != '\n')
            end++;
        size_t stop = end;
        while (stop > i && isspace((unsigned char)s[stop - 1]))
            stop--;
        rc = buf_append(&out, s + i, stop - i) < 0 ? -1 : buf_append(&out, "\n", 1);
        i = end + 1;
    }
    if (rc < 0) {   /* out of memory: never a shorter text that could compare equal */
        buf_free(&out);
        return NULL;
    }
    while (out.len > 0 && out.data[out.len - 1] == '\n')
        out.data[--out.len] = '\0';
    *outlen = out.len;
    return buf_steal(&out);
}

static bool parse_number(const char *tok, double *v)
{
    char *end;
    *v = strtod(tok, &end);
    return end != tok && *end == '\0' && isfinite(*v);
}

static char *next_token(char **cursor)
{
    char *p = *cursor;
    while (*p && isspace((unsigned char)*p))
        p++;
    if (!*p)
        return NULL;
    char *start = p;
    while (*p && !isspace((unsigned char)*p))
        p++;
    if (*p)
        *p++ = '\0';
    *cursor = p;
    return start;
}

static int compare_numeric(const char *expected, size_t elen, const char *actual,
                           size_t alen, double tol, char **why)
{
    char *e = strndup(expected, elen), *a = strndup(actual, alen);
    char *ec = e, *ac = a;
    bool ok = true;
    if (!e || !a) {
        free(e);
        free(a);
        return -1;
    }
    for (int n = 1; ok; n++) {
        char *et = next_token(&ec), *at = next_token(&ac);
        if (!et && !at)
            break;
        double ev, av;
        if (!et || !at) {
            ok = false;
            if (why && asprintf(why, "expected %s value %d but the output %s", et ? "a" : "no",
                                n, et ? "ended" : "has more") < 0)
                *why = NULL;
        } else if (parse_number(et, &ev) && parse_number(at, &av)) {
            /* a hair of slack so that 1.1 - 1.0 counts as within 0.1 */
            if (fabs(ev - av) > tol + 1e-9 * fmax(1, fmax(fabs(ev), fabs(av)))) {
                ok = false;
                if (why && asprintf(why, "value %d is %s, expected %s (tolerance %g)", n, at, et,
                                    tol) < 0)
                    *why = NULL;
            }
        } else if (strcmp(et, at) != 0) {
            ok = false;
            if (why && asprintf(why, "value %d is \"%s\", expected \"%s\"", n, at, et) < 0)
                *why = NULL;
        }
    }
    free(e);
    free(a);
    return ok;
}

static int compare_regex(const char *pattern, const char *actual, size_t alen)
{
    regex_t re;
    int rc = regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0)   /* checked when the assignment was validated: only memory lacks */
        return rc == REG_ESPACE ? -1 : 0;
    if (alen > 0 && actual[alen - 1] == '\n')
        alen--;   /* so that "^42$" matches the output "42\n", as grep would */
    char *text = strndup(actual, alen);   /* regexec needs a C string */
    rc = text ? regexec(&re, text, 0, NULL, 0) : REG_ESPACE;
    free(text);
    regfree(&re);
    return rc == 0 ? 1 : rc == REG_NOMATCH ? 0 : -1;
}

/* The "stripped" form: CR LF as LF, then whitespace at both ends of the
 * whole text removed (JavaScript's trim() after replacing "\r\n"). */
static char *compare_strip(const char *s, size_t len, size_t *outlen)
{
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\r' && i + 1 < len && s[i + 1] == '\n'))
            out[n++] = s[i];
    size_t start = 0;
    while (start < n && isspace((unsigned char)out[start]))
        start++;
    while (n > start && isspace((unsigned char)out[n - 1]))
        n--;
    memmove(out, out + start, n - start);
    *outlen = n - start;
    out[*outlen] = '\0';
    return out;
}

int compare_output(enum compare_mode m, const char *expected, size_t elen,
                   const char *actual, size_t alen, double tolerance, char **why)
{
    if (why)
        *why = NULL;
    switch (m) {
    case CMP_EXACT:
        return elen == alen && memcmp(expected, actual, elen) == 0;
    case CMP_TRIMMED: {
        size_t el, al;
        char *e = compare_trim(expected, elen, &el), *a = compare_trim(actual, alen, &al);
        int ok = !e || !a ? -1 : el == al && memcmp(e, a, el) == 0;
        free(e);
        free(a);
        return ok;
    }
    case CMP_STRIPPED: {
        size_t el, al;
        char *e = compare_strip(expected, elen, &el), *a = compare_strip(actual, alen, &al);
        int ok = !e || !a ? -1 : el == al && memcmp(e, a, el) == 0;
        free(e);
        free(a);
        return ok;
    }
    case CMP_CONTAINS:
        return elen == 0 || memmem(actual, alen, expected, elen) != NULL;
    case CMP_REGEX: {
        char *pattern = strndup(expected, elen);
        int ok = pattern ? compare_regex(pattern, actual, alen) : -1;
        free(pattern);
        return ok;
    }
    case CMP_NUMERIC:
        return compare_numeric(expected, elen, actual, alen, tolerance, why);
    }
    return false;
}
