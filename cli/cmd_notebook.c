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
 * cleared, checksums set.  A source with nbgrader's "### AUTOTEST" lines
 * has them expanded first by engine/python/autotest_expand.py, run as
 * /usr/bin/python3 on this machine (the instructor's code, as nbgrader
 * runs it), and the expanded source is written for grading
 * (--expanded-source).  See docs/NOTEBOOKS.md.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/run.h"
#include "cli/commands.h"
#include "engine/assets.h"
#include "engine/nbgrader.h"

static const char usage[] =
    "Usage: assay notebook release SOURCE.ipynb OUT.ipynb [--code-stub TEXT] [--text-stub TEXT]\n"
    "                              [--expanded-source FILE] [--autotests AUTOTESTS.yml]\n"
    "\n"
    "Writes OUT.ipynb, the version of the nbgrader source notebook SOURCE.ipynb\n"
    "to hand out: solutions (### BEGIN/END SOLUTION) replaced by \"# YOUR CODE HERE\"\n"
    "and \"raise NotImplementedError()\", hidden tests (### BEGIN/END HIDDEN TESTS)\n"
    "removed, outputs cleared, test cells read-only, checksums set.\n"
    "--code-stub and --text-stub replace the stub of code and text answers; give\n"
    "the assignment's notebook test the same as \"stub\": {\"code\", \"text\"} so\n"
    "that an answer left as released scores \"No response.\".\n"
    "\n"
    "A source with nbgrader's \"### AUTOTEST\" lines has them expanded first, as\n"
    "nbgrader does: its code cells run in order on this machine (python3, IPython)\n"
    "and the assertions come from the templates of AUTOTESTS.yml (by default\n"
    "autotests.yml beside SOURCE or in the folder above).  The expanded source is\n"
    "written to FILE (--expanded-source, required then): grade with it as the\n"
    "notebook test's \"source\".\n"
    "\n"
    "Exit status: 0 written; 2 usage error; 3 the source has problems (all listed).\n";

struct release_opts {
    const char *in, *out, *expanded, *autotests;
    struct nb_stubs stubs;
};

/* The autotests.yml to use: the one given, or the first of SOURCE's
 * folder and the folder above that has one; malloc'd (NULL: none found). */
static char *find_autotests(const struct release_opts *o)
{
    if (o->autotests)
        return strdup(o->autotests);
    char *dir = strdup(o->in);
    if (!dir)
        return NULL;
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    char *here = fs_join(dir, "autotests.yml"), *above = fs_join(dir, "../autotests.yml");
    char *found = here && fs_exists(here) ? here : above && fs_exists(above) ? above : NULL;
    char *copy = found ? strdup(found) : NULL;
    free(here);
    free(above);
    free(dir);
    return copy;
}

/* O->in with its AUTOTEST lines expanded (engine/python/autotest_expand.py,
 * run as a program of its own); NULL with *E (the expander's own words
 * went to standard error). */
static json_t *expand(const struct release_opts *o, struct err *e)
{
    char *yml = find_autotests(o), script[] = "/tmp/assay-autotest-XXXXXX";
    if (!yml) {
        err_set(e, "%s has \"### AUTOTEST\" lines but no autotests.yml was found beside it or "
                "in the folder above; give --autotests FILE", o->in);
        return NULL;
    }
    int fd = mkstemp(script);
    size_t len = strlen(asset_autotest_expand);
    json_t *nb = NULL;
    if (fd < 0 || write(fd, asset_autotest_expand, len) != (ssize_t)len) {
        err_sys(e, "cannot write the expander to %s", script);
    } else {
        char *argv[] = {"/usr/bin/python3", "-I", script, (char *)o->in, yml, NULL};
        struct buf out = BUF_INIT;
        int rc = run_capture(argv, NB_MAX_BYTES, &out, e);
        if (rc > 0)
            err_set(e, "the \"### AUTOTEST\" lines of %s could not be expanded (see above)", o->in);
        else if (rc == 0)
            nb = nb_parse(buf_str(&out), out.len, "the expanded notebook", e);
        buf_free(&out);
    }
    if (fd >= 0) {
        close(fd);
        unlink(script);
    }
    free(yml);
    return nb;
}

