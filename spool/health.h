/* health.h - what the shippers last learnt about each worker. */
#ifndef ASSAY_HEALTH_H
#define ASSAY_HEALTH_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"
#include "spool/spool.h"
#include "spool/workers.h"

/* health/WORKER.json: {"worker", "status": "up" | "down" | "refusing",
 * "since", "last_contact", "reason", "version", "free_mb"} */

/* Records STATUS (with REASON, NULL when up) and INFO (from a probe, may
 * be NULL).  "since" is kept while the status stays the same; the file is
 * rewritten only when something changed or last_contact is 10 s old.
 * Returns 1 when the status or reason changed, 0 when not, -1 on error. */
int health_record(const struct spool *s, const char *worker, const char *status,
                  const char *reason, const json_t *info, struct err *e);
/* The record of WORKER, or NULL if no shipper wrote one yet. */
json_t *health_read(const struct spool *s, const char *worker);
/* True unless the record says "down" or "refusing". */
bool health_available(const json_t *record);

/* WORKER's line for `assay workers` and assay-web's admin page: {name,
 * transport, host, status (or "disabled", "unknown"), since, reason,
 * last_contact, slots, busy, capabilities, version, free_mb}. */
json_t *health_worker_row(const struct spool *s, const struct worker_cfg *w);
/* A batch system's pool as a health record keeps it ("pool": the slurm
 * transport's partition, its nodes, the jobs pending and running in it),
 * as one line into OUT: "Slurm partition P UP: nodes 3 idle, ...; Assay
 * jobs 2 pending and 4 running in Slurm"; "" when POOL is not an object.
 * Its text is Slurm's: shown through text_visible or escaped in HTML. */
void health_pool_line(const json_t *pool, char *out, size_t n);

#endif
