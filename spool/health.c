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
#include "spool/scan.h"

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

/* How many of W's slots hold a job now. */
static int busy_slots(const struct spool *s, const struct worker_cfg *w)
{
    int busy = 0;
    for (int k = 1; k <= worker_shippers(w); k++) {
        char rel[200];
        snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s.%d", w->name, k);
        busy += scan_count_jobs(s, rel) > 0;
    }
    return busy;
}

json_t *health_worker_row(const struct spool *s, const struct worker_cfg *w)
{
    json_t *h = health_read(s, w->name);
    json_t *caps = json_array();
    for (size_t i = 0; i < w->n_capabilities; i++)
        json_array_append_new(caps, json_string(w->capabilities[i]));
    const char *status = !w->enabled ? "disabled" : h ? jsonutil_str(h, "status", "?") : "unknown";
    /* shown as written: the host (a Slurm pool's slurmrestd, "url") is
     * its transport's key to read */
    const char *host = jsonutil_str(w->entry, "host", jsonutil_str(w->entry, "url", "-"));
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "name", w->name,
                            "transport", w->transport, "host", host,
                            "status", status, "since", jsonutil_str(h, "since", ""),
                            "reason", jsonutil_str(h, "reason", ""),
                            "last_contact", jsonutil_str(h, "last_contact", ""),
                            "slots", w->slots, "busy", busy_slots(s, w), "capabilities", caps);
    json_object_set(row, "version", json_object_get(h, "version") ? json_object_get(h, "version")
                                                                  : json_null());
    json_object_set(row, "free_mb", json_object_get(h, "free_mb") ? json_object_get(h, "free_mb")
                                                                  : json_null());
    if (json_is_object(json_object_get(h, "pool")))   /* a Slurm pool's partition and jobs */
        json_object_set(row, "pool", json_object_get(h, "pool"));
    json_decref(h);
    return row;
}

void health_pool_line(const json_t *pool, char *out, size_t n)
{
    out[0] = '\0';
    if (!json_is_object(pool))
        return;
    const json_t *nodes = json_object_get(pool, "nodes");
    snprintf(out, n, "Slurm partition %s %s: nodes %.0f idle, %.0f allocated, %.0f mixed, "
             "%.0f down, %.0f drained; Assay jobs %.0f pending and %.0f running in Slurm",
             jsonutil_str(pool, "partition", "?"), jsonutil_str(pool, "state", "?"),
             jsonutil_num(nodes, "idle", 0), jsonutil_num(nodes, "allocated", 0),
             jsonutil_num(nodes, "mixed", 0), jsonutil_num(nodes, "down", 0),
             jsonutil_num(nodes, "drained", 0), jsonutil_num(pool, "pending", 0),
             jsonutil_num(pool, "running", 0));
}
