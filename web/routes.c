/*
 * routes.c - assay-web's route table: every URL the server answers, the
 * handler that answers it and who may reach it (web.h says how to add
 * one).  dispatch.c takes the first line whose method and pattern match.
 */
#include "web/routes.h"

const struct web_route web_routes[] = {
    {"GET",  "/",                    page_home,       WEB_OPEN},
    {"GET",  "/static/assay.css",    page_stylesheet, WEB_OPEN},
    {"GET",  "/static/assay.js",     page_script,     WEB_OPEN},
    {"GET",  "/login",               page_login,      WEB_OPEN},
    {"POST", "/login",               page_login_post, WEB_OPEN},
    {"POST", "/logout",              page_logout,     WEB_USER},
    {"GET",  "/course/{course}",     page_course,     WEB_STAFF},
    {"GET",  "/course/{course}/{asg}", page_assignment, WEB_STAFF},
    {"GET",  "/course/{course}/{asg}/progress", page_progress, WEB_STAFF},
    {"GET",  "/course/{course}/{asg}/export.csv", page_export, WEB_STAFF},
    {"GET",  "/course/{course}/{asg}/student/{student}", page_submission, WEB_SELF},
    {"GET",  "/course/{course}/{asg}/student/{student}/{version}/feedback/{file}", page_feedback,
     WEB_SELF},
    {"GET",  "/course/{course}/{asg}/manual", page_manual_list, WEB_STAFF},
    {"GET",  "/course/{course}/{asg}/manual/{student}", page_manual_student, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/manual/{student}", action_manual_grade, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/grade-all", action_grade_all, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/regrade", action_regrade, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/rerun-failed", action_rerun_failed, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/hold", action_hold, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/release", action_release, WEB_STAFF},
    {"POST", "/course/{course}/{asg}/extension", action_extension, WEB_INSTRUCTOR},
    {"POST", "/hooks/github",        page_hook_github, WEB_OPEN},
    {"POST", "/hooks/gitlab",        page_hook_gitlab, WEB_OPEN},
    {"GET",  "/admin",               page_admin,      WEB_ADMIN},
    {"GET",  "/admin/logs",          page_admin_logs, WEB_ADMIN},
    {"GET",  "/admin/traces",        page_admin_traces, WEB_ADMIN},
    {"GET",  "/metrics",             page_metrics,    WEB_OPEN},
    {NULL, NULL, NULL, WEB_OPEN},
};
