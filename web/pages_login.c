/*
 * pages_login.c - signing in and out.
 *
 *   GET  /login    the form (with a login CSRF token: a random cookie the
 *                  form repeats, so another site cannot sign a browser in)
 *   POST /login    checks the password (auth_login); 303 to where the user
 *                  was going, 401 with the same page for an unknown user
 *                  and a wrong password, 429 when the limits are reached
 *   POST /logout   ends the session (CSRF-checked like every form)
 */
#define _GNU_SOURCE
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
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

static void login_form(struct web_request *req, struct web_response *res, const char *token,
                       const char *next, const char *name, const char *error)
{
    html_begin(req, res, "Sign in");
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
    login_form(req, res, token, web_query(req, "next"), NULL, NULL);
    return 0;
}

static bool login_token_ok(const struct web_request *req)
{
    const char *cookie = web_cookie(req, AUTH_LOGIN_COOKIE);
    char *field = web_form(req, "csrf");
    bool ok = cookie && field && strlen(cookie) == SESSION_ID_LEN &&
              strlen(field) == SESSION_ID_LEN &&
              sodium_memcmp(cookie, field, SESSION_ID_LEN) == 0;
    free(field);
    return ok;
}

static int login_done(struct web_request *req, struct web_response *res, const char *name,
                      const struct session *s, const char *next)
{
    char cookie[300];
    auth_session_cookie(req, s, cookie, sizeof cookie);
    web_add_header(res, "Set-Cookie", cookie);
    log_msg(LOG_INFO, NULL, "web: %s signed in from %s", name, req->peer);
    return web_redirect(res, safe_next(next));
}

int page_login_post(struct web_request *req, struct web_response *res)
{
    if (!login_token_ok(req))
        return web_respond_error(res, 403, "This form has expired or did not come from this "
                                 "site: open the sign-in page again.");
    char *name = web_form(req, "user"), *pw = web_form(req, "password"), *next = web_form(req, "next");
    const char *shown = name && spool_name_is_valid(name) ? name : "(not a valid name)";
    const struct session *s = NULL;
    enum auth_login r = name && pw ? auth_login(req->auth, req, name, pw, &s) : AUTH_LOGIN_WRONG;
    int rc = 0;
    if (r == AUTH_LOGIN_OK) {
        rc = login_done(req, res, shown, s, next);
    } else if (r == AUTH_LOGIN_LIMITED) {
        log_msg(LOG_WARN, NULL, "web: sign-in for %s from %s refused: too many failures",
                shown, req->peer);
        web_respond_error(res, 429, "Too many failed sign-ins: wait a few minutes and try again.");
        web_add_header(res, "Retry-After", "60");
    } else {
        log_msg(LOG_WARN, NULL, "web: failed sign-in for %s from %s", shown, req->peer);
        const char *tok = web_cookie(req, AUTH_LOGIN_COOKIE);
        login_form(req, res, tok ? tok : "", next, name && spool_name_is_valid(name) ? name : "",
                   "Wrong user name or password.");
        res->status = 401;
    }
    if (pw)
        sodium_memzero(pw, strlen(pw));
    free(name);
    free(pw);
    free(next);
    return rc;
}

int page_logout(struct web_request *req, struct web_response *res)
{
    char cookie[300];
    log_msg(LOG_INFO, NULL, "web: %s signed out", req->user->name);
    auth_logout(req->auth, req);
    auth_session_cookie(req, NULL, cookie, sizeof cookie);
    web_add_header(res, "Set-Cookie", cookie);
    return web_redirect(res, "/login");
}
