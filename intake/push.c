/*
 * push.c - one push, from pushes/incoming/ to a queued job: fetch the
 * commit's zip archive from the forge (fetch.c, with the token from
 * forges.json), stage it exactly as `assay submit` stages an uploaded
 * zip (engine/submission.c: the same size, count and depth limits, links
 * and special files refused, unsafe names refused), unwrap the archive's
 * one top folder, and submit it through spool/submit.c with the push as
 * the job's "origin".
 *
 * What the forge or the network did wrong (5xx, a timeout, a refused
 * token) is retried with backoff, INTAKE_MAX_ATTEMPTS times; what the
 * commit is (too big, a link, a path that escapes) fails the push at
 * once with a reason a student can act on.  The push is settled only
 * after its job is queued: a crash in between submits it again.
 */
#define _GNU_SOURCE
#include "intake/intake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "engine/submission.h"
#include "intake/fetch.h"
#include "intake/forge.h"
#include "spool/delivery.h"
#include "spool/job.h"
#include "spool/pushes.h"
#include "spool/submit.h"

enum outcome { PUSH_SUBMITTED, PUSH_RETRY, PUSH_REFUSED };

struct push_work {
    const struct spool *s;
    const char *name;
    json_t *push;
    const struct intake_forge *forge;
    struct forge_config cfg;
    char *tmp;                  /* tmp/intake-XXXXXX: the archive and the staged tree */
    char why[1024];             /* RETRY or REFUSED: the sentence */
    char job_id[64];
};

static enum outcome say(struct push_work *w, enum outcome o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum outcome say(struct push_work *w, enum outcome o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->why, sizeof w->why, fmt, ap);
    va_end(ap);
    return o;
}

/* Judges the forge's answer to the archive request. */
static enum outcome judge_fetch(struct push_work *w, const struct fetch_result *r)
{
    const char *sha = jsonutil_str(w->push, "sha", "");
    if (r->too_big)
        return say(w, PUSH_REFUSED, "Assay refused the commit %.12s: its archive is larger "
                   "than %llu MB; remove large files (data, builds) from the repository", sha,
                   (unsigned long long)(w->cfg.max_archive_bytes >> 20));
    if (r->status == 0)
        return say(w, PUSH_RETRY, "%s did not answer: %s", w->forge->label, r->error);
    if (r->status == 200)
        return PUSH_SUBMITTED;
    if (r->status == 401 || r->status == 403 || r->status == 404)
        return say(w, PUSH_RETRY, "%s refused the archive of %.12s (HTTP %ld): %s",
                   w->forge->label, sha, r->status, w->forge->token_hint);
    return say(w, PUSH_RETRY, "%s answered HTTP %ld for the archive of %.12s",
               w->forge->label, r->status, sha);
}

/* Downloads the archive to TMP/commit.zip. */
static enum outcome fetch_archive(struct push_work *w, char **zip)
{
    struct err e;
    char what[64];
    snprintf(what, sizeof what, "%s token", w->forge->label);
    char *token = fs_read_secret(w->cfg.token_file, what, &e);
    if (!token)
        return say(w, PUSH_RETRY, "%s", e.msg);
    char *headers[8] = {0};
    int n = w->forge->headers(token, headers, 8);
    fs_free_secret(token);
    char *url = w->forge->archive_url(w->cfg.api_url, w->push);
    *zip = fs_join(w->tmp, "commit.zip");
    struct fetch_result r;
    enum outcome o = PUSH_RETRY;
    if (n < 0 || !url || !*zip)
        say(w, PUSH_RETRY, "out of memory");
    else if (fetch_to_file(url, headers, n, *zip, w->cfg.max_archive_bytes,
                           INTAKE_FETCH_TIMEOUT_S, &r, &e) < 0)
        say(w, PUSH_RETRY, "%s", e.msg);
    else
        o = judge_fetch(w, &r);
    for (int i = 0; i < 8; i++)
        fs_free_secret(headers[i]);   /* they hold the token */
    free(url);
    return o;
}

