/* test_contract.c - unit tests for the on-disk contracts every process
 * reads (contract/): an assignment's summary (its time budget is the sum
 * of its tests' wall limits, each the assignment's overridden; a broken
 * late policy is never applied; defaults for what is missing), the late
 * penalty and how it is said, one extension entry's checks, the names
 * of a worker directory's archives, and the grading daemon's heartbeat
 * (fresh, stale, gone, missing, and what each is called). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "contract/assignment.h"
#include "contract/heartbeat.h"
#include "contract/installation.h"
#include "contract/late.h"
#include "contract/results.h"
#include "contract/worker_dir.h"

static void summary_of(const char *dir, const char *json, struct assignment_summary *s,
                       struct problems *p, int want_rc)
{
    tu_write_at(dir, "assignment.json", json);
    assert_int_equal(assignment_summary_load(dir, s, p), want_rc);
}

static void test_wall_budget_sums_each_tests_limit(void **state)
{
    const char *dir = *state;
    struct assignment_summary s;
    struct problems p = {0};
    summary_of(dir, "{\"assay\": 1, \"title\": \"T\", \"limits\": {\"wall_s\": 3},"
               " \"tests\": [{\"name\": \"a\"}, {\"name\": \"b\", \"limits\": {\"wall_s\": 0.5}}]}",
               &s, &p, 0);
    assert_int_equal(s.n_tests, 2);
    assert_true(s.wall_budget_s == 3.5);
    assert_true(s.test_limits[1].wall_s == 0.5 && s.test_limits[1].cpu_s == 5);
    assert_string_equal(s.capability, "python");
    assert_string_equal(s.title, "T");
    assignment_summary_free(&s);
    summary_of(dir, "{\"assay\": 1, \"title\": \"T\", \"tests\": []}", &s, &p, 0);
    assert_true(s.tests && s.n_tests == 0 && s.wall_budget_s == 0);
    assignment_summary_free(&s);
    problems_free(&p);
}

static void test_problems_are_listed_and_the_rest_read(void **state)
{
    const char *dir = *state;
    struct assignment_summary s;
    struct problems p = {0};
    summary_of(dir, "{\"assay\": 1, \"title\": \"T\", \"capability\": \"gpu\", \"colour\": 1,"
               " \"late\": {\"penalty_per_day\": 500}, \"due\": \"2026-11-30T23:59:00Z\","
               " \"tests\": [{\"limits\": {\"wall_s\": -1}}]}", &s, &p, -1);
    assert_string_equal(s.capability, "gpu");
    assert_false(s.late_ok);   /* 500 % a day: not applied, said to the instructor */
    assert_true(s.has_due);
    assert_int_equal(p.count, 3);
    assert_true(tu_contains(p.items[0], "$.colour"));
    assert_true(tu_contains(p.items[2], "$.tests[0].limits.wall_s"));
    assignment_summary_free(&s);
    problems_free(&p);
    char *missing = tu_path(dir, "nowhere");
    assert_int_equal(assignment_summary_load(missing, &s, &p), -1);
    assert_null(s.json);
    assert_true(s.wall_budget_s == assignment_default_limits.wall_s);
    assignment_summary_free(&s);
    problems_free(&p);
    free(missing);
}

static void test_archive_names_carry_id_and_token(void **state)
{
    (void)state;
    char name[128], id[64], token[64];
    assert_int_equal(worker_archive_name(name, sizeof name, "20261201T000001.000Z-aa", "f00d"), 0);
    assert_string_equal(name, "20261201T000001.000Z-aa.f00d.zip");
    assert_true(worker_archive_parse(name, id, token, sizeof id));
    assert_string_equal(id, "20261201T000001.000Z-aa");
    assert_string_equal(token, "f00d");
    assert_false(worker_archive_parse("junk", id, token, sizeof id));
    assert_false(worker_archive_parse(".x.y.zip", id, token, sizeof id));
    assert_false(worker_archive_parse("id..zip", id, token, sizeof id));
    assert_true(worker_is_part(".x.zip.part") && !worker_is_part("x.zip"));
    assert_true(worker_is_archive("queued.zip") && !worker_is_archive(".x.zip.part"));
    assert_int_equal(worker_archive_name(name, 8, "long-id", "token"), -1);
}

/* ---- late penalties: applied, said, and one extension entry ---- */

static json_t *graded(double score, double max)
{
    return json_pack("{s:f, s:f, s:s, s:{s:s}}", "score", score, "max_score", max, "output",
                     "Score: 9 / 10\nfeedback\n", "assay", "status", "graded");
}

