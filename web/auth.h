/* auth.h - who is asking: sessions, API tokens, the SSO header, login
 * limits, CSRF tokens and the access decisions (auth.c). */
#ifndef ASSAY_WEB_AUTH_H
#define ASSAY_WEB_AUTH_H

#include <stdbool.h>

#include "spool/spool.h"
#include "web/config.h"
#include "web/session.h"
#include "web/web.h"

#define AUTH_SESSION_COOKIE "assay_session"
#define AUTH_LOGIN_COOKIE "assay_login"

struct auth_state;

/* NULL when memory ran out. */
struct auth_state *auth_new(const struct spool *s, const struct web_config *c);
void auth_free(struct auth_state *a);

/* Fills REQ's user, session, csrf and secure from its SSO header (only
 * when configured and sent by the trusted proxy), its Bearer token or its
 * session cookie; USER is the storage REQ->user points at when someone
 * is signed in. */
void auth_identify(struct auth_state *a, struct web_request *req, struct web_user *user);

/* True when GIVEN is the token EXPECTED (SESSION_ID_LEN hex digits),
 * compared in constant time. */
bool auth_token_equal(const char *given, const char *expected);
/* True when REQ's form (field "csrf") or header X-CSRF-Token carries its
 * session's CSRF token. */
bool auth_csrf_ok(const struct web_request *req);

/* May REQ's user reach a route of ACCESS (with its {course} and
 * {student} parameters)? */
bool auth_may(const struct web_request *req, enum web_access access);

/* A login in three steps, so that the password is checked on another
 * thread (accounts_verify_hash) and the loop never waits for Argon2:
 * whether NAME may try from PEER now (the limits); NAME's hash to check
 * against (malloc'd, NULL for an unknown user: checked against a dummy);
 * then what came of it.  A success ends the session OLD_ID (no fixation:
 * the new session's id is made here) and returns the new one (NULL: out
 * of memory). */
bool auth_login_allowed(struct auth_state *a, const char *name, const char *peer);
char *auth_password_hash(struct auth_state *a, const char *name);
void auth_login_failed(struct auth_state *a, const char *name, const char *peer);
const struct session *auth_login_succeeded(struct auth_state *a, const char *name,
                                           const char *peer, const char *old_id);
/* Ends REQ's session. */
void auth_logout(struct auth_state *a, struct web_request *req);
/* The Set-Cookie value for session S (NULL: one that clears it). */
void auth_session_cookie(const struct web_config *c, bool secure, const struct session *s,
                         char *out, size_t n);

#endif
