/* dispatch.h - from a request to its handler (dispatch.c). */
#ifndef ASSAY_WEB_DISPATCH_H
#define ASSAY_WEB_DISPATCH_H

#include "web/server.h"
#include "web/web.h"

/* Finds REQ's route, identifies its user, checks the route's access rule
 * and the CSRF token, and runs the handler; RES always ends up holding
 * an answer (404, 405, 401/303, 403 when refused). */
void web_dispatch(struct web_server *srv, struct web_request *req, struct web_response *res);

/* True when PATH matches PATTERN ("/course/{course}"); the {name}
 * segments go into REQ's parameters (malloc'd) when REQ is not NULL.
 * -1 when memory ran out. */
int web_route_match(const char *pattern, const char *path, struct web_request *req);

#endif
