/*
 * config.c - assay-web's settings, read from the spool's web.json at
 * start-up (documented in docs/WEB.md):
 *
 *   { "listen": "127.0.0.1:8470", "tls": true, "trusted_proxy": "127.0.0.1",
 *     "sso_header": "X-Remote-User", "session_idle_seconds": 3600,
 *     "session_max_seconds": 43200, "max_connections": 256, ... }
 *
 * A missing file means the defaults (loopback, no TLS, no SSO).  A broken
 * one stops assay-web with every problem named, field and fix, since a
 * web server guessing at its security settings is worse than none.
 */
#include "web/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "web/metrics.h"

#define WEB_JSON_MAX (64u << 10)

void web_config_defaults(struct web_config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->listen, sizeof c->listen, "%s", WEB_DEFAULT_LISTEN);
    c->session_idle_s = 3600;
    c->session_max_s = 12 * 3600;
    c->max_connections = 512;
    c->per_ip_connections = 0;      /* behind a proxy every client is the proxy */
    c->timeout_s = 30;
    c->memory_limit = 128u << 10;
    c->body_max = 1u << 20;
    c->login_attempts = 5;
    c->login_window_s = 300;
}

static void read_text(const json_t *j, const char *key, char *out, size_t n, struct problems *p)
{
    const char *v = check_string(j, "web.json", key, false, p);
    if (v && strlen(v) >= n)
        problems_add(p, "web.json", "\"%s\" is too long (at most %zu characters)", key, n - 1);
    else if (v)
        snprintf(out, n, "%s", v);
}

static void read_numbers(const json_t *j, struct web_config *c, struct problems *p)
{
    c->session_idle_s = check_number(j, "web.json", "session_idle_seconds", c->session_idle_s,
                                     1, 30 * 86400, p);
    c->session_max_s = check_number(j, "web.json", "session_max_seconds", c->session_max_s,
                                    1, 90 * 86400, p);
    c->max_connections = (unsigned)check_number(j, "web.json", "max_connections",
                                                c->max_connections, 4, 100000, p);
    c->per_ip_connections = (unsigned)check_number(j, "web.json", "per_ip_connections",
                                                   c->per_ip_connections, 0, 100000, p);
    c->timeout_s = (unsigned)check_number(j, "web.json", "timeout_seconds", c->timeout_s, 1,
                                          3600, p);
    c->body_max = (size_t)check_number(j, "web.json", "body_max_bytes", (double)c->body_max,
                                       1024, 64.0 * (1 << 20), p);
    c->login_attempts = (unsigned)check_number(j, "web.json", "login_attempts",
                                               c->login_attempts, 1, 1000, p);
    c->login_window_s = check_number(j, "web.json", "login_window_seconds", c->login_window_s,
                                     1, 86400, p);
}

static const char *const web_keys[] = {
    "listen", "tls", "trusted_proxy", "sso_header", "session_idle_seconds",
    "session_max_seconds", "max_connections", "per_ip_connections", "timeout_seconds",
    "body_max_bytes", "login_attempts", "login_window_seconds",
    "start",     /* read by assay-scheduler (scheduler/web.c), checked here */
    "metrics",   /* read_metrics */
    NULL,
};

/* "metrics": {"token_file": PATH} (relative to the spool, or absolute):
 * scrapers must send that token; without it only loopback may scrape. */
static void read_metrics(const struct spool *s, const json_t *j, struct web_config *c,
                         struct problems *p)
{
    static const char *const keys[] = {"token_file", NULL};
    const json_t *m = json_object_get(j, "metrics");
    if (!m)
        return;
    if (!json_is_object(m)) {
        problems_add(p, "web.json", "\"metrics\" must be an object, e.g. {\"token_file\": "
                     "\"etc/metrics.token\"}");
        return;
    }
    check_known_keys(m, "web.json: metrics", keys, NULL, p);
    const char *file = check_string(m, "web.json: metrics", "token_file", false, p);
    if (!file)
        return;
    char *path = file[0] == '/' ? strdup(file) : spool_path(s, "%s", file);
    char *token = NULL;
    struct err e;
    if (!path)
        problems_add(p, "web.json", "out of memory");
    else if (metrics_token_load(path, &token, &e) < 0)
        problems_add(p, "web.json", "%s", e.msg);
    else if (strlen(token) >= sizeof c->metrics_token)
        problems_add(p, "web.json", "the token in %s (metrics.token_file) is too long: at most "
                     "%zu characters", path, sizeof c->metrics_token - 1);
    else
        snprintf(c->metrics_token, sizeof c->metrics_token, "%s", token);
    if (token)
        sodium_memzero(token, strlen(token));
    free(token);
    free(path);
}

static void read_all(const struct spool *s, const json_t *j, struct web_config *c,
                     struct problems *p)
{
    read_metrics(s, j, c, p);
    read_text(j, "listen", c->listen, sizeof c->listen, p);
    read_text(j, "trusted_proxy", c->trusted_proxy, sizeof c->trusted_proxy, p);
    read_text(j, "sso_header", c->sso_header, sizeof c->sso_header, p);
    const json_t *tls = json_object_get(j, "tls");
    if (tls && !json_is_boolean(tls))
        problems_add(p, "web.json", "\"tls\" must be true or false");
    c->tls = json_is_true(tls);
    read_numbers(j, c, p);
    const json_t *start = json_object_get(j, "start");
    if (start && !json_is_boolean(start))
        problems_add(p, "web.json", "\"start\" must be true (assay-scheduler starts assay-web) "
                     "or false");
    check_known_keys(j, "web.json", web_keys, NULL, p);
    if (c->sso_header[0] && !c->trusted_proxy[0])
        problems_add(p, "web.json", "\"sso_header\" needs \"trusted_proxy\": the address of the "
                     "proxy that sets it (else anyone could name themselves)");
}

int web_config_load(const struct spool *s, struct web_config *c, struct err *e)
{
    web_config_defaults(c);
    char *path = spool_path(s, "web.json");
    if (!path)
        return err_set(e, "out of memory");
    if (!fs_exists(path)) {
        free(path);
        return 0;
    }
    json_t *j = jsonutil_load_file(path, WEB_JSON_MAX, e);
    if (!j || !json_is_object(j)) {
        if (j)
            err_set(e, "%s: must hold a JSON object", path);
        json_decref(j);
        free(path);
        return -1;
    }
    struct problems p = {0};
    read_all(s, j, c, &p);
    json_decref(j);
    int rc = 0;
    if (p.count) {
        struct buf b = BUF_INIT;
        for (size_t i = 0; i < p.count; i++)
            buf_printf(&b, "%s%s", i ? "; " : "", p.items[i]);
        rc = err_set(e, "%s: %s", path, buf_str(&b));
        buf_free(&b);
    }
    problems_free(&p);
    free(path);
    return rc;
}
