/* compare.h - how an io test's output is judged against the expected. */
#ifndef ASSAY_COMPARE_H
#define ASSAY_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

enum compare_mode { CMP_EXACT, CMP_TRIMMED, CMP_CONTAINS, CMP_REGEX, CMP_NUMERIC, CMP_STRIPPED };

/* Returns -1 for an unknown name. */
int compare_mode_parse(const char *name, enum compare_mode *out);
const char *compare_mode_name(enum compare_mode m);
/* 0 if PATTERN is a valid regex, else -1 with the reason in WHY (N bytes). */
int compare_regex_check(const char *pattern, char *why, size_t n);

/* 1 when ACTUAL passes, 0 when it does not, -1 when memory ran out (no
 * verdict).  On 0, *why (malloc'd, may be NULL) says in one sentence
 * what differs, for modes where a diff does not. */
int compare_output(enum compare_mode m, const char *expected, size_t elen,
                   const char *actual, size_t alen, double tolerance, char **why);

/* The "trimmed" normal form: trailing whitespace removed from every line
 * and trailing blank lines dropped.  malloc'd (NULL if memory ran out),
 * length in *outlen. */
char *compare_trim(const char *s, size_t len, size_t *outlen);

#endif
