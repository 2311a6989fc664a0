/* course.h - courses/<course>/course.json: a course's settings. */
#ifndef ASSAY_COURSE_H
#define ASSAY_COURSE_H

#include <stdbool.h>

#include "common/err.h"
#include "spool/spool.h"

#define COURSE_WEIGHT_MIN 0.01
#define COURSE_WEIGHT_MAX 1000.0

struct course_config {
    double weight;              /* its share of a worker pool; default 1 */
    bool supersede;             /* a newer version replaces a queued older one */
    char rootfs[1024];          /* the runs' root file system for assignments that
                                 * name none ("" the worker's own) */
    const char *destinations[4];    /* where its results are delivered ("canvas"):
                                     * one per delivery block present (spool/delivery.h),
                                     * each block read by its destination */
    int n_destinations;
};

/* Reads S's courses/COURSE/course.json (a missing file means the
 * defaults).  Returns 0, or -1 with every problem in *p, each naming the
 * file and the field; the settings that could be read are still set and
 * the rest keep their defaults. */
int course_config_load(const struct spool *s, const char *course, struct course_config *cfg,
                       struct problems *p);

#endif
