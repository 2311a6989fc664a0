/* test_metrics.c - unit tests for the spool's counters (spool/counters.h)
 * and the /metrics renderer (web/metrics.h): counts add up across
 * writers and survive in the files; the log of counts is folded into the
 * totals and no count is taken twice, even when a fold was cut short or
 * several processes count and fold at once; histogram buckets are cumulative with
 * a +Inf bucket, _sum and _count; label values are escaped as the text
 * format wants; the queue comes from the job files when no scheduler runs
 * and from the scheduler's view when one does; who may scrape. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/wait.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "spool/counters.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/scheduler_lock.h"
#include "spool/spool.h"
#include "web/metrics.h"

static void open_spool(const char *dir, struct spool *s)
{
    struct err e;
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(s, root, &e), 0);
    free(root);
}

/* The rendered page of S at NOW (malloc'd). */
static char *render(const struct spool *s, double now)
{
    struct buf out = BUF_INIT;
    struct err e;
    assert_int_equal(metrics_render(s, now, &out, &e), 0);
    char *text = strdup(buf_str(&out));
    buf_free(&out);
    return text;
}

/* Asserts TEXT holds LINE as a whole line. */
static void has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += n)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
            return;
    fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void test_label_values_are_escaped(void **state)
{
    (void)state;
    struct buf l = BUF_INIT;
    counters_label(&l, "course", "cs101");
    counters_label(&l, "x", "a\"b\\c\nd");
    assert_string_equal(buf_str(&l), "course=\"cs101\",x=\"a\\\"b\\\\c\\nd\"");
    buf_free(&l);
}

static void test_counters_add_up_and_render(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    struct counter_inc one = {"assay_jobs_submitted_total",
                              "course=\"cs101\",priority=\"interactive\"", 1, false};
    struct counter_inc two[] = {
        {"assay_jobs_submitted_total", "course=\"cs101\",priority=\"interactive\"", 1, false},
        {"assay_stale_results_total", "", 2, false},
    };
    assert_int_equal(counters_add(&s, &one, 1, &e), 0);
    assert_int_equal(counters_add(&s, two, 2, &e), 0);

    json_t *all = counters_load(&s, &e);
    assert_non_null(all);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(json_object_get(
                         all, "counters"), "assay_jobs_submitted_total"),
                         "course=\"cs101\",priority=\"interactive\"")), 2);
    json_decref(all);

    char *text = render(&s, 1000);
    has_line(text, "# TYPE assay_jobs_submitted_total counter");
    has_line(text, "assay_jobs_submitted_total{course=\"cs101\",priority=\"interactive\"} 2");
    has_line(text, "assay_stale_results_total 2");
    /* counted nowhere yet, shown as 0 */
    has_line(text, "assay_sandbox_limit_hits_total{limit=\"memory\"} 0");
    has_line(text, "assay_job_attempts_total{reason=\"timeout\"} 0");
    has_line(text, "assay_build_info{version=\"" ASSAY_VERSION "\"} 1");
    free(text);
    spool_close(&s);
}

/* The submitted count of cs101's interactive jobs in ALL. */
static json_int_t submitted(const json_t *all)
{
    return json_integer_value(json_object_get(json_object_get(json_object_get(all, "counters"),
                              "assay_jobs_submitted_total"), "course=\"cs101\",priority=\"interactive\""));
}

static void test_the_log_is_folded_and_never_counted_twice(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    struct counter_inc one = {"assay_jobs_submitted_total",
                              "course=\"cs101\",priority=\"interactive\"", 1, false};
    /* enough counts to pass the log's limit several times */
    for (int i = 0; i < 2000; i++)
        assert_int_equal(counters_add(&s, &one, 1, &e), 0);
    json_t *all = counters_load(&s, &e);
    assert_int_equal(submitted(all), 2000);
    assert_non_null(json_object_get(all, "folded"));   /* some were folded into the totals */
    json_decref(all);
    char *log = spool_path(&s, "stats/counters.log");
    struct stat st;
    assert_int_equal(stat(log, &st), 0);
    assert_true(st.st_size < 20000);

    /* A folder killed after writing the totals, before removing the log:
     * the totals say they hold that log already. */
    all = counters_load(&s, &e);
    FILE *f = fopen(log, "r");
    char header[100] = "";
    assert_non_null(fgets(header, sizeof header, f));
    fclose(f);
    header[strcspn(header, "\n")] = '\0';
    json_object_set_new(all, "folded", json_pack("{s:s, s:I}", "generation",
                                                 strrchr(header, ' ') + 1, "bytes",
                                                 (json_int_t)st.st_size));
    assert_int_equal(spool_update_json(&s, COUNTERS_FILE, all, &e), 0);
    json_decref(all);
    all = counters_load(&s, &e);
    assert_int_equal(submitted(all), 2000);
    json_decref(all);
    assert_int_equal(counters_add(&s, &one, 1, &e), 0);
    all = counters_load(&s, &e);
    assert_int_equal(submitted(all), 2001);
    json_decref(all);
    free(log);
    spool_close(&s);
}

