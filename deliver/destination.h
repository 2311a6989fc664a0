/* destination.h - where deliveries go: the destination interface.
 *
 * A destination (Canvas, a GitHub or GitLab commit status) is a struct
 * dest_kind: its name, the course.json block it owns, a check of that
 * block, and three steps that turn deliveries into HTTP requests and
 * judge the answers.  assay-deliver (deliver/main.c) owns the network
 * (libcurl), the retries and the spool; a destination never touches
 * either, so it is unit-tested by feeding it answers
 * (tests/unit/test_dest_canvas.c).
 *
 * The exchange for one or more deliveries of one course and destination:
 *
 *   begin(x)       reads the course's block, fills x->req         -> DEST_SEND
 *                  or settles every item at once (nothing to send) -> DEST_SETTLED
 *   answer(x, a)   judges the answer to x->req: fills the next request
 *                  (a check, a Progress poll) -> DEST_SEND, or settles
 *                  every item (done, retry, dead)                  -> DEST_SETTLED
 *   end(x)         frees the destination's state (x->state)
 *
 * A settled item is done (x->items[i].note says what was sent), retry
 * (.note says why; .unsure when the request may have arrived; .retry_after
 * when the service asked for a wait) or dead (.note names the student and
 * the fix, .category says which kind of refusal).
 *
 * Adding a destination: write deliver/dest_NAME.c defining
 * `const struct dest_kind dest_NAME` (with its block's keys documented
 * in docs/SPOOL.md), add it to the table in deliver/destination.c, and
 * its block to the table in spool/delivery.c (block -> destination) so
 * that course.json accepts it and results queue deliveries for it.
 * Secrets: read the token in begin (dest_read_secret) into x->req.token;
 * assay-deliver sends it as "Authorization: Bearer" and wipes it; never
 * put it in a note, a URL or a log line.
 */
#ifndef ASSAY_DESTINATION_H
#define ASSAY_DESTINATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "spool/delivery.h"
#include "spool/spool.h"

/* One HTTP request a destination wants sent. */
struct dest_request {
    const char *method;             /* "GET", "PUT", "POST" */
    char *url;                      /* malloc'd */
    char *body;                     /* malloc'd, or NULL */
    const char *content_type;       /* BODY's */
    const char *accept;             /* the Accept header; NULL: application/json */
    char *token;                    /* malloc'd secret, sent as a Bearer token */
    bool changes;                   /* it changes something at the service: an
                                     * answer lost on the way leaves the item unsure */
    double delay_s;                 /* send it this long from now (a Progress poll) */
};

/* What came back (assay-deliver fills it from libcurl). */
struct dest_answer {
    long status;                    /* HTTP status; 0: no answer */
    const char *error;              /* status 0: why (a sentence, no secret) */
    const char *body;               /* "" when none */
    size_t len;
    double retry_after;             /* Retry-After in seconds; 0 when absent */
    long rate_remaining;            /* X-Rate-Limit-Remaining; -1 when absent */
    const char *link_next;          /* the Link header's rel="next" URL, or NULL */
    bool www_authenticate;          /* a WWW-Authenticate header came with it */
};

enum dest_item_state { DEST_ITEM_OPEN, DEST_ITEM_DONE, DEST_ITEM_RETRY, DEST_ITEM_DEAD };

struct dest_item {
    struct delivery *d;
    enum dest_item_state state;
    char note[1024];
    const char *category;           /* dead: "unknown_student", "token", "refused", "config" */
    bool unsure;
    double retry_after;
};

/* How often and how long assay-deliver retries an item (the course's
 * block may change it; dest_retry_defaults fills it first). */
struct dest_retry {
    int max_attempts;
    double first_s, max_s;
    double timeout_s;               /* of one request */
};
void dest_retry_defaults(struct dest_retry *r);

struct dest_kind;
struct dest_exchange {
    const struct dest_kind *kind;
    const struct spool *spool;
    const char *course;
    struct dest_item *items;
    size_t n;
    struct dest_retry retry;
    struct dest_request req;
    void *state;                    /* the destination's own */
};

enum dest_step { DEST_SEND, DEST_SETTLED };

struct dest_kind {
    const char *name;               /* "canvas": the delivery files' "destination" */
    const char *block;              /* the course.json key it owns: "lms" */
    size_t max_batch;               /* items begin may take at once (1: one by one) */
    /* Checks BLOCK (at FILE's path WHERE, "$.lms"): every problem, naming
     * the field and the fix, goes to P. */
    void (*check)(const struct spool *s, const json_t *block, const char *file,
                  const char *where, struct problems *p);
    enum dest_step (*begin)(struct dest_exchange *x);
    enum dest_step (*answer)(struct dest_exchange *x, const struct dest_answer *a);
    void (*end)(struct dest_exchange *x);
};

/* The destinations by name ("canvas") and by course.json block ("lms"). */
const struct dest_kind *dest_find(const char *name);
const struct dest_kind *dest_find_block(const char *block);
/* Every destination, NULL-terminated. */
extern const struct dest_kind *const dest_kinds[];

/* Helpers for destinations. */
/* Settles every open item of X as STATE with NOTE (printf). */
void dest_settle_all(struct dest_exchange *x, enum dest_item_state state, const char *category,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void dest_settle(struct dest_item *it, enum dest_item_state state, const char *category,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reads a secret (a token) from PATH (relative to the spool, or absolute):
 * a regular file, not a link, owned by this user or root, readable by
 * nobody else (mode 0600 or 0400), its first line without spaces.
 * malloc'd; NULL with a sentence naming the file and the fix. */
char *dest_read_secret(const struct spool *s, const char *path, struct err *e);
/* The course's block for KIND from courses/COURSE/course.json (a new
 * reference), checked: NULL with *e naming the file, field and fix. */
json_t *dest_load_block(const struct spool *s, const char *course, const struct dest_kind *kind,
                        struct err *e);
/* Frees X->req's parts (the token wiped first) and zeroes it. */
void dest_request_clear(struct dest_request *r);
/* Wipes and frees only the token: once the request is handed over, the
 * rest stays for judging its answer (was it one that changes things?). */
void dest_request_drop_token(struct dest_request *r);
/* Up to MAX bytes of an answer's body as one line of plain text (for a
 * reason: control characters and newlines made spaces). */
void dest_body_excerpt(const struct dest_answer *a, char *out, size_t max);

#endif
