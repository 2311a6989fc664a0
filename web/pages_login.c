/*
 * pages_login.c - signing in and out.
 *
 *   GET  /login    the form (with a login CSRF token: a random cookie the
 *                  form repeats, so another site cannot sign a browser in)
 *   POST /login    checks the password on a thread of libuv's pool (Argon2id
 *                  takes tens of milliseconds; the loop serves others
 *                  meanwhile); 303 to where the user was going, 401 with
 *                  the same page for an unknown user and a wrong password,
 *                  429 when the limits are reached
 *   POST /logout   ends the session (CSRF-checked like every form)
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "spool/accounts.h"
#include "web/auth.h"
#include "web/html.h"
#include "web/routes.h"

/* NEXT when it is a path of this site, else "/". */
static const char *safe_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\')
        return "/";
    for (const char *p = next; *p; p++)
        if ((unsigned char)*p < 0x21 || *p == 0x7f || *p == '\\')
            return "/";
    return next;
}

/* The sign-in form.  CONFIG and SECURE stand for the request (this also
 * renders the answer to a login checked on another thread). */
static void login_form(struct web_response *res, const struct web_config *config,
                       const char *token, const char *next, const char *name, const char *error)
{
    struct web_request anon = {.csrf = "", .config = config};
    html_begin(&anon, res, "Sign in");
    if (error)
        html_printf(&res->body, "<p class=\"error\" id=\"login-error\">%s</p>", error);
    html_printf(&res->body, "<form method=\"post\" action=\"/login\" class=\"stack\">"
                "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
                "<input type=\"hidden\" name=\"next\" value=\"%s\">"
                "<label for=\"user\">User name</label>"
                "<input id=\"user\" name=\"user\" autocomplete=\"username\" value=\"%s\" required>"
                "<label for=\"password\">Password</label>"
                "<input id=\"password\" name=\"password\" type=\"password\" "
                "autocomplete=\"current-password\" required>"
                "<p><button type=\"submit\" id=\"signin\">Sign in</button></p></form>",
                token, safe_next(next), name ? name : "");
    html_end(res);
}

int page_login(struct web_request *req, struct web_response *res)
{
    if (req->user)
        return web_redirect(res, safe_next(web_query(req, "next")));
    const char *have = web_cookie(req, AUTH_LOGIN_COOKIE);
    char token[SESSION_ID_LEN + 1];
    if (have && strlen(have) == SESSION_ID_LEN && strspn(have, "0123456789abcdef") == SESSION_ID_LEN) {
        snprintf(token, sizeof token, "%s", have);
    } else {
        unsigned char raw[SESSION_ID_LEN / 2];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(token, sizeof token, raw, sizeof raw);
        char cookie[200];
        snprintf(cookie, sizeof cookie, AUTH_LOGIN_COOKIE "=%s; Path=/login; HttpOnly; "
                 "SameSite=Strict%s", token, req->secure ? "; Secure" : "");
        web_add_header(res, "Set-Cookie", cookie);
    }
    login_form(res, req->config, token, web_query(req, "next"), NULL, NULL);
    return 0;
}

static bool login_token_ok(const struct web_request *req)
{
    char *field = web_form(req, "csrf");
    bool ok = auth_token_equal(field, web_cookie(req, AUTH_LOGIN_COOKIE));
    free(field);
    return ok;
}

/* A login being checked: what the answer needs, copied out of the request. */
struct login {
    struct auth_state *auth;
    const struct web_config *config;
    bool secure, ok;
    char name[65], shown[65], peer[64], old_session[SESSION_ID_LEN + 1];
    char token[SESSION_ID_LEN + 1], next[512];
    char *password, *hash;
};

static void login_free(void *arg)
{
    struct login *l = arg;
    if (l->password)
        sodium_memzero(l->password, strlen(l->password));
    free(l->password);
    free(l->hash);
    free(l);
}

/* On a thread of libuv's pool: Argon2id, tens of milliseconds. */
static void login_check(void *arg)
{
    struct login *l = arg;
    l->ok = accounts_verify_hash(l->hash, l->password);
}

static int login_answer(void *arg, struct web_response *res)
{
    struct login *l = arg;
    const struct session *s = NULL;
    if (l->ok)
        s = auth_login_succeeded(l->auth, l->name, l->peer, l->old_session);
    if (!s) {
        if (!l->ok)
            auth_login_failed(l->auth, l->name, l->peer);
        log_msg(LOG_WARN, NULL, "web: failed sign-in for %s from %s", l->shown, l->peer);
        login_form(res, l->config, l->token, l->next, l->name, "Wrong user name or password.");
        res->status = 401;
        return 0;
    }
    char cookie[300];
    auth_session_cookie(l->config, l->secure, s, cookie, sizeof cookie);
    web_add_header(res, "Set-Cookie", cookie);
    log_msg(LOG_INFO, NULL, "web: %s signed in from %s", l->shown, l->peer);
    return web_redirect(res, safe_next(l->next));
}

static struct login *login_new(struct web_request *req, const char *name, char *password,
                               const char *next)
{
    struct login *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->auth = req->auth;
    l->config = req->config;
    l->secure = req->secure;
    l->password = password;
    bool valid = spool_name_is_valid(name);
    snprintf(l->name, sizeof l->name, "%s", valid ? name : "");
    snprintf(l->shown, sizeof l->shown, "%s", valid ? name : "(not a valid name)");
    snprintf(l->peer, sizeof l->peer, "%s", req->peer);
    snprintf(l->next, sizeof l->next, "%s", safe_next(next));
    snprintf(l->token, sizeof l->token, "%s", web_cookie(req, AUTH_LOGIN_COOKIE));
    const char *old = web_cookie(req, AUTH_SESSION_COOKIE);
    snprintf(l->old_session, sizeof l->old_session, "%s", old && strlen(old) == SESSION_ID_LEN ? old : "");
    l->hash = valid ? auth_password_hash(req->auth, name) : NULL;
    return l;
}

int page_login_post(struct web_request *req, struct web_response *res)
{
    if (!login_token_ok(req))
        return web_respond_error(res, 403, "This form has expired or did not come from this "
                                 "site: open the sign-in page again.");
    char *name = web_form(req, "user"), *pw = web_form(req, "password"), *next = web_form(req, "next");
    const char *shown = name && spool_name_is_valid(name) ? name : "(not a valid name)";
    int rc = 0;
    if (!auth_login_allowed(req->auth, name ? name : "", req->peer)) {
        log_msg(LOG_WARN, NULL, "web: sign-in for %s from %s refused: too many failures",
                shown, req->peer);
        web_respond_error(res, 429, "Too many failed sign-ins: wait a few minutes and try again.");
        web_add_header(res, "Retry-After", "60");
        free(pw);
    } else {
        struct login *l = login_new(req, name ? name : "", pw ? pw : strdup(""), next);
        if (!l || !l->password || web_defer(req, login_check, login_answer, login_free, l) < 0) {
            if (l)
                login_free(l);
            else
                free(pw);
            rc = web_respond_error(res, 503, "The server is too busy; try again.");
        }
    }
    free(name);
    free(next);
    return rc;
}

int page_logout(struct web_request *req, struct web_response *res)
{
    char cookie[300];
    log_msg(LOG_INFO, NULL, "web: %s signed out", req->user->name);
    auth_logout(req->auth, req);
    auth_session_cookie(req->config, req->secure, NULL, cookie, sizeof cookie);
    web_add_header(res, "Set-Cookie", cookie);
    return web_redirect(res, "/login");
}
