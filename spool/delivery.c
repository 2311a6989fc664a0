/*
 * delivery.c - the outgoing deliveries' queue: the one owner of every
 * move of a delivery file (delivery.h lists them, docs/SPOOL.md
 * "Deliveries" draws them).
 *
 * It is built like the job queue (spool/queue.c): a delivery's state is
 * the directory its file is in, every move is one rename synced in both
 * directories (spool_move), and when the content changes too (an attempt
 * counted, the answer kept) the new content is first written in place,
 * atomically, then the file is renamed.  The file's name is its
 * idempotency key, so queueing is a no-op when the key exists anywhere:
 * that is what makes "record, queue deliveries, remove the job file"
 * safe to repeat after a crash at any point.
 *
 * Used by spool/queue.c (queue_finish queues the deliveries of a result
 * before it removes the job file), assay-deliver (deliver/) and
 * `assay sync`.
 */
#define _GNU_SOURCE
#include "spool/delivery.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/counters.h"
#include "spool/course.h"

#define DELIVERY_MAX_BYTES (64u << 10)

/* block -> destination; the git destinations add their blocks here */
static const struct {
    const char *block, *dest;
} blocks[] = {
    {"lms", "canvas"},
};

const char *delivery_dest_of_block(const char *block)
{
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if (!strcmp(blocks[i].block, block))
            return blocks[i].dest;
    return NULL;
}

static const char *const states[] = {DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_DONE,
                                     DELIVERY_DEAD, NULL};

/* "STATE/KEY.json", malloc'd (NULL only when memory ran out). */
static char *delivery_rel(const char *state, const char *key)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s.json", state, key) < 0 ? NULL : p;
}

int delivery_from_json(json_t *j, struct delivery *d, struct err *e)
{
    memset(d, 0, sizeof *d);
    d->json = j;
    if (!json_is_object(j))
        return err_set(e, "a delivery file must hold a JSON object");
    d->key = jsonutil_str(j, "key", NULL);
    d->dest = jsonutil_str(j, "destination", NULL);
    d->course = jsonutil_str(j, "course", NULL);
    d->assignment = jsonutil_str(j, "assignment", NULL);
    d->student = jsonutil_str(j, "student", NULL);
    d->job_id = jsonutil_str(j, "job_id", NULL);
    d->version = (long long)jsonutil_num(j, "version", 0);
    d->tries = (int)jsonutil_num(j, "tries", 0);
    d->not_before = jsonutil_num(j, "not_before", 0);
    d->unsure = json_is_true(json_object_get(j, "unsure"));
    d->batch = json_is_true(json_object_get(j, "batch"));
    const char *names[] = {d->course, d->assignment, d->student};
    for (int i = 0; i < 3; i++)
        if (!names[i] || !spool_name_is_valid(names[i]))
            return err_set(e, "a delivery file needs \"course\", \"assignment\" and \"student\" "
                           "names");
    if (!d->key || !d->dest || !d->job_id || d->version < 1)
        return err_set(e, "a delivery file needs \"key\", \"destination\", \"job_id\" and "
                       "\"version\"");
    return 0;
}

int delivery_load(const struct spool *s, const char *state, const char *key,
                  struct delivery *d, struct err *e)
{
    char *rel = delivery_rel(state, key), *path = rel ? spool_path(s, "%s", rel) : NULL;
    json_t *j = path ? jsonutil_load_file(path, DELIVERY_MAX_BYTES, e) : NULL;
    if (!path)
        err_set(e, "out of memory");
    free(path);
    free(rel);
    memset(d, 0, sizeof *d);
    if (!j)
        return -1;
    if (delivery_from_json(j, d, e) < 0) {
        err_prefix(e, "%s/%s.json", state, key);
        delivery_free(d);
        return -1;
    }
    return 0;
}

void delivery_free(struct delivery *d)
{
    json_decref(d->json);
    memset(d, 0, sizeof *d);
}

