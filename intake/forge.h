/* forge.h - what assay-intake needs of a forge to fetch a pushed commit:
 * the address of the commit's zip archive and how the token is sent.
 * One file per forge (forge_github.c, forge_gitlab.c), found by name in
 * forge.c's table. */
#ifndef ASSAY_INTAKE_FORGE_H
#define ASSAY_INTAKE_FORGE_H

#include <jansson.h>

#include "spool/forges.h"

struct intake_forge {
    const char *name;           /* "github": the push files' "forge" */
    const char *label;          /* "GitHub" */
    /* The archive of the push's commit (malloc'd), from API_URL and the
     * push file PUSH; NULL if memory ran out. */
    char *(*archive_url)(const char *api_url, const json_t *push);
    /* The request headers: the token's (TOKEN) and the forge's own,
     * each "Name: value" into OUT (at most N); returns how many. */
    int (*headers)(const char *token, char **out, int n);
    /* What to tell an admin when the archive is refused with STATUS
     * (401, 403, 404): the token's scopes, the repository's access. */
    const char *token_hint;
};

const struct intake_forge *intake_forge_find(const char *name);

extern const struct intake_forge intake_github, intake_gitlab;

#endif
