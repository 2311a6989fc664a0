/*
 * fair_night.c - a deadline night through the real scheduling policies,
 * on a simulated clock (nothing sleeps; the whole night takes well under
 * a second).
 *
 *   make bench && build/bench/fair_night [--slots N] [--big N] [--small N]
 *                                        [--duration S] [--seed N]
 *
 * One large course ("big", 2,000 jobs by default, from 400 students)
 * floods the queue in the hour before its deadline, arriving faster and
 * faster; three small courses trickle in over the night (60 jobs each,
 * uniformly from two hours before to half an hour after).  Every job
 * holds a slot for about --duration seconds (uniform within +-10%).  One
 * worker offers --slots slots (16).  Each job's cost is what the
 * scheduler would charge: its assignment's moving-average slot time
 * (updated as jobs finish, like spool/stats.c), or the time limit (2 x
 * the duration) until there is history.
 *
 * The same arrivals are run under "fcfs" and "fair" (scheduler/policy_*.c,
 * the code assay-scheduler runs), and it prints per course the p50, p95
 * and largest wait (queued -> slot), the large course's makespan (first
 * arrival -> last job done) under each, their ratio, and the mean time
 * one dispatch decision took.  Goal: small courses' p95 wait at
 * most one job duration under fair, the large course's makespan within
 * 2 % of FCFS's.  Figures go to docs/PERFORMANCE.md.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "scheduler/policy.h"

#define N_COURSES 4
static const char *const course_names[N_COURSES] = {"big", "small1", "small2", "small3"};

struct sim_job {
    struct sched_job j;
    double duration;
    double started;
    int course;
};

struct night {
    double now;
    int slots;
    double duration;
    struct sim_job *jobs;
    size_t n;
    double avg[N_COURSES];          /* moving-average slot time per course's assignment */
    bool learnt[N_COURSES];
};

static double night_now(void *ctx)
{
    return ((struct night *)ctx)->now;
}

static unsigned long long rng_state;

static double uniform(void)   /* xorshift: reproducible across libcs */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int by_arrival(const void *a, const void *b)
{
    double x = ((const struct sim_job *)a)->j.queued_at, y = ((const struct sim_job *)b)->j.queued_at;
    return (x > y) - (x < y);
}

static char student_names[N_COURSES][400][16];

/* The night's arrivals, seconds relative to the large course's deadline. */
static void make_arrivals(struct night *nt, int big, int small, unsigned long long seed)
{
    rng_state = seed * 2654435761ull + 1;
    nt->n = (size_t)(big + 3 * small);
    nt->jobs = calloc(nt->n, sizeof *nt->jobs);
    for (int c = 0; c < N_COURSES; c++)
        for (int s = 0; s < 400; s++)
            snprintf(student_names[c][s], sizeof student_names[c][s], "%c%03d", 'a' + c, s);
    for (size_t i = 0; i < nt->n; i++) {
        struct sim_job *sj = &nt->jobs[i];
        int c = i < (size_t)big ? 0 : 1 + (int)((i - (size_t)big) / (size_t)small);
        double t = c == 0 ? -3600 * (1 - sqrt(uniform()))     /* denser towards 0 */
                          : -7200 + 9000 * uniform();
        sj->course = c;
        sj->duration = nt->duration * (0.9 + 0.2 * uniform());
        sj->j = (struct sched_job){.capability = "python", .course = course_names[c],
                                   .assignment = "hw", .version = 1, .queued_at = t,
                                   .weight = 1};
        sj->j.student = student_names[c][(int)(uniform() * (c == 0 ? 400 : 30))];
        snprintf(sj->j.id, sizeof sj->j.id, "%s-%06zu", course_names[c], i);
    }
    qsort(nt->jobs, nt->n, sizeof *nt->jobs, by_arrival);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *v, size_t n, double q)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = (size_t)ceil(q * (double)n) - 1;
    return v[k < n ? k : n - 1];
}

struct outcome {
    double p50[N_COURSES], p95[N_COURSES], max[N_COURSES];
    double makespan;                 /* of the large course */
    double decide_us;                /* mean pick + remove */
};

/* Runs the night under POLICY: arrivals in order, a slot taking a job
 * the moment it is free. */
