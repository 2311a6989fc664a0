/*
 * dest_canvas.c - the Canvas destination: a student's grade (and a
 * comment with the feedback summary and a link to the result page) put
 * into a Canvas course through the Submissions API.
 *
 * Configured by course.json's "lms" block (docs/SPOOL.md, "The lms
 * block"; docs/INTEGRATIONS.md for what a Canvas admin sets up).  One
 * delivery is one request:
 *
 *   PUT /api/v1/courses/:course_id/assignments/:assignment_id/submissions/:user_id
 *       submission[posted_grade]=5&comment[text_comment]=...   (form-encoded)
 *
 * with the student as sis_user_id:ID (from the imported roster) or as
 * the configured student_id (sis_login_id:NAME by default).  Several
 * deliveries of one assignment from a regrade go in one request:
 *
 *   POST .../assignments/:assignment_id/submissions/update_grades
 *        grade_data[:user_id][posted_grade]=...   -> a Progress object,
 *   GET  /api/v1/progress/:id   polled until "completed" or "failed".
 *
 * The grade is picked when the request is made (spool/grade.c), so a
 * delivery retried late never sends an older grade over a newer one.
 * Each comment ends with the delivery's key; a delivery that may have
 * reached Canvas before (assay-deliver was killed, or the answer was
 * lost) first reads the submission's comments and, finding its key
 * there, is done without sending again, so nothing is posted twice.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/results.h"
#include "deliver/destination.h"
#include "spool/grade.h"
#include "spool/record.h"

#define ROSTER_MAX_BYTES (16u << 20)
#define COMMENT_MAX_TESTS 40
#define CANVAS_MAX_BATCH 100

static const char *const top_keys[] = {"base_url", "course_id", "token_file", "student_id",
                                       "result_url", "comment", "assignments", "retry", NULL};
static const char *const asg_keys[] = {"assignment_id", "grade", "comment", NULL};
static const char *const retry_keys[] = {"max_attempts", "first_s", "max_s", "timeout_s",
                                         NULL};
static const char *const student_ids[] = {"sis_login_id", "sis_user_id", NULL};

/* ---- the block ---- */

/* An http URL is refused unless it is this machine: the token would
 * cross the network in clear. */
static bool base_url_ok(const char *u)
{
    if (!strncmp(u, "https://", 8))
        return u[8] != '\0';
    const char *local[] = {"http://127.0.0.1", "http://localhost", "http://[::1]"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(local[i]);
        if (!strncmp(u, local[i], n) && (u[n] == ':' || u[n] == '/' || u[n] == '\0'))
            return true;
    }
    return false;
}

static void check_course_id(const json_t *block, const char *file, const char *where,
                            struct problems *p)
{
    const json_t *v = json_object_get(block, "course_id");
    bool ok = (json_is_integer(v) && json_integer_value(v) > 0) ||
              (json_is_string(v) && !strncmp(json_string_value(v), "sis_course_id:", 14) &&
               json_string_value(v)[14]);
    if (!ok)
        problems_add(p, file, "%s.course_id: %s; to fix: the number in the course's Canvas "
                     "address (/courses/1234) or \"sis_course_id:ID\"",
                     where, v ? "must be a positive integer or \"sis_course_id:ID\"" : "missing");
}

static void check_assignment(const json_t *a, const char *file, const char *where,
                             struct problems *p)
{
    if (!json_is_object(a)) {
        problems_add(p, file, "%s: must be an object such as {\"assignment_id\": 42}", where);
        return;
    }
    char path[400];
    snprintf(path, sizeof path, "%s: %s", file, where);
    check_known_keys(a, path, asg_keys, NULL, p);
    const json_t *id = json_object_get(a, "assignment_id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        problems_add(p, file, "%s.assignment_id: %s; to fix: the number in the assignment's "
                     "Canvas address (/courses/1234/assignments/42)", where,
                     id ? "must be a positive integer" : "missing");
    check_enum(a, path, "grade", grade_pick_names, p);
    const json_t *c = json_object_get(a, "comment");
    if (c && !json_is_boolean(c))
        problems_add(p, file, "%s.comment: must be true or false", where);
}

