/* test_results_check.c - unit tests for what the primary accepts from a
 * worker (contract/results_check.c): results.json's shape and scores,
 * its nesting, the archive's files and sizes, and the worker's log lines
 * as they are kept (bounded, with no control character).  Each refusal
 * is checked by its exact message: it is the reason an admin reads. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "contract/results_check.h"

/* A result as the engine writes it: two tests, 3 of 4 points. */
static const char good[] =
    "{\"score\": 3, \"max_score\": 4, \"execution_time\": 0.2, \"output\": \"Score: 3 / 4\\n\","
    " \"tests\": [{\"name\": \"a\", \"score\": 2, \"max_score\": 2, \"status\": \"passed\","
    "  \"verdict\": \"passed\", \"output\": \"\", \"cases\": [{\"name\": \"c\", \"score\": 1,"
    "  \"max_score\": 1, \"status\": \"passed\"}]},"
    " {\"name\": \"b\", \"score\": 1, \"max_score\": 2, \"status\": \"failed\"}],"
    " \"assay\": {\"status\": \"graded\", \"error\": null, \"warnings\": [\"w\"]}}";

/* The message results_check gives TEXT, or "" when it is accepted. */
static const char *verdict_of(const char *text)
{
    static struct err e;
    json_error_t je;
    json_t *r = json_loads(text, JSON_DECODE_ANY, &je);
    assert_non_null(r);
    int rc = results_check(r, &e);
    json_decref(r);
    if (rc == 0)
        return "";
    assert_int_equal(rc, -1);
    return e.msg;
}

static void test_an_engine_result_and_an_error_result_pass(void **state)
{
    (void)state;
    assert_string_equal(verdict_of(good), "");
    assert_string_equal(verdict_of("{\"score\": 0, \"max_score\": 0, \"output\": \"x\", "
                                   "\"tests\": [], \"assay\": {\"status\": \"error\", \"error\": "
                                   "{\"category\": \"infrastructure\", \"message\": \"m\"}, "
                                   "\"warnings\": []}}"), "");
}

static void test_not_an_object_is_refused(void **state)
{
    (void)state;
    assert_string_equal(verdict_of("[1, 2]"), "results.json holds a list, not an object");
    assert_string_equal(verdict_of("\"lots\""), "results.json holds a string, not an object");
    assert_string_equal(verdict_of("null"), "results.json holds null, not an object");
}

static void test_scores_out_of_range_are_refused(void **state)
{
    (void)state;
    assert_string_equal(verdict_of("{\"score\": 100, \"max_score\": 1, \"tests\": []}"),
                        "results.json: $.score: 100 is out of range (0 to 1)");
    assert_string_equal(verdict_of("{\"score\": -1e308, \"max_score\": 1, \"tests\": []}"),
                        "results.json: $.score: -1e+308 is out of range (0 to 1)");
    assert_string_equal(verdict_of("{\"score\": 1e308, \"max_score\": 1e308, \"tests\": []}"),
                        "results.json: $.max_score: 1e+308 is out of range (0 to 1e+09); "
                        "$.score: 1e+308 is out of range (0 to 0)");
    assert_string_equal(verdict_of("{\"score\": \"lots\", \"max_score\": 1, \"tests\": []}"),
                        "results.json: $.score: must be a number, not a string");
    assert_string_equal(verdict_of("{\"max_score\": 1, \"tests\": []}"),
                        "results.json: $.score: required key is missing");
    /* a test's score is within its own max_score */
    assert_string_equal(verdict_of("{\"score\": 5, \"max_score\": 5, \"tests\": [{\"score\": 5, "
                                   "\"max_score\": 1}, {\"score\": 0, \"max_score\": 4}]}"),
                        "results.json: $.tests[0].score: 5 is out of range (0 to 1)");
}

static void test_totals_must_be_the_tests_sums(void **state)
{
    (void)state;
    assert_string_equal(verdict_of("{\"score\": 4, \"max_score\": 4, \"tests\": [{\"score\": 1, "
                                   "\"max_score\": 2}, {\"score\": 1, \"max_score\": 2}]}"),
                        "results.json: $.score: 4, but the tests' scores add up to 2");
    assert_string_equal(verdict_of("{\"score\": 2, \"max_score\": 1000, \"tests\": [{\"score\": "
                                   "1, \"max_score\": 2}, {\"score\": 1, \"max_score\": 2}]}"),
                        "results.json: $.max_score: 1000, but the tests' max_score add up to 4");
    /* 10-digit JSON rounding is not a mismatch */
    assert_string_equal(verdict_of("{\"score\": 0.3333333333, \"max_score\": 1, \"tests\": "
                                   "[{\"score\": 0.1111111111, \"max_score\": 0.3333333333}, "
                                   "{\"score\": 0.2222222222, \"max_score\": 0.6666666667}]}"),
                        "");
}