static void run(struct night *nt, const char *policy, struct outcome *out)
{
    struct policy_env env = {night_now, nt, 0};
    struct policy *p = policy_new(policy, &env);
    const char *caps[] = {"python"};
    struct worker_cfg w = {.name = "w", .capabilities = caps, .n_capabilities = 1,
                           .enabled = true, .available = true, .slots = nt->slots};
    struct workers all = {.v = &w, .n = 1};
    double *slot_free = calloc((size_t)nt->slots, sizeof *slot_free);
    struct sim_job **in_slot = calloc((size_t)nt->slots, sizeof *in_slot);
    for (int c = 0; c < N_COURSES; c++) {
        nt->avg[c] = 2 * nt->duration;    /* the time limit, until there is history */
        nt->learnt[c] = false;
    }
    size_t next = 0, done = 0, decisions = 0;
    double decide_s = 0;
    nt->now = nt->jobs[0].j.queued_at;
    for (int k = 0; k < nt->slots; k++)
        slot_free[k] = nt->now;
    while (done < nt->n) {
        /* the next moment something happens: an arrival or a slot freeing */
        double t = next < nt->n ? nt->jobs[next].j.queued_at : INFINITY;
        for (int k = 0; k < nt->slots; k++)
            if (in_slot[k] && slot_free[k] < t)
                t = slot_free[k];
        nt->now = t;
        for (int k = 0; k < nt->slots; k++)
            if (in_slot[k] && slot_free[k] <= t) {
                struct sim_job *sj = in_slot[k];
                int c = sj->course;
                nt->avg[c] = nt->learnt[c] ? 0.8 * nt->avg[c] + 0.2 * sj->duration : sj->duration;
                nt->learnt[c] = true;
                in_slot[k] = NULL;
                done++;
            }
        while (next < nt->n && nt->jobs[next].j.queued_at <= t) {
            struct sim_job *sj = &nt->jobs[next++];
            sj->j.cost = nt->avg[sj->course];
            p->add(p, &sj->j);
        }
        for (int k = 0; k < nt->slots; k++) {
            if (in_slot[k])
                continue;
            double t0 = clock_mono();
            struct sched_job *j = p->pick(p, &w, &all);
            if (j)
                p->remove(p, j);
            decide_s += clock_mono() - t0;
            if (!j)
                break;
            decisions++;
            struct sim_job *sj = (struct sim_job *)j;
            sj->started = t;
            slot_free[k] = t + sj->duration;
            in_slot[k] = sj;
        }
    }
    double *waits = malloc(nt->n * sizeof *waits), first = INFINITY, last = -INFINITY;
    for (int c = 0; c < N_COURSES; c++) {
        size_t m = 0;
        for (size_t i = 0; i < nt->n; i++) {
            struct sim_job *sj = &nt->jobs[i];
            if (sj->course != c)
                continue;
            waits[m++] = sj->started - sj->j.queued_at;
            if (c == 0) {
                first = fmin(first, sj->j.queued_at);
                last = fmax(last, sj->started + sj->duration);
            }
        }
        out->p50[c] = quantile(waits, m, 0.50);
        out->p95[c] = quantile(waits, m, 0.95);
        out->max[c] = quantile(waits, m, 1.0);
    }
    out->makespan = last - first;
    out->decide_us = decisions ? decide_s / (double)decisions * 1e6 : 0;
    free(waits);
    free(slot_free);
    free(in_slot);
    p->destroy(p);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"slots", required_argument, NULL, 'k'}, {"big", required_argument, NULL, 'b'},
        {"small", required_argument, NULL, 's'}, {"duration", required_argument, NULL, 'd'},
        {"seed", required_argument, NULL, 'r'},  {NULL, 0, NULL, 0},
    };
    int slots = 16, big = 2000, small = 60, c;
    double duration = 30;
    unsigned long long seed = 1;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': slots = atoi(optarg); break;
        case 'b': big = atoi(optarg); break;
        case 's': small = atoi(optarg); break;
        case 'd': duration = atof(optarg); break;
        case 'r': seed = strtoull(optarg, NULL, 10); break;
        default:
            fprintf(stderr, "usage: fair_night [--slots N] [--big N] [--small N] "
                    "[--duration S] [--seed N]\n");
            return 2;
        }
    }
    if (slots < 1 || big < 1 || small < 1 || !(duration > 0)) {
        fprintf(stderr, "fair_night: every option must be positive\n");
        return 2;
    }
    struct night nt = {.slots = slots, .duration = duration};
    make_arrivals(&nt, big, small, seed);
    printf("deadline night: %d slots; big: %d jobs in the hour before its deadline; "
           "3 small courses: %d jobs each over 2.5 h; jobs of %.0f s +-10%%\n\n",
           slots, big, small, duration);
    const char *policies[] = {"fcfs", "fair"};
    struct outcome o[2];
    for (int i = 0; i < 2; i++)   /* every job leaves the policy in run(): reusable */
        run(&nt, policies[i], &o[i]);
    printf("%-8s | %-30s | %-30s\n", "wait (s)", "fcfs  p50 / p95 / max", "fair  p50 / p95 / max");
    for (int k = 0; k < N_COURSES; k++)
        printf("%-8s | %8.1f / %8.1f / %8.1f | %8.1f / %8.1f / %8.1f\n", course_names[k],
               o[0].p50[k], o[0].p95[k], o[0].max[k], o[1].p50[k], o[1].p95[k], o[1].max[k]);
    double worst = 0;
    for (int k = 1; k < N_COURSES; k++)
        worst = fmax(worst, o[1].p95[k]);
    printf("\nbig course makespan: fcfs %.1f s, fair %.1f s, ratio %.4f (goal <= 1.02)\n",
           o[0].makespan, o[1].makespan, o[1].makespan / o[0].makespan);
    printf("small courses' worst p95 wait under fair: %.1f s (goal <= one job, %.0f s): %s\n",
           worst, duration, worst <= duration ? "met" : "NOT met");
    printf("mean dispatch decision (pick + remove): fcfs %.2f us, fair %.2f us\n",
           o[0].decide_us, o[1].decide_us);
    free(nt.jobs);
    return 0;
}
