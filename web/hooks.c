/*
 * hooks.c - the webhook endpoints' common part (hooks.h): find the forge
 * by route, verify the request with the secret from forges.json before
 * anything of the body is read, then map the repository to a course,
 * assignment and student and queue the push (spool/pushes.c).
 *
 * The answer comes as soon as the push file is durable: a forge waits
 * about ten seconds for it, and fetching and grading take longer.  What
 * is not graded (an unmapped repository, a branch other than the default
 * one, a deleted branch, another event) is answered 2xx and logged once,
 * so the forge never marks the hook as failing for a student's push.
 */
#define _GNU_SOURCE
#include "web/hooks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/pushes.h"
#include "web/routes.h"

#define BODY_MAX_BYTES (25u << 20)   /* GitHub caps payloads at 25 MB */

static const struct hook_kind *const hook_kinds[] = {&hook_github, &hook_gitlab, NULL};

const struct hook_kind *hook_find_route(const char *route)
{
    for (int i = 0; hook_kinds[i]; i++)
        if (!strcmp(hook_kinds[i]->route, route))
            return hook_kinds[i];
    return NULL;
}

static void reply(struct hook_reply *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void reply(struct hook_reply *out, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    out->status = status;
    vsnprintf(out->text, sizeof out->text, fmt, ap);
    va_end(ap);
}

/* The secret from forges.json; NULL (with the answer set) when the forge
 * is not set up or the secret cannot be read (our fault: 5xx). */
static char *load_secret(const struct spool *s, const struct hook_kind *k,
                         struct forge_config *cfg, struct hook_reply *out)
{
    struct err e;
    int rc = forge_config_load(s, k->name, cfg, &e);
    if (rc == 1) {
        log_msg(LOG_WARN, NULL, "%s webhook refused: %s has no \"%s\" block", k->label,
                FORGES_FILE, k->name);
        reply(out, 404, "%s webhooks are not set up on this server", k->label);
        return NULL;
    }
    char what[64];
    snprintf(what, sizeof what, "%s webhook secret", k->label);
    char *secret = rc == 0 ? fs_read_secret(cfg->secret_file, what, &e) : NULL;
    if (!secret) {
        log_msg(LOG_ERROR, NULL, "%s webhook not handled: %s", k->label, e.msg);
        reply(out, 503, "the server cannot check %s webhooks now; see its log", k->label);
    }
    return secret;
}

/* Maps, names and queues the push P. */
static void queue_push(const struct spool *s, const struct hook_kind *k,
                       const struct hook_request *rq, const struct hook_push *p,
                       struct hook_reply *out)
{
    struct repo_owner who;
    struct err e;
    char why[1024], name[PUSH_NAME_MAX], at[32];
    int rc = forge_map_repo(s, k->name, p->repository, &who, why, sizeof why, &e);
    if (rc != 0) {
        log_msg(rc < 0 ? LOG_ERROR : LOG_WARN, NULL, "%s push to %s not graded: %s", k->label,
                p->repository, rc < 0 ? e.msg : why);
        reply(out, rc < 0 ? 503 : 202, "not graded: %s", rc < 0 ? "see the server's log" : why);
        return;
    }
    const char *id = k->delivery(rq);
    clock_iso8601(clock_wall(), at);
    json_t *push = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s?, s:I, s:s, s:s, s:s, s:i}",
                             "forge", k->name, "delivery", id, "received_at", at,
                             "repository", p->repository, "sha", p->sha, "pusher", p->pusher,
                             "project_id", (json_int_t)p->project_id, "course", who.course,
                             "assignment", who.assignment, "student", who.student,
                             "attempts", 0);
    rc = !push || pushes_name(name, k->name, id, rq->body, rq->len) < 0
         ? err_set(&e, "out of memory") : pushes_enqueue(s, name, push, &e);
    json_decref(push);
    if (rc < 0) {
        log_msg(LOG_ERROR, NULL, "%s push %s to %s not queued: %s", k->label, p->sha,
                p->repository, e.msg);
        reply(out, 503, "the push could not be queued; see the server's log");
    } else if (rc == 1) {
        log_msg(LOG_INFO, NULL, "%s push %s to %s: delivery %s came again; graded once",
                k->label, p->sha, p->repository, name);
        reply(out, 200, "already received: %s", name);
    } else {
        log_msg(LOG_INFO, NULL, "%s push %s to %s queued as %s for %s/%s/%s", k->label, p->sha,
                p->repository, name, who.course, who.assignment, who.student);
        reply(out, 202, "queued: %s", name);
    }
}

