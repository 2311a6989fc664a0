/* auth.h - who is asking: sessions, API tokens, the SSO header, login
 * limits, CSRF tokens and the access decisions (auth.c, access.c). */
#ifndef ASSAY_WEB_AUTH_H
#define ASSAY_WEB_AUTH_H

#include <stdbool.h>

#include "spool/spool.h"
#include "web/config.h"
#include "web/web.h"

struct auth_state;

/* NULL when memory ran out. */
struct auth_state *auth_new(const struct spool *s, const struct web_config *c);
void auth_free(struct auth_state *a);

/* Fills REQ's user, session, csrf and secure from its SSO header (only
 * when configured and sent by the trusted proxy), its Bearer token or its
 * session cookie; USER is the storage REQ->user points at when someone
 * is signed in. */
void auth_identify(struct auth_state *a, struct web_request *req, struct web_user *user);

/* True when REQ's form carries its session's CSRF token. */
bool auth_csrf_ok(const struct web_request *req);

/* May REQ's user reach a route of ACCESS (with its {course} and
 * {student} parameters)? */
bool auth_may(const struct web_request *req, enum web_access access);

#endif
