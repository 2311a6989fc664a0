/* clock.h - monotonic and wall-clock time, ISO 8601 stamps. */
#ifndef ASSAY_CLOCK_H
#define ASSAY_CLOCK_H

#include <stdbool.h>
#include <time.h>

double clock_mono(void);             /* seconds, monotonic */
double clock_wall(void);             /* seconds since the epoch */
/* "2026-11-22T10:15:02.123Z" for T (seconds since the epoch). */
void clock_iso8601(double t, char out[32]);
/* Parses "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM|-HH:MM)"; false if invalid. */
bool clock_parse_iso8601(const char *s, double *out);

#endif
