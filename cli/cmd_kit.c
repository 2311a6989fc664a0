/*
 * cmd_kit.c - `assay kit ASSIGNMENT_DIR OUT.zip`: the public tests of an
 * assignment as a kit students run on their own machine before they
 * submit.
 *
 * The zip holds one folder, NAME-kit/, with check.py (the runner,
 * engine/python/kit_check.py: one file, Python 3 only), kit.json (the
 * public tests with their limits and points, the required files, and
 * Assay's own pytest and doctest runners, so a student's local result is
 * the public part of Assay's), files/ (those tests' instructor files)
 * and README.txt.  Only visible tests of the kinds a student's machine
 * can run the way Assay does (io, command, pytest, doctest) go in.  A
 * hidden test's files never do: every path any other test names (a
 * string of its object that is a file or folder of the assignment) is
 * withheld, and a public test that needs one of them is left out too,
 * named with the reason; hidden tests themselves are not named.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "common/archive.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "engine/assets.h"
#include "engine/assignment.h"
#include "engine/kind.h"

static const char usage[] =
    "Usage: assay kit ASSIGNMENT_DIR OUT.zip\n"
    "\n"
    "Writes OUT.zip, a self-check kit for students: the assignment's public tests\n"
    "(io, command, pytest and doctest tests visible to students), their files,\n"
    "the required files list, and check.py, which runs those tests on a student's\n"
    "files with Python 3 only and prints the table `assay grade` prints for them.\n"
    "Hidden tests and every file they use are never in the kit.\n"
    "\n"
    "Exit status: 0 when the kit was written; 1 if it could not be; 2 for a usage\n"
    "error; 3 when assignment.json is invalid.\n";

static const char *const kit_kinds[] = {"io", "command", "pytest", "doctest", NULL};

static const char readme[] =
    "Self-check kit\n"
    "==============\n"
    "\n"
    "Run the assignment's public tests on your work before you submit it:\n"
    "\n"
    "    python3 check.py path/to/your/folder\n"
    "\n"
    "(or, from your folder, python3 path/to/check.py). It needs Python 3 only\n"
    "(and pytest, if the assignment has pytest tests), and prints the table Assay\n"
    "prints for these tests. Hidden tests are not in the kit: your grade may\n"
    "include tests it does not run. kit.json lists the tests and the files\n"
    "your submission must contain.\n";

struct kit {
    const struct assignment *a;
    json_t *withheld;   /* paths (files or folders) of tests not in the kit */
    json_t *tests;      /* kit.json's tests */
    json_t *left_out;   /* {"name", "reason"} */
    json_t *files;      /* instructor files to copy */
};

static bool is_kit_kind(const char *name)
{
    for (int i = 0; kit_kinds[i]; i++)
        if (!strcmp(kit_kinds[i], name))
            return true;
    return false;
}

/* Adds every string in V (nested) that names a file or folder of the
 * assignment to the withheld list; -1 if memory ran out (a path not
 * withheld could leak a hidden file, so the kit is not written). */
static int withhold_paths(struct kit *k, const json_t *v)
{
    if (json_is_string(v)) {
        const char *rel = json_string_value(v);
        char *path = fs_relpath_is_safe(rel) ? fs_join(k->a->sum.dir, rel) : NULL;
        int rc = path && fs_exists(path) ? json_array_append_new(k->withheld, json_string(rel)) : 0;
        free(path);
        return rc;
    }
    size_t i;
    const char *key;
    json_t *x;
    int rc = 0;
    if (json_is_array(v))
        json_array_foreach(v, i, x)
            rc |= withhold_paths(k, x);
    else if (json_is_object(v))
        json_object_foreach((json_t *)v, key, x)
            rc |= withhold_paths(k, x);
    return rc;
}

/* Whether REL is a withheld path or lies below one. */
static bool withheld(const struct kit *k, const char *rel)
{
    size_t i;
    const json_t *w;
    json_array_foreach(k->withheld, i, w) {
        const char *p = json_string_value(w);
        size_t n = strlen(p);
        if (!strcmp(p, rel) || (!strncmp(p, rel, n) && rel[n] == '/'))
            return true;
    }
    return false;
}

/* The instructor files test T needs on a student's machine: those in its
 * work directory, and its standard input and expected output. */
static json_t *files_of(const struct test_def *t)
{
    json_t *files = json_array();
    if (!files)
        return NULL;
    json_array_extend(files, json_object_get(t->spec, "support_files"));
    t->kind->instructor_files(t->spec, files);
    static const char *const io_files[] = {"stdin_file", "expected_stdout_file", "input_file",
                                           "expected_output_file", NULL};
    for (int i = 0; io_files[i]; i++)
        if (json_is_string(json_object_get(t->spec, io_files[i])))
            json_array_append(files, json_object_get(t->spec, io_files[i]));
    return files;
}

