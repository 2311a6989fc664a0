/*
 * policy_scale.c - the cost of a dispatch decision and the memory per
 * queued job, as the queue grows to 100,000 jobs.
 *
 *   make bench && build/bench/policy_scale [--max N]
 *
 * For N = 1,000, 10,000 and 100,000 (up to --max) it queues N jobs the
 * way assay-scheduler keeps them (one calloc'd struct sched_job each;
 * 20 courses, 300 students each, a tenth at batch priority) in the fair
 * and the FCFS policy, in arrival order as the scheduler loads them, then
 * times 20,000 dispatches in a steady state (pick, remove, and a new job
 * queued), and reports the mean time of one decision and the heap bytes
 * per queued job the policy and the job summary take (glibc mallinfo2).
 * O(log n) shows as a decision time that barely grows with N.  Not a
 * test: figures go to docs/PERFORMANCE.md.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "scheduler/policy.h"

#define COURSES 20
#define STUDENTS 300

static char course_names[COURSES][16];
static char student_names[COURSES * STUDENTS][16];
static double fake_now;

static double now_fn(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static struct sched_job *new_job(size_t i)
{
    struct sched_job *j = calloc(1, sizeof *j);
    snprintf(j->id, sizeof j->id, "20261122T101502.%09zuZ-7f3a9c", i);
    int c = (int)(i * 7 % COURSES), u = (int)(i * 13 % STUDENTS);
    j->capability = "python";
    j->course = course_names[c];
    j->assignment = "hw1";
    j->student = student_names[c * STUDENTS + u];
    j->version = 1;
    j->batch = i % 10 == 0;
    j->queued_at = (double)i * 0.001;
    j->cost = 1 + (double)(c % 5);
    j->weight = 1;
    return j;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Times ROUNDS steady-state dispatches: pick, remove, and a new job
 * queued (job N + r), so the queue keeps its length.  Seconds.  Out of
 * line so that a profiler can count it alone:
 * valgrind --tool=callgrind --collect-atstart=no --toggle-collect='dispatch*' */
static double __attribute__((noinline))
dispatch(struct policy *p, const struct worker_cfg *w, const struct workers *all, size_t n,
         size_t rounds)
{
    double t0 = clock_mono();
    for (size_t r = 0; r < rounds; r++) {
        struct sched_job *j = p->pick(p, w, all);
        p->remove(p, j);
        free(j);
        p->add(p, new_job(n + r));
    }
    return clock_mono() - t0;
}

static void measure(const char *name, size_t n)
{
    struct policy_env env = {now_fn, NULL, 1e9};
    const char *caps[] = {"python"};
    struct worker_cfg w = {.name = "w", .capabilities = caps, .n_capabilities = 1,
                           .enabled = true, .available = true, .slots = 1};
    struct workers all = {.v = &w, .n = 1};
    size_t before = heap_in_use();
    struct policy *p = policy_new(name, &env);
    double t0 = clock_mono();
    for (size_t i = 0; i < n; i++)
        p->add(p, new_job(i));
    double add_s = clock_mono() - t0;
    size_t per_job = (heap_in_use() - before) / n;
    const size_t rounds = 20000;
    double decide_us = dispatch(p, &w, &all, n, rounds) / rounds * 1e6;
    struct sched_job *j;
    while ((j = p->pick(p, &w, &all))) {
        p->remove(p, j);
        free(j);
    }
    p->destroy(p);
    printf("%-5s %8zu jobs: add %6.3f us/job, dispatch (pick + remove + add) %6.3f us, "
           "%zu bytes/job (struct sched_job %zu)\n", name, n, add_s / (double)n * 1e6,
           decide_us, per_job, sizeof(struct sched_job));
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {{"max", required_argument, NULL, 'm'},
                                             {NULL, 0, NULL, 0}};
    size_t max = 100000;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c != 'm') {
            fprintf(stderr, "usage: policy_scale [--max N]\n");
            return 2;
        }
        max = strtoul(optarg, NULL, 10);
    }
    for (int i = 0; i < COURSES; i++) {
        snprintf(course_names[i], sizeof course_names[i], "course%02d", i);
        for (int u = 0; u < STUDENTS; u++)
            snprintf(student_names[i * STUDENTS + u], sizeof student_names[0], "s%04d", u);
    }
    for (size_t n = 1000; n <= max; n *= 10) {
        measure("fair", n);
        measure("fcfs", n);
    }
    return 0;
}
