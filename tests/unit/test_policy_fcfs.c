/* test_policy_fcfs.c - unit tests of the FCFS policy (oldest first,
 * interactive before batch, ties by id, late arrivals sorted in, avoid
 * lists, removal anywhere in a list), of the per-job node every policy
 * keeps (sched_job.policy_node: set by add, cleared by remove and
 * destroy, a job re-queued after removal). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "scheduler/policy.h"

#define N_JOBS 16

struct bed {
    struct policy *p;
    struct sched_job jobs[N_JOBS];
    const char *python[1];
    struct worker_cfg w[2];      /* w1, w2: python */
    struct workers all;
};

static struct bed *bed_new(const char *policy)
{
    struct bed *b = calloc(1, sizeof *b);
    assert_non_null(b);
    b->p = policy_new(policy, NULL);
    assert_non_null(b->p);
    b->python[0] = "python";
    const char *names[] = {"w1", "w2"};
    for (int i = 0; i < 2; i++)
        b->w[i] = (struct worker_cfg){.name = names[i], .capabilities = b->python,
                                      .n_capabilities = 1, .enabled = true,
                                      .available = true, .slots = 1};
    b->all = (struct workers){.v = b->w, .n = 2};
    return b;
}

static void bed_free(struct bed *b)
{
    b->p->destroy(b->p);
    free(b);
}

/* Queues job K (id "jK"), queued at AT. */
static struct sched_job *add(struct bed *b, int k, double at, bool batch)
{
    struct sched_job *j = &b->jobs[k];
    *j = (struct sched_job){.capability = "python", .course = "C", .assignment = "hw",
                            .student = "s", .version = 1, .batch = batch, .queued_at = at,
                            .cost = 1, .weight = 1};
    snprintf(j->id, sizeof j->id, "j%02d", k);
    b->p->add(b->p, j);
    return j;
}

/* Worker W's slot takes its next job (NULL: none); the job is removed. */
static struct sched_job *take(struct bed *b, int w)
{
    struct sched_job *j = b->p->pick(b->p, &b->w[w], &b->all);
    if (j)
        b->p->remove(b->p, j);
    return j;
}

/* The ids' numbers of the jobs w1 takes until none is left, as "3 1 2". */
static const char *drain(struct bed *b)
{
    static char out[256];
    size_t k = 0;
    struct sched_job *j;
    out[0] = '\0';
    while ((j = take(b, 0)) && k + 4 < sizeof out)
        k += (size_t)snprintf(out + k, sizeof out - k, "%s%d", k ? " " : "", atoi(j->id + 1));
    return out;
}

/* ---- FCFS --------------------------------------------------------------- */

static void test_fcfs_oldest_first_even_when_arriving_late(void **state)
{
    (void)state;
    struct bed *b = bed_new("fcfs");
    add(b, 0, 10, false);
    add(b, 1, 30, false);
    add(b, 2, 20, false);   /* a rescan finds an older job: sorted in */
    add(b, 3, 5, false);    /* older than all: the new head */
    add(b, 4, 40, false);
    assert_string_equal(drain(b), "3 0 2 1 4");
    bed_free(b);
}

static void test_fcfs_ties_go_by_id(void **state)
{
    (void)state;
    struct bed *b = bed_new("fcfs");
    add(b, 2, 1, false);
    add(b, 0, 1, false);
    add(b, 1, 1, false);
    assert_string_equal(drain(b), "0 1 2");
    bed_free(b);
}

static void test_fcfs_interactive_before_older_batch(void **state)
{
    (void)state;
    struct bed *b = bed_new("fcfs");
    add(b, 0, 1, true);
    add(b, 1, 2, true);
    add(b, 2, 3, false);
    add(b, 3, 4, false);
    assert_string_equal(drain(b), "2 3 0 1");
    bed_free(b);
}

static void test_fcfs_removes_head_middle_and_tail(void **state)
{
    (void)state;
    struct bed *b = bed_new("fcfs");
    for (int k = 0; k < 6; k++)
        add(b, k, k, k % 2);   /* 0 2 4 interactive, 1 3 5 batch */
    b->p->remove(b->p, &b->jobs[0]);   /* an interactive head */
    b->p->remove(b->p, &b->jobs[3]);   /* a batch middle */
    b->p->remove(b->p, &b->jobs[4]);   /* an interactive tail */
    b->p->remove(b->p, &b->jobs[5]);   /* a batch tail */
    add(b, 6, 0.5, true);              /* the lists still link both ways */
    add(b, 7, 9, false);
    assert_string_equal(drain(b), "2 7 6 1");
    bed_free(b);
}

static void test_fcfs_skips_a_job_avoiding_the_worker(void **state)
{
    (void)state;
    struct bed *b = bed_new("fcfs");
    char *w1 = "w1";
    struct sched_job *r = add(b, 0, 1, false);
    b->p->remove(b->p, r);
    r->avoid = &w1;   /* it failed on w1 */
    r->n_avoid = 1;
    b->p->add(b->p, r);
    struct sched_job *j = add(b, 1, 2, false);
    assert_ptr_equal(take(b, 0), j);    /* w1: the older job avoids it */
    assert_null(take(b, 0));
    assert_ptr_equal(take(b, 1), r);    /* w2 takes it */
    b->p->add(b->p, r);
    b->w[1].enabled = false;            /* only w1 is left ... */
    assert_ptr_equal(take(b, 0), r);    /* ... so it takes it after all */
    bed_free(b);
}

/* ---- every policy's node ------------------------------------------------ */

static const char *const policies[] = {"fair", "fcfs"};

static void test_policy_node_set_by_add_cleared_by_remove(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof policies / sizeof *policies; i++) {
        struct bed *b = bed_new(policies[i]);
        struct sched_job *j = add(b, 0, 1, false);
        assert_non_null(j->policy_node);
        b->p->remove(b->p, j);
        assert_null(j->policy_node);
        b->p->remove(b->p, j);          /* not held: ignored */
        assert_null(take(b, 0));
        b->p->add(b->p, j);             /* queued again, as after a failed hand-over */
        assert_non_null(j->policy_node);
        assert_ptr_equal(take(b, 0), j);
        assert_null(j->policy_node);
        bed_free(b);
    }
}

static void test_policy_destroy_lets_go_of_queued_jobs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof policies / sizeof *policies; i++) {
        struct bed *b = bed_new(policies[i]);
        char *w1 = "w1";
        for (int k = 0; k < N_JOBS; k++)
            add(b, k, k, k % 3 == 0);
        b->p->remove(b->p, &b->jobs[5]);
        b->jobs[5].avoid = &w1;         /* one in fair's retry list */
        b->jobs[5].n_avoid = 1;
        b->p->add(b->p, &b->jobs[5]);
        take(b, 0);
        struct policy *p = b->p;
        b->p = policy_new(policies[i], NULL);
        p->destroy(p);                  /* frees the nodes (checked by ASan) */
        for (int k = 0; k < N_JOBS; k++)
            assert_null(b->jobs[k].policy_node);
        bed_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fcfs_oldest_first_even_when_arriving_late),
        cmocka_unit_test(test_fcfs_ties_go_by_id),
        cmocka_unit_test(test_fcfs_interactive_before_older_batch),
        cmocka_unit_test(test_fcfs_removes_head_middle_and_tail),
        cmocka_unit_test(test_fcfs_skips_a_job_avoiding_the_worker),
        cmocka_unit_test(test_policy_node_set_by_add_cleared_by_remove),
        cmocka_unit_test(test_policy_destroy_lets_go_of_queued_jobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