static bool is_public(const struct test_def *t)
{
    return t->visibility == VIS_VISIBLE;
}

static json_t *limits_json(const struct run_limits *l)
{
    return json_pack("{s:f, s:f, s:I, s:I, s:I, s:I}", "wall_s", l->wall_s, "cpu_s", l->cpu_s,
                     "memory_mb", (json_int_t)l->memory_mb, "processes", (json_int_t)l->processes,
                     "file_mb", (json_int_t)l->file_mb, "output_kb", (json_int_t)l->output_kb);
}

static int leave_out(struct kit *k, const struct test_def *t, const char *reason)
{
    return json_array_append_new(k->left_out, json_pack("{s:s, s:s}", "name", t->name,
                                                        "reason", reason));
}

/* Adds public test T to the kit, or to left_out with the reason. */
static int add_test(struct kit *k, const struct test_def *t)
{
    if (!is_kit_kind(t->kind->name)) {
        char reason[200];
        snprintf(reason, sizeof reason, "a %s test%s", t->kind->name,
                 !strcmp(t->kind->name, "property") ? " (it needs the reference solution, which "
                 "stays with your instructor)" : " (it runs only in Assay)");
        return leave_out(k, t, reason);
    }
    json_t *files = files_of(t);
    if (!files)
        return -1;
    size_t i;
    const json_t *f;
    bool secret = false;
    json_array_foreach(files, i, f)
        secret |= withheld(k, json_string_value(f));
    int rc;
    if (secret) {
        rc = leave_out(k, t, "it uses a file of a test that is not public");
    } else {
        json_t *entry = json_deep_copy(t->spec);
        rc = entry && json_object_set_new(entry, "limits", limits_json(&t->limits)) == 0 &&
                     json_object_set_new(entry, "points", json_real(t->points)) == 0 &&
                     json_object_set_new(entry, "planned_points", json_real(
                         t->kind->planned_points ? t->kind->planned_points(k->a->sum.dir, t)
                                                 : t->points)) == 0 &&
                     json_array_append_new(k->tests, entry) == 0 &&
                     json_array_extend(k->files, files) == 0 ? 0 : -1;
    }
    json_decref(files);
    return rc;
}

static int plan_kit(struct kit *k)
{
    int rc = 0;
    for (size_t i = 0; i < k->a->sum.n_tests; i++) {
        const struct test_def *t = &k->a->tests[i];
        if (!is_public(t) || !is_kit_kind(t->kind->name))
            rc |= withhold_paths(k, t->spec);
    }
    for (size_t i = 0; i < k->a->sum.n_tests && rc == 0; i++)
        if (is_public(&k->a->tests[i]))
            rc = add_test(k, &k->a->tests[i]);
    return rc;
}

static json_t *kit_json(const struct kit *k)
{
    json_t *required = json_array();
    for (size_t i = 0; required && i < k->a->sum.n_required; i++)
        json_array_append_new(required, json_string(k->a->sum.required_files[i]));
    json_t *runners = json_pack("{s:s, s:s}", "pytest_runner.py", asset_pytest_runner,
                                "doctest_runner.py", asset_doctest_runner);
    json_t *env = json_object_get(k->a->sum.json, "env");   /* the assignment's variables */
    env = env ? json_incref(env) : json_object();
    return json_pack("{s:i, s:s, s:o, s:O, s:O, s:o, s:o}", "kit", 1, "title", k->a->sum.title,
                     "required_files", required, "tests", k->tests, "left_out", k->left_out,
                     "runners", runners, "env", env);
}

/* Writes the kit's folder TOP (files, check.py, kit.json, README.txt). */
static int write_tree(const struct kit *k, const char *top, struct err *e)
{
    size_t i;
    const json_t *f;
    int rc = fs_mkdir_p(top, 0755, e);
    json_array_foreach(k->files, i, f) {
        const char *rel = json_string_value(f);
        char *src = fs_join(k->a->sum.dir, rel), *sub = NULL, *dst = NULL;
        if (rc == 0 && (asprintf(&sub, "files/%s", rel) < 0 || !(dst = fs_join(top, sub))))
            rc = err_set(e, "out of memory");
        char *slash = dst ? strrchr(dst, '/') : NULL;
        if (rc == 0 && slash) {
            *slash = '\0';
            rc = fs_mkdir_p(dst, 0755, e);
            *slash = '/';
        }
        if (rc == 0)
            rc = fs_copy_file(src, dst, 0644, e);
        free(src);
        free(sub);
        free(dst);
    }
    json_t *doc = rc == 0 ? kit_json(k) : NULL;
    char *check = fs_join(top, "check.py"), *kj = fs_join(top, "kit.json");
    char *rd = fs_join(top, "README.txt");
    if (rc == 0 && (!doc || !check || !kj || !rd))
        rc = err_set(e, "out of memory");
    if (rc == 0)
        rc = fs_write_file(check, asset_kit_check, strlen(asset_kit_check), false, e);
    if (rc == 0)
        rc = jsonutil_save_file(kj, doc, e);
    struct buf text = BUF_INIT;
    buf_puts(&text, readme);
    buf_puts(&text, "\nFiles your submission must contain:");
    for (size_t r = 0; r < k->a->sum.n_required; r++)
        buf_printf(&text, "%s%s", r ? ", " : " ", k->a->sum.required_files[r]);
    if (buf_puts(&text, k->a->sum.n_required ? ".\n" : " (none listed).\n") < 0 && rc == 0)
        rc = err_set(e, "out of memory");
    if (rc == 0)
        rc = fs_write_file(rd, text.data, text.len, false, e);
    buf_free(&text);
    json_decref(doc);
    free(check);
    free(kj);
    free(rd);
    return rc;
}

