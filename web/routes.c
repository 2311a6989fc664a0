/*
 * routes.c - assay-web's route table: every URL the server answers, the
 * handler that answers it and who may reach it (web.h says how to add
 * one).  dispatch.c takes the first line whose method and pattern match.
 */
#include "web/routes.h"

const struct web_route web_routes[] = {
    {"GET",  "/",                    page_home,       WEB_OPEN},
    {"GET",  "/static/assay.css",    page_stylesheet, WEB_OPEN},
    {"GET",  "/login",               page_login,      WEB_OPEN},
    {"POST", "/login",               page_login_post, WEB_OPEN},
    {"POST", "/logout",              page_logout,     WEB_USER},
    {"GET",  "/metrics",             page_metrics,    WEB_OPEN},
    {NULL, NULL, NULL, WEB_OPEN},
};
