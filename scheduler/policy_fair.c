/*
 * policy_fair.c - weighted fair sharing of each worker pool across
 * courses (the default policy: assay-scheduler --policy fair).
 *
 * A pool is the set of jobs needing one capability.  In each pool,
 * interactive jobs go before batch jobs; inside each of those two
 * classes the courses share the pool by start-time fair queuing
 * (Goyal, Vin and Cheng's SFQ):
 *
 *   - every course has a start tag S and a finish tag F in the class's
 *     virtual time V;
 *   - a course that starts waiting gets S = max(V, F): an idle course
 *     banks no credit, and a course that was just served waits its turn;
 *   - the slot takes the course with the smallest S; then V = max(V, S)
 *     and F = S + cost / weight, where cost is the job's expected slot
 *     time (its assignment's moving-average grading time, or its time
 *     limit until there is history) and weight comes from course.json;
 *   - the course, if still waiting, continues at S = F.
 *
 * So a course that floods the queue with 2,000 jobs is charged for each
 * one it gets, and a small course arriving meanwhile starts at V, ahead
 * of the flood's next job: it waits for one slot to free, not for the
 * flood.  Inside a course the same scheme (unweighted) runs across
 * students, so one student submitting twenty times does not hold up
 * classmates; a student's own jobs go oldest first.  Tags are assigned
 * when a queue reaches the head, not when a job arrives, which gives the
 * same order as SFQ for first-in-first-out queues and lets a queue
 * re-order its jobs.
 *
 * Age guard: a batch job that has waited longer than age_guard_s is
 * moved to the interactive class (still fairly shared), so a stream of
 * interactive work cannot starve a regrade.  Jobs that already failed on
 * a worker (an avoid list) sit in a short per-pool list that is served
 * first: they were dispatched, and charged, once already.
 *
 * Every structure is a heap (heap.c) or a hash table (strmap.c): adding,
 * removing and picking a job are O(log n).  A course's charge happens in
 * remove() for the job pick() just returned, so a pick the caller does
 * not carry out charges nothing.
 *
 * What the heaps and the retry list hold is a node of this file's own per
 * job (sched_job.policy_node), allocated in add() and freed in remove():
 * the job's places in its heaps, its queue and class, and a copy of its
 * arrival time, so that ordering a heap reads the nodes alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "scheduler/heap.h"
#include "scheduler/policy.h"
#include "scheduler/strmap.h"

enum { CLS_INTERACTIVE, CLS_BATCH, N_CLS };
enum { POS_QUEUE, POS_AGING };       /* a job's two heap places */

struct fair_class;
struct course_q;
struct pool;

struct fair_node {                   /* a waiting job, as this policy keeps it */
    struct sched_job *job;
    double queued_at;                /* job->queued_at, read by every comparison */
    struct pool *pool;
    struct student_q *queue;         /* the queue holding it; NULL: in pool->retry */
    union {
        size_t pos[2];               /* in queue->jobs and (batch) pool->aging */
        struct {
            struct fair_node *prev, *next;
        } retry;                     /* in pool->retry */
    } at;
    int cls;                         /* the class it is served in; -1: retry */
};

struct student_q {                   /* a student's waiting jobs in one course */
    struct course_q *course;
    struct heap jobs;                /* oldest first */
    double start, finish;
    unsigned long seq;               /* tie-break: who started waiting first */
    size_t pos;                      /* in course->students */
};

struct course_q {
    struct fair_class *cls;
    double weight;
    double start, finish;            /* tags in the class's virtual time */
    double vtime;                    /* virtual time among its students */
    unsigned long seq;
    struct heap students;            /* waiting students, smallest start first */
    struct strmap by_student;        /* name -> student_q (kept while it waits) */
    size_t pos;                      /* in cls->courses */
    size_t n_jobs;
};

struct fair_class {
    double vtime;
    unsigned long seq;
    struct heap courses;             /* waiting courses, smallest start first */
    struct strmap by_course;         /* name -> course_q (kept for its tags) */
};

