/*
 * assignment.c - loads and validates an assignment directory.
 *
 * The format (v1) is DESIGN.md section 3, documented key by key in
 * docs/ASSIGNMENTS.md.  Loading checks everything an instructor can get
 * wrong before any student is graded: types, ranges, unknown (misspelt)
 * keys, files that do not exist, regexes that do not compile.  Every
 * problem is listed with its JSON path; test kinds check their own keys.
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

#define ASSIGNMENT_MAX_BYTES (4u << 20)

const struct run_limits assignment_default_limits = {
    .wall_s = 10, .cpu_s = 5, .memory_mb = 256, .processes = 32,
    .file_mb = 8, .output_kb = 256,
};

static const char *const top_keys[] = {"assay", "title", "capability", "required_files",
                                       "limits", "due", "late", "tests", "rootfs",
                                       NULL};
static const char *const test_keys[] = {"name", "kind", "points", "visibility", "limits",
                                        "support_files", NULL};
static const char *const limit_keys[] = {"wall_s", "cpu_s", "memory_mb", "processes",
                                         "file_mb", "output_kb", NULL};
static const char *const visibility_names[] = {"visible", "hidden", "after_due_date", NULL};

const char *visibility_name(enum visibility v)
{
    return visibility_names[v];
}

/* Reads an optional "limits" object over BASE. */
static struct run_limits parse_limits(const json_t *obj, const char *path,
                                      struct run_limits base, struct problems *p)
{
    const json_t *l = json_object_get(obj, "limits");
    if (!l)
        return base;
    char where[256];
    snprintf(where, sizeof where, "%s.limits", path);
    if (!json_is_object(l)) {
        problems_add(p, where, "must be an object");
        return base;
    }
    check_known_keys(l, where, limit_keys, NULL, p);
    base.wall_s = check_number(l, where, "wall_s", base.wall_s, 0.01, 3600, p);
    base.cpu_s = check_number(l, where, "cpu_s", base.cpu_s, 0.01, 3600, p);
    base.memory_mb = (long)check_number(l, where, "memory_mb", (double)base.memory_mb, 16, 65536, p);
    base.processes = (long)check_number(l, where, "processes", (double)base.processes, 1, 4096, p);
    base.file_mb = (long)check_number(l, where, "file_mb", (double)base.file_mb, 1, 65536, p);
    base.output_kb = (long)check_number(l, where, "output_kb", (double)base.output_kb, 1, 1048576, p);
    return base;
}

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
    if (def->visibility == VIS_AFTER_DUE_DATE && !json_object_get(a->json, "due"))
        problems_add(p, path, "visibility \"after_due_date\" needs the assignment's \"due\"");
    def->limits = parse_limits(t, path, a->limits, p);
    check_string_list(t, path, "support_files", false, p);
    check_file_list(a->dir, t, path, "support_files", p);
    check_known_keys(t, path, test_keys, def->kind ? def->kind->keys : NULL, p);
    if (def->kind)
        def->kind->validate(a->dir, t, path, p);
    for (size_t j = 0; j < i && def->name; j++)
        if (a->tests[j].name && !strcmp(a->tests[j].name, def->name))
            problems_add(p, path, "the name \"%s\" is already used by $.tests[%zu]", def->name, j);
}

static void parse_top(struct assignment *a, struct problems *p)
{
    json_t *j = a->json;
    check_known_keys(j, "$", top_keys, NULL, p);
    const json_t *version = json_object_get(j, "assay");
    if (!json_is_integer(version) || json_integer_value(version) != 1)
        problems_add(p, "$.assay", "must be 1 (the assignment format version)");
    a->title = check_string(j, "$", "title", true, p);
    a->capability = check_string(j, "$", "capability", false, p);
    if (!a->capability)
        a->capability = "python";
    a->n_required = check_string_list(j, "$", "required_files", false, p);
    const json_t *req = json_object_get(j, "required_files");
    a->required_files = calloc(a->n_required + 1, sizeof *a->required_files);
    for (size_t i = 0; i < a->n_required; i++) {
        const char *name = json_string_value(json_array_get(req, i));
        a->required_files[i] = name ? name : "";
        if (name && !fs_relpath_is_safe(name)) {
            char where[64];
            snprintf(where, sizeof where, "$.required_files[%zu]", i);
            problems_add(p, where, "\"%s\" must be a relative file name", name);
        }
    }
    a->limits = parse_limits(j, "$", assignment_default_limits, p);
    const char *due = check_string(j, "$", "due", false, p);
    if (due && !(a->has_due = clock_parse_iso8601(due, &a->due)))
        problems_add(p, "$.due", "\"%s\" is not an ISO 8601 time such as "
                     "2026-11-30T23:59:00Z", due);
    struct late_policy late;
    late_policy_read(j, &late, p);   /* applied when the result is recorded */
    a->rootfs = check_string(j, "$", "rootfs", false, p);
    if (a->rootfs && !rootfs_path_ok(a->rootfs))
        problems_add(p, "$.rootfs", "\"%s\" must be an absolute directory path on the worker "
                     "(not \"/\", without \"..\")", a->rootfs);
}

bool rootfs_path_ok(const char *path)
{
    size_t n = strlen(path);
    bool ends_in_dotdot = n >= 3 && !strcmp(path + n - 3, "/..");
    return path[0] == '/' && n > 1 && !strstr(path, "/../") && !ends_in_dotdot;
}

int assignment_load(const char *dir, struct assignment *a, struct problems *p)
{
    memset(a, 0, sizeof *a);
    a->dir = strdup(dir);
    char *path = fs_join(dir, "assignment.json");
    struct err e;
    a->json = jsonutil_load_file(path, ASSIGNMENT_MAX_BYTES, &e);
    free(path);
    if (!a->json) {
        problems_add(p, "assignment.json", "%s", e.msg);
        return -1;
    }
    if (!json_is_object(a->json)) {
        problems_add(p, "$", "assignment.json must hold a JSON object");
        return -1;
    }
    parse_top(a, p);
    json_t *tests = json_object_get(a->json, "tests");
    if (!json_is_array(tests)) {
        problems_add(p, "$.tests", tests ? "must be a list" : "required key is missing");
        return -1;
    }
    a->n_tests = json_array_size(tests);
    a->tests = calloc(a->n_tests + 1, sizeof *a->tests);
    for (size_t i = 0; i < a->n_tests; i++)
        parse_test(a, i, json_array_get(tests, i), p);
    return p->count ? -1 : 0;
}

void assignment_free(struct assignment *a)
{
    free(a->dir);
    free(a->required_files);
    free(a->tests);
    json_decref(a->json);
    memset(a, 0, sizeof *a);
}
