/* assignment.h - an assignment directory and its assignment.json (v1):
 * the summary every process reads (contract/assignment.h), and the tests,
 * each checked by its kind. */
#ifndef ASSAY_ASSIGNMENT_H
#define ASSAY_ASSIGNMENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "contract/assignment.h"
#include "contract/results.h"
#include "sandbox/launcher.h"

struct test_kind;

struct test_def {
    const char *name;
    const struct test_kind *kind;
    double points;
    enum visibility visibility;
    struct run_limits limits;      /* the assignment's, overridden */
    json_t *spec;                  /* this test's object, validated */
};

struct assignment {
    struct assignment_summary sum; /* its json owns every string here */
    struct test_def *tests;        /* sum.n_tests of them */
};

/* Loads DIR/assignment.json.  Returns 0, or -1 with every problem found
 * listed in *p as "$.json.path: reason" (file problems included). */
int assignment_load(const char *dir, struct assignment *a, struct problems *p);
void assignment_free(struct assignment *a);

#endif
