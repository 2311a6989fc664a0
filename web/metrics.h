/* metrics.h - /metrics: the spool's state in the Prometheus text format
 * (0.0.4), independent of HTTP so unit tests and bench/ call it alone. */
#ifndef ASSAY_WEB_METRICS_H
#define ASSAY_WEB_METRICS_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"
#include "spool/spool.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Appends the metrics of spool S at time NOW (seconds since the epoch)
 * to OUT.  -1 with *e only when memory ran out; what cannot be read
 * (a broken health record, no counters yet) is left out or zero. */
int metrics_render(const struct spool *s, double now, struct buf *out, struct err *e);

/* Reads the bearer token scrapers must send from PATH, which must be a
 * regular file of its owner's only (mode 0600 or stricter) holding one
 * line of at least 16 characters.  *token is malloc'd.  -1 with a message
 * naming the file and the fix. */
int metrics_token_load(const char *path, char **token, struct err *e);

/* Whether a scrape may have the metrics.  Without TOKEN: only from a
 * loopback address (PEER) and not through a proxy (FORWARDED is the
 * X-Forwarded-For header, NULL when absent).  With TOKEN: only with
 * AUTHORIZATION "Bearer TOKEN", from anywhere. */
bool metrics_allowed(const char *token, const char *peer, const char *forwarded,
                     const char *authorization);

#endif
