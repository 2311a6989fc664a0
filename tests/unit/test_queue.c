/* test_queue.c - unit tests for the job's transitions (spool/queue.h),
 * the spool's directory scanner (spool/scan.h) and the job index of
 * spool/job.h: a queued job's index jobs/ID is the same file as
 * incoming/ID.json (a hard link) and outlives it, and the result
 * directory is read from it, as from the one-line index of older spools;
 * an admin's hold, release and requeue apply only where they should;
 * finishing a job records, removes, logs and then notifies; a file that is
 * no job goes to failed/ with a reason. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/stat.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scan.h"
#include "spool/spool.h"

static void test_enqueue_links_the_index(void **state)
{
    const char *dir = *state;
    struct spool s;
    struct err e = {{0}};
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
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

/* A spool in DIR/spool with one queued job; its id in ID. */
static void queued_spool(const char *dir, struct spool *s, char *id, size_t n)
{
    struct err e;
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(s, root, &e), 0);
    free(root);
    json_t *job = job_new("cs101", "hw1", "ada", 1, false, "python");
    snprintf(id, n, "%s", json_string_value(json_object_get(job, "id")));
    assert_int_equal(queue_enqueue(s, job, &e), 0);
    json_decref(job);
}

static void test_admin_transitions_apply_where_they_should(void **state)
{
    const char *dir = *state;
    struct spool s;
    char id[64], *from = NULL;
    struct err e;
    queued_spool(dir, &s, id, sizeof id);
    assert_int_equal(queue_release(&s, id, &from, &e), -1);
    assert_string_equal(from, "incoming");
    assert_true(tu_contains(e.msg, "is in incoming/, where release does not apply"));
    free(from);
    assert_int_equal(queue_hold(&s, id, &from, &e), 0);
    assert_string_equal(from, "incoming");
    free(from);
    char *held = queue_locate(&s, id);
    assert_string_equal(held, "hold");
    free(held);
    assert_int_equal(queue_requeue(&s, id, &from, &e), 0);
    free(from);
    char *path = spool_path(&s, "incoming/%s.json", id);
    json_t *j = jsonutil_load_file(path, 1u << 20, &e);
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 0);
    json_decref(j);
    free(path);
    assert_int_equal(queue_hold(&s, "20990101T000000.000Z-000000", &from, &e), -1);
    assert_null(from);
    assert_true(tu_contains(e.msg, "no job 20990101T000000.000Z-000000 in the queue"));
    spool_close(&s);
}

static void test_finish_records_removes_logs_then_notifies(void **state)
{
    const char *dir = *state;
    struct spool s;
    char id[64];
    struct err e;
    queued_spool(dir, &s, id, sizeof id);
    char *log = tu_path(dir, "spool/logs/assay.log"), *fifo = spool_path(&s, "notify/%s", id);
    log_open("test", log);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int fd = open(fifo, O_RDONLY | O_NONBLOCK);
    char *path = spool_path(&s, "incoming/%s.json", id);
    struct job job;
    assert_int_equal(job_load(path, &job, &e), 0);
    struct job_end end = {.kind = END_ERROR, .category = "assignment", .message = "No tests.",
                          .info = {NULL, 0, 1.0, 2.0}};
    assert_int_equal(queue_finish(&s, &job, "incoming", &end, "not graded (assignment)", &e), 0);
    assert_false(fs_exists(path));
    char *rpath = spool_path(&s, "results/cs101/hw1/ada/1/results.json");
    json_t *r = jsonutil_load_file(rpath, 1u << 20, &e);
    assert_non_null(r);
    assert_string_equal(jsonutil_str(json_object_get(json_object_get(r, "assay"), "error"),
                                     "category", ""), "assignment");
    char *text = tu_read(log, NULL), c;
    assert_true(tu_contains(text, "not graded (assignment)"));
    assert_int_equal(read(fd, &c, 1), 1);
    /* a second finish of the same attempt is a repeat */
    assert_int_equal(queue_finish(&s, &job, "incoming", &end, "again", &e), 1);
    log_close();
    close(fd);
    json_decref(r);
    job_free(&job);
    free(text);
    free(rpath);
    free(path);
    free(fifo);
    free(log);
    spool_close(&s);
}

static void test_a_file_that_is_no_job_fails_with_a_reason(void **state)
{
    const char *dir = *state;
    struct spool s;
    char id[64];
    struct err e;
    queued_spool(dir, &s, id, sizeof id);
    tu_write_at(dir, "spool/incoming/junk.json", "{not json");
    assert_int_equal(queue_fail(&s, "incoming", "junk.json", NULL, "not JSON", NULL, 1.0, &e), 0);
    char *moved = tu_path(dir, "spool/failed/junk.json"), *reason = tu_path(dir, "spool/failed/junk.reason");
    assert_true(fs_exists(moved));
    char *text = tu_read(reason, NULL);
    assert_string_equal(text, "incoming/junk.json: not JSON\n");
    free(text);
    free(moved);
    free(reason);
    spool_close(&s);
}

static void test_scanner_lists_each_kind_in_its_order(void **state)
{
    const char *dir = *state;
    tu_mkdir_at(dir, "q");
    const char *names[] = {"q/20261201T000002.000Z-bb.json", "q/20261201T000001.000Z-aa.json",
                           "q/.20261201T000000.000Z-cc.json.part", "q/stray.txt", "q/10", "q/2"};
    for (int i = 0; i < 6; i++)
        tu_write_at(dir, names[i], "x");
    char *q = tu_path(dir, "q");
    struct fs_list l;
    assert_int_equal(scan_dir(q, SCAN_JOBS, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "20261201T000001.000Z-aa.json");
    assert_int_equal(l.n_others, 3);   /* the hidden part file is neither */
    fs_list_free(&l);
    assert_int_equal(scan_dir(q, SCAN_VERSIONS, &l), 0);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.names[0], "2");
    assert_string_equal(l.names[1], "10");
    fs_list_free(&l);
    char id[64];
    assert_true(job_name_to_id("20261201T000001.000Z-aa.json", id, sizeof id));
    assert_string_equal(id, "20261201T000001.000Z-aa");
    assert_false(job_name_to_id(".x.json", id, sizeof id));
    assert_false(job_name_to_id("x.zip", id, sizeof id));
    free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_enqueue_links_the_index, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_index_of_an_older_spool, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_admin_transitions_apply_where_they_should,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_finish_records_removes_logs_then_notifies,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_a_file_that_is_no_job_fails_with_a_reason,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_scanner_lists_each_kind_in_its_order, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
