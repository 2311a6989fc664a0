/* test_policy_fair.c - unit tests of the scheduling policies on a
 * simulated clock: the fair policy's order across courses (weights,
 * costs, a course arriving during a flood), across students, interactive
 * before batch and the age guard, capability pools and avoid lists,
 * removal of jobs that vanish, and a randomised run checking that every
 * job is picked exactly once; FCFS's order for comparison.  Also the heap
 * and the string map the policy is built on. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "scheduler/heap.h"
#include "scheduler/policy.h"
#include "scheduler/strmap.h"

#define MAX_JOBS 6000

struct sim {
    double now;
    struct policy *p;
    struct sched_job jobs[MAX_JOBS];
    int n;
    const char *python[1], *gpu[1];
    struct worker_cfg w[3];      /* w1, w2: python; g1: gpu */
    struct workers all;
};

static double sim_now(void *ctx)
{
    return ((struct sim *)ctx)->now;
}

static struct sim *sim_new(const char *policy, double age_guard)
{
    struct sim *s = calloc(1, sizeof *s);
    assert_non_null(s);
    struct policy_env env = {sim_now, s, age_guard};
    s->p = policy_new(policy, &env);
    assert_non_null(s->p);
    s->python[0] = "python";
    s->gpu[0] = "gpu";
    const char *names[] = {"w1", "w2", "g1"};
    for (int i = 0; i < 3; i++)
        s->w[i] = (struct worker_cfg){.name = names[i], .capabilities = i < 2 ? s->python : s->gpu,
                                      .n_capabilities = 1, .enabled = true, .available = true,
                                      .slots = 1};
    s->all = (struct workers){.v = s->w, .n = 3};
    return s;
}

static void sim_free(struct sim *s)
{
    s->p->destroy(s->p);
    free(s);
}

/* Queues a job of COURSE by STUDENT now (id "COURSE.STUDENT.n"). */
static struct sched_job *add(struct sim *s, const char *course, const char *student, bool batch,
                             double cost, double weight)
{
    assert_true(s->n < MAX_JOBS);
    struct sched_job *j = &s->jobs[s->n];
    *j = (struct sched_job){.capability = "python", .course = course, .assignment = "hw",
                            .student = student, .version = 1, .batch = batch,
                            .queued_at = s->now, .cost = cost, .weight = weight};
    snprintf(j->id, sizeof j->id, "%s.%s.%04d", course, student, s->n);
    s->n++;
    s->p->add(s->p, j);
    return j;
}

static struct sched_job *add_n(struct sim *s, int n, const char *course, const char *student)
{
    struct sched_job *first = NULL;
    for (int i = 0; i < n; i++) {
        struct sched_job *j = add(s, course, student, false, 1, 1);
        first = first ? first : j;
    }
    return first;
}

/* Worker W's slot takes its next job (NULL: none); the job is removed. */
static struct sched_job *take(struct sim *s, int w)
{
    struct sched_job *j = s->p->pick(s->p, &s->w[w], &s->all);
    if (j)
        s->p->remove(s->p, j);
    return j;
}

/* The first letters of the courses (or students, BY_STUDENT) of the
 * next N jobs worker w1 takes. */
static const char *order_of(struct sim *s, int n, bool by_student)
{
    static char out[512];
    int k = 0;
    struct sched_job *j;
    while (k < n && k < 511 && (j = take(s, 0)))
        out[k++] = by_student ? j->student[0] : j->course[0];
    out[k] = '\0';
    return out;
}

static const char *order(struct sim *s, int n)
{
    return order_of(s, n, false);
}

/* ---- the fair policy ---------------------------------------------------- */

static void test_fair_one_course_is_first_come_first_served(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    struct sched_job *a = add(s, "A", "u", false, 1, 1);
    s->now = 1;
    struct sched_job *b = add(s, "A", "u", false, 1, 1);
    s->now = 2;
    struct sched_job *c = add(s, "A", "u", false, 1, 1);
    assert_ptr_equal(take(s, 0), a);
    assert_ptr_equal(take(s, 0), b);
    assert_ptr_equal(take(s, 0), c);
    assert_null(take(s, 0));
    sim_free(s);
}

static void test_fair_backlogged_courses_take_turns(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add_n(s, 6, "A", "u");
    s->now = 1;
    add_n(s, 3, "B", "v");
    assert_string_equal(order(s, 20), "ABABABAAA");
    sim_free(s);
}

static void test_fcfs_serves_the_flood_first(void **state)
{
    (void)state;
    struct sim *s = sim_new("fcfs", 0);
    add_n(s, 6, "A", "u");
    s->now = 1;
    add_n(s, 3, "B", "v");
    assert_string_equal(order(s, 20), "AAAAAABBB");
    sim_free(s);
}

