/*
 * metrics_render.c - the /metrics renderer alone, without HTTP: how long
 * metrics_render (web/metrics.c) takes on an existing spool.
 *
 *   make build/bench/metrics_render && build/bench/metrics_render SPOOL [RUNS]
 *
 * Renders the page RUNS times (default 2,000) and prints the median, 99th
 * percentile and largest time, and the page's size; RUNS 0 prints the
 * page itself.  bench/web.py makes
 * the spool (100,000 queued jobs) and measures the same over HTTP; run
 * this one on a spool it kept (--keep) to see the renderer's own part.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "bench/percentile.h"
#include "common/buf.h"
#include "common/clock.h"
#include "spool/spool.h"
#include "web/metrics.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: metrics_render SPOOL [RUNS]\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 2000;
    struct spool s;
    struct err e;
    if (runs < 0 || spool_open(&s, argv[1], &e) < 0) {
        fprintf(stderr, "metrics_render: %s\n", runs < 0 ? "RUNS must be 0 or more" : e.msg);
        return 1;
    }
    if (runs == 0) {
        struct buf page = BUF_INIT;
        int rc = metrics_render(&s, clock_wall(), &page, &e);
        fputs(rc == 0 ? buf_str(&page) : e.msg, rc == 0 ? stdout : stderr);
        buf_free(&page);
        spool_close(&s);
        return rc == 0 ? 0 : 1;
    }
    double *t = calloc((size_t)runs, sizeof *t);
    size_t size = 0;
    for (int i = 0; t && i < runs; i++) {
        struct buf out = BUF_INIT;
        double t0 = clock_mono();
        if (metrics_render(&s, clock_wall(), &out, &e) < 0) {
            fprintf(stderr, "metrics_render: %s\n", e.msg);
            return 1;
        }
        t[i] = clock_mono() - t0;
        size = out.len;
        buf_free(&out);
    }
    if (!t)
        return 1;
    printf("metrics_render on %s, %d runs: p50 %.3f ms, p99 %.3f ms, max %.3f ms; %zu bytes\n",
           argv[1], runs, percentile(t, runs, 0.50) * 1e3, percentile(t, runs, 0.99) * 1e3,
           percentile(t, runs, 1.0) * 1e3, size);
    free(t);
    spool_close(&s);
    return 0;
}