static void check_retry(const json_t *r, const char *where, struct problems *p)
{
    char path[400];
    snprintf(path, sizeof path, "%s.retry", where);
    if (!json_is_object(r)) {
        problems_add(p, path, "must be an object");
        return;
    }
    check_known_keys(r, path, retry_keys, NULL, p);
    check_number(r, path, "max_attempts", 15, 1, 100, p);
    check_number(r, path, "first_s", 2, 0.01, 3600, p);
    check_number(r, path, "max_s", 900, 0.01, 86400, p);
    check_number(r, path, "timeout_s", 30, 0.1, 600, p);
}

static void canvas_check(const struct spool *s, const json_t *block, const char *file,
                         const char *where, struct problems *p)
{
    (void)s;
    if (!json_is_object(block)) {
        problems_add(p, file, "%s: must be an object (docs/SPOOL.md, \"The lms block\")", where);
        return;
    }
    char path[300];
    snprintf(path, sizeof path, "%s: %s", file, where);
    check_known_keys(block, path, top_keys, NULL, p);
    const char *url = check_string(block, path, "base_url", true, p);
    if (url && !base_url_ok(url))
        problems_add(p, file, "%s.base_url: \"%s\" must start with https:// (http only to "
                     "this machine); to fix: the address of your Canvas, such as "
                     "https://canvas.example.edu", where, url);
    check_course_id(block, file, where, p);
    check_string(block, path, "token_file", true, p);
    check_enum(block, path, "student_id", student_ids, p);
    check_string(block, path, "result_url", false, p);
    const json_t *c = json_object_get(block, "comment");
    if (c && !json_is_boolean(c))
        problems_add(p, file, "%s.comment: must be true or false", where);
    const json_t *asgs = json_object_get(block, "assignments");
    if (!json_is_object(asgs)) {
        problems_add(p, file, "%s.assignments: %s; to fix: {\"hw1\": {\"assignment_id\": 42}} "
                     "for each Assay assignment whose grades go to Canvas", where,
                     asgs ? "must be an object" : "missing");
    } else {
        const char *name;
        json_t *a;
        json_object_foreach((json_t *)asgs, name, a) {
            char w[200];
            snprintf(w, sizeof w, "%s.assignments.%s", where, name);
            check_assignment(a, file, w, p);
        }
    }
    const json_t *r = json_object_get(block, "retry");
    if (r)
        check_retry(r, path, p);
}

/* ---- one exchange ---- */

enum phase { PH_CHECK, PH_PUT, PH_BULK, PH_POLL };

struct canvas {
    json_t *block;
    const char *base, *token_file;
    char course_id[96];
    long long assignment_id;
    bool comment;
    enum grade_pick pick;
    enum phase phase;
    char user[160];                 /* single: the student as Canvas knows them */
    char *grade, *text;             /* single: what the PUT sends */
    struct buf body;                /* bulk: the form being built */
};

static char *escape(const char *s)
{
    char *c = curl_easy_escape(NULL, s, 0);
    char *out = c ? strdup(c) : NULL;
    curl_free(c);
    return out;
}

/* The course's roster (courses/C/roster.json, `assay canvas roster`):
 * NULL when none was imported. */
static json_t *load_roster(const struct spool *s, const char *course)
{
    char *path = spool_path(s, "courses/%s/roster.json", course);
    struct err ignored;   /* no roster: students are addressed by name */
    json_t *r = path && fs_exists(path) ? jsonutil_load_file(path, ROSTER_MAX_BYTES, &ignored)
                                        : NULL;
    free(path);
    return r;
}

/* Fills C->user for STUDENT; false (item settled dead) when the roster
 * does not know them. */
static bool address(struct dest_exchange *x, struct canvas *c, const json_t *roster,
                    struct dest_item *it, char *user, size_t n)
{
    const char *student = it->d->student;
    if (roster) {
        const json_t *entry = json_object_get(json_object_get(roster, "students"), student);
        if (!entry) {
            dest_settle(it, DEST_ITEM_DEAD, "unknown_student", "%s is not in the Canvas roster "
                        "of course %s (courses/%s/roster.json); to fix: enrol them in Canvas "
                        "(or correct their SIS id there), run `assay canvas roster --course %s`, "
                        "then `assay sync retry --course %s --student %s`", student,
                        c->course_id, x->course, x->course, x->course, student);
            return false;
        }
        const char *sis = jsonutil_str(entry, "sis_user_id", NULL);
        if (sis && *sis) {
            snprintf(user, n, "sis_user_id:%s", sis);
            return true;
        }
        long long id = (long long)jsonutil_num(entry, "id", 0);
        if (id > 0) {
            snprintf(user, n, "%lld", id);
            return true;
        }
    }
    snprintf(user, n, "%s:%s", jsonutil_str(c->block, "student_id", "sis_login_id"), student);
    return true;
}