/* After verification: the event, the payload, the branch. */
static void handle_verified(const struct spool *s, const struct hook_kind *k,
                            const struct hook_request *rq, struct hook_reply *out)
{
    const char *event = k->event(rq);
    if (!event || !k->is_push(event)) {
        reply(out, 200, "event \"%s\" is not graded; only pushes are", event ? event : "");
        return;
    }
    struct err e;
    char why[256];
    json_t *j = jsonutil_load_text(rq->body, rq->len, "the webhook's payload", &e);
    struct hook_push p = {0};
    if (!j || k->parse(j, &p, why, sizeof why) < 0) {
        log_msg(LOG_WARN, NULL, "%s push not graded: %s", k->label, j ? why : e.msg);
        reply(out, k->bad_payload_status, "not graded: %s", j ? why : e.msg);
    } else if (strspn(p.sha, "0") == strlen(p.sha)) {
        reply(out, 200, "a deleted branch is not graded");
    } else if (p.default_branch && (strncmp(p.ref, "refs/heads/", 11) ||
                                    strcmp(p.ref + 11, p.default_branch))) {
        log_msg(LOG_INFO, NULL, "%s push to %s %s not graded: only the default branch %s is",
                k->label, p.repository, p.ref, p.default_branch);
        reply(out, 202, "not graded: only pushes to the default branch (%s) are",
              p.default_branch);
    } else {
        queue_push(s, k, rq, &p, out);
    }
    json_decref(j);
}

void hook_handle(const struct spool *s, const struct hook_kind *k, const struct hook_request *rq,
                 struct hook_reply *out)
{
    struct forge_config cfg;
    char why[256];
    if (rq->len > BODY_MAX_BYTES) {
        reply(out, 413, "the payload is larger than %u MB", BODY_MAX_BYTES >> 20);
        return;
    }
    char *secret = load_secret(s, k, &cfg, out);
    if (!secret)
        return;
    bool ok = k->verify(secret, rq, why, sizeof why);
    fs_free_secret(secret);
    if (!ok) {
        char name[PUSH_NAME_MAX];   /* the id as a push name: a forged one is no plain text */
        const char *id = k->delivery(rq);
        bool plain = pushes_name(name, k->name, id, "", 0) == 0 && !strstr(name, "-sha256-");
        log_msg(LOG_WARN, NULL, "%s webhook refused (delivery %s): %s; nothing was read or "
                "queued", k->label, plain ? id : "unnamed", why);
        reply(out, 401, "%s", why);
        return;
    }
    handle_verified(s, k, rq, out);
}

/* ---- the routes (web.h): WEB_OPEN, the raw body and headers ---------- */

static const char *route_header(void *ctx, const char *name)
{
    return web_header(ctx, name);
}

static int page_hook(const struct hook_kind *k, struct web_request *req,
                     struct web_response *res)
{
    struct hook_request rq = {.header = route_header, .ctx = req, .body = req->body,
                              .len = req->body_len};
    struct hook_reply out;
    hook_handle(req->spool, k, &rq, &out);
    res->status = out.status;
    res->content_type = "text/plain; charset=utf-8";
    return buf_printf(&res->body, "%s\n", out.text);
}

int page_hook_github(struct web_request *req, struct web_response *res)
{
    return page_hook(&hook_github, req, res);
}

int page_hook_gitlab(struct web_request *req, struct web_response *res)
{
    return page_hook(&hook_gitlab, req, res);
}
