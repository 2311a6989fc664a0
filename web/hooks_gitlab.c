/*
 * hooks_gitlab.c - POST /hooks/gitlab: GitLab's push webhook.
 *
 * GitLab sends the webhook's secret token itself in X-Gitlab-Token; it is
 * compared with ours in constant time (both hashed to the same length
 * first, so neither the content nor the length leaks) before the body is
 * parsed.  X-Gitlab-Event is "Push Hook" for pushes; Idempotency-Key is
 * the same for a delivery sent again.  GitLab disables a hook for good
 * after 4xx answers, so a push that cannot be graded is answered 200 (and
 * logged): only a wrong token gets 401.
 */
#include <sodium.h>
#include <string.h>

#include "common/jsonutil.h"
#include "web/hooks.h"
#include "web/hooks_payload.h"

static void token_hash(const char *s, unsigned char out[crypto_generichash_BYTES])
{
    crypto_generichash(out, crypto_generichash_BYTES, (const unsigned char *)s, strlen(s), NULL, 0);
}

static bool gitlab_verify(const char *secret, const struct hook_request *rq, char *why, size_t n)
{
    const char *token = rq->header(rq->ctx, "X-Gitlab-Token");
    if (!token) {
        snprintf(why, n, "no X-Gitlab-Token header (set the webhook's secret token on GitLab)");
        return false;
    }
    unsigned char a[crypto_generichash_BYTES], b[crypto_generichash_BYTES];
    token_hash(secret, a);
    token_hash(token, b);
    bool same = sodium_memcmp(a, b, sizeof a) == 0;
    sodium_memzero(a, sizeof a);
    if (!same)
        snprintf(why, n, "X-Gitlab-Token is not the webhook's secret token");
    return same;
}

static const char *gitlab_event(const struct hook_request *rq)
{
    return rq->header(rq->ctx, "X-Gitlab-Event");
}

static bool gitlab_is_push(const char *event)
{
    return !strcmp(event, "Push Hook");
}

static const char *gitlab_delivery(const struct hook_request *rq)
{
    const char *key = rq->header(rq->ctx, "Idempotency-Key");
    return key ? key : rq->header(rq->ctx, "X-Gitlab-Event-UUID");
}

/* The push event: project.path_with_namespace, project.id, after
 * (checkout_sha when after is absent), ref, project.default_branch,
 * user_username. */
static int gitlab_parse(const json_t *j, struct hook_push *p, char *why, size_t n)
{
    const json_t *project = json_object_get(j, "project");
    const json_t *after = json_object_get(j, "after");
    p->repository = payload_repo_name(json_object_get(project, "path_with_namespace"));
    p->sha = payload_sha(after ? after : json_object_get(j, "checkout_sha"));
    p->ref = payload_ref(json_object_get(j, "ref"));
    p->default_branch = payload_ref(json_object_get(project, "default_branch"));
    p->pusher = payload_ref(json_object_get(j, "user_username"));
    json_int_t id = json_integer_value(json_object_get(project, "id"));
    if (!id)
        id = json_integer_value(json_object_get(j, "project_id"));
    p->project_id = id;
    if (!p->repository || !p->sha || !p->ref || id <= 0) {
        snprintf(why, n, "the push event lacks a valid project.path_with_namespace, "
                 "project.id, after or ref");
        return -1;
    }
    return 0;
}

const struct hook_kind hook_gitlab = {
    .name = "gitlab",
    .route = "/hooks/gitlab",
    .label = "GitLab",
    .verify = gitlab_verify,
    .event = gitlab_event,
    .is_push = gitlab_is_push,
    .delivery = gitlab_delivery,
    .parse = gitlab_parse,
    .bad_payload_status = 200,
};
