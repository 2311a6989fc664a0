/*
 * http.c - assay-deliver's HTTP client: libcurl's multi interface on the
 * process's libuv loop, so that many destinations are talked to at once
 * from one thread and nothing ever blocks the loop.
 *
 * The usual pairing (curl_multi_socket_action): libcurl says which
 * sockets to watch (socket callback -> one uv_poll_t per socket) and
 * when to call it back (timer callback -> one uv_timer_t); the loop
 * hands readiness and time-outs back with curl_multi_socket_action, and
 * finished transfers are collected with curl_multi_info_read and given
 * to their caller's callback as a struct dest_answer.
 *
 * Secrets: the token goes only into an "Authorization: Bearer" header
 * of the request; libcurl's verbose output is never switched on and its
 * error sentences do not hold headers, so no token reaches a log.
 */
#define _GNU_SOURCE
#include "deliver/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ANSWER_MAX_BYTES (4u << 20)

struct call;
struct http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    size_t pending;
    struct call *calls;             /* in flight, a list */
};

struct call {
    struct call *prev, *next;
    struct http *http;
    CURL *easy;
    struct curl_slist *hdrs;
    struct buf body;
    struct http_headers h;
    char errbuf[CURL_ERROR_SIZE];
    struct dest_request req;        /* our copy (the token wiped at the end) */
    http_done_fn fn;
    void *arg;
};

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct http *http;
};

/* ---- headers ---- */

static char *trimmed(const char *s, size_t n)
{
    while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' '))
        n--;
    while (n && *s == ' ') {
        s++;
        n--;
    }
    return strndup(s, n);
}

/* The rel="next" target of a Link header value, malloc'd, or NULL. */
static char *link_next(const char *v)
{
    for (const char *p = v; (p = strchr(p, '<'));) {
        const char *end = strchr(p, '>');
        if (!end)
            return NULL;
        const char *stop = strchr(end, ',');
        size_t n = stop ? (size_t)(stop - end) : strlen(end);
        char *params = strndup(end, n);
        bool next = params && (strstr(params, "rel=\"next\"") || strstr(params, "rel=next"));
        free(params);
        if (next)
            return strndup(p + 1, (size_t)(end - p - 1));
        p = end;
    }
    return NULL;
}

/* A header's number, as the server wrote it ("700.0", "30"), kept within
 * [0, MAX]: a server may send anything, and an out-of-range double must not
 * reach an integer conversion. */
static double header_number(const char *v, double max)
{
    double d = strtod(v, NULL);
    if (!(d >= 0))
        return 0;   /* negative or not a number: nothing left, no wait */
    return d > max ? max : d;
}

void http_header_line(struct http_headers *h, const char *line, size_t len)
{
    if (len >= 5 && !strncmp(line, "HTTP/", 5)) {   /* a new answer: forget the last's */
        http_headers_free(h);
        return;
    }
    const char *colon = memchr(line, ':', len);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - line);
    char *v = trimmed(colon + 1, len - nlen - 1);
    if (!v)
        return;   /* out of memory: the header is as good as absent */
    if (nlen == 11 && !strncasecmp(line, "Retry-After", 11))
        h->retry_after = header_number(v, 86400);   /* a day at most */
    else if (nlen == 22 && !strncasecmp(line, "X-Rate-Limit-Remaining", 22))
        h->rate_remaining = (long)header_number(v, 1e9);
    else if (nlen == 16 && !strncasecmp(line, "WWW-Authenticate", 16))
        h->www_authenticate = true;
    else if (nlen == 4 && !strncasecmp(line, "Link", 4) && !h->link_next)
        h->link_next = link_next(v);
    free(v);
}

void http_headers_free(struct http_headers *h)
{
    free(h->link_next);
    memset(h, 0, sizeof *h);
    h->rate_remaining = -1;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    http_header_line(arg, data, size * n);
    return size * n;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (b->len + size * n > ANSWER_MAX_BYTES || buf_append(b, data, size * n) < 0)
        return 0;   /* too big or out of memory: libcurl fails the transfer */
    return size * n;
}

int http_easy_setup(CURL *easy, const struct dest_request *req, double timeout_s,
                    struct buf *body, struct http_headers *h, struct curl_slist **hdrs,
                    char *errbuf)
{
    char auth[4200], type[200];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", req->token ? req->token : "");
    struct curl_slist *l = curl_slist_append(NULL, auth);
    explicit_bzero(auth, sizeof auth);
    if (l && req->content_type) {
        snprintf(type, sizeof type, "Content-Type: %s", req->content_type);
        struct curl_slist *m = curl_slist_append(l, type);
        l = m ? m : (curl_slist_free_all(l), NULL);
    }
    if (l) {
        snprintf(type, sizeof type, "Accept: %s", req->accept ? req->accept : "application/json");
        struct curl_slist *m = curl_slist_append(l, type);
        l = m ? m : (curl_slist_free_all(l), NULL);
    }
    *hdrs = l;
    if (!l)
        return -1;
    http_headers_free(h);
    errbuf[0] = '\0';
    curl_easy_setopt(easy, CURLOPT_URL, req->url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);   /* never the token to another host */
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_s * 1000));
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_USERAGENT, "assay-deliver/" ASSAY_VERSION);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    return 0;
}

