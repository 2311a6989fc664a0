/* assignment.h - what every process reads of an assignment.json (v1,
 * docs/ASSIGNMENTS.md): its top level, and its tests' number and time
 * limits.  The engine reads the tests themselves, each checked by its
 * kind (engine/assignment.h). */
#ifndef ASSAY_ASSIGNMENT_SUMMARY_H
#define ASSAY_ASSIGNMENT_SUMMARY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "contract/late.h"
#include "contract/limits.h"

struct assignment_summary {
    char *dir;                     /* the assignment directory */
    json_t *json;                  /* assignment.json; owns every string below */
    const char *title;
    const char *capability;        /* "python" when not given */
    const char **required_files;
    size_t n_required;
    struct run_limits limits;      /* the assignment's */
    const char *rootfs;            /* the runs' system directories; NULL: the worker's */
    bool has_due;
    double due;                    /* seconds since the epoch */
    struct late_policy late;
    bool late_ok;                  /* the late policy has no problem: it may be applied */
    json_t *tests;                 /* the "tests" list (NULL if there is none) */
    size_t n_tests;
    struct run_limits *test_limits;   /* each test's: the assignment's, overridden */
    double wall_budget_s;          /* the wall-clock seconds all tests may take */
};

/* Reads DIR/assignment.json.  Returns 0, or -1 with every problem found
 * listed in *p as "$.json.path: reason"; what could be read is filled in
 * either way (defaults for the rest), and must be freed.  A file that
 * cannot be read leaves the defaults (NULL json) and one problem. */
int assignment_summary_load(const char *dir, struct assignment_summary *s, struct problems *p);
void assignment_summary_free(struct assignment_summary *s);

/* Checks ENV, an "env" object of assignment.json (at JSON path PATH):
 * variable names of letters, digits and _, string values, none of the
 * names Assay sets for every run or the dynamic linker reads. */
void assignment_env_check(const json_t *env, const char *path, struct problems *p);

/* True if PATH may name a root file system: absolute, not "/", no "..". */
bool rootfs_path_ok(const char *path);

#endif