static bool is_delivery_file(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

int delivery_list(const struct spool *s, const char *state, struct fs_list *out)
{
    char *dir = spool_path(s, "%s", state);
    int rc = fs_list(dir, is_delivery_file, fs_cmp_names, out);
    free(dir);
    for (size_t i = 0; i < out->n; i++)   /* the key: the name without ".json" */
        out->names[i][strlen(out->names[i]) - 5] = '\0';
    return rc;
}

const char *delivery_locate(const struct spool *s, const char *key)
{
    for (int i = 0; states[i]; i++) {
        char *rel = delivery_rel(states[i], key), *path = rel ? spool_path(s, "%s", rel) : NULL;
        bool there = path && fs_exists(path);
        free(path);
        free(rel);
        if (there)
            return states[i];
    }
    return NULL;
}

/* Writes J as KEY's file in STATE, atomically and durably. */
static int write_delivery(const struct spool *s, const char *state, const char *key,
                          const json_t *j, struct err *e)
{
    char *rel = delivery_rel(state, key);
    int rc = rel ? spool_write_json(s, rel, j, e) : err_set(e, "out of memory");
    free(rel);
    return rc;
}

/* Moves KEY's file from state FROM to state TO: 1 if it was gone. */
static int move_delivery(const struct spool *s, const char *key, const char *from,
                         const char *to, struct err *e)
{
    char *a = delivery_rel(from, key), *b = delivery_rel(to, key);
    int rc = a && b ? spool_move(s, a, b, e) : err_set(e, "out of memory");
    free(a);
    free(b);
    return rc;
}

static void set_now(json_t *j, const char *field)
{
    char now[32];
    clock_iso8601(clock_wall(), now);
    json_object_set_new(j, field, json_string(now));
}

/* Writes a new delivery KEY of T's grade to DEST in pending/, unless
 * KEY is in some state already (1). */
/* A new delivery file of T to DEST under KEY (NULL: out of memory). */
static json_t *new_delivery(const struct delivery_target *t, const char *dest, const char *key)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:i, s:f, s:b, s:b, s:n}",
                          "key", key, "destination", dest, "course", t->course,
                          "assignment", t->assignment, "student", t->student,
                          "version", (json_int_t)t->version, "job_id", t->job_id,
                          "attempt", t->attempt, "tries", 0, "not_before", 0.0,
                          "unsure", 0, "batch", t->batch, "last_error");
    if (j && t->extra)
        json_object_update_missing(j, (json_t *)t->extra);   /* never over the common fields */
    if (j)
        set_now(j, "queued_at");
    return j;
}

static int queue_one(const struct spool *s, const struct delivery_target *t, const char *dest,
                     const char *key, struct err *e)
{
    if (delivery_locate(s, key))
        return 1;
    json_t *j = new_delivery(t, dest, key);
    int rc = j ? write_delivery(s, DELIVERY_PENDING, key, j, e) : err_set(e, "out of memory");
    json_decref(j);
    return rc;
}

static struct delivery_target target_of(const struct job *job)
{
    return (struct delivery_target){job->course, job->assignment, job->student, job->version,
                                    job->id, job->attempt, !strcmp(job->priority, "batch"),
                                    NULL};
}

int delivery_queue(const struct spool *s, const struct job *job, const char *dest,
                   struct err *e)
{
    char key[200];
    snprintf(key, sizeof key, "%s.%d.%s", job->id, job->attempt, dest);
    struct delivery_target t = target_of(job);
    return queue_one(s, &t, dest, key, e);
}

int delivery_queue_change(const struct spool *s, const struct delivery_target *t,
                          const char *change, struct err *e)
{
    struct course_config cfg;
    struct problems p = {0};
    if (course_config_load(s, t->course, &cfg, &p) < 0 && cfg.n_destinations == 0) {
        err_set(e, "%s", p.count ? p.items[0] : "course.json is broken");
        problems_free(&p);
        return -1;
    }
    problems_free(&p);
    int queued = 0;
    for (int i = 0; i < cfg.n_destinations; i++) {
        char key[240];
        snprintf(key, sizeof key, "%.180s.%s", change, cfg.destinations[i]);
        int rc = queue_one(s, t, cfg.destinations[i], key, e);
        if (rc < 0)
            return -1;
        queued += rc == 0;
    }
    return queued;
}

/* The commit-status destination of a job from a push ("origin"), or NULL. */
static const char *status_dest(const struct job *job)
{
    const char *forge = jsonutil_str(json_object_get(job->json, "origin"), "forge", "");
    return !strcmp(forge, "github") ? "github" : !strcmp(forge, "gitlab") ? "gitlab" : NULL;
}

