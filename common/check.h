/* check.h - helpers that validate a JSON file people write and report every problem. */
#ifndef ASSAY_CHECK_H
#define ASSAY_CHECK_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

/* "an object", "a list", "a string", "a number", "a boolean" or "null":
 * what V is, for a message saying what it must be instead. */
const char *check_type_name(const json_t *v);

/* Each helper looks at KEY in OBJ (whose JSON path is PATH), adds a
 * problem "PATH.KEY: reason" when it is wrong, and returns the value or
 * the default.  Missing optional keys are not problems. */
const char *check_string(const json_t *obj, const char *path, const char *key,
                         bool required, struct problems *p);
double check_number(const json_t *obj, const char *path, const char *key, double dflt,
                    double min, double max, struct problems *p);
bool check_integer(const json_t *obj, const char *path, const char *key, long long *out,
                   struct problems *p);
/* VALUES is NULL-terminated; returns the index, or -1 (default 0 when absent). */
int check_enum(const json_t *obj, const char *path, const char *key,
               const char *const *values, struct problems *p);
/* A list of non-empty strings; returns its size (0 when absent). */
size_t check_string_list(const json_t *obj, const char *path, const char *key,
                         bool required, struct problems *p);
/* An instructor file REL inside the assignment directory DIR: a safe
 * relative path to a regular file. */
void check_instructor_file(const char *dir, const char *rel, const char *where,
                           struct problems *p);
/* Every key of OBJ must be in COMMON or EXTRA (NULL-terminated lists). */
void check_known_keys(const json_t *obj, const char *path, const char *const *common,
                      const char *const *extra, struct problems *p);
/* At most one (or, if REQUIRED, exactly one) of the keys A and B. */
void check_one_of(const json_t *obj, const char *path, const char *a, const char *b,
                  bool required, struct problems *p);

#endif
