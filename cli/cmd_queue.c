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

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
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
    "Usage: assay regrade --course C --assignment A [--wait [--timeout S]] [--spool S]\n"
    "\n"
    "Queues the latest version of every student's submission to assignment A of\n"
    "course C again, at batch priority (interactive submissions go first).  With\n"
    "--wait, shows progress until all are graded, then a summary (as grade-all).\n";

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

/* A regrade is late exactly when the submission was: it keeps the time of
 * the submission, read from the version's recorded result. */
static void keep_submission_time(const struct spool *s, json_t *job)
{
    char *path = spool_path(s, "results/%s/%s/%s/%lld/results.json", jsonutil_str(job, "course", ""),
                            jsonutil_str(job, "assignment", ""), jsonutil_str(job, "student", ""),
                            (long long)json_integer_value(json_object_get(job, "version")));
    struct err e;
    json_t *r = fs_exists(path) ? jsonutil_load_file(path, 16u << 20, &e) : NULL;
    const json_t *assay = json_object_get(r, "assay");
    const char *when = jsonutil_str(assay, "submitted_at", jsonutil_str(assay, "queued_at", NULL));
    double t;
    if (when && clock_parse_iso8601(when, &t))
        json_object_set_new(job, "submitted_at", json_string(when));
    else
        fprintf(stderr, "assay regrade: warning: %s has no recorded submission time; a late "
                "policy measures this regrade from now\n", path);
    json_decref(r);
    free(path);
}

/* Queues STUDENT's latest version; QUEUED gets {"id", "student", "rel"}. */
static int regrade_student(const struct spool *s, const char *course, const char *asg,
                           const char *student, const char *capability, json_t *queued,
                           struct err *e)
{
    char *dir = spool_path(s, "submissions/%s/%s/%s", course, asg, student);
    long long v = latest_version(dir);
    free(dir);
    if (v < 1)
        return 0;
    json_t *job = job_new(course, asg, student, v, true, capability);
    keep_submission_time(s, job);
    int rc = queue_enqueue(s, job, e);
    char rel[512];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", course, asg, student, v);
    if (rc == 0)
        json_array_append_new(queued, json_pack("{s:O, s:s, s:s}", "id", json_object_get(job, "id"),
                                                "student", student, "rel", rel));
    json_decref(job);
    return rc < 0 ? -1 : 1;
}

int regrade_queue_all(const struct spool *s, const char *course, const char *asg,
                      json_t *queued, const char *cmd)
{
    char *apath = spool_path(s, "courses/%s/%s/assignment.json", course, asg);
    struct err e;
    json_t *a = jsonutil_load_file(apath, 4u << 20, &e);
    char *cap = strdup(jsonutil_str(a, "capability", "python"));
    json_decref(a);
    free(apath);
    char *dir = spool_path(s, "submissions/%s/%s", course, asg);
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort), rc = 0;
    for (int i = 0; i < n; i++) {
        const char *student = names[i]->d_name;
        if (student[0] != '.' && spool_name_is_valid(student) &&
            regrade_student(s, course, asg, student, cap, queued, &e) < 0) {
            fprintf(stderr, "assay %s: %s: %s\n", cmd, student, e.msg);
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    free(dir);
    free(cap);
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
    if (cli_open_spool(spool, &s, "regrade") < 0)
        return EXIT_FAILED;
    json_t *queued = json_array();
    int rc = regrade_queue_all(&s, course, asg, queued, "regrade") < 0 ? EXIT_FAILED : EXIT_OK;
    size_t n = json_array_size(queued);
    printf("queued %zu submission%s of %s/%s for regrading (batch priority)\n", n,
           n == 1 ? "" : "s", course, asg);
    if (wait && bulk_wait_and_summarize(&s, queued, timeout) != EXIT_OK)
        rc = EXIT_FAILED;
    json_decref(queued);
    spool_close(&s);
    return rc;
}
