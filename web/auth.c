/*
 * auth.c - who is asking.
 */
#include "web/auth.h"

#include <stdlib.h>

struct auth_state {
    const struct spool *spool;
    const struct web_config *config;
};

struct auth_state *auth_new(const struct spool *s, const struct web_config *c)
{
    struct auth_state *a = calloc(1, sizeof *a);
    if (a) {
        a->spool = s;
        a->config = c;
    }
    return a;
}

void auth_free(struct auth_state *a)
{
    free(a);
}

void auth_identify(struct auth_state *a, struct web_request *req, struct web_user *user)
{
    (void)a, (void)user;
    req->user = NULL;
}

bool auth_csrf_ok(const struct web_request *req)
{
    (void)req;
    return false;
}

bool auth_may(const struct web_request *req, enum web_access access)
{
    (void)req, (void)access;
    return false;
}
