/*
 * destination.c - the destinations by name (destination.h says how to
 * add one), and what they share: the retry defaults, settling items,
 * reading a course's block and a token file.
 *
 * assay-deliver asks dest_find for the destination a delivery file
 * names; its --check-config and the roster import find a course's block
 * with dest_load_block, which runs the destination's own check.
 */
#define _GNU_SOURCE
#include "deliver/destination.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"

extern const struct dest_kind dest_canvas, dest_github, dest_gitlab;

const struct dest_kind *const dest_kinds[] = {
    &dest_canvas,
    &dest_github,
    &dest_gitlab,
    NULL,
};

const struct dest_kind *dest_find(const char *name)
{
    for (size_t i = 0; dest_kinds[i]; i++)
        if (!strcmp(dest_kinds[i]->name, name))
            return dest_kinds[i];
    return NULL;
}

const struct dest_kind *dest_find_block(const char *block)
{
    for (size_t i = 0; dest_kinds[i]; i++)
        if (!strcmp(dest_kinds[i]->block, block))
            return dest_kinds[i];
    return NULL;
}

/* Canvas or GitHub down for an hour loses nothing: 2 s doubling to 15
 * minutes, 15 attempts, is about 1 h 50 min of trying. */
void dest_retry_defaults(struct dest_retry *r)
{
    r->max_attempts = 15;
    r->first_s = 2;
    r->max_s = 900;
    r->timeout_s = 30;
}

static void settle_v(struct dest_item *it, enum dest_item_state state, const char *category,
                     const char *fmt, va_list ap)
{
    it->state = state;
    it->category = category;
    vsnprintf(it->note, sizeof it->note, fmt, ap);
}

void dest_settle(struct dest_item *it, enum dest_item_state state, const char *category,
                 const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    settle_v(it, state, category, fmt, ap);
    va_end(ap);
}

void dest_settle_all(struct dest_exchange *x, enum dest_item_state state, const char *category,
                     const char *fmt, ...)
{
    for (size_t i = 0; i < x->n; i++) {
        if (x->items[i].state != DEST_ITEM_OPEN)
            continue;
        va_list ap;
        va_start(ap, fmt);
        settle_v(&x->items[i], state, category, fmt, ap);
        va_end(ap);
    }
}

/* Opens PATH for the secret and checks who may read it. */
static int open_secret(const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "cannot read the token file %s (it must be a regular file, not a "
                       "link)", path);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(e, "the token file %s is not a regular file", path);
    }
    if (st.st_mode & 077) {
        close(fd);
        return err_set(e, "the token file %s may be read by others (mode %04o); to fix: "
                       "chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
    }
    if (st.st_uid != geteuid() && st.st_uid != 0) {
        close(fd);
        return err_set(e, "the token file %s belongs to uid %u; to fix: chown it to the "
                       "user assay-deliver runs as", path, (unsigned)st.st_uid);
    }
    return fd;
}

char *dest_read_secret(const struct spool *s, const char *path, struct err *e)
{
    char *full = path[0] == '/' ? strdup(path) : spool_path(s, "%s", path);
    if (!full) {
        err_set(e, "out of memory");
        return NULL;
    }
    int fd = open_secret(full, e);
    char buf[4096];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    char *secret = NULL;
    if (fd >= 0 && n < 0)
        err_sys(e, "cannot read the token file %s", full);
    if (n >= 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0] || strpbrk(buf, " \t"))
            err_set(e, "the token file %s must hold the token on its first line, without "
                    "spaces", full);
        else if (!(secret = strdup(buf)))
            err_set(e, "out of memory");
    }
    explicit_bzero(buf, sizeof buf);
    free(full);
    return secret;
}

json_t *dest_load_block(const struct spool *s, const char *course, const struct dest_kind *kind,
                        struct err *e)
{
    char file[200];
    snprintf(file, sizeof file, "courses/%s/course.json", course);
    char *path = spool_path(s, "%s", file);
    json_t *j = path ? jsonutil_load_file(path, 1u << 16, e) : NULL;
    free(path);
    if (!j)
        return NULL;
    json_t *block = json_incref(json_object_get(j, kind->block));
    json_decref(j);
    char where[64];
    snprintf(where, sizeof where, "$.%s", kind->block);
    struct problems p = {0};
    if (!block)
        problems_add(&p, file, "%s: missing (the course sends nothing to %s)", where,
                     kind->name);
    else
        kind->check(s, block, file, where, &p);
    if (p.count) {
        if (p.count > 1)
            err_set(e, "%s (and %zu more problem%s in the block)", p.items[0], p.count - 1,
                    p.count > 2 ? "s" : "");
        else
            err_set(e, "%s", p.items[0]);
        json_decref(block);
        block = NULL;
    }
    problems_free(&p);
    return block;
}

void dest_request_drop_token(struct dest_request *r)
{
    if (r->token) {
        explicit_bzero(r->token, strlen(r->token));
        free(r->token);
        r->token = NULL;
    }
}

void dest_request_clear(struct dest_request *r)
{
    dest_request_drop_token(r);
    free(r->url);
    free(r->body);
    memset(r, 0, sizeof *r);
}

void dest_body_excerpt(const struct dest_answer *a, char *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < a->len && n + 1 < max; i++) {
        unsigned char c = (unsigned char)a->body[i];
        out[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
    }
    out[n] = '\0';
}
