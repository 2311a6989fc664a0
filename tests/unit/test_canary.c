/* test_canary.c - unit tests for the canary gradings' judging and packing
 * (contract/canary.c): full marks pass; missing packages are named as
 * the runtime test printed them, and alone; a worker's error and a test
 * that lost points are quoted; no result says why; a canary's archive
 * holds its assignment, its submission and, for a Gradescope setup
 * canary, that setup.sh; only fresh canary names are spared by the
 * shippers' tidying.  Each outcome is checked by its exact words: they
 * are what an admin reads. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/mman.h>

#include "common/archive.h"
#include "contract/canary.h"
#include "contract/worker_dir.h"

static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    assert_non_null(j);
    return j;
}

/* canary_describe of the outcome of KIND's canary on results R (text;
 * NULL: none, for WHY). */
static char *described(const char *kind, const char *r, const char *why, json_t **outcome)
{
    json_t *res = r ? parse(r) : NULL;
    const struct canary *c = canary_find(kind);
    assert_non_null(c);
    json_t *o = canary_judge(c, kind, res, why, 1.25);
    assert_non_null(o);
    struct buf b = BUF_INIT;
    assert_int_equal(canary_describe(o, &b), 0);
    json_decref(res);
    if (outcome)
        *outcome = o;
    else
        json_decref(o);
    return buf_steal(&b);
}

#define GRADED(score, tests) \
    "{\"score\": " #score ", \"max_score\": 3, \"tests\": [" tests "], " \
    "\"assay\": {\"status\": \"graded\", \"error\": null}}"

static void test_full_marks_pass(void **state)
{
    (void)state;
    json_t *o;
    char *s = described("io", GRADED(3, "{\"name\": \"runtime\", \"score\": 1, \"max_score\": 1,"
                        " \"output\": \"\"}, {\"name\": \"io\", \"score\": 2, \"max_score\": 2}"),
                        NULL, &o);
    assert_string_equal(s, "ok (3 of 3 points, 1.2 s)");
    assert_true(json_is_true(json_object_get(o, "ok")));
    assert_string_equal(json_string_value(json_object_get(o, "canary")), "io");
    assert_int_equal(json_array_size(json_object_get(o, "problems")), 0);
    json_decref(o);
    free(s);
}

static void test_missing_packages_are_named_alone(void **state)
{
    (void)state;
    char *s = described("notebook", GRADED(1,
        "{\"name\": \"runtime\", \"score\": 0, \"max_score\": 1, \"verdict\": \"failed\", "
        "\"output\": \"\\\"sh needs.sh IPython:python3-ipython\\\" failed.\\nThe program exited "
        "with code 1.\\nmissing: Python module IPython (Debian package python3-ipython)\\n"
        "missing: Python module traitlets (Debian package python3-traitlets)\\n\"}, "
        "{\"name\": \"notebook\", \"score\": 0, \"max_score\": 2, \"verdict\": \"runtime_error\","
        " \"output\": \"The notebook's Python process could not be started.\"}"), NULL, NULL);
    assert_string_equal(s, "MISSING: Python module IPython (Debian package python3-ipython); "
                           "Python module traitlets (Debian package python3-traitlets)");
    free(s);
}

static void test_a_workers_error_and_lost_points_are_quoted(void **state)
{
    (void)state;
    char *s = described("gradescope",
        "{\"score\": 1, \"max_score\": 3, \"tests\": [], \"assay\": {\"status\": \"error\", "
        "\"error\": {\"category\": \"infrastructure\", \"message\": \"the autograder's setup.sh "
        "has not been run on this worker\"}}}", NULL, NULL);
    assert_string_equal(s, "FAILED: the worker could not grade it: the autograder's setup.sh has "
                           "not been run on this worker");
    free(s);
    s = described("pytest", GRADED(2,
        "{\"name\": \"runtime\", \"score\": 1, \"max_score\": 1, \"output\": \"\"}, "
        "{\"name\": \"pytest\", \"score\": 1, \"max_score\": 2, \"verdict\": \"failed\", "
        "\"output\": \"1 of 2 passed.\\n\\n\\u2717 test_add\\nE assert 4 == 5\\nmore\\n\"}"),
        NULL, NULL);
    assert_string_equal(s, "FAILED: test \"pytest\" (failed, 1 of 2 points): 1 of 2 passed. "
                           "\xe2\x9c\x97 test_add E assert 4 == 5");
    free(s);
}

