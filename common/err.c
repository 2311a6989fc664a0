/*
 * err.c - error messages and problem lists.
 *
 * The rule in Assay: a function that fails records one sentence in a
 * struct err and returns -1; whoever finally reports it (a log line, a
 * result's error message, a CLI's stderr) prints that sentence.
 * Validators that should list every problem use struct problems.
 */
#include "common/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int err_set(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
    int saved = errno;
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(e->msg);
    snprintf(e->msg + n, sizeof e->msg - n, ": %s", strerror(saved));
    errno = saved;
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    size_t plen = strlen(prefix) + 2, cap = sizeof e->msg - 1;
    if (plen >= cap)
        plen = cap;
    size_t keep = strlen(e->msg);
    if (keep > cap - plen)
        keep = cap - plen;
    memmove(e->msg + plen, e->msg, keep);
    e->msg[plen + keep] = '\0';
    memcpy(e->msg, prefix, plen - 2);
    memcpy(e->msg + plen - 2, ": ", 2);
    return -1;
}

/* What a list holds when memory ran out before its first problem could
 * be kept: an empty list would pass for "no problems". */
static char lost_line[] = "out of memory: the problems found could not be listed";
static char *lost_items[] = {lost_line};

/* A problem could not be kept: a list holding others still fails, and
 * one holding none says why it fails. */
static void problem_lost(struct problems *p)
{
    if (p->count > 0)
        return;
    free(p->items);
    p->items = lost_items;
    p->count = 1;
}

void problems_add(struct problems *p, const char *where, const char *fmt, ...)
{
    if (p->items == lost_items)
        return;   /* already failed for want of memory */
    char what[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char **items = realloc(p->items, (p->count + 1) * sizeof *items);
    if (!items) {
        problem_lost(p);
        return;
    }
    p->items = items;
    size_t len = strlen(where) + strlen(what) + 3;
    char *line = malloc(len);
    if (!line) {
        problem_lost(p);
        return;
    }
    snprintf(line, len, "%s: %s", where, what);
    p->items[p->count++] = line;
}

void problems_free(struct problems *p)
{
    if (p->items != lost_items) {
        for (size_t i = 0; i < p->count; i++)
            free(p->items[i]);
        free(p->items);
    }
    p->items = NULL;
    p->count = 0;
}