/* Where the submission came from, kept in its job: the commit statuses'
 * address. */
static json_t *push_origin(const struct push_work *w)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:s}", "forge", w->forge->name,
                     "repository", jsonutil_str(w->push, "repository", ""),
                     "sha", jsonutil_str(w->push, "sha", ""), "project_id",
                     json_integer_value(json_object_get(w->push, "project_id")),
                     "push", w->name);
}

/* A commit that was not submitted gets a status saying why, queued for
 * the push's student as a job that never runs (no submission of it
 * exists; the status is all that is sent). */
static void queue_refused_status(struct push_work *w, const char *reason)
{
    struct job j = {0};
    struct err e = {"out of memory"};
    json_t *origin = w->forge ? push_origin(w) : NULL;
    json_t *pj = origin ? job_new(jsonutil_str(w->push, "course", ""),
                                  jsonutil_str(w->push, "assignment", ""),
                                  jsonutil_str(w->push, "student", ""), 1, false, "python") : NULL;
    if (!w->forge)
        return;   /* no forge to tell */
    if (!pj || json_object_set(pj, "origin", origin) < 0 || job_from_json(json_incref(pj), &j, &e) < 0 ||
        delivery_queue_commit_status(w->s, &j, "refused", reason, &e) < 0)
        log_msg(LOG_WARN, NULL, "push %s: its commit status is not sent: %s", w->name, e.msg);
    job_free(&j);
    json_decref(pj);
    json_decref(origin);
}

/* Stages the archive as an upload is staged, then submits it. */
static enum outcome stage_and_submit(struct push_work *w, const char *zip)
{
    struct err e;
    char *dir = fs_join(w->tmp, "submission");
    if (!dir || fs_mkdir_p(dir, 0755, &e) < 0) {
        free(dir);
        return say(w, PUSH_RETRY, "cannot make a staging folder in the spool's tmp/");
    }
    enum outcome o = PUSH_SUBMITTED;
    if (submission_stage(zip, dir, &e) < 0) {
        const char *why = !strncmp(e.msg, zip, strlen(zip)) ? e.msg + strlen(zip) : e.msg;
        why += strspn(why, ": ");   /* the archive's path is ours, not the student's */
        o = say(w, PUSH_REFUSED, "Assay refused the commit %.12s: %s",
                jsonutil_str(w->push, "sha", ""), why);
    } else {
        submission_unwrap(dir);   /* the forge's one top folder, REPO-SHA/ */
        json_t *origin = push_origin(w);
        struct submit_request req = {
            .course = jsonutil_str(w->push, "course", ""),
            .assignment = jsonutil_str(w->push, "assignment", ""),
            .student = jsonutil_str(w->push, "student", ""), .origin = origin};
        json_t *job = NULL;
        if (!origin || fs_sync_tree(dir, &e) < 0 || !(job = submit_staged(w->s, &req, dir, &e)))
            o = say(w, PUSH_RETRY, "cannot queue the submission: %s",
                    origin ? e.msg : "out of memory");
        else
            snprintf(w->job_id, sizeof w->job_id, "%s", jsonutil_str(job, "id", ""));
        json_decref(job);
        json_decref(origin);
    }
    free(dir);
    return o;
}

/* Checks the push names a forge and a course it can be submitted to. */
static enum outcome prepare(struct push_work *w)
{
    struct err e;
    const char *names[] = {"course", "assignment", "student"};
    w->forge = intake_forge_find(jsonutil_str(w->push, "forge", NULL));
    if (!w->forge)
        return say(w, PUSH_REFUSED, "the push names no forge assay-intake knows");
    for (int i = 0; i < 3; i++)
        if (!spool_name_is_valid(jsonutil_str(w->push, names[i], "")))
            return say(w, PUSH_REFUSED, "the push's %s is not a valid name", names[i]);
    int rc = forge_config_load(w->s, w->forge->name, &w->cfg, &e);
    if (rc != 0)
        return say(w, PUSH_RETRY, "%s", rc > 0 ? "forges.json has no block for this forge"
                                              : e.msg);
    w->tmp = spool_tmpdir(w->s, "intake", &e);
    return w->tmp ? PUSH_SUBMITTED : say(w, PUSH_RETRY, "%s", e.msg);
}

