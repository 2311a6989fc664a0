/* spool.h - the spool: a directory tree whose layout is the queue's state. */
#ifndef ASSAY_SPOOL_H
#define ASSAY_SPOOL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "contract/installation.h"

#define SPOOL_DEFAULT_ROOT "/var/spool/assay"

/* The queue states a job file can be in (DESIGN.md section 2). */
#define SPOOL_INCOMING "incoming"
#define SPOOL_DEFERRED "deferred"
#define SPOOL_HOLD "hold"
#define SPOOL_FAILED "failed"
#define SPOOL_SHIPPERS "shippers"
/* The running scheduler's summary of incoming/ (scheduler/snapshot.c). */
#define SPOOL_SCHEDULER_VIEW "scheduler.json"
/* assay status reads the scheduler's view of a queue this long or longer
 * (below it, reading every job file is quick); the scheduler keeps the
 * view for any queue while it runs, for /metrics. */
#define SPOOL_VIEW_MIN_JOBS 2000

struct spool {
    char *root;
};

/* Creates the layout under ROOT (existing parts are kept) and, if there is
 * none, a workers.json with one local worker of two slots, and IN as its
 * "installation" (NULL: none, the unnamed installation). */
int spool_init(const char *root, const struct installation *in, struct err *e);
/* Opens an existing spool (checks the layout is there). */
int spool_open(struct spool *s, const char *root, struct err *e);
void spool_close(struct spool *s);
/* The spool root given by --spool, $ASSAY_SPOOL or the default. */
const char *spool_root_from(const char *opt);

/* malloc'd ROOT/<printf(fmt, ...)> */
char *spool_path(const struct spool *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes DATA to tmp/, fsyncs it, renames it to REL and fsyncs REL's
 * directory: readers of REL's directory never see a partial file, and
 * once it returns 0 the file survives a power cut. */
int spool_write(const struct spool *s, const char *rel, const void *data, size_t len,
                struct err *e);
int spool_write_json(const struct spool *s, const char *rel, const json_t *j, struct err *e);
/* spool_write for a secret (users.json): the file is mode 0600 from the
 * moment it is created. */
int spool_write_private(const struct spool *s, const char *rel, const void *data, size_t len,
                        struct err *e);
/* The same, and ALSO becomes a second name of the file (a hard link: one
 * file written and synced, where a copy would be two). */
int spool_write_json_linked(const struct spool *s, const char *rel, const json_t *j,
                            const char *also, struct err *e);
/* The same without any fsync, for a file whose loss in a power cut is harmless
 * (the shipper's note of an attempt: a reverted job just gets a new token). */
int spool_update_json(const struct spool *s, const char *rel, const json_t *j, struct err *e);
/* One atomic state change: rename FROM to TO (both relative), then fsync
 * TO's directory and FROM's, so the change survives a power cut and is not
 * undone by half.  Returns 1 when FROM is not there (another process moved
 * it first). */
int spool_move(const struct spool *s, const char *from, const char *to, struct err *e);
/* A fresh directory under tmp/ for building something before renaming it
 * into place; malloc'd absolute path. */
char *spool_tmpdir(const struct spool *s, const char *prefix, struct err *e);

/* The slot directory name of WORKER's slot SLOT: "WORKER.SLOT". */
void spool_slot_name(char *out, size_t n, const char *worker, int slot);

/* Wakes whoever waits for job ID's result (`assay submit --wait` leaves a
 * FIFO notify/ID); does nothing if nobody waits. */
void spool_notify(const struct spool *s, const char *id);

/* True for names usable as course, assignment, student and worker names:
 * letters, digits, '-', '_', '.', '@', not starting with '.', at most 64. */
bool spool_name_is_valid(const char *name);

#endif
