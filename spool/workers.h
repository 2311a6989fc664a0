/* workers.h - workers.json: the worker machines and their slots. */
#ifndef ASSAY_WORKERS_H
#define ASSAY_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "spool/spool.h"

struct worker_cfg {
    const char *name;
    const char *transport;      /* "local" or "ssh" */
    char *dir;                  /* local: the worker directory (absolute) */
    const char *host, *user, *key, *known_hosts, *remote_dir;
    const char *worker_command;  /* ssh: how to run assay-worker there */
    const char *sandbox;        /* local: assay-worker --sandbox (namespace, rlimit) */
    int port;
    int slots;                  /* jobs graded at once */
    int prefetch;               /* jobs it holds beyond its slots, so a freed slot
                                 * starts the next at once; one shipper each */
    double timeout_margin_s;    /* added to a job's limits before giving up on it */
    double min_free_mb;         /* below this free disk the worker takes no new jobs */
    const char **capabilities;
    size_t n_capabilities;
    bool enabled;
    bool available;             /* runtime: not down or refusing (health.c); true on load */
};

struct workers {
    json_t *json;               /* owns the strings */
    struct worker_cfg *v;
    size_t n;
};

/* Loads S's workers.json; every problem is listed in *p. */
int workers_load(const struct spool *s, struct workers *w, struct problems *p);
void workers_free(struct workers *w);
bool worker_offers(const struct worker_cfg *w, const char *capability);
/* How many shippers (spool slots W.1 .. W.n) serve W: slots + prefetch. */
int worker_shippers(const struct worker_cfg *w);
const struct worker_cfg *workers_find(const struct workers *w, const char *name);
/* True if some enabled worker offers CAPABILITY. */
bool workers_can_take(const struct workers *w, const char *capability);

#endif