static enum outcome handle(struct push_work *w)
{
    char *zip = NULL;
    enum outcome o = prepare(w);
    if (o == PUSH_SUBMITTED)
        o = fetch_archive(w, &zip);
    if (o == PUSH_SUBMITTED)
        o = stage_and_submit(w, zip);
    free(zip);
    return o;
}

/* Settles or defers the push after OUTCOME; returns when it is due again. */
static double settle(struct push_work *w, enum outcome o, double now)
{
    struct err e;
    char note[1200];
    json_int_t tries = json_integer_value(json_object_get(w->push, "attempts")) + 1;
    const char *repo = jsonutil_str(w->push, "repository", ""), *sha = jsonutil_str(w->push, "sha", "");
    if (o == PUSH_RETRY && tries < INTAKE_MAX_ATTEMPTS) {
        double at = now + backoff_delay((int)tries, INTAKE_BACKOFF_FIRST_S, INTAKE_BACKOFF_MAX_S);
        log_msg(LOG_WARN, NULL, "push %s (%s %.12s): attempt %lld failed, again in %.0f s: %s",
                w->name, repo, sha, (long long)tries, at - now, w->why);
        if (pushes_defer(w->s, w->name, w->push, w->why, at, &e) < 0)
            log_msg(LOG_ERROR, NULL, "push %s: %s", w->name, e.msg);
        return at;
    }
    if (o == PUSH_SUBMITTED) {
        snprintf(note, sizeof note, "submitted as job %s", w->job_id);
        log_msg(LOG_INFO, w->job_id, "push %s (%s %.12s) submitted for %s/%s/%s", w->name, repo,
                sha, jsonutil_str(w->push, "course", ""), jsonutil_str(w->push, "assignment", ""),
                jsonutil_str(w->push, "student", ""));
    } else {
        snprintf(note, sizeof note, "%s%s", w->why, o == PUSH_RETRY ? " (attempts used up)" : "");
        log_msg(LOG_ERROR, NULL, "push %s (%s %.12s) not graded: %s", w->name, repo, sha, note);
        queue_refused_status(w, note);
    }
    int rc = o == PUSH_SUBMITTED ? pushes_done(w->s, w->name, w->push, note, &e)
                                 : pushes_fail(w->s, w->name, w->push, note, &e);
    if (rc < 0)
        log_msg(LOG_ERROR, NULL, "push %s: %s", w->name, e.msg);
    return 0;
}

double intake_push(const struct spool *s, const char *name, double now)
{
    struct err e;
    struct push_work w = {.s = s, .name = name};
    int rc = pushes_load(s, name, &w.push, &e);
    if (rc == 1) {
        log_msg(LOG_INFO, NULL, "push %s was sent again while it was handled; graded once", name);
        if (pushes_drop_repeat(s, name, &e) < 0)
            log_msg(LOG_ERROR, NULL, "push %s: %s", name, e.msg);
        return 0;
    }
    if (rc < 0) {
        log_msg(LOG_ERROR, NULL, "push %s cannot be read: %s", name, e.msg);
        return now + INTAKE_BACKOFF_MAX_S;
    }
    double due = jsonutil_num(w.push, "not_before", 0);
    if (due > now) {
        json_decref(w.push);
        return due;
    }
    enum outcome o = handle(&w);
    due = settle(&w, o, now);
    if (w.tmp) {
        struct err rm;
        if (fs_remove_tree(w.tmp, &rm) < 0)
            log_msg(LOG_WARN, NULL, "push %s: %s; remove it by hand", name, rm.msg);
    }
    free(w.tmp);
    json_decref(w.push);
    return due;
}
