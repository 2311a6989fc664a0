/* test_launcher.c - unit tests for the launchers' registry
 * (sandbox/launcher.c: names, the default, the error for an unknown
 * name, each type's hooks). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "sandbox/launcher.h"

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
    assert_null(launcher_new("chroot", &e2));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_and_default),
        cmocka_unit_test(test_unknown_name_lists_the_known_ones),
        cmocka_unit_test(test_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
