/* intake.h - assay-intake's handling of one queued push (push.c). */
#ifndef ASSAY_INTAKE_H
#define ASSAY_INTAKE_H

#include "spool/spool.h"

#define INTAKE_MAX_ATTEMPTS 6       /* fetches of one push before it fails */
#define INTAKE_BACKOFF_FIRST_S 30.0
#define INTAKE_BACKOFF_MAX_S 1800.0
#define INTAKE_FETCH_TIMEOUT_S 300.0

/* Handles the push NAME in pushes/incoming/ if it is due at NOW: fetch,
 * stage, submit, settle.  Returns 0 when it is settled (or was a
 * repeat), else the time (seconds since the epoch) it is due again. */
double intake_push(const struct spool *s, const char *name, double now);

#endif