struct pool {
    const char *capability;
    struct fair_class cls[N_CLS];
    struct heap aging;               /* batch jobs, oldest first */
    struct fair_node *retry;         /* jobs with an avoid list */
    struct pool *next;
};

struct fair {
    struct policy base;
    struct policy_env env;
    struct pool *pools;
    struct sched_job *taken;         /* what pick() last returned */
};

/* ---- orderings -------------------------------------------------------- */

static bool job_before(const void *a, const void *b)
{
    const struct fair_node *x = a, *y = b;
    return x->queued_at < y->queued_at ||
           (x->queued_at == y->queued_at && strcmp(x->job->id, y->job->id) < 0);
}

static bool student_before(const void *a, const void *b)
{
    const struct student_q *x = a, *y = b;
    return x->start < y->start || (x->start == y->start && x->seq < y->seq);
}

static bool course_before(const void *a, const void *b)
{
    const struct course_q *x = a, *y = b;
    return x->start < y->start || (x->start == y->start && x->seq < y->seq);
}

/* ---- the structures ---------------------------------------------------- */

static double now_of(const struct fair *f)
{
    return f->env.now ? f->env.now(f->env.ctx) : clock_wall();
}

/* Frees node N: its job leaves the policy. */
static void node_free(struct fair_node *n)
{
    n->job->policy_node = NULL;
    free(n);
}

/* Frees a student's queue and the nodes still in it (destroy()). */
static void student_free(void *p)
{
    struct student_q *st = p;
    if (!st)
        return;
    for (size_t i = 0; i < st->jobs.n; i++)
        node_free(st->jobs.v[i]);
    heap_free(&st->jobs);
    free(st);
}

static void course_free(void *p)
{
    struct course_q *c = p;
    if (!c)
        return;
    heap_free(&c->students);
    strmap_free(&c->by_student, student_free);
    free(c);
}

static struct pool *pool_get(struct fair *f, const char *capability)
{
    for (struct pool *p = f->pools; p; p = p->next)
        if (!strcmp(p->capability, capability))
            return p;
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->capability = capability;   /* interned by the scheduler: lives as long */
    for (int c = 0; c < N_CLS; c++)
        p->cls[c].courses = (struct heap)HEAP_INIT(course_before, struct course_q, pos);
    p->aging = (struct heap)HEAP_INIT(job_before, struct fair_node, at.pos[POS_AGING]);
    p->next = f->pools;
    f->pools = p;
    return p;
}

static struct course_q *course_get(struct fair_class *cl, const char *name)
{
    struct strmap_entry *e = strmap_get(&cl->by_course, name, true);
    if (!e)
        return NULL;
    if (!e->value) {
        struct course_q *c = calloc(1, sizeof *c);
        if (!c)
            return NULL;
        c->cls = cl;
        c->weight = 1;
        c->students = (struct heap)HEAP_INIT(student_before, struct student_q, pos);
        e->value = c;
    }
    return e->value;
}

static struct student_q *student_get(struct course_q *c, const char *name)
{
    struct strmap_entry *e = strmap_get(&c->by_student, name, true);
    if (!e)
        return NULL;
    if (!e->value) {
        struct student_q *st = calloc(1, sizeof *st);
        if (!st)
            return NULL;
        st->course = c;
        st->jobs = (struct heap)HEAP_INIT(job_before, struct fair_node, at.pos[POS_QUEUE]);
        e->value = st;
    }
    return e->value;
}

/* Puts node N in class C of pool P: its course and student queues,
 * starting their tags when they were not waiting.  0, or -1 when memory
 * ran out (N is then in no queue and nothing changed but the tags of
 * queues that were not waiting). */
