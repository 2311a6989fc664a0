/*
 * cmd_grade.c - `assay grade ASSIGNMENT_DIR SUBMISSION`: grade one
 * submission directly, without a spool.
 *
 * What an instructor uses to try an assignment against sample
 * solutions, and what the test suite uses for end-to-end checks.  It
 * loads and validates the assignment (every problem is listed, exit 3),
 * grades with the engine and the launcher --sandbox names (looked up in
 * the launchers' registry; the namespace sandbox by default) for the
 * installation --installation and --uids name (the unnamed one by
 * default), and prints a table, or results.json with --json.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "engine/assignment.h"
#include "engine/engine.h"
#include "contract/results.h"
#include "sandbox/launcher.h"

static const char usage[] =
    "Usage: assay grade ASSIGNMENT_DIR SUBMISSION [OPTIONS]\n"
    "\n"
    "Grades SUBMISSION (a folder, a single file or a .zip) against the assignment\n"
    "in ASSIGNMENT_DIR (the folder holding assignment.json) and prints the result.\n"
    "\n"
    "Options:\n"
    "  --json                 print results.json instead of a table\n"
    "  --view instructor|student\n"
    "                         what to show: everything (instructor, the default), or\n"
    "                         what a student sees (hidden tests summed in one line)\n"
    "  --out DIR              also write DIR/results.json (instructor view) and\n"
    "                         DIR/results.student.json (student view)\n"
    "  --keep-workdir         keep the work directories (printed) to debug a test\n"
    "  --sandbox namespace|rlimit\n"
    "                         how student code runs: in the namespace sandbox (the\n"
    "                         default; needs root, user namespaces and cgroups), or\n"
    "                         under rlimits only (development only; results say so)\n"
    "  --installation NAME    run as installation NAME: its lock, run and cgroup\n"
    "                         directories (default: the unnamed installation's)\n"
    "  --uids FIRST-LAST      the uids runs are leased from (default 61000-61999)\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 when grading ran, whatever the score; 2 for a usage error;\n"
    "3 when assignment.json is invalid (every problem is listed).\n";

struct grade_opts {
    bool json, student, keep;
    const char *out;
    const char *sandbox;        /* a launcher's name; NULL: the registry's default */
    const char *installation, *uids;   /* NULL: the unnamed installation's */
};

static int parse_opts(int argc, char **argv, struct grade_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},   {"view", required_argument, NULL, 'v'},
        {"out", required_argument, NULL, 'o'}, {"keep-workdir", no_argument, NULL, 'k'},
        {"sandbox", required_argument, NULL, 's'},
        {"installation", required_argument, NULL, 'I'}, {"uids", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},   {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = true; break;
        case 'k': o->keep = true; break;
        case 'o': o->out = optarg; break;
        case 's': o->sandbox = optarg; break;
        case 'I': o->installation = optarg; break;
        case 'U': o->uids = optarg; break;
        case 'v':
            if (strcmp(optarg, "student") && strcmp(optarg, "instructor")) {
                fprintf(stderr, "assay grade: --view must be \"student\" or \"instructor\"\n");
                return -1;
            }
            o->student = !strcmp(optarg, "student");
            break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

static int write_outputs(const char *dir, const json_t *full, const json_t *student)
{
    struct err e;
    char *a = fs_join(dir, "results.json"), *b = fs_join(dir, "results.student.json");
    int rc = fs_mkdir_p(dir, 0755, &e);
    if (rc == 0)
        rc = jsonutil_save_file(a, full, &e);
    if (rc == 0)
        rc = jsonutil_save_file(b, student, &e);
    if (rc < 0)
        cli_printf(stderr, "assay grade: %s\n", e.msg);
    free(a);
    free(b);
    return rc;
}

static int load_assignment(const char *dir, struct assignment *a)
{
    struct problems p = {0};
    if (assignment_load(dir, a, &p) == 0)
        return 0;
    cli_printf(stderr, "assay grade: %s/assignment.json is invalid (%zu problem%s):\n", dir,
               p.count, p.count == 1 ? "" : "s");
    for (size_t i = 0; i < p.count; i++)
        cli_printf(stderr, "  %s\n", p.items[i]);
    problems_free(&p);
    return -1;
}

int cmd_grade(int argc, char **argv)
{
    struct grade_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0 || argc - optind != 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *dir = argv[optind], *submission = argv[optind + 1];
    if (!fs_exists(submission)) {
        cli_printf(stderr, "assay grade: %s: no such file or directory\n", submission);
        return EXIT_USAGE;
    }
    struct assignment a;
    if (load_assignment(dir, &a) < 0) {
        assignment_free(&a);
        return EXIT_INVALID_ASSIGNMENT;
    }
    struct err e;
    struct installation in;
    if (installation_set(&in, o.installation, o.uids, &e) < 0) {
        fprintf(stderr, "assay grade: --installation/--uids: %s\n", e.msg);
        assignment_free(&a);
        return EXIT_USAGE;
    }
    struct sandbox_site site;
    sandbox_site_of(&site, &in);
    const struct launcher_type *type = launcher_lookup(o.sandbox, &e);
    struct launcher *l = type ? type->create(&site, &e) : NULL;
    if (!l) {
        cli_printf(stderr, "assay grade: %s%s\n", type ? "" : "--sandbox: ", e.msg);
        assignment_free(&a);
        return EXIT_FAILED;
    }
    struct engine_options eo = {.launcher = l, .keep_workdirs = o.keep, .files_dir = o.out};
    json_t *full = engine_grade(&a, submission, &eo);
    json_t *student = results_student_view(full, clock_wall());
    if (!full || !student) {
        fprintf(stderr, "assay grade: out of memory\n");
        json_decref(full);
        json_decref(student);
        l->destroy(l);
        assignment_free(&a);
        return EXIT_FAILED;
    }
    int rc = o.out && write_outputs(o.out, full, student) < 0 ? EXIT_FAILED : EXIT_OK;
    const json_t *shown = o.student ? student : full;
    if (o.json)
        cli_print_json(stdout, shown, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    else
        results_print_table(stdout, shown);
    json_decref(full);
    json_decref(student);
    l->destroy(l);
    assignment_free(&a);
    return rc;
}