/* Four processes counting at once, folding as they go: not a count lost
 * or taken twice. */
static void test_writers_at_once_lose_nothing(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    pid_t kids[4];
    for (int k = 0; k < 4; k++) {
        kids[k] = fork();
        assert_true(kids[k] >= 0);
        if (kids[k] == 0) {
            struct counter_inc one = {"assay_jobs_submitted_total",
                                      "course=\"cs101\",priority=\"interactive\"", 1, false};
            for (int i = 0; i < 1500; i++)
                if (counters_add(&s, &one, 1, &e) < 0)
                    _exit(1);
            _exit(0);
        }
    }
    for (int k = 0; k < 4; k++) {
        int status;
        assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    json_t *all = counters_load(&s, &e);
    assert_int_equal(submitted(all), 6000);
    json_decref(all);
    spool_close(&s);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    double waits[] = {0.003, 0.2, 4000};
    for (int i = 0; i < 3; i++) {
        struct counter_inc c = {"assay_job_wait_seconds", "course=\"cs101\"", waits[i], true};
        assert_int_equal(counters_add(&s, &c, 1, &e), 0);
    }
    char *text = render(&s, 1000);
    has_line(text, "# TYPE assay_job_wait_seconds histogram");
    has_line(text, "assay_job_wait_seconds_bucket{course=\"cs101\",le=\"0.005\"} 1");
    has_line(text, "assay_job_wait_seconds_bucket{course=\"cs101\",le=\"0.1\"} 1");
    has_line(text, "assay_job_wait_seconds_bucket{course=\"cs101\",le=\"0.25\"} 2");
    has_line(text, "assay_job_wait_seconds_bucket{course=\"cs101\",le=\"3600\"} 2");
    has_line(text, "assay_job_wait_seconds_bucket{course=\"cs101\",le=\"+Inf\"} 3");
    has_line(text, "assay_job_wait_seconds_sum{course=\"cs101\"} 4000.203");
    has_line(text, "assay_job_wait_seconds_count{course=\"cs101\"} 3");
    free(text);
    spool_close(&s);
}

static void test_queue_from_job_files_without_a_scheduler(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    json_t *a = job_new("cs101", "hw1", "ada", 1, false, "python");
    json_t *b = job_new("cs101", "hw1", "bob", 1, true, "python");
    json_t *c = job_new("ml", "hw2", "cy", 1, false, "gpu");
    json_object_set_new(a, "queued_at", json_string("2026-11-22T10:00:00.000Z"));
    assert_int_equal(queue_enqueue(&s, a, &e), 0);
    assert_int_equal(queue_enqueue(&s, b, &e), 0);
    assert_int_equal(queue_enqueue(&s, c, &e), 0);
    double t0;
    assert_true(clock_parse_iso8601("2026-11-22T10:00:00.000Z", &t0));

    char *text = render(&s, t0 + 90);
    has_line(text, "assay_scheduler_up 0");
    has_line(text, "assay_queue_jobs{course=\"cs101\",capability=\"python\",priority=\"interactive\"} 1");
    has_line(text, "assay_queue_jobs{course=\"cs101\",capability=\"python\",priority=\"batch\"} 1");
    has_line(text, "assay_queue_jobs{course=\"ml\",capability=\"gpu\",priority=\"interactive\"} 1");
    has_line(text, "assay_queue_oldest_job_age_seconds{capability=\"python\"} 90");
    /* enqueueing counted them */
    has_line(text, "assay_jobs_submitted_total{course=\"cs101\",priority=\"batch\"} 1");
    has_line(text, "assay_jobs_submitted_total{course=\"ml\",priority=\"interactive\"} 1");
    has_line(text, "assay_jobs{state=\"deferred\"} 0");
    /* assay init's one local worker, two slots and one prefetch, never probed */
    has_line(text, "assay_worker_up{worker=\"local\"} 0");
    has_line(text, "assay_worker_enabled{worker=\"local\"} 1");
    has_line(text, "assay_worker_slots{worker=\"local\",state=\"idle\"} 3");
    assert_null(strstr(text, "ada"));   /* never a student */
    free(text);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    spool_close(&s);
}

static void test_queue_from_the_running_schedulers_view(void **state)
{
    struct spool s;
    open_spool(*state, &s);
    struct err e;
    int lock = scheduler_lock_take(&s, &e);   /* this process plays the scheduler */
    assert_true(lock >= 0);
    json_t *view = json_pack("{s:i, s:f, s:i, s:{}, s:{s:{s:i, s:[{s:s, s:f}]}}, "
                             "s:{s:{s:{s:i, s:i}}}}", "pid", (int)getpid(), "written_at", 2000.0,
                             "incoming", 100000, "courses", "capabilities", "python", "incoming",
                             100000, "jobs", "job", "x", "queued_at", 1500.0, "queue", "big",
                             "python", "interactive", 40000, "batch", 60000);
    assert_int_equal(spool_update_json(&s, SPOOL_SCHEDULER_VIEW, view, &e), 0);
    char *text = render(&s, 2000);
    has_line(text, "assay_scheduler_up 1");
    has_line(text, "assay_queue_jobs{course=\"big\",capability=\"python\",priority=\"batch\"} 60000");
    has_line(text, "assay_queue_oldest_job_age_seconds{capability=\"python\"} 500");
    free(text);
    close(lock);
    json_decref(view);
    spool_close(&s);
}

static void test_who_may_scrape(void **state)
{
    (void)state;
    assert_true(metrics_allowed(NULL, "127.0.0.1", NULL, NULL));
    assert_true(metrics_allowed(NULL, "::1", NULL, NULL));
    assert_false(metrics_allowed(NULL, "10.0.0.5", NULL, NULL));
    assert_false(metrics_allowed(NULL, "127.0.0.1", "203.0.113.9", NULL));   /* via a proxy */
    const char *tok = "0123456789abcdef0123";
    assert_true(metrics_allowed(tok, "10.0.0.5", NULL, "Bearer 0123456789abcdef0123"));
    assert_false(metrics_allowed(tok, "127.0.0.1", NULL, NULL));
    assert_false(metrics_allowed(tok, "10.0.0.5", NULL, "Bearer 0123456789abcdef012"));
    assert_false(metrics_allowed(tok, "10.0.0.5", NULL, "Bearer 0123456789abcdef01234"));
    assert_false(metrics_allowed(tok, "10.0.0.5", NULL, "Basic 0123456789abcdef0123"));
}

static void test_token_file_must_be_private(void **state)
{
    const char *dir = *state;
    struct err e;
    char *token;
    tu_write_at(dir, "tok", "s3cret-token-of-some-length\n");
    char *path = tu_path(dir, "tok");
    chmod(path, 0644);
    assert_int_equal(metrics_token_load(path, &token, &e), -1);
    assert_non_null(strstr(e.msg, "chmod 600"));
    chmod(path, 0600);
    assert_int_equal(metrics_token_load(path, &token, &e), 0);
    assert_string_equal(token, "s3cret-token-of-some-length");
    free(token);
    tu_write_at(dir, "tok", "short\n");
    assert_int_equal(metrics_token_load(path, &token, &e), -1);
    assert_non_null(strstr(e.msg, "at least 16"));
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_values_are_escaped),
        cmocka_unit_test_setup_teardown(test_counters_add_up_and_render, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_the_log_is_folded_and_never_counted_twice,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_writers_at_once_lose_nothing, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_histogram_buckets_are_cumulative, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_queue_from_job_files_without_a_scheduler,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_queue_from_the_running_schedulers_view,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_who_may_scrape),
        cmocka_unit_test_setup_teardown(test_token_file_must_be_private, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
