/*
 * forge.c - the forges assay-intake fetches from, by name (forge.h).
 */
#include "intake/forge.h"

#include <string.h>

static const struct intake_forge *const forges[] = {&intake_github, &intake_gitlab, NULL};

const struct intake_forge *intake_forge_find(const char *name)
{
    for (int i = 0; name && forges[i]; i++)
        if (!strcmp(forges[i]->name, name))
            return forges[i];
    return NULL;
}
