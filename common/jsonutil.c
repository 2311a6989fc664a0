/*
 * jsonutil.c - small conveniences over jansson used across Assay.
 *
 * Job files, assignments and results are JSON.  Loading is bounded and
 * reports "file:line:column: reason"; saving is atomic (see fs.c); text
 * captured from student programs is cleaned to valid UTF-8 first, since
 * jansson refuses invalid strings and a result must never be lost to a
 * stray byte.
 */
#include "common/jsonutil.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"

json_t *jsonutil_load_text(const char *text, size_t len, const char *what,
                           struct err *e)
{
    json_error_t je;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        err_set(e, "%s:%d:%d: invalid JSON: %s", what, je.line, je.column, je.text);
    return j;
}

json_t *jsonutil_load_file(const char *path, size_t max, struct err *e)
{
    struct buf b = BUF_INIT;
    if (fs_read_file(path, max, &b, e) < 0) {
        buf_free(&b);
        return NULL;
    }
    json_t *j = jsonutil_load_text(buf_str(&b), b.len, path, e);
    buf_free(&b);
    return j;
}

char *jsonutil_dump(const json_t *j)
{
    return json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
}

char *jsonutil_dump_file(const json_t *j)
{
    char *text = jsonutil_dump(j);
    size_t len = text ? strlen(text) : 0;
    char *line = text ? realloc(text, len + 2) : NULL;
    if (!line) {
        free(text);
        return NULL;
    }
    memcpy(line + len, "\n", 2);
    return line;
}

static int save(const char *path, const json_t *j, bool atomic, bool durable, struct err *e)
{
    char *text = jsonutil_dump_file(j);
    if (!text)
        return err_set(e, "cannot encode JSON for %s", path);
    size_t len = strlen(text);
    int rc = atomic ? fs_write_atomic(path, text, len, e)
                    : fs_write_file(path, text, len, durable, e);
    free(text);
    return rc;
}

int jsonutil_save_file(const char *path, const json_t *j, struct err *e)
{
    return save(path, j, true, true, e);
}

int jsonutil_write_scratch(const char *path, const json_t *j, bool durable, struct err *e)
{
    return save(path, j, false, durable, e);
}

json_t *jsonutil_text(const char *s, size_t len)
{
    char *clean = text_utf8_clean(s ? s : "", s ? len : 0);
    json_t *j = json_string(clean);
    free(clean);
    return j ? j : json_string("");
}

void jsonutil_append_textf(json_t *list, const char *fmt, ...)
{
    va_list ap;
    struct buf b = BUF_INIT;
    va_start(ap, fmt);
    int rc = buf_vprintf(&b, fmt, ap);
    va_end(ap);
    if (rc == 0)
        json_array_append_new(list, jsonutil_text(buf_str(&b), b.len));
    buf_free(&b);
}

const char *jsonutil_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

double jsonutil_num(const json_t *obj, const char *key, double dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : dflt;
}
