/*
 * batch.c - the last bulk grading of an assignment (grade all, regrade
 * all), kept in courses/C/A/batch.json:
 *
 *   {"started_at": "...Z", "by": "ada", "jobs": [{"id", "student", "rel"}, ...]}
 *
 * so that whoever looks later (the web console's live progress, another
 * instructor) can tell how far it is: a job is done once results/REL
 * holds its result (same job id) or it went to failed/.  Written by
 * `assay grade-all`, `assay regrade` and the web console's actions; it is
 * a convenience, never the queue's state.
 */
#include "spool/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/queue.h"
#include "spool/record.h"

#define BATCH_MAX_BYTES (64u << 20)

int batch_save(const struct spool *s, const char *course, const char *asg, const json_t *queued,
               const char *who, struct err *e)
{
    char when[32], rel[300];
    clock_iso8601(clock_wall(), when);
    snprintf(rel, sizeof rel, "courses/%s/%s/batch.json", course, asg);
    json_t *doc = json_pack("{s:s, s:s, s:O}", "started_at", when, "by", who, "jobs", queued);
    int rc = doc ? spool_update_json(s, rel, doc, e) : err_set(e, "out of memory");
    json_decref(doc);
    return rc;
}

/* Whether job Q of the batch has ended: recorded, or failed. */
static int job_state(const struct spool *s, const json_t *q)
{
    const char *id = jsonutil_str(q, "id", "");
    json_t *r = record_read(s, jsonutil_str(q, "rel", ""));
    bool done = r && !strcmp(jsonutil_str(json_object_get(r, "assay"), "job_id", ""), id);
    json_decref(r);
    if (done)
        return 1;
    char *state = queue_locate(s, id);
    int st = state && !strcmp(state, SPOOL_FAILED) ? 2 : 0;
    free(state);
    return st;
}

void batch_progress(const struct spool *s, const char *course, const char *asg,
                    struct batch_progress *p)
{
    memset(p, 0, sizeof *p);
    p->eta_s = -1;
    char *path = spool_path(s, "courses/%s/%s/batch.json", course, asg);
    struct err e;   /* no batch file, or an unreadable one: no bulk grading to show */
    json_t *doc = path && fs_exists(path) ? jsonutil_load_file(path, BATCH_MAX_BYTES, &e) : NULL;
    free(path);
    if (!doc || !clock_parse_iso8601(jsonutil_str(doc, "started_at", ""), &p->started_at)) {
        json_decref(doc);
        p->started_at = 0;
        return;
    }
    snprintf(p->by, sizeof p->by, "%s", jsonutil_str(doc, "by", "?"));
    size_t i;
    const json_t *q;
    json_array_foreach(json_object_get(doc, "jobs"), i, q) {
        int st = job_state(s, q);
        p->total++;
        p->done += st != 0;
        p->failed += st == 2;
    }
    json_decref(doc);
    p->elapsed_s = clock_wall() - p->started_at;
    p->rate = p->elapsed_s > 0 ? (double)p->done / p->elapsed_s : 0;
    if (p->done == p->total)
        p->eta_s = 0;
    else if (p->rate > 0)
        p->eta_s = (double)(p->total - p->done) / p->rate;
}
