/*
 * pages_metrics.c - GET /metrics, for Prometheus: who may scrape
 * (metrics_allowed: loopback only, or the bearer token of web.json's
 * "metrics": {"token_file"}), then the page metrics.c renders.  A route
 * of WEB_OPEN: a scraper has no session, and decides nothing.
 */
#include "common/clock.h"
#include "common/log.h"
#include "web/metrics.h"
#include "web/routes.h"
#include "web/config.h"

int page_metrics(struct web_request *req, struct web_response *res)
{
    const char *token = req->config->metrics_token[0] ? req->config->metrics_token : NULL;
    if (!metrics_allowed(token, req->peer, web_header(req, "X-Forwarded-For"),
                         web_header(req, "Authorization")))
        return web_respond_error(res, 403, token ? "The metrics need this server's bearer "
                                 "token (web.json: metrics.token_file)."
                                 : "The metrics are served to this machine only (loopback); "
                                 "give web.json a metrics.token_file to scrape from elsewhere.");
    struct err e;
    if (metrics_render(req->spool, clock_wall(), &res->body, &e) < 0) {
        log_msg(LOG_ERROR, NULL, "web: /metrics: %s", e.msg);
        buf_reset(&res->body);
        return web_respond_error(res, 500, "The metrics could not be rendered (see the central "
                                 "log).");
    }
    res->status = 200;
    res->content_type = METRICS_CONTENT_TYPE;
    return 0;
}
