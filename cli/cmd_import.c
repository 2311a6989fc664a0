/*
 * cmd_import.c - `assay import classroom REPO_DIR`: a GitHub Classroom
 * assignment (its .github/classroom/autograding.json) as an Assay
 * assignment, graded as Classroom's autograder grades it.
 *
 * Each Classroom test becomes one Assay test with the same name and
 * points.  A test with an input or an output is an `io` test: Classroom
 * passes it when the command exits 0 and its output, with Windows line
 * ends read as Unix ones and trimmed at both ends, equals ("exact":
 * compare "stripped"), contains ("included": compare "contains" with the
 * trimmed expected text) or matches ("regex") the expected one.  A test
 * with neither is a `command` test: it passes when the command exits 0.
 * The timeout (minutes) becomes the test's wall and CPU limit.  A setup
 * command runs before the test's command, its output discarded, and
 * fails the test when it fails, as in Classroom; a setup that installs
 * packages (pip, apt, npm, sudo) is left out and said, since the sandbox
 * has no network: the workers need those packages instead.
 *
 * Classroom's current format, a workflow .github/workflows/classroom.yml
 * with one step per test (classroom_workflow.c), is read when there is no
 * autograding.json, with the graders' own rules: io-grader (input and
 * output trimmed, "exact", "contains", "regex"), command-grader (exit
 * 0), python-grader (pytest on the repository's *_test.py files, the
 * points split evenly over the tests collected: a `pytest` test), each
 * with its timeout (minutes, default 10) and max-score.
 *
 * The starter repository's test files (test_*.py, *_test.py, conftest.py
 * and everything under a test/ or tests/ folder) are copied into the
 * assignment as instructor files given to every test, so a student's
 * push cannot change the tests that grade it.  With --course the
 * assignment is built in the spool's tmp/ and renamed into
 * courses/COURSE/ASSIGNMENT; with --out into that folder; with neither,
 * assignment.json is printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/classroom.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "engine/assignment.h"
#include "engine/compare.h"

#define AUTOGRADING_JSON ".github/classroom/autograding.json"
#define WORKFLOW_YML ".github/workflows/classroom.yml"
#define AUTOGRADING_MAX_BYTES (4u << 20)
#define WALL_MAX_S 3600.0   /* the largest wall_s an assignment may ask for */

static const char usage[] =
    "Usage: assay import classroom REPO_DIR [--course C] [--assignment A] [OPTIONS]\n"
    "\n"
    "Turns a GitHub Classroom starter repository's .github/classroom/autograding.json\n"
    "(or its .github/workflows/classroom.yml) into an Assay assignment that scores each submission as Classroom's autograder\n"
    "would, and copies the repository's test files into it as instructor files.\n"
    "\n"
    "Options:\n"
    "  --course C         install it in the spool as courses/C/A\n"
    "  --assignment A     its name (default: the repository folder's name)\n"
    "  --spool S          the spool (default $ASSAY_SPOOL or " SPOOL_DEFAULT_ROOT ")\n"
    "  --out DIR          write the assignment folder DIR instead (not with --course)\n"
    "  --title T          the title (default: \"A (GitHub Classroom)\")\n"
    "  --force            replace an assignment that is already there\n"
    "  -h, --help         show this help\n"
    "\n"
    "With neither --course nor --out, prints the assignment.json it would write.\n";

struct import_opts {
    const char *repo, *spool, *course, *assignment, *out, *title;
    bool force;
};

static const char *const comparisons[] = {"included", "exact", "regex", NULL};
enum { CLASSROOM_INCLUDED, CLASSROOM_EXACT, CLASSROOM_REGEX };

static int parse_opts(int argc, char **argv, struct import_opts *o)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},  {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"out", required_argument, NULL, 'o'},
        {"title", required_argument, NULL, 't'},  {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->assignment = optarg; break;
        case 'o': o->out = optarg; break;
        case 't': o->title = optarg; break;
        case 'f': o->force = true; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    if (optind + 2 != argc || strcmp(argv[optind], "classroom")) {
        fprintf(stderr, "assay import: give \"classroom\" and one repository folder\n");
        return -1;
    }
    o->repo = argv[optind + 1];
    if (o->course && o->out) {
        fprintf(stderr, "assay import: give --course or --out, not both\n");
        return -1;
    }
    return 0;
}

