/* test_launcher.c - unit tests for the launchers' registry
 * (sandbox/launcher.c: names, the default, the error for an unknown
 * name, each type's hooks), for an installation's names (the site a
 * launcher is made for, and leasing uids from it), for the rule that
 * tells a run starved of CPU from a timeout (launcher_note_starved), and
 * for the engine (engine/engine.c) graded without a launcher - an
 * assignment without tests gives exactly what a launcher that runs
 * nothing gives, one with tests an infrastructure error instead of a
 * crash - and with a scripted one whose runs are starved: run again,
 * then an infrastructure error, never a score. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "engine/assignment.h"
#include "engine/engine.h"
#include "sandbox/launcher.h"
#include "sandbox/launcher_common.h"

/* ---- the registry ---- */

static void test_names_and_default(void **state)
{
    (void)state;
    assert_string_equal(launcher_names(), "namespace, rlimit");
    assert_string_equal(launcher_find(NULL)->name, "namespace");
    assert_string_equal(launcher_find("namespace")->name, "namespace");
    assert_string_equal(launcher_find("rlimit")->name, "rlimit");
    assert_null(launcher_find("Namespace"));
    assert_null(launcher_find(""));
    assert_null(launcher_find("none"));
}

static void test_unknown_name_lists_the_known_ones(void **state)
{
    (void)state;
    struct err e = {{0}};
    assert_null(launcher_lookup("chroot", &e));
    assert_string_equal(e.msg, "\"chroot\" is not a sandbox Assay knows (namespace, rlimit)");
    struct err e2 = {{0}};
    assert_null(launcher_new("chroot", NULL, &e2));
    assert_string_equal(e2.msg, e.msg);
    struct err unused;   /* a known name sets no error */
    assert_non_null(launcher_lookup("rlimit", &unused));
}

/* The namespace sandbox needs the host checked and is made once per
 * worker slot; the rlimit launcher runs anywhere and each grader makes
 * its own. */
static void test_hooks(void **state)
{
    (void)state;
    const struct launcher_type *ns = launcher_find("namespace"), *rl = launcher_find("rlimit");
    assert_non_null(ns->host_check);
    assert_non_null(ns->create);
    assert_non_null(ns->create_for_slot);
    assert_null(rl->host_check);
    assert_non_null(rl->create);
    assert_null(rl->create_for_slot);
}

/* ---- an installation's names ---- */

/* The unnamed installation keeps the names every spool had before
 * installations had names; a named one nests below them. */
static void test_site_of_an_installation(void **state)
{
    (void)state;
    struct sandbox_site site;
    sandbox_site_of(&site, NULL);
    assert_int_equal(site.uid_base, 61000);
    assert_int_equal(site.uid_count, 1000);
    assert_string_equal(site.lock_dir, "/run/lock/assay");
    assert_string_equal(site.run_dir, "/run/assay");
    assert_string_equal(site.cgroup_name, "assay");
    struct installation in;
    struct err e;
    assert_int_equal(installation_set(&in, "b7e1", "70000-70049", &e), 0);
    sandbox_site_of(&site, &in);
    assert_int_equal(site.uid_base, 70000);
    assert_int_equal(site.uid_count, 50);
    assert_string_equal(site.lock_dir, "/run/lock/assay/b7e1");
    assert_string_equal(site.run_dir, "/run/assay/b7e1");
    assert_string_equal(site.cgroup_name, "assay/b7e1");
}

/* Leases come from the site's own range and lock directory, in order,
 * and run out with an error naming the range. */