/* A notebook test with answers a person grades: 5 of 9, 3 points pending. */
static void test_manual_answers_are_checked(void **state)
{
    (void)state;
    const char *head = "{\"score\": 5, \"max_score\": 9, \"tests\": [{\"score\": 5, "
                       "\"max_score\": 9, \"needs_manual_grading\": ";
    char text[1000];
    snprintf(text, sizeof text, "%s[{\"grade_id\": \"a\", \"points\": 2, \"status\": "
             "\"pending\"}, {\"grade_id\": \"b\", \"points\": 1, \"status\": \"no_response\","
             " \"score\": 0, \"message\": \"No response.\"}, {\"grade_id\": \"c\", "
             "\"points\": 1}]}]}", head);
    assert_string_equal(verdict_of(text), "");
    /* "graded" comes from a person, on the primary, never from a worker */
    snprintf(text, sizeof text, "%s[{\"grade_id\": \"a\", \"points\": 4, \"status\": "
             "\"graded\", \"score\": 4}]}]}", head);
    assert_string_equal(verdict_of(text), "results.json: $.tests[0].needs_manual_grading[0]."
                        "status: \"graded\" is not one of pending, no_response");
    /* a no_response scores 0; pending points must fit beside the score */
    snprintf(text, sizeof text, "%s[{\"grade_id\": \"a\", \"points\": 2, \"status\": "
             "\"no_response\", \"score\": 2}]}]}", head);
    assert_string_equal(verdict_of(text), "results.json: $.tests[0].needs_manual_grading[0]."
                        "score: 2 is out of range (0 to 0)");
    snprintf(text, sizeof text, "%s[{\"grade_id\": \"a\", \"points\": 8, \"status\": "
             "\"pending\"}]}]}", head);
    assert_string_equal(verdict_of(text), "results.json: $.tests[0]: its manually graded "
                        "answers (8 points, 8 pending) do not fit its score 5 of 9");
    snprintf(text, sizeof text, "%s{\"a\": 1}}]}", head);
    assert_string_equal(verdict_of(text), "results.json: $.tests[0].needs_manual_grading: must "
                        "be a list, not an object");
    snprintf(text, sizeof text, "%s[{\"points\": 1}]}]}", head);
    assert_string_equal(verdict_of(text), "results.json: $.tests[0].needs_manual_grading[0]."
                        "grade_id: required key is missing");
}

static void test_shapes_and_primary_keys_are_refused(void **state)
{
    (void)state;
    assert_string_equal(verdict_of("{\"score\": 0, \"max_score\": 0, \"tests\": {}}"),
                        "results.json: $.tests: must be a list, not an object");
    assert_string_equal(verdict_of("{\"score\": 0, \"max_score\": 0, \"tests\": [3]}"),
                        "results.json: $.tests[0]: must be an object, not a number");
    assert_string_equal(
        verdict_of("{\"score\": 0, \"max_score\": 0, \"tests\": [], \"assay\": {\"status\": "
                   "\"great\", \"error\": {\"category\": \"cosmic\"}, \"warnings\": [1]}}"),
        "results.json: $.assay.status: \"great\" is not one of graded, error; "
        "$.assay.error.category: \"cosmic\" is not one of submission, assignment, "
        "infrastructure; $.assay.error.message: required key is missing (and 1 more)");
    assert_string_equal(verdict_of("{\"score\": 0, \"max_score\": 0, \"tests\": [], \"assay\": "
                                   "{\"late\": {\"message\": \"forgiven\"}}}"),
                        "results.json: $.assay: \"late\" is set by the primary, never by a worker");
    assert_string_equal(verdict_of("{\"score\": 1, \"max_score\": 1, \"tests\": [{\"score\": 1, "
                                   "\"max_score\": 1, \"cases\": [{\"score\": \"all\"}]}]}"),
                        "results.json: $.tests[0].cases[0].score: must be a number, not a string");
}

/* {"a": [[[...]]]} with DEPTH levels in all. */
static char *nested(int depth)
{
    size_t n = (size_t)depth;
    char *s = malloc(2 * n + 64);
    assert_non_null(s);
    int k = sprintf(s, "{\"score\": 0, \"max_score\": 0, \"tests\": [], \"x\": ");
    memset(s + k, '[', n - 1);
    memset(s + k + n - 1, ']', n - 1);
    strcpy(s + k + 2 * (n - 1), "}");
    return s;
}

static void test_nesting_is_bounded(void **state)
{
    (void)state;
    char *ok = nested(RESULT_JSON_MAX_DEPTH), *deep = nested(RESULT_JSON_MAX_DEPTH + 1);
    assert_string_equal(verdict_of(ok), "");
    assert_string_equal(verdict_of(deep), "results.json is nested more than 32 levels deep");
    free(ok);
    free(deep);
}

static const char *dir_verdict(const char *dir)
{
    static struct err e;
    return results_check_dir(dir, &e) == 0 ? "" : e.msg;
}

