/* record.h - recording a job's result in results/. */
#ifndef ASSAY_RECORD_H
#define ASSAY_RECORD_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "spool/job.h"
#include "spool/spool.h"

/* Who graded the attempt and when, as the primary saw it. */
struct record_info {
    const char *worker;         /* NULL when no worker was involved */
    int slot;
    double started_at, finished_at;
};

/* Records DIR (holding results.json and any log files) as JOB's result:
 * adds the queue history to results.json, writes the student view, and
 * moves DIR to results/COURSE/ASSIGNMENT/STUDENT/VERSION in one rename.
 * Returns 0 when recorded, 1 when this attempt's result was already there
 * (a repeat: nothing changes and DIR is removed), -1 on error. */
int record_result(const struct spool *s, const struct job *job, const char *dir,
                  const struct record_info *info, struct err *e);

/* The results.json recorded in the result directory REL (job_result_rel),
 * or NULL when there is none or it cannot be read (readers of results
 * show what they can; the recorder wrote it whole or not at all). */
json_t *record_read(const struct spool *s, const char *rel);
/* The result of the newest version of STUDENT's work to COURSE/ASSIGNMENT
 * that has one (*VERSION, if not NULL, gets that version), or NULL. */
json_t *record_latest(const struct spool *s, const char *course, const char *assignment,
                      const char *student, long long *version);

/* True when RESULTS (a results.json) is the result of JOB's current
 * attempt: same job id and attempt token. */
bool record_is_of(const json_t *results, const struct job *job);

/* Brings the recorded result of STUDENT's version VERSION up to date
 * with the grades people gave its answers (spool/manual.c, which calls
 * it holding manual_lock): scores, late penalty and the student's view
 * rewritten, each file atomically.  -1 with *E. */
int record_refresh_manual(const struct spool *s, const char *course, const char *asg,
                          const char *student, long long version, struct err *e);

/* Records a result saying the job could not be graded: CATEGORY is
 * "submission", "assignment" or "infrastructure"; MESSAGE is the one
 * sentence a person can act on. */
int record_error(const struct spool *s, const struct job *job, const char *category,
                 const char *message, const struct record_info *info, struct err *e);

/* Records that JOB was not graded because a newer version of the same
 * student's submission (job NEWER_ID, version NEWER_VERSION) replaced it
 * while it was queued: assay.status "superseded", score 0 of 0. */
int record_superseded(const struct spool *s, const struct job *job, const char *newer_id,
                      long long newer_version, struct err *e);

#endif