/* The assignment's name: --assignment, or the repository folder's. */
static char *assignment_name(const struct import_opts *o)
{
    if (o->assignment)
        return strdup(o->assignment);
    char *full = realpath(o->repo, NULL);   /* "." and "repo/" have a name too */
    char *name = full ? strdup(basename(full)) : strdup(o->repo);
    free(full);
    return name;
}

/* ---- the repository's test files -------------------------------------- */

static bool is_test_file(const char *rel)
{
    if (!strncmp(rel, ".git/", 5) || !strncmp(rel, ".github/", 8))
        return false;
    if (!strncmp(rel, "tests/", 6) || !strncmp(rel, "test/", 5) || strstr(rel, "/tests/") ||
        strstr(rel, "/test/"))
        return true;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    size_t n = strlen(base);
    return !strcmp(base, "conftest.py") || (!strncmp(base, "test_", 5) && n > 8 &&
           !strcmp(base + n - 3, ".py")) || (n > 8 && !strcmp(base + n - 8, "_test.py"));
}

static int collect_test_file(const char *rel, off_t size, void *arg)
{
    (void)size;
    if (is_test_file(rel) && json_array_append_new(arg, json_string(rel)) < 0)
        return -1;
    return 0;
}

/* ---- one Classroom test ------------------------------------------------ */

/* A setup that installs packages needs the network the sandbox lacks. */
static bool setup_installs(const char *setup)
{
    static const char *const installers[] = {"pip install", "pip3 install", "apt-get ",
                                             "apt ", "npm install", "npm ci", "sudo ", NULL};
    for (int i = 0; installers[i]; i++)
        if (strstr(setup, installers[i]))
            return true;
    return false;
}

/* The command Assay runs: the setup (output discarded, as Classroom
 * only logs it) and, if it succeeded, the test's command. */
static char *test_command(const char *setup, const char *run)
{
    char *cmd = NULL;
    if (!setup || !*setup)
        return strdup(run);
    if (asprintf(&cmd, "{ %s\n} </dev/null >/dev/null || exit 1\n%s", setup, run) < 0)
        return NULL;
    return cmd;
}

/* Classroom's patterns are JavaScript's; POSIX has no \d or \D (glibc
 * knows \s \S \w \W \b), so those two are spelt out outside brackets. */
static char *regex_to_posix(const char *js)
{
    struct buf out = BUF_INIT;
    bool in_class = false;
    int rc = buf_append(&out, "", 0);
    for (const char *p = js; rc == 0 && *p; p++) {
        if (*p == '\\' && p[1] && !in_class && (p[1] == 'd' || p[1] == 'D')) {
            rc = buf_puts(&out, p[1] == 'd' ? "[0-9]" : "[^0-9]");
            p++;
        } else if (*p == '\\' && p[1]) {
            rc = buf_append(&out, p, 2);
            p++;
        } else {
            if (*p == '[')
                in_class = true;
            else if (*p == ']')
                in_class = false;
            rc = buf_append(&out, p, 1);
        }
    }
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out);
}

/* Classroom's trim() of the expected text, CR LF read as LF. */
static char *classroom_normalize(const char *s)
{
    size_t len = strlen(s), n = 0;
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if (!(s[i] == '\r' && s[i + 1] == '\n'))
            out[n++] = s[i];
    out[n] = '\0';
    size_t start = strspn(out, " \t\r\n\f\v");
    while (n > start && strchr(" \t\r\n\f\v", out[n - 1]))
        out[--n] = '\0';
    memmove(out, out + start, n - start + 1);
    return out;
}

/* The expected-output part of an io test: compare mode and text. */
static int io_expectation(json_t *test, int comparison, const char *output, const char *where,
                          struct problems *p)
{
    char why[256];
    char *text = comparison == CLASSROOM_REGEX ? regex_to_posix(output)
                                               : classroom_normalize(output);
    if (!text)
        return -1;
    if (comparison == CLASSROOM_REGEX && compare_regex_check(text, why, sizeof why) < 0)
        problems_add(p, where, "the pattern cannot be read as a POSIX extended regular "
                     "expression (%s); rewrite it without JavaScript-only syntax", why);
    const char *mode = comparison == CLASSROOM_EXACT ? "stripped"
                       : comparison == CLASSROOM_REGEX ? "regex" : "contains";
    int rc = json_object_set_new(test, "compare", json_string(mode)) |
             json_object_set_new(test, "expected_stdout", json_string(text));
    free(text);
    return rc ? -1 : 0;
}

