/* logread.h - reading the central logs with a filter (logread.c), for
 * `assay logs` and assay-web's admin log pages. */
#ifndef ASSAY_LOGREAD_H
#define ASSAY_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "spool/spool.h"

struct log_filter {
    const char *job, *worker;  /* NULL: any */
    const char *course;        /* NULL: any; else lines naming "COURSE/" in their message */
    bool errors;               /* only errors (and every stack trace) */
    double since;              /* 0, or only lines at or after this time (epoch seconds) */
};

/* Whether LINE of logs/assay.log ("TIME PROCESS[PID] WORKER JOB LEVEL
 * MESSAGE") passes F. */
bool log_line_matches(const char *line, const struct log_filter *f);
/* Whether LINE of logs/traces.log passes F. */
bool log_trace_matches(const char *line, const struct log_filter *f);
/* "30s", "10m", "2h", "1d" in seconds; -1 when it is none of those. */
double log_parse_since(const char *s);
/* The lines of S's logs/NAME ("assay.log", "traces.log") that pass F,
 * from at most the last TAIL bytes of the file, the last MAX_LINES of
 * them, appended to OUT (each ending in a newline).  -1 when the file
 * cannot be read (it may not exist yet). */
int log_read_matching(const struct spool *s, const char *name, const struct log_filter *f,
                      size_t tail, size_t max_lines, struct buf *out);

#endif
