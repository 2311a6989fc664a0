/*
 * assignment.c - reads what every process needs of an assignment.json:
 * its summary (contract/assignment.h).
 *
 * The scheduler (whether an assignment has tests; what a job costs until
 * grading history says better), the shipper (how long a worker may
 * take), the recorder (the late policy) and `assay submit` (the
 * capability) read it here, and so does the engine, before it reads the
 * tests themselves with their kinds (engine/assignment.c).  Loading checks
 * the top level as an instructor would want it checked - types, ranges,
 * misspelt keys - and lists every problem with its JSON path; what could
 * be read is used.
 */
#define _GNU_SOURCE
#include "contract/assignment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/check.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"

#define ASSIGNMENT_MAX_BYTES (4u << 20)

static const char *const top_keys[] = {"assay", "title", "capability", "required_files",
                                       "limits", "due", "late", "tests", "rootfs", "env", NULL};

/* Variables every run gets from Assay (engine/engine.c), which "env" may not change. */
static const char *const env_reserved[] = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TERM",
                                           "PYTHONDONTWRITEBYTECODE", "MPLBACKEND", NULL};
#define ENV_MAX_VARS 64
#define ENV_MAX_VALUE 4096

void assignment_env_check(const json_t *env, const char *path, struct problems *p)
{
    char where[300];
    snprintf(where, sizeof where, "%s.env", path);
    if (!env)
        return;
    if (!json_is_object(env) || json_object_size(env) > ENV_MAX_VARS) {
        problems_add(p, where, "must be an object of at most %d variables, such as "
                     "{\"MY_SEED\": \"42\"}", ENV_MAX_VARS);
        return;
    }
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)env, name, v) {
        bool ok = *name && !(*name >= '0' && *name <= '9') &&
                  strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") ==
                      strlen(name) && strlen(name) <= 128;
        bool reserved = !strncmp(name, "LD_", 3);
        for (size_t i = 0; env_reserved[i]; i++)
            reserved |= !strcmp(name, env_reserved[i]);
        if (!ok)
            problems_add(p, where, "\"%.128s\" is not a variable name (letters, digits and _, "
                         "not starting with a digit)", name);
        else if (reserved)
            problems_add(p, where, "%s is set by Assay for every run (or read by the dynamic "
                         "linker) and cannot be changed here", name);
        else if (!json_is_string(v) || json_string_length(v) > ENV_MAX_VALUE)
            problems_add(p, where, "%s must be a string of at most %d characters (write "
                         "numbers in quotes: \"42\")", name, ENV_MAX_VALUE);
    }
}

bool rootfs_path_ok(const char *path)
{
    size_t n = strlen(path);
    bool ends_in_dotdot = n >= 3 && !strcmp(path + n - 3, "/..");
    return path[0] == '/' && n > 1 && !strstr(path, "/../") && !ends_in_dotdot;
}

static void read_required(struct assignment_summary *s, struct problems *p)
{
    s->n_required = check_string_list(s->json, "$", "required_files", false, p);
    const json_t *req = json_object_get(s->json, "required_files");
    s->required_files = calloc(s->n_required + 1, sizeof *s->required_files);
    if (!s->required_files) {
        s->n_required = 0;
        problems_add(p, "$.required_files", "out of memory reading the list");
        return;
    }
    for (size_t i = 0; i < s->n_required; i++) {
        const char *name = json_string_value(json_array_get(req, i));
        s->required_files[i] = name ? name : "";
        if (name && !fs_relpath_is_safe(name)) {
            char where[64];
            snprintf(where, sizeof where, "$.required_files[%zu]", i);
            problems_add(p, where, "\"%s\" must be a relative file name", name);
        }
    }
}

static void read_top(struct assignment_summary *s, struct problems *p)
{
    json_t *j = s->json;
    check_known_keys(j, "$", top_keys, NULL, p);
    const json_t *version = json_object_get(j, "assay");
    if (!json_is_integer(version) || json_integer_value(version) != 1)
        problems_add(p, "$.assay", "must be 1 (the assignment format version)");
    s->title = check_string(j, "$", "title", true, p);
    s->capability = check_string(j, "$", "capability", false, p);
    if (!s->capability)
        s->capability = "python";
    read_required(s, p);
    s->limits = limits_read(j, "$", assignment_default_limits, p);
    const char *due = check_string(j, "$", "due", false, p);
    if (due && !(s->has_due = clock_parse_iso8601(due, &s->due)))
        problems_add(p, "$.due", "\"%s\" is not an ISO 8601 time such as "
                     "2026-11-30T23:59:00Z", due);
    size_t before = p->count;
    late_policy_read(j, &s->late, p);   /* applied when the result is recorded */
    s->late_ok = p->count == before;
    assignment_env_check(json_object_get(j, "env"), "$", p);
    s->rootfs = check_string(j, "$", "rootfs", false, p);
    if (s->rootfs && !rootfs_path_ok(s->rootfs))
        problems_add(p, "$.rootfs", "\"%s\" must be an absolute directory path on the worker "
                     "(not \"/\", without \"..\")", s->rootfs);
}

/* Each test's limits (the assignment's, overridden) and their sum. */
static void read_tests(struct assignment_summary *s, struct problems *p)
{
    json_t *tests = json_object_get(s->json, "tests");
    if (!json_is_array(tests)) {
        problems_add(p, "$.tests", tests ? "must be a list" : "required key is missing");
        s->wall_budget_s = s->limits.wall_s;
        return;
    }
    s->tests = tests;
    s->n_tests = json_array_size(tests);
    s->wall_budget_s = 0;
    s->test_limits = calloc(s->n_tests + 1, sizeof *s->test_limits);
    if (!s->test_limits) {
        s->n_tests = 0;
        problems_add(p, "$.tests", "out of memory reading the tests");
        return;
    }
    for (size_t i = 0; i < s->n_tests; i++) {
        char path[64];
        snprintf(path, sizeof path, "$.tests[%zu]", i);
        const json_t *t = json_array_get(tests, i);
        /* a test that is no object is the engine's to report */
        s->test_limits[i] = json_is_object(t) ? limits_read(t, path, s->limits, p) : s->limits;
        s->wall_budget_s += s->test_limits[i].wall_s;
    }
}

int assignment_summary_load(const char *dir, struct assignment_summary *s, struct problems *p)
{
    memset(s, 0, sizeof *s);
    s->capability = "python";
    s->limits = assignment_default_limits;
    s->wall_budget_s = assignment_default_limits.wall_s;
    if (!dir || !(s->dir = strdup(dir))) {
        problems_add(p, "assignment.json", "out of memory");
        return -1;
    }
    char *path = fs_join(dir, "assignment.json");
    struct err e;
    s->json = jsonutil_load_file(path, ASSIGNMENT_MAX_BYTES, &e);
    free(path);
    if (!s->json) {
        problems_add(p, "assignment.json", "%s", e.msg);
        return -1;
    }
    if (!json_is_object(s->json)) {
        problems_add(p, "$", "assignment.json must hold a JSON object");
        json_decref(s->json);
        s->json = NULL;
        return -1;
    }
    size_t before = p->count;
    read_top(s, p);
    read_tests(s, p);
    return p->count > before ? -1 : 0;
}

void assignment_summary_free(struct assignment_summary *s)
{
    free(s->dir);
    free(s->required_files);
    free(s->test_limits);
    json_decref(s->json);
    memset(s, 0, sizeof *s);
}
