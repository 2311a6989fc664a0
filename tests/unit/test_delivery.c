/* test_delivery.c - unit tests for the deliveries' queue (spool/delivery.h):
 * a recorded grade queues one delivery per destination its course
 * configures, under a key that makes queueing it again a no-op in any
 * state; superseded jobs and errors that are not the student's queue
 * nothing; each transition moves the file and keeps what it learnt;
 * start-up recovery marks what was being sent as unsure; an unreadable
 * file is buried with a reason; and the retry schedule outlasts an hour
 * of Canvas being down. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/backoff.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "deliver/destination.h"
#include "spool/counters.h"
#include "spool/delivery.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/spool.h"

#define LMS "{\"lms\": {\"base_url\": \"https://canvas.example.edu\", \"course_id\": 7, " \
    "\"token_file\": \"t\", \"assignments\": {\"hw1\": {\"assignment_id\": 42}}}}"

/* A spool in DIR/spool whose course cs101 has COURSE_JSON (NULL: none),
 * and a queued job of STUDENT loaded into JOB (priority BATCH or not). */
static void spool_with_job(const char *dir, struct spool *s, const char *course_json,
                           const char *student, bool batch, struct job *job)
{
    struct err e;
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(s, root, &e), 0);
    free(root);
    char *cdir = spool_path(s, "courses/cs101");
    assert_int_equal(fs_mkdir_p(cdir, 0755, &e), 0);
    free(cdir);
    if (course_json) {
        char *p = spool_path(s, "courses/cs101/course.json");
        tu_write(p, course_json, strlen(course_json));
        free(p);
    }
    json_t *j = job_new("cs101", "hw1", student, 1, batch, "python");
    assert_int_equal(queue_enqueue(s, j, &e), 0);
    char *path = spool_path(s, "incoming/%s.json", json_string_value(json_object_get(j, "id")));
    assert_int_equal(job_load(path, job, &e), 0);
    free(path);
    json_decref(j);
}

static size_t count(const struct spool *s, const char *state)
{
    struct fs_list l;
    assert_int_equal(delivery_list(s, state, &l), 0);
    size_t n = l.n;
    fs_list_free(&l);
    return n;
}

static char *only_key(const struct spool *s, const char *state)
{
    struct fs_list l;
    assert_int_equal(delivery_list(s, state, &l), 0);
    assert_int_equal(l.n, 1);
    char *k = strdup(l.names[0]);
    fs_list_free(&l);
    return k;
}

static void test_a_recorded_grade_queues_one_delivery_once(void **state)
{
    struct spool s;
    struct job job;
    struct err e;
    spool_with_job(*state, &s, LMS, "ada", false, &job);
    struct job_end end = {.kind = END_ERROR, .category = "submission",
                          .message = "hello.py is missing.", .info = {NULL, 0, 1.0, 2.0}};
    assert_int_equal(queue_finish(&s, &job, "incoming", &end, "recorded", &e), 0);
    char *key = only_key(&s, DELIVERY_PENDING);
    char want[200];
    snprintf(want, sizeof want, "%s.0.canvas", job.id);
    assert_string_equal(key, want);
    struct delivery d;
    assert_int_equal(delivery_load(&s, DELIVERY_PENDING, key, &d, &e), 0);
    assert_string_equal(d.student, "ada");
    assert_string_equal(d.dest, "canvas");
    assert_int_equal(d.version, 1);
    assert_false(d.batch);
    assert_false(d.unsure);
    delivery_free(&d);
    /* sent meanwhile; a crash made the job's end run again: nothing new */
    assert_int_equal(delivery_take(&s, key, &e), 0);
    assert_int_equal(delivery_load(&s, DELIVERY_SENDING, key, &d, &e), 0);
    assert_int_equal(delivery_done(&s, &d, "grade 0 sent", &e), 0);
    delivery_free(&d);
    assert_int_equal(delivery_queue(&s, &job, "canvas", &e), 1);
    assert_int_equal(count(&s, DELIVERY_PENDING), 0);
    assert_int_equal(count(&s, DELIVERY_DONE), 1);
    free(key);
    job_free(&job);
    spool_close(&s);
}