/* The comment: the score, each test the student may see, the link, the key. */
static char *comment_text(const struct canvas *c, const struct dest_item *it,
                          const json_t *student_view, long long version)
{
    struct buf b = BUF_INIT;
    struct manual_tally pending;   /* "5 of 7 points, 2 awaiting manual grading" says its unit */
    results_manual_tally(student_view, &pending);
    buf_puts(&b, "Assay: ");
    results_total_phrase(student_view, &b);
    buf_printf(&b, "%s (version %lld).\n", pending.pending ? "" : " points", version);
    const json_t *tests = json_object_get(student_view, "tests");
    size_t i;
    const json_t *t;
    json_array_foreach(tests, i, t) {
        if (i == COMMENT_MAX_TESTS) {
            buf_printf(&b, "... and %zu more tests\n", json_array_size(tests) - i);
            break;
        }
        buf_printf(&b, "%s: %g / %g\n", jsonutil_str(t, "name", "test"),
                   jsonutil_num(t, "score", 0), jsonutil_num(t, "max_score", 0));
    }
    const char *link = jsonutil_str(c->block, "result_url", NULL);
    if (link) {
        char v[24];
        snprintf(v, sizeof v, "%lld", version);
        const char *from[] = {"{course}", "{assignment}", "{student}", "{version}"};
        const char *to[] = {it->d->course, it->d->assignment, it->d->student, v};
        buf_puts(&b, "Details: ");
        for (const char *p = link; *p;) {
            int k = 0;
            while (k < 4 && strncmp(p, from[k], strlen(from[k])))
                k++;
            if (k < 4) {
                buf_puts(&b, to[k]);
                p += strlen(from[k]);
            } else {
                buf_append(&b, p++, 1);
            }
        }
        buf_puts(&b, "\n");
    }
    buf_printf(&b, "(ref %s)", it->d->key);
    return buf_steal(&b);
}

/* The grade and comment of item IT; false when it was settled instead. */
static bool prepare(struct dest_exchange *x, struct canvas *c, struct dest_item *it,
                    char **grade, char **text)
{
    long long version = 0;
    json_t *r = grade_pick(x->spool, it->d->course, it->d->assignment, it->d->student, c->pick,
                           &version);
    if (!r) {
        dest_settle(it, DEST_ITEM_DONE, NULL, "nothing sent: %s has no result that counts as "
                    "a grade (%s)", it->d->student, grade_pick_names[c->pick]);
        return false;
    }
    char g[64];
    snprintf(g, sizeof g, "%.10g", round(jsonutil_num(r, "score", 0) * 1e6) / 1e6);
    json_decref(r);
    *grade = strdup(g);
    *text = NULL;
    if (c->comment) {
        char rel[400];
        snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld/results.student.json", it->d->course,
                 it->d->assignment, it->d->student, version);
        char *path = spool_path(x->spool, "%s", rel);
        struct err ignored;   /* no student view: the score line alone */
        json_t *view = path ? jsonutil_load_file(path, 16u << 20, &ignored) : NULL;
        free(path);
        *text = comment_text(c, it, view, version);
        json_decref(view);
    }
    if (!*grade || (c->comment && !*text)) {
        dest_settle(it, DEST_ITEM_RETRY, NULL, "out of memory");
        free(*grade);
        free(*text);
        return false;
    }
    return true;
}

static int set_request(struct dest_exchange *x, const char *method, char *url, char *body,
                       bool changes)
{
    struct canvas *c = x->state;
    struct err e;
    char *token = dest_read_secret(x->spool, c->token_file, &e);
    if (!token || !url) {
        dest_settle_all(x, DEST_ITEM_DEAD, "config", "%s%s", token ? "out of memory" : e.msg,
                        token ? "" : "; then `assay sync retry`");
        free(url);
        free(body);
        free(token);
        return -1;
    }
    dest_request_clear(&x->req);
    x->req.method = method;
    x->req.url = url;
    x->req.body = body;
    x->req.content_type = body ? "application/x-www-form-urlencoded" : NULL;
    x->req.token = token;
    x->req.changes = changes;
    return 0;
}

