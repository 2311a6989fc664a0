/* course.h - courses/<course>/course.json: a course's settings. */
#ifndef ASSAY_COURSE_H
#define ASSAY_COURSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

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

/* What USER is in COURSE, for the web console: instructor or TA when
 * course.json names them ("instructors", "tas"), student when on the
 * course's roster (courses/COURSE/roster.json) or when they have submitted
 * to it.  A broken course.json names no staff (its problems are reported
 * by the scheduler and assay status). */
enum course_role { COURSE_ROLE_NONE, COURSE_ROLE_STUDENT, COURSE_ROLE_TA, COURSE_ROLE_INSTRUCTOR };
enum course_role course_role_of(const struct spool *s, const char *course, const char *user);
/* Whether USER is on COURSE's roster. */
bool course_on_roster(const struct spool *s, const char *course, const char *user);
/* Adds the names in ROWS (a list of names, or of lists whose first item
 * is one) to COURSE's roster; *ADDED gets how many were new. */
int course_roster_enrol(const struct spool *s, const char *course, const json_t *rows,
                        size_t *added, struct err *e);

#endif
