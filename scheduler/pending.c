/*
 * pending.c - the scheduler's memory of incoming/ and deferred/.
 *
 * incoming/ is the truth; the scheduler keeps one small sched_job per
 * file there (id, capability, course, priority, age), indexed by id and
 * ordered by the policy.  It learns of new files from inotify events and
 * rebuilds everything from a directory scan at start-up and every
 * SCHED_RESCAN_MS as a safety net (in name order, which is creation
 * order, so every queue grows at its tail; 100,000 jobs load in about a
 * second and a half).  A file that is not a valid job goes to failed/
 * with a .reason, and the scheduler carries on.  A job of an assignment
 * without tests is recorded on arrival, and a newer version supersedes a
 * queued older one where the course asks for it (bypass.c).  Deferred
 * jobs return to incoming/ when their backoff has passed.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scan.h"

static unsigned long hash_id(const char *id)
{
    unsigned long h = 5381;
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = h * 33 + *p;
    return h % SCHED_JOB_BUCKETS;
}

struct sched_job *pending_find(struct sched *s, const char *id)
{
    for (struct sched_job *j = s->table[hash_id(id)]; j; j = j->hash_next)
        if (!strcmp(j->id, id))
            return j;
    return NULL;
}

static void free_job(struct sched_job *j)
{
    for (int i = 0; i < j->n_avoid; i++)
        free(j->avoid[i]);
    free(j->avoid);
    free(j);
}

/* "COURSE/ASSIGNMENT/STUDENT": whose versions supersede each other. */
static void submitter_key(const struct sched_job *j, char *out, size_t n)
{
    snprintf(out, n, "%s/%s/%s", j->course, j->assignment, j->student);
}

void pending_drop(struct sched *s, struct sched_job *j)
{
    char key[200];
    submitter_key(j, key, sizeof key);
    struct strmap_entry *newest = strmap_get(&s->newest, key, false);
    if (newest && newest->value == j)
        strmap_del(&s->newest, key);
    struct sched_job **p = &s->table[hash_id(j->id)];
    while (*p && *p != j)
        p = &(*p)->hash_next;
    if (*p)
        *p = j->hash_next;
    s->policy->remove(s->policy, j);
    s->n_pending--;
    free_job(j);
    snapshot_changed(s);
}

void pending_free_all(struct sched *s)
{
    for (size_t b = 0; b < SCHED_JOB_BUCKETS; b++)
        while (s->table[b])
            pending_drop(s, s->table[b]);
}

/* Moves a file that is not a valid job out of the way, saying why. */
static void quarantine(struct sched *s, const char *dir, const char *name, const char *why)
{
    struct err e;
    if (queue_fail(&s->spool, dir, name, NULL, why, NULL, clock_wall(), &e) < 0)
        log_msg(LOG_ERROR, NULL, "cannot move %s/%s to failed/: %s", dir, name, e.msg);
}

static struct sched_job *job_summary(struct sched *s, const struct job *job)
{
    struct sched_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    snprintf(j->id, sizeof j->id, "%s", job->id);
    j->capability = strmap_intern(&s->names, job->capability);
    j->course = strmap_intern(&s->names, job->course);
    j->assignment = strmap_intern(&s->names, job->assignment);
    j->student = strmap_intern(&s->names, job->student);
    j->version = job->version;
    j->batch = !strcmp(job->priority, "batch");
    j->queued_at = job->queued_at;
    j->cost = catalog_assignment(s, job->course, job->assignment)->cost;
    j->weight = catalog_course(s, job->course)->weight;
    j->seen = s->scan_mark;
    const json_t *avoid = json_object_get(job->json, "failed_on");
    size_t i;
    const json_t *w;
    json_array_foreach(avoid, i, w) {
        if (!json_is_string(w))
            continue;
        char **grown = realloc(j->avoid, (size_t)(j->n_avoid + 1) * sizeof *grown);
        if (grown)
            j->avoid = grown;
        if (!grown || !(j->avoid[j->n_avoid] = strdup(json_string_value(w)))) {
            free_job(j);   /* out of memory */
            return NULL;
        }
        j->n_avoid++;
    }
    return j;
}

/* In a course that supersedes, keeps only the newest queued version of
 * each student's submission to an assignment. */
static void supersede_older(struct sched *s, struct sched_job *j)
{
    if (!catalog_course(s, j->course)->supersede)
        return;
    char key[200];
    submitter_key(j, key, sizeof key);
    struct strmap_entry *e = strmap_get(&s->newest, key, true);
    struct sched_job *other = e ? e->value : NULL;
    if (e && !other) {
        e->value = j;
    } else if (other && other->version < j->version) {
        bypass_supersede(s, other, j);   /* drops OTHER and its entry */
        if ((e = strmap_get(&s->newest, key, true)))
            e->value = j;
    } else if (other && other->version > j->version) {
        bypass_supersede(s, j, other);   /* arrived late (a rescan): the old one goes */
    }
}

/* Says when no enabled worker offers J's capability: once a minute per
 * capability, not once per job of a 100,000-job queue. */
