/* hooks.h - the webhook endpoints of assay-web, POST /hooks/github and
 * POST /hooks/gitlab, independent of the HTTP server: a request is its
 * headers (looked up by name) and its raw body; the answer is a status
 * and one line of text.  A handler only checks the request and queues
 * the push in the spool (spool/pushes.h), so it answers at once;
 * assay-intake fetches and submits it.  No session or CSRF token: the
 * forge proves itself with the secret (docs/INTEGRATIONS.md).
 *
 * A forge is a struct hook_kind, one file each (hooks_github.c,
 * hooks_gitlab.c), found by name or route in hooks.c's table. */
#ifndef ASSAY_HOOKS_H
#define ASSAY_HOOKS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "spool/forges.h"
#include "spool/spool.h"

struct hook_request {
    /* The value of header NAME (case-insensitive), or NULL. */
    const char *(*header)(void *ctx, const char *name);
    void *ctx;
    const char *body;       /* the raw body, exactly as received */
    size_t len;
};

struct hook_reply {
    int status;             /* HTTP status */
    char text[512];         /* the body (text/plain), one line */
};

/* What a forge's payload says about a push. */
struct hook_push {
    const char *repository;     /* "org/hw1-alice", GitLab "group/sub/hw1-alice" */
    const char *sha;            /* the pushed commit */
    const char *ref;            /* "refs/heads/main" */
    const char *default_branch; /* the repository's, or NULL */
    const char *pusher;         /* who pushed, or NULL */
    long long project_id;       /* GitLab's project id (0 on GitHub) */
};

struct hook_kind {
    const char *name;           /* "github": forges.json's block, push names */
    const char *route;          /* "/hooks/github" */
    const char *label;          /* "GitHub", for messages */
    /* Whether the request is really from the forge (the secret): true, or
     * false with WHY (N bytes) saying what was wrong, never the secret. */
    bool (*verify)(const char *secret, const struct hook_request *rq, char *why, size_t n);
    /* The event named by the request's headers, or NULL if none. */
    const char *(*event)(const struct hook_request *rq);
    bool (*is_push)(const char *event);
    /* The delivery id to deduplicate on, or NULL. */
    const char *(*delivery)(const struct hook_request *rq);
    /* Fills P from the payload J (strings live in J): 0, or -1 with WHY. */
    int (*parse)(const json_t *j, struct hook_push *p, char *why, size_t n);
    /* The status of an answer that must not disable the hook: GitHub takes
     * 400 for a payload it sent wrong; GitLab disables a hook after 4xx,
     * so every answer but 401 is 2xx there. */
    int bad_payload_status;
};

extern const struct hook_kind hook_github, hook_gitlab;

/* The forge served at ROUTE ("/hooks/github"), or NULL. */
const struct hook_kind *hook_find_route(const char *route);

/* Handles one request for forge K on spool S: verifies it before reading
 * the body, then queues its push (or says why nothing is graded) and
 * fills OUT.  Logs one line for every request refused or not graded. */
void hook_handle(const struct spool *s, const struct hook_kind *k, const struct hook_request *rq,
                 struct hook_reply *out);

#endif
