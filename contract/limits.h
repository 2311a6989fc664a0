/* limits.h - the limits of a test's runs: assignment.json's "limits"
 * (docs/ASSIGNMENTS.md), which the launchers enforce. */
#ifndef ASSAY_LIMITS_H
#define ASSAY_LIMITS_H

#include <jansson.h>

#include "common/err.h"

struct run_limits {
    double wall_s;       /* wall clock, whole process group */
    double cpu_s;        /* CPU time */
    long memory_mb;
    long processes;
    long file_mb;        /* largest file the run may write */
    long output_kb;      /* per stream; more is dropped and the run stopped */
};

/* The defaults of an assignment that gives none. */
extern const struct run_limits assignment_default_limits;

/* OBJ's "limits" object (at JSON path PATH) over BASE: each key given
 * replaces BASE's; every problem is added to *P. */
struct run_limits limits_read(const json_t *obj, const char *path, struct run_limits base,
                              struct problems *p);

#endif
