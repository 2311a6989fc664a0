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

/* True when REQ's form (field "csrf") or header X-CSRF-Token carries its
 * session's CSRF token. */
bool auth_csrf_ok(const struct web_request *req);

/* May REQ's user reach a route of ACCESS (with its {course} and
 * {student} parameters)? */
bool auth_may(const struct web_request *req, enum web_access access);

enum auth_login { AUTH_LOGIN_OK, AUTH_LOGIN_WRONG, AUTH_LOGIN_LIMITED };
/* Checks NAME's PASSWORD for a login from REQ's address; on success a
 * new session (*OUT) replaces REQ's old one, if any. */
enum auth_login auth_login(struct auth_state *a, struct web_request *req, const char *name,
                           const char *password, const struct session **out);
/* Ends REQ's session. */
void auth_logout(struct auth_state *a, struct web_request *req);
/* The Set-Cookie value for session S (NULL: one that clears it). */
void auth_session_cookie(const struct web_request *req, const struct session *s, char *out,
                         size_t n);

#endif