static void test_leases_come_from_the_sites_range(void **state)
{
    const char *dir = *state;
    struct sandbox_site site;
    sandbox_site_of(&site, NULL);
    site.uid_base = 70000;
    site.uid_count = 2;
    snprintf(site.lock_dir, sizeof site.lock_dir, "%s/locks/x", dir);
    struct err e;
    uid_t a, b, c;
    int fa = -1, fb = -1, fc = -1;
    assert_int_equal(launcher_lease_uid(&site, &a, &fa, &e), 0);
    assert_int_equal(launcher_lease_uid(&site, &b, &fb, &e), 0);
    assert_int_equal(a, 70000);
    assert_int_equal(b, 70001);
    char *lock = tu_path(dir, "locks/x/uid-70001");
    assert_true(access(lock, F_OK) == 0);
    free(lock);
    assert_int_equal(launcher_lease_uid(&site, &c, &fc, &e), -1);
    assert_true(tu_contains(e.msg, "all 2 sandbox uids of this installation (70000-70001"));
    close(fa);   /* a lease ends with its descriptor: the uid is free again */
    assert_int_equal(launcher_lease_uid(&site, &c, &fc, &e), 0);
    assert_int_equal(c, 70000);
    close(fb);
    close(fc);
}

/* ---- runs starved of CPU ---- */

/* A run stopped at its wall limit is starved only when it got little of
 * that time on a CPU and spent most of the rest waiting for one. */
static void test_starved_rule(void **state)
{
    (void)state;
    struct run_result r = {.wall_exceeded = true, .wall_s = 2.0};
    r.cpu_s = 0.05;   /* a correct run on a machine with no CPU to give: 1.9 s waiting */
    r.cpu_wait_s = 1.9;
    launcher_note_starved(&r);
    assert_true(r.starved);
    r.cpu_wait_s = 0.02;   /* time.sleep(), or blocked reading its input: its own doing */
    launcher_note_starved(&r);
    assert_false(r.starved);
    r.cpu_s = 1.9;   /* an endless loop that got its CPU */
    r.cpu_wait_s = 0.1;
    launcher_note_starved(&r);
    assert_false(r.starved);
    r.cpu_s = 1.2;   /* more than half of the time on a CPU: its own */
    r.cpu_wait_s = 0.8;
    launcher_note_starved(&r);
    assert_false(r.starved);
    r.cpu_s = 0.5;   /* slept 1 s, waited 0.5 s: less than half of the rest waiting */
    r.cpu_wait_s = 0.5;
    launcher_note_starved(&r);
    assert_false(r.starved);
    r.cpu_wait_s = 0.75;   /* half of the time off the CPU waiting for it */
    launcher_note_starved(&r);
    assert_true(r.starved);
    r.memory_exceeded = true;   /* another limit is the run's own */
    launcher_note_starved(&r);
    assert_false(r.starved);
    struct run_result done = {.exited = true, .wall_s = 2.0, .cpu_s = 0.01, .cpu_wait_s = 1.9};
    launcher_note_starved(&done);   /* it ended in time: nothing to excuse */
    assert_false(done.starved);
}

/* ---- the engine without a launcher ---- */

/* What scheduler/bypass.c passed the engine before it could pass NULL:
 * a launcher that runs nothing. */
static int none_adopt_dir(struct launcher *self, const char *dir, struct err *e)
{
    (void)self;
    (void)dir;
    (void)e;
    return 0;
}

static int none_run(struct launcher *self, const struct run_spec *spec, struct run_result *res,
                    struct err *e)
{
    (void)self;
    (void)spec;
    (void)res;
    return err_set(e, "the scheduler runs no tests");
}

static struct launcher none_launcher = {
    .name = "none", .slot = -1, .adopt_dir = none_adopt_dir, .run = none_run,
};

static void load(const char *dir, const char *json, struct assignment *a)
{
    char *adir = tu_path(dir, "asg");
    mkdir(adir, 0755);
    tu_write_at(adir, "assignment.json", json);
    struct problems p = {0};
    assert_int_equal(assignment_load(adir, a, &p), 0);
    problems_free(&p);
    free(adir);
}

static json_t *grade(const char *dir, const struct assignment *a, struct launcher *l)
{
    char *sub = tu_path(dir, "hello.py"), *work = tu_path(dir, "work");
    mkdir(work, 0755);
    tu_write(sub, "print('hi')\n", 12);
    struct engine_options o = {.launcher = l, .work_base = work};
    json_t *r = engine_grade(a, sub, &o);
    assert_non_null(r);
    assert_int_equal(tu_count_entries(work), 0);   /* nothing left behind */
    free(sub);
    free(work);
    return r;
}