/* Writes NB to PATH as Jupyter writes notebooks (one-space indent, a
 * final newline); -1 with *E. */
static int write_notebook(const char *path, const json_t *nb, struct err *e)
{
    char *text = json_dumps(nb, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    size_t len = text ? strlen(text) : 0;
    char *line = text ? realloc(text, len + 2) : NULL;
    if (!line) {
        free(text);   /* never a notebook cut short */
        return err_set(e, "out of memory; %s is not written", path);
    }
    line[len++] = '\n';
    int rc = fs_write_atomic(path, line, len, e);
    free(line);
    return rc;
}

/* The source to release: SOURCE, or with its AUTOTEST lines expanded
 * (and written to --expanded-source).  NULL with the exit status in *RC. */
static json_t *load_release_source(const struct release_opts *o, int *rc)
{
    struct err e;
    json_t *src = nb_load_file(o->in, &e);
    *rc = EXIT_INVALID_ASSIGNMENT;
    if (src && nb_has_autotest(src)) {
        json_decref(src);
        src = NULL;
        if (!o->expanded) {
            cli_printf(stderr, "assay notebook release: %s has nbgrader \"### AUTOTEST\" lines: "
                       "give --expanded-source FILE, where the source with them expanded is "
                       "written (the notebook test's \"source\" for grading)\n", o->in);
            *rc = EXIT_USAGE;
            return NULL;
        }
        if ((src = expand(o, &e)) && write_notebook(o->expanded, src, &e) < 0) {
            *rc = EXIT_FAILED;
            json_decref(src);
            src = NULL;
        }
    }
    if (!src)
        cli_printf(stderr, "assay notebook release: %s\n", e.msg);
    return src;
}

static int release(const struct release_opts *o)
{
    int rc;
    json_t *src = load_release_source(o, &rc);
    if (!src)
        return rc;
    struct problems p = {0};
    struct err e;
    nb_check_source(src, o->in, &p);
    rc = EXIT_OK;
    if (p.count) {
        cli_printf(stderr, "assay notebook release: %s has %zu problem%s:\n", o->in, p.count,
                   p.count == 1 ? "" : "s");
        for (size_t i = 0; i < p.count; i++)
            cli_printf(stderr, "  %s\n", p.items[i]);
        rc = EXIT_INVALID_ASSIGNMENT;
    } else {
        json_t *rel = nb_release(src, &o->stubs);
        if (!rel)   /* never a release that may hold a solution */
            err_set(&e, "out of memory; %s is not written", o->out);
        if (!rel || write_notebook(o->out, rel, &e) < 0) {
            cli_printf(stderr, "assay notebook release: %s\n", e.msg);
            rc = EXIT_FAILED;
        } else {
            double by_hand = nb_manual_points(rel);
            cli_printf(stdout, "%s: %g points in autograder tests", o->out, nb_test_points(rel));
            cli_printf(stdout, by_hand > 0 ? ", %g graded by hand\n" : "\n", by_hand);
        }
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
    bool ok = argc >= 4 && !strcmp(argv[1], "release") && argc % 2 == 0;
    struct release_opts o = {.in = ok ? argv[2] : NULL, .out = ok ? argv[3] : NULL};
    for (int i = 4; ok && i + 1 < argc; i += 2) {
        const char **slot = !strcmp(argv[i], "--code-stub")         ? &o.stubs.code
                            : !strcmp(argv[i], "--text-stub")       ? &o.stubs.text
                            : !strcmp(argv[i], "--expanded-source") ? &o.expanded
                            : !strcmp(argv[i], "--autotests")       ? &o.autotests : NULL;
        ok = slot && *argv[i + 1];   /* an empty stub would read as no response */
        if (ok)
            *slot = argv[i + 1];
    }
    if (!ok) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    return release(&o);
}
