/* test_manual.c - unit tests for grades given by hand (spool/manual.c) on
 * a real spool: a submission's combined score and pending flag (what LMS
 * passback and exports read), a grade refused for an unknown answer or
 * too many points and changing nothing, a grade kept beside the result
 * and folded into results.json and the student's view at once, and the
 * same grades folded in again when the version is recorded anew. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/manual.h"
#include "spool/spool.h"

/* A recorded result of alice's version 2: 5 of 9, answers q1 (2 points)
 * and q2 (1 point) pending. */
static const char result[] =
    "{\"score\": 5, \"max_score\": 9, \"output\": \"Score: 5 of 9 points, 3 awaiting manual "
    "grading\\n\", \"tests\": [{\"name\": \"nb\", \"score\": 5, \"max_score\": 9, "
    "\"needs_manual_grading\": [{\"grade_id\": \"q1\", \"points\": 2, \"status\": \"pending\"}, "
    "{\"grade_id\": \"q2\", \"points\": 1, \"status\": \"pending\"}]}], \"assay\": {\"status\": "
    "\"graded\", \"course\": \"C\", \"assignment\": \"A\", \"student\": \"alice\", \"version\": 2, "
    "\"job_id\": \"j\", \"submitted_at\": \"2026-11-22T10:15:02.123Z\"}}";

static void open_spool(const char *dir, struct spool *s)
{
    struct err e = {{0}};
    char *root = tu_path(dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(s, root, &e), 0);
    free(root);
}

static json_t *load(const struct spool *s, const char *rel)
{
    char *path = spool_path(s, "%s", rel);
    struct err e;
    json_t *j = jsonutil_load_file(path, 1 << 20, &e);
    free(path);
    assert_non_null(j);
    return j;
}

static void test_grades_by_hand(void **state)
{
    const char *dir = *state;
    struct spool s;
    open_spool(dir, &s);
    struct manual_score m;
    struct err e = {{0}};
    assert_int_equal(manual_latest_score(&s, "C", "A", "alice", &m, &e), 0);
    assert_true(m.version == 0);   /* nothing recorded yet */

    char *rdir = spool_path(&s, "results/C/A/alice/2");
    assert_int_equal(fs_mkdir_p(rdir, 0755, &e), 0);
    tu_write_at(rdir, "results.json", result);
    assert_int_equal(manual_latest_score(&s, "C", "A", "alice", &m, &e), 0);
    assert_true(m.version == 2 && m.score == 5 && m.max_score == 9 && m.pending);
    assert_true(m.pending_answers == 2 && m.pending_points == 3);
    assert_string_equal(m.status, "graded");

    long long version = 0;
    json_t *before = NULL;
    assert_int_equal(manual_grade(&s, "C", "A", "alice", 0, "q9", 1, NULL, "ta", &version, &before,
                                  &e), -1);
    assert_string_equal(e.msg, "The result of alice's version 2 of C/A has no answer \"q9\" to "
                               "grade by hand; it has: q1, q2");
    assert_int_equal(manual_grade(&s, "C", "A", "alice", 0, "q1", 2.5, NULL, "ta", &version,
                                  &before, &e), -1);
    assert_string_equal(e.msg, "--points 2.5 is not between 0 and 2, the points of answer \"q1\"");
    char *file = spool_path(&s, "manual/C/A/alice/2.json");
    assert_false(fs_exists(file));
    assert_int_equal(manual_grade(&s, "C", "A", "bob", 0, "q1", 1, NULL, "ta", &version, &before,
                                  &e), -1);
    assert_non_null(strstr(e.msg, "bob has no graded submission to C/A yet"));

    assert_int_equal(manual_grade(&s, "C", "A", "alice", 0, "q1", 1.5, "good", "ta", &version,
                                  &before, &e), 0);
    assert_true(version == 2 && before == NULL);
    assert_true(fs_exists(file));
    assert_int_equal(manual_latest_score(&s, "C", "A", "alice", &m, &e), 0);
    assert_true(m.score == 6.5 && m.pending_answers == 1 && m.pending_points == 1);
    json_t *student = load(&s, "results/C/A/alice/2/results.student.json");
    assert_string_equal(jsonutil_str(student, "output", ""),
                        "Score: 6.5 of 9 points, 1 awaiting manual grading\n");
    json_decref(student);

    /* grading again replaces the grade and says what it was */
    assert_int_equal(manual_grade(&s, "C", "A", "alice", 2, "q1", 0.5, NULL, "ta", &version,
                                  &before, &e), 0);
    assert_true(json_number_value(json_object_get(before, "points")) == 1.5);
    json_decref(before);
    /* ... whole: the first grade's comment is not kept by one given without */
    json_t *now = load(&s, "results/C/A/alice/2/results.json");
    json_t *q1 = json_array_get(json_object_get(json_array_get(json_object_get(now, "tests"), 0),
                                                "needs_manual_grading"), 0);
    assert_string_equal(jsonutil_str(q1, "grade_id", ""), "q1");
    assert_true(jsonutil_num(q1, "score", -1) == 0.5);
    assert_null(json_object_get(q1, "comment"));
    json_decref(now);

    /* a regrade records the version anew: the grades are folded in again */
    tu_write_at(rdir, "results.json", result);
    json_t *r = load(&s, "results/C/A/alice/2/results.json");
    assert_int_equal(manual_apply(&s, r, &e), 1);
    assert_true(json_number_value(json_object_get(r, "score")) == 5.5);
    json_decref(r);
    free(file);
    free(rdir);
    spool_close(&s);
}

/* The points a person types, read the same for the command and the web. */
static void test_points_parsed(void **state)
{
    (void)state;
    struct err e = {{0}};
    double p = -1;
    assert_int_equal(manual_parse_points("1.5", &p, &e), 0);
    assert_true(p == 1.5);
    assert_int_equal(manual_parse_points("0", &p, &e), 0);
    assert_true(p == 0);
    const char *bad[] = {"", "abc", "-1", "1x", "nan", "inf", "1e400", " "};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(manual_parse_points(bad[i], &p, &e), -1);
    assert_int_equal(manual_parse_points("abc", &p, &e), -1);
    assert_string_equal(e.msg, "--points \"abc\" must be a number of 0 or more (fractions "
                               "allowed: 1.5)");
    assert_int_equal(manual_parse_points(NULL, &p, &e), -1);
    assert_string_equal(e.msg, "--points \"\" must be a number of 0 or more (fractions "
                               "allowed: 1.5)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_grades_by_hand, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_points_parsed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
