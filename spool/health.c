/*
 * health.c - health/WORKER.json: up, down (since when, why) or refusing
 * jobs (low disk), with the worker's version, free disk and last contact.
 *
 * Written by the shippers, which are the ones talking to workers (their
 * probes, and each heartbeat heard while a job waits); read by
 * the scheduler (which gives no job to a worker that is down or refusing)
 * and by `assay workers` and `assay status`.  Several shippers of one
 * worker share the file; each write is atomic and the last one wins.
 */
#define _GNU_SOURCE
#include "spool/health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"

#define CONTACT_REFRESH_S 10.0

json_t *health_read(const struct spool *s, const char *worker)
{
    char *path = spool_path(s, "health/%s.json", worker);
    struct err e;   /* unreadable counts as no record: the next probe writes a fresh one */
    json_t *j = fs_exists(path) ? jsonutil_load_file(path, 65536, &e) : NULL;
    free(path);
    return j;
}

bool health_available(const json_t *record)
{
    const char *status = jsonutil_str(record, "status", "up");
    return strcmp(status, "down") && strcmp(status, "refusing");
}

int health_record(const struct spool *s, const char *worker, const char *status,
                  const char *reason, const json_t *info, struct err *e)
{
    json_t *old = health_read(s, worker);
    double now = clock_wall(), contact = 0;
    const char *old_status = jsonutil_str(old, "status", "");
    const char *old_reason = jsonutil_str(old, "reason", "");
    clock_parse_iso8601(jsonutil_str(old, "last_contact", ""), &contact);
    bool same = !strcmp(old_status, status) && !strcmp(old_reason, reason ? reason : "");
    /* a pool of machines behind one worker (a Slurm partition): its
     * counts are news too */
    const json_t *pool = json_object_get(info, "pool");
    bool pool_news = pool && !json_equal(pool, json_object_get(old, "pool"));
    bool up = strcmp(status, "down") != 0;
    if (same && !pool_news && (!up || now - contact < CONTACT_REFRESH_S)) {
        json_decref(old);
        return 0;
    }
    char stamp[32];
    clock_iso8601(now, stamp);
    json_t *rec = json_pack("{s:s, s:s, s:s, s:s}", "worker", worker, "status", status,
                            "since", same ? jsonutil_str(old, "since", stamp) : stamp,
                            "reason", reason ? reason : "");
    json_object_set_new(rec, "last_contact", up ? json_string(stamp)
                                                : json_string(jsonutil_str(old, "last_contact", "")));
    /* a heartbeat heard during a job says free disk but not the version */
    const char *keys[] = {"version", "free_mb", "pool"};
    for (int i = 0; i < 3; i++) {
        json_t *v = json_object_get(info, keys[i]);
        if (!v)
            v = json_object_get(old, keys[i]);
        json_object_set(rec, keys[i], v ? v : json_null());
    }
    char *rel = NULL;
    int rc = asprintf(&rel, "health/%s.json", worker) < 0 ? err_set(e, "out of memory")
                                                          : spool_write_json(s, rel, rec, e);
    if (rc == 0)
        rc = !same;
    free(rel);
    json_decref(rec);
    json_decref(old);
    return rc;
}
