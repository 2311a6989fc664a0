/* test_nbgrader.c - unit tests for MD5 as nbgrader's checksums take it from
 * libmd (RFC 1321 vectors fed in pieces, lowercase hex) and for
 * engine/nbgrader.h (parsing hostile notebooks, hidden-test removal,
 * release with nbgrader's stubs or configured ones, answers left as
 * released, AUTOTEST cells refused, and merging a submission with its
 * source). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <jansson.h>
#include <md5.h>

#include "engine/nbgrader.h"

static void md5_of(const char *s, char out[33])
{
    MD5_CTX m;
    MD5Init(&m);
    /* fed in odd pieces, to cross block boundaries */
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i += 7)
        MD5Update(&m, (const uint8_t *)s + i, len - i < 7 ? len - i : 7);
    MD5End(&m, out);
}

static void test_md5_rfc_vectors(void **state)
{
    (void)state;
    char h[33];
    md5_of("", h);
    assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
    md5_of("abc", h);
    assert_string_equal(h, "900150983cd24fb0d6963f7d28e17f72");
    md5_of("12345678901234567890123456789012345678901234567890123456789012345678901234567890", h);
    assert_string_equal(h, "57edf4a22be3c955ac49da2e2107b67a");
}

static json_t *parse(const char *text, struct err *e)
{
    return nb_parse(text, strlen(text), "nb.ipynb", e);
}

static void test_parse_rejects_what_is_not_a_notebook(void **state)
{
    (void)state;
    struct err e;
    assert_null(parse("{\"cells\": [", &e));
    assert_non_null(strstr(e.msg, "nb.ipynb:1:"));
    assert_null(parse("{\"cells\": 3}", &e));
    assert_string_equal(e.msg, "nb.ipynb is not a Jupyter notebook: it has no list of \"cells\"");
    assert_null(parse("{\"cells\": [], \"nbformat\": 3}", &e));
    json_t *nb = parse("{\"cells\": [7, {\"source\": 5}, {\"source\": [\"a\", 1, \"b\"]}]}", &e);
    assert_non_null(nb);
    char *s = nb_source(json_array_get(json_object_get(nb, "cells"), 2));
    assert_string_equal(s, "ab");
    free(s);
    s = nb_source(json_array_get(json_object_get(nb, "cells"), 1));
    assert_string_equal(s, "");
    free(s);
    json_decref(nb);
}

static void test_visible_source_drops_hidden_tests(void **state)
{
    (void)state;
    bool hidden;
    char *v = nb_visible_source("a = 1\n  ### BEGIN HIDDEN TESTS  \nsecret\n### END HIDDEN TESTS\nb", &hidden);
    assert_true(hidden);
    assert_string_equal(v, "a = 1\nb");
    free(v);
    v = nb_visible_source("### BEGIN HIDDEN TESTS\nnever closed\n", &hidden);
    assert_true(hidden);
    assert_string_equal(v, "");
    free(v);
}

#define CELL(type, meta, src) "{\"cell_type\": \"" type "\", \"metadata\": " meta ", \"source\": \"" src "\"}"
#define ANS(id) "{\"nbgrader\": {\"solution\": true, \"grade_id\": \"" id "\"}}"
#define TEST(id) "{\"nbgrader\": {\"grade\": true, \"solution\": false, \"grade_id\": \"" id "\", \"points\": 1.5}}"

static const char source[] = "{\"cells\": ["
    CELL("code", ANS("a"), "def f():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION") ","
    CELL("code", TEST("t"), "assert f() == 1\\n### BEGIN HIDDEN TESTS\\nassert f() > 0\\n### END HIDDEN TESTS")
    "], \"nbformat\": 4}";

static void test_release(void **state)
{
    (void)state;
    struct err e;
    json_t *src = parse(source, &e);
    assert_non_null(src);
    struct problems p = {0};
    nb_check_source(src, "s", &p);
    assert_int_equal(p.count, 0);
    assert_true(nb_test_points(src) == 1.5);
    json_t *rel = nb_release(src, NULL);
    json_t *cells = json_object_get(rel, "cells");
    char *a = nb_source(json_array_get(cells, 0)), *t = nb_source(json_array_get(cells, 1));
    assert_string_equal(a, "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()");
    assert_string_equal(t, "assert f() == 1");
    const json_t *meta = nb_meta(json_array_get(cells, 1));
    assert_int_equal(strlen(json_string_value(json_object_get(meta, "checksum"))), 32);
    free(a);
    free(t);
    json_decref(rel);
    json_decref(src);
}