/* Times and dates differ from one grading to the next. */
static void drop_times(json_t *r)
{
    json_object_del(r, "execution_time");
    json_t *assay = json_object_get(r, "assay");
    json_object_del(assay, "started_at");
    json_object_del(assay, "finished_at");
    json_object_del(assay, "grading_s");
}

static void test_no_tests_graded_as_with_the_none_launcher(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, "{\"assay\": 1, \"title\": \"upload\", \"required_files\": [\"hello.py\"], "
              "\"tests\": []}", &a);
    json_t *with_null = grade(dir, &a, NULL), *with_none = grade(dir, &a, &none_launcher);
    json_t *assay = json_object_get(with_null, "assay");
    assert_string_equal(json_string_value(json_object_get(assay, "status")), "graded");
    assert_string_equal(json_string_value(json_object_get(assay, "launcher")), "none");
    assert_string_equal(json_string_value(json_object_get(assay, "sandbox")), "none");
    assert_null(json_object_get(assay, "sandbox_slot"));
    drop_times(with_null);
    drop_times(with_none);
    assert_true(json_equal(with_null, with_none));
    json_decref(with_null);
    json_decref(with_none);
    assignment_free(&a);
}

static void test_no_tests_and_a_missing_file(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, "{\"assay\": 1, \"title\": \"upload\", \"required_files\": [\"report.pdf\"], "
              "\"tests\": []}", &a);
    json_t *with_null = grade(dir, &a, NULL), *with_none = grade(dir, &a, &none_launcher);
    json_t *error = json_object_get(json_object_get(with_null, "assay"), "error");
    assert_string_equal(json_string_value(json_object_get(error, "category")), "submission");
    drop_times(with_null);
    drop_times(with_none);
    assert_true(json_equal(with_null, with_none));
    json_decref(with_null);
    json_decref(with_none);
    assignment_free(&a);
}

static void test_tests_without_a_launcher_are_an_infrastructure_error(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, "{\"assay\": 1, \"title\": \"io\", \"tests\": [{\"name\": \"greets\", "
              "\"kind\": \"io\", \"points\": 2, \"command\": \"python3 hello.py\", "
              "\"expected_stdout\": \"hi\\n\"}]}", &a);
    json_t *r = grade(dir, &a, NULL);
    json_t *assay = json_object_get(r, "assay"), *error = json_object_get(assay, "error");
    assert_string_equal(json_string_value(json_object_get(assay, "status")), "error");
    assert_string_equal(json_string_value(json_object_get(error, "category")), "infrastructure");
    assert_true(tu_contains(json_string_value(json_object_get(error, "message")),
                            "no launcher"));
    json_t *t = json_array_get(json_object_get(r, "tests"), 0);
    assert_string_equal(json_string_value(json_object_get(t, "verdict")), "setup_error");
    assert_true(json_number_value(json_object_get(t, "score")) == 0);
    assert_true(json_number_value(json_object_get(t, "max_score")) == 2);
    assert_true(json_number_value(json_object_get(r, "max_score")) == 2);
    json_decref(r);
    assignment_free(&a);
}

/* ---- the engine and a starved run ---- */

/* A launcher whose first `starved` runs are stopped at the wall limit
 * waiting for a CPU, and whose later runs print "hi" and pass. */
struct scripted_launcher {
    struct launcher base;
    int starved, runs;
    bool plain_timeout;   /* its starved runs are ordinary timeouts instead */
};

static int scripted_run(struct launcher *self, const struct run_spec *spec,
                        struct run_result *res, struct err *e)
{
    (void)spec;
    (void)e;
    struct scripted_launcher *l = (struct scripted_launcher *)self;
    if (l->runs++ < l->starved) {
        res->wall_exceeded = true;
        res->term_signal = 9;
        res->wall_s = 2.0;
        res->cpu_s = 0.05;
        res->cpu_wait_s = l->plain_timeout ? 0.01 : 1.9;
        launcher_note_starved(res);
        return 0;
    }
    res->exited = true;
    res->wall_s = res->cpu_s = 0.02;
    buf_puts(&res->out, "hi\n");
    return 0;
}

