/* routes.h - every handler of assay-web, for the table in routes.c. */
#ifndef ASSAY_WEB_ROUTES_H
#define ASSAY_WEB_ROUTES_H

#include "web/web.h"

/* pages_home.c: the start page, the stylesheet and script */
int page_home(struct web_request *req, struct web_response *res);
int page_stylesheet(struct web_request *req, struct web_response *res);
int page_script(struct web_request *req, struct web_response *res);

/* pages_login.c: signing in and out */
int page_login(struct web_request *req, struct web_response *res);
int page_login_post(struct web_request *req, struct web_response *res);
int page_logout(struct web_request *req, struct web_response *res);

/* pages_course.c: the staff pages of a course */
int page_course(struct web_request *req, struct web_response *res);
int page_assignment(struct web_request *req, struct web_response *res);
int page_progress(struct web_request *req, struct web_response *res);
int page_export(struct web_request *req, struct web_response *res);

/* pages_actions.c: the staff's actions (POST, CSRF-checked, logged) */
int action_grade_all(struct web_request *req, struct web_response *res);
int action_regrade(struct web_request *req, struct web_response *res);
int action_rerun_failed(struct web_request *req, struct web_response *res);
int action_hold(struct web_request *req, struct web_response *res);
int action_release(struct web_request *req, struct web_response *res);
int action_extension(struct web_request *req, struct web_response *res);

/* pages_submission.c: one student's work (staff, or the student) */
int page_submission(struct web_request *req, struct web_response *res);
int page_feedback(struct web_request *req, struct web_response *res);

/* pages_manual.c: grading by hand the answers a test leaves to a person (staff) */
int page_manual_list(struct web_request *req, struct web_response *res);
int page_manual_student(struct web_request *req, struct web_response *res);
int action_manual_grade(struct web_request *req, struct web_response *res);

/* pages_admin.c: queue, workers, logs (admins) */
int page_admin(struct web_request *req, struct web_response *res);
int page_admin_logs(struct web_request *req, struct web_response *res);
int page_admin_traces(struct web_request *req, struct web_response *res);

/* hooks.c: webhooks from GitHub and GitLab (their secret, no session) */
int page_hook_github(struct web_request *req, struct web_response *res);
int page_hook_gitlab(struct web_request *req, struct web_response *res);
/* pages_metrics.c: Prometheus's scrape (metrics.c renders it) */
int page_metrics(struct web_request *req, struct web_response *res);

#endif
