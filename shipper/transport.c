/*
 * transport.c - the transports, found by name.
 *
 * One file per transport (transport_local.c, transport_ssh.c,
 * transport_slurm.c), each with
 * its struct transport_kind: its workers.json keys, how it checks them,
 * how it opens.  A new transport adds a line to the table and nothing
 * else changes.  assay-shipper is the only program that links them (with
 * libssh2 and OpenSSL); the scheduler and `assay workers` have their keys
 * checked by `assay-shipper --check-config`.
 */
#include "shipper/transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct transport_kind *const kinds[] = {&transport_local, &transport_ssh,
                                                      &transport_slurm, NULL};

const struct transport_kind *transport_find(const char *name)
{
    for (int i = 0; kinds[i]; i++)
        if (!strcmp(kinds[i]->name, name))
            return kinds[i];
    return NULL;
}

static void names_of_kinds(char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; kinds[i]; i++)
        snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? ", " : "", kinds[i]->name);
}

void transports_check(const struct workers *w, struct problems *p)
{
    const json_t *list = json_object_get(w->json, "workers");
    for (size_t i = 0; i < w->n; i++) {
        char where[64];
        snprintf(where, sizeof where, "$.workers[%zu]", i);
        const struct transport_kind *k = transport_find(w->v[i].transport);
        if (k) {
            k->check(json_array_get(list, i), where, p);
        } else {
            char known[200];
            names_of_kinds(known, sizeof known);
            problems_add(p, where, "transport \"%s\" is not one Assay has (%s)", w->v[i].transport,
                         known);
        }
    }
}

struct transport *transport_open(const struct worker_cfg *worker, const char *root,
                                 struct err *e)
{
    const struct transport_kind *k = transport_find(worker->transport);
    if (!k) {
        err_set(e, "worker %s: transport \"%s\" is not available in this build", worker->name,
                worker->transport);
        return NULL;
    }
    return k->open(worker, root, e);
}
