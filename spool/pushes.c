/*
 * pushes.c - the queue of pushes from GitHub and GitLab (pushes.h).
 *
 * assay-web answers a webhook only once its push is in incoming/ (written
 * in tmp/, synced, then linked in: a link never replaces, so a second
 * delivery of the same push finds the name taken), and assay-intake
 * takes it from there.  A push leaves incoming/ by one rename into done/
 * or failed/, so its name is always in exactly one state, and a name in
 * any state makes a redelivery a repeat.  A redelivery checked against
 * done/ just before the rename could still link a second copy into
 * incoming/; assay-intake drops any push whose name is also in done/ or
 * failed/ (pushes_load says so), so none is submitted twice.
 */
#define _GNU_SOURCE
#include "spool/pushes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sha2.h>

#include "common/clock.h"
#include "common/ids.h"
#include "common/jsonutil.h"

#define PUSH_MAX_BYTES (256u << 10)

static bool plain_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    return n > 0 && n <= 96 && strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789-") == n;
}

int pushes_name(char out[PUSH_NAME_MAX], const char *forge, const char *id, const char *body,
                size_t len)
{
    int n;
    if (plain_id(id)) {
        n = snprintf(out, PUSH_NAME_MAX, "%s-%s", forge, id);
    } else {
        char hex[SHA256_DIGEST_STRING_LENGTH];
        SHA256Data((const uint8_t *)body, len, hex);
        n = snprintf(out, PUSH_NAME_MAX, "%s-sha256-%s", forge, hex);
    }
    return n > 0 && n < PUSH_NAME_MAX ? 0 : -1;
}

static char *push_rel(const char *state, const char *name, const char *ext)
{
    char *rel = NULL;
    if (asprintf(&rel, "%s/%s%s", state, name, ext) < 0)
        return NULL;
    return rel;
}

static bool push_in(const struct spool *s, const char *state, const char *name)
{
    char *p = spool_path(s, "%s/%s.json", state, name);
    bool there = fs_exists(p);
    free(p);
    return there;
}

/* Writes TEXT to a new file in tmp/ and links it as DST (never
 * replacing): 1 if DST exists. */
static int write_exclusive(const struct spool *s, const char *dst, const char *text,
                           struct err *e)
{
    char rnd[17];
    ids_random_hex(rnd, 8);
    char *tmp = spool_path(s, "tmp/push-%s", rnd);
    int rc = fs_write_file(tmp, text, strlen(text), true, e);
    if (rc == 0 && link(tmp, dst) < 0)
        rc = errno == EEXIST ? 1 : err_sys(e, "cannot create %s", dst);
    if (tmp)
        unlink(tmp);   /* DST is the file's only name now, or it was never made */
    free(tmp);
    if (rc == 0)
        rc = fs_sync_parent(dst, e);
    return rc;
}

int pushes_enqueue(const struct spool *s, const char *name, const json_t *push, struct err *e)
{
    if (push_in(s, PUSHES_DONE, name) || push_in(s, PUSHES_FAILED, name))
        return 1;
    const char *dirs[] = {PUSHES_INCOMING, PUSHES_DONE, PUSHES_FAILED};
    for (int i = 0; i < 3; i++) {
        char *d = spool_path(s, "%s", dirs[i]);
        int rc = fs_mkdir_p_durable(d, 0700, e);
        free(d);
        if (rc < 0)
            return -1;
    }
    char *text = jsonutil_dump_file(push);
    char *dst = spool_path(s, "%s/%s.json", PUSHES_INCOMING, name);
    int rc = text && dst ? write_exclusive(s, dst, text, e) : err_set(e, "out of memory");
    free(text);
    free(dst);
    return rc;
}

static bool is_push_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

int pushes_list(const struct spool *s, struct fs_list *out)
{
    char *dir = spool_path(s, "%s", PUSHES_INCOMING);
    int rc = fs_list(dir, is_push_file, fs_cmp_names, out);
    free(dir);
    for (size_t i = 0; i < out->n; i++)
        out->names[i][strlen(out->names[i]) - 5] = '\0';   /* the name, without .json */
    return rc;
}

int pushes_load(const struct spool *s, const char *name, json_t **out, struct err *e)
{
    *out = NULL;
    if (push_in(s, PUSHES_DONE, name) || push_in(s, PUSHES_FAILED, name))
        return 1;
    char *path = spool_path(s, "%s/%s.json", PUSHES_INCOMING, name);
    json_t *j = path ? jsonutil_load_file(path, PUSH_MAX_BYTES, e) : NULL;
    if (!path)
        err_set(e, "out of memory");
    free(path);
    if (j && !json_is_object(j)) {
        err_set(e, "push %s is not a JSON object", name);
        json_decref(j);
        j = NULL;
    }
    *out = j;
    return j ? 0 : -1;
}

int pushes_drop_repeat(const struct spool *s, const char *name, struct err *e)
{
    char *path = spool_path(s, "%s/%s.json", PUSHES_INCOMING, name);
    int rc = !path ? err_set(e, "out of memory")
             : unlink(path) < 0 && errno != ENOENT ? err_sys(e, "cannot remove %s", path)
             : fs_sync_parent(path, e);
    free(path);
    return rc;
}

int pushes_defer(const struct spool *s, const char *name, json_t *push, const char *why,
                 double not_before, struct err *e)
{
    json_int_t attempts = json_integer_value(json_object_get(push, "attempts")) + 1;
    char *rel = push_rel(PUSHES_INCOMING, name, ".json");
    int rc = rel && !json_object_set_new(push, "attempts", json_integer(attempts)) &&
             !json_object_set_new(push, "not_before", json_real(not_before)) &&
             !json_object_set_new(push, "last_error", json_string(why))
             ? spool_write_json(s, rel, push, e) : err_set(e, "out of memory");
    free(rel);
    return rc;
}

/* Records NOTE in the push, then moves it from incoming/ to STATE. */
static int push_settle(const struct spool *s, const char *name, json_t *push, const char *state,
                       const char *note, struct err *e)
{
    char at[32];
    clock_iso8601(clock_wall(), at);
    char *from = push_rel(PUSHES_INCOMING, name, ".json"), *to = push_rel(state, name, ".json");
    int rc = from && to && !json_object_set_new(push, "note", json_string(note)) &&
             !json_object_set_new(push, "settled_at", json_string(at))
             ? spool_write_json(s, from, push, e) : err_set(e, "out of memory");
    if (rc == 0)
        rc = spool_move(s, from, to, e) < 0 ? -1 : 0;
    free(from);
    free(to);
    return rc;
}

int pushes_done(const struct spool *s, const char *name, json_t *push, const char *note,
                struct err *e)
{
    return push_settle(s, name, push, PUSHES_DONE, note, e);
}

int pushes_fail(const struct spool *s, const char *name, json_t *push, const char *reason,
                struct err *e)
{
    char *rel = push_rel(PUSHES_FAILED, name, ".reason");
    char *text = NULL;
    int rc = rel && asprintf(&text, "%s\n", reason) >= 0
             ? spool_write(s, rel, text, strlen(text), e) : err_set(e, "out of memory");
    free(text);
    free(rel);
    return rc < 0 ? -1 : push_settle(s, name, push, PUSHES_FAILED, reason, e);
}
