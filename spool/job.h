/* job.h - a job file (v1, DESIGN.md section 2; docs/SPOOL.md). */
#ifndef ASSAY_JOB_H
#define ASSAY_JOB_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "spool/spool.h"

struct job {
    json_t *json;               /* the file; the strings below live in it */
    const char *id, *course, *assignment, *student, *submission;
    const char *priority;       /* "interactive" or "batch" */
    const char *capability;
    const char *token;          /* NULL before the first attempt */
    long long version;
    int attempt;
    double queued_at;           /* seconds since the epoch */
    double submitted_at;        /* when the student submitted (a regrade keeps
                                   it; lateness is measured from it) */
    double not_before;          /* deferred: retry no earlier than this */
};

/* Makes a new job (attempt 0, no token) for a submission already copied
 * to submissions/COURSE/ASSIGNMENT/STUDENT/VERSION; NULL if out of memory. */
json_t *job_new(const char *course, const char *assignment, const char *student,
                long long version, bool batch, const char *capability);
/* Reads and checks a job; on -1 *e says what is wrong (for failed/.reason). */
int job_load(const char *path, struct job *job, struct err *e);
/* Takes over J (a reference), checks it, fills JOB. */
int job_from_json(json_t *j, struct job *job, struct err *e);
void job_free(struct job *job);
/* Re-reads the fields after the JSON changed. */
int job_refresh(struct job *job, struct err *e);
/* "submissions/..."-style path of the job's result directory. */
char *job_result_rel(const struct job *job);
/* Where its id index lives: jobs/ID, a second name (hard link) of the job
 * file as it was queued. */
char *job_index_rel(const char *id);
/* The result directory (job_result_rel) of the job whose index is at
 * PATH, or NULL if there is none.  Spools from before the index was a
 * link hold the relative path as one line of text; both are read. */
char *job_result_rel_from_index(const char *path);

#endif
