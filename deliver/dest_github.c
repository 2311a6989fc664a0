/*
 * dest_github.c - the GitHub destination: a commit status on a pushed
 * commit, POST /repos/{owner}/{repo}/statuses/{sha} with
 * {"state", "description", "context", "target_url"}; states pending,
 * success, failure, error (commit_status.c says which).  The token
 * (forges.json "token_file") needs Commit statuses: write (fine-grained)
 * or the scope repo (classic).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "common/jsonutil.h"
#include "deliver/commit_status.h"

static char *github_url(const char *api_url, const json_t *origin)
{
    char *url = NULL;
    if (asprintf(&url, "%s/repos/%s/statuses/%s", api_url, jsonutil_str(origin, "repository", ""),
                 jsonutil_str(origin, "sha", "")) < 0)
        return NULL;
    return url;
}

static bool github_already(long status, const char *body)
{
    (void)status;
    (void)body;
    return false;   /* GitHub takes the same status again */
}

static const struct status_forge github = {
    .name = "github",
    .label = "GitHub",
    .states = {"pending", "pending", "success", "failure", "error"},
    .context_key = "context",
    .accept = "application/vnd.github+json",
    .url = github_url,
    .already = github_already,
    .max_description = 140,
};

static enum dest_step github_begin(struct dest_exchange *x)
{
    return status_begin(x, &github);
}

static enum dest_step github_answer(struct dest_exchange *x, const struct dest_answer *a)
{
    return status_answer(x, &github, a);
}

static void github_end(struct dest_exchange *x)
{
    (void)x;   /* no state of its own */
}

const struct dest_kind dest_github = {
    .name = "github",
    .block = "git",
    .max_batch = 1,
    .check = status_check,
    .begin = github_begin,
    .answer = github_answer,
    .end = github_end,
};
