/*
 * check.c - validation helpers for the JSON files people write
 * (assignment.json, workers.json, course.json, extensions.json).
 *
 * An instructor who got one key wrong usually got three wrong: the
 * validator lists every problem with its JSON path ($.tests[2].compare)
 * and a reason, instead of stopping at the first.  The engine's
 * assignment.c checks the common keys with these helpers and each test
 * kind checks its own; the spool checks workers.json with them.
 */
#define _GNU_SOURCE
#include "common/check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/fs.h"

static void key_path(char *out, size_t n, const char *path, const char *key)
{
    snprintf(out, n, "%s.%s", path, key);
}

const char *check_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

const char *check_string(const json_t *obj, const char *path, const char *key,
                         bool required, struct problems *p)
{
    char where[256];
    key_path(where, sizeof where, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            problems_add(p, where, "required key is missing");
        return NULL;
    }
    if (!json_is_string(v)) {
        problems_add(p, where, "must be a string, not %s", check_type_name(v));
        return NULL;
    }
    return json_string_value(v);
}

double check_number(const json_t *obj, const char *path, const char *key, double dflt,
                    double min, double max, struct problems *p)
{
    char where[256];
    key_path(where, sizeof where, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return dflt;
    if (!json_is_number(v)) {
        problems_add(p, where, "must be a number, not %s", check_type_name(v));
        return dflt;
    }
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max) {
        problems_add(p, where, "%g is out of range (%g to %g)", d, min, max);
        return dflt;
    }
    return d;
}

bool check_integer(const json_t *obj, const char *path, const char *key, long long *out,
                   struct problems *p)
{
    char where[256];
    key_path(where, sizeof where, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return false;
    if (!json_is_integer(v)) {
        problems_add(p, where, "must be a whole number, not %s", check_type_name(v));
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

int check_enum(const json_t *obj, const char *path, const char *key,
               const char *const *values, struct problems *p)
{
    const char *s = check_string(obj, path, key, false, p);
    if (!s)
        return json_object_get(obj, key) ? -1 : 0;
    for (int i = 0; values[i]; i++)
        if (!strcmp(s, values[i]))
            return i;
    struct buf allowed = BUF_INIT;
    for (int i = 0; values[i]; i++)
        buf_printf(&allowed, "%s%s", i ? ", " : "", values[i]);
    char where[256];
    key_path(where, sizeof where, path, key);
    problems_add(p, where, "\"%s\" is not one of %s", s, buf_str(&allowed));
    buf_free(&allowed);
    return -1;
}

size_t check_string_list(const json_t *obj, const char *path, const char *key,
                         bool required, struct problems *p)
{
    char where[256];
    key_path(where, sizeof where, path, key);
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        if (required)
            problems_add(p, where, "required key is missing");
        return 0;
    }
    if (!json_is_array(v)) {
        problems_add(p, where, "must be a list of strings, not %s", check_type_name(v));
        return 0;
    }
    if (required && json_array_size(v) == 0)
        problems_add(p, where, "must not be empty");
    size_t i;
    const json_t *item;
    json_array_foreach(v, i, item) {
        if (!json_is_string(item) || !*json_string_value(item)) {
            char at[300];
            snprintf(at, sizeof at, "%s[%zu]", where, i);
            problems_add(p, at, "must be a non-empty string");
        }
    }
    return json_array_size(v);
}

void check_instructor_file(const char *dir, const char *rel, const char *where,
                           struct problems *p)
{
    if (!fs_relpath_is_safe(rel)) {
        problems_add(p, where, "\"%s\" must be a relative path inside the assignment "
                     "directory (no leading / and no ..)", rel);
        return;
    }
    char *full = fs_join(dir, rel);
    struct stat st;
    if (stat(full, &st) < 0)
        problems_add(p, where, "file %s does not exist in the assignment directory", rel);
    else if (!S_ISREG(st.st_mode))
        problems_add(p, where, "%s is not a regular file", rel);
    free(full);
}

static bool in_list(const char *key, const char *const *list)
{
    for (int i = 0; list && list[i]; i++)
        if (!strcmp(key, list[i]))
            return true;
    return false;
}

void check_known_keys(const json_t *obj, const char *path, const char *const *common,
                      const char *const *extra, struct problems *p)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (in_list(key, common) || in_list(key, extra))
            continue;
        char where[256];
        key_path(where, sizeof where, path, key);
        problems_add(p, where, "unknown key (is it misspelt?)");
    }
}

void check_one_of(const json_t *obj, const char *path, const char *a, const char *b,
                  bool required, struct problems *p)
{
    bool has_a = json_object_get(obj, a) != NULL, has_b = json_object_get(obj, b) != NULL;
    if (has_a && has_b)
        problems_add(p, path, "give either \"%s\" or \"%s\", not both", a, b);
    else if (required && !has_a && !has_b)
        problems_add(p, path, "one of \"%s\" or \"%s\" is required", a, b);
}