int delivery_queue_commit_status(const struct spool *s, const struct job *job, const char *phase,
                                 const char *reason, struct err *e)
{
    const char *dest = status_dest(job);
    if (!dest || (phase && !strcmp(phase, "running") && strcmp(dest, "gitlab")))
        return 0;   /* not from a push; GitHub has no "running" state */
    char key[200];
    if (phase)
        snprintf(key, sizeof key, "%s.%s.%s", job->id, phase, dest);
    else
        snprintf(key, sizeof key, "%s.%d.%s", job->id, job->attempt, dest);
    if (delivery_locate(s, key))
        return 1;
    struct delivery_target t = target_of(job);
    json_t *j = new_delivery(&t, dest, key);
    int rc = j && !json_object_set(j, "origin", json_object_get(job->json, "origin")) &&
             (!phase || !json_object_set_new(j, "phase", json_string(phase))) &&
             (!reason || !json_object_set_new(j, "reason", json_string(reason)))
             ? write_delivery(s, DELIVERY_PENDING, key, j, e) : err_set(e, "out of memory");
    json_decref(j);
    return rc;
}

int delivery_queue_for_result(const struct spool *s, const struct job *job)
{
    struct course_config cfg;
    struct problems p = {0};
    if (course_config_load(s, job->course, &cfg, &p) < 0 && cfg.n_destinations == 0)
        log_msg(LOG_ERROR, job->id, "no grade is delivered for this result, since %s; fix the "
                "file, then `assay sync resend --course %s --student %s`",
                p.count ? p.items[0] : "course.json is broken", job->course, job->student);
    problems_free(&p);
    int failed = 0;
    for (int i = 0; i < cfg.n_destinations; i++) {
        struct err e;
        if (delivery_queue(s, job, cfg.destinations[i], &e) < 0) {
            log_msg(LOG_ERROR, job->id, "cannot queue its delivery to %s: %s; once that is "
                    "fixed, `assay sync resend --course %s --assignment %s --student %s` "
                    "sends the grade", cfg.destinations[i], e.msg, job->course, job->assignment,
                    job->student);
            failed++;
        }
    }
    return failed;
}

int delivery_take(const struct spool *s, const char *key, struct err *e)
{
    return move_delivery(s, key, DELIVERY_PENDING, DELIVERY_SENDING, e);
}

/* Rewrites D in sending/ with its new content, then moves it to TO,
 * without an fsync: losing this in a power cut leaves the delivery in
 * sending/, which the next assay-deliver puts back as unsure, and the
 * destination then finds what was sent (SPOOL.md, "Durability").  The
 * take into sending/ before anything is sent is the move that is
 * synced. */
static int settle(const struct spool *s, struct delivery *d, const char *to, struct err *e)
{
    char *rel = delivery_rel(DELIVERY_SENDING, d->key);
    int rc = rel ? spool_update_json(s, rel, d->json, e) : err_set(e, "out of memory");
    free(rel);
    if (rc < 0)
        return -1;
    char *a = spool_path(s, "%s/%s.json", DELIVERY_SENDING, d->key);
    char *b = spool_path(s, "%s/%s.json", to, d->key);
    if (!a || !b)
        rc = err_set(e, "out of memory");
    else if (rename(a, b) < 0)
        rc = errno == ENOENT ? err_set(e, "delivery %s left %s/ while it was being sent", d->key,
                                       DELIVERY_SENDING)
                             : err_sys(e, "cannot move %s/%s.json to %s/", DELIVERY_SENDING,
                                       d->key, to);
    free(a);
    free(b);
    return rc;
}

/* Counts D's settling for /metrics after the move that makes it true:
 * assay_deliveries_total by OUTCOME (delivered, retried, dead), and a
 * dead one's CATEGORY in assay_deliveries_dead_total.  A count lost is
 * only logged (spool/counters.h). */
static void count_settled(const struct spool *s, const struct delivery *d, const char *outcome,
                          const char *category)
{
    struct buf l = BUF_INIT, dead = BUF_INIT;
    counters_label(&l, "destination", d->dest ? d->dest : "?");
    buf_puts(&dead, buf_str(&l));
    counters_label(&l, "outcome", outcome);
    counters_label(&dead, "category", category ? category : "");
    struct counter_inc incs[] = {{"assay_deliveries_total", buf_str(&l), 1, false},
                                 {"assay_deliveries_dead_total", buf_str(&dead), 1, false}};
    struct err e;
    if (counters_add(s, incs, category ? 2 : 1, &e) < 0)
        log_msg(LOG_WARN, d->job_id, "delivery %s is %s, but not counted for the metrics: %s",
                d->key, outcome, e.msg);
    buf_free(&l);
    buf_free(&dead);
}

