/*
 * server.c - assay-web's HTTP server: libmicrohttpd in external-epoll
 * mode on the process's libuv loop.
 *
 * libmicrohttpd keeps every connection in an epoll set of its own; that
 * set's descriptor is watched with a uv_poll_t and its next timeout with
 * a uv_timer_t, and MHD_run does the work when either fires.  So the
 * server is single-threaded, like the scheduler: handlers run to the end
 * on the loop and must be short (they read a few spool files).
 *
 * The limits that keep a hostile or slow client from starving the
 * others are libmicrohttpd's own (web.json: connection limit, per-address
 * limit, idle timeout, per-connection memory, which bounds the headers:
 * 431 beyond it) plus the body limit enforced here (413).  A request
 * whose body is complete becomes a struct web_request for dispatch.c;
 * its struct web_response goes out with the headers every page gets.
 */
#define _GNU_SOURCE
#include "web/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "web/dispatch.h"
#include "web/web.h"

/* A request answered after work on libuv's pool (web_defer). */
struct deferred {
    uv_work_t work_req;
    web_work_fn work;
    web_after_fn after;
    void (*free_arg)(void *arg);
    void *arg;
    struct MHD_Connection *conn;
    struct web_server *srv;
};

/* What a connection collects while its request arrives. */
struct conn_state {
    struct buf body;
    bool too_big;
    struct deferred *deferred;      /* set by web_defer, taken by request_complete */
    struct web_server *srv;
    char peer[INET6_ADDRSTRLEN];    /* the client (behind the trusted proxy: as it says) */
    char proxy[INET6_ADDRSTRLEN];   /* the address that connected */
};

static void server_run(struct web_server *srv);

static enum MHD_Result send_response(struct MHD_Connection *c, struct web_response *res);

/* ---- small answers before dispatch ---- */

static enum MHD_Result send_plain(struct MHD_Connection *c, int status, const char *message)
{
    struct web_response res = {.status = status, .body = BUF_INIT, .headers = BUF_INIT};
    web_respond_error(&res, status, message);
    enum MHD_Result r = send_response(c, &res);
    buf_free(&res.body);
    buf_free(&res.headers);
    return r;
}

/* ---- responses ---- */

static bool has_header(const struct web_response *res, const char *name)
{
    size_t n = strlen(name);
    const char *h = buf_str(&res->headers);
    for (const char *line = h; *line; ) {
        if (!strncasecmp(line, name, n) && line[n] == ':')
            return true;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

/* The handler's own headers ("Name: value\n" lines) onto R. */
static void add_handler_headers(struct MHD_Response *r, const struct web_response *res)
{
    char *copy = strdup(buf_str(&res->headers));
    if (!copy)
        return;   /* out of memory: the page still goes, with the defaults only */
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        *colon = '\0';
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        MHD_add_response_header(r, line, value);
    }
    free(copy);
}

/* Headers every answer gets, unless the handler chose its own. */
static void add_default_headers(struct MHD_Response *r, const struct web_response *res)
{
    MHD_add_response_header(r, "Content-Type",
                            res->content_type ? res->content_type : "text/html; charset=utf-8");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (!has_header(res, "Cache-Control"))
        MHD_add_response_header(r, "Cache-Control", "no-store");
    if (!has_header(res, "Content-Security-Policy")) {
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; frame-src 'self'; frame-ancestors 'none'; "
                                "form-action 'self'; base-uri 'none'");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
    }
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct web_response *res)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(res->body.len,
                                                             res->body.data ? res->body.data : "",
                                                             MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;   /* out of memory: libmicrohttpd closes the connection */
    add_default_headers(r, res);
    add_handler_headers(r, res);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
    MHD_destroy_response(r);
    return ok;
}

/* ---- requests ---- */

static void peer_of(struct MHD_Connection *c, char *out, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, n, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)n);
}

/* Behind the trusted proxy, the client is the last address the proxy
 * added to X-Forwarded-For (earlier ones are the client's own say). */
