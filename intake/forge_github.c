/*
 * forge_github.c - a pushed commit from GitHub: the REST API's zip
 * archive of the commit, GET /repos/{owner}/{repo}/zipball/{sha} (a
 * redirect to codeload.github.com, which libcurl follows without the
 * token), with a fine-grained token (Contents: read) or a classic one
 * (scope repo) as a Bearer token.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "common/jsonutil.h"
#include "intake/forge.h"

static char *github_archive_url(const char *api_url, const json_t *push)
{
    char *url = NULL;
    if (asprintf(&url, "%s/repos/%s/zipball/%s", api_url, jsonutil_str(push, "repository", ""),
                 jsonutil_str(push, "sha", "")) < 0)
        return NULL;
    return url;
}

static int github_headers(const char *token, char **out, int n)
{
    int k = 0;
    if (n < 3 || asprintf(&out[k++], "Authorization: Bearer %s", token) < 0)
        return -1;
    if (asprintf(&out[k++], "Accept: application/vnd.github+json") < 0 ||
        asprintf(&out[k++], "X-GitHub-Api-Version: 2022-11-28") < 0)
        return -1;
    return k;
}

const struct intake_forge intake_github = {
    .name = "github",
    .label = "GitHub",
    .archive_url = github_archive_url,
    .headers = github_headers,
    .token_hint = "the token in forges.json needs read access to the repository's contents "
                  "(fine-grained: Contents read, and Commit statuses read and write; classic: "
                  "scope repo)",
};
