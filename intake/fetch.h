/* fetch.h - one HTTP GET into a file, bounded (libcurl). */
#ifndef ASSAY_INTAKE_FETCH_H
#define ASSAY_INTAKE_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

struct fetch_result {
    long status;            /* HTTP status of the last answer; 0: none came */
    bool too_big;           /* stopped: more than MAX bytes */
    char error[256];        /* status 0: why (no secret in it) */
};

/* GETs URL with the N HEADERS ("Name: value") into the new file PATH,
 * following up to 3 redirects (the headers are not sent to another
 * host), at most MAX bytes, TIMEOUT_S in all.  0 once an answer came or
 * the transfer failed (R says which); -1 with *e only for a local
 * failure (PATH cannot be written, out of memory). */
int fetch_to_file(const char *url, char *const *headers, int n, const char *path, uint64_t max,
                  double timeout_s, struct fetch_result *r, struct err *e);

#endif