/* Converts test number I of autograding.json (at PATH in the file). */
static json_t *convert_test(const json_t *ct, const char *path, const json_t *support,
                            struct problems *p)
{
    const char *name = check_string(ct, path, "name", true, p);
    const char *run = check_string(ct, path, "run", true, p);
    const char *setup = check_string(ct, path, "setup", false, p);
    const char *input = check_string(ct, path, "input", false, p);
    const char *output = check_string(ct, path, "output", false, p);
    int comparison = check_enum(ct, path, "comparison", comparisons, p);
    double minutes = check_number(ct, path, "timeout", 1, 0.001, 1e6, p);
    double points = json_is_null(json_object_get(ct, "points"))
                    ? 0 : check_number(ct, path, "points", 0, 0, 1e9, p);
    if (!name || !run || comparison < 0)
        return NULL;
    if (setup && *setup && setup_installs(setup)) {
        cli_printf(stderr, "assay import: %s (\"%s\"): its setup \"%s\" installs packages and "
                   "is left out (the sandbox has no network); install what it needs on the "
                   "workers as Debian packages (python3-pytest for pytest)\n", path, name, setup);
        setup = NULL;
    }
    char *command = test_command(setup, run);
    double wall = minutes * 60 > WALL_MAX_S ? WALL_MAX_S : minutes * 60;
    bool io = (input && *input) || (output && *output);
    json_t *t = command ? json_pack("{s:s, s:s, s:f, s:s, s:{s:f, s:f}, s:O}", "name", name,
                                    "kind", io ? "io" : "command", "points", points,
                                    "command", command, "limits", "wall_s", wall, "cpu_s",
                                    wall, "support_files", support) : NULL;
    free(command);
    char where[300];
    snprintf(where, sizeof where, "%s.output", path);
    if (t && io && ((input && *input && json_object_set_new(t, "stdin", json_string(input))) ||
                    io_expectation(t, comparison, output ? output : "", where, p) < 0)) {
        json_decref(t);
        t = NULL;
    }
    if (!t)
        problems_add(p, path, "out of memory");
    if (wall < minutes * 60)
        cli_printf(stderr, "assay import: %s (\"%s\"): its timeout of %g minutes is more than "
                   "Assay's longest test (%g minutes), which it gets instead\n", path, name,
                   minutes, WALL_MAX_S / 60);
    return t;
}

/* ---- one step of a Classroom workflow ----------------------------------- */

static const char *const methods[] = {"exact", "contains", "regex", NULL};

/* TEXT without whitespace at its ends (the io-grader trims its input). */
static char *trimmed(const char *text)
{
    size_t start = strspn(text, " \t\r\n\f\v"), n = strlen(text);
    while (n > start && strchr(" \t\r\n\f\v", text[n - 1]))
        n--;
    return strndup(text + start, n - start);
}

/* The repository's files the python grader runs: every *_test.py. */
static json_t *python_grader_files(const json_t *support)
{
    json_t *files = json_array();
    size_t i;
    const json_t *f;
    json_array_foreach(support, i, f) {
        const char *name = json_string_value(f);
        size_t n = strlen(name);
        if (files && n > 8 && !strcmp(name + n - 8, "_test.py"))
            json_array_append(files, (json_t *)f);
    }
    return files;
}

