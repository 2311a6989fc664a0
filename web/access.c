/*
 * access.c - the access rules of assay-web's routes, as one pure
 * function the dispatcher asks (and the unit tests check against the
 * access matrix in docs/WEB.md): admins everything; instructors and TAs
 * their courses' pages and actions (some actions instructors only);
 * students their own results in their own courses, nothing else.
 */
#include "web/access.h"

bool web_access_decide(enum web_access access, bool admin, enum course_role role, bool self)
{
    switch (access) {
    case WEB_OPEN:
    case WEB_USER:
        return true;
    case WEB_ADMIN:
        return admin;
    case WEB_STAFF:
        return admin || role == COURSE_ROLE_INSTRUCTOR || role == COURSE_ROLE_TA;
    case WEB_INSTRUCTOR:
        return admin || role == COURSE_ROLE_INSTRUCTOR;
    case WEB_SELF:
        return admin || role == COURSE_ROLE_INSTRUCTOR || role == COURSE_ROLE_TA ||
               (self && role == COURSE_ROLE_STUDENT);
    }
    return false;
}
