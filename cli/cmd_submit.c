/*
 * cmd_submit.c - `assay submit`: copy a submission into the spool as its
 * next version and queue a job for it.
 *
 * The files are staged in tmp/ (folders, single files and zips, with the
 * engine's limits and checks), then stored as the student's next version
 * and queued by spool/submit.c, which every intake shares; the job id is
 * printed only once the job and its files would survive a power cut.  --wait says
 * when no scheduler is running, which is why a result would never come.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "spool/job.h"
#include "spool/scan.h"
#include "spool/submit.h"
#include "contract/results.h"
#include "engine/submission.h"

static const char usage[] =
    "Usage: assay submit --course C --assignment A --student U PATH... [OPTIONS]\n"
    "\n"
    "Copies the files (PATH: files, folders or a .zip) into the spool as the\n"
    "student's next version, queues it for grading and prints the job id.\n"
    "\n"
    "Options:\n"
    "  --spool S          the spool (default $ASSAY_SPOOL or " SPOOL_DEFAULT_ROOT ")\n"
    "  --course C, --assignment A, --student U   who and what (required)\n"
    "  --batch            low priority (bulk regrading); default is interactive\n"
    "  --wait             wait for the result and print it; exit 1 on timeout (says\n"
    "                     at once, and again at the timeout, if no scheduler is running)\n"
    "  --timeout SECONDS  how long --wait waits (default 600)\n"
    "  --json             with --wait, print results.json instead of a table (on a\n"
    "                     timeout: {\"job_id\", \"result\": null, \"scheduler\", ...})\n"
    "  --view student|instructor\n"
    "                     with --wait, what to show (default: what the student sees)\n"
    "  -h, --help         show this help\n";

struct submit_opts {
    const char *spool, *course, *assignment, *student;
    bool batch, wait, json, instructor;
    double timeout;
};

static int parse_opts(int argc, char **argv, struct submit_opts *o)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},   {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"student", required_argument, NULL, 'u'},
        {"batch", no_argument, NULL, 'b'},        {"wait", no_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"view", required_argument, NULL, 'v'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->timeout = 600;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->assignment = optarg; break;
        case 'u': o->student = optarg; break;
        case 'b': o->batch = true; break;
        case 'w': o->wait = true; break;
        case 'j': o->json = true; break;
        case 't': o->timeout = atof(optarg); break;
        case 'v':
            if (strcmp(optarg, "student") && strcmp(optarg, "instructor")) {
                fprintf(stderr, "assay submit: --view must be \"student\" or \"instructor\"\n");
                return -1;
            }
            o->instructor = !strcmp(optarg, "instructor");
            break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    const char *names[] = {o->course, o->assignment, o->student};
    const char *what[] = {"--course", "--assignment", "--student"};
    for (int i = 0; i < 3; i++) {
        if (!names[i]) {
            cli_printf(stderr, "assay submit: %s is required\n", what[i]);
            return -1;
        }
        if (!spool_name_is_valid(names[i])) {
            cli_printf(stderr, "assay submit: %s \"%s\" may hold only letters, digits, - _ . @\n",
                       what[i], names[i]);
            return -1;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "assay submit: give at least one file or folder to submit\n");
        return -1;
    }
    return 0;
}

/* Says when the assignment is not installed: the job will get an
 * error result for the instructor, which is likely not what was meant. */
static void warn_if_no_assignment(const struct spool *s, const struct submit_opts *o)
{
    bool missing = false;
    free(submit_capability(s, o->course, o->assignment, &missing));
    if (missing)
        cli_printf(stderr, "assay submit: warning: the spool has no courses/%s/%s/assignment.json; "
                   "the job will get an error result for the instructor\n", o->course, o->assignment);
}

static int stage_all(const struct spool *s, char **paths, int n, char **dir, struct err *e)
{
    *dir = spool_tmpdir(s, "submit", e);
    if (!*dir)
        return -1;
    for (int i = 0; i < n; i++)
        if (submission_stage(paths[i], *dir, e) < 0)
            return err_prefix(e, "%s", paths[i]);
    /* on disk before the job that points at them can be */
    return fs_sync_tree(*dir, e);
}

