/* canary.h - the canary gradings: one tiny built-in assignment per test
 * kind, with a known score, graded on a worker exactly as a student's
 * job is, so that what a worker lacks (a Python package, the
 * interpreter, a working sandbox, a Gradescope setup.sh) is found
 * before a student's grading finds it.  `assay workers check` sends them
 * through the shipper's transport (assay-shipper --canary);
 * `assay-worker canary` drops them in a worker's own inbox. */
#ifndef ASSAY_CANARY_H
#define ASSAY_CANARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"

/* A canary result older than this is nobody's any more: a shipper's
 * tidying of its worker's outbox may drop it. */
#define CANARY_MAX_AGE_S 3600.0

struct canary_file {
    const char *path;       /* in the job archive: "assignment/..." or "submission/..." */
    const char *data;       /* its text (built into the binary) */
};

struct canary {
    const char *kind;                   /* the test kind it checks: "io", "pytest", ... */
    const struct canary_file *files;    /* ends with {NULL, NULL} */
    double score;                       /* what a worker with everything scores: full marks */
};

/* The canaries, one per test kind that needs something of a worker, in
 * the order they are run; *N of them. */
const struct canary *canary_all(size_t *n);
/* The canary of KIND, or NULL. */
const struct canary *canary_find(const char *kind);

/* The wall-clock seconds canary C's tests may take, summed (the limits
 * of its assignment.json). */
double canary_wall_s(const struct canary *c);

/* The archive name of a new canary grading of KIND made at NOW (seconds
 * since the epoch): "canary-<seconds>-<kind>.<token>.zip".  -1 if it
 * does not fit in N bytes. */
int canary_archive_name(char *out, size_t n, const char *kind, double now);
/* True when the archive NAME belongs to a canary made less than
 * CANARY_MAX_AGE_S before NOW: a canary may still be waiting for it. */
bool canary_archive_fresh(const char *name, double now);

/* Writes canary C's job archive into FD (an empty file or a memfd; left
 * open): job.json with ID, assignment/ and submission/.  SETUP, when
 * not NULL, is the LEN bytes of a Gradescope autograder's setup.sh,
 * added as assignment/autograder/setup.sh: the gradescope canary then
 * tells whether that exact setup.sh has been run on the worker. */
int canary_pack(const struct canary *c, int fd, const char *name, const char *id,
                const char *setup, size_t len, struct err *e);

/* What canary C's grading says: from its results.json R, or, when R is
 * NULL, from WHY (no result came back); "seconds" is the worker's
 * grading time (SECONDS, the wait, when it does not say).  LABEL names it ("notebook",
 * "gradescope cs101/hw3").  {"canary", "kind", "ok", "score", "expected",
 * "seconds", "problems": [...]}, each problem one sentence ("missing:
 * Python module IPython (Debian package python3-ipython)"); NULL when
 * memory ran out. */
json_t *canary_judge(const struct canary *c, const char *label, const json_t *r,
                     const char *why, double seconds);

/* The words after "LABEL: " for outcome O: "ok (3 of 3 points, 0.4 s)",
 * "MISSING: ..." when all that is wrong is missing, else "FAILED: ...".
 * Untrusted text (a worker's) as it came: print it through text_visible. */
int canary_describe(const json_t *o, struct buf *out);

#endif
