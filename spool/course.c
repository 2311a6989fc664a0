/*
 * course.c - a course's scheduling settings, courses/<course>/course.json.
 *
 *   { "weight": 2, "supersede": true, "rootfs": "/srv/assay/roots/cs101",
 *     "instructors": ["ada"], "tas": ["tom", "tia"] }
 *
 * Read by assay-scheduler (the fair policy's weights, superseding queued
 * versions; re-read every few seconds, so edits apply without a restart),
 * by assay-shipper (the root file system a job's runs use, sent with the
 * job), by whoever records a result (which destinations get a delivery,
 * spool/delivery.c), by assay-web (who is staff of the course:
 * course_role_of) and documented in docs/SPOOL.md.  A delivery block
 * ("lms") is only noted here; its destination reads and checks it
 * (deliver/destination.c).  A broken file never stops grading:
 * the problems are reported and the defaults used for what is wrong.
 */
#define _GNU_SOURCE
#include "spool/course.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "spool/scan.h"
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

/* "instructors" and "tas": lists of user names (the web console's roles). */
static void read_staff(const json_t *j, const char *where, const char *key, struct problems *p)
{
    const json_t *v = json_object_get(j, key), *name;
    size_t i;
    if (v && !json_is_array(v)) {
        problems_add(p, where, "\"%s\" must be a list of user names, such as [\"ada\"]", key);
        return;
    }
    json_array_foreach(v, i, name)
        if (!json_is_string(name) || !spool_name_is_valid(json_string_value(name)))
            problems_add(p, where, "\"%s\"[%zu] must be a user name (letters, digits, '-', "
                         "'_', '.', '@'; at most 64)", key, i);
}

static bool is_known_key(const char *key)
{
    static const char *const keys[] = {"weight", "supersede", "rootfs", "instructors", "tas",
                                       "git", NULL};
    for (int i = 0; keys[i]; i++)
        if (!strcmp(key, keys[i]))
            return true;
    return false;
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
            read_staff(j, where, "instructors", p);
            read_staff(j, where, "tas", p);
            char at[340];   /* read by assay-web and assay-intake */
            snprintf(at, sizeof at, "%s: $.git", where);
            if (json_object_get(j, "git"))
                forge_check_git_block(json_object_get(j, "git"), at, p);
            const char *key;
            json_t *val;
            json_object_foreach(j, key, val) {
                const char *dest = delivery_dest_of_block(key);
                if (dest && cfg->n_destinations < 4)
                    cfg->destinations[cfg->n_destinations++] = dest;
                else if (!is_known_key(key))
                    problems_add(p, where, "unknown key \"%s\" (is it misspelt?)", key);
            }
        }
        json_decref(j);
    }
    free(path);
    return p->count > before ? -1 : 0;
}

#define ROSTER_MAX_BYTES (16u << 20)

/* The "students" list of courses/COURSE/roster.json (a new reference;
 * [] when there is none or it cannot be read). */
static json_t *roster_load(const struct spool *s, const char *course)
{
    char *path = spool_path(s, "courses/%s/roster.json", course);
    struct err e;
    json_t *j = path && fs_exists(path) ? jsonutil_load_file(path, ROSTER_MAX_BYTES, &e) : NULL;
    free(path);
    json_t *students = json_object_get(j, "students");
    students = json_is_array(students) ? json_incref(students) : json_array();
    json_decref(j);
    return students;
}

static bool listed(const json_t *list, const char *user);

bool course_on_roster(const struct spool *s, const char *course, const char *user)
{
    json_t *students = roster_load(s, course);
    bool found = listed(students, user);
    json_decref(students);
    return found;
}

int course_roster_enrol(const struct spool *s, const char *course, const json_t *rows,
                        size_t *added, struct err *e)
{
    json_t *students = roster_load(s, course);
    size_t i;
    const json_t *row;
    *added = 0;
    json_array_foreach(rows, i, row) {
        const char *name = json_string_value(json_is_array(row) ? json_array_get(row, 0) : row);
        if (name && !listed(students, name) && json_array_append_new(students, json_string(name)) == 0)
            (*added)++;
    }
    char *rel = NULL;
    json_t *doc = students ? json_pack("{s:O}", "students", students) : NULL;
    int rc = doc && asprintf(&rel, "courses/%s/roster.json", course) >= 0
                 ? spool_write_json(s, rel, doc, e) : err_set(e, "out of memory");
    free(rel);
    json_decref(doc);
    json_decref(students);
    return rc;
}

static bool listed(const json_t *list, const char *user)
{
    size_t i;
    const json_t *v;
    json_array_foreach(list, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), user))
            return true;
    return false;
}

/* True when USER has submitted anything to COURSE (submissions/COURSE/A/USER). */
static bool has_submitted(const struct spool *s, const char *course, const char *user)
{
    char *dir = spool_path(s, "submissions/%s", course);
    struct fs_list l = {0};
    bool found = false;
    if (dir && scan_dir(dir, SCAN_NAMES, &l) == 0)
        for (size_t i = 0; i < l.n && !found; i++) {
            char *sub = spool_path(s, "submissions/%s/%s/%s", course, l.names[i], user);
            found = sub && fs_is_dir(sub);
            free(sub);
        }
    fs_list_free(&l);
    free(dir);
    return found;
}

enum course_role course_role_of(const struct spool *s, const char *course, const char *user)
{
    if (!spool_name_is_valid(course) || !spool_name_is_valid(user))
        return COURSE_ROLE_NONE;
    char *path = spool_path(s, "courses/%s/course.json", course);
    struct err e;
    json_t *j = path && fs_exists(path) ? jsonutil_load_file(path, COURSE_MAX_BYTES, &e) : NULL;
    free(path);
    enum course_role role = COURSE_ROLE_NONE;
    if (listed(json_object_get(j, "instructors"), user))
        role = COURSE_ROLE_INSTRUCTOR;
    else if (listed(json_object_get(j, "tas"), user))
        role = COURSE_ROLE_TA;
    else if (course_on_roster(s, course, user) || has_submitted(s, course, user))
        role = COURSE_ROLE_STUDENT;
    json_decref(j);
    return role;
}
