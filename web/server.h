/* server.h - the HTTP server: libmicrohttpd driven by a libuv loop. */
#ifndef ASSAY_WEB_SERVER_H
#define ASSAY_WEB_SERVER_H

#include <stdbool.h>
#include <uv.h>

#include "common/err.h"
#include "spool/spool.h"
#include "web/config.h"

struct auth_state;

struct web_server {
    uv_loop_t *loop;
    struct MHD_Daemon *mhd;
    uv_poll_t poll;              /* libmicrohttpd's epoll descriptor */
    uv_timer_t timer;            /* its next timeout */
    const struct spool *spool;
    const struct web_config *config;
    struct auth_state *auth;     /* sessions, login limits (auth.c) */
    unsigned port;               /* the port bound (when the config said 0) */
    unsigned deferred;           /* requests waiting for work on libuv's pool */
    bool stopping;               /* stop once the last of them is answered */
};

/* Binds the address of CONFIG and registers the server on LOOP. */
int web_server_start(struct web_server *srv, uv_loop_t *loop, const struct spool *s,
                     const struct web_config *config, struct auth_state *auth, struct err *e);
/* Stops accepting, closes every connection and the loop's handles. */
void web_server_stop(struct web_server *srv);

#endif
