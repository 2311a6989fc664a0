/*
 * forge_gitlab.c - a pushed commit from GitLab: the repository archive
 * API, GET /projects/:id/repository/archive.zip?sha=SHA, with an access
 * token (scope read_api, or api to post statuses) in PRIVATE-TOKEN.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "common/jsonutil.h"
#include "intake/forge.h"

static char *gitlab_archive_url(const char *api_url, const json_t *push)
{
    char *url = NULL;
    if (asprintf(&url, "%s/projects/%lld/repository/archive.zip?sha=%s", api_url,
                 (long long)json_integer_value(json_object_get(push, "project_id")),
                 jsonutil_str(push, "sha", "")) < 0)
        return NULL;
    return url;
}

static int gitlab_headers(const char *token, char **out, int n)
{
    if (n < 1 || asprintf(&out[0], "PRIVATE-TOKEN: %s", token) < 0)
        return -1;
    return 1;
}

const struct intake_forge intake_gitlab = {
    .name = "gitlab",
    .label = "GitLab",
    .archive_url = gitlab_archive_url,
    .headers = gitlab_headers,
    .token_hint = "the token in forges.json needs the scope api (read_api is enough to fetch, "
                  "api also posts statuses) and at least the Reporter role in the project",
};