static void warn_if_stuck(struct sched *s, const struct sched_job *j)
{
    if (workers_can_take(&s->workers, j->capability))
        return;
    struct strmap_entry *e = strmap_get(&s->names, j->capability, false);
    double now = clock_mono(), *last = e ? e->value : NULL;
    if (e && !last && (last = malloc(sizeof *last)))
        *last = -1e9, e->value = last;
    if (last && now - *last < 60)
        return;
    if (last)
        *last = now;
    log_msg(LOG_WARN, j->id, "waiting: no enabled worker offers capability \"%s\" (said once "
            "a minute; `assay status` lists every such job)", j->capability);
}

static void add_pending(struct sched *s, const struct job *job)
{
    struct sched_job *j = job_summary(s, job);
    if (j)
        s->policy->add(s->policy, j);
    if (!j || !j->policy_node) {
        log_msg(LOG_ERROR, job->id, "out of memory queueing the job; the next rescan tries again");
        if (j)
            free_job(j);
        return;
    }
    unsigned long h = hash_id(j->id);
    j->hash_next = s->table[h];
    s->table[h] = j;
    s->n_pending++;
    snapshot_changed(s);
    warn_if_stuck(s, j);
    supersede_older(s, j);
}

/* Reads incoming/NAME into the pending set (or quarantines it). */
static void load_incoming(struct sched *s, const char *name)
{
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
    struct job job;
    struct err e;
    char id[64];
    if (job_load(path, &job, &e) < 0) {
        if (fs_exists(path))   /* not merely gone (held, dispatched) meanwhile */
            quarantine(s, SPOOL_INCOMING, name, e.msg);
    } else if (!job_name_to_id(name, id, sizeof id) || strcmp(id, job.id)) {
        quarantine(s, SPOOL_INCOMING, name, "the file name does not match the job's id");
        job_free(&job);
    } else {
        if (!pending_find(s, job.id) && !bypass_no_tests(s, &job))
            add_pending(s, &job);
        job_free(&job);
    }
    free(path);
}

void pending_on_event(struct sched *s, const char *name)
{
    if (!name) {
        pending_scan(s);
        return;
    }
    if (name[0] == '.')
        return;
    char id[64];
    if (!job_name_to_id(name, id, sizeof id)) {
        char *p = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
        if (fs_exists(p))
            quarantine(s, SPOOL_INCOMING, name, "not a job file (job files are named ID.json)");
        free(p);
        return;
    }
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
    bool there = fs_exists(path);
    free(path);
    struct sched_job *j = pending_find(s, id);
    if (there && !j)
        load_incoming(s, name);
    else if (!there && j)
        pending_drop(s, j);   /* held or requeued elsewhere by an admin */
}

/* Loads incoming/ oldest first (every queue grows at its tail) and moves
 * what is not a job file out of the way. */
void pending_scan(struct sched *s)
{
    struct fs_list sc;
    if (scan_spool(&s->spool, SPOOL_INCOMING, SCAN_JOBS, &sc) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing incoming/: the next scan reads the rest");
    for (size_t i = 0; i < sc.n_others; i++)
        quarantine(s, SPOOL_INCOMING, sc.others[i], "not a job file (job files are named ID.json)");
    s->scan_mark++;
    for (size_t i = 0; i < sc.n; i++) {
        char id[64];
        struct sched_job *j = job_name_to_id(sc.names[i], id, sizeof id) ? pending_find(s, id) : NULL;
        if (j)
            j->seen = s->scan_mark;
        else
            load_incoming(s, sc.names[i]);
    }
    fs_list_free(&sc);
    /* forget jobs whose files went away while no event said so */
    for (size_t b = 0; b < SCHED_JOB_BUCKETS; b++) {
        struct sched_job *j = s->table[b];
        while (j) {
            struct sched_job *next = j->hash_next;
            if (j->seen != s->scan_mark)
                pending_drop(s, j);
            j = next;
        }
    }
}

static void on_deferred_timer(uv_timer_t *t)
{
    deferred_scan(t->data);
}

/* Returns due deferred jobs to incoming/ and arms the timer for the next. */
void deferred_scan(struct sched *s)
{
    if (s->stopping)
        return;
    struct fs_list sc;
    if (scan_spool(&s->spool, SPOOL_DEFERRED, SCAN_JOBS, &sc) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing deferred/: the next scan reads the rest");
    double now = clock_wall(), next = INFINITY;
    for (size_t i = 0; i < sc.n; i++) {
        char *path = spool_path(&s->spool, SPOOL_DEFERRED "/%s", sc.names[i]);
        struct job job;
        struct err e;
        if (job_load(path, &job, &e) < 0) {
            if (fs_exists(path))   /* not merely requeued meanwhile */
                quarantine(s, SPOOL_DEFERRED, sc.names[i], e.msg);
        } else if (job.not_before > now) {
            next = fmin(next, job.not_before);
        } else {
            int rc = queue_retry(&s->spool, job.id, &e);
            if (rc < 0)
                log_msg(LOG_ERROR, job.id, "cannot return it to incoming/ after its backoff: %s",
                        e.msg);
            else if (rc == 0)   /* 1: an admin moved it meanwhile */
                log_msg(LOG_INFO, job.id, "retrying after backoff (attempt %d next)",
                        job.attempt + 1);
        }
        job_free(&job);
        free(path);
    }
    fs_list_free(&sc);
    s->deferred_timer.data = s;
    if (isfinite(next))
        uv_timer_start(&s->deferred_timer, on_deferred_timer,
                       (uint64_t)fmax(1, (next - now) * 1000 + 5), 0);
}
