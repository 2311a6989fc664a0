/* run.h - running another Assay program and reading what it prints. */
#ifndef ASSAY_RUN_H
#define ASSAY_RUN_H

#include "common/buf.h"
#include "common/err.h"

/* Runs ARGV (argv[0] a path) with standard output into *OUT (at most MAX
 * bytes kept; standard input and error are ours) and waits for it.
 * Returns its exit status (0-255), or -1 with *e set when it could not be
 * run or was killed by a signal. */
int run_capture(char *const argv[], size_t max, struct buf *out, struct err *e);

/* One program of run_capture_all: ARGV in; what it printed, its exit
 * status (or -1 with E set) out. */
struct run_job {
    char *const *argv;
    struct buf out;
    int rc;
    struct err e;
};
/* Runs the N programs of JOBS at once, as run_capture runs one, and
 * waits for them all. */
void run_capture_all(struct run_job *jobs, size_t n, size_t max);

#endif
