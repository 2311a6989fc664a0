/* test_buf.c - unit tests for common/buf.h (struct buf, text_utf8_clean,
 * text_last_lines, text_first_bytes, text_count_lines) and common/err.h
 * (err_set, err_sys, err_prefix, problems_add/problems_free). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/buf.h"
#include "common/err.h"

#define FFFD "\xEF\xBF\xBD"

/* ---- struct buf ---------------------------------------------------- */

static void test_buf_empty_and_append(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_append(&b, "abc", 3), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "abc");
    assert_int_equal(buf_puts(&b, "def"), 0);
    assert_string_equal(buf_str(&b), "abcdef");
    /* Binary data with an embedded NUL keeps its length. */
    assert_int_equal(buf_append(&b, "x\0y", 3), 0);
    assert_int_equal(b.len, 9);
    assert_memory_equal(b.data, "abcdefx\0y", 9);
    assert_int_equal(b.data[9], '\0');
    /* Appending nothing to an empty buffer still gives a string. */
    struct buf e = BUF_INIT;
    assert_int_equal(buf_append(&e, "", 0), 0);
    assert_non_null(e.data);
    assert_string_equal(e.data, "");
    buf_free(&e);
    buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_buf_printf_grows(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    char expect[20000];
    size_t n = 0;
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(buf_printf(&b, "%d,", i), 0);
        n += (size_t)snprintf(expect + n, sizeof expect - n, "%d,", i);
    }
    assert_int_equal(b.len, n);
    assert_int_equal(strlen(b.data), n);
    assert_string_equal(b.data, expect);

    /* One large formatted string at once. */
    char big[10001];
    memset(big, 'q', 10000);
    big[10000] = '\0';
    buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    assert_int_equal(buf_printf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, 10002);
    assert_int_equal(b.data[0], '<');
    assert_int_equal(b.data[10001], '>');
    assert_int_equal(b.data[10002], '\0');
    buf_free(&b);
}

static void test_buf_steal(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_puts(&b, "hello");
    char *s = buf_steal(&b);
    assert_string_equal(s, "hello");
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, 0);
    free(s);
    /* The buffer is usable again after a steal. */
    buf_puts(&b, "again");
    assert_string_equal(buf_str(&b), "again");
    buf_free(&b);
    /* Stealing an empty buffer gives a malloc'd "". */
    struct buf e = BUF_INIT;
    char *empty = buf_steal(&e);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    free(empty);
}

/* ---- text_utf8_clean ----------------------------------------------- */

static void check_clean(const char *in, size_t len, const char *want)
{
    char *out = text_utf8_clean(in, len);
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_true(tu_utf8_valid(out, strlen(out)));
    free(out);
}

static void test_utf8_valid_kept(void **state)
{
    (void)state;
    const char *s = "plain ASCII\n\t~";
    check_clean(s, strlen(s), s);
    /* 2-, 3- and 4-byte characters. */
    s = "h\xC3\xA9llo \xE2\x82\xAC \xF0\x9D\x84\x9E \xE4\xB8\xAD";
    check_clean(s, strlen(s), s);
    /* Boundary code points that are valid. */
    s = "\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF "
        "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF";
    check_clean(s, strlen(s), s);
    check_clean("", 0, "");
    /* Only len bytes are looked at. */
    check_clean("abcdef", 3, "abc");
}

static void test_utf8_invalid_replaced(void **state)
{
    (void)state;
    check_clean("a\xFF" "b", 3, "a" FFFD "b");
    check_clean("a\xFE" "b", 3, "a" FFFD "b");
    /* A lone continuation byte. */
    check_clean("a\x80" "b", 3, "a" FFFD "b");
    /* A lead byte followed by ASCII. */
    check_clean("\xC3(", 2, FFFD "(");
    /* NUL is replaced too (JSON strings must not contain it). */
    check_clean("a\0b", 3, "a" FFFD "b");
    check_clean("\0", 1, FFFD);
    /* A sequence cut off at the end of the input. */
    char *out = text_utf8_clean("ok\xE2\x82", 4);
    assert_true(tu_utf8_valid(out, strlen(out)));
    assert_true(strncmp(out, "ok" FFFD, 5) == 0);
    assert_null(strstr(out, "\xE2\x82"));
    free(out);
}

/* ---- text_visible ------------------------------------------------- */

static void check_visible(const char *in, size_t len, int keep, const char *want)
{
    char *out = text_visible(in, len, keep);
    assert_non_null(out);
    assert_string_equal(out, want);
    free(out);
}

