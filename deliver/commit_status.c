/*
 * commit_status.c - a job's commit status on GitHub or GitLab, as a
 * delivery (commit_status.h).
 *
 * A job that came from a push carries its "origin" (forge, repository,
 * sha, GitLab project id); spool/delivery.c queues a delivery for it
 * when it is queued ("pending"), when a shipper takes it ("running",
 * GitLab only) and when its result is recorded.  The result's status is
 * success when the submission got every point, failure when it got
 * fewer or the error was the student's, error when Assay could not grade
 * it (and failure, with the reason, for a commit assay-intake refused:
 * too big, a link, a tree too deep); the description is Classroom's
 * "Points X/Y" or the error's sentence, the context assay/ASSIGNMENT, the link the result page
 * (forges.json "result_url").  A job's statuses go in order: one waits
 * while an earlier one is unsent, and one is dropped once a later one
 * was sent, so a retried "pending" never overwrites a final status.  The API address and the token come from forges.json, never
 * from a file a student could write.
 */
#define _GNU_SOURCE
#include "deliver/commit_status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/forges.h"
#include "spool/record.h"

/* The recorded results.json of D's job, or NULL. */
static json_t *result_of(const struct spool *s, const struct delivery *d)
{
    char *rel = NULL;
    if (asprintf(&rel, "results/%s/%s/%s/%lld", d->course, d->assignment, d->student,
                 d->version) < 0)
        return NULL;
    json_t *r = record_read(s, rel);
    free(rel);
    const char *id = jsonutil_str(json_object_get(r, "assay"), "job_id", "");
    if (r && strcmp(id, d->job_id)) {   /* another grading of the version */
        json_decref(r);
        r = NULL;
    }
    return r;
}

/* Cuts S to MAX bytes at a character's start, "..." marking the cut. */
static void fit(char *s, size_t max)
{
    if (strlen(s) <= max)
        return;
    size_t n = max - 3;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    memcpy(s + n, "...", 4);
}

static void describe_result(const json_t *r, enum status_state *st, char *desc)
{
    const json_t *a = json_object_get(r, "assay");
    const json_t *err = json_object_get(a, "error");
    double score = jsonutil_num(r, "score", 0), of = jsonutil_num(r, "max_score", 0);
    if (!strcmp(jsonutil_str(a, "status", "graded"), "graded")) {
        *st = score >= of - 1e-9 ? ST_SUCCESS : ST_FAILURE;
        snprintf(desc, STATUS_DESC_BYTES, "Points %g/%g", round(score * 100) / 100, round(of * 100) / 100);
    } else if (!strcmp(jsonutil_str(err, "category", ""), "submission")) {
        *st = ST_FAILURE;
        snprintf(desc, STATUS_DESC_BYTES, "Not graded: %s", jsonutil_str(err, "message", "see the result"));
    } else {
        *st = ST_ERROR;
        snprintf(desc, STATUS_DESC_BYTES, "Assay could not grade this commit (%s): %s",
                 jsonutil_str(err, "category", "error"), jsonutil_str(err, "message", ""));
    }
}

/* The order of a job's statuses: pending, running, then the result's. */
static int phase_rank(const char *phase)
{
    return !phase ? 2 : !strcmp(phase, "running") ? 1 : 0;
}

/* The phase a key JOB_ID.X.DEST of D's job and destination names ("" for
 * the result's: X is an attempt), or NULL when it is another's. */
static const char *key_phase(const struct delivery *d, const char *k, char out[16])
{
    size_t idlen = strlen(d->job_id), dlen = strlen(d->dest), n = strlen(k);
    if (n <= idlen + dlen + 2 || strncmp(k, d->job_id, idlen) || k[idlen] != '.' ||
        k[n - dlen - 1] != '.' || strcmp(k + n - dlen, d->dest) || n - idlen - dlen - 2 >= 16)
        return NULL;
    snprintf(out, 16, "%.*s", (int)(n - idlen - dlen - 2), k + idlen + 1);
    return strspn(out, "0123456789") == strlen(out) ? "" : out;
}

/* Whether a status of D's job that comes before it is still unsent
 * (-1: wait for it) or one that comes after it was sent already (1: D
 * is not sent, it would overwrite a newer state); else 0. */
static int status_order(const struct spool *s, const struct delivery *d)
{
    const char *states[] = {DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_DONE};
    int mine = phase_rank(jsonutil_str(d->json, "phase", NULL)), rc = 0;
    for (int i = 0; i < 3 && rc == 0; i++) {
        struct fs_list l = {0};
        delivery_list(s, states[i], &l);
        for (size_t k = 0; k < l.n && rc == 0; k++) {
            char buf[16];
            const char *ph = key_phase(d, l.names[k], buf);
            if (!ph || !strcmp(l.names[k], d->key) || !strcmp(ph, "refused"))
                continue;
            int rank = phase_rank(*ph ? ph : NULL);
            if (i < 2 && rank < mine)
                rc = -1;
            else if (i == 2 && rank > mine)
                rc = 1;
        }
        fs_list_free(&l);
    }
    return rc;
}

