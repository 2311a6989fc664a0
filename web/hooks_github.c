/*
 * hooks_github.c - POST /hooks/github: GitHub's push webhook.
 *
 * GitHub signs every delivery with the webhook's secret: the header
 * X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the raw
 * body.  It is checked (libsodium, compared in constant time) before any
 * byte of the body is parsed.  X-GitHub-Event names the event (a "ping"
 * comes when the hook is made; only "push" is graded) and
 * X-GitHub-Delivery is the delivery's id, the same when GitHub (or an
 * owner, from the hook's page) sends it again.
 */
#include <sodium.h>
#include <string.h>

#include "common/jsonutil.h"
#include "web/hooks.h"
#include "web/hooks_payload.h"

#define SIG_PREFIX "sha256="

static bool github_verify(const char *secret, const struct hook_request *rq, char *why, size_t n)
{
    const char *sig = rq->header(rq->ctx, "X-Hub-Signature-256");
    unsigned char want[crypto_auth_hmacsha256_BYTES], got[crypto_auth_hmacsha256_BYTES];
    size_t got_len = 0;
    if (!sig) {
        snprintf(why, n, "no X-Hub-Signature-256 header (set the webhook's secret on GitHub)");
        return false;
    }
    if (strncmp(sig, SIG_PREFIX, strlen(SIG_PREFIX)) ||
        strlen(sig) != strlen(SIG_PREFIX) + 2 * sizeof got ||
        sodium_hex2bin(got, sizeof got, sig + strlen(SIG_PREFIX), 2 * sizeof got, NULL, &got_len,
                       NULL) != 0 || got_len != sizeof got) {
        snprintf(why, n, "X-Hub-Signature-256 is not \"sha256=\" and 64 hex digits");
        return false;
    }
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)rq->body, rq->len);
    crypto_auth_hmacsha256_final(&st, want);
    sodium_memzero(&st, sizeof st);
    if (sodium_memcmp(want, got, sizeof want) != 0) {
        snprintf(why, n, "X-Hub-Signature-256 does not match the body signed with the secret");
        return false;
    }
    return true;
}

static const char *github_event(const struct hook_request *rq)
{
    return rq->header(rq->ctx, "X-GitHub-Event");
}

static bool github_is_push(const char *event)
{
    return !strcmp(event, "push");
}

static const char *github_delivery(const struct hook_request *rq)
{
    return rq->header(rq->ctx, "X-GitHub-Delivery");
}

/* The push event: repository.full_name, after, ref,
 * repository.default_branch, pusher.name. */
static int github_parse(const json_t *j, struct hook_push *p, char *why, size_t n)
{
    const json_t *repo = json_object_get(j, "repository");
    p->repository = payload_repo_name(json_object_get(repo, "full_name"));
    p->sha = payload_sha(json_object_get(j, "after"));
    p->ref = payload_ref(json_object_get(j, "ref"));
    p->default_branch = payload_ref(json_object_get(repo, "default_branch"));
    p->pusher = payload_ref(json_object_get(json_object_get(j, "pusher"), "name"));
    if (!p->repository || !p->sha || !p->ref) {
        snprintf(why, n, "the push event lacks a valid repository.full_name, after or ref");
        return -1;
    }
    return 0;
}

const struct hook_kind hook_github = {
    .name = "github",
    .route = "/hooks/github",
    .label = "GitHub",
    .verify = github_verify,
    .event = github_event,
    .is_push = github_is_push,
    .delivery = github_delivery,
    .parse = github_parse,
    .bad_payload_status = 400,
};
