/*
 * course.c - a course's scheduling settings, courses/<course>/course.json.
 *
 *   { "weight": 2, "supersede": true, "rootfs": "/srv/assay/roots/cs101" }
 *
 * Read by assay-scheduler (the fair policy's weights, superseding queued
 * versions; re-read every few seconds, so edits apply without a restart),
 * by assay-shipper (the root file system a job's runs use, sent with the
 * job), by whoever records a result (which destinations get a delivery,
 * spool/delivery.c) and documented in docs/SPOOL.md.  A delivery block
 * ("lms") is only noted here; its destination reads and checks it
 * (deliver/destination.c).  A broken file never stops grading:
 * the problems are reported and the defaults used for what is wrong.
 */
#include "spool/course.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/assignment.h"
#include "spool/delivery.h"
#include "spool/forges.h"

#define COURSE_MAX_BYTES (64u << 10)

static void read_weight(const json_t *j, const char *where, struct course_config *cfg,
                        struct problems *p)
{
    const json_t *v = json_object_get(j, "weight");
    if (!v)
        return;
    double w = json_is_number(v) ? json_number_value(v) : NAN;
    if (!json_is_number(v))
        problems_add(p, where, "\"weight\" must be a number");
    else if (!(w >= COURSE_WEIGHT_MIN && w <= COURSE_WEIGHT_MAX))
        problems_add(p, where, "\"weight\" %g is out of range (%g to %g)", w, COURSE_WEIGHT_MIN,
                     COURSE_WEIGHT_MAX);
    else
        cfg->weight = w;
}

/* The directory the course's runs use as their system, for assignments
 * that do not name their own (assignment.json "rootfs"). */
static void read_rootfs(const json_t *j, const char *where, struct course_config *cfg,
                        struct problems *p)
{
    const json_t *v = json_object_get(j, "rootfs");
    const char *path = json_string_value(v);
    if (v && (!path || !rootfs_path_ok(path) || strlen(path) >= sizeof cfg->rootfs))
        problems_add(p, where, "\"rootfs\" must be an absolute directory path on the workers "
                     "(not \"/\", without \"..\")");
    else if (path)
        snprintf(cfg->rootfs, sizeof cfg->rootfs, "%s", path);
}

int course_config_load(const struct spool *s, const char *course, struct course_config *cfg,
                       struct problems *p)
{
    cfg->weight = 1;
    cfg->supersede = false;
    cfg->rootfs[0] = '\0';
    cfg->n_destinations = 0;
    char *path = spool_path(s, "courses/%s/course.json", course);
    size_t before = p->count;
    if (fs_exists(path)) {
        struct err e;
        json_t *j = jsonutil_load_file(path, COURSE_MAX_BYTES, &e);
        char where[300];
        snprintf(where, sizeof where, "courses/%s/course.json", course);
        if (!j) {
            problems_add(p, where, "%s", e.msg);
        } else if (!json_is_object(j)) {
            problems_add(p, where, "must hold a JSON object");
        } else {
            read_weight(j, where, cfg, p);
            const json_t *v = json_object_get(j, "supersede");
            if (v && !json_is_boolean(v))
                problems_add(p, where, "\"supersede\" must be true or false");
            else if (v)
                cfg->supersede = json_is_true(v);
            read_rootfs(j, where, cfg, p);
            if (json_object_get(j, "git"))   /* read by assay-web and assay-intake */
                forge_check_git_block(json_object_get(j, "git"), where, p);
            const char *key;
            json_t *val;
            json_object_foreach(j, key, val) {
                const char *dest = delivery_dest_of_block(key);
                if (dest && cfg->n_destinations < 4)
                    cfg->destinations[cfg->n_destinations++] = dest;
                else if (strcmp(key, "weight") && strcmp(key, "supersede") &&
                         strcmp(key, "rootfs") && strcmp(key, "git"))
                    problems_add(p, where, "unknown key \"%s\" (is it misspelt?)", key);
            }
        }
        json_decref(j);
    }
    free(path);
    return p->count > before ? -1 : 0;
}