static void test_no_delivery_for_what_is_no_grade(void **state)
{
    const char *kinds[] = {"infrastructure", "assignment"};
    for (int i = 0; i < 2; i++) {
        char sub[64];
        snprintf(sub, sizeof sub, "%s/%d", (const char *)*state, i);
        assert_int_equal(mkdir(sub, 0700), 0);
        struct spool s;
        struct job job;
        struct err e;
        spool_with_job(sub, &s, LMS, "ada", false, &job);
        struct job_end end = {.kind = END_ERROR, .category = kinds[i], .message = "x.",
                              .info = {NULL, 0, 1.0, 2.0}};
        assert_int_equal(queue_finish(&s, &job, "incoming", &end, "recorded", &e), 0);
        assert_int_equal(count(&s, DELIVERY_PENDING), 0);
        job_free(&job);
        spool_close(&s);
    }
    /* nor for a course without a destination */
    char sub[64];
    snprintf(sub, sizeof sub, "%s/none", (const char *)*state);
    assert_int_equal(mkdir(sub, 0700), 0);
    struct spool s;
    struct job job;
    struct err e;
    spool_with_job(sub, &s, "{\"weight\": 2}", "ada", false, &job);
    struct job_end end = {.kind = END_ERROR, .category = "submission", .message = "x.",
                          .info = {NULL, 0, 1.0, 2.0}};
    assert_int_equal(queue_finish(&s, &job, "incoming", &end, "recorded", &e), 0);
    assert_int_equal(count(&s, DELIVERY_PENDING), 0);
    job_free(&job);
    spool_close(&s);
}

static void test_transitions_keep_what_they_learnt(void **state)
{
    struct spool s;
    struct job job;
    struct err e;
    spool_with_job(*state, &s, LMS, "bo", true, &job);
    assert_int_equal(delivery_queue(&s, &job, "canvas", &e), 0);
    char *key = only_key(&s, DELIVERY_PENDING);
    struct delivery d;
    assert_int_equal(delivery_take(&s, key, &e), 0);
    assert_int_equal(delivery_take(&s, key, &e), 1);   /* gone: another took it */
    assert_int_equal(delivery_load(&s, DELIVERY_SENDING, key, &d, &e), 0);
    assert_true(d.batch);
    assert_int_equal(delivery_defer(&s, &d, "Canvas answered 503", 1234.5, true, &e), 0);
    delivery_free(&d);
    assert_int_equal(delivery_load(&s, DELIVERY_PENDING, key, &d, &e), 0);
    assert_int_equal(d.tries, 1);
    assert_true(d.unsure);
    assert_true(d.not_before == 1234.5);
    assert_string_equal(jsonutil_str(d.json, "last_error", ""), "Canvas answered 503");
    delivery_free(&d);
    /* a process killed while sending: recovered as unsure */
    assert_int_equal(delivery_take(&s, key, &e), 0);
    assert_int_equal(delivery_recover(&s, &e), 1);
    assert_string_equal(delivery_locate(&s, key), DELIVERY_PENDING);
    assert_int_equal(delivery_take(&s, key, &e), 0);
    assert_int_equal(delivery_load(&s, DELIVERY_SENDING, key, &d, &e), 0);
    assert_int_equal(delivery_dead(&s, &d, "unknown_student", "bo is not in the roster", &e), 0);
    delivery_free(&d);
    assert_int_equal(delivery_load(&s, DELIVERY_DEAD, key, &d, &e), 0);
    assert_string_equal(jsonutil_str(d.json, "category", ""), "unknown_student");
    assert_int_equal(d.tries, 2);
    /* a changed grade (or a resend): a new key per destination; retry:
     * the same key back */
    json_t *extra = json_pack("{s:s, s:s}", "sha", "abc123", "student", "not-bo");
    struct delivery_target t = {"cs101", "hw1", "bo", 1, job.id, 0, false, extra};
    assert_int_equal(delivery_queue_change(&s, &t, "X1.manual", &e), 1);
    json_decref(extra);
    struct delivery x;
    assert_int_equal(delivery_load(&s, DELIVERY_PENDING, "X1.manual.canvas", &x, &e), 0);
    assert_string_equal(jsonutil_str(x.json, "sha", ""), "abc123");
    assert_string_equal(x.student, "bo");   /* extra never replaces a common field */
    delivery_free(&x);
    assert_int_equal(delivery_queue_change(&s, &t, "X1.manual", &e), 0);   /* a repeat */
    delivery_free(&d);
    assert_string_equal(delivery_locate(&s, "X1.manual.canvas"), DELIVERY_PENDING);
    assert_int_equal(delivery_retry(&s, key, &e), 0);
    assert_int_equal(delivery_retry(&s, key, &e), 1);
    assert_int_equal(delivery_load(&s, DELIVERY_PENDING, key, &d, &e), 0);
    assert_int_equal(d.tries, 0);
    assert_null(json_object_get(d.json, "reason"));
    delivery_free(&d);
    struct delivery_counts c;
    assert_int_equal(delivery_count(&s, &c), 0);
    assert_int_equal(c.pending, 2);
    assert_int_equal(c.dead + c.done + c.sending, 0);
    /* each settling counted for /metrics: one retry, one dead by category */
    json_t *all = counters_load(&s, &e);
    assert_non_null(all);
    const json_t *n = json_object_get(all, "counters");
    const json_t *total = json_object_get(n, "assay_deliveries_total");
    assert_true(json_number_value(json_object_get(
        total, "destination=\"canvas\",outcome=\"retried\"")) == 1);
    assert_true(json_number_value(json_object_get(
        total, "destination=\"canvas\",outcome=\"dead\"")) == 1);
    assert_true(json_number_value(json_object_get(json_object_get(n, "assay_deliveries_dead_total"),
        "destination=\"canvas\",category=\"unknown_student\"")) == 1);
    json_decref(all);
    free(key);
    job_free(&job);
    spool_close(&s);
}

