/*
 * pages_home.c - the start page (what this user may open) and the one
 * stylesheet, built into the binary (scripts/embed.sh) so an installed
 * assay-web cannot lose it.
 */
#include <string.h>

#include "web/html.h"
#include "web/routes.h"

extern const char asset_web_css[];

int page_stylesheet(struct web_request *req, struct web_response *res)
{
    (void)req;
    res->content_type = "text/css; charset=utf-8";
    web_add_header(res, "Cache-Control", "max-age=3600");
    return buf_puts(&res->body, asset_web_css);
}

int page_home(struct web_request *req, struct web_response *res)
{
    html_begin(req, res, "Assay");
    if (!req->user)
        buf_puts(&res->body, "<p><a href=\"/login\">Sign in</a> to see your courses and "
                 "results.</p>");
    html_end(res);
    return 0;
}
