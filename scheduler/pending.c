/*
 * pending.c - the scheduler's memory of incoming/ and deferred/.
 *
 * incoming/ is the truth; the scheduler keeps one small sched_job per
 * file there (id, capability, course, priority, age), indexed by id and
 * ordered by the policy.  It learns of new files from inotify events and
 * rebuilds everything from a directory scan at start-up and every
 * SCHED_RESCAN_MS as a safety net.  A file that is not a valid job goes
 * to failed/ with a .reason, and the scheduler carries on.  Deferred
 * jobs return to incoming/ when their backoff has passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
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

/* Capabilities and courses repeat across thousands of jobs: keep one copy. */
static const char *intern(const char *str)
{
    static char **pool;
    static size_t n;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(pool[i], str))
            return pool[i];
    char **grown = realloc(pool, (n + 1) * sizeof *pool);
    if (!grown)
        return "?";
    pool = grown;
    pool[n] = strdup(str);
    return pool[n++];
}

static void free_job(struct sched_job *j)
{
    for (int i = 0; i < j->n_avoid; i++)
        free(j->avoid[i]);
    free(j->avoid);
    free(j);
}

void pending_drop(struct sched *s, struct sched_job *j)
{
    struct sched_job **p = &s->table[hash_id(j->id)];
    while (*p && *p != j)
        p = &(*p)->hash_next;
    if (*p)
        *p = j->hash_next;
    s->policy->remove(s->policy, j);
    s->n_pending--;
    free_job(j);
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
    if (queue_quarantine(&s->spool, dir, name, why, &e) < 0)
        log_msg(LOG_ERROR, NULL, "%s", e.msg);
    log_msg(LOG_ERROR, NULL, "%s/%s is not a valid job and went to failed/: %s", dir, name, why);
}

static struct sched_job *job_summary(const struct job *job)
{
    struct sched_job *j = calloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "%s", job->id);
    j->capability = intern(job->capability);
    j->course = intern(job->course);
    j->batch = !strcmp(job->priority, "batch");
    j->queued_at = job->queued_at;
    const json_t *avoid = json_object_get(job->json, "failed_on");
    size_t i;
    const json_t *w;
    json_array_foreach(avoid, i, w) {
        if (!json_is_string(w))
            continue;
        char **grown = realloc(j->avoid, (size_t)(j->n_avoid + 1) * sizeof *grown);
        if (!grown)
            break;
        j->avoid = grown;
        j->avoid[j->n_avoid++] = strdup(json_string_value(w));
    }
    return j;
}

/* Reads incoming/NAME into the pending set (or quarantines it). */
static void load_incoming(struct sched *s, const char *name)
{
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
    struct job job;
    struct err e;
    if (!fs_exists(path)) {
        free(path);
        return;
    }
    if (job_load(path, &job, &e) < 0) {
        quarantine(s, SPOOL_INCOMING, name, e.msg);
    } else if (strncmp(name, job.id, strlen(job.id)) || strcmp(name + strlen(job.id), ".json")) {
        quarantine(s, SPOOL_INCOMING, name, "the file name does not match the job's id");
        job_free(&job);
    } else {
        if (!pending_find(s, job.id)) {
            struct sched_job *j = job_summary(&job);
            unsigned long h = hash_id(j->id);
            j->hash_next = s->table[h];
            s->table[h] = j;
            s->n_pending++;
            s->policy->add(s->policy, j);
            if (!workers_can_take(&s->workers, j->capability))
                log_msg(LOG_WARN, j->id, "waiting: no enabled worker offers capability \"%s\"",
                        j->capability);
        }
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
    if (!job_file_name_ok(name)) {
        char *p = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
        if (fs_exists(p))
            quarantine(s, SPOOL_INCOMING, name, "not a job file (job files are named ID.json)");
        free(p);
        return;
    }
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)(strlen(name) - 5), name);
    char *path = spool_path(&s->spool, SPOOL_INCOMING "/%s", name);
    bool there = fs_exists(path);
    free(path);
    struct sched_job *j = pending_find(s, id);
    if (there && !j)
        load_incoming(s, name);
    else if (!there && j)
        pending_drop(s, j);   /* held or requeued elsewhere by an admin */
}

void pending_scan(struct sched *s)
{
    char *dir = spool_path(&s->spool, SPOOL_INCOMING);
    DIR *d = opendir(dir);
    free(dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        if (job_file_name_ok(de->d_name))
            pending_on_event(s, de->d_name);
        else
            quarantine(s, SPOOL_INCOMING, de->d_name, "not a job file (job files are named ID.json)");
    }
    if (d)
        closedir(d);
    /* forget jobs whose files went away while no event said so */
    for (size_t b = 0; b < SCHED_JOB_BUCKETS; b++) {
        struct sched_job *j = s->table[b];
        while (j) {
            struct sched_job *next = j->hash_next;
            char *p = spool_path(&s->spool, SPOOL_INCOMING "/%s.json", j->id);
            if (!fs_exists(p))
                pending_drop(s, j);
            free(p);
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
    char *dir = spool_path(&s->spool, SPOOL_DEFERRED);
    DIR *d = opendir(dir);
    free(dir);
    double now = clock_wall(), next = INFINITY;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!job_file_name_ok(de->d_name))
            continue;
        char *path = spool_path(&s->spool, SPOOL_DEFERRED "/%s", de->d_name);
        struct job job;
        struct err e;
        if (job_load(path, &job, &e) < 0) {
            quarantine(s, SPOOL_DEFERRED, de->d_name, e.msg);
        } else if (job.not_before <= now) {
            char *from = NULL, *to = NULL;
            if (asprintf(&from, SPOOL_DEFERRED "/%s", de->d_name) > 0 &&
                asprintf(&to, SPOOL_INCOMING "/%s", de->d_name) > 0 &&
                spool_move(&s->spool, from, to, &e) == 0)
                log_msg(LOG_INFO, job.id, "retrying after backoff (attempt %d next)", job.attempt + 1);
            free(from);
            free(to);
            job_free(&job);
        } else {
            next = fmin(next, job.not_before);
            job_free(&job);
        }
        free(path);
    }
    if (d)
        closedir(d);
    s->deferred_timer.data = s;
    if (isfinite(next))
        uv_timer_start(&s->deferred_timer, on_deferred_timer,
                       (uint64_t)fmax(1, (next - now) * 1000 + 5), 0);
}
