/*
 * auth.c - who is asking, and may they.
 *
 * A request is signed in by one of three things, tried in this order:
 * the single-sign-on header (web.json "sso_header") when, and only when,
 * it comes from the configured proxy address ("trusted_proxy"); a
 * "Bearer" API token (spool/accounts.c keeps only its hash); or a
 * session cookie (session.c).  Admins are the accounts marked admin in
 * users.json; course roles come from course.json and rosters
 * (spool/course.c); web_access_decide (access.c) turns them into a yes
 * or no.  users.json is re-read when it changes, so `assay users` acts
 * without a restart.
 *
 * Logins are limited per user name and per address (failures in a
 * window, web.json "login_attempts", "login_window_seconds"); an unknown
 * user and a wrong password get the same answer in about the same time
 * (accounts_verify checks unknown names against a dummy hash).
 */
#define _GNU_SOURCE
#include "web/auth.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/log.h"
#include "spool/accounts.h"
#include "spool/course.h"
#include "web/access.h"

#define SESSIONS_MAX 100000

struct auth_state {
    const struct spool *spool;
    const struct web_config *config;
    struct session_store *sessions;
    struct limiter *limits;
    json_t *users;               /* users.json's "users", as last read */
    struct stat users_st;        /* ... from this file */
};

struct auth_state *auth_new(const struct spool *s, const struct web_config *c)
{
    struct auth_state *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->spool = s;
    a->config = c;
    a->sessions = session_store_new(c->session_idle_s, c->session_max_s, SESSIONS_MAX);
    a->limits = limiter_new(c->login_attempts, c->login_window_s);
    a->users = json_object();
    accounts_dummy_hash();   /* made here: the login checks on other threads only read it */
    if (!a->sessions || !a->limits || !a->users) {
        auth_free(a);
        return NULL;
    }
    return a;
}

void auth_free(struct auth_state *a)
{
    if (!a)
        return;
    session_store_free(a->sessions);
    limiter_free(a->limits);
    json_decref(a->users);
    free(a);
}

/* users.json as it is now (re-read when it changed; kept when it cannot
 * be read, which is logged). */
static const json_t *users_now(struct auth_state *a)
{
    char *path = spool_path(a->spool, "users.json");
    struct stat st;
    memset(&st, 0, sizeof st);
    if (path && stat(path, &st) < 0)
        memset(&st, 0, sizeof st);
    bool same = st.st_ino == a->users_st.st_ino && st.st_size == a->users_st.st_size &&
                st.st_mtim.tv_sec == a->users_st.st_mtim.tv_sec &&
                st.st_mtim.tv_nsec == a->users_st.st_mtim.tv_nsec;
    free(path);
    if (same)
        return a->users;
    struct err e;
    json_t *u = accounts_load(a->spool, &e);
    if (!u) {
        log_msg(LOG_ERROR, NULL, "web: %s; the accounts read before are kept", e.msg);
        return a->users;
    }
    json_decref(a->users);
    a->users = u;
    a->users_st = st;
    return a->users;
}

static bool from_proxy(const struct auth_state *a, const struct web_request *req)
{
    return a->config->trusted_proxy[0] && !strcmp(req->via, a->config->trusted_proxy);
}

static void sign_in(struct web_request *req, struct web_user *user, const char *name,
                    const json_t *users, bool token)
{
    memset(user, 0, sizeof *user);
    snprintf(user->name, sizeof user->name, "%s", name);
    user->admin = accounts_is_admin(users, name);
    user->via_token = token;
    req->user = user;
}

/* A user named by the proxy's header gets a session of ours all the same
 * (made at their first request, made anew when the header names someone
 * else): its CSRF token protects their forms, since their browser sends
 * the proxy's own cookies with any request another site makes it send. */
static void sso_session(struct auth_state *a, struct web_request *req, struct web_user *user,
                        const char *name, const json_t *users)
{
    const char *id = web_cookie(req, AUTH_SESSION_COOKIE);
    const struct session *s = session_find(a->sessions, id, clock_wall());
    if (!s || strcmp(s->user, name)) {
        s = auth_login_succeeded(a, name, req->peer, id);
        if (!s)
            return;   /* out of memory: anonymous for this request */
        auth_session_cookie(a->config, req->secure, s, req->new_cookie, sizeof req->new_cookie);
    }
    sign_in(req, user, name, users, false);
    req->session = s;
    req->csrf = s->csrf;
}