static void client_behind_proxy(const struct web_server *srv, struct MHD_Connection *c,
                                char *peer, size_t n)
{
    const char *xff = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-For");
    if (!srv->config->trusted_proxy[0] || strcmp(peer, srv->config->trusted_proxy) || !xff)
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    last += strspn(last, " ");
    char addr[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t len = strcspn(last, " ");
    if (len >= sizeof addr)
        return;
    memcpy(addr, last, len);
    addr[len] = '\0';
    if (inet_pton(AF_INET, addr, bin) == 1 || inet_pton(AF_INET6, addr, bin) == 1)
        snprintf(peer, n, "%s", addr);
}

/* The first call for a request: its state, and a body too big refused
 * before it is read. */
static enum MHD_Result request_begin(struct web_server *srv, struct MHD_Connection *c,
                                     void **con_cls)
{
    struct conn_state *st = calloc(1, sizeof *st);
    if (!st)
        return MHD_NO;
    *con_cls = st;
    st->srv = srv;
    peer_of(c, st->peer, sizeof st->peer);
    snprintf(st->proxy, sizeof st->proxy, "%s", st->peer);
    client_behind_proxy(srv, c, st->peer, sizeof st->peer);
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > srv->config->body_max)
        return send_plain(c, 413, "The request body is larger than this server accepts.");
    return MHD_YES;
}

static enum MHD_Result request_body(struct web_server *srv, struct conn_state *st,
                                    const char *data, size_t *size)
{
    if (!st->too_big && st->body.len + *size > srv->config->body_max)
        st->too_big = true;
    if (!st->too_big && buf_append(&st->body, data, *size) < 0)
        st->too_big = true;   /* out of memory: refused like a body too big */
    *size = 0;
    return MHD_YES;
}

/* ---- deferred answers ---- */

static void deferred_work(uv_work_t *w)
{
    struct deferred *d = w->data;
    d->work(d->arg);
}

static void server_stop_now(struct web_server *srv);

/* Back on the loop: the answer is queued on the suspended connection,
 * which is then resumed (libmicrohttpd allows queuing a response on a
 * suspended connection at any time). */
static void deferred_done(uv_work_t *w, int status)
{
    struct deferred *d = w->data;
    struct web_server *srv = d->srv;
    struct web_response res = {.status = 200, .body = BUF_INIT, .headers = BUF_INIT};
    if (status < 0 || d->after(d->arg, &res) < 0)
        web_respond_error(&res, 500, "The server could not answer; the log says why.");
    send_response(d->conn, &res);   /* it fails only when memory ran out: the connection closes */
    buf_free(&res.body);
    buf_free(&res.headers);
    MHD_resume_connection(d->conn);
    d->free_arg(d->arg);
    free(d);
    srv->deferred--;
    if (srv->stopping && !srv->deferred)
        server_stop_now(srv);
    else
        server_run(srv);
}

static enum MHD_Result start_deferred(struct web_server *srv, struct MHD_Connection *c,
                                      struct conn_state *st)
{
    struct deferred *d = st->deferred;
    st->deferred = NULL;
    d->conn = c;
    d->srv = srv;
    d->work_req.data = d;
    MHD_suspend_connection(c);
    if (uv_queue_work(srv->loop, &d->work_req, deferred_work, deferred_done) < 0) {
        MHD_resume_connection(c);
        d->free_arg(d->arg);
        free(d);
        return send_plain(c, 503, "The server is too busy; try again.");
    }
    srv->deferred++;
    return MHD_YES;
}

int web_defer(struct web_request *req, web_work_fn work, web_after_fn after,
              void (*free_arg)(void *arg), void *arg)
{
    struct conn_state *st = req->state;
    struct deferred *d = calloc(1, sizeof *d);
    if (!d || !st)
        return free(d), -1;
    d->work = work;
    d->after = after;
    d->free_arg = free_arg;
    d->arg = arg;
    st->deferred = d;
    return 0;
}

