/* routes.h - every handler of assay-web, for the table in routes.c. */
#ifndef ASSAY_WEB_ROUTES_H
#define ASSAY_WEB_ROUTES_H

#include "web/web.h"

/* pages_home.c: the start page, the stylesheet */
int page_home(struct web_request *req, struct web_response *res);
int page_stylesheet(struct web_request *req, struct web_response *res);

/* pages_login.c: signing in and out */
int page_login(struct web_request *req, struct web_response *res);
int page_login_post(struct web_request *req, struct web_response *res);
int page_logout(struct web_request *req, struct web_response *res);

/* pages_metrics.c: Prometheus's scrape (metrics.c renders it) */
int page_metrics(struct web_request *req, struct web_response *res);

#endif