static void test_an_unreadable_delivery_is_buried(void **state)
{
    struct spool s;
    struct job job;
    struct err e;
    spool_with_job(*state, &s, NULL, "ada", false, &job);
    char *p = spool_path(&s, "%s/junk.json", DELIVERY_PENDING);
    tu_write(p, "{not json", 9);
    free(p);
    struct delivery d;
    assert_int_equal(delivery_load(&s, DELIVERY_PENDING, "junk", &d, &e), -1);
    assert_int_equal(delivery_bury(&s, "junk", e.msg, &e), 0);
    assert_string_equal(delivery_locate(&s, "junk"), DELIVERY_DEAD);
    char *reason = spool_path(&s, "%s/junk.reason", DELIVERY_DEAD);
    char *text = tu_read(reason, NULL);
    assert_non_null(text);
    assert_true(strstr(text, "junk.json") != NULL);
    free(text);
    free(reason);
    job_free(&job);
    spool_close(&s);
}

static void test_retries_outlast_an_hour_down(void **state)
{
    (void)state;
    struct dest_retry r;
    dest_retry_defaults(&r);
    double total = 0;
    for (int i = 1; i < r.max_attempts; i++)
        total += backoff_delay(i, r.first_s, r.max_s);
    assert_true(total > 3600);
    assert_true(total < 3 * 3600);   /* and a dead letter within a working morning */
    assert_true(backoff_delay(1, r.first_s, r.max_s) == 2);
    assert_true(backoff_delay(20, r.first_s, r.max_s) == 900);
}

int main(void)
{
    log_open("test", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_recorded_grade_queues_one_delivery_once,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_no_delivery_for_what_is_no_grade, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_transitions_keep_what_they_learnt, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_an_unreadable_delivery_is_buried, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test(test_retries_outlast_an_hour_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
