/* err.h - one error message recorded where a failure happens. */
#ifndef ASSAY_ERR_H
#define ASSAY_ERR_H

#include <stddef.h>

/* A failing function records why in *e once and returns -1; callers
 * pass it up unchanged (or add context with err_prefix). */
struct err {
    char msg[1024];
};

int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Like err_set, with ": <strerror(errno)>" appended. */
int err_sys(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Puts "<prefix>: " in front of the message already recorded. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A list of problems, each "where: what", for validators that report
 * every problem instead of stopping at the first.  When memory runs out
 * a problem is lost, but never silently: a list that would stay empty
 * holds one line saying so. */
struct problems {
    char **items;
    size_t count;
};

void problems_add(struct problems *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void problems_free(struct problems *p);

#endif