static void test_visible_controls(void **state)
{
    (void)state;
    /* A screen clear, a window title, a clipboard write (OSC 52). */
    check_visible("a\x1b[2Jb", 6, 1, "a\\x1b[2Jb");
    check_visible("\x1b]0;pwned\x07", 10, 1, "\\x1b]0;pwned\\x07");
    check_visible("\x1b]52;c;aGk=\x07", 12, 1, "\\x1b]52;c;aGk=\\x07");
    /* Newlines kept or shown; tab kept; CR, DEL and NUL shown. */
    check_visible("x\ny\tz", 5, 1, "x\ny\tz");
    check_visible("x\ny", 3, 0, "x\\x0ay");
    check_visible("a\rb\x7f" "c", 5, 1, "a\\x0db\\x7fc");
    check_visible("a\0b", 3, 1, "a\\x00b");
    /* C1 CSI (U+009B) shown; other non-ASCII kept; invalid bytes replaced. */
    check_visible("\xC2\x9B" "2J", 4, 1, "\\u009b2J");
    check_visible("h\xC3\xA9 \xC2\xA0", 6, 1, "h\xC3\xA9 \xC2\xA0");
    check_visible("a\xFF" "b", 3, 1, "a" FFFD "b");
}

static void assert_rejected(const char *seq, size_t len)
{
    char *out = text_utf8_clean(seq, len);
    assert_non_null(out);
    assert_true(tu_utf8_valid(out, strlen(out)));
    assert_true(tu_contains(out, FFFD));
    /* The raw bytes must not survive. */
    assert_null(memmem(out, strlen(out), seq, len));
    /* Every byte of an invalid sequence becomes at least part of a
     * replacement, so nothing but U+FFFD remains. */
    for (size_t i = 0; i < strlen(out); i += 3)
        assert_memory_equal(out + i, FFFD, 3);
    free(out);
}

static void test_utf8_overlong_and_surrogates(void **state)
{
    (void)state;
    assert_rejected("\xC0\xAF", 2);               /* overlong '/' */
    assert_rejected("\xC1\xBF", 2);               /* overlong 0x7F */
    assert_rejected("\xE0\x80\xAF", 3);           /* overlong '/' in 3 bytes */
    assert_rejected("\xE0\x9F\xBF", 3);           /* overlong U+07FF */
    assert_rejected("\xF0\x80\x80\xAF", 4);       /* overlong '/' in 4 bytes */
    assert_rejected("\xF0\x8F\xBF\xBF", 4);       /* overlong U+FFFF */
    assert_rejected("\xED\xA0\x80", 3);           /* U+D800 high surrogate */
    assert_rejected("\xED\xBF\xBF", 3);           /* U+DFFF low surrogate */
    assert_rejected("\xF4\x90\x80\x80", 4);       /* U+110000 */
    assert_rejected("\xF5\x80\x80\x80", 4);       /* invalid lead */
    assert_rejected("\xC0\x80", 2);               /* "modified UTF-8" NUL */
}

/* ---- text_last_lines / text_first_bytes / text_count_lines ---------- */

static void test_last_lines_basic(void **state)
{
    (void)state;
    const char *s = "l1\nl2\nl3\nl4\n";
    char *out = text_last_lines(s, strlen(s), 2, 1000);
    assert_string_equal(out, "[...]\nl3\nl4");
    free(out);
    /* Fewer lines than asked for: nothing cut, no marker. */
    out = text_last_lines(s, strlen(s), 10, 1000);
    assert_string_equal(out, "l1\nl2\nl3\nl4");
    free(out);
    /* Exactly as many lines as asked for. */
    out = text_last_lines(s, strlen(s), 4, 1000);
    assert_string_equal(out, "l1\nl2\nl3\nl4");
    free(out);
    /* No trailing newline; trailing blank lines / CRLF ignored. */
    s = "a\nb\nc";
    out = text_last_lines(s, strlen(s), 1, 1000);
    assert_string_equal(out, "[...]\nc");
    free(out);
    s = "a\r\nb\r\n\r\n\n";
    out = text_last_lines(s, strlen(s), 1, 1000);
    assert_string_equal(out, "[...]\nb");
    free(out);
    out = text_last_lines("", 0, 3, 100);
    assert_string_equal(out, "");
    free(out);
    /* Invalid bytes in the kept lines are replaced. */
    s = "x\n\xFFy\n";
    out = text_last_lines(s, strlen(s), 1, 100);
    assert_string_equal(out, "[...]\n" FFFD "y");
    free(out);
}

static void test_last_lines_byte_cap_utf8(void **state)
{
    (void)state;
    /* 40 lines of 10 x "é" (2 bytes each); a byte cap that is odd lands
     * in the middle of a character. */
    struct buf b = BUF_INIT;
    for (int i = 0; i < 40; i++) {
        for (int k = 0; k < 10; k++)
            buf_puts(&b, "\xC3\xA9");
        buf_puts(&b, "\n");
    }
    for (size_t cap = 1; cap < 64; cap++) {
        char *out = text_last_lines(b.data, b.len, 5, cap);
        assert_true(strncmp(out, "[...]\n", 6) == 0);
        const char *tail = out + 6;
        assert_true(strlen(tail) <= cap);
        assert_true(tu_utf8_valid(out, strlen(out)));
        assert_null(strstr(out, FFFD));   /* a character was never split */
        free(out);
    }
    /* Same with 3- and 4-byte characters. */
    buf_reset(&b);
    for (int i = 0; i < 30; i++)
        buf_puts(&b, "\xE2\x82\xAC\xF0\x9D\x84\x9E");
    for (size_t cap = 1; cap < 40; cap++) {
        char *out = text_last_lines(b.data, b.len, 3, cap);
        assert_true(strlen(out) <= 6 + cap);
        assert_true(tu_utf8_valid(out, strlen(out)));
        assert_null(strstr(out, FFFD));
        free(out);
    }
    buf_free(&b);
}

