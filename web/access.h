/* access.h - who may reach what: the one decision (access.c). */
#ifndef ASSAY_WEB_ACCESS_H
#define ASSAY_WEB_ACCESS_H

#include <stdbool.h>

#include "spool/course.h"
#include "web/web.h"

/* May a user who is ADMIN (or not), has ROLE in the route's course and
 * is (SELF) or is not the route's {student}, reach a route of ACCESS?
 * Anonymous users are refused before this, except on WEB_OPEN. */
bool web_access_decide(enum web_access access, bool admin, enum course_role role, bool self);

#endif
