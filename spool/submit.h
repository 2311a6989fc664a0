/* submit.h - a staged submission stored as a student's next version and
 * queued: the one way every intake (assay submit, a git push) submits. */
#ifndef ASSAY_SUBMIT_H
#define ASSAY_SUBMIT_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "spool/spool.h"

struct submit_request {
    const char *course, *assignment, *student;
    bool batch;              /* low priority (bulk regrading) */
    const json_t *origin;    /* NULL, or where it came from (a git push): kept in the job as
                              * "origin", and its commit status "pending" is queued */
};

/* The capability COURSE/ASSIGNMENT asks for ("python" if it says none or
 * has no assignment.json; *MISSING then says the latter); malloc'd, NULL
 * if memory ran out. */
char *submit_capability(const struct spool *s, const char *course, const char *assignment,
                        bool *missing);

/* Moves the staged folder DIR (in the spool's tmp/, synced) to
 * submissions/COURSE/ASSIGNMENT/STUDENT/VERSION, the next free version,
 * and queues a job for it.  Returns the job (the caller's reference), or
 * NULL with *e saying why; then nothing is left in submissions/ (DIR
 * itself is the caller's to remove). */
json_t *submit_staged(const struct spool *s, const struct submit_request *r, const char *dir,
                      struct err *e);

#endif
