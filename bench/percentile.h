/* percentile.h - the timing benchmarks' percentiles (engine_overhead,
 * sandbox_overhead): nearest rank after sorting, so both report alike. */
#ifndef ASSAY_BENCH_PERCENTILE_H
#define ASSAY_BENCH_PERCENTILE_H

#include <stdlib.h>

static int bench_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* The P-th percentile (0..1) of the N values in V, which it sorts. */
static inline double percentile(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return v[(int)(p * (n - 1) + 0.5)];
}

#endif