/* USER ("sis_user_id:S123") for a URL: the value escaped, the prefix kept. */
static char *escape_user(const char *user)
{
    const char *colon = strchr(user, ':');
    size_t n = colon ? (size_t)(colon - user) + 1 : 0;
    char *v = escape(user + n), *out = NULL;
    if (v && asprintf(&out, "%.*s%s", (int)n, user, v) < 0)
        out = NULL;
    free(v);
    return out;
}

static char *submission_url(const struct canvas *c, const char *user, const char *query)
{
    char *u = escape_user(user), *url = NULL;
    if (u && asprintf(&url, "%s/api/v1/courses/%s/assignments/%lld/submissions/%s%s", c->base,
                      c->course_id, c->assignment_id, u, query) < 0)
        url = NULL;
    free(u);
    return url;
}

static enum dest_step send_put(struct dest_exchange *x)
{
    struct canvas *c = x->state;
    char *g = escape(c->grade), *t = c->text ? escape(c->text) : NULL, *body = NULL;
    if (g && (!c->text || t) &&
        asprintf(&body, "submission%%5Bposted_grade%%5D=%s%s%s", g,
                 t ? "&comment%5Btext_comment%5D=" : "", t ? t : "") < 0)
        body = NULL;
    free(g);
    free(t);
    c->phase = PH_PUT;
    if (!body) {
        dest_settle_all(x, DEST_ITEM_RETRY, NULL, "out of memory");
        return DEST_SETTLED;
    }
    return set_request(x, "PUT", submission_url(c, c->user, ""), body, true) < 0
           ? DEST_SETTLED : DEST_SEND;
}

/* An earlier attempt may have arrived: read the comments first. */
static enum dest_step send_check(struct dest_exchange *x)
{
    struct canvas *c = x->state;
    c->phase = PH_CHECK;
    return set_request(x, "GET", submission_url(c, c->user, "?include%5B%5D=submission_comments"),
                       NULL, false) < 0 ? DEST_SETTLED : DEST_SEND;
}

/* Adds ITEM to the bulk form. */
static void bulk_add(struct canvas *c, const char *user, const char *grade, const char *text)
{
    char *u = escape_user(user), *g = escape(grade), *t = text ? escape(text) : NULL;
    if (c->body.len)
        buf_puts(&c->body, "&");
    buf_printf(&c->body, "grade_data%%5B%s%%5D%%5Bposted_grade%%5D=%s", u ? u : "", g ? g : "");
    if (t)
        buf_printf(&c->body, "&grade_data%%5B%s%%5D%%5Btext_comment%%5D=%s", u ? u : "", t);
    free(u);
    free(g);
    free(t);
}

static enum dest_step begin_bulk(struct dest_exchange *x, const json_t *roster)
{
    struct canvas *c = x->state;
    size_t open = 0;
    for (size_t i = 0; i < x->n; i++) {
        struct dest_item *it = &x->items[i];
        char user[160], *grade, *text;
        if (!address(x, c, roster, it, user, sizeof user) || !prepare(x, c, it, &grade, &text))
            continue;
        bulk_add(c, user, grade, text);
        free(grade);
        free(text);
        open++;
    }
    if (!open)
        return DEST_SETTLED;
    char *url = NULL;
    if (asprintf(&url, "%s/api/v1/courses/%s/assignments/%lld/submissions/update_grades",
                 c->base, c->course_id, c->assignment_id) < 0)
        url = NULL;
    c->phase = PH_BULK;
    char *body = buf_steal(&c->body);
    return set_request(x, "POST", url, body, true) < 0 ? DEST_SETTLED : DEST_SEND;
}

/* Reads the block and the assignment's entry into a new struct canvas. */
static struct canvas *canvas_open(struct dest_exchange *x)
{
    struct err e;
    json_t *block = dest_load_block(x->spool, x->course, x->kind, &e);
    if (!block) {
        dest_settle_all(x, DEST_ITEM_DEAD, "config", "%s; fix it, then `assay sync retry "
                        "--course %s`", e.msg, x->course);
        return NULL;
    }
    struct canvas *c = calloc(1, sizeof *c);
    if (!c) {
        json_decref(block);
        dest_settle_all(x, DEST_ITEM_RETRY, NULL, "out of memory");
        return NULL;
    }
    c->block = block;
    c->base = json_string_value(json_object_get(block, "base_url"));
    c->token_file = json_string_value(json_object_get(block, "token_file"));
    const json_t *cid = json_object_get(block, "course_id");
    if (json_is_integer(cid))
        snprintf(c->course_id, sizeof c->course_id, "%lld", (long long)json_integer_value(cid));
    else
        snprintf(c->course_id, sizeof c->course_id, "%s", json_string_value(cid));
    const json_t *r = json_object_get(block, "retry");
    x->retry.max_attempts = (int)jsonutil_num(r, "max_attempts", x->retry.max_attempts);
    x->retry.first_s = jsonutil_num(r, "first_s", x->retry.first_s);
    x->retry.max_s = jsonutil_num(r, "max_s", x->retry.max_s);
    x->retry.timeout_s = jsonutil_num(r, "timeout_s", x->retry.timeout_s);
    x->state = c;
    return c;
}

