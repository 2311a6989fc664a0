/*
 * cmd_gradescope.c - `assay gradescope setup ASSIGNMENT_DIR [--force]`:
 * runs the setup.sh of every Gradescope autograder in an assignment, on
 * this machine, once.
 *
 * An administrator runs it (as root: setup.sh installs packages, as on
 * Gradescope) on every worker machine before the assignment is graded,
 * and again after setup.sh changes; the gradescope kind refuses to grade
 * on a machine where it has not run (worker/gradescope_setup.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "engine/assignment.h"
#include "engine/gradescope_setup.h"
#include "engine/kind.h"

static const char usage[] =
    "Usage: assay gradescope setup ASSIGNMENT_DIR [--force]\n"
    "\n"
    "Runs setup.sh of each Gradescope autograder of the assignment in\n"
    "ASSIGNMENT_DIR on this machine (bash, in the autograder's folder, with your\n"
    "privileges: run it as root on every worker machine). A setup.sh that already\n"
    "ran here is skipped unless --force; an edited one runs again. Stamps are kept\n"
    "in $ASSAY_GRADESCOPE_STATE (default " GRADESCOPE_STATE_DEFAULT ").\n";

static int setup_all(const struct assignment *a, bool force)
{
    int rc = EXIT_OK, found = 0;
    for (size_t i = 0; i < a->sum.n_tests; i++) {
        const struct test_def *t = &a->tests[i];
        if (strcmp(t->kind->name, "gradescope"))
            continue;
        found++;
        char *dir = fs_join(a->sum.dir, jsonutil_str(t->spec, "autograder", "."));
        struct err e;
        bool ran;
        if (gradescope_setup_run(dir, force, &ran, &e) < 0) {
            cli_printf(stderr, "assay gradescope setup: %s: %s\n", t->name, e.msg);
            rc = EXIT_FAILED;
        } else {
            cli_printf(stdout, "%s: %s\n", t->name, ran ? "setup.sh ran" : "nothing to do (no setup.sh, "
                       "or it already ran on this machine)");
        }
        free(dir);
    }
    if (!found)
        cli_printf(stderr, "assay gradescope setup: %s has no gradescope tests\n", a->sum.dir);
    return found ? rc : EXIT_FAILED;
}

int cmd_gradescope(int argc, char **argv)
{
    bool force = argc == 4 && !strcmp(argv[3], "--force");
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if ((argc != 3 && !force) || strcmp(argv[1], "setup")) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct assignment a;
    struct problems p = {0};
    int rc;
    if (assignment_load(argv[2], &a, &p) < 0) {
        cli_printf(stderr, "assay gradescope setup: %s/assignment.json is invalid:\n", argv[2]);
        for (size_t i = 0; i < p.count; i++)
            cli_printf(stderr, "  %s\n", p.items[i]);
        rc = EXIT_INVALID_ASSIGNMENT;
    } else {
        rc = setup_all(&a, force);
    }
    problems_free(&p);
    assignment_free(&a);
    return rc;
}