int status_of_delivery(const struct spool *s, const struct delivery *d, enum status_state *st,
                       char desc[STATUS_DESC_BYTES], size_t max, char *note, size_t n)
{
    const char *phase = jsonutil_str(d->json, "phase", NULL);
    int order = phase && !strcmp(phase, "refused") ? 0 : status_order(s, d);
    json_t *r = phase || order ? NULL : result_of(s, d);
    int rc = 0;
    if (order > 0) {
        snprintf(note, n, "not sent: a later status of the commit was sent first");
        rc = 1;
    } else if (order < 0) {
        snprintf(note, n, "waits for the status before it");
        rc = 2;
    } else if (phase && !strcmp(phase, "refused")) {
        *st = ST_FAILURE;
        snprintf(desc, STATUS_DESC_BYTES, "%s", jsonutil_str(d->json, "reason", "Not graded"));
    } else if (phase) {
        *st = !strcmp(phase, "running") ? ST_RUNNING : ST_PENDING;
        snprintf(desc, STATUS_DESC_BYTES, "%s", *st == ST_RUNNING ? "Grading" : "Queued for grading");
    } else if (!r) {
        snprintf(note, n, "the result of job %s (%s/%s/%s version %lld) is not in the spool",
                 d->job_id, d->course, d->assignment, d->student, d->version);
        rc = -1;
    } else {
        describe_result(r, st, desc);
    }
    if (rc == 0)
        fit(desc, max);
    json_decref(r);
    return rc;
}

/* The request body: state, description, context, target_url. */
static char *status_body(const struct status_forge *f, const struct delivery *d,
                         enum status_state st, const char *desc, const char *url)
{
    char context[100];
    snprintf(context, sizeof context, "assay/%s", d->assignment);
    json_t *b = json_pack("{s:s, s:s, s:s, s:s?}", "state", f->states[st], "description", desc,
                          f->context_key, context, "target_url", url);
    char *text = b ? json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return text;
}

enum dest_step status_begin(struct dest_exchange *x, const struct status_forge *f)
{
    struct dest_item *it = &x->items[0];
    const struct delivery *d = it->d;
    struct forge_config cfg;
    struct err e;
    char desc[STATUS_DESC_BYTES], note[600], what[64];
    enum status_state st = ST_PENDING;
    int rc = forge_config_load(x->spool, f->name, &cfg, &e);
    if (rc != 0) {
        dest_settle(it, DEST_ITEM_DEAD, "config", "%s; to fix: set up forges.json (docs/"
                    "INTEGRATIONS.md), then `assay sync retry --course %s`",
                    rc > 0 ? "forges.json has no block for this forge" : e.msg, x->course);
        return DEST_SETTLED;
    }
    rc = status_of_delivery(x->spool, d, &st, desc, f->max_description, note, sizeof note);
    if (rc == 2)
        it->retry_after = 1;   /* soon: the earlier status is on its way */
    if (rc != 0) {
        dest_settle(it, rc == 1 ? DEST_ITEM_DONE : rc == 2 ? DEST_ITEM_RETRY : DEST_ITEM_DEAD,
                    rc < 0 ? "refused" : NULL, "%s", note);
        return DEST_SETTLED;
    }
    snprintf(what, sizeof what, "%s token", f->label);
    const json_t *origin = json_object_get(d->json, "origin");
    char *link = forge_result_url(cfg.result_url, d->job_id, d->course, d->assignment,
                                  d->student, d->version);
    x->req.token = fs_read_secret(cfg.token_file, what, &e);
    x->req.url = f->url(cfg.api_url, origin);
    x->req.body = status_body(f, d, st, desc, link);
    free(link);
    if (!x->req.token) {
        dest_settle(it, DEST_ITEM_DEAD, "token", "%s; to fix: then `assay sync retry --course "
                    "%s`", e.msg, x->course);
        return DEST_SETTLED;
    }
    if (!x->req.url || !x->req.body) {
        dest_settle(it, DEST_ITEM_RETRY, NULL, "out of memory");
        return DEST_SETTLED;
    }
    x->req.method = "POST";
    x->req.content_type = "application/json";
    x->req.accept = f->accept;
    x->req.changes = false;   /* the same status posted twice is the same status */
    return DEST_SEND;
}

enum dest_step status_answer(struct dest_exchange *x, const struct status_forge *f,
                             const struct dest_answer *a)
{
    struct dest_item *it = &x->items[0];
    const json_t *origin = json_object_get(it->d->json, "origin");
    const char *repo = jsonutil_str(origin, "repository", "");
    char ex[300];
    dest_body_excerpt(a, ex, sizeof ex);
    it->retry_after = a->retry_after;
    if ((a->status >= 200 && a->status < 300) || f->already(a->status, ex))
        dest_settle(it, DEST_ITEM_DONE, NULL, "commit status sent to %s %s %.12s", f->label,
                    repo, jsonutil_str(origin, "sha", ""));
    else if (a->status == 0)
        dest_settle(it, DEST_ITEM_RETRY, NULL, "no answer from %s: %s", f->label, a->error);
    else if (a->status == 429 || a->status >= 500 || (a->status == 403 && a->retry_after > 0))
        dest_settle(it, DEST_ITEM_RETRY, NULL, "%s answered %ld: %s", f->label, a->status, ex);
    else if (a->status == 401)
        dest_settle(it, DEST_ITEM_DEAD, "token", "%s refused the token (401: expired, revoked "
                    "or mistyped); to fix: put a valid token in forges.json's token_file, then "
                    "`assay sync retry --course %s`", f->label, x->course);
    else
        dest_settle(it, DEST_ITEM_DEAD, "refused", "%s refused the status of %s (%ld: %s); to "
                    "fix: the token needs write access to commit statuses of the repository, "
                    "then `assay sync retry --course %s`", f->label, repo, a->status, ex,
                    x->course);
    return DEST_SETTLED;
}

void status_check(const struct spool *s, const json_t *block, const char *file,
                  const char *where, struct problems *p)
{
    (void)s;
    char at[300];
    snprintf(at, sizeof at, "%s: %s", file, where);
    forge_check_git_block(block, at, p);
}
