/* test_compare.c - unit tests for worker/compare.h (the exact, trimmed,
 * contains, regex and numeric modes of io tests, mode names, regex
 * checking, compare_trim) and worker/diff.h (the line-numbered diff shown
 * to students: format, line numbers, cap, empty sides, missing final
 * newline, invalid UTF-8). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/buf.h"
#include "engine/compare.h"
#include "engine/diff.h"

static bool cmp(enum compare_mode m, const char *exp, const char *act)
{
    return compare_output(m, exp, strlen(exp), act, strlen(act), 0, NULL);
}

static bool num(const char *exp, const char *act, double tol, char **why)
{
    return compare_output(CMP_NUMERIC, exp, strlen(exp), act, strlen(act), tol, why);
}

/* ---- mode names ------------------------------------------------------ */

static void test_mode_names(void **state)
{
    (void)state;
    const char *names[] = {"exact", "trimmed", "contains", "regex", "numeric", "stripped"};
    const enum compare_mode modes[] = {CMP_EXACT, CMP_TRIMMED, CMP_CONTAINS, CMP_REGEX,
                                       CMP_NUMERIC, CMP_STRIPPED};
    for (size_t i = 0; i < 6; i++) {
        enum compare_mode m = CMP_EXACT;
        assert_int_equal(compare_mode_parse(names[i], &m), 0);
        assert_int_equal(m, modes[i]);
        assert_string_equal(compare_mode_name(m), names[i]);
    }
    enum compare_mode m = CMP_NUMERIC;
    assert_int_equal(compare_mode_parse("fuzzy", &m), -1);
    assert_int_equal(compare_mode_parse("", &m), -1);
    assert_int_equal(compare_mode_parse("exactly", &m), -1);
    assert_int_equal(compare_mode_parse("exac", &m), -1);
    assert_int_equal(m, CMP_NUMERIC); /* untouched on failure */
}

/* ---- exact ----------------------------------------------------------- */

static void test_exact(void **state)
{
    (void)state;
    assert_true(cmp(CMP_EXACT, "Hello, Ada!\n", "Hello, Ada!\n"));
    assert_false(cmp(CMP_EXACT, "Hello, Ada!\n", "Hello, Ada!"));   /* missing newline */
    assert_false(cmp(CMP_EXACT, "Hello, Ada!", "Hello, Ada!\n"));
    assert_false(cmp(CMP_EXACT, "a\n", "a \n"));
    assert_false(cmp(CMP_EXACT, "a\n", "a\r\n"));
    assert_false(cmp(CMP_EXACT, "a\n", "A\n"));
    assert_true(cmp(CMP_EXACT, "", ""));
    assert_false(cmp(CMP_EXACT, "", "\n"));
    /* Embedded NULs are compared too. */
    assert_true(compare_output(CMP_EXACT, "a\0b", 3, "a\0b", 3, 0, NULL));
    assert_false(compare_output(CMP_EXACT, "a\0b", 3, "a\0c", 3, 0, NULL));
    /* *why is set to NULL when given. */
    char *why = (char *)"garbage";
    assert_false(compare_output(CMP_EXACT, "x", 1, "y", 1, 0, &why));
    free(why);
}

/* ---- trimmed ---------------------------------------------------------- */

static void test_trimmed(void **state)
{
    (void)state;
    assert_true(cmp(CMP_TRIMMED, "a\nb\n", "a  \nb\t\n"));            /* trailing spaces */
    assert_true(cmp(CMP_TRIMMED, "a\nb", "a\r\nb\r\n"));              /* \r is whitespace */
    assert_true(cmp(CMP_TRIMMED, "a\r\nb\r\n", "a\nb"));
    assert_true(cmp(CMP_TRIMMED, "a\nb\n", "a\nb"));                  /* final newline */
    assert_true(cmp(CMP_TRIMMED, "a\nb\n", "a\nb\n\n\n  \n\t\n"));    /* trailing blank lines */
    assert_true(cmp(CMP_TRIMMED, "", "\n\n  \n"));
    assert_false(cmp(CMP_TRIMMED, "a\nb\n", " a\nb\n"));               /* leading whitespace counts */
    assert_false(cmp(CMP_TRIMMED, "a\nb\n", "a\n\tb\n"));
    assert_false(cmp(CMP_TRIMMED, "a\nb\n", "a\n\nb\n"));              /* inner blank line counts */
    assert_false(cmp(CMP_TRIMMED, "a b\n", "a  b\n"));                 /* inner spaces count */
    assert_false(cmp(CMP_TRIMMED, "a\n", "A\n"));
    assert_false(cmp(CMP_TRIMMED, "a\nb\n", "\na\nb\n"));              /* leading blank line */
    assert_false(cmp(CMP_TRIMMED, "", "x"));
}