/* NAME-kit: the assignment folder's last component. */
static char *kit_folder_name(const char *dir)
{
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    const char *start = dir + len;
    while (start > dir && start[-1] != '/')
        start--;
    char *name = NULL;
    if (asprintf(&name, "%.*s-kit", (int)(dir + len - start), start) < 0)
        return NULL;
    return name;
}

static int write_kit(const struct kit *k, const char *out, struct err *e)
{
    char *tmp = NULL, *name = kit_folder_name(k->a->sum.dir), *top = NULL, *prefix = NULL;
    int rc = name ? fs_mkdtemp(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", "assay-kit-", &tmp, e)
                  : err_set(e, "out of memory");
    if (rc == 0 && (!(top = fs_join(tmp, name)) || asprintf(&prefix, "%s/", name) < 0))
        rc = err_set(e, "out of memory");
    if (rc == 0)
        rc = write_tree(k, top, e);
    struct archive_part part = {.dir = top, .prefix = prefix};
    if (rc == 0)
        rc = archive_create(out, &part, 1, e);
    struct err ignored;   /* a scratch copy left in TMPDIR harms nothing */
    if (tmp)
        fs_remove_tree(tmp, &ignored);
    free(tmp);
    free(name);
    free(top);
    free(prefix);
    return rc;
}

static void print_summary(const struct kit *k, const char *out)
{
    size_t i, hidden = 0;
    const json_t *x;
    for (i = 0; i < k->a->sum.n_tests; i++)
        hidden += !is_public(&k->a->tests[i]);
    cli_printf(stdout, "wrote %s: %zu public test%s", out, json_array_size(k->tests),
               json_array_size(k->tests) == 1 ? "" : "s");
    json_array_foreach(k->tests, i, x)
        cli_printf(stdout, "%s%s", i ? ", " : " (", jsonutil_str(x, "name", "?"));
    cli_printf(stdout, "%s; %zu test%s not public, not in the kit\n",
               json_array_size(k->tests) ? ")" : "", hidden, hidden == 1 ? "" : "s");
    json_array_foreach(k->left_out, i, x)
        cli_printf(stdout, "left out: %s: %s\n", jsonutil_str(x, "name", "?"),
                   jsonutil_str(x, "reason", ""));
}

static int load(const char *dir, struct assignment *a)
{
    struct problems p = {0};
    if (assignment_load(dir, a, &p) == 0)
        return 0;
    cli_printf(stderr, "assay kit: %s/assignment.json is invalid (%zu problem%s):\n", dir,
               p.count, p.count == 1 ? "" : "s");
    for (size_t i = 0; i < p.count; i++)
        cli_printf(stderr, "  %s\n", p.items[i]);
    problems_free(&p);
    return -1;
}

int cmd_kit(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (argc != 3) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct assignment a;
    if (load(argv[1], &a) < 0) {
        assignment_free(&a);
        return EXIT_INVALID_ASSIGNMENT;
    }
    struct kit k = {.a = &a, .withheld = json_array(), .tests = json_array(),
                    .left_out = json_array(), .files = json_array()};
    struct err e;
    int rc = EXIT_OK;
    if (!k.withheld || !k.tests || !k.left_out || !k.files || plan_kit(&k) < 0) {
        fprintf(stderr, "assay kit: out of memory\n");
        rc = EXIT_FAILED;
    } else if (write_kit(&k, argv[2], &e) < 0) {
        cli_printf(stderr, "assay kit: %s\n", e.msg);
        rc = EXIT_FAILED;
    } else {
        print_summary(&k, argv[2]);
    }
    json_decref(k.withheld);
    json_decref(k.tests);
    json_decref(k.left_out);
    json_decref(k.files);
    assignment_free(&a);
    return rc;
}
