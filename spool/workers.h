/* workers.h - workers.json: the worker machines and their slots. */
#ifndef ASSAY_WORKERS_H
#define ASSAY_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "contract/installation.h"
#include "spool/spool.h"

/* The transport of a worker this spool's scheduler runs itself, on this
 * machine: its "dir" and "sandbox" are read here, for the scheduler starts
 * its assay-worker.  Every other transport reads its own keys
 * (shipper/transport.h). */
#define WORKER_LOCAL "local"

/* The keys every worker may have, whatever its transport. */
extern const char *const worker_common_keys[];
/* ... and those of a local worker. */
extern const char *const worker_local_keys[];

struct worker_cfg {
    const char *name;
    const char *transport;      /* "local", "ssh", ...: shipper/transport.c */
    const json_t *entry;        /* its object in workers.json, for its transport */
    bool local;                 /* transport "local": the scheduler runs it */
    char *dir;                  /* local: the worker directory (absolute) */
    const char *sandbox;        /* local: assay-worker --sandbox; NULL: its default */
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
    struct installation installation;   /* "installation": whose names local workers use */
    struct worker_cfg *v;
    size_t n;
};

/* Loads S's workers.json: the keys every worker has, and a local
 * worker's; every problem is listed in *p.  Each transport checks its own
 * keys (and unknown ones): see workers_check_transports. */
int workers_load(const struct spool *s, struct workers *w, struct problems *p);
/* The "installation" of workers.json's DOC ({"name", "uids"}; without
 * it, the unnamed installation) into *IN; every problem is added to *P. */
void workers_installation(const json_t *doc, struct installation *in, struct problems *p);
/* Has assay-shipper (in BINDIR) check every worker's transport keys
 * (`assay-shipper --check-config`); each problem it names is added to *P.
 * Returns 0, or -1 with a problem saying why it could not be asked. */
int workers_check_transports(const struct spool *s, const char *bindir, struct problems *p);
void workers_free(struct workers *w);
bool worker_offers(const struct worker_cfg *w, const char *capability);
/* How many shippers (spool slots W.1 .. W.n) serve W: slots + prefetch. */
int worker_shippers(const struct worker_cfg *w);
const struct worker_cfg *workers_find(const struct workers *w, const char *name);
/* True if some enabled worker offers CAPABILITY. */
bool workers_can_take(const struct workers *w, const char *capability);

#endif