static enum MHD_Result request_complete(struct web_server *srv, struct MHD_Connection *c,
                                        struct conn_state *st, const char *url,
                                        const char *method)
{
    if (st->too_big)
        return send_plain(c, 413, "The request body is larger than this server accepts.");
    struct web_request req = {
        .method = method, .path = url, .peer = st->peer, .via = st->proxy,
        .body = st->body.data ? st->body.data : "", .body_len = st->body.len,
        .csrf = "", .spool = srv->spool, .config = srv->config, .auth = srv->auth, .conn = c,
        .state = st,
    };
    struct web_response res = {.status = 200, .body = BUF_INIT, .headers = BUF_INIT};
    web_dispatch(srv, &req, &res);
    for (int i = 0; i < req.nparams; i++)
        free(req.param_values[i]);
    if (st->deferred) {
        buf_free(&res.body);
        buf_free(&res.headers);
        return start_deferred(srv, c, st);
    }
    enum MHD_Result r = send_response(c, &res);
    buf_free(&res.body);
    buf_free(&res.headers);
    return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct web_server *srv = cls;
    struct conn_state *st = *con_cls;
    if (!st)
        return request_begin(srv, c, con_cls);
    if (*upload_size)
        return request_body(srv, st, upload, upload_size);
    return request_complete(srv, c, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)c, (void)code;
    struct conn_state *st = *con_cls;
    if (st) {
        buf_free(&st->body);
        free(st);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own complaints (a client that broke the protocol, a
 * limit reached) go to the central log as warnings. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg(LOG_WARN, NULL, "http: %s", line);
}

/* ---- the loop ---- */

static void on_timer(uv_timer_t *t)
{
    server_run(t->data);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    (void)status, (void)events;
    server_run(p->data);
}

static void server_run(struct web_server *srv)
{
    MHD_run(srv->mhd);
    MHD_UNSIGNED_LONG_LONG ms;
    if (MHD_get_timeout(srv->mhd, &ms) == MHD_YES)
        uv_timer_start(&srv->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&srv->timer);
}

/* ---- start and stop ---- */

/* "HOST:PORT" or "[V6]:PORT" into *SA. */
static int parse_listen(const char *listen, struct sockaddr_storage *sa, struct err *e)
{
    char host[128];
    const char *colon = strrchr(listen, ':');
    size_t hl = colon ? (size_t)(colon - listen) : 0;
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (!colon || hl == 0 || hl >= sizeof host || !*(colon + 1) || *end || port < 0 ||
        port > 65535)
        return err_set(e, "web.json: \"listen\" %s is not HOST:PORT (fix: e.g. "
                       "\"127.0.0.1:8470\", port 0 for any free one)", listen);
    memcpy(host, listen, hl);
    host[hl] = '\0';
    memset(sa, 0, sizeof *sa);
    struct sockaddr_in *v4 = (struct sockaddr_in *)sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)sa;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons((uint16_t)port);
            return 0;
        }
    }
    return err_set(e, "web.json: \"listen\" %s: the host must be an IPv4 address or [IPv6] "
                   "(fix: e.g. \"127.0.0.1:8470\")", listen);
}

static struct MHD_Daemon *daemon_start(struct web_server *srv, const struct sockaddr_storage *sa)
{
    const struct web_config *c = srv->config;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    if (sa->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,   /* first, so it gets every message */
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)sa,
        MHD_OPTION_CONNECTION_LIMIT, c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, c->per_ip_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->memory_limit,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 511u,
        MHD_OPTION_END);
}

int web_server_start(struct web_server *srv, uv_loop_t *loop, const struct spool *s,
                     const struct web_config *config, struct auth_state *auth, struct err *e)
{
    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->spool = s;
    srv->config = config;
    srv->auth = auth;
    struct sockaddr_storage sa;
    if (parse_listen(config->listen, &sa, e) < 0)
        return -1;
    errno = 0;
    if (!(srv->mhd = daemon_start(srv, &sa)))
        return err_set(e, "cannot listen on %s%s%s", config->listen, errno ? ": " : "",
                       errno ? strerror(errno) : " (is the address this machine's, and the "
                       "port free?)");
    const union MHD_DaemonInfo *port = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_BIND_PORT);
    const union MHD_DaemonInfo *fd = MHD_get_daemon_info(srv->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    srv->port = port ? port->port : 0;
    if (!fd || uv_poll_init(loop, &srv->poll, fd->epoll_fd) < 0) {
        MHD_stop_daemon(srv->mhd);
        srv->mhd = NULL;
        return err_set(e, "cannot watch the HTTP server's epoll descriptor");
    }
    uv_timer_init(loop, &srv->timer);
    srv->poll.data = srv->timer.data = srv;
    uv_poll_start(&srv->poll, UV_READABLE, on_poll);
    server_run(srv);
    return 0;
}

static void server_stop_now(struct web_server *srv)
{
    uv_poll_stop(&srv->poll);
    uv_timer_stop(&srv->timer);
    uv_close((uv_handle_t *)&srv->poll, NULL);
    uv_close((uv_handle_t *)&srv->timer, NULL);
    MHD_stop_daemon(srv->mhd);
    srv->mhd = NULL;
}

/* libmicrohttpd must not stop with a connection suspended: while
 * answers are being worked out, the stop waits for the last of them
 * (new connections are no longer accepted meanwhile). */
void web_server_stop(struct web_server *srv)
{
    if (!srv->mhd || srv->stopping)
        return;
    srv->stopping = true;
    if (srv->deferred) {
        MHD_socket fd = MHD_quiesce_daemon(srv->mhd);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
        return;
    }
    server_stop_now(srv);
}

/* ---- what handlers use of the connection ---- */

const char *web_header(const struct web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *web_query(const struct web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *web_cookie(const struct web_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}
