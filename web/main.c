/*
 * main.c - assay-web, the web console of a spool: staff pages per
 * course, admin pages, students' own results (docs/WEB.md).
 *
 *   assay-web --spool S [--listen HOST:PORT] [--die-with-parent]
 *
 * One process, one libuv loop (server.c).  It reads the spool through
 * spool/ and changes it only through the functions the assay tool uses,
 * so it never blocks the scheduler or a shipper; it may be restarted at
 * any time (sessions are kept in memory: a restart signs everyone out).
 * Once listening it prints "listening on http://HOST:PORT" on standard
 * output and writes the same address to S/web.addr, so that whoever
 * started it with port 0 learns the port it got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sodium.h>
#include <uv.h>

#include "common/crash.h"
#include "common/log.h"
#include "web/auth.h"
#include "web/config.h"
#include "web/data.h"
#include "web/server.h"

static const char usage[] =
    "Usage: assay-web --spool S [--listen HOST:PORT] [--die-with-parent]\n"
    "\n"
    "Serves the web console of spool S (docs/WEB.md).  --listen overrides\n"
    "web.json's \"listen\" (default " WEB_DEFAULT_LISTEN "; port 0: any free port).\n";

struct web_main {
    uv_loop_t loop;
    uv_signal_t sigterm, sigint;
    struct spool spool;
    struct web_config config;
    struct auth_state *auth;
    struct web_server server;
};

static void on_signal(uv_signal_t *h, int signum)
{
    struct web_main *m = h->data;
    log_msg(LOG_INFO, NULL, "web: stopping (signal %d)", signum);
    web_server_stop(&m->server);
    uv_close((uv_handle_t *)&m->sigterm, NULL);
    uv_close((uv_handle_t *)&m->sigint, NULL);
}

static void open_logs(struct web_main *m)
{
    char *logpath = spool_path(&m->spool, "logs/assay.log");
    char *traces = spool_path(&m->spool, "logs/traces.log");
    if (log_open("assay-web", logpath) < 0 || !logpath)
        fprintf(stderr, "assay-web: cannot open the spool's logs/assay.log: %s; logging here\n",
                logpath ? strerror(errno) : "out of memory");
    crash_install(traces, "assay-web");
    free(logpath);
    free(traces);
}

/* Says where it listens: stdout's first line, and S/web.addr. */
static void announce(struct web_main *m)
{
    char host[128], addr[160];
    snprintf(host, sizeof host, "%s", m->config.listen);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    snprintf(addr, sizeof addr, "http://%s:%u\n", host, m->server.port);
    printf("listening on %s", addr);
    fflush(stdout);
    struct err e;
    if (spool_write(&m->spool, "web.addr", addr, strlen(addr), &e) < 0)
        log_msg(LOG_WARN, NULL, "web: cannot write web.addr (the address is still on standard "
                "output): %s", e.msg);
    log_msg(LOG_INFO, NULL, "web: listening on %.*s", (int)strlen(addr) - 1, addr);
}

static int start(struct web_main *m, const char *root, const char *listen)
{
    struct err e;
    if (sodium_init() < 0)
        return fprintf(stderr, "assay-web: libsodium cannot start\n"), -1;
    if (spool_open(&m->spool, root, &e) < 0)
        return fprintf(stderr, "assay-web: %s\n", e.msg), -1;
    if (web_config_load(&m->spool, &m->config, &e) < 0)
        return fprintf(stderr, "assay-web: %s\n", e.msg), -1;
    if (listen && snprintf(m->config.listen, sizeof m->config.listen, "%s", listen) >=
        (int)sizeof m->config.listen)
        return fprintf(stderr, "assay-web: --listen %s is too long\n", listen), -1;
    open_logs(m);
    if (!(m->auth = auth_new(&m->spool, &m->config)))
        return fprintf(stderr, "assay-web: out of memory\n"), -1;
    uv_loop_init(&m->loop);
    if (web_server_start(&m->server, &m->loop, &m->spool, &m->config, m->auth, &e) < 0) {
        fprintf(stderr, "assay-web: %s\n", e.msg);
        uv_loop_close(&m->loop);
        return -1;
    }
    return 0;
}

static void run(struct web_main *m)
{
    uv_signal_init(&m->loop, &m->sigterm);
    uv_signal_init(&m->loop, &m->sigint);
    m->sigterm.data = m->sigint.data = m;
    uv_signal_start(&m->sigterm, on_signal, SIGTERM);
    uv_signal_start(&m->sigint, on_signal, SIGINT);
    announce(m);
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m->loop);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"listen", required_argument, NULL, 'l'},
        {"die-with-parent", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *listen = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': root = optarg; break;
        case 'l': listen = optarg; break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc)
        return fputs(usage, stderr), 2;
    signal(SIGPIPE, SIG_IGN);
    struct web_main m;
    memset(&m, 0, sizeof m);
    int rc = start(&m, spool_root_from(root), listen) < 0 ? 1 : 0;
    if (rc == 0)
        run(&m);
    auth_free(m.auth);
    data_forget();
    spool_close(&m.spool);
    log_close();
    return rc;
}
