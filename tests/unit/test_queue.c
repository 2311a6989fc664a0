/* test_queue.c - unit tests for spool/queue.h and the job index of
 * spool/job.h: a queued job's index jobs/ID is the same file as
 * incoming/ID.json (a hard link) and outlives it, and the result
 * directory is read from it, as from the one-line index of older spools. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "spool/job.h"
#include "spool/queue.h"
#include "spool/spool.h"

static void test_enqueue_links_the_index(void **state)
{
    const char *dir = *state;
    struct spool s;
    struct err e = {{0}};
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, &e), 0);
    assert_int_equal(spool_open(&s, root, &e), 0);
    json_t *job = job_new("cs101", "hw1", "ada", 3, false, "python");
    const char *id = json_string_value(json_object_get(job, "id"));
    assert_int_equal(queue_enqueue(&s, job, &e), 0);

    char *queued = spool_path(&s, "incoming/%s.json", id), *index = spool_path(&s, "jobs/%s", id);
    struct stat a, b;
    assert_int_equal(stat(queued, &a), 0);
    assert_int_equal(stat(index, &b), 0);
    assert_true(a.st_ino == b.st_ino && a.st_nlink == 2);

    /* The shipper replaces the job file and finally removes it: the index
     * still says where the result goes. */
    assert_int_equal(unlink(queued), 0);
    char *rel = job_result_rel_from_index(index);
    assert_non_null(rel);
    assert_string_equal(rel, "results/cs101/hw1/ada/3");
    free(rel);

    free(queued);
    free(index);
    json_decref(job);
    spool_close(&s);
    free(root);
}

static void test_index_of_an_older_spool(void **state)
{
    const char *dir = *state;
    tu_write_at(dir, "old", "results/cs101/hw1/bob/2\n");
    tu_write_at(dir, "broken", "{\"id\": 1}");
    char *old = tu_path(dir, "old"), *broken = tu_path(dir, "broken"), *none = tu_path(dir, "x");
    char *rel = job_result_rel_from_index(old);
    assert_non_null(rel);
    assert_string_equal(rel, "results/cs101/hw1/bob/2");
    assert_null(job_result_rel_from_index(broken));
    assert_null(job_result_rel_from_index(none));
    free(rel);
    free(old);
    free(broken);
    free(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue_links_the_index, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_index_of_an_older_spool, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
