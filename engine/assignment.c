/*
 * assignment.c - loads and validates an assignment directory.
 *
 * The format (v1) is documented key by key in docs/ASSIGNMENTS.md.
 * Loading checks everything an instructor can get wrong before any
 * student is graded: types, ranges, unknown (misspelt) keys, files that
 * do not exist, regexes that do not compile.  Every problem is listed
 * with its JSON path.  The top level and the tests' limits are read by
 * the summary every process shares (contract/assignment.c); the tests
 * are read here, each test kind checking its own keys.
 */
#define _GNU_SOURCE
#include "engine/assignment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/check.h"
#include "engine/kind.h"
#include "contract/late.h"

static const char *const test_keys[] = {"name", "kind", "points", "visibility", "limits",
                                        "support_files", "env", "stop_if_failed", NULL};

static void check_file_list(const char *dir, const json_t *obj, const char *path,
                            const char *key, struct problems *p)
{
    const json_t *list = json_object_get(obj, key);
    if (!json_is_array(list))
        return;
    size_t i;
    const json_t *item;
    json_array_foreach(list, i, item) {
        if (!json_is_string(item))
            continue;
        char where[300];
        snprintf(where, sizeof where, "%s.%s[%zu]", path, key, i);
        check_instructor_file(dir, json_string_value(item), where, p);
    }
}

static void parse_test(struct assignment *a, size_t i, json_t *t, struct problems *p)
{
    char path[64];
    snprintf(path, sizeof path, "$.tests[%zu]", i);
    struct test_def *def = &a->tests[i];
    def->spec = t;
    if (!json_is_object(t)) {
        problems_add(p, path, "must be an object");
        return;
    }
    def->name = check_string(t, path, "name", true, p);
    const char *kind = check_string(t, path, "kind", true, p);
    if (kind && !(def->kind = kind_find(kind))) {
        char where[80];
        snprintf(where, sizeof where, "%s.kind", path);
        problems_add(p, where, "\"%s\" is not a test kind Assay knows (%s)", kind, kind_names());
    }
    def->points = check_number(t, path, "points", 1, 0, 1e6, p);
    int vis = check_enum(t, path, "visibility", visibility_names, p);
    def->visibility = vis < 0 ? VIS_VISIBLE : (enum visibility)vis;
    if (def->visibility == VIS_AFTER_DUE_DATE && !json_object_get(a->sum.json, "due"))
        problems_add(p, path, "visibility \"after_due_date\" needs the assignment's \"due\"");
    def->limits = a->sum.test_limits[i];   /* read with the summary */
    check_string_list(t, path, "support_files", false, p);
    check_file_list(a->sum.dir, t, path, "support_files", p);
    assignment_env_check(json_object_get(t, "env"), path, p);
    const json_t *stop = json_object_get(t, "stop_if_failed");
    if (stop && !json_is_boolean(stop))
        problems_add(p, path, "\"stop_if_failed\" must be true (the tests after this one run "
                     "only when it passes) or false");
    check_known_keys(t, path, test_keys, def->kind ? def->kind->keys : NULL, p);
    if (def->kind)
        def->kind->validate(a->sum.dir, t, path, p);
    for (size_t j = 0; j < i && def->name; j++)
        if (a->tests[j].name && !strcmp(a->tests[j].name, def->name))
            problems_add(p, path, "the name \"%s\" is already used by $.tests[%zu]", def->name, j);
}

int assignment_load(const char *dir, struct assignment *a, struct problems *p)
{
    memset(a, 0, sizeof *a);
    size_t before = p->count;
    assignment_summary_load(dir, &a->sum, p);   /* its problems are ours: counted below */
    if (!a->sum.tests)
        return -1;   /* no list of tests to read */
    a->tests = calloc(a->sum.n_tests + 1, sizeof *a->tests);
    if (!a->tests) {
        problems_add(p, "$.tests", "out of memory reading the tests");
        return -1;
    }
    for (size_t i = 0; i < a->sum.n_tests; i++)
        parse_test(a, i, json_array_get(a->sum.tests, i), p);
    return p->count > before ? -1 : 0;
}

void assignment_free(struct assignment *a)
{
    free(a->tests);
    assignment_summary_free(&a->sum);
    memset(a, 0, sizeof *a);
}
