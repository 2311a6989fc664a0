/* jsonutil.h - jansson helpers: bounded loading, atomic saving, safe text. */
#ifndef ASSAY_JSONUTIL_H
#define ASSAY_JSONUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* Parses the file at PATH (at most max bytes, no symlinks); on failure the
 * message names the file, line and column. */
json_t *jsonutil_load_file(const char *path, size_t max, struct err *e);
/* Parses text that came from an untrusted run, naming WHAT on failure. */
json_t *jsonutil_load_text(const char *text, size_t len, const char *what,
                           struct err *e);
/* Writes J indented, atomically and durably (fsync, rename). */
int jsonutil_save_file(const char *path, const json_t *j, struct err *e);
/* J as the text Assay writes JSON files in (malloc'd; NULL if out of memory). */
char *jsonutil_dump(const json_t *j);
/* The same with the newline that ends a file. */
char *jsonutil_dump_file(const json_t *j);
/* Writes J into a private scratch directory (no rename; fsync only if
 * DURABLE, for a directory that will be renamed into place). */
int jsonutil_write_scratch(const char *path, const json_t *j, bool durable, struct err *e);
/* A JSON string from arbitrary bytes (invalid UTF-8 replaced). */
json_t *jsonutil_text(const char *s, size_t len);
/* Appends the formatted text to the array LIST as jsonutil_text does; a
 * line that cannot be made (out of memory) is left out, which the callers
 * accept: they mark the whole list failed anyway. */
void jsonutil_append_textf(json_t *list, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Shorthands for reading objects that were already validated. */
const char *jsonutil_str(const json_t *obj, const char *key, const char *dflt);
double jsonutil_num(const json_t *obj, const char *key, double dflt);

#endif
