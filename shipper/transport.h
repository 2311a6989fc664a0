/* transport.h - how a shipper reaches its worker: the interface. */
#ifndef ASSAY_TRANSPORT_H
#define ASSAY_TRANSPORT_H

#include <jansson.h>
#include <stdlib.h>

#include "common/err.h"
#include "spool/workers.h"

/* Jobs and results travel as archives named "<job id>.<token>.zip".
 * Every call has a time limit and returns -1 (with *e set) on failure.
 *
 * Liveness: a worker is alive when its host answers and its grading
 * daemon's heartbeat is fresh (contract/heartbeat.h).  probe() checks
 * both; wait() hears the worker at least every TRANSPORT_HEAR_S while it
 * waits, and gives up at once, saying which, when the link, the host or
 * the daemon stops answering: the job in flight is not left to its
 * deadline. */

/* wait() hears from the worker this often; silence for TRANSPORT_SILENT_S
 * is a link that died (the transport tries one new connection first). */
#define TRANSPORT_HEAR_S 1.0
#define TRANSPORT_SILENT_S 3.0

/* Who hears the worker while wait() waits. */
struct transport_listener {
    /* INFO: what the worker said ({"free_mb", "daemon"}), each time it
     * speaks; the caller keeps its health up to date with it. */
    void (*heard)(void *ctx, const json_t *info);
    void *ctx;
};
/* What the job pushed next asks of the worker, set by the shipper before
 * push: a transport that reserves resources for each job (slurm) reads
 * it, the others need not. */
struct transport_needs {
    double seconds;             /* the longest the job may take (the shipper's timeout) */
    long memory_mb;             /* the assignment's memory limit for one run */
};

struct transport {
    const struct transport_ops *ops;
    const struct worker_cfg *worker;
    struct transport_needs needs;
};

struct transport_ops {
    const char *name;
    /* Delivers the archive in the open file FD (read from its start, left
     * open) to the worker's inbox as NAME, atomically (a temporary name,
     * then a rename).  Delivering a job the worker already has is not an
     * error. */
    int (*push)(struct transport *t, int fd, const char *name, struct err *e);
    /* Waits until the result NAME is ready, without fixed-interval
     * polling of the result.  1 ready, 0 timed out, -1 error: the worker
     * stopped answering (its link, host or grading daemon; *e says which)
     * or the wait itself failed.  LISTENER (may be NULL) hears the
     * worker meanwhile. */
    int (*wait)(struct transport *t, const char *name, double timeout_s,
                const struct transport_listener *listener, struct err *e);
    /* Opens the result NAME for reading: *FD is a file the caller closes
     * (the worker's own file, or a copy in memory). */
    int (*pull)(struct transport *t, const char *name, int *fd, struct err *e);
    /* Removes what is left of NAME on the worker (queued job, result).
     * FINISHED: a result of NAME has been seen, so nothing of it can be
     * running still; otherwise a transport that runs jobs (Slurm) stops
     * one it has not seen end.  Another shipper of the same worker may be
     * forgetting the same name at the same moment. */
    void (*forget)(struct transport *t, const char *name, bool finished);
    /* Lists the result names waiting on the worker; malloc'd, NULL-terminated. */
    char **(*results)(struct transport *t);
    /* Checks the worker answers and its grading daemon's heartbeat is
     * fresh: on 0, *info is {"version", "free_mb", "daemon", and perhaps
     * "inbox", "active", "outbox"}; on -1, *e says why it does not: the
     * host, the link, the login, the inbox or the daemon. */
    int (*probe)(struct transport *t, json_t **info, struct err *e);
    void (*destroy)(struct transport *t);
};

/* A kind of transport, found by the name a worker's "transport" gives.
 * Each owns its keys in the worker's workers.json entry: it checks them
 * and reads them when it opens; the spool reads only the keys every
 * worker has (spool/workers.h). */
struct transport_kind {
    const char *name;
    /* Adds every problem with ENTRY's keys of this transport (an unknown
     * key included) to *P, each as "PATH.key: reason". */
    void (*check)(const json_t *entry, const char *path, struct problems *p);
    /* Opens the transport to WORKER; ROOT is the spool root, against
     * which relative paths in its entry resolve. */
    struct transport *(*open)(const struct worker_cfg *worker, const char *root, struct err *e);
};

extern const struct transport_kind transport_local, transport_ssh, transport_slurm;

/* By name; NULL if there is no such transport. */
const struct transport_kind *transport_find(const char *name);
/* Checks the transport keys of every worker in W, as workers_load checks
 * the rest: every problem with its JSON path. */
void transports_check(const struct workers *w, struct problems *p);
/* Opens the transport that WORKER's config names (ROOT: the spool root). */
struct transport *transport_open(const struct worker_cfg *worker, const char *root,
                                 struct err *e);
/* Frees what results() returned. */
static inline void transport_free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}

#endif
