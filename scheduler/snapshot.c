/*
 * snapshot.c - the scheduler's view of incoming/, for `assay status` and
 * assay-web's /metrics.
 *
 * With 100,000 jobs queued, reading every job file takes `assay status`
 * over a second, and a /metrics scrape must take milliseconds; the
 * scheduler already holds them all in memory.  At start-up and shortly
 * after the pending set changes (at most every SNAPSHOT_DELAY_MS) it
 * writes SPOOL/scheduler.json (atomically, not durably: it is only a
 * view, rebuilt from the spool at every start, and removed at a clean
 * stop):
 *
 *   { "pid": 123, "written_at": 1790000000.1, "incoming": 100000,
 *     "courses": { "cs101": {"incoming": 90000, "oldest_queued_at": ...} },
 *     "capabilities": { "gpu": {"incoming": 3, "jobs": [ {job, course,
 *                       assignment, student}, ... first 50 by age ] } },
 *     "queue": { "cs101": { "python": {"interactive": 10, "batch": 89990} } } }
 *
 * cmd_status.c uses it for large queues while this scheduler runs, and
 * reads the job files otherwise; spool/queue_view.c reads it for
 * /metrics.  Its size grows with the courses and capabilities, never
 * with the jobs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "scheduler/scheduler.h"

#define SNAPSHOT_DELAY_MS 200
#define SNAPSHOT_JOBS_PER_CAPABILITY 50

static void count_queued(json_t *queue, const struct sched_job *j)
{
    json_t *c = json_object_get(queue, j->course);
    if (!c) {
        c = json_object();
        json_object_set_new(queue, j->course, c);
    }
    json_t *k = json_object_get(c, j->capability);
    if (!k) {
        k = json_pack("{s:i, s:i}", "interactive", 0, "batch", 0);
        json_object_set_new(c, j->capability, k);
    }
    const char *prio = j->batch ? "batch" : "interactive";
    json_object_set_new(k, prio, json_integer(json_integer_value(json_object_get(k, prio)) + 1));
}

static void count_job(json_t *courses, json_t *caps, const struct sched_job *j)
{
    json_t *c = json_object_get(courses, j->course);
    if (!c) {
        c = json_pack("{s:i, s:f}", "incoming", 0, "oldest_queued_at", j->queued_at);
        json_object_set_new(courses, j->course, c);
    }
    json_object_set_new(c, "incoming", json_integer(json_integer_value(
                                           json_object_get(c, "incoming")) + 1));
    if (j->queued_at < json_real_value(json_object_get(c, "oldest_queued_at")))
        json_object_set_new(c, "oldest_queued_at", json_real(j->queued_at));
    json_t *k = json_object_get(caps, j->capability);
    if (!k) {
        k = json_pack("{s:i, s:[]}", "incoming", 0, "jobs");
        json_object_set_new(caps, j->capability, k);
    }
    json_object_set_new(k, "incoming", json_integer(json_integer_value(
                                           json_object_get(k, "incoming")) + 1));
}

/* The oldest few jobs of each capability: what status lists when no
 * worker can take that capability. */
static void keep_oldest(json_t *caps, const struct sched_job *j)
{
    json_t *list = json_object_get(json_object_get(caps, j->capability), "jobs");
    size_t n = json_array_size(list), at = n;
    while (at > 0 && json_real_value(json_object_get(json_array_get(list, at - 1),
                                                     "queued_at")) > j->queued_at)
        at--;
    if (at >= SNAPSHOT_JOBS_PER_CAPABILITY)
        return;
    json_array_insert_new(list, at, json_pack("{s:s, s:s, s:s, s:s, s:f}", "job", j->id,
                                              "course", j->course, "assignment", j->assignment,
                                              "student", j->student, "queued_at", j->queued_at));
    if (json_array_size(list) > SNAPSHOT_JOBS_PER_CAPABILITY)
        json_array_remove(list, SNAPSHOT_JOBS_PER_CAPABILITY);
}

static void snapshot_write(uv_timer_t *t)
{
    struct sched *s = t->data;
    /* Written for any queue, even an empty one: /metrics reads it at every
     * scrape.  During a flood that is a small file 5 times a second. */
    s->snapshot_written = true;
    json_t *courses = json_object(), *caps = json_object(), *queue = json_object();
    for (size_t b = 0; b < SCHED_JOB_BUCKETS; b++)
        for (const struct sched_job *j = s->table[b]; j; j = j->hash_next) {
            count_job(courses, caps, j);
            count_queued(queue, j);
            keep_oldest(caps, j);
        }
    json_t *snap = json_pack("{s:i, s:f, s:I, s:o, s:o, s:o}", "pid", (int)getpid(), "written_at",
                             clock_wall(), "incoming", (json_int_t)s->n_pending, "courses",
                             courses, "capabilities", caps, "queue", queue);
    struct err e;
    if (spool_update_json(&s->spool, SPOOL_SCHEDULER_VIEW, snap, &e) < 0)
        log_msg(LOG_WARN, NULL, "cannot write %s for assay status and /metrics: %s", SPOOL_SCHEDULER_VIEW,
                e.msg);
    json_decref(snap);
}

void snapshot_init(struct sched *s)
{
    uv_timer_init(s->loop, &s->snapshot_timer);
    s->snapshot_timer.data = s;
    s->snapshot_written = true;   /* a killed predecessor's may be there */
    snapshot_changed(s);          /* the first view, once the start-up scan is done */
}

void snapshot_changed(struct sched *s)
{
    if (!s->stopping && !uv_is_active((uv_handle_t *)&s->snapshot_timer))
        uv_timer_start(&s->snapshot_timer, snapshot_write, SNAPSHOT_DELAY_MS, 0);
}

/* At a clean stop the view would go stale: status reads the files again. */
void snapshot_remove(struct sched *s)
{
    char *path = spool_path(&s->spool, "%s", SPOOL_SCHEDULER_VIEW);
    if (!path || (unlink(path) < 0 && errno != ENOENT))   /* ENOENT: there was none */
        log_msg(LOG_WARN, NULL, "cannot remove %s: %s; assay status may read a stale queue "
                "view while a scheduler runs", SPOOL_SCHEDULER_VIEW, strerror(errno));
    free(path);
    s->snapshot_written = false;
}