/* Sets "kind" and what it needs on T for STEP's grader. */
static void step_kind(json_t *t, const json_t *step, const json_t *with, const char *setup,
                      const json_t *support, const char *where, struct problems *p)
{
    const char *grader = jsonutil_str(step, "grader", "");
    char at[300];
    if (!strcmp(grader, "python")) {
        json_t *files = python_grader_files(support);
        if (json_array_size(files) == 0)
            problems_add(p, where, "the python grader runs the repository's *_test.py files, "
                         "and it has none");
        if (setup && *setup)
            cli_printf(stderr, "assay import: %s: its setup \"%s\" is left out: a pytest test "
                       "runs none\n", where, setup);
        json_object_set_new(t, "kind", json_string("pytest"));
        json_object_set_new(t, "files", files ? files : json_array());
        return;
    }
    const char *command = check_string(with, where, "command", true, p);
    char *cmd = command ? test_command(setup, command) : NULL;
    json_object_set_new(t, "kind", json_string(!strcmp(grader, "io") ? "io" : "command"));
    json_object_set_new(t, "command", json_string(cmd ? cmd : ""));
    json_object_set_new(t, "support_files", json_deep_copy(support));
    free(cmd);
    if (strcmp(grader, "io"))
        return;
    const char *input = check_string(with, where, "input", false, p);
    const char *expected = check_string(with, where, "expected-output", true, p);
    int method = check_enum(with, where, "comparison-method", methods, p);
    char *in = input ? trimmed(input) : NULL;
    if (in && *in)
        json_object_set_new(t, "stdin", json_string(in));
    free(in);
    snprintf(at, sizeof at, "%s.expected-output", where);
    if (expected && method >= 0 &&
        io_expectation(t, method == 0 ? CLASSROOM_EXACT : method == 1 ? CLASSROOM_INCLUDED
                                                                     : CLASSROOM_REGEX,
                       expected, at, p) < 0)
        problems_add(p, where, "out of memory");
}

/* Converts one grader step of the workflow. */
static json_t *convert_step(const json_t *step, const json_t *support, struct problems *p)
{
    const char *where = jsonutil_str(step, "where", "");
    const json_t *with = json_object_get(step, "with");
    const char *name = json_string_value(json_object_get(with, "test-name"));
    name = name ? name : jsonutil_str(step, "step", "Python tests");
    const char *setup = json_string_value(json_object_get(with, "setup-command"));
    if (setup && *setup && setup_installs(setup)) {
        cli_printf(stderr, "assay import: %s (\"%s\"): its setup \"%s\" installs packages and "
                   "is left out (the sandbox has no network); install what it needs on the "
                   "workers as Debian packages (python3-pytest for pytest)\n", where, name, setup);
        setup = NULL;
    }
    double minutes = atof(jsonutil_str(with, "timeout", "10"));
    double points = atof(jsonutil_str(with, "max-score", "0"));
    if (!(minutes > 0) || !(points >= 0)) {
        problems_add(p, where, "\"timeout\" must be a positive number of minutes and "
                     "\"max-score\" a number of points");
        return NULL;
    }
    double wall = minutes * 60 > WALL_MAX_S ? WALL_MAX_S : minutes * 60;
    json_t *t = json_pack("{s:s, s:f, s:{s:f, s:f}}", "name", name, "points", points, "limits",
                          "wall_s", wall, "cpu_s", wall);
    if (!t) {
        problems_add(p, where, "out of memory");
        return NULL;
    }
    step_kind(t, step, with, setup, support, where, p);
    return t;
}

static json_t *convert_workflow(const json_t *steps, const char *title, const json_t *support,
                                struct problems *p)
{
    json_t *out = json_pack("{s:i, s:s, s:[]}", "assay", 1, "title", title, "tests");
    size_t i;
    const json_t *step;
    if (!out) {
        problems_add(p, "$", "out of memory");
        return NULL;
    }
    if (json_array_size(steps) == 0)
        problems_add(p, "jobs", "no step uses an autograding grader (io, command or python)");
    json_array_foreach(steps, i, step) {
        json_t *t = convert_step(step, support, p);
        if (t && json_array_append_new(json_object_get(out, "tests"), t) < 0)
            problems_add(p, jsonutil_str(step, "where", ""), "out of memory");
    }
    return out;
}