static int enqueue(struct pool *p, int c, struct fair_node *n)
{
    struct fair_class *cl = &p->cls[c];
    const struct sched_job *j = n->job;
    struct course_q *course = course_get(cl, j->course);
    struct student_q *st = course ? student_get(course, j->student) : NULL;
    if (!st || heap_push(&st->jobs, n) < 0)
        return -1;
    bool new_student = st->jobs.n == 1;
    if (new_student) {
        st->start = fmax(course->vtime, st->finish);
        st->seq = ++cl->seq;
        if (heap_push(&course->students, st) < 0)
            goto undo_job;
    }
    if (course->n_jobs == 0) {
        course->start = fmax(cl->vtime, course->finish);
        course->seq = ++cl->seq;
        if (heap_push(&cl->courses, course) < 0)
            goto undo_student;
    }
    course->n_jobs++;
    if (j->weight > 0)
        course->weight = j->weight;   /* course.json may have changed */
    n->queue = st;
    n->cls = c;
    return 0;
undo_student:
    if (new_student)
        heap_remove(&course->students, st);
undo_job:
    heap_remove(&st->jobs, n);
    return -1;
}

/* Charges N's course and student for a slot: its job is being dispatched. */
static void charge(const struct fair_node *n)
{
    struct student_q *st = n->queue;
    struct course_q *course = st->course;
    struct fair_class *cl = course->cls;
    double cost = n->job->cost > 0 ? n->job->cost : 1;
    cl->vtime = fmax(cl->vtime, course->start);
    course->finish = course->start + cost / course->weight;
    course->vtime = fmax(course->vtime, st->start);
    st->finish = st->start + cost;
}

/* Takes N out of its queues; CHARGED: its job was dispatched, so its
 * queues move on to their next tags. */
static void dequeue(struct fair_node *n, bool charged)
{
    struct student_q *st = n->queue;
    struct course_q *course = st->course;
    struct fair_class *cl = course->cls;
    if (charged)
        charge(n);
    heap_remove(&st->jobs, n);
    n->queue = NULL;
    if (st->jobs.n == 0) {
        heap_remove(&course->students, st);
    } else if (charged) {
        st->start = fmax(course->vtime, st->finish);
        heap_fix(&course->students, st);
    }
    if (--course->n_jobs == 0) {
        heap_remove(&cl->courses, course);
        /* nobody waits: forget the students (their credit is at most one job) */
        strmap_free(&course->by_student, student_free);
    } else if (charged) {
        course->start = fmax(cl->vtime, course->finish);
        heap_fix(&cl->courses, course);
    }
}

static void retry_link(struct pool *p, struct fair_node *n)
{
    n->cls = -1;
    n->at.retry.prev = NULL;
    n->at.retry.next = p->retry;
    if (p->retry)
        p->retry->at.retry.prev = n;
    p->retry = n;
}

static void retry_unlink(struct pool *p, struct fair_node *n)
{
    if (n->at.retry.prev)
        n->at.retry.prev->at.retry.next = n->at.retry.next;
    else
        p->retry = n->at.retry.next;
    if (n->at.retry.next)
        n->at.retry.next->at.retry.prev = n->at.retry.prev;
}

/* Moves batch jobs that waited past the age guard to the interactive class. */
static void promote_aged(const struct fair *f, struct pool *p, double now)
{
    struct fair_node *n;
    while ((n = heap_top(&p->aging)) && now - n->queued_at > f->env.age_guard_s) {
        heap_remove(&p->aging, n);
        dequeue(n, false);
        if (enqueue(p, CLS_INTERACTIVE, n) < 0)
            node_free(n);   /* out of memory: the job leaves the policy */
    }
}

/* ---- the interface ------------------------------------------------------ */

/* Queues node N, new in pool P: 0, or -1 when memory ran out (N is then
 * in no queue). */
static int admit(const struct fair *f, struct pool *p, struct fair_node *n)
{
    const struct sched_job *j = n->job;
    if (j->n_avoid > 0) {
        retry_link(p, n);
        return 0;
    }
    bool aged = now_of(f) - n->queued_at > f->env.age_guard_s;
    if (!j->batch || aged)
        return enqueue(p, CLS_INTERACTIVE, n);
    if (enqueue(p, CLS_BATCH, n) < 0)
        return -1;
    if (heap_push(&p->aging, n) < 0) {
        dequeue(n, false);
        return -1;
    }
    return 0;
}