static void test_first_bytes(void **state)
{
    (void)state;
    char *out = text_first_bytes("short", 5, 100);
    assert_string_equal(out, "short");
    free(out);
    out = text_first_bytes("exact", 5, 5);
    assert_string_equal(out, "exact");
    free(out);
    out = text_first_bytes("0123456789", 10, 4);
    assert_string_equal(out, "0123\n[... 6 more bytes not shown]\n");
    free(out);
    /* "€€€" is 9 bytes; a cut at 4 backs up to the boundary at 3. */
    out = text_first_bytes("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", 9, 4);
    assert_string_equal(out, "\xE2\x82\xAC\n[... 6 more bytes not shown]\n");
    free(out);
    for (size_t cap = 0; cap < 9; cap++) {
        out = text_first_bytes("\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC", 9, cap);
        assert_true(tu_utf8_valid(out, strlen(out)));
        assert_null(strstr(out, FFFD));
        free(out);
    }
    /* Invalid bytes in the head are cleaned. */
    out = text_first_bytes("\xFF" "abc", 4, 100);
    assert_string_equal(out, FFFD "abc");
    free(out);
}

static void test_count_lines(void **state)
{
    (void)state;
    assert_int_equal(text_count_lines("", 0), 0);
    assert_int_equal(text_count_lines("a", 1), 1);
    assert_int_equal(text_count_lines("a\n", 2), 1);
    assert_int_equal(text_count_lines("a\nb", 3), 2);
    assert_int_equal(text_count_lines("\n\n", 2), 2);
}

/* ---- err ------------------------------------------------------------ */

static void test_err_set_and_sys(void **state)
{
    (void)state;
    struct err e = {{0}};
    assert_int_equal(err_set(&e, "bad %s %d", "thing", 7), -1);
    assert_string_equal(e.msg, "bad thing 7");
    assert_int_equal(err_set(NULL, "ignored"), -1);

    errno = ENOENT;
    assert_int_equal(err_sys(&e, "cannot open %s", "x.txt"), -1);
    assert_string_equal(e.msg, "cannot open x.txt: No such file or directory");
    assert_int_equal(errno, ENOENT);
    assert_int_equal(err_sys(NULL, "ignored"), -1);

    /* Long messages are cut to the buffer, never overflow it. */
    char big[3000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
    errno = EACCES;
    err_sys(&e, "%s", big);
    assert_int_equal(strlen(e.msg), sizeof e.msg - 1);
}

static void test_err_prefix(void **state)
{
    (void)state;
    struct err e = {{0}};
    err_set(&e, "inner reason");
    assert_int_equal(err_prefix(&e, "outer %d", 1), -1);
    assert_string_equal(e.msg, "outer 1: inner reason");
    err_prefix(&e, "top");
    assert_string_equal(e.msg, "top: outer 1: inner reason");
    assert_int_equal(err_prefix(NULL, "x"), -1);

    /* Prefixing a full message keeps the prefix and stays terminated. */
    char big[2000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    err_set(&e, "%s", big);
    err_prefix(&e, "ctx");
    assert_true(strlen(e.msg) <= sizeof e.msg - 1);
    assert_true(strncmp(e.msg, "ctx: zzz", 8) == 0);
}

static void test_problems(void **state)
{
    (void)state;
    struct problems p = {NULL, 0};
    problems_add(&p, "tests[0]", "missing \"%s\"", "name");
    problems_add(&p, "limits", "cpu_s must be positive, got %d", -1);
    problems_add(&p, "root", "plain");
    assert_int_equal(p.count, 3);
    assert_string_equal(p.items[0], "tests[0]: missing \"name\"");
    assert_string_equal(p.items[1], "limits: cpu_s must be positive, got -1");
    assert_string_equal(p.items[2], "root: plain");
    problems_free(&p);
    assert_null(p.items);
    assert_int_equal(p.count, 0);
    /* Freeing an empty list is fine, and the list is reusable. */
    problems_free(&p);
    problems_add(&p, "w", "again");
    assert_int_equal(p.count, 1);
    problems_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_empty_and_append),
        cmocka_unit_test(test_buf_printf_grows),
        cmocka_unit_test(test_buf_steal),
        cmocka_unit_test(test_utf8_valid_kept),
        cmocka_unit_test(test_utf8_invalid_replaced),
        cmocka_unit_test(test_visible_controls),
        cmocka_unit_test(test_utf8_overlong_and_surrogates),
        cmocka_unit_test(test_last_lines_basic),
        cmocka_unit_test(test_last_lines_byte_cap_utf8),
        cmocka_unit_test(test_first_bytes),
        cmocka_unit_test(test_count_lines),
        cmocka_unit_test(test_err_set_and_sys),
        cmocka_unit_test(test_err_prefix),
        cmocka_unit_test(test_problems),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