/* Says on stderr when no scheduler is running: the job would only wait. */
static void warn_if_no_scheduler(const struct spool *s, double timeout)
{
    struct scheduler_state st;
    scheduler_lock_probe(s, &st);
    char *none = cli_no_scheduler(s, &st);
    if (none)
        cli_printf(stderr, "assay submit: warning: %s; waiting up to %g s in case one does\n",
                   none, timeout);
    free(none);
}

/* No result within the timeout: says so (and whether a scheduler is
 * running, the likeliest reason) on stderr and, with --json, on stdout. */
static void say_timeout(const struct spool *s, const struct job *j, const struct submit_opts *o)
{
    struct scheduler_state st;
    scheduler_lock_probe(s, &st);
    char *none = cli_no_scheduler(s, &st);
    cli_printf(stderr, "assay submit: no result for job %s after %g s; it is still queued "
               "(see `assay status`)%s%s\n", j->id, o->timeout, none ? ", and " : "",
               none ? none : "");
    if (o->json) {
        json_t *out = json_pack("{s:s, s:n, s:f, s:o, s:s?}", "job_id", j->id, "result",
                                "waited_s", o->timeout, "scheduler",
                                scheduler_state_json(s, &st), "no_scheduler", none);
        if (out)
            cli_print_json(stdout, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        json_decref(out);
    }
    free(none);
}

static int wait_and_print(const struct spool *s, const json_t *job, const struct submit_opts *o)
{
    struct job j;
    struct err e;
    if (job_from_json(json_incref((json_t *)job), &j, &e) < 0) {
        cli_printf(stderr, "assay submit: %s\n", e.msg);
        return EXIT_FAILED;
    }
    warn_if_no_scheduler(s, o->timeout);
    char *rel = job_result_rel(&j);
    json_t *r = rel ? cli_wait_result(s, rel, j.id, o->timeout) : NULL;
    bool lost = !rel;   /* out of memory, which is no timeout */
    free(rel);
    int rc = EXIT_OK;
    if (r && !o->instructor) {
        json_t *view = results_student_view(r, clock_wall());
        json_decref(r);
        lost = !view;
        r = view;
    }
    if (lost) {
        fprintf(stderr, "assay submit: out of memory showing the result of job %s\n", j.id);
        rc = EXIT_FAILED;
    } else if (!r) {
        say_timeout(s, &j, o);
        rc = EXIT_FAILED;
    } else if (o->json) {
        cli_print_json(stdout, r, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    } else {
        results_print_table(stdout, r);
    }
    json_decref(r);
    job_free(&j);
    return rc;
}

int cmd_submit(int argc, char **argv)
{
    struct submit_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "submit", true) < 0)
        return EXIT_FAILED;
    struct err e;
    char *dir = NULL;
    json_t *job = NULL;
    int rc = EXIT_FAILED;
    warn_if_no_assignment(&s, &o);
    struct submit_request req = {.course = o.course, .assignment = o.assignment,
                                 .student = o.student, .batch = o.batch};
    if (stage_all(&s, argv + optind, argc - optind, &dir, &e) == 0 &&
        (job = submit_staged(&s, &req, dir, &e)) != NULL)
        rc = EXIT_OK;
    if (rc != EXIT_OK) {
        cli_printf(stderr, "assay submit: %s; nothing was queued\n", e.msg);
    } else {
        cli_printf(stdout, "%s\n", jsonutil_str(job, "id", ""));
        fflush(stdout);
        if (o.wait)
            rc = wait_and_print(&s, job, &o);
    }
    /* the staging directory goes on every path, a refused upload's too:
     * what an upload left in tmp/ would fill the spool's disk */
    struct err rm;
    if (dir && fs_remove_tree(dir, &rm) < 0)
        fprintf(stderr, "assay submit: warning: %s; remove it by hand\n", rm.msg);
    free(dir);
    json_decref(job);
    spool_close(&s);
    return rc;
}