static struct scripted_launcher scripted(int starved, bool plain_timeout)
{
    struct scripted_launcher l = {
        .base = {.name = "scripted", .slot = -1, .adopt_dir = none_adopt_dir,
                 .run = scripted_run},
        .starved = starved, .plain_timeout = plain_timeout,
    };
    return l;
}

static const char *const io_hi =
    "{\"assay\": 1, \"title\": \"io\", \"limits\": {\"wall_s\": 2}, \"tests\": [{\"name\": "
    "\"greets\", \"kind\": \"io\", \"points\": 2, \"command\": \"python3 hello.py\", "
    "\"expected_stdout\": \"hi\\n\"}]}";

static json_t *first_test(json_t *r)
{
    return json_array_get(json_object_get(r, "tests"), 0);
}

/* Starved once, then given the CPU: judged on the second run, which the
 * result counts. */
static void test_a_starved_run_is_run_again(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, io_hi, &a);
    struct scripted_launcher l = scripted(1, false);
    json_t *r = grade(dir, &a, &l.base);
    assert_int_equal(l.runs, 2);
    json_t *t = first_test(r);
    assert_string_equal(json_string_value(json_object_get(t, "verdict")), "passed");
    assert_true(json_number_value(json_object_get(t, "score")) == 2);
    assert_int_equal(json_integer_value(json_object_get(t, "starved_runs")), 1);
    assert_true(json_is_null(json_object_get(json_object_get(r, "assay"), "error")));
    json_decref(r);
    assignment_free(&a);
}

/* Starved every time: no score of the student's, an infrastructure error
 * naming the test and what the runs got. */
static void test_always_starved_is_an_infrastructure_error(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, io_hi, &a);
    struct scripted_launcher l = scripted(100, false);
    json_t *r = grade(dir, &a, &l.base);
    assert_int_equal(l.runs, 3);
    json_t *t = first_test(r);
    assert_string_equal(json_string_value(json_object_get(t, "verdict")), "setup_error");
    assert_true(json_number_value(json_object_get(t, "score")) == 0);
    assert_int_equal(json_integer_value(json_object_get(t, "starved_runs")), 3);
    assert_true(tu_contains(json_string_value(json_object_get(t, "output")),
                            "Not judged: the worker's processors were too busy to run this "
                            "test (3 tries). This is not a problem with your work."));
    json_t *error = json_object_get(json_object_get(r, "assay"), "error");
    assert_string_equal(json_string_value(json_object_get(error, "category")), "infrastructure");
    assert_string_equal(json_string_value(json_object_get(error, "message")),
                        "test \"greets\" could not get a processor in 3 runs (the last got "
                        "0.05 s of CPU time in 2.00 s and waited 1.90 s for one): the worker "
                        "is overloaded");
    json_decref(r);
    assignment_free(&a);
}

/* A run that idled its time away itself keeps its timeout, run once. */
static void test_a_plain_timeout_is_the_students(void **state)
{
    const char *dir = *state;
    struct assignment a;
    load(dir, io_hi, &a);
    struct scripted_launcher l = scripted(100, true);
    json_t *r = grade(dir, &a, &l.base);
    assert_int_equal(l.runs, 1);
    json_t *t = first_test(r);
    assert_string_equal(json_string_value(json_object_get(t, "verdict")), "timeout");
    assert_null(json_object_get(t, "starved_runs"));
    assert_true(json_is_null(json_object_get(json_object_get(r, "assay"), "error")));
    json_decref(r);
    assignment_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_default),
        cmocka_unit_test(test_unknown_name_lists_the_known_ones),
        cmocka_unit_test(test_hooks),
        cmocka_unit_test(test_site_of_an_installation),
        cmocka_unit_test_setup_teardown(test_leases_come_from_the_sites_range, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_no_tests_graded_as_with_the_none_launcher,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_no_tests_and_a_missing_file, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_tests_without_a_launcher_are_an_infrastructure_error,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_starved_rule),
        cmocka_unit_test_setup_teardown(test_a_starved_run_is_run_again, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_always_starved_is_an_infrastructure_error,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_a_plain_timeout_is_the_students, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