static void test_compare_trim(void **state)
{
    (void)state;
    size_t n = 99;
    char *t = compare_trim("a  \nb\t\r\n\n \n", 11, &n);
    assert_string_equal(t, "a\nb");
    assert_int_equal(n, 3);
    free(t);
    t = compare_trim("", 0, &n);
    assert_string_equal(t, "");
    assert_int_equal(n, 0);
    free(t);
    t = compare_trim("  x\n\ny", 6, &n);
    assert_string_equal(t, "  x\n\ny");
    assert_int_equal(n, 6);
    free(t);
}

/* ---- stripped (GitHub Classroom's exact) ----------------------------- */

static void test_stripped(void **state)
{
    (void)state;
    assert_true(cmp(CMP_STRIPPED, "Hello, Ada!", "Hello, Ada!\n"));       /* final newline */
    assert_true(cmp(CMP_STRIPPED, "a\nb", "\n  a\r\nb\r\n\n"));          /* both ends, CR LF */
    assert_true(cmp(CMP_STRIPPED, "  a\nb  \n", "a\nb"));                 /* expected stripped too */
    assert_true(cmp(CMP_STRIPPED, "", " \n\t\n"));
    assert_false(cmp(CMP_STRIPPED, "a\nb", "a  \nb"));                    /* inner line ends count */
    assert_false(cmp(CMP_STRIPPED, "a\nb", "a\n\nb"));
    assert_false(cmp(CMP_STRIPPED, "a\nb", "a\rb"));                      /* a lone CR is no line end */
    assert_false(cmp(CMP_STRIPPED, "a", "A"));
}

/* ---- contains --------------------------------------------------------- */

static void test_contains(void **state)
{
    (void)state;
    assert_true(cmp(CMP_CONTAINS, "world", "hello world\n"));
    assert_true(cmp(CMP_CONTAINS, "hello world\n", "hello world\n"));
    assert_true(cmp(CMP_CONTAINS, "o\nw", "hello\nworld"));            /* across lines */
    assert_true(cmp(CMP_CONTAINS, "", "anything"));
    assert_true(cmp(CMP_CONTAINS, "", ""));
    assert_false(cmp(CMP_CONTAINS, "World", "hello world\n"));
    assert_false(cmp(CMP_CONTAINS, "hello world!", "hello world"));
    assert_false(cmp(CMP_CONTAINS, "x", ""));
    /* Output with a NUL before the match is still searched. */
    assert_true(compare_output(CMP_CONTAINS, "needle", 6, "\0\0needle", 8, 0, NULL));
}

/* ---- regex ------------------------------------------------------------ */

static void test_regex(void **state)
{
    (void)state;
    /* Search semantics: the pattern may match anywhere. */
    assert_true(cmp(CMP_REGEX, "l+o", "hello\n"));
    assert_true(cmp(CMP_REGEX, "[0-9]+ apples", "I have 12 apples today\n"));
    assert_true(cmp(CMP_REGEX, "(cat|dog)s?", "hotdogs"));
    assert_false(cmp(CMP_REGEX, "[0-9]+ apples", "I have some apples\n"));
    /* Anchors. */
    assert_true(cmp(CMP_REGEX, "^hello", "hello world\n"));
    assert_false(cmp(CMP_REGEX, "^hello", "say hello\n"));
    assert_true(cmp(CMP_REGEX, "world$", "hello world"));
    assert_false(cmp(CMP_REGEX, "^world$", "hello world"));
    assert_true(cmp(CMP_REGEX, "^hello world$", "hello world"));
    /* Extended syntax without backslashes. */
    assert_true(cmp(CMP_REGEX, "a{3}", "baaab"));
    assert_false(cmp(CMP_REGEX, "^a{3}$", "aaaa"));
    /* An invalid pattern never passes. */
    assert_false(cmp(CMP_REGEX, "(", "("));
    assert_false(cmp(CMP_REGEX, "[a-", "[a-"));
}