#define MANUAL(id, pts) "{\"nbgrader\": {\"grade\": true, \"solution\": true, \"grade_id\": \"" \
    id "\", \"points\": " pts "}}"
#define TASK(id) "{\"nbgrader\": {\"task\": true, \"grade_id\": \"" id "\", \"points\": 1}}"

static void test_manual_cells_stubs_and_autotest(void **state)
{
    (void)state;
    struct err e;
    json_t *src = parse("{\"cells\": ["
        CELL("markdown", MANUAL("essay", "2"), "### BEGIN SOLUTION\\nBecause.\\n### END SOLUTION") ","
        CELL("code", MANUAL("style", "1"), "def g():\\n    ### BEGIN SOLUTION\\n    return 1\\n    ### END SOLUTION") ","
        CELL("markdown", TASK("task"), "Plot it.") "]}", &e);
    assert_non_null(src);
    struct problems p = {0};
    nb_check_source(src, "s", &p);   /* no test cell: graded by hand only, not refused */
    assert_int_equal(p.count, 0);
    assert_true(nb_test_points(src) == 0 && nb_manual_points(src) == 4);
    const json_t *essay = json_array_get(json_object_get(src, "cells"), 0);
    const json_t *style = json_array_get(json_object_get(src, "cells"), 1);
    assert_int_equal(nb_answer_unchanged(essay, "  YOUR ANSWER HERE\n", NULL), 1);
    assert_int_equal(nb_answer_unchanged(essay, "Because it is.", NULL), 0);
    assert_int_equal(nb_answer_unchanged(style, "def g():\n    # YOUR CODE HERE\n    "
                                                "raise NotImplementedError()", NULL), 1);
    struct nb_stubs mine = {"pass  # write here", "Answer:"};
    json_t *rel = nb_release(src, &mine);
    char *a = nb_source(json_array_get(json_object_get(rel, "cells"), 0));
    char *b = nb_source(json_array_get(json_object_get(rel, "cells"), 1));
    assert_string_equal(a, "Answer:");
    assert_string_equal(b, "def g():\n    pass  # write here");
    assert_int_equal(nb_answer_unchanged(style, b, &mine), 1);
    assert_int_equal(nb_answer_unchanged(style, b, NULL), 0);
    free(a);
    free(b);
    json_decref(rel);
    json_decref(src);

    src = parse("{\"cells\": [" CELL("code", TEST("t"), "x = 1\\n  ### AUTOTEST f(1); f(2)") ","
                CELL("markdown", "{\"nbgrader\": {\"task\": true, \"grade_id\": \"k\"}}", "x")
                "]}", &e);
    assert_non_null(src);
    nb_check_source(src, "s", &p);
    assert_int_equal(p.count, 2);
    assert_non_null(strstr(p.items[0], "s: cell 1: (grade_id \"t\") holds nbgrader's \"### AUTOTEST\""));
    assert_non_null(strstr(p.items[1], "s: cell 2: (grade_id \"k\") is a grade cell whose \"points\""));
    problems_free(&p);
    json_decref(src);
}

static void test_merge_restores_and_reports(void **state)
{
    (void)state;
    struct err e;
    json_t *src = parse(source, &e);
    /* the test deleted, the answer duplicated */
    json_t *sub = parse("{\"cells\": [" CELL("code", ANS("a"), "def f(): return 2") ","
                        CELL("code", ANS("a"), "def f(): return 1") "]}", &e);
    json_t *problems = json_array();
    json_t *plan = nb_merge(src, sub, problems);
    assert_int_equal(json_array_size(plan), 3);
    json_t *last = json_array_get(plan, 2);
    assert_string_equal(json_string_value(json_object_get(last, "role")), "test");
    assert_non_null(strstr(json_string_value(json_object_get(last, "code")), "HIDDEN"));
    assert_string_equal(json_string_value(json_object_get(last, "show")), "assert f() == 1");
    assert_true(json_is_true(json_object_get(last, "hidden")));
    assert_string_equal(json_string_value(json_object_get(json_array_get(plan, 1), "role")), "student");
    assert_int_equal(json_array_size(problems), 2);
    assert_non_null(strstr(json_string_value(json_array_get(problems, 0)), "repeats grade_id \"a\""));
    assert_non_null(strstr(json_string_value(json_array_get(problems, 1)), "\"t\" is missing"));
    json_decref(plan);
    json_decref(problems);
    json_decref(sub);
    json_decref(src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_rfc_vectors),
        cmocka_unit_test(test_parse_rejects_what_is_not_a_notebook),
        cmocka_unit_test(test_visible_source_drops_hidden_tests),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_merge_restores_and_reports),
        cmocka_unit_test(test_manual_cells_stubs_and_autotest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
