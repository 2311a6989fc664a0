/*
 * cmd_queue.c - `assay hold|release|requeue JOB` and `assay regrade`:
 * what an admin or instructor does to jobs in the queue.
 *
 *   hold     incoming/ or deferred/ -> hold/  (the scheduler leaves it alone)
 *   release  hold/ -> incoming/
 *   requeue  failed/, deferred/ or hold/ -> incoming/, with fresh attempts
 *   regrade  a new batch job for the latest version of every student; nothing
 *            while the assignment's extensions.json is broken
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "contract/assignment.h"
#include "spool/extensions.h"
#include "spool/batch.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "spool/regrade.h"
#include "spool/scan.h"

static const char queue_usage[] =
    "Usage: assay hold|release|requeue JOB [--spool S]\n"
    "\n"
    "  hold JOB      keep a queued or deferred job from being graded\n"
    "  release JOB   put a held job back in the queue\n"
    "  requeue JOB   queue a failed, deferred or held job again, with fresh attempts\n";

static int parse_spool_opt(int argc, char **argv, const char **spool, const char *usage)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 's')
            *spool = optarg;
        else if (c == 'h') {
            fputs(usage, stdout);
            exit(EXIT_OK);
        } else
            return -1;
    }
    return 0;
}

/* The transition each command names (spool/queue.h). */
static int (*transition_for(const char *cmd))(const struct spool *, const char *, char **,
                                              struct err *)
{
    if (!strcmp(cmd, "hold"))
        return queue_hold;
    if (!strcmp(cmd, "release"))
        return queue_release;
    return queue_requeue;
}

int cmd_queue(int argc, char **argv)
{
    const char *cmd = argv[0], *spool = NULL;
    if (parse_spool_opt(argc, argv, &spool, queue_usage) < 0 || argc - optind != 1) {
        fputs(queue_usage, stderr);
        return EXIT_USAGE;
    }
    const char *id = argv[optind];
    struct spool s;
    if (cli_open_spool(spool, &s, cmd, true) < 0)
        return EXIT_FAILED;
    char *from = NULL;
    int rc = EXIT_FAILED;
    struct err e;
    if (transition_for(cmd)(&s, id, &from, &e) < 0) {
        cli_printf(stderr, "assay %s: %s\n", cmd, e.msg);
    } else {
        cli_printf(stdout, "%s: %s/ -> %s/\n", id, from, strcmp(cmd, "hold") ? SPOOL_INCOMING : SPOOL_HOLD);
        rc = EXIT_OK;
    }
    free(from);
    spool_close(&s);
    return rc;
}

static const char regrade_usage[] =
    "Usage: assay regrade --course C --assignment A [--wait [--timeout S]] [--spool S]\n"
    "\n"
    "Queues the latest version of every student's submission to assignment A of\n"
    "course C again, at batch priority (interactive submissions go first).  With\n"
    "--wait, shows progress until all are graded, then a summary (as grade-all).\n";

/* Regrading's sentences on stderr, as `assay CMD`. */
static void say_stderr(void *arg, bool headline, const char *line)
{
    if (headline)
        cli_printf(stderr, "assay %s: %s\n", (const char *)arg, line);
    else
        cli_printf(stderr, "%s\n", line);
}

int regrade_queue_all(const struct spool *s, const char *course, const char *asg,
                      json_t *queued, const char *cmd)
{
    struct regrade_out out = {say_stderr, (void *)cmd};
    int rc = regrade_queue(s, course, asg, NULL, queued, cmd, &out);
    struct passwd *pw = getpwuid(getuid());
    struct err e;
    /* the web console's progress of this bulk grading; the jobs are queued all the same */
    if (json_array_size(queued) &&
        batch_save(s, course, asg, queued, pw ? pw->pw_name : "?", &e) < 0)
        cli_printf(stderr, "assay %s: warning: %s\n", cmd, e.msg);
    return rc;
}

int cmd_regrade(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
        {"wait", no_argument, NULL, 'w'}, {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL, *course = NULL, *asg = NULL;
    bool wait = false;
    double timeout = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'c': course = optarg; break;
        case 'a': asg = optarg; break;
        case 'w': wait = true; break;
        case 't': timeout = atof(optarg); break;
        case 'h': fputs(regrade_usage, stdout); return EXIT_OK;
        default: fputs(regrade_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!course || !asg || optind != argc || !spool_name_is_valid(course) || !spool_name_is_valid(asg)) {
        fputs(regrade_usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "regrade", true) < 0)
        return EXIT_FAILED;
    json_t *queued = json_array();
    int rc = regrade_queue_all(&s, course, asg, queued, "regrade") < 0 ? EXIT_FAILED : EXIT_OK;
    size_t n = json_array_size(queued);
    /* stopped before queuing anything (said): no summary of nothing, "0 failed" */
    bool stopped = rc != EXIT_OK && n == 0;
    if (!stopped)
        cli_printf(stdout, "queued %zu submission%s of %s/%s for regrading (batch priority)\n", n,
                   n == 1 ? "" : "s", course, asg);
    if (!stopped && wait && bulk_wait_and_summarize(&s, queued, timeout) != EXIT_OK)
        rc = EXIT_FAILED;
    json_decref(queued);
    spool_close(&s);
    return rc;
}
