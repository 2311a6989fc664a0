/* backoff.h - how long to wait before trying again. */
#ifndef ASSAY_BACKOFF_H
#define ASSAY_BACKOFF_H

/* The wait after FAILURES consecutive failures (1 for the first): FIRST,
 * doubled after each further failure, never more than MAX; 0 when
 * FAILURES < 1 (nothing failed: no wait). */
double backoff_delay(int failures, double first, double max);

#endif
