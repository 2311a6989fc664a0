/*
 * submit.c - storing a staged submission as a student's next version and
 * queueing its job: `assay submit` and the git intake both end here.
 *
 * The staged folder is renamed to submissions/COURSE/ASSIGNMENT/STUDENT/
 * VERSION with RENAME_NOREPLACE, so two submissions at once get two
 * versions.  The job file is written last: once it is in incoming/,
 * everything it points to exists.  Each step syncs the directories it
 * changed, so the caller may say "queued" once this returns.  A
 * submission from a push (an "origin") gets its commit status "pending"
 * queued first (spool/delivery.c).
 */
#define _GNU_SOURCE
#include "spool/submit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "contract/assignment.h"
#include "spool/delivery.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scan.h"

char *submit_capability(const struct spool *s, const char *course, const char *assignment,
                        bool *missing)
{
    char *dir = spool_path(s, "courses/%s/%s", course, assignment);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    assignment_summary_load(dir, &sum, &ignored);
    char *path = fs_join(dir, "assignment.json");
    *missing = !fs_exists(path);
    char *cap = strdup(sum.capability);
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(path);
    free(dir);
    return cap;
}

/* Moves the staged DIR to the student's next free version number. */
static long long place_submission(const struct spool *s, const struct submit_request *r,
                                  const char *dir, struct err *e)
{
    char *parent = spool_path(s, "submissions/%s/%s/%s", r->course, r->assignment, r->student);
    if (fs_mkdir_p_durable(parent, 0755, e) < 0) {   /* NULL too: out of memory */
        free(parent);
        return -1;
    }
    /* the next version after the newest; another submit may take it
     * first, so rename without replacing and try the next */
    long long first = spool_latest_version(s, "submissions", r->course, r->assignment,
                                           r->student) + 1;
    err_set(e, "no free version number from %lld to %lld in %s", first, first + 999, parent);
    for (long long v = first; v < first + 1000; v++) {
        char *target = NULL;
        if (asprintf(&target, "%s/%lld", parent, v) < 0) {
            err_set(e, "out of memory");
            break;
        }
        int rc = renameat2(AT_FDCWD, dir, AT_FDCWD, target, RENAME_NOREPLACE);
        int saved = errno;
        /* the version is on disk before the job that names it can be */
        if (rc == 0 && fs_sync_dir(parent, e) < 0) {
            struct err ignored;   /* *e says why nothing was queued; a leftover is only untidy */
            fs_remove_tree(target, &ignored);
            free(target);
            break;
        }
        free(target);
        if (rc == 0) {
            free(parent);
            return v;
        }
        if (saved != EEXIST && saved != ENOTEMPTY) {
            errno = saved;
            err_sys(e, "cannot store the submission in %s", parent);
            break;
        }
    }
    free(parent);
    return -1;
}

/* A push's commit status "pending", queued before the job is: a shipper
 * may take the job at once, and its "running" must come after. */
static int queue_pending_status(const struct spool *s, json_t *job, struct err *e)
{
    struct job j;
    int rc = job_from_json(json_incref(job), &j, e);
    if (rc == 0)
        rc = delivery_queue_commit_status(s, &j, "pending", NULL, e) < 0 ? -1 : 0;
    job_free(&j);
    return rc;
}

json_t *submit_staged(const struct spool *s, const struct submit_request *r, const char *dir,
                      struct err *e)
{
    bool missing;
    char *cap = submit_capability(s, r->course, r->assignment, &missing);
    long long version = cap ? place_submission(s, r, dir, e) : err_set(e, "out of memory");
    json_t *job = version > 0 ? job_new(r->course, r->assignment, r->student, version, r->batch,
                                        cap) : NULL;
    free(cap);
    if (version > 0 && !job)
        err_set(e, "out of memory");
    if (job && r->origin && (json_object_set(job, "origin", (json_t *)r->origin) < 0 ||
                             queue_pending_status(s, job, e) < 0)) {
        json_decref(job);
        job = NULL;
    }
    if (job && queue_enqueue(s, job, e) < 0) {
        json_decref(job);
        job = NULL;
    }
    if (!job && version > 0) {   /* keep nothing half-made */
        char *sub = spool_path(s, "submissions/%s/%s/%s/%lld", r->course, r->assignment,
                               r->student, version);
        struct err rm;
        if (fs_remove_tree(sub, &rm) < 0) {
            char why[sizeof e->msg];
            snprintf(why, sizeof why, "%s", e->msg);
            err_set(e, "%s; and %s: remove it by hand", why, rm.msg);
        }
        free(sub);
    }
    return job;
}
