/*
 * catalog.c - what the scheduler knows of each course and assignment:
 * a course's weight and whether it supersedes queued versions
 * (courses/C/course.json, spool/course.c), and an assignment's expected
 * slot time (its moving-average grading time from spool/stats.c, or the
 * sum of its tests' wall-clock limits until there is history) and
 * whether it has tests at all.
 *
 * Every job that arrives needs these, so they are cached in hash tables
 * and re-read at most every CATALOG_TTL_S: start-up with 100,000 queued
 * jobs reads each file once, and an edited course.json applies within
 * seconds.  A broken course.json is logged once (naming the file and the
 * field) and its defaults used; the scheduler carries on.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/course.h"
#include "spool/stats.h"
#include "contract/assignment.h"

static void course_reload(struct sched *s, const char *course, struct course_info *ci)
{
    struct course_config cfg;
    struct problems p = {0};
    course_config_load(&s->spool, course, &cfg, &p);
    ci->weight = cfg.weight;
    ci->supersede = cfg.supersede;
    const char *now = p.count ? p.items[0] : NULL;
    if (now && (!ci->problem || strcmp(ci->problem, now)))
        log_msg(LOG_ERROR, NULL, "%s; using the defaults for it (weight 1, no superseding) "
                "until it is fixed", now);
    free(ci->problem);
    ci->problem = now ? strdup(now) : NULL;
    problems_free(&p);
}

const struct course_info *catalog_course(struct sched *s, const char *course)
{
    static struct course_info fallback = {1, false, 0, NULL};
    struct strmap_entry *e = strmap_get(&s->course_info, course, true);
    if (!e)
        return &fallback;
    struct course_info *ci = e->value;
    double now = clock_mono();
    if (!ci) {
        if (!(ci = calloc(1, sizeof *ci)))
            return &fallback;
        e->value = ci;
        ci->checked_at = -1e9;
    }
    if (now - ci->checked_at >= CATALOG_TTL_S) {
        course_reload(s, course, ci);
        ci->checked_at = now;
    }
    return ci;
}

static void assignment_reload(struct sched *s, const char *course, const char *assignment,
                              struct assignment_info *ai)
{
    char *dir = spool_path(&s->spool, "courses/%s/%s", course, assignment);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the worker reports them, to the instructor */
    assignment_summary_load(dir, &sum, &ignored);
    ai->exists = sum.tests != NULL;
    ai->no_tests = ai->exists && sum.n_tests == 0;
    ai->learnt = stats_grading_avg(&s->spool, course, assignment, &ai->cost);
    if (!ai->learnt)
        ai->cost = sum.wall_budget_s;
    if (ai->cost <= 0.001)
        ai->cost = 0.001;   /* every job costs something, or a course could take all */
    assignment_summary_free(&sum);
    problems_free(&ignored);
    free(dir);
}

const struct assignment_info *catalog_assignment(struct sched *s, const char *course,
                                                 const char *assignment)
{
    static struct assignment_info fallback = {false, false, 10, false, 0};
    char key[140];
    snprintf(key, sizeof key, "%s/%s", course, assignment);
    struct strmap_entry *e = strmap_get(&s->assignment_info, key, true);
    if (!e)
        return &fallback;
    struct assignment_info *ai = e->value;
    double now = clock_mono();
    if (!ai) {
        if (!(ai = calloc(1, sizeof *ai)))
            return &fallback;
        e->value = ai;
        ai->checked_at = -1e9;
    }
    /* without history look again soon: the first results teach the cost */
    if (now - ai->checked_at >= (ai->learnt ? CATALOG_TTL_S : CATALOG_TTL_S / 10)) {
        assignment_reload(s, course, assignment, ai);
        ai->checked_at = now;
    }
    return ai;
}

static void course_info_free(void *p)
{
    struct course_info *ci = p;
    if (ci)
        free(ci->problem);
    free(ci);
}

void catalog_free(struct sched *s)
{
    strmap_free(&s->course_info, course_info_free);
    strmap_free(&s->assignment_info, free);
}