/* ---- the multi interface on the loop ---- */

/* The header list holds the token: wiped before it is freed. */
static void free_headers(struct curl_slist *l)
{
    for (struct curl_slist *p = l; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(l);
}

static void call_free(struct call *c)
{
    if (c->easy) {
        curl_multi_remove_handle(c->http->multi, c->easy);
        curl_easy_cleanup(c->easy);
    }
    if (c->prev)
        c->prev->next = c->next;
    else if (c->http->calls == c)
        c->http->calls = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free_headers(c->hdrs);
    buf_free(&c->body);
    http_headers_free(&c->h);
    dest_request_clear(&c->req);
    free(c);
}

static void finish(struct call *c, CURLcode rc)
{
    struct dest_answer a = {0};
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    a.status = status;
    a.error = rc == CURLE_OK ? NULL : c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
    a.body = buf_str(&c->body);
    a.len = c->body.len;
    a.retry_after = c->h.retry_after;
    a.rate_remaining = c->h.rate_remaining;
    a.link_next = c->h.link_next;
    a.www_authenticate = c->h.www_authenticate;
    c->http->pending--;
    c->fn(c->arg, &a);
    call_free(c);
}

static void check_done(struct http *h)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(h->multi, &left))) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct call *c;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&c);
        finish(c, m->data.result);
    }
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                             ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    struct http *h = s->http;
    curl_multi_socket_action(h->multi, s->fd, flags, &running);
    check_done(h);
}

static void on_timer(uv_timer_t *t)
{
    struct http *h = t->data;
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static void free_sock(uv_handle_t *handle)
{
    free(handle->data);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    (void)easy;
    struct http *h = arg;
    struct sock *s = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, free_sock);
            curl_multi_assign(h->multi, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return -1;   /* libcurl fails the transfer: an answer with status 0 */
        s->fd = fd;
        s->http = h;
        if (uv_poll_init_socket(h->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        curl_multi_assign(h->multi, fd, s);
    }
    int events = (what & CURL_POLL_IN ? UV_READABLE : 0) | (what & CURL_POLL_OUT ? UV_WRITABLE : 0);
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int on_curl_timer(CURLM *multi, long ms, void *arg)
{
    (void)multi;
    struct http *h = arg;
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

struct http *http_new(uv_loop_t *loop, struct err *e)
{
    struct http *h = calloc(1, sizeof *h);
    if (!h || !(h->multi = curl_multi_init())) {
        free(h);
        err_set(e, "out of memory (libcurl)");
        return NULL;
    }
    h->loop = loop;
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    return h;
}

static int copy_request(struct dest_request *to, const struct dest_request *from)
{
    memset(to, 0, sizeof *to);
    to->method = from->method;
    to->content_type = from->content_type;
    to->accept = from->accept;
    to->changes = from->changes;
    to->url = strdup(from->url);
    to->body = from->body ? strdup(from->body) : NULL;
    to->token = from->token ? strdup(from->token) : NULL;
    return to->url && (!from->body || to->body) && (!from->token || to->token) ? 0 : -1;
}

int http_send(struct http *h, const struct dest_request *req, double timeout_s,
              http_done_fn fn, void *arg, struct err *e)
{
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return err_set(e, "out of memory");
    c->http = h;
    c->fn = fn;
    c->arg = arg;
    c->h.rate_remaining = -1;
    if (copy_request(&c->req, req) < 0 || !(c->easy = curl_easy_init()) ||
        http_easy_setup(c->easy, &c->req, timeout_s, &c->body, &c->h, &c->hdrs, c->errbuf) < 0) {
        call_free(c);
        return err_set(e, "out of memory");
    }
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    if (curl_multi_add_handle(h->multi, c->easy) != CURLM_OK) {
        CURL *easy = c->easy;
        c->easy = NULL;
        curl_easy_cleanup(easy);
        call_free(c);
        return err_set(e, "libcurl cannot take another request");
    }
    h->pending++;
    c->next = h->calls;
    if (h->calls)
        h->calls->prev = c;
    h->calls = c;
    return 0;
}

size_t http_pending(const struct http *h)
{
    return h->pending;
}

static void free_http(uv_handle_t *handle)
{
    struct http *h = handle->data;
    curl_multi_cleanup(h->multi);
    free(h);
}

void http_free(struct http *h)
{
    if (!h)
        return;
    while (h->calls)
        call_free(h->calls);
    uv_close((uv_handle_t *)&h->timer, free_http);
}
