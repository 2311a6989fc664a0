/* web.h - what a handler of assay-web sees: the request, the response it
 * fills, and the route table that finds it.
 *
 * A handler is a short function that reads the spool through spool/ and
 * fills a struct web_response; it never blocks for long (the server is
 * one libuv loop) and never writes to the socket itself.
 *
 * To add a route: write the handler (int NAME(struct web_request *,
 * struct web_response *)) in the file of its page family or in a file of
 * its own, declare it in routes.h, and add one line to the table in
 * routes.c: {method, pattern, handler, access}.  The pattern is a path
 * whose segments are literal or "{name}" (one segment, any safe name,
 * read with web_param).  The access rule decides who reaches the
 * handler at all (web_access below); a handler on a course page still
 * asks auth_may_* for finer decisions.  Routes of WEB_OPEN (webhooks,
 * /metrics, the login form) need no session and no CSRF token; they get
 * the raw body (req->body, req->body_len) and every request header
 * (web_header) and do their own checks.  A POST on any other route is
 * refused with 403 before its handler runs unless its form carries the
 * session's CSRF token (field "csrf").
 */
#ifndef ASSAY_WEB_H
#define ASSAY_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "spool/spool.h"

struct web_server;
struct web_config;
struct session;
struct auth_state;

/* Who may reach a route (checked before the handler runs). */
enum web_access {
    WEB_OPEN,        /* anyone; no session, no CSRF (hooks, /metrics, login, stylesheet) */
    WEB_USER,        /* any signed-in user */
    WEB_STAFF,       /* admin, or instructor/TA of the course named by {course} */
    WEB_INSTRUCTOR,  /* admin, or instructor of {course} (not TA) */
    WEB_SELF,        /* admin, staff of {course}, or the student {student} himself */
    WEB_ADMIN,       /* admins only */
};

#define WEB_MAX_PARAMS 6

/* The signed-in user of a request (NULL when anonymous). */
struct web_user {
    char name[65];
    bool admin;
    bool via_token;            /* came with an API token, not a session */
};

struct web_request {
    const char *method;        /* "GET", "POST", ... */
    const char *path;          /* without the query */
    const char *peer;          /* the client's address, "127.0.0.1" (behind the trusted
                                * proxy: the one it names in X-Forwarded-For) */
    const char *via;           /* the address that connected (the proxy, if any) */
    const char *body;          /* the request body, NUL-terminated (may hold NULs) */
    size_t body_len;
    struct web_user *user;     /* NULL: anonymous */
    const struct session *session; /* the browser session, NULL for tokens and anonymous */
    const char *csrf;          /* the session's CSRF token for forms ("" none) */
    bool secure;               /* reached over TLS (config or trusted proxy) */
    char new_cookie[256];      /* a session made for this request (SSO): sent with the answer */
    const struct spool *spool;
    const struct web_config *config;
    struct auth_state *auth;   /* sessions and accounts (auth.h), for login and logout */
    const char *param_names[WEB_MAX_PARAMS];
    char *param_values[WEB_MAX_PARAMS];
    int nparams;
    void *conn;                /* the server's connection (web_header, web_query) */
    void *state;               /* the server's state of the request (web_defer) */
};

/* A response.  Handlers set status and body (or use web_respond_* below);
 * the server adds the security headers every page gets. */
struct web_response {
    int status;
    const char *content_type;  /* default "text/html; charset=utf-8" */
    struct buf body;
    struct buf headers;        /* "Name: value\n" lines, added by web_add_header */
};

typedef int (*web_handler)(struct web_request *req, struct web_response *res);

struct web_route {
    const char *method;
    const char *pattern;
    web_handler handler;
    enum web_access access;
};

/* The table (routes.c), ending with a NULL method. */
extern const struct web_route web_routes[];

/* A request header (case-insensitive name), NULL when absent. */
const char *web_header(const struct web_request *req, const char *name);
/* A cookie sent with the request, NULL when absent. */
const char *web_cookie(const struct web_request *req, const char *name);
/* A query-string argument, NULL when absent. */
const char *web_query(const struct web_request *req, const char *name);
/* A field of the urlencoded form in the body, malloc'd; NULL when absent
 * (or out of memory). */
char *web_form(const struct web_request *req, const char *name);
/* A {name} segment of the route's pattern ("" when there is none). */
const char *web_param(const struct web_request *req, const char *name);

/* For a handler whose answer needs slow work (checking a password costs
 * tens of milliseconds of CPU): WORK(ARG) runs on a thread of libuv's
 * pool, where it must touch nothing but ARG; then AFTER(ARG, RES) runs on
 * the loop and fills the response, and FREE_ARG(ARG) frees ARG (also
 * when the server stops first).  The handler returns 0 after calling it
 * and leaves RES alone; the connection waits meanwhile, and other
 * requests go on being served.  -1 when it cannot be deferred (out of
 * memory): the handler answers itself. */
typedef void (*web_work_fn)(void *arg);
typedef int (*web_after_fn)(void *arg, struct web_response *res);
int web_defer(struct web_request *req, web_work_fn work, web_after_fn after,
              void (*free_arg)(void *arg), void *arg);

/* Adds a response header; -1 when the value holds a line break. */
int web_add_header(struct web_response *res, const char *name, const char *value);
/* Plain answers: STATUS with a short HTML page saying MESSAGE (escaped). */
int web_respond_error(struct web_response *res, int status, const char *message);
/* 303 See Other to LOCATION (a path of this site). */
int web_redirect(struct web_response *res, const char *location);

#endif
