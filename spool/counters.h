/* counters.h - the spool's running totals for /metrics: counters and
 * histograms that survive restarts, kept in stats/counters.json and the
 * log of counts since, stats/counters.log. */
#ifndef ASSAY_COUNTERS_H
#define ASSAY_COUNTERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/err.h"
#include "spool/spool.h"

#define COUNTERS_FILE "stats/counters.json"
#define COUNTERS_MAX_BYTES (16u << 20)

/* One change: a counter NAME{LABELS} grows by VALUE, or the histogram
 * NAME{LABELS} observes VALUE.  LABELS is the label list as Prometheus
 * writes it between braces (counters_labels makes one; "" for none). */
struct counter_inc {
    const char *name;
    const char *labels;
    double value;
    bool histogram;
};

/* Applies N changes at once: appended to the counters' log in one write.
 * Callers do this after the fact they count is on disk, and only log a
 * failure (-1, *e says why): a lost count never undoes the fact. */
int counters_add(const struct spool *s, const struct counter_inc *incs, size_t n, struct err *e);

/* The upper bounds of histogram NAME's buckets (+Inf is implied after
 * the last), or NULL for a name that is no histogram. */
const double *counters_buckets(const char *name, size_t *n);

/* Every total so far (the folded ones and the log since):
 * {"counters": {NAME: {LABELS: n}}, "histograms": {NAME: {LABELS:
 * {"buckets": [n per bucket, then +Inf], "sum": s, "count": n}}}}, empty
 * objects when nothing was counted yet; NULL with *e when they cannot
 * be read. */
json_t *counters_load(const struct spool *s, struct err *e);

/* Appends the label pair NAME="VALUE" (VALUE escaped as the Prometheus
 * text format wants: backslash, double quote, line feed) to OUT, after a
 * comma when OUT is not empty. */
void counters_label(struct buf *out, const char *name, const char *value);

#endif
