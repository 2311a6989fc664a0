/*
 * counters_add.c - what counting a job for /metrics costs the process
 * that records it: counters_add (spool/counters.c: one line appended,
 * folded now and then) against stats_note_job (spool/stats.c: the
 * grading-time average rewritten in place and a line of waits.log), which
 * every recorded job already pays, in the same run, interleaved.
 *
 *   make build/bench/counters_add && build/bench/counters_add [JOBS]
 *
 * Makes a spool (`assay init`'s layout) in a temporary directory, counts
 * JOBS jobs (default 20,000) the way record_result does (completed, wait
 * and run histograms) spread over 20 courses, and prints the mean wall
 * and CPU time per job of each.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "spool/counters.h"
#include "spool/stats.h"
#include "spool/workers.h"

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
           u.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
    int jobs = argc > 1 ? atoi(argv[1]) : 20000;
    char base[] = "/tmp/assay-counters-XXXXXX";
    struct spool s;
    struct err e;
    if (jobs < 1 || !mkdtemp(base)) {
        fprintf(stderr, "usage: counters_add [JOBS >= 1]\n");
        return 2;
    }
    char *root = fs_join(base, "spool");
    if (!root || spool_init(root, NULL, &e) < 0 || spool_open(&s, root, &e) < 0) {
        fprintf(stderr, "counters_add: %s\n", root ? e.msg : "out of memory");
        return 1;
    }
    double wall[2] = {0, 0}, cpu[2] = {0, 0};
    for (int i = 0; i < jobs; i++) {
        char course[32], done[96], wait[64], run[96];
        snprintf(course, sizeof course, "c%02d", i % 20);
        snprintf(done, sizeof done, "course=\"%s\",outcome=\"graded\"", course);
        snprintf(wait, sizeof wait, "course=\"%s\"", course);
        snprintf(run, sizeof run, "course=\"%s\",capability=\"python\"", course);
        struct counter_inc incs[] = {{"assay_jobs_completed_total", done, 1, false},
                                     {"assay_job_wait_seconds", wait, 0.3, true},
                                     {"assay_job_run_seconds", run, 1.2, true}};
        for (int k = 0; k < 2; k++) {
            int which = (i + k) % 2;   /* alternate which goes first */
            double t0 = clock_mono(), c0 = cpu_now();
            int rc = which == 0 ? counters_add(&s, incs, 3, &e)
                                : stats_note_job(&s, course, "hw", 0.3, 1.2, clock_wall(),
                                                 "graded", &e);
            wall[which] += clock_mono() - t0;
            cpu[which] += cpu_now() - c0;
            if (rc < 0) {
                fprintf(stderr, "counters_add: %s\n", e.msg);
                return 1;
            }
        }
    }
    printf("per job, %d jobs over 20 courses:\n", jobs);
    printf("  counters_add (the /metrics counts)  %.1f us wall, %.1f us CPU\n",
           wall[0] / jobs * 1e6, cpu[0] / jobs * 1e6);
    printf("  stats_note_job (the existing stats) %.1f us wall, %.1f us CPU\n",
           wall[1] / jobs * 1e6, cpu[1] / jobs * 1e6);
    /* assay init put the local worker's directory on a tmpfs, outside */
    struct workers w;
    struct problems p = {0};
    struct err ignored;   /* a leftover temporary directory is only untidy */
    if (workers_load(&s, &w, &p) == 0)
        for (size_t i = 0; i < w.n; i++)
            if (w.v[i].dir)
                fs_remove_tree(w.v[i].dir, &ignored);
    problems_free(&p);
    workers_free(&w);
    spool_close(&s);
    fs_remove_tree(base, &ignored);
    free(root);
    return 0;
}
