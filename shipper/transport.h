/* transport.h - how a shipper reaches its worker: the interface. */
#ifndef ASSAY_TRANSPORT_H
#define ASSAY_TRANSPORT_H

#include <jansson.h>

#include "common/err.h"
#include "spool/workers.h"

/* Jobs and results travel as archives named "<job id>.<token>.zip".
 * Every call has a time limit and returns -1 (with *e set) on failure. */
struct transport {
    const struct transport_ops *ops;
    const struct worker_cfg *worker;
};

struct transport_ops {
    const char *name;
    /* Delivers the archive in the open file FD (read from its start, left
     * open) to the worker's inbox as NAME, atomically (a temporary name,
     * then a rename).  Delivering a job the worker already has is not an
     * error. */
    int (*push)(struct transport *t, int fd, const char *name, struct err *e);
    /* Waits until the result NAME is ready, without fixed-interval
     * polling.  1 ready, 0 timed out, -1 error. */
    int (*wait)(struct transport *t, const char *name, double timeout_s, struct err *e);
    /* Opens the result NAME for reading: *FD is a file the caller closes
     * (the worker's own file, or a copy in memory). */
    int (*pull)(struct transport *t, const char *name, int *fd, struct err *e);
    /* Removes what is left of NAME on the worker (queued job, result). */
    void (*forget)(struct transport *t, const char *name);
    /* Lists the result names waiting on the worker; malloc'd, NULL-terminated. */
    char **(*results)(struct transport *t);
    /* Checks the worker answers: on 0, *info is {"version", "free_mb",
     * "inbox", "active", "outbox"}; on -1, *e says why it does not. */
    int (*probe)(struct transport *t, json_t **info, struct err *e);
    void (*destroy)(struct transport *t);
};

/* Opens the transport that WORKER's config names (ROOT: the spool root). */
struct transport *transport_open(const struct worker_cfg *worker, const char *root,
                                 struct err *e);
struct transport *transport_local_new(const struct worker_cfg *worker, struct err *e);
/* ROOT is the spool root, against which relative key paths resolve. */
struct transport *transport_ssh_new(const struct worker_cfg *worker, const char *root,
                                    struct err *e);
void transport_free_names(char **names);

#endif