static void test_late_penalty_is_said_on_the_score_line(void **state)
{
    (void)state;
    struct late_policy lp = {.has_due = true, .due = 1000000, .penalised = true, .percent = 10,
                             .unit_s = 86400, .unit = "day", .has_max = true,
                             .max_late_days = 3};
    json_t *r = graded(9, 10);
    late_apply(r, &lp, lp.due, false, lp.due + 86400 + 60);   /* 2 started days */
    assert_true(json_number_value(json_object_get(r, "score")) == 7);
    struct buf b = BUF_INIT;
    assert_int_equal(late_score_line(r, &b), 0);
    assert_string_equal(buf_str(&b), "Score: 7 / 10 (9 before a late penalty of 20 %: 2 days "
                                     "late)\n");
    const char *out = json_string_value(json_object_get(r, "output"));
    assert_true(!strncmp(out, buf_str(&b), b.len) && tu_contains(out, "\nfeedback\n"));
    assert_true(tu_contains(out, "\nLate: submitted 1 day 1 min after the due date"));
    buf_free(&b);
    json_decref(r);

    r = graded(9, 10);   /* beyond the maximum, with an extension */
    late_apply(r, &lp, lp.due, true, lp.due + 5 * 86400);
    b = (struct buf)BUF_INIT;
    assert_int_equal(late_describe(json_object_get(json_object_get(r, "assay"), "late"), &b), 1);
    assert_string_equal(buf_str(&b), "9 before a late penalty of 100 %: 5 days late, more than "
                                     "the 3 days allowed (after an extension)");
    buf_free(&b);
    json_decref(r);

    lp = (struct late_policy){.has_due = true, .due = 1000000, .penalised = true, .percent = 5,
                              .unit_s = 3600, .unit = "hour"};
    r = graded(2, 2);
    late_apply(r, &lp, lp.due, false, lp.due + 3.5 * 3600);
    b = (struct buf)BUF_INIT;
    assert_int_equal(late_score_line(r, &b), 0);
    assert_string_equal(buf_str(&b), "Score: 1.6 / 2 (2 before a late penalty of 20 %: 4 hours "
                                     "late)\n");
    buf_free(&b);
    json_decref(r);

    r = graded(9, 10);   /* on time: nothing */
    late_apply(r, &lp, lp.due, false, lp.due - 1);
    b = (struct buf)BUF_INIT;
    assert_int_equal(late_describe(json_object_get(json_object_get(r, "assay"), "late"), &b), 0);
    assert_int_equal(late_score_line(r, &b), 0);
    assert_string_equal(buf_str(&b), "Score: 9 / 10\n");
    buf_free(&b);
    json_decref(r);
}

/* Grades given by hand change the test's score and the total by the
 * difference, replace nbgrader's "No response.", and the totals say what
 * still waits; a late penalty taken back and applied again counts from
 * the new score. */
static void test_manual_grades_are_folded_in(void **state)
{
    (void)state;
    json_error_t je;
    json_t *r = json_loads(
        "{\"score\": 5, \"max_score\": 9, \"output\": \"Score: 5 / 9\\nfeedback\\n\", "
        "\"tests\": [{\"score\": 5, \"max_score\": 9, \"needs_manual_grading\": ["
        "{\"grade_id\": \"a\", \"points\": 2, \"status\": \"pending\"},"
        "{\"grade_id\": \"b\", \"points\": 1, \"status\": \"no_response\", \"score\": 0, "
        "\"message\": \"No response.\"}, {\"grade_id\": \"c\", \"points\": 1}]}], "
        "\"assay\": {\"status\": \"graded\"}}", 0, &je);
    assert_non_null(r);
    struct manual_tally t;
    results_manual_tally(r, &t);
    assert_true(t.items == 3 && t.pending == 2 && t.pending_points == 3);
    struct buf b = BUF_INIT;
    assert_int_equal(results_total_phrase(r, &b), 0);
    assert_string_equal(buf_str(&b), "5 of 9 points, 3 awaiting manual grading");
    buf_reset(&b);
    assert_int_equal(results_refresh_score_line(r), 0);
    assert_string_equal(json_string_value(json_object_get(r, "output")),
                        "Score: 5 of 9 points, 3 awaiting manual grading\nfeedback\n");

    json_t *grades = json_loads("{\"a\": {\"points\": 1.5, \"comment\": \"ok\", "
                                "\"graded_by\": \"ta\"}, \"b\": {\"points\": 1}, \"zz\": "
                                "{\"points\": 1}}", 0, &je);
    size_t unused;
    assert_int_equal(results_apply_manual(r, grades, &unused), 0);
    assert_int_equal(unused, 1);
    json_t *test = json_array_get(json_object_get(r, "tests"), 0);
    json_t *items = json_object_get(test, "needs_manual_grading");
    assert_true(json_number_value(json_object_get(r, "score")) == 7.5);
    assert_true(json_number_value(json_object_get(test, "score")) == 7.5);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "status")),
                        "graded");
    assert_null(json_object_get(json_array_get(items, 1), "message"));
    /* applying the same grades again changes nothing; a lower one lowers */
    assert_int_equal(results_apply_manual(r, grades, NULL), 0);
    assert_true(json_number_value(json_object_get(r, "score")) == 7.5);
    json_object_set_new(json_object_get(grades, "a"), "points", json_real(0.5));
    assert_int_equal(results_apply_manual(r, grades, NULL), 0);
    assert_true(json_number_value(json_object_get(r, "score")) == 6.5);
    assert_int_equal(results_total_phrase(r, &b), 0);
    assert_string_equal(buf_str(&b), "6.5 of 9 points, 1 awaiting manual grading");
    buf_free(&b);

    struct late_policy lp = {.has_due = true, .due = 1000000, .penalised = true, .percent = 10,
                             .unit_s = 86400, .unit = "day"};
    late_apply(r, &lp, lp.due, false, lp.due + 60);   /* 10 % of 9 */
    assert_true(fabs(json_number_value(json_object_get(r, "score")) - 5.6) < 1e-9);
    late_undo(r);
    assert_true(json_number_value(json_object_get(r, "score")) == 6.5);
    assert_null(json_object_get(json_object_get(r, "assay"), "late"));
    assert_false(tu_contains(json_string_value(json_object_get(r, "output")), "Late:"));
    json_decref(grades);
    json_decref(r);
}

