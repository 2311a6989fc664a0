/*
 * cmd_queue.c - `assay hold|release|requeue JOB` and `assay regrade`:
 * what an admin or instructor does to jobs in the queue.
 *
 *   hold     incoming/ or deferred/ -> hold/  (the scheduler leaves it alone)
 *   release  hold/ -> incoming/
 *   requeue  failed/, deferred/ or hold/ -> incoming/, with fresh attempts
 *   regrade  a new batch job for the latest version of every student
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/commands.h"
#include "spool/job.h"
#include "spool/queue.h"

static const char queue_usage[] =
    "Usage: assay hold|release|requeue JOB [--spool S]\n"
    "\n"
    "  hold JOB      keep a queued or deferred job from being graded\n"
    "  release JOB   put a held job back in the queue\n"
    "  requeue JOB   queue a failed, deferred or held job again, with fresh attempts\n";

static void fresh_attempts(json_t *job)
{
    json_object_set_new(job, "attempt", json_integer(0));
    json_object_set_new(job, "token", json_null());
    json_object_del(job, "not_before");
    json_object_del(job, "failed_on");
    json_object_del(job, "slot");
}

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

/* Which states each command takes a job from, and where it puts it. */
static int move_for(const char *cmd, const char *state, const char **to, bool *reset)
{
    *reset = false;
    if (!strcmp(cmd, "hold") && (!strcmp(state, SPOOL_INCOMING) || !strcmp(state, SPOOL_DEFERRED)))
        *to = SPOOL_HOLD;
    else if (!strcmp(cmd, "release") && !strcmp(state, SPOOL_HOLD))
        *to = SPOOL_INCOMING;
    else if (!strcmp(cmd, "requeue") && (!strcmp(state, SPOOL_FAILED) ||
                                         !strcmp(state, SPOOL_DEFERRED) || !strcmp(state, SPOOL_HOLD))) {
        *to = SPOOL_INCOMING;
        *reset = true;
    } else
        return -1;
    return 0;
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
    if (cli_open_spool(spool, &s, cmd) < 0)
        return EXIT_FAILED;
    char *state = queue_locate(&s, id);
    const char *to;
    bool reset;
    int rc = EXIT_FAILED;
    struct err e;
    if (!state) {
        fprintf(stderr, "assay %s: no job %s in the queue (it may be graded already: "
                "see `assay results --job %s`)\n", cmd, id, id);
    } else if (move_for(cmd, state, &to, &reset) < 0) {
        fprintf(stderr, "assay %s: job %s is in %s/, where %s does not apply\n", cmd, id, state, cmd);
    } else if (queue_move(&s, id, state, to, reset ? fresh_attempts : NULL, &e) < 0) {
        fprintf(stderr, "assay %s: %s\n", cmd, e.msg);
    } else {
        if (!strcmp(state, SPOOL_FAILED)) {
            char *reason = spool_path(&s, SPOOL_FAILED "/%s.reason", id);
            unlink(reason);
            free(reason);
        }
        printf("%s: %s/ -> %s/\n", id, state, to);
        rc = EXIT_OK;
    }
    free(state);
    spool_close(&s);
    return rc;
}

static const char regrade_usage[] =
    "Usage: assay regrade --course C --assignment A [--spool S]\n"
    "\n"
    "Queues the latest version of every student's submission to assignment A of\n"
    "course C again, at batch priority (interactive submissions go first).\n";

static long long latest_version(const char *dir)
{
    DIR *d = opendir(dir);
    long long best = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        char *end;
        long long v = strtoll(de->d_name, &end, 10);
        if (*end == '\0' && v > best)
            best = v;
    }
    if (d)
        closedir(d);
    return best;
}

static int regrade_student(const struct spool *s, const char *course, const char *asg,
                           const char *student, const char *capability, struct err *e)
{
    char *dir = spool_path(s, "submissions/%s/%s/%s", course, asg, student);
    long long v = latest_version(dir);
    free(dir);
    if (v < 1)
        return 0;
    json_t *job = job_new(course, asg, student, v, true, capability);
    int rc = queue_enqueue(s, job, e);
    json_decref(job);
    return rc < 0 ? -1 : 1;
}

int cmd_regrade(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL, *course = NULL, *asg = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'c': course = optarg; break;
        case 'a': asg = optarg; break;
        case 'h': fputs(regrade_usage, stdout); return EXIT_OK;
        default: fputs(regrade_usage, stderr); return EXIT_USAGE;
        }
    }
    if (!course || !asg || optind != argc || !spool_name_is_valid(course) || !spool_name_is_valid(asg)) {
        fputs(regrade_usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "regrade") < 0)
        return EXIT_FAILED;
    char *apath = spool_path(&s, "courses/%s/%s/assignment.json", course, asg);
    struct err e;
    json_t *a = jsonutil_load_file(apath, 4u << 20, &e);
    char *cap = strdup(jsonutil_str(a, "capability", "python"));
    json_decref(a);
    free(apath);
    char *dir = spool_path(&s, "submissions/%s/%s", course, asg);
    DIR *d = opendir(dir);
    int queued = 0, rc = EXIT_OK;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !spool_name_is_valid(de->d_name))
            continue;
        int r = regrade_student(&s, course, asg, de->d_name, cap, &e);
        if (r < 0) {
            fprintf(stderr, "assay regrade: %s: %s\n", de->d_name, e.msg);
            rc = EXIT_FAILED;
        }
        queued += r > 0;
    }
    if (d)
        closedir(d);
    printf("queued %d submission%s of %s/%s for regrading (batch priority)\n", queued,
           queued == 1 ? "" : "s", course, asg);
    free(dir);
    free(cap);
    spool_close(&s);
    return rc;
}