static void test_a_wrong_total_or_no_result_fails(void **state)
{
    (void)state;
    char *s = described("doctest", "{\"score\": 2, \"max_score\": 2, \"tests\": [], "
                        "\"assay\": {\"status\": \"graded\", \"error\": null}}", NULL, NULL);
    assert_string_equal(s, "FAILED: it scored 2 of 2 points; a worker with everything scores "
                           "3 of 3");
    free(s);
    json_t *o;
    s = described("io", NULL, "worker w returned no result within 40 s", &o);
    assert_string_equal(s, "FAILED: worker w returned no result within 40 s");
    assert_false(json_is_true(json_object_get(o, "ok")));
    json_decref(o);
    free(s);
}

static void test_every_kind_has_a_canary_with_its_limits(void **state)
{
    (void)state;
    size_t n;
    const struct canary *all = canary_all(&n);
    const char *kinds[] = {"io", "pytest", "doctest", "notebook", "gradescope", "property"};
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(all[i].kind, kinds[i]);
        assert_true(all[i].score == 3);
        assert_true(canary_wall_s(&all[i]) >= 20);
    }
    assert_true(canary_wall_s(canary_find("notebook")) == 80);
    assert_null(canary_find("command"));
}

static void test_names_and_freshness(void **state)
{
    (void)state;
    char name[200], id[128], token[128];
    assert_int_equal(canary_archive_name(name, sizeof name, "notebook", 1764921600.5), 0);
    assert_true(worker_archive_parse(name, id, token, sizeof id));
    assert_string_equal(id, "canary-1764921600-notebook");
    assert_int_equal(strlen(token), 32);
    assert_true(canary_archive_fresh(name, 1764921600 + 3599));
    assert_false(canary_archive_fresh(name, 1764921600 + 3601));
    assert_false(canary_archive_fresh("20261122T101502.123Z-7f3a9c.ab12.zip", 1764921600));
    assert_false(canary_archive_fresh("canary-x-io.ab.zip", 1764921600));
    assert_int_equal(canary_archive_name(name, 20, "notebook", 1764921600), -1);
}

static char *read_text(const char *dir, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_a_canary_packs_as_a_job(void **state)
{
    const char *dir = *state;
    struct err e;
    int fd = memfd_create("canary", MFD_CLOEXEC);
    assert_true(fd >= 0);
    const char setup[] = "#!/bin/bash\napt-get install -y foo\n";
    assert_int_equal(canary_pack(canary_find("gradescope"), fd, "x.zip", "canary-1-gradescope",
                                 setup, strlen(setup), &e), 0);
    struct archive_limits lim = {1 << 20, 1 << 20, 100};
    assert_int_equal(archive_extract_fd(fd, "x.zip", dir, &lim, &e), 0);
    close(fd);
    char *text = read_text(dir, "job.json");
    json_t *job = parse(text);
    free(text);
    assert_string_equal(json_string_value(json_object_get(job, "id")), "canary-1-gradescope");
    assert_string_equal(json_string_value(json_object_get(job, "canary")), "gradescope");
    json_decref(job);
    const char *files[] = {"assignment/assignment.json", "assignment/autograder/run_autograder",
                           "submission/answer.txt", "submission/needs.sh", "submission/needs.py"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        free(read_text(dir, files[i]));
    char *got = read_text(dir, "assignment/autograder/setup.sh");
    assert_string_equal(got, setup);
    free(got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_marks_pass),
        cmocka_unit_test(test_missing_packages_are_named_alone),
        cmocka_unit_test(test_a_workers_error_and_lost_points_are_quoted),
        cmocka_unit_test(test_a_wrong_total_or_no_result_fails),
        cmocka_unit_test(test_every_kind_has_a_canary_with_its_limits),
        cmocka_unit_test(test_names_and_freshness),
        cmocka_unit_test_setup_teardown(test_a_canary_packs_as_a_job, tu_setup_dir,
                                        tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