static void test_extension_entries_are_checked(void **state)
{
    (void)state;
    struct late_policy lp = {.has_due = true, .due = 1000};
    struct problems p = {0};
    double due = 0;
    json_t *e = json_pack("{s:f}", "days", 2.0);
    assert_int_equal(late_extension_read(e, "$.a", &lp, &due, &p), 0);
    assert_true(due == 1000 + 2 * 86400 && p.count == 0);
    json_decref(e);
    const char *bad[][2] = {
        {"{\"dyas\": 2}", "$.a.dyas: unknown key (is it misspelt?)"},
        {"{\"due\": \"soon\"}", "$.a.due: \"soon\" is not an ISO 8601 time"},
        {"{\"due\": 5}", "$.a.due: must be a string"},
        {"{\"days\": \"2\"}", "$.a.days: must be a number, not a string"},
        {"{\"days\": 400}", "$.a.days: 400 is out of range (0 to 365)"},
        {"{\"days\": 1, \"due\": \"2026-12-02T23:59:00Z\"}", "give either \"due\" or \"days\""},
        {"[2]", "$.a: must be an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        e = json_loads(bad[i][0], 0, NULL);
        assert_non_null(e);
        assert_int_equal(late_extension_read(e, "$.a", &lp, &due, &p), -1);
        bool found = false;
        for (size_t k = 0; k < p.count; k++)
            found |= tu_contains(p.items[k], bad[i][1]);
        if (!found)
            fail_msg("%s: no problem \"%s\" (first: %s)", bad[i][0], bad[i][1],
                     p.count ? p.items[0] : "none");
        problems_free(&p);
        json_decref(e);
    }
}

/* ---- an installation's names ---- */

static void test_installation_names_and_ranges(void **state)
{
    (void)state;
    struct installation in;
    struct err e = {{0}};
    assert_int_equal(installation_set(&in, NULL, NULL, &e), 0);
    assert_string_equal(in.name, "");
    assert_int_equal(in.uid_base, 61000);
    assert_int_equal(in.uid_count, 1000);
    assert_int_equal(installation_set(&in, "a-1_b", "62000-62999", &e), 0);
    char text[64];
    installation_format_uids(&in, text, sizeof text);
    assert_string_equal(text, "62000-62999");
    installation_run_dir(&in, text, sizeof text);
    assert_string_equal(text, "/run/assay/a-1_b");
    const char *bad_names[] = {"", "A", "-x", "a/b", "a.b", "slot-1", "local-x",
                               "x23456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++)
        assert_int_equal(installation_check_name(bad_names[i], &e), -1);
    assert_int_equal(installation_set(&in, "Bad", NULL, &e), -1);
    assert_true(tu_contains(e.msg, "\"Bad\" must be 1 to 32 lower-case letters"));
    const char *bad_uids[] = {"62000", "62000-", "-62000", "62000-61999", "500-600", "x-y",
                              "62000-62999x", "1000-200000", "62000 - 62999"};
    unsigned base, count;
    for (size_t i = 0; i < sizeof bad_uids / sizeof *bad_uids; i++)
        assert_int_equal(installation_parse_uids(bad_uids[i], &base, &count, &e), -1);
    assert_true(tu_contains(e.msg, "must be FIRST-LAST"));
    assert_int_equal(installation_parse_uids("1000-1000", &base, &count, &e), 0);
    assert_int_equal(count, 1);
    struct installation a, b;
    assert_int_equal(installation_set(&a, "a", "62000-62999", &e), 0);
    assert_int_equal(installation_set(&b, "b", "62999-63100", &e), 0);
    assert_true(installation_uids_overlap(&a, &b));
    assert_int_equal(installation_set(&b, "b", "63000-63100", &e), 0);
    assert_false(installation_uids_overlap(&a, &b));
}

/* Sets DIR/heartbeat's time AGE seconds back. */
static void age_heartbeat(const char *dir, double age)
{
    char *path = tu_path(dir, WORKER_HEARTBEAT);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct timespec t[2] = {{now.tv_sec - (time_t)age, now.tv_nsec},
                            {now.tv_sec - (time_t)age, now.tv_nsec}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    free(path);
}

/* What a shipper reads of the heartbeat, through the JSON it travels as. */
static int judged(const char *dir, const char *who, struct err *e)
{
    struct heartbeat hb, back;
    heartbeat_read(dir, &hb);
    json_t *j = heartbeat_json(&hb);
    heartbeat_from_json(j, &back);
    json_decref(j);
    assert_int_equal(back.found, hb.found);
    assert_int_equal(back.pid, hb.pid);
    assert_int_equal(back.running, hb.running);
    return heartbeat_check(&back, "w1", dir, who, e);
}

static void test_heartbeat_fresh_stale_gone_missing(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    /* missing: no daemon ever ran there */
    assert_int_equal(judged(dir, "sshd answers", &e), -1);
    assert_true(tu_contains(e.msg, "the grading daemon of worker w1 is not running"));
    assert_true(tu_contains(e.msg, "heartbeat is missing"));
    assert_true(tu_contains(e.msg, "sshd answers"));

    /* fresh: this process beats */
    e.msg[0] = '\0';
    int fd = heartbeat_start(dir, &e);
    assert_true(fd >= 0);
    assert_string_equal(e.msg, "");
    assert_int_equal(heartbeat_touch(fd, &e), 0);
    struct heartbeat hb;
    heartbeat_read(dir, &hb);
    assert_true(hb.found && hb.running && hb.pid == (long)getpid());
    assert_true(hb.age_s >= 0 && hb.age_s < 2);
    assert_int_equal(judged(dir, NULL, &e), 0);
    char *path = tu_path(dir, WORKER_HEARTBEAT);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);   /* the shippers' account reads it */
    free(path);

    /* stale, its process alive: stopped or hung */
    age_heartbeat(dir, HEARTBEAT_STALE_S + 2);
    assert_int_equal(judged(dir, "sshd answers", &e), -1);
    char want[200];
    snprintf(want, sizeof want, "the grading daemon of worker w1 is not answering (assay-worker "
             "pid %ld has not touched its heartbeat for over 5 s; sshd answers): it is stopped "
             "or hung", (long)getpid());
    assert_true(tu_contains(e.msg, want));
    assert_false(tu_contains(e.msg, "owner") || tu_contains(e.msg, "cannot write"));
    /* touched again: fresh */
    assert_int_equal(heartbeat_touch(fd, &e), 0);
    assert_int_equal(judged(dir, NULL, &e), 0);
    close(fd);

    /* gone: a daemon that exited (its pid reaped), stale */
    pid_t child = fork();
    if (child == 0) {
        struct err ce;
        _exit(heartbeat_start(dir, &ce) < 0);
    }
    assert_int_equal(waitpid(child, NULL, 0), child);
    /* within HEARTBEAT_STALE_S of its last beat a daemon may be restarting */
    assert_int_equal(judged(dir, NULL, &e), 0);
    age_heartbeat(dir, HEARTBEAT_STALE_S + 2);
    assert_int_equal(judged(dir, NULL, &e), -1);
    snprintf(want, sizeof want, "the grading daemon of worker w1 is not running (assay-worker "
             "pid %ld has exited): start it again", (long)child);
    assert_true(tu_contains(e.msg, want));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wall_budget_sums_each_tests_limit, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_problems_are_listed_and_the_rest_read, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test(test_archive_names_carry_id_and_token),
        cmocka_unit_test(test_installation_names_and_ranges),
        cmocka_unit_test(test_late_penalty_is_said_on_the_score_line),
        cmocka_unit_test(test_extension_entries_are_checked),
        cmocka_unit_test(test_manual_grades_are_folded_in),
        cmocka_unit_test_setup_teardown(test_heartbeat_fresh_stale_gone_missing, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
