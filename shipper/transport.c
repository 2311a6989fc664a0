/*
 * transport.c - picks the transport a worker's config names.
 *
 * One file per transport (transport_local.c, transport_ssh.c); a new one
 * adds a line here and nothing else changes.
 */
#include "shipper/transport.h"

#include <stdlib.h>
#include <string.h>

struct transport *transport_open(const struct worker_cfg *worker, const char *root,
                                 struct err *e)
{
    if (!strcmp(worker->transport, "local"))
        return transport_local_new(worker, e);
    if (!strcmp(worker->transport, "ssh"))
        return transport_ssh_new(worker, root, e);
    err_set(e, "worker %s: transport \"%s\" is not available in this build", worker->name,
            worker->transport);
    return NULL;
}

void transport_free_names(char **names)
{
    for (size_t i = 0; names && names[i]; i++)
        free(names[i]);
    free(names);
}
