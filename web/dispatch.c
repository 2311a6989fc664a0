/*
 * dispatch.c - the one path every request takes to its handler: the
 * route (routes.c) by method and pattern, the user (auth.c), the route's
 * access rule, the CSRF token of a form, then the handler.
 *
 * Refusals are decided here, not in handlers, so that the access matrix
 * is one table: an anonymous browser asking for a page is sent to the
 * login form (303), an anonymous script or form gets 401, a signed-in
 * user outside the rule gets 403, and a POST without its session's CSRF
 * token gets 403 before any handler runs.
 */
#define _GNU_SOURCE
#include "web/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "web/auth.h"
#include "web/html.h"

/* Copies the segment at P (up to '/' or the end) into a new string. */
static char *segment_dup(const char *p, size_t *len)
{
    *len = strcspn(p, "/");
    return strndup(p, *len);
}

int web_route_match(const char *pattern, const char *path, struct web_request *req)
{
    const char *p = pattern, *u = path;
    while (*p && *u) {
        if (*p != '{') {
            if (*p++ != *u++)
                return 0;
            continue;
        }
        const char *close = strchr(p, '}');
        size_t n;
        char *value = segment_dup(u, &n);
        if (!close || !value) {
            free(value);
            return close ? -1 : 0;
        }
        if (n == 0 || !spool_name_is_valid(value) || (req && req->nparams == WEB_MAX_PARAMS)) {
            free(value);
            return 0;
        }
        if (req) {
            req->param_names[req->nparams] = p + 1;     /* "name}..." : compared up to '}' */
            req->param_values[req->nparams++] = value;
        } else {
            free(value);
        }
        p = close + 1;
        u += n;
    }
    return !*p && !*u;
}

static void params_clear(struct web_request *req)
{
    for (int i = 0; i < req->nparams; i++)
        free(req->param_values[i]);
    req->nparams = 0;
}

const char *web_param(const struct web_request *req, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < req->nparams; i++)
        if (!strncmp(req->param_names[i], name, n) && req->param_names[i][n] == '}')
            return req->param_values[i];
    return "";
}

/* The route for REQ; *WRONG_METHOD when the path exists for other methods. */
static const struct web_route *find_route(struct web_request *req, bool *wrong_method)
{
    *wrong_method = false;
    for (const struct web_route *r = web_routes; r->method; r++) {
        if (web_route_match(r->pattern, req->path, NULL) != 1)
            continue;
        bool head = !strcmp(req->method, "HEAD") && !strcmp(r->method, "GET");
        if (strcmp(r->method, req->method) && !head) {
            *wrong_method = true;
            continue;
        }
        if (web_route_match(r->pattern, req->path, req) == 1)
            return r;
        params_clear(req);
        return NULL;
    }
    return NULL;
}

/* Anonymous: a browser asking for a page goes to the login form. */
static void refuse_anonymous(struct web_request *req, struct web_response *res)
{
    if (!strcmp(req->method, "GET") && !web_header(req, "Authorization")) {
        struct buf to = BUF_INIT;
        buf_puts(&to, "/login?next=");
        html_url_escape(&to, req->path);
        web_redirect(res, buf_str(&to));
        buf_free(&to);
        return;
    }
    web_respond_error(res, 401, "Sign in first.");
}

static bool access_checked(struct web_request *req, const struct web_route *r,
                           struct web_response *res)
{
    if (r->access == WEB_OPEN)
        return true;
    if (!req->user) {
        refuse_anonymous(req, res);
        return false;
    }
    if (!auth_may(req, r->access)) {
        web_respond_error(res, 403, "You may not see or do this.");
        return false;
    }
    if (!strcmp(req->method, "POST") && !req->user->via_token && !auth_csrf_ok(req)) {
        log_msg(LOG_WARN, NULL, "web: %s refused for %s from %s: missing or wrong CSRF token",
                req->path, req->user->name, req->peer);
        web_respond_error(res, 403, "This form has expired or did not come from this site: "
                          "reload the page and try again.");
        return false;
    }
    return true;
}

/* The methods REQ's path has routes for, as the Allow header of a 405. */
static void add_allow(const struct web_request *req, struct web_response *res)
{
    char allow[64] = "";
    for (const struct web_route *r = web_routes; r->method; r++)
        if (web_route_match(r->pattern, req->path, NULL) == 1 && !strstr(allow, r->method))
            snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
                     allow[0] ? ", " : "", r->method);
    web_add_header(res, "Allow", allow);
}

void web_dispatch(struct web_server *srv, struct web_request *req, struct web_response *res)
{
    struct web_user user;
    bool wrong_method;
    const struct web_route *r = find_route(req, &wrong_method);
    if (!r) {
        if (wrong_method)
            add_allow(req, res);
        web_respond_error(res, wrong_method ? 405 : 404,
                          wrong_method ? "That method is not allowed here." : "No such page.");
        return;
    }
    auth_identify(srv->auth, req, &user);
    if (req->new_cookie[0])
        web_add_header(res, "Set-Cookie", req->new_cookie);
    if (!access_checked(req, r, res))
        return;
    if (r->handler(req, res) < 0 && res->status < 400)
        web_respond_error(res, 500, "The server could not answer; the log says why.");
}
