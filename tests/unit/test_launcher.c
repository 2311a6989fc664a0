/* test_launcher.c - unit tests for the launchers' registry
 * (sandbox/launcher.c: names, the default, the error for an unknown
 * name, each type's hooks), for an installation's names (the site a
 * launcher is made for, and leasing uids from it), and for the engine
 * graded without a launcher
 * (engine/engine.c): an assignment without tests gives exactly what a
 * launcher that runs nothing gives, one with tests an infrastructure
 * error instead of a crash. */
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