static void fair_add(struct policy *pol, struct sched_job *j)
{
    struct fair *f = (struct fair *)pol;
    struct pool *p = pool_get(f, j->capability);
    struct fair_node *n = p ? malloc(sizeof *n) : NULL;
    j->policy_node = n;
    if (!n)
        return;   /* out of memory: the job is not queued (policy.h) */
    *n = (struct fair_node){.job = j, .queued_at = j->queued_at, .pool = p};
    if (admit(f, p, n) < 0)
        node_free(n);
}

static void fair_remove(struct policy *pol, struct sched_job *j)
{
    struct fair *f = (struct fair *)pol;
    bool charged = j == f->taken;
    if (charged)
        f->taken = NULL;
    struct fair_node *n = j->policy_node;
    if (!n)
        return;
    if (n->cls < 0) {
        retry_unlink(n->pool, n);
    } else {
        if (n->cls == CLS_BATCH)
            heap_remove(&n->pool->aging, n);
        dequeue(n, charged);
    }
    node_free(n);
}

/* The node class C of pool P would serve next. */
static struct fair_node *class_head(struct pool *p, int c)
{
    struct course_q *course = heap_top(&p->cls[c].courses);
    struct student_q *st = course ? heap_top(&course->students) : NULL;
    return st ? heap_top(&st->jobs) : NULL;
}

/* Pool P's best node for W, and its rank (lower goes first). */
static struct fair_node *pool_pick(struct pool *p, const struct worker_cfg *w,
                                   const struct workers *all, int *rank)
{
    for (struct fair_node *n = p->retry; n; n = n->at.retry.next)
        if (policy_worker_fits(n->job, w, all)) {
            *rank = -1;
            return n;
        }
    for (int c = 0; c < N_CLS; c++) {
        struct fair_node *n = class_head(p, c);
        if (n && policy_worker_fits(n->job, w, all)) {
            *rank = c;
            return n;
        }
    }
    return NULL;
}

static struct sched_job *fair_pick(struct policy *pol, const struct worker_cfg *w,
                                   const struct workers *all)
{
    struct fair *f = (struct fair *)pol;
    double now = now_of(f);
    struct fair_node *best = NULL;
    int best_rank = N_CLS;
    for (struct pool *p = f->pools; p; p = p->next) {
        if (!worker_offers(w, p->capability))
            continue;
        promote_aged(f, p, now);
        int rank;
        struct fair_node *n = pool_pick(p, w, all, &rank);
        /* a worker serving several pools: the higher class, then the older job */
        if (n && (!best || rank < best_rank ||
                  (rank == best_rank && job_before(n, best)))) {
            best = n;
            best_rank = rank;
        }
    }
    f->taken = best ? best->job : NULL;
    return f->taken;
}

static void fair_destroy(struct policy *pol)
{
    struct fair *f = (struct fair *)pol;
    while (f->pools) {
        struct pool *p = f->pools;
        f->pools = p->next;
        while (p->retry) {
            struct fair_node *n = p->retry;
            p->retry = n->at.retry.next;
            node_free(n);
        }
        for (int c = 0; c < N_CLS; c++) {
            heap_free(&p->cls[c].courses);
            strmap_free(&p->cls[c].by_course, course_free);
        }
        heap_free(&p->aging);
        free(p);
    }
    free(f);
}

struct policy *policy_fair_new(const struct policy_env *env)
{
    struct fair *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    if (env)
        f->env = *env;
    if (f->env.age_guard_s <= 0)
        f->env.age_guard_s = POLICY_AGE_GUARD_S;
    f->base.name = "fair";
    f->base.add = fair_add;
    f->base.remove = fair_remove;
    f->base.pick = fair_pick;
    f->base.destroy = fair_destroy;
    return &f->base;
}
