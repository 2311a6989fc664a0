/* assignment.h - an assignment directory and its assignment.json (v1). */
#ifndef ASSAY_ASSIGNMENT_H
#define ASSAY_ASSIGNMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "sandbox/launcher.h"

struct test_kind;

enum visibility { VIS_VISIBLE, VIS_HIDDEN, VIS_AFTER_DUE_DATE };

struct test_def {
    const char *name;
    const struct test_kind *kind;
    double points;
    enum visibility visibility;
    struct run_limits limits;      /* the assignment's, overridden */
    json_t *spec;                  /* this test's object, validated */
};

struct assignment {
    char *dir;
    json_t *json;                  /* owns every string below */
    const char *title;
    const char *capability;
    const char **required_files;
    size_t n_required;
    struct run_limits limits;
    const char *rootfs;            /* the runs' system directories; NULL: the worker's */
    bool has_due;
    double due;                    /* seconds since the epoch */
    struct test_def *tests;
    size_t n_tests;
};

/* Loads DIR/assignment.json.  Returns 0, or -1 with every problem found
 * listed in *p as "$.json.path: reason" (file problems included). */
int assignment_load(const char *dir, struct assignment *a, struct problems *p);
void assignment_free(struct assignment *a);
/* True if PATH may name a root file system: absolute, not "/", no "..". */
bool rootfs_path_ok(const char *path);

const char *visibility_name(enum visibility v);

/* The defaults of DESIGN.md section 3. */
extern const struct run_limits assignment_default_limits;

#endif