/* Program output nearly always ends in "\n"; "$" before that final
 * newline must match (as in Python's re, grep and most regex tools),
 * otherwise every anchored pattern fails on ordinary print() output. */
static void test_regex_dollar_before_final_newline(void **state)
{
    (void)state;
    assert_true(cmp(CMP_REGEX, "^42$", "42\n"));
    assert_true(cmp(CMP_REGEX, "world$", "hello world\n"));
    assert_false(cmp(CMP_REGEX, "^42$", "42\n43\n"));
}

static void test_regex_check(void **state)
{
    (void)state;
    char why[256];
    assert_int_equal(compare_regex_check("a|b", why, sizeof why), 0);
    assert_int_equal(compare_regex_check("^[0-9]+(\\.[0-9]+)?$", why, sizeof why), 0);
    assert_int_equal(compare_regex_check("", why, sizeof why), 0);
    /* (A lone ")" is an ordinary character in POSIX EREs.) */
    assert_int_equal(compare_regex_check("a)", why, sizeof why), 0);
    const char *bad[] = {"(", "(ab", "[a-", "[[:nope:]]", "a{2,1}"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why[0] = '\0';
        if (compare_regex_check(bad[i], why, sizeof why) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_true(strlen(why) > 0);
    }
}

/* ---- numeric ---------------------------------------------------------- */

static void test_numeric_basic(void **state)
{
    (void)state;
    char *why = NULL;
    assert_true(num("1 2 3", "1.0 2.0 3.0", 0, &why));
    assert_null(why);
    assert_true(num("1 2 3\n", "1\n2\n3", 0, NULL));       /* layout is free */
    assert_true(num("1e3", "1000.0", 0, NULL));
    assert_true(num("-0.5", "-5e-1", 0, NULL));
    assert_true(num("", "", 0, NULL));
    assert_true(num("  \n", "", 0, NULL));
    assert_false(num("1", "-1", 0.5, NULL));
    /* Other tokens are compared exactly. */
    assert_true(num("x = 1\n", "x = 1.000\n", 0, NULL));
    assert_false(num("x = 1\n", "X = 1\n", 0, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "X"));
    free(why);
    assert_false(num("1 apple", "1 apples", 0, NULL));
}

static void test_numeric_tolerance(void **state)
{
    (void)state;
    char *why = NULL;
    /* Boundaries with binary-exact values: within tolerance passes,
     * exactly at it passes, beyond it fails. */
    assert_true(num("1.0", "1.25", 0.25, NULL));
    assert_true(num("1.0", "0.75", 0.25, NULL));
    assert_true(num("1.0", "1.125", 0.25, NULL));
    assert_false(num("1.0", "1.5", 0.25, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "value 1"));
    free(why);
    assert_false(num("10 20", "10 20.5", 0.25, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "value 2"));
    assert_true(tu_contains(why, "20.5"));
    free(why);
    /* Zero tolerance means equal. */
    assert_true(num("0.1", "0.10", 0, NULL));
    assert_false(num("0.1", "0.1000001", 0, NULL));
    /* Failing without *why is fine. */
    assert_false(num("1", "2", 0.5, NULL));
}

/* A tolerance written in decimal is met by values that differ by exactly
 * that decimal amount ("equal within tolerance"), although in binary
 * floating point 1.1 - 1.0 is 0.10000000000000009 > 0.1. */
static void test_numeric_tolerance_decimal_boundary(void **state)
{
    (void)state;
    assert_true(num("3.14", "3.15", 0.01, NULL));
    assert_true(num("1.0", "1.1", 0.1, NULL));
    assert_true(num("0.3", "0.2", 0.1, NULL));
    assert_false(num("3.14", "3.16", 0.01, NULL));
}

static void test_numeric_token_counts(void **state)
{
    (void)state;
    char *why = NULL;
    assert_false(num("1 2 3", "1 2", 0, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "3"));
    assert_true(tu_contains(why, "ended"));
    free(why);
    why = NULL;
    assert_false(num("1 2", "1 2 3", 0, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "more"));
    free(why);
    why = NULL;
    assert_false(num("1", "", 0, &why));
    assert_non_null(why);
    free(why);
    why = NULL;
    assert_false(num("", "1", 0, &why));
    assert_non_null(why);
    free(why);
}

static void test_numeric_nan_inf(void **state)
{
    (void)state;
    /* nan and inf are not numbers here: compared as text. */
    assert_true(num("nan", "nan", 0, NULL));
    assert_false(num("nan", "NaN", 0, NULL));
    assert_false(num("nan", "0", 1e300, NULL));
    assert_true(num("inf -inf", "inf -inf", 0, NULL));
    assert_false(num("inf", "infinity", 0, NULL));
    assert_false(num("inf", "1e999", 0, NULL));       /* overflows to inf: text differs */
    assert_false(num("1e308", "inf", 1e308, NULL));
    char *why = NULL;
    assert_false(num("1.5 nan", "1.5 nan0", 0, &why));
    assert_non_null(why);
    assert_true(tu_contains(why, "value 2"));
    free(why);
}

/* ---- diff_lines ------------------------------------------------------- */

static char *diff(const char *e, const char *a, int max)
{
    char *d = diff_lines(e, strlen(e), a, strlen(a), max);
    assert_non_null(d);
    assert_true(tu_utf8_valid(d, strlen(d)));
    return d;
}

static int count_prefixed_lines(const char *text, char kind)
{
    int n = 0;
    const char *p = text;
    while (p && *p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        /* "X NNNN | " */
        if (len >= 9 && p[0] == kind && p[1] == ' ' && memcmp(p + 6, " | ", 3) == 0)
            n++;
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static int count_numbered_lines(const char *text)
{
    return count_prefixed_lines(text, '-') + count_prefixed_lines(text, '+') +
           count_prefixed_lines(text, ' ');
}

static void test_diff_one_line(void **state)
{
    (void)state;
    char *d = diff("1\n2\n3\n", "1\nX\n3\n", 20);
    assert_true(strncmp(d, "Expected (-) and your output (+), by line number:\n", 50) == 0);
    assert_true(tu_contains(d, "     1 | 1\n"));
    assert_true(tu_contains(d, "-    2 | 2\n"));
    assert_true(tu_contains(d, "+    2 | X\n"));
    assert_true(tu_contains(d, "     3 | 3\n"));
    assert_int_equal(count_prefixed_lines(d, '-'), 1);
    assert_int_equal(count_prefixed_lines(d, '+'), 1);
    /* "-" comes before "+". */
    assert_true(strstr(d, "-    2 |") < strstr(d, "+    2 |"));
    assert_null(strstr(d, "[..."));
    assert_null(strstr(d, "newline"));
    free(d);

    /* Far from the start: line numbers are right, context is 2 lines. */
    struct buf e = BUF_INIT, a = BUF_INIT;
    for (int i = 1; i <= 30; i++) {
        buf_printf(&e, "line %d\n", i);
        buf_printf(&a, i == 17 ? "LINE %d\n" : "line %d\n", i);
    }
    d = diff_lines(e.data, e.len, a.data, a.len, 50);
    assert_true(tu_contains(d, "-   17 | line 17\n"));
    assert_true(tu_contains(d, "+   17 | LINE 17\n"));
    assert_true(tu_contains(d, "    15 | line 15\n"));
    assert_true(tu_contains(d, "    16 | line 16\n"));
    assert_true(tu_contains(d, "    18 | line 18\n"));
    assert_true(tu_contains(d, "    19 | line 19\n"));
    assert_null(strstr(d, "| line 14\n"));
    assert_null(strstr(d, "| line 20\n"));
    free(d);
    buf_free(&e);
    buf_free(&a);
}

static void test_diff_insert_delete_numbers(void **state)
{
    (void)state;
    /* An inserted line: numbered in the output, nothing removed. */
    char *d = diff("a\nb\nc\n", "a\nnew\nb\nc\n", 20);
    assert_true(tu_contains(d, "+    2 | new\n"));
    assert_int_equal(count_prefixed_lines(d, '-'), 0);
    assert_int_equal(count_prefixed_lines(d, '+'), 1);
    free(d);
    /* A missing line: numbered in the expected output. */
    d = diff("a\nb\nc\nd\n", "a\nb\nd\n", 20);
    assert_true(tu_contains(d, "-    3 | c\n"));
    assert_int_equal(count_prefixed_lines(d, '-'), 1);
    assert_int_equal(count_prefixed_lines(d, '+'), 0);
    free(d);
    /* Two separate changes far apart are separated by "  ...". */
    struct buf e = BUF_INIT, a = BUF_INIT;
    for (int i = 1; i <= 20; i++) {
        buf_printf(&e, "%d\n", i);
        buf_printf(&a, (i == 3 || i == 15) ? "x%d\n" : "%d\n", i);
    }
    d = diff_lines(e.data, e.len, a.data, a.len, 50);
    assert_true(tu_contains(d, "-    3 | 3\n"));
    assert_true(tu_contains(d, "+    3 | x3\n"));
    assert_true(tu_contains(d, "-   15 | 15\n"));
    assert_true(tu_contains(d, "+   15 | x15\n"));
    assert_true(tu_contains(d, "\n  ...\n"));
    free(d);
    buf_free(&e);
    buf_free(&a);
}

static void test_diff_cap(void **state)
{
    (void)state;
    struct buf e = BUF_INIT, a = BUF_INIT;
    for (int i = 1; i <= 50; i++) {
        buf_printf(&e, "e%d\n", i);
        buf_printf(&a, "a%d\n", i);
    }
    char *d = diff_lines(e.data, e.len, a.data, a.len, 10);
    assert_true(tu_utf8_valid(d, strlen(d)));
    assert_true(count_numbered_lines(d) <= 10);
    assert_int_equal(count_numbered_lines(d), 10);
    /* 100 differing lines, 10 shown. */
    assert_true(tu_contains(d, "[... 90 more differing lines not shown]\n"));
    free(d);
    d = diff_lines(e.data, e.len, a.data, a.len, 1);
    assert_int_equal(count_numbered_lines(d), 1);
    assert_true(tu_contains(d, "[... 99 more"));
    free(d);
    buf_free(&e);
    buf_free(&a);
}

/* When every differing line was shown, no "[... N more differing lines"
 * note appears, even if trailing context lines were cut by the cap. */
static void test_diff_cap_no_false_note(void **state)
{
    (void)state;
    /* ops: -x/+X then context b, c, d; a cap of 3 cuts context only. */
    char *d = diff("x\nb\nc\nd\n", "X\nb\nc\nd\n", 3);
    bool shown = tu_contains(d, "-    1 | x\n") && tu_contains(d, "+    1 | X\n");
    bool note = tu_contains(d, "[...");
    if (note)
        print_message("diff with a misleading note:\n%s", d);
    free(d);
    assert_true(shown);
    assert_false(note);
}

static void test_diff_empty_sides(void **state)
{
    (void)state;
    char *d = diff("", "a\nb\n", 20);
    assert_true(tu_contains(d, "+    1 | a\n"));
    assert_true(tu_contains(d, "+    2 | b\n"));
    assert_int_equal(count_prefixed_lines(d, '-'), 0);
    free(d);
    d = diff("a\nb\n", "", 20);
    assert_true(tu_contains(d, "-    1 | a\n"));
    assert_true(tu_contains(d, "-    2 | b\n"));
    assert_int_equal(count_prefixed_lines(d, '+'), 0);
    free(d);
    d = diff("", "", 20);
    assert_int_equal(count_numbered_lines(d), 0);
    free(d);
}

static void test_diff_final_newline(void **state)
{
    (void)state;
    char *d = diff("a\nb\n", "a\nb", 20);
    assert_true(tu_contains(d, "(your output ends without a newline)"));
    assert_true(tu_contains(d, "line endings"));
    assert_int_equal(count_prefixed_lines(d, '-') + count_prefixed_lines(d, '+'), 0);
    free(d);
    d = diff("a\nb", "a\nb\n", 20);
    assert_true(tu_contains(d, "(the expected output ends without a newline)"));
    free(d);
    /* Together with a real difference. */
    d = diff("a\nb\n", "a\nc", 20);
    assert_true(tu_contains(d, "-    2 | b\n"));
    assert_true(tu_contains(d, "+    2 | c\n"));
    assert_true(tu_contains(d, "(your output ends without a newline)"));
    assert_null(strstr(d, "line endings"));
    free(d);
}

static void test_diff_invalid_utf8_and_long_lines(void **state)
{
    (void)state;
    const char e[] = "ok\nbad \xFF\xFE\n";
    const char a[] = "ok\nbad \xC3\x28 \0 \xED\xA0\x80\n";
    char *d = diff_lines(e, sizeof e - 1, a, sizeof a - 1, 20);
    assert_true(tu_utf8_valid(d, strlen(d)));
    assert_true(tu_contains(d, "\xEF\xBF\xBD"));
    assert_true(tu_contains(d, "-    2 | bad "));
    assert_true(tu_contains(d, "+    2 | bad "));
    free(d);

    /* A very long line is shortened and marked; 2-byte characters keep the
     * result valid UTF-8 wherever the cut falls. */
    struct buf le = BUF_INIT, la = BUF_INIT;
    buf_puts(&le, "short\n");
    buf_puts(&la, "x");
    for (int i = 0; i < 1000; i++)
        buf_puts(&la, "\xC3\xA9");
    buf_puts(&la, "\n");
    d = diff_lines(le.data, le.len, la.data, la.len, 20);
    assert_true(tu_utf8_valid(d, strlen(d)));
    assert_true(tu_contains(d, " [...]\n"));
    assert_true(strlen(d) < 1000);
    free(d);
    buf_free(&le);
    buf_free(&la);
}

static void test_diff_large_inputs(void **state)
{
    (void)state;
    /* Large enough to take the fallback path for the middle. */
    struct buf e = BUF_INIT, a = BUF_INIT;
    for (int i = 0; i < 3000; i++) {
        buf_printf(&e, "%d\n", i);
        buf_printf(&a, (i > 5 && i < 2995) ? "%d!\n" : "%d\n", i);
    }
    char *d = diff_lines(e.data, e.len, a.data, a.len, 30);
    assert_true(tu_utf8_valid(d, strlen(d)));
    assert_true(count_numbered_lines(d) <= 30);
    assert_true(tu_contains(d, "-    7 | 6\n"));
    assert_true(tu_contains(d, "more differing lines not shown"));
    free(d);
    buf_free(&e);
    buf_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_trimmed),
        cmocka_unit_test(test_compare_trim),
        cmocka_unit_test(test_stripped),
        cmocka_unit_test(test_contains),
        cmocka_unit_test(test_regex),
        cmocka_unit_test(test_regex_dollar_before_final_newline),
        cmocka_unit_test(test_regex_check),
        cmocka_unit_test(test_numeric_basic),
        cmocka_unit_test(test_numeric_tolerance),
        cmocka_unit_test(test_numeric_tolerance_decimal_boundary),
        cmocka_unit_test(test_numeric_token_counts),
        cmocka_unit_test(test_numeric_nan_inf),
        cmocka_unit_test(test_diff_one_line),
        cmocka_unit_test(test_diff_insert_delete_numbers),
        cmocka_unit_test(test_diff_cap),
        cmocka_unit_test(test_diff_cap_no_false_note),
        cmocka_unit_test(test_diff_empty_sides),
        cmocka_unit_test(test_diff_final_newline),
        cmocka_unit_test(test_diff_invalid_utf8_and_long_lines),
        cmocka_unit_test(test_diff_large_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
