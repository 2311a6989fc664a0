/* extensions.h - courses/<course>/<assignment>/extensions.json: students'
 * own due dates, read when a result is recorded and written by
 * `assay extensions`. */
#ifndef ASSAY_EXTENSIONS_H
#define ASSAY_EXTENSIONS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "contract/late.h"
#include "spool/spool.h"

/* What to do about a broken file; every report of one ends with it. */
#define EXTENSIONS_FIX "each entry is \"STUDENT\": {\"days\": N} or {\"due\": " \
    "\"2026-12-02T23:59:00Z\"}; correct the file (`assay extensions list` checks it; " \
    "`assay extensions grant|revoke` write it checked)"

/* Reads and checks COURSE/ASG's extensions.json (missing: no
 * extensions).  Returns the object (a new reference, empty when the file
 * is missing), or NULL when there is none to read (not JSON, not an
 * object, out of memory).  Every problem goes to *p as "FILE: $.alice.due:
 * what is wrong": a key that is no student name, an entry that is not
 * {"due": ISO 8601} or {"days": 0-365}, an unknown key.  LP (may be NULL)
 * gives "days" their base. */
json_t *extensions_load(const struct spool *s, const char *course, const char *asg,
                        const struct late_policy *lp, struct problems *p);

/* Checks EXT, the object of extensions.json (or one about to be
 * written): each problem, as "FILE: $.alice.days: what", goes to *p. */
void extensions_check(const json_t *ext, const char *file, const struct late_policy *lp,
                      struct problems *p);

/* STUDENT's due date for a result being recorded: their entry's if it
 * is valid, else the assignment's (*EXTENDED says which).  Returns 0
 * when that date is certain, or -1 when the file's problems could
 * change it (it cannot be read, the student's own entry is broken, or a
 * key is no student name and may be meant for anyone).  Every problem
 * of the file goes to *p either way: problems only in other students'
 * entries leave this one's date certain. */
int extensions_due_for(const struct spool *s, const char *course, const char *asg,
                       const char *student, const struct late_policy *lp, double *due,
                       bool *extended, struct problems *p);

/* Holds the assignment's extensions against other writers (an flock on
 * its directory) until the descriptor returned is closed; -1 with *e. */
int extensions_lock(const struct spool *s, const char *course, const char *asg, struct err *e);
/* Writes EXT as the file, whole or not at all, durably (spool_write_json). */
int extensions_save(const struct spool *s, const char *course, const char *asg,
                    const json_t *ext, struct err *e);

/* Gives STUDENT the extension ENTRY ({"days": N} or {"due": TIME}; NULL
 * takes theirs back) under the lock: the file as it would be is checked
 * first, and written only when it has no problem.  Takes ENTRY's
 * reference; *BEFORE (if not NULL) gets the student's entry as it was
 * (NULL: none).  -1 when nothing changed: the file's problems in *P, which
 * must be empty (it cannot be read, or would be broken), or why in *E
 * (*E's message is empty when P says it). */
int extensions_set(const struct spool *s, const char *course, const char *asg,
                   const char *student, json_t *entry, const struct late_policy *lp,
                   json_t **before, struct problems *p, struct err *e);
/* True when STUDENT has submitted anything to COURSE (any assignment). */
bool extensions_student_known(const struct spool *s, const char *course, const char *student);

#endif