static enum dest_step canvas_begin(struct dest_exchange *x)
{
    struct canvas *c = canvas_open(x);
    if (!c)
        return DEST_SETTLED;
    const char *asg = x->items[0].d->assignment;
    const json_t *entry = json_object_get(json_object_get(c->block, "assignments"), asg);
    if (!entry) {
        dest_settle_all(x, DEST_ITEM_DONE, NULL, "nothing sent: lms.assignments in "
                        "courses/%s/course.json has no entry for %s", x->course, asg);
        return DEST_SETTLED;
    }
    c->assignment_id = (long long)jsonutil_num(entry, "assignment_id", 0);
    const json_t *cm = json_object_get(entry, "comment");
    c->comment = cm ? json_is_true(cm) : !json_is_false(json_object_get(c->block, "comment"));
    const char *pick = jsonutil_str(entry, "grade", "latest");
    for (int i = 0; grade_pick_names[i]; i++)
        if (!strcmp(grade_pick_names[i], pick))
            c->pick = (enum grade_pick)i;
    json_t *roster = load_roster(x->spool, x->course);
    enum dest_step step = DEST_SETTLED;
    if (x->n > 1) {
        step = begin_bulk(x, roster);
    } else if (address(x, c, roster, &x->items[0], c->user, sizeof c->user) &&
               prepare(x, c, &x->items[0], &c->grade, &c->text)) {
        step = x->items[0].d->unsure && c->comment ? send_check(x) : send_put(x);
    }
    json_decref(roster);
    return step;
}

/* ---- the answers ---- */

/* True when Canvas's comments on the submission (BODY) hold KEY. */
static bool already_there(const struct dest_answer *a, const char *key)
{
    struct err ignored;   /* an answer that cannot be read: not found, so sent again */
    json_t *sub = jsonutil_load_text(a->body, a->len, "Canvas's submission", &ignored);
    bool found = false;
    size_t i;
    const json_t *cm;
    char ref[300];
    snprintf(ref, sizeof ref, "(ref %s)", key);
    json_array_foreach(json_object_get(sub, "submission_comments"), i, cm)
        found = found || strstr(jsonutil_str(cm, "comment", ""), ref) != NULL;
    json_decref(sub);
    return found;
}

/* An answer that is not a success: retry, or dead with the reason. */
static void judge_failure(struct dest_exchange *x, const struct dest_answer *a)
{
    struct canvas *c = x->state;
    char ex[300];
    dest_body_excerpt(a, ex, sizeof ex);
    bool changes = x->req.changes;
    if (a->status == 0 || a->status == 429 || a->status == 408 || a->status >= 500 ||
        (a->status == 403 && a->rate_remaining == 0)) {
        for (size_t i = 0; i < x->n; i++) {
            struct dest_item *it = &x->items[i];
            if (it->state != DEST_ITEM_OPEN)
                continue;
            it->unsure = changes && a->status == 0;
            it->retry_after = a->retry_after;
        }
        if (a->status == 0)
            dest_settle_all(x, DEST_ITEM_RETRY, NULL, "no answer from Canvas: %s", a->error);
        else if (a->status == 403)
            dest_settle_all(x, DEST_ITEM_RETRY, NULL, "throttled by Canvas (403, "
                            "X-Rate-Limit-Remaining: 0)");
        else
            dest_settle_all(x, DEST_ITEM_RETRY, NULL, "Canvas answered %ld: %s", a->status, ex);
    } else if (a->status == 401) {
        dest_settle_all(x, DEST_ITEM_DEAD, "token", "Canvas refused the token in %s (401%s: "
                        "expired, revoked or mistyped); to fix: put a valid token there, then "
                        "`assay sync retry --course %s`", c->token_file,
                        a->www_authenticate ? ", WWW-Authenticate" : "", x->course);
    } else if (a->status == 404) {
        dest_settle_all(x, DEST_ITEM_DEAD, "unknown_student", "Canvas course %s has no student "
                        "%s or no assignment %lld (404: %s); to fix: check the roster (`assay "
                        "canvas roster --course %s`) and lms.assignments in course.json, then "
                        "`assay sync retry --course %s`", c->course_id,
                        x->n == 1 ? c->user : "of this batch", c->assignment_id, ex, x->course,
                        x->course);
    } else {
        bool unpublished = strcasestr(ex, "publish") != NULL;
        dest_settle_all(x, DEST_ITEM_DEAD, unpublished ? "unpublished" : "refused",
                        "Canvas refused the grade (%ld: %s)%s; then `assay sync retry --course "
                        "%s`", a->status, ex, unpublished ? "; to fix: publish the course and "
                        "the assignment in Canvas" : "; to fix: the token's user must be allowed "
                        "to grade in the course", x->course);
    }
}

