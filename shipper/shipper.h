/* shipper.h - assay-shipper: one process per worker slot. */
#ifndef ASSAY_SHIPPER_H
#define ASSAY_SHIPPER_H

#include <stdbool.h>

#include "shipper/transport.h"
#include "spool/spool.h"
#include "spool/workers.h"

#define SHIPPER_MAX_ATTEMPTS 3
#define SHIPPER_BACKOFF_S 1.0     /* first retry delay; doubles per attempt */
#define SHIPPER_BACKOFF_MAX_S 300.0

struct shipper {
    struct spool spool;
    struct workers workers;
    const struct worker_cfg *worker;
    int slot;
    char slot_name[160];          /* "WORKER.SLOT" */
    char *slot_dir;               /* shippers/WORKER.SLOT (relative) */
    struct transport *transport;
    /* The clock (seconds since the epoch); NULL: the wall clock.  Unit
     * tests drive the job lifecycle on a simulated one. */
    double (*now)(void *ctx);
    void *now_ctx;
};

/* The shipper's clock. */
double shipper_now(const struct shipper *sh);

/* Ships the job file NAME of the slot directory until its result is
 * recorded, or it is deferred or failed.  Returns -1 when the worker
 * failed it (it may be down), else 0. */
int shipper_ship_job(struct shipper *sh, const char *name);
/* Probes the worker and records its health (health/WORKER.json); logs a
 * change.  Returns true when the worker can take jobs. */
bool shipper_check_worker(struct shipper *sh);
/* Drops results on the worker that belong to no current attempt (a
 * canary's, canary.c, while it may still be awaited, is left alone). */
void shipper_drop_stale(struct shipper *sh);
/* Grades the canaries (contract/canary.h) on the worker through the
 * transport: a JSON list of their outcomes (canary_judge), or NULL
 * with why in *E.  Records nothing in the spool (canary.c). */
json_t *shipper_canaries(struct shipper *sh, struct err *e);

#endif
