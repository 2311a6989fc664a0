/* http.h - assay-deliver's HTTP client: libcurl's multi interface driven
 * by a libuv loop, and the answer headers a destination judges. */
#ifndef ASSAY_DELIVER_HTTP_H
#define ASSAY_DELIVER_HTTP_H

#include <curl/curl.h>
#include <uv.h>

#include "common/buf.h"
#include "common/err.h"
#include "deliver/destination.h"

/* The headers of an answer that matter to destinations. */
struct http_headers {
    double retry_after;
    long rate_remaining;            /* -1 when absent */
    char *link_next;                /* malloc'd rel="next" URL, or NULL */
    bool www_authenticate;
};
/* Reads one header line (as libcurl hands them, "Name: value\r\n") into H;
 * a new status line (a redirect or 100 Continue) starts H afresh. */
void http_header_line(struct http_headers *h, const char *line, size_t len);
void http_headers_free(struct http_headers *h);

/* Sets up EASY for REQ (method, URL, body, content type, the Bearer
 * token, TIMEOUT_S), with the answer's body into BODY and headers into
 * H.  HDRS gets the header list to free after the transfer. */
int http_easy_setup(CURL *easy, const struct dest_request *req, double timeout_s,
                    struct buf *body, struct http_headers *h, struct curl_slist **hdrs,
                    char *errbuf);

struct http;
/* Called once per request with the answer (status 0: none, a.error why). */
typedef void (*http_done_fn)(void *arg, const struct dest_answer *a);

struct http *http_new(uv_loop_t *loop, struct err *e);
/* Sends REQ (copied: the caller may clear it at once); FN(ARG, answer)
 * is called from the loop when it is answered or has failed. */
int http_send(struct http *h, const struct dest_request *req, double timeout_s,
              http_done_fn fn, void *arg, struct err *e);
/* Requests still in flight. */
size_t http_pending(const struct http *h);
/* Abandons what is in flight (no callbacks) and frees H once its
 * handles are closed (run the loop after). */
void http_free(struct http *h);

#endif