/* A Progress object (from update_grades or a poll): done, failed, or poll again. */
static enum dest_step judge_progress(struct dest_exchange *x, const struct dest_answer *a)
{
    struct canvas *c = x->state;
    struct err e;
    json_t *p = jsonutil_load_text(a->body, a->len, "Canvas's Progress object", &e);
    const char *state = jsonutil_str(p, "workflow_state", "");
    const char *url = jsonutil_str(p, "url", NULL);
    long long id = (long long)jsonutil_num(p, "id", 0);
    enum dest_step step = DEST_SETTLED;
    if (!strcmp(state, "completed")) {
        dest_settle_all(x, DEST_ITEM_DONE, NULL, "sent in a bulk update of %zu grades to "
                        "Canvas assignment %lld (Progress %lld completed)", x->n,
                        c->assignment_id, id);
    } else if (!strcmp(state, "failed")) {
        dest_settle_all(x, DEST_ITEM_RETRY, NULL, "Canvas's bulk update failed (Progress %lld: "
                        "%s)", id, jsonutil_str(p, "message", "no message"));
    } else if ((!strcmp(state, "queued") || !strcmp(state, "running")) && (url || id > 0)) {
        char *next = NULL;
        if (url && !strncmp(url, c->base, strlen(c->base)))
            next = strdup(url);
        else if (asprintf(&next, "%s/api/v1/progress/%lld", c->base, id) < 0)
            next = NULL;
        c->phase = PH_POLL;
        step = set_request(x, "GET", next, NULL, false) < 0 ? DEST_SETTLED : DEST_SEND;
        x->req.delay_s = 0.5;   /* Canvas's jobs take seconds: no busy polling */
    } else {
        dest_settle_all(x, DEST_ITEM_RETRY, NULL, "Canvas's answer to the bulk update is no "
                        "Progress object%s%s", p ? "" : ": ", p ? "" : e.msg);
    }
    json_decref(p);
    return step;
}

static enum dest_step canvas_answer(struct dest_exchange *x, const struct dest_answer *a)
{
    struct canvas *c = x->state;
    if (a->status < 200 || a->status > 299) {
        judge_failure(x, a);
        return DEST_SETTLED;
    }
    switch (c->phase) {
    case PH_CHECK:
        if (!already_there(a, x->items[0].d->key))
            return send_put(x);
        dest_settle_all(x, DEST_ITEM_DONE, NULL, "grade %s for %s was already in Canvas (sent "
                        "before a restart; its comment is there)", c->grade, c->user);
        return DEST_SETTLED;
    case PH_PUT:
        dest_settle_all(x, DEST_ITEM_DONE, NULL, "grade %s sent to Canvas for %s%s", c->grade,
                        c->user, c->text ? " with a comment" : "");
        return DEST_SETTLED;
    case PH_BULK:
    case PH_POLL:
        return judge_progress(x, a);
    }
    return DEST_SETTLED;
}

static void canvas_end(struct dest_exchange *x)
{
    struct canvas *c = x->state;
    if (!c)
        return;
    json_decref(c->block);
    free(c->grade);
    free(c->text);
    buf_free(&c->body);
    free(c);
    x->state = NULL;
}

const struct dest_kind dest_canvas = {
    .name = "canvas",
    .block = "lms",
    .max_batch = CANVAS_MAX_BATCH,
    .check = canvas_check,
    .begin = canvas_begin,
    .answer = canvas_answer,
    .end = canvas_end,
};
