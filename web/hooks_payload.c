/*
 * hooks_payload.c - checks on the fields taken from a push payload
 * (hooks_payload.h).  The payload is the forge's, signed, but the names
 * in it are chosen by students (a repository, a branch): they go into log
 * lines and spool files only in the forms a forge allows.
 */
#include "web/hooks_payload.h"

#include <string.h>

static const char REPO_CHARS[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789._-/";

const char *payload_repo_name(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255 || strspn(s, REPO_CHARS) != n || !strchr(s, '/') || s[0] == '/' ||
        s[n - 1] == '/' || strstr(s, "//") || strstr(s, "/./") || strstr(s, "/../") ||
        !strncmp(s, "./", 2) || !strncmp(s, "../", 3))
        return NULL;
    return s;
}

const char *payload_sha(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    return (n == 40 || n == 64) && strspn(s, "0123456789abcdef") == n ? s : NULL;
}

const char *payload_ref(const json_t *v)
{
    const char *s = json_string_value(v);
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 255)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return NULL;
    return s;
}