static void test_fair_course_arriving_during_a_flood_goes_next(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add_n(s, 100, "A", "u");
    assert_string_equal(order(s, 10), "AAAAAAAAAA");
    s->now = 50;
    add_n(s, 3, "B", "v");
    /* B starts at the virtual time now, ahead of A's next job */
    assert_string_equal(order(s, 7), "BABABAA");
    sim_free(s);
}

static void test_fair_weights_share_the_pool(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    for (int i = 0; i < 12; i++)
        add(s, "A", "u", false, 1, 2);
    for (int i = 0; i < 6; i++)
        add(s, "B", "v", false, 1, 1);
    /* weight 2 against 1: two of A's jobs for each of B's */
    assert_string_equal(order(s, 30), "ABAABAABAABAABAABA");
    sim_free(s);
}

static void test_fair_costs_are_charged(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    for (int i = 0; i < 12; i++)
        add(s, "A", "u", false, 1, 1);
    for (int i = 0; i < 6; i++)
        add(s, "B", "v", false, 2, 1);
    /* B's jobs take twice as long: A gets two for each of B's */
    assert_string_equal(order(s, 30), "ABAABAABAABAABAABA");
    sim_free(s);
}

static void test_fair_across_students_in_a_course(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add_n(s, 5, "A", "mallory");
    s->now = 1;
    add_n(s, 2, "A", "alice");
    s->now = 2;
    add_n(s, 1, "A", "bob");
    /* one student's twenty submissions do not hold up the class */
    assert_string_equal(order_of(s, 20, true), "mabmammm");
    sim_free(s);
}

static void test_fair_interactive_before_batch(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add(s, "R", "u", true, 1, 1);
    add(s, "R", "v", true, 1, 1);
    s->now = 5;
    add(s, "I", "w", false, 1, 1);
    assert_string_equal(order(s, 5), "IRR");
    sim_free(s);
}

static void test_fair_age_guard_promotes_waiting_batch_jobs(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 100);
    add(s, "R", "u", true, 1, 1);   /* a regrade, at t = 0 */
    add_n(s, 2, "I", "w");
    for (int t = 1; t <= 100; t++) {   /* a steady interactive stream */
        s->now = t;
        add(s, "I", "w", false, 1, 1);
        assert_string_equal(take(s, 0)->course, "I");
    }
    s->now = 101;   /* waited past the guard: served as interactive, fairly */
    assert_string_equal(take(s, 0)->course, "R");
    assert_string_equal(take(s, 0)->course, "I");
    sim_free(s);
}

static void test_fair_pools_by_capability(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    struct sched_job *g = add(s, "A", "u", false, 1, 1);
    s->p->remove(s->p, g);
    g->capability = "gpu";
    s->p->add(s->p, g);
    assert_null(take(s, 0));              /* w1 offers python only */
    assert_ptr_equal(take(s, 2), g);      /* g1 offers gpu */
    sim_free(s);
}

static void test_fair_avoid_list_and_retries_first(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add_n(s, 2, "A", "u");
    s->now = 1;
    char *w1 = "w1";
    struct sched_job *r = &s->jobs[s->n];
    *r = (struct sched_job){.capability = "python", .course = "B", .assignment = "hw",
                            .student = "v", .version = 1, .queued_at = 0.5, .cost = 1,
                            .weight = 1, .avoid = &w1, .n_avoid = 1};
    snprintf(r->id, sizeof r->id, "retry");
    s->n++;
    s->p->add(s->p, r);
    assert_string_equal(take(s, 0)->course, "A");   /* w1: the retry avoids it */
    assert_ptr_equal(take(s, 1), r);                /* w2: retries go first */
    s->w[1].available = false;                      /* only w1 is left ... */
    s->p->add(s->p, r);
    assert_ptr_equal(take(s, 0), r);                /* ... so it takes it after all */
    sim_free(s);
}

static void test_fair_removed_jobs_are_not_picked(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    struct sched_job *a = add_n(s, 3, "A", "u");
    add_n(s, 1, "B", "v");
    s->p->remove(s->p, &a[1]);   /* held by an admin: no charge */
    s->p->remove(s->p, &a[3]);
    assert_ptr_equal(take(s, 0), &a[0]);
    assert_ptr_equal(take(s, 0), &a[2]);
    assert_null(take(s, 0));
    sim_free(s);
}

static void test_fair_pick_without_remove_charges_nothing(void **state)
{
    (void)state;
    struct sim *s = sim_new("fair", 0);
    add_n(s, 3, "A", "u");
    add_n(s, 3, "B", "v");
    for (int i = 0; i < 5; i++)
        assert_string_equal(s->p->pick(s->p, &s->w[0], &s->all)->course, "A");
    assert_string_equal(order(s, 6), "ABABAB");
    sim_free(s);
}