/* assignment.json made from the Classroom file CLASSROOM. */
static json_t *convert(const json_t *classroom, const char *title, const json_t *support,
                       struct problems *p)
{
    const json_t *tests = json_object_get(classroom, "tests");
    if (!json_is_object(classroom) || !json_is_array(tests)) {
        problems_add(p, "$", "must be an object with a list \"tests\", as GitHub Classroom "
                     "writes it");
        return NULL;
    }
    json_t *out = json_pack("{s:i, s:s, s:[]}", "assay", 1, "title", title, "tests");
    json_t *list = json_object_get(out, "tests");
    size_t i;
    const json_t *ct;
    json_array_foreach(tests, i, ct) {
        char path[64];
        snprintf(path, sizeof path, "$.tests[%zu]", i);
        if (!json_is_object(ct)) {
            problems_add(p, path, "must be an object, not %s", check_type_name(ct));
            continue;
        }
        json_t *t = convert_test(ct, path, support, p);
        if (t && list && json_array_append_new(list, t) < 0)
            problems_add(p, path, "out of memory");
    }
    if (!out)
        problems_add(p, "$", "out of memory");
    return out;
}

/* ---- writing it --------------------------------------------------------- */

static int copy_support(const char *repo, const char *dir, const json_t *support,
                        struct err *e)
{
    size_t i;
    const json_t *f;
    json_array_foreach(support, i, f) {
        char *src = fs_join(repo, json_string_value(f));
        char *dst = fs_join(dir, json_string_value(f));
        char *parent = dst ? strdup(dst) : NULL;
        int rc = parent ? fs_mkdir_p(dirname(parent), 0755, e) : err_set(e, "out of memory");
        if (rc == 0)
            rc = fs_copy_file(src, dst, 0644, e);
        free(parent);
        free(src);
        free(dst);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* Renames the finished BUILT folder to TARGET, replacing an existing one
 * only with --force (the old one goes to OLD, removed after). */
static int install(const char *built, const char *target, bool force, const char *old,
                   struct err *e)
{
    if (renameat2(AT_FDCWD, built, AT_FDCWD, target, RENAME_NOREPLACE) == 0)
        return fs_sync_parent(target, e);
    if ((errno != EEXIST && errno != ENOTEMPTY) || !force) {
        if (errno == EEXIST || errno == ENOTEMPTY)
            return err_set(e, "%s already exists; give --force to replace it", target);
        return err_sys(e, "cannot create %s", target);
    }
    if (renameat2(AT_FDCWD, built, AT_FDCWD, target, RENAME_EXCHANGE) < 0)
        return err_sys(e, "cannot replace %s", target);
    struct err ignored;   /* the new assignment is in place; an old copy left is only untidy */
    if (fs_remove_tree(old, &ignored) < 0)
        fprintf(stderr, "assay import: warning: %s; remove it by hand\n", ignored.msg);
    return fs_sync_parent(target, e);
}

/* Builds the assignment in BUILD (a fresh folder), checks it loads. */
static int build_assignment(const char *repo, const char *build, const json_t *asg,
                            const json_t *support, struct err *e)
{
    char *path = fs_join(build, "assignment.json");
    int rc = copy_support(repo, build, support, e);
    if (rc == 0)
        rc = jsonutil_write_scratch(path, asg, true, e);
    free(path);
    if (rc < 0)
        return -1;
    struct assignment a;
    struct problems p = {0};
    if (assignment_load(build, &a, &p) < 0) {
        err_set(e, "the assignment made is not valid (%s); please report this",
                p.count ? p.items[0] : "no reason given");
        problems_free(&p);
        return -1;
    }
    assignment_free(&a);
    return fs_sync_tree(build, e);
}

/* Where the assignment goes: courses/C/A in the spool, or --out. */
static int write_out(const struct import_opts *o, const char *name, const json_t *asg,
                     const json_t *support, struct err *e)
{
    struct spool s = {0};
    char *target = NULL, *build = NULL;
    int rc = -1;
    if (o->course) {
        if (cli_open_spool(o->spool, &s, "import", true) < 0)
            return err_set(e, "the spool cannot be used (said above)");
        char *parent = spool_path(&s, "courses/%s", o->course);
        rc = fs_mkdir_p_durable(parent, 0755, e);
        free(parent);
        target = spool_path(&s, "courses/%s/%s", o->course, name);
        build = rc == 0 ? spool_tmpdir(&s, "import", e) : NULL;
    } else {
        target = strdup(o->out);
        char *copy = target ? strdup(target) : NULL;
        const char *parent = copy ? dirname(copy) : NULL;   /* beside it: one rename */
        if (parent && fs_mkdir_p(parent, 0755, e) == 0)
            fs_mkdtemp(parent, ".import", &build, e);
        free(copy);
    }
    rc = build ? build_assignment(o->repo, build, asg, support, e) : -1;
    if (rc == 0)
        rc = install(build, target, o->force, build, e);
    if (rc < 0 && build) {
        struct err ignored;   /* *e says why; a half-built folder in tmp/ is only untidy */
        fs_remove_tree(build, &ignored);
    }
    if (rc == 0)
        cli_printf(stdout, "imported %zu tests into %s\n",
                   json_array_size(json_object_get(asg, "tests")), target);
    free(build);
    free(target);
    if (o->course)
        spool_close(&s);
    return rc;
}

/* The Classroom file of the repository: autograding.json, else the
 * workflow; *WORKFLOW says which. */
static char *classroom_file(const char *repo, bool *workflow)
{
    char *json = fs_join(repo, AUTOGRADING_JSON), *yml = fs_join(repo, WORKFLOW_YML);
    *workflow = !fs_exists(json) && fs_exists(yml);
    free(*workflow ? json : yml);
    return *workflow ? yml : json;
}

/* The assignment converted from FILE, or NULL with what is wrong said. */
static json_t *load_and_convert(const struct import_opts *o, const char *name, const char *file,
                                bool workflow, const json_t *support, struct problems *p,
                                int *rc)
{
    struct err e;
    char *title = NULL;
    if (!o->title && asprintf(&title, "%s (GitHub Classroom)", name) < 0)
        title = NULL;
    const char *t = o->title ? o->title : title ? title : name;
    json_t *from = workflow ? classroom_workflow_load(file, p, &e)
                            : jsonutil_load_file(file, AUTOGRADING_MAX_BYTES, &e);
    json_t *asg = !from ? NULL : workflow ? convert_workflow(from, t, support, p)
                                          : convert(from, t, support, p);
    free(title);
    json_decref(from);
    if (!from) {
        cli_printf(stderr, "assay import: %s; a GitHub Classroom repository has its tests in "
                   "%s or %s\n", e.msg, AUTOGRADING_JSON, WORKFLOW_YML);
        *rc = EXIT_FAILED;
    } else if (p->count) {
        cli_printf(stderr, "assay import: %s is not what GitHub Classroom writes (%zu "
                   "problem%s):\n", file, p->count, p->count == 1 ? "" : "s");
        for (size_t i = 0; i < p->count; i++)
            cli_printf(stderr, "  %s\n", p->items[i]);
        *rc = EXIT_INVALID_ASSIGNMENT;
        json_decref(asg);
        asg = NULL;
    }
    return asg;
}

static int import_classroom(const struct import_opts *o)
{
    struct err e;
    bool workflow = false;
    char *name = assignment_name(o);
    char *file = classroom_file(o->repo, &workflow);
    json_t *support = json_array(), *asg = NULL;
    struct problems p = {0};
    int rc = EXIT_FAILED;
    if (!name || !file || !support) {
        fprintf(stderr, "assay import: out of memory\n");
    } else if (o->course && !spool_name_is_valid(o->course)) {
        cli_printf(stderr, "assay import: --course \"%s\" may hold only letters, digits, - _ . @\n",
                   o->course);
        rc = EXIT_USAGE;
    } else if (!spool_name_is_valid(name)) {
        cli_printf(stderr, "assay import: the assignment name \"%s\" may hold only letters, "
                   "digits, - _ . @; give --assignment\n", name);
        rc = EXIT_USAGE;
    } else if (fs_walk_files(o->repo, collect_test_file, support, &e) < 0) {
        cli_printf(stderr, "assay import: %s\n", e.msg);
    } else if ((asg = load_and_convert(o, name, file, workflow, support, &p, &rc)) == NULL) {
        /* said */
    } else if (!o->course && !o->out) {
        cli_print_json(stdout, asg, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        rc = EXIT_OK;
    } else if (write_out(o, name, asg, support, &e) < 0) {
        cli_printf(stderr, "assay import: %s; nothing was imported\n", e.msg);
    } else {
        rc = EXIT_OK;
    }
    problems_free(&p);
    json_decref(asg);
    json_decref(support);
    free(file);
    free(name);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    struct import_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    return import_classroom(&o);
}
