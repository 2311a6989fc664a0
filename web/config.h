/* config.h - assay-web's settings: the "web" object of the spool's
 * web.json, checked with file/field/fix messages (config.c). */
#ifndef ASSAY_WEB_CONFIG_H
#define ASSAY_WEB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "spool/spool.h"

#define WEB_DEFAULT_LISTEN "127.0.0.1:8470"

struct web_config {
    char listen[128];            /* "HOST:PORT"; port 0: any free one */
    bool tls;                    /* served to browsers over https (behind a proxy) */
    char trusted_proxy[64];      /* the proxy's address; its X-Forwarded-* are believed */
    char sso_header[64];         /* "" off; else the header naming the user (from the proxy) */
    double session_idle_s;       /* a session unused this long ends */
    double session_max_s;        /* and any session ends this long after login */
    unsigned max_connections;    /* MHD connection limit */
    unsigned per_ip_connections; /* per client address */
    unsigned timeout_s;          /* idle connection timeout */
    size_t memory_limit;         /* per connection (headers, buffers) */
    size_t body_max;             /* request body limit; bigger: 413 */
    unsigned login_attempts;     /* failed logins allowed per user and per address ... */
    double login_window_s;       /* ... within this window, then 429 */
    char metrics_token[256];     /* "metrics": {"token_file"}'s token; "" loopback only */
};

void web_config_defaults(struct web_config *c);
/* Reads S/web.json when it exists (absent: the defaults).  -1 with a
 * message naming the file, the field and the fix. */
int web_config_load(const struct spool *s, struct web_config *c, struct err *e);

#endif
