/* kind.h - the test-kind interface and what every kind shares. */
#ifndef ASSAY_KIND_H
#define ASSAY_KIND_H

#include <jansson.h>

#include "common/buf.h"
#include "contract/results.h"
#include "engine/assignment.h"
#include "sandbox/launcher.h"

/* What the engine hands a kind for one test. */
struct test_run {
    const struct assignment *asg;
    const struct test_def *test;
    const char *workdir;          /* fresh: submission + instructor files */
    int workdir_fd;
    struct launcher *launcher;
    char *const *env;
    const char *files_dir;        /* where feedback files for the result go; NULL: none kept */
};

/* What a kind hands back. */
struct test_outcome {
    double score, max_score;
    enum verdict verdict;
    struct buf feedback;          /* for the student: short and actionable */
    json_t *cases;                /* optional: one object per sub-test */
    double cpu_s, wall_s;
    double cpu_wait_s;            /* its runs' time waiting for a CPU (run_result) */
    long max_rss_kb;
    /* A run was stopped at its wall limit for want of a CPU (run_result's
     * starved): the outcome says nothing of the submission, and the
     * engine runs the test again or calls it Assay's failure. */
    bool starved;
    char *infra_error;            /* set when Assay itself failed */
    char *submission_error;       /* set when the submission cannot be graded (the
                                   * student must act): the result's error */
    char *assignment_error;       /* set when the assignment's own material failed (a
                                   * property test's reference): the instructor must act */
    json_t *extra;                /* optional keys added to the results.json entry */
};

struct test_kind {
    const char *name;
    const char *const *keys;      /* keys beyond the common ones */
    /* Checks the kind's own keys of TEST (at JSON path PATH). */
    void (*validate)(const char *dir, const json_t *test, const char *path,
                     struct problems *p);
    /* Adds to FILES (a JSON list) the instructor files the run needs in
     * its work directory. */
    void (*instructor_files)(const json_t *test, json_t *files);
    /* The test's maximum before it runs; NULL means its "points". */
    double (*planned_points)(const char *dir, const struct test_def *t);
    void (*grade)(struct test_run *run, struct test_outcome *out);
};

const struct test_kind *kind_find(const char *name);
const char *kind_names(void);     /* "io, command, pytest, doctest" */


/* ---- helpers for kinds (kind.c) ---- */

/* Runs COMMAND in the work directory under the test's limits and copies
 * the measurements into OUT.  -1 (OUT marked as an infrastructure error,
 * RES freed) only if the launcher failed, or if the program COMMAND
 * starts with is not on this worker (the run ended with status 127
 * saying it was not found, and no directory of the run's PATH holds it). */
int kind_run_command(struct test_run *run, const char *command, int stdin_fd,
                     struct run_result *res, struct test_outcome *out);
/* The same, with host directories shown inside the run (BINDS; only a
 * sandbox launcher can, the rlimit launcher refuses). */
int kind_run_bound(struct test_run *run, const char *command, int stdin_fd,
                   const struct run_bind *binds, int n_binds, struct run_result *res,
                   struct test_outcome *out);
/* If the run hit a limit, sets the verdict and a sentence saying which
 * and returns true.  A run starved of CPU hit none of its own: its
 * verdict is setup_error, with a sentence saying the worker was too
 * busy (the engine decides what becomes of it). */
bool kind_judge_limits(const struct test_run *run, const struct run_result *res,
                       struct test_outcome *out);
/* "exited with code 1" / "was killed by signal 11 (Segmentation fault)"
 * plus the last lines of standard error (a traceback's useful end). */
void kind_describe_crash(const struct run_result *res, struct buf *feedback);
void kind_add_case(struct test_outcome *out, const char *name, bool passed,
                   double score, double max_score, const char *message);
/* A standard input for a run that shows nothing but its bytes: a memfd
 * (no path, nothing in the work directory, gone when the last copy is
 * closed) holding TEXT, or a copy of the file at PATH (whose name and
 * place a run could otherwise read back through /proc/self/fd/0).  The
 * descriptor, read from the start; -1 with E set. */
int kind_stdin_text(const char *text, size_t len, struct err *e);
int kind_stdin_file(const char *path, struct err *e);
/* For kinds with a runner script: installs SCRIPT as .assay/NAME, runs
 * COMMAND with STDIN_FD (-1: none) as its standard input, and returns the events of the JSON-lines report REPORT the run
 * wrote (bounded, no symlinks; lines that are not JSON objects, as from a
 * run cut mid-write, are skipped).  REPORT NULL: the events are the
 * run's standard output (out of reach of a child that the runner keeps
 * away from its own descriptors).  NULL, with OUT marked (and RES
 * freed), if Assay itself failed, or if the runner could not start on
 * this worker: every runner's first line of standard output is
 * {"event": "ready"}, printed before any of the submission's code runs.
 * COMMAND NULL (out of memory making it) is such a failure, for
 * kind_run_command too. */
json_t *kind_run_reporter(struct test_run *run, const char *name, const char *script,
                          const char *command, int stdin_fd, const char *report,
                          struct run_result *res, struct test_outcome *out);
/* Writes CONTENT as .assay/NAME in the work directory (for runner
 * scripts and the input Assay prepares for them). */
int kind_install_helper(struct test_run *run, const char *name, const char *content,
                        struct err *e);
/* Quotes S for /bin/sh if it needs quoting; malloc'd (NULL if out of memory). */
char *kind_shell_quote(const char *s);

#endif
