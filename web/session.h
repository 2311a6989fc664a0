/* session.h - browser sessions and login limits, in memory (session.c). */
#ifndef ASSAY_WEB_SESSION_H
#define ASSAY_WEB_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#define SESSION_ID_LEN 64          /* 256 random bits as hex */

struct session {
    char id[SESSION_ID_LEN + 1];
    char csrf[SESSION_ID_LEN + 1]; /* the token every form of the session carries */
    char user[65];
    double created, used;          /* wall-clock seconds */
};

struct session_store;

/* Sessions end IDLE_S after their last use and MAX_S after login; at most
 * CAP live at once (the least recently used goes first).  NULL: out of
 * memory. */
struct session_store *session_store_new(double idle_s, double max_s, size_t cap);
void session_store_free(struct session_store *st);
/* A new session for USER, with fresh random id and CSRF token; NULL when
 * memory ran out. */
const struct session *session_create(struct session_store *st, const char *user, double now);
/* The live session whose id is ID (marked used at NOW), or NULL: unknown,
 * idle too long or too old (then it is removed). */
const struct session *session_find(struct session_store *st, const char *id, double now);
void session_destroy(struct session_store *st, const char *id);
size_t session_count(const struct session_store *st);

/* Failed logins per key ("user:NAME", "addr:ADDR"): at most MAX within
 * WINDOW_S seconds. */
struct limiter;
struct limiter *limiter_new(unsigned max, double window_s);
void limiter_free(struct limiter *l);
/* False while KEY has had MAX failures in the current window. */
bool limiter_allowed(struct limiter *l, const char *key, double now);
void limiter_failed(struct limiter *l, const char *key, double now);
void limiter_clear(struct limiter *l, const char *key);

#endif