/* Random adds, removals and picks: each job leaves exactly once. */
static void random_run(const char *policy)
{
    struct sim *s = sim_new(policy, 50);
    static char left[MAX_JOBS];
    memset(left, 0, sizeof left);
    const char *courses[] = {"A", "B", "C", "D"}, *students[] = {"p", "q", "r", "s", "t"};
    srand(7);
    int queued = 0;
    for (int step = 0; step < 5000; step++) {
        s->now += 0.1;
        int r = rand() % 10;
        if (r < 5 && s->n < MAX_JOBS) {
            add(s, courses[rand() % 4], students[rand() % 5], rand() % 3 == 0,
                0.5 + rand() % 4, 1 + rand() % 3);
            queued++;
        } else if (r < 6 && s->n > 0) {
            int k = rand() % s->n;
            if (!left[k]) {
                s->p->remove(s->p, &s->jobs[k]);
                left[k] = 1;
                queued--;
            }
        } else {
            struct sched_job *j = take(s, rand() % 2);
            if (j) {
                int k = (int)(j - s->jobs);
                assert_int_equal(left[k], 0);
                left[k] = 1;
                queued--;
            } else {
                assert_int_equal(queued, 0);
            }
        }
    }
    struct sched_job *j;
    while ((j = take(s, 0))) {
        assert_int_equal(left[j - s->jobs], 0);
        left[j - s->jobs] = 1;
        queued--;
    }
    assert_int_equal(queued, 0);
    for (int k = 0; k < s->n; k++)
        assert_int_equal(left[k], 1);
    sim_free(s);
}

static void test_fair_random_run_loses_nothing(void **state)
{
    (void)state;
    random_run("fair");
}

static void test_fcfs_random_run_loses_nothing(void **state)
{
    (void)state;
    random_run("fcfs");
}

static void test_policy_names(void **state)
{
    (void)state;
    struct policy *p = policy_new("fair", NULL);
    assert_string_equal(p->name, "fair");
    p->destroy(p);
    p = policy_new("fcfs", NULL);
    assert_string_equal(p->name, "fcfs");
    p->destroy(p);
    assert_null(policy_new("lottery", NULL));
}

/* ---- the containers ----------------------------------------------------- */

struct item {
    int key;
    size_t pos;
};

static bool item_less(const void *a, const void *b)
{
    return ((const struct item *)a)->key < ((const struct item *)b)->key;
}

static void test_heap_orders_removes_and_fixes(void **state)
{
    (void)state;
    struct heap h = HEAP_INIT(item_less, struct item, pos);
    struct item it[100];
    for (int i = 0; i < 100; i++) {
        it[i].key = (i * 37) % 100;
        assert_int_equal(heap_push(&h, &it[i]), 0);
    }
    heap_remove(&h, &it[0]);   /* key 0 */
    it[5].key = -1;            /* key 85 becomes the smallest */
    heap_fix(&h, &it[5]);
    assert_ptr_equal(heap_top(&h), &it[5]);
    heap_remove(&h, &it[5]);
    for (int want = 1; want < 100; want++) {
        if (want == 85)
            continue;
        struct item *top = heap_top(&h);
        assert_int_equal(top->key, want);
        heap_remove(&h, top);
    }
    assert_null(heap_top(&h));
    heap_free(&h);
}

static void test_strmap_interns_and_deletes(void **state)
{
    (void)state;
    struct strmap m = {0};
    char key[32];
    const char *first = strmap_intern(&m, "alice");
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "student%d", i);
        strmap_get(&m, key, true)->value = (void *)(long)(i + 1);
    }
    assert_ptr_equal(strmap_intern(&m, "alice"), first);
    assert_int_equal((long)strmap_get(&m, "student4321", false)->value, 4322);
    strmap_del(&m, "student4321");
    assert_null(strmap_get(&m, "student4321", false));
    assert_int_equal(m.n, 5000);
    strmap_free(&m, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fair_one_course_is_first_come_first_served),
        cmocka_unit_test(test_fair_backlogged_courses_take_turns),
        cmocka_unit_test(test_fcfs_serves_the_flood_first),
        cmocka_unit_test(test_fair_course_arriving_during_a_flood_goes_next),
        cmocka_unit_test(test_fair_weights_share_the_pool),
        cmocka_unit_test(test_fair_costs_are_charged),
        cmocka_unit_test(test_fair_across_students_in_a_course),
        cmocka_unit_test(test_fair_interactive_before_batch),
        cmocka_unit_test(test_fair_age_guard_promotes_waiting_batch_jobs),
        cmocka_unit_test(test_fair_pools_by_capability),
        cmocka_unit_test(test_fair_avoid_list_and_retries_first),
        cmocka_unit_test(test_fair_removed_jobs_are_not_picked),
        cmocka_unit_test(test_fair_pick_without_remove_charges_nothing),
        cmocka_unit_test(test_fair_random_run_loses_nothing),
        cmocka_unit_test(test_fcfs_random_run_loses_nothing),
        cmocka_unit_test(test_policy_names),
        cmocka_unit_test(test_heap_orders_removes_and_fixes),
        cmocka_unit_test(test_strmap_interns_and_deletes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