static void test_the_archive_directory(void **state)
{
    const char *dir = *state;
    assert_string_equal(dir_verdict(dir), "the result has no results.json");
    tu_mkdir_at(dir, "results.json");
    assert_string_equal(dir_verdict(dir), "results.json is a directory, not a file");
    char *rpath = tu_path(dir, "results.json");
    tu_rm_rf(rpath);
    free(rpath);
    tu_write_at(dir, "results.json", "{\"score\": 1,");
    assert_true(tu_contains(dir_verdict(dir), "results.json:1:"));
    assert_true(tu_contains(dir_verdict(dir), "invalid JSON"));
    /* 5,000 deep: jansson stops at 2048, before any stack is at risk */
    char *deep = malloc(10001);
    assert_non_null(deep);
    memset(deep, '[', 5000);
    memset(deep + 5000, ']', 5000);
    deep[10000] = '\0';
    tu_write_at(dir, "results.json", deep);
    free(deep);
    assert_string_equal(dir_verdict(dir), "results.json:1:2049: invalid JSON: maximum parsing "
                                          "depth reached near '['");
    tu_write_at(dir, "results.json", good);
    tu_write_at(dir, "worker.log", "x\n");
    tu_mkdir_at(dir, "feedback");
    tu_write_at(dir, "feedback/hw.html", "<p>hi</p>");
    assert_string_equal(dir_verdict(dir), "");
    tu_write_at(dir, "notes.txt", "x");
    assert_string_equal(dir_verdict(dir), "the result holds \"notes.txt\"; a result holds only "
                                          "results.json, worker.log, traces.log and feedback/");
    char *notes = tu_path(dir, "notes.txt");
    unlink(notes);
    free(notes);
    char *big = tu_path(dir, "feedback/big.html");
    int fd = open(big, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0 && ftruncate(fd, (off_t)RESULT_FILE_MAX_BYTES + 1) == 0);
    close(fd);
    assert_string_equal(dir_verdict(dir), "\"feedback/big.html\" is larger than 16 MB, the most "
                                          "a file of a result may be");
    unlink(big);
    free(big);
    for (int i = 0; i < RESULT_MAX_FILES; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "feedback/f%d", i);
        tu_write_at(dir, rel, "");
    }
    assert_string_equal(dir_verdict(dir), "the result holds 203 files; at most 200 are allowed");
}

static void test_log_lines_are_bounded_and_visible(void **state)
{
    (void)state;
    struct sent_lines l;
    struct err e;
    const char text[] = "one \x1b[2Jcleared\r\n\ntwo\x07\n\x9b" "31m";
    assert_int_equal(sent_lines_split(text, sizeof text - 1, &l, &e), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.dropped, 0);
    assert_string_equal(l.lines[0], "one \\x1b[2Jcleared\\x0d");
    assert_string_equal(l.lines[1], "two\\x07");
    assert_false(strchr(l.lines[2], 0x1b) || strchr(l.lines[2], '\x9b'));
    sent_lines_free(&l);

    /* 10,000 lines: RESULT_LOG_MAX_LINES kept, the rest counted */
    char *mem = NULL;
    size_t memlen = 0;
    FILE *f = open_memstream(&mem, &memlen);
    for (int i = 0; i < 10000; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
    assert_int_equal(sent_lines_split(mem, memlen, &l, &e), 0);
    assert_int_equal(l.n, RESULT_LOG_MAX_LINES);
    assert_int_equal(l.dropped, 10000 - RESULT_LOG_MAX_LINES);
    assert_string_equal(l.lines[RESULT_LOG_MAX_LINES - 1], "line 199");
    sent_lines_free(&l);
    free(mem);

    /* one 4 MB line: cut at RESULT_LOG_LINE_MAX; long lines: bounded in bytes */
    size_t big = 4u << 20;
    char *huge = malloc(big);
    assert_non_null(huge);
    memset(huge, 'a', big);
    for (size_t i = 3000; i < big; i += 3000)
        huge[i] = '\n';
    assert_int_equal(sent_lines_split(huge, big, &l, &e), 0);
    assert_int_equal(strlen(l.lines[0]), RESULT_LOG_LINE_MAX);
    size_t kept = 0;
    for (size_t i = 0; i < l.n; i++)
        kept += strlen(l.lines[i]) + 1;
    assert_true(kept <= RESULT_LOG_MAX_BYTES + RESULT_LOG_LINE_MAX * 4 + 1);
    assert_int_equal(l.n + l.dropped, (big - 1) / 3000 + 1);
    sent_lines_free(&l);
    free(huge);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_engine_result_and_an_error_result_pass),
        cmocka_unit_test(test_not_an_object_is_refused),
        cmocka_unit_test(test_scores_out_of_range_are_refused),
        cmocka_unit_test(test_totals_must_be_the_tests_sums),
        cmocka_unit_test(test_shapes_and_primary_keys_are_refused),
        cmocka_unit_test(test_manual_answers_are_checked),
        cmocka_unit_test(test_nesting_is_bounded),
        cmocka_unit_test_setup_teardown(test_the_archive_directory, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test(test_log_lines_are_bounded_and_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
