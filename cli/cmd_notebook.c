/*
 * cmd_notebook.c - `assay notebook release SOURCE.ipynb OUT.ipynb`: the
 * student version of an instructor's nbgrader source notebook.
 *
 * The source is checked first (grade_ids present and unique, points on
 * every grade and task cell, no nbgrader AUTOTEST line); a source with
 * problems lists them all and exits 3, like an invalid assignment.  The
 * release itself is nb_release (worker/nbgrader.c): solutions replaced
 * by "# YOUR CODE HERE" / "raise NotImplementedError()" (or the stubs
 * given with --code-stub and --text-stub), hidden tests removed, outputs
 * cleared, checksums set.  See docs/NOTEBOOKS.md.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "cli/commands.h"
#include "engine/nbgrader.h"

static const char usage[] =
    "Usage: assay notebook release SOURCE.ipynb OUT.ipynb [--code-stub TEXT] [--text-stub TEXT]\n"
    "\n"
    "Writes OUT.ipynb, the version of the nbgrader source notebook SOURCE.ipynb\n"
    "to hand out: solutions (### BEGIN/END SOLUTION) replaced by \"# YOUR CODE HERE\"\n"
    "and \"raise NotImplementedError()\", hidden tests (### BEGIN/END HIDDEN TESTS)\n"
    "removed, outputs cleared, test cells read-only, checksums set.\n"
    "--code-stub and --text-stub replace the stub of code and text answers; give\n"
    "the assignment's notebook test the same as \"stub\": {\"code\", \"text\"} so\n"
    "that an answer left as released scores \"No response.\".\n"
    "\n"
    "Exit status: 0 written; 2 usage error; 3 the source has problems (all listed).\n";

static int release(const char *in, const char *out, const struct nb_stubs *stubs)
{
    struct err e;
    json_t *src = nb_load_file(in, &e);
    if (!src) {
        cli_printf(stderr, "assay notebook release: %s\n", e.msg);
        return EXIT_INVALID_ASSIGNMENT;
    }
    struct problems p = {0};
    nb_check_source(src, in, &p);
    int rc = EXIT_OK;
    if (p.count) {
        cli_printf(stderr, "assay notebook release: %s has %zu problem%s:\n", in, p.count,
                   p.count == 1 ? "" : "s");
        for (size_t i = 0; i < p.count; i++)
            cli_printf(stderr, "  %s\n", p.items[i]);
        rc = EXIT_INVALID_ASSIGNMENT;
    } else {
        json_t *rel = nb_release(src, stubs);
        char *text = rel ? json_dumps(rel, JSON_INDENT(1) | JSON_PRESERVE_ORDER |
                                               JSON_REAL_PRECISION(17))
                         : NULL;
        size_t len = text ? strlen(text) : 0;
        char *line = text ? realloc(text, len + 2) : NULL;
        if (line)
            line[len++] = '\n';
        else
            free(text);
        text = line;
        if (!text)   /* nb_release too: never a release that may hold a solution */
            err_set(&e, "out of memory; %s is not written", out);
        if (!text || fs_write_atomic(out, text, len, &e) < 0) {
            cli_printf(stderr, "assay notebook release: %s\n", e.msg);
            rc = EXIT_FAILED;
        } else {
            double by_hand = nb_manual_points(rel);
            cli_printf(stdout, "%s: %g points in autograder tests", out, nb_test_points(rel));
            cli_printf(stdout, by_hand > 0 ? ", %g graded by hand\n" : "\n", by_hand);
        }
        free(text);
        json_decref(rel);
    }
    problems_free(&p);
    json_decref(src);
    return rc;
}

int cmd_notebook(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    struct nb_stubs stubs = {NULL, NULL};
    bool ok = argc >= 4 && !strcmp(argv[1], "release") && argc % 2 == 0;
    for (int i = 4; ok && i + 1 < argc; i += 2) {
        const char **slot = !strcmp(argv[i], "--code-stub")   ? &stubs.code
                            : !strcmp(argv[i], "--text-stub") ? &stubs.text : NULL;
        ok = slot && *argv[i + 1];   /* an empty stub would read as no response */
        if (ok)
            *slot = argv[i + 1];
    }
    if (!ok) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    return release(argv[2], argv[3], &stubs);
}
