/*
 * session.c - assay-web's sessions and login limits, kept in memory.
 *
 * A session id and its CSRF token are 256 random bits each (libsodium's
 * randombytes_buf), so they cannot be guessed; ids are only ever made
 * here, at login, so a browser cannot bring one of its own (no session
 * fixation).  Sessions end when idle too long or too old, checked at
 * every lookup; keeping them in memory means a restart of assay-web
 * signs everyone out, which is the safe direction.  Looking an id up
 * compares in constant time.
 *
 * The limiter counts failed logins per key in a fixed window; the login
 * handler asks it for the user name and for the address.  Both tables
 * are bounded, so a flood of sessions or of names costs bounded memory.
 */
#include "web/session.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct session_store {
    struct session **v;
    size_t n, cap, max;
    double idle_s, max_s;
};

struct session_store *session_store_new(double idle_s, double max_s, size_t cap)
{
    struct session_store *st = calloc(1, sizeof *st);
    if (st) {
        st->idle_s = idle_s;
        st->max_s = max_s;
        st->max = cap ? cap : 1;
    }
    return st;
}

void session_store_free(struct session_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        free(st->v[i]);
    free(st->v);
    free(st);
}

static bool expired(const struct session_store *st, const struct session *s, double now)
{
    return now - s->used > st->idle_s || now - s->created > st->max_s;
}

static void remove_at(struct session_store *st, size_t i)
{
    sodium_memzero(st->v[i], sizeof *st->v[i]);
    free(st->v[i]);
    st->v[i] = st->v[--st->n];
}

/* Drops every expired session, then, if still full, the least recently used. */
static void make_room(struct session_store *st, double now)
{
    for (size_t i = 0; i < st->n; )
        expired(st, st->v[i], now) ? remove_at(st, i) : (void)i++;
    if (st->n < st->max)
        return;
    size_t lru = 0;
    for (size_t i = 1; i < st->n; i++)
        if (st->v[i]->used < st->v[lru]->used)
            lru = i;
    remove_at(st, lru);
}

static void random_hex(char out[SESSION_ID_LEN + 1])
{
    unsigned char raw[SESSION_ID_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, SESSION_ID_LEN + 1, raw, sizeof raw);
}

const struct session *session_create(struct session_store *st, const char *user, double now)
{
    if (st->n >= st->max)
        make_room(st, now);
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        struct session **v = realloc(st->v, cap * sizeof *v);
        if (!v)
            return NULL;
        st->v = v;
        st->cap = cap;
    }
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    random_hex(s->id);
    random_hex(s->csrf);
    snprintf(s->user, sizeof s->user, "%s", user);
    s->created = s->used = now;
    st->v[st->n++] = s;
    return s;
}

/* The index of the session with ID, or st->n. */
static size_t index_of(const struct session_store *st, const char *id)
{
    if (!id || strlen(id) != SESSION_ID_LEN)
        return st->n;
    size_t found = st->n;
    for (size_t i = 0; i < st->n; i++)
        if (sodium_memcmp(st->v[i]->id, id, SESSION_ID_LEN) == 0)
            found = i;
    return found;
}

const struct session *session_find(struct session_store *st, const char *id, double now)
{
    size_t i = index_of(st, id);
    if (i == st->n)
        return NULL;
    if (expired(st, st->v[i], now)) {
        remove_at(st, i);
        return NULL;
    }
    st->v[i]->used = now;
    return st->v[i];
}

void session_destroy(struct session_store *st, const char *id)
{
    size_t i = index_of(st, id);
    if (i < st->n)
        remove_at(st, i);
}

size_t session_count(const struct session_store *st)
{
    return st->n;
}

/* ---- login limits ---- */

#define LIMITER_MAX_KEYS 100000

struct limiter {
    json_t *keys;          /* key -> [failures, window start] */
    unsigned max;
    double window_s;
};

struct limiter *limiter_new(unsigned max, double window_s)
{
    struct limiter *l = calloc(1, sizeof *l);
    if (l && !(l->keys = json_object())) {
        free(l);
        return NULL;
    }
    if (l) {
        l->max = max;
        l->window_s = window_s;
    }
    return l;
}

void limiter_free(struct limiter *l)
{
    if (l)
        json_decref(l->keys);
    free(l);
}

/* KEY's failures in its current window (0 when the window is over). */
static unsigned failures(const struct limiter *l, const char *key, double now)
{
    const json_t *e = json_object_get(l->keys, key);
    if (!e || now - json_number_value(json_array_get(e, 1)) >= l->window_s)
        return 0;
    return (unsigned)json_integer_value(json_array_get(e, 0));
}

bool limiter_allowed(struct limiter *l, const char *key, double now)
{
    return failures(l, key, now) < l->max;
}

static void forget_old(struct limiter *l, double now)
{
    const char *key;
    json_t *e, *tmp;
    json_object_foreach_safe(l->keys, tmp, key, e)
        if (now - json_number_value(json_array_get(e, 1)) >= l->window_s)
            json_object_del(l->keys, key);
}

void limiter_failed(struct limiter *l, const char *key, double now)
{
    unsigned n = failures(l, key, now);
    const json_t *e = json_object_get(l->keys, key);
    double start = n && e ? json_number_value(json_array_get(e, 1)) : now;
    if (!e && json_object_size(l->keys) >= LIMITER_MAX_KEYS)
        forget_old(l, now);
    /* out of memory: this failure is not counted, the next ones may be */
    json_object_set_new(l->keys, key, json_pack("[I, f]", (json_int_t)n + 1, start));
}

void limiter_clear(struct limiter *l, const char *key)
{
    json_object_del(l->keys, key);
}
