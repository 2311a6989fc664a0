/*
 * dest_gitlab.c - the GitLab destination: a commit status on a pushed
 * commit, POST /projects/:id/statuses/:sha with {"state", "description",
 * "name", "target_url"}; states pending, running, success, failed
 * (commit_status.c says which).  GitLab refuses to post the state a
 * commit already has (400, "Cannot transition status"), which here
 * means it was sent before.  The token (forges.json "token_file") needs
 * the scope api and the Developer role.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "deliver/commit_status.h"

static char *gitlab_url(const char *api_url, const json_t *origin)
{
    char *url = NULL;
    if (asprintf(&url, "%s/projects/%lld/statuses/%s", api_url,
                 (long long)json_integer_value(json_object_get(origin, "project_id")),
                 jsonutil_str(origin, "sha", "")) < 0)
        return NULL;
    return url;
}

static bool gitlab_already(long status, const char *body)
{
    return status == 400 && strstr(body, "Cannot transition status") != NULL;
}

static const struct status_forge gitlab = {
    .name = "gitlab",
    .label = "GitLab",
    .states = {"pending", "running", "success", "failed", "failed"},
    .context_key = "name",
    .accept = "application/json",
    .url = gitlab_url,
    .already = gitlab_already,
    .max_description = 255,
};

static enum dest_step gitlab_begin(struct dest_exchange *x)
{
    return status_begin(x, &gitlab);
}

static enum dest_step gitlab_answer(struct dest_exchange *x, const struct dest_answer *a)
{
    return status_answer(x, &gitlab, a);
}

static void gitlab_end(struct dest_exchange *x)
{
    (void)x;   /* no state of its own */
}

const struct dest_kind dest_gitlab = {
    .name = "gitlab",
    .block = "git",
    .max_batch = 1,
    .check = status_check,
    .begin = gitlab_begin,
    .answer = gitlab_answer,
    .end = gitlab_end,
};