int delivery_defer(const struct spool *s, struct delivery *d, const char *why,
                   double not_before, bool unsure, struct err *e)
{
    json_object_set_new(d->json, "tries", json_integer(d->tries + 1));
    json_object_set_new(d->json, "not_before", json_real(not_before));
    json_object_set_new(d->json, "unsure", json_boolean(unsure || d->unsure));
    json_object_set_new(d->json, "last_error", jsonutil_text(why, strlen(why)));
    d->tries++;
    d->not_before = not_before;
    d->unsure = unsure || d->unsure;
    int rc = settle(s, d, DELIVERY_PENDING, e);
    if (rc == 0)
        count_settled(s, d, "retried", NULL);
    return rc;
}

int delivery_done(const struct spool *s, struct delivery *d, const char *note, struct err *e)
{
    json_object_set_new(d->json, "tries", json_integer(d->tries + 1));
    json_object_set_new(d->json, "note", jsonutil_text(note, strlen(note)));
    set_now(d->json, "done_at");
    int rc = settle(s, d, DELIVERY_DONE, e);
    if (rc == 0)
        count_settled(s, d, "delivered", NULL);
    return rc;
}

int delivery_dead(const struct spool *s, struct delivery *d, const char *category,
                  const char *reason, struct err *e)
{
    json_object_set_new(d->json, "tries", json_integer(d->tries + 1));
    json_object_set_new(d->json, "category", json_string(category));
    json_object_set_new(d->json, "reason", jsonutil_text(reason, strlen(reason)));
    set_now(d->json, "dead_at");
    int rc = settle(s, d, DELIVERY_DEAD, e);
    if (rc == 0)
        count_settled(s, d, "dead", category);
    return rc;
}

int delivery_recover(const struct spool *s, struct err *e)
{
    struct fs_list l;
    if (delivery_list(s, DELIVERY_SENDING, &l) < 0) {
        fs_list_free(&l);
        return err_set(e, "out of memory listing %s/", DELIVERY_SENDING);
    }
    int moved = 0, rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        struct delivery d;
        struct err why;
        if (delivery_load(s, DELIVERY_SENDING, l.names[i], &d, &why) < 0) {
            /* unreadable: moved back as it is; taking it again dead-letters it */
            rc = move_delivery(s, l.names[i], DELIVERY_SENDING, DELIVERY_PENDING, e) < 0 ? -1 : 0;
        } else {
            json_object_set_new(d.json, "unsure", json_true());
            rc = settle(s, &d, DELIVERY_PENDING, e);
            delivery_free(&d);
        }
        moved += rc == 0;
    }
    fs_list_free(&l);
    return rc < 0 ? -1 : moved;
}

int delivery_bury(const struct spool *s, const char *key, const char *why, struct err *e)
{
    char *rel = NULL;
    if (asprintf(&rel, "%s/%s.reason", DELIVERY_DEAD, key) < 0)
        return err_set(e, "out of memory");
    char line[1100];
    int n = snprintf(line, sizeof line, "%s\n", why);
    int rc = spool_write(s, rel, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, e);
    free(rel);
    return rc < 0 ? -1 : move_delivery(s, key, DELIVERY_PENDING, DELIVERY_DEAD, e);
}

int delivery_retry(const struct spool *s, const char *key, struct err *e)
{
    struct delivery d;
    char *rel = delivery_rel(DELIVERY_DEAD, key), *path = rel ? spool_path(s, "%s", rel) : NULL;
    bool there = path && fs_exists(path);
    free(path);
    free(rel);
    if (!there)
        return 1;
    if (delivery_load(s, DELIVERY_DEAD, key, &d, e) < 0)
        return -1;
    json_object_set_new(d.json, "tries", json_integer(0));
    json_object_set_new(d.json, "not_before", json_real(0));
    json_object_del(d.json, "dead_at");
    json_object_del(d.json, "reason");
    json_object_del(d.json, "category");
    int rc = write_delivery(s, DELIVERY_DEAD, key, d.json, e);
    if (rc == 0)
        rc = move_delivery(s, key, DELIVERY_DEAD, DELIVERY_PENDING, e);
    delivery_free(&d);
    return rc;
}

static size_t count_state(const struct spool *s, const char *state, int *rc)
{
    struct fs_list l;
    if (delivery_list(s, state, &l) < 0)
        *rc = -1;
    size_t n = l.n;
    fs_list_free(&l);
    return n;
}

int delivery_count(const struct spool *s, struct delivery_counts *c)
{
    int rc = 0;
    c->pending = count_state(s, DELIVERY_PENDING, &rc);
    c->sending = count_state(s, DELIVERY_SENDING, &rc);
    c->done = count_state(s, DELIVERY_DONE, &rc);
    c->dead = count_state(s, DELIVERY_DEAD, &rc);
    return rc;
}