void auth_identify(struct auth_state *a, struct web_request *req, struct web_user *user)
{
    req->user = NULL;
    req->session = NULL;
    req->csrf = "";
    const char *proto = web_header(req, "X-Forwarded-Proto");
    req->secure = a->config->tls || (from_proxy(a, req) && proto && !strcmp(proto, "https"));
    const json_t *users = users_now(a);
    if (a->config->sso_header[0] && from_proxy(a, req)) {
        const char *name = web_header(req, a->config->sso_header);
        if (name && spool_name_is_valid(name))
            sso_session(a, req, user, name, users);
        return;   /* behind the proxy, only its header says who is signed in */
    }
    const char *authz = web_header(req, "Authorization");
    if (authz && !strncmp(authz, "Bearer ", 7)) {
        const char *name = accounts_token_user(users, authz + 7);
        if (name)
            sign_in(req, user, name, users, true);
        return;
    }
    const struct session *s = session_find(a->sessions, web_cookie(req, AUTH_SESSION_COOKIE),
                                           clock_wall());
    if (s) {
        sign_in(req, user, s->user, users, false);
        req->session = s;
        req->csrf = s->csrf;
    }
}

bool auth_token_equal(const char *given, const char *expected)
{
    return given && expected && strlen(expected) == SESSION_ID_LEN &&
           strlen(given) == SESSION_ID_LEN &&
           sodium_memcmp(given, expected, SESSION_ID_LEN) == 0;
}

bool auth_csrf_ok(const struct web_request *req)
{
    char *field = web_form(req, "csrf");
    bool ok = auth_token_equal(field ? field : web_header(req, "X-CSRF-Token"), req->csrf);
    free(field);
    return ok;
}

bool auth_may(const struct web_request *req, enum web_access access)
{
    if (!req->user)
        return access == WEB_OPEN;
    const char *course = web_param(req, "course"), *student = web_param(req, "student");
    enum course_role role = course[0] ? course_role_of(req->spool, course, req->user->name)
                                      : COURSE_ROLE_NONE;
    bool self = student[0] && !strcmp(student, req->user->name);
    return web_access_decide(access, req->user->admin, role, self);
}

static void limit_keys(const char *name, const char *peer, char ukey[100], char akey[100])
{
    snprintf(ukey, 100, "user:%.64s", name);
    snprintf(akey, 100, "addr:%.64s", peer);
}

bool auth_login_allowed(struct auth_state *a, const char *name, const char *peer)
{
    char ukey[100], akey[100];
    double now = clock_wall();
    limit_keys(name, peer, ukey, akey);
    return limiter_allowed(a->limits, ukey, now) && limiter_allowed(a->limits, akey, now);
}

char *auth_password_hash(struct auth_state *a, const char *name)
{
    return accounts_password_hash(users_now(a), name);
}

void auth_login_failed(struct auth_state *a, const char *name, const char *peer)
{
    char ukey[100], akey[100];
    double now = clock_wall();
    limit_keys(name, peer, ukey, akey);
    limiter_failed(a->limits, ukey, now);
    limiter_failed(a->limits, akey, now);
}

const struct session *auth_login_succeeded(struct auth_state *a, const char *name,
                                           const char *peer, const char *old_id)
{
    char ukey[100], akey[100];
    limit_keys(name, peer, ukey, akey);
    limiter_clear(a->limits, ukey);
    if (old_id && *old_id)
        session_destroy(a->sessions, old_id);
    return session_create(a->sessions, name, clock_wall());
}

void auth_logout(struct auth_state *a, struct web_request *req)
{
    const char *id = web_cookie(req, AUTH_SESSION_COOKIE);
    if (id)
        session_destroy(a->sessions, id);
    req->session = NULL;
    req->csrf = "";
}

void auth_session_cookie(const struct web_config *c, bool secure, const struct session *s,
                         char *out, size_t n)
{
    snprintf(out, n, AUTH_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%.0f%s",
             s ? s->id : "", s ? c->session_max_s : 0.0, secure ? "; Secure" : "");
}
