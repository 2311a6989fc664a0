/*
 * queue.c - admin operations on the queue: where is a job, move it.
 *
 * Used by `assay hold|release|requeue|regrade` and `assay submit`.  Like
 * everything in the spool, a move is one rename; when the job's content
 * changes too (requeue resets its attempts), the new content is written
 * in place atomically first, then the file is renamed.
 */
#define _GNU_SOURCE
#include "spool/queue.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/job.h"

char *queue_locate(const struct spool *s, const char *id)
{
    const char *states[] = {SPOOL_INCOMING, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED};
    for (int i = 0; i < 4; i++) {
        char *p = spool_path(s, "%s/%s.json", states[i], id);
        bool there = fs_exists(p);
        free(p);
        if (there)
            return strdup(states[i]);
    }
    char *dir = spool_path(s, SPOOL_SHIPPERS);
    DIR *d = opendir(dir);
    free(dir);
    char *found = NULL;
    struct dirent *de;
    while (d && !found && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *p = spool_path(s, SPOOL_SHIPPERS "/%s/%s.json", de->d_name, id);
        if (fs_exists(p) && asprintf(&found, SPOOL_SHIPPERS "/%s", de->d_name) < 0)
            found = NULL;
        free(p);
    }
    if (d)
        closedir(d);
    return found;
}

int queue_move(const struct spool *s, const char *id, const char *from, const char *to,
               void (*edit)(json_t *job), struct err *e)
{
    char *src = NULL, *dst = NULL;
    int rc = -1;
    if (asprintf(&src, "%s/%s.json", from, id) < 0 || asprintf(&dst, "%s/%s.json", to, id) < 0)
        goto done;
    if (edit) {
        char *path = spool_path(s, "%s", src);
        json_t *j = jsonutil_load_file(path, 1u << 20, e);
        free(path);
        if (!j)
            goto done;
        edit(j);
        rc = spool_write_json(s, src, j, e);
        json_decref(j);
        if (rc < 0)
            goto done;
    }
    rc = spool_move(s, src, dst, e);
done:
    free(src);
    free(dst);
    return rc;
}

int queue_quarantine(const struct spool *s, const char *dir, const char *name, const char *why,
                     struct err *e)
{
    size_t n = strlen(name);
    int base = n > 5 && !strcmp(name + n - 5, ".json") ? (int)(n - 5) : (int)n;
    char *from = NULL, *to = NULL, *reason = NULL, *text = NULL;
    int rc = -1;
    if (asprintf(&from, "%s/%s", dir, name) > 0 && asprintf(&to, SPOOL_FAILED "/%s", name) > 0 &&
        asprintf(&reason, SPOOL_FAILED "/%.*s.reason", base, name) > 0 &&
        asprintf(&text, "%s/%s: %s\n", dir, name, why) > 0 &&
        spool_write(s, reason, text, strlen(text), e) == 0)
        rc = spool_move(s, from, to, e);
    free(from);
    free(to);
    free(reason);
    free(text);
    return rc;
}

int queue_enqueue(const struct spool *s, json_t *job, struct err *e)
{
    struct job j;
    if (job_from_json(json_incref(job), &j, e) < 0)
        return -1;
    char *index = job_index_rel(j.id), *incoming = NULL;
    int rc = -1;
    if (asprintf(&incoming, SPOOL_INCOMING "/%s.json", j.id) > 0)
        rc = spool_write_json_linked(s, incoming, job, index, e);
    free(index);
    free(incoming);
    job_free(&j);
    return rc;
}
