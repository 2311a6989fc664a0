/* test_json.c - unit tests for common/jsonutil.h (bounded loading with
 * file:line:column errors, duplicate keys, atomic saving, cleaning of
 * invalid UTF-8, typed getters) and common/clock.h (ISO 8601 parsing and
 * formatting). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <math.h>
#include <time.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/jsonutil.h"

/* ---- jsonutil_load_file --------------------------------------------- */

static void test_load_valid(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *p = tu_path(dir, "job.json");
    tu_write_at(dir, "job.json",
                "{\n  \"course\": \"cs101\",\n  \"attempt\": 2,\n  \"files\": [\"a.py\"],\n"
                "  \"name\": \"Ad\\u00e9\"\n}\n");
    json_t *j = jsonutil_load_file(p, 4096, &e);
    assert_non_null(j);
    assert_true(json_is_object(j));
    assert_string_equal(jsonutil_str(j, "course", NULL), "cs101");
    assert_true(jsonutil_num(j, "attempt", 0) == 2.0);
    assert_int_equal(json_array_size(json_object_get(j, "files")), 1);
    assert_string_equal(jsonutil_str(j, "name", NULL), "Ad\xC3\xA9");
    json_decref(j);
    free(p);
}

static void test_load_malformed(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *p = tu_path(dir, "broken-job.json");
    /* The error is on line 4 ("}" where a value is expected). */
    tu_write_at(dir, "broken-job.json", "{\n  \"a\": 1,\n  \"b\":\n}\n");
    json_t *j = jsonutil_load_file(p, 4096, &e);
    assert_null(j);
    assert_true(tu_contains(e.msg, "broken-job.json"));
    /* The line is named: "file:LINE:COLUMN: ..." (see jsonutil.c). */
    char want[64];
    snprintf(want, sizeof want, "broken-job.json:%d:", 4);
    assert_true(tu_contains(e.msg, want));
    assert_true(tu_contains(e.msg, "invalid JSON"));

    /* Truncated file, empty file, trailing garbage. */
    tu_write_at(dir, "broken-job.json", "{\"a\": [1, 2");
    assert_null(jsonutil_load_file(p, 4096, &e));
    assert_true(tu_contains(e.msg, "broken-job.json"));
    tu_write_at(dir, "broken-job.json", "");
    assert_null(jsonutil_load_file(p, 4096, &e));
    tu_write_at(dir, "broken-job.json", "{} {}");
    assert_null(jsonutil_load_file(p, 4096, &e));
    free(p);

    /* Text from a run names WHAT. */
    e.msg[0] = '\0';
    assert_null(jsonutil_load_text("[1,", 3, "pytest report", &e));
    assert_true(tu_contains(e.msg, "pytest report"));
    json_t *ok = jsonutil_load_text("[1]xyz", 3, "slice", &e);
    assert_non_null(ok); /* only len bytes are parsed */
    json_decref(ok);
}

static void test_load_duplicate_keys(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *p = tu_path(dir, "dup.json");
    tu_write_at(dir, "dup.json", "{\"points\": 1, \"points\": 100}");
    assert_null(jsonutil_load_file(p, 4096, &e));
    assert_true(tu_contains(e.msg, "dup.json"));
    assert_true(tu_contains(e.msg, "duplicate"));
    /* Nested objects too. */
    tu_write_at(dir, "dup.json", "{\"t\": [{\"a\": 1, \"a\": 2}]}");
    assert_null(jsonutil_load_file(p, 4096, &e));
    free(p);
}

static void test_load_size_limit_and_links(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *p = tu_path(dir, "big.json");
    struct buf b = BUF_INIT;
    buf_puts(&b, "[");
    for (int i = 0; i < 500; i++)
        buf_printf(&b, "%s%d", i ? "," : "", i);
    buf_puts(&b, "]");
    tu_write(p, b.data, b.len);
    assert_null(jsonutil_load_file(p, 100, &e));
    assert_true(tu_contains(e.msg, "big.json"));
    assert_true(tu_contains(e.msg, "limit"));
    json_t *j = jsonutil_load_file(p, b.len, &e);
    assert_non_null(j);
    assert_int_equal(json_array_size(j), 500);
    json_decref(j);

    /* A symlink to valid JSON is refused; so is a missing file. */
    char *l = tu_path(dir, "link.json");
    assert_int_equal(symlink(p, l), 0);
    assert_null(jsonutil_load_file(l, 1 << 20, &e));
    char *none = tu_path(dir, "none.json");
    e.msg[0] = '\0';
    assert_null(jsonutil_load_file(none, 1 << 20, &e));
    assert_true(tu_contains(e.msg, "none.json"));
    buf_free(&b);
    free(p);
    free(l);
    free(none);
}

/* ---- jsonutil_save_file --------------------------------------------- */

static void test_save_round_trip(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *p = tu_path(dir, "out.json");
    json_t *j = json_pack("{s:s, s:i, s:f, s:[s,b,n], s:{s:s}}", "student", "Ad\xC3\xA9 \xE2\x82\xAC",
                          "score", 7, "ratio", 0.125, "list", "x", 1, "nested", "k", "v");
    assert_non_null(j);
    assert_int_equal(jsonutil_save_file(p, j, &e), 0);
    size_t len = 0;
    char *text = tu_read(p, &len);
    assert_non_null(text);
    assert_true(len > 0);
    assert_int_equal(text[len - 1], '\n');
    assert_true(tu_contains(text, "\n  ")); /* indented */
    free(text);
    assert_int_equal(tu_count_entries(dir), 1); /* no temporary left */

    json_t *back = jsonutil_load_file(p, 1 << 20, &e);
    assert_non_null(back);
    assert_true(json_equal(j, back));
    json_decref(back);

    /* Saving again replaces the file. */
    json_t *small = json_pack("{s:i}", "v", 2);
    assert_int_equal(jsonutil_save_file(p, small, &e), 0);
    back = jsonutil_load_file(p, 1 << 20, &e);
    assert_true(json_equal(small, back));
    json_decref(back);
    json_decref(small);
    json_decref(j);
    free(p);
}

/* ---- jsonutil_text / getters ----------------------------------------- */

static void test_text_invalid_utf8(void **state)
{
    (void)state;
    const char raw[] = "ok \xFF\xFE \xC0\xAF \xED\xA0\x80 nul:\0: end \xE2\x82";
    json_t *s = jsonutil_text(raw, sizeof raw - 1);
    assert_non_null(s);
    assert_true(json_is_string(s));
    const char *v = json_string_value(s);
    assert_true(tu_utf8_valid(v, json_string_length(s)));
    assert_int_equal(strlen(v), json_string_length(s)); /* no NUL inside */
    assert_true(tu_contains(v, "\xEF\xBF\xBD"));
    assert_true(strncmp(v, "ok ", 3) == 0);
    assert_true(tu_contains(v, " end "));
    /* It can be encoded and decoded again. */
    char *enc = json_dumps(s, JSON_ENCODE_ANY);
    assert_non_null(enc);
    json_error_t je;
    json_t *back = json_loads(enc, JSON_DECODE_ANY, &je);
    assert_non_null(back);
    assert_true(json_equal(s, back));
    json_decref(back);
    free(enc);
    json_decref(s);

    s = jsonutil_text(NULL, 5);
    assert_non_null(s);
    assert_string_equal(json_string_value(s), "");
    json_decref(s);
    s = jsonutil_text("valid \xC3\xA9", 8);
    assert_string_equal(json_string_value(s), "valid \xC3\xA9");
    json_decref(s);
}

static void test_getters_defaults(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:s, s:i, s:f, s:n, s:b}", "s", "text", "i", 3, "r", 2.5,
                          "null", "t", 1);
    assert_string_equal(jsonutil_str(o, "s", "d"), "text");
    assert_string_equal(jsonutil_str(o, "missing", "d"), "d");
    assert_null(jsonutil_str(o, "missing", NULL));
    assert_string_equal(jsonutil_str(o, "i", "d"), "d");    /* wrong type */
    assert_string_equal(jsonutil_str(o, "null", "d"), "d");
    assert_true(jsonutil_num(o, "i", -1) == 3.0);
    assert_true(jsonutil_num(o, "r", -1) == 2.5);
    assert_true(jsonutil_num(o, "missing", -1) == -1.0);
    assert_true(jsonutil_num(o, "s", 9) == 9.0);            /* wrong type */
    assert_true(jsonutil_num(o, "t", 9) == 9.0);            /* booleans are not numbers */
    /* Not an object at all. */
    json_t *arr = json_array();
    assert_string_equal(jsonutil_str(arr, "s", "d"), "d");
    assert_true(jsonutil_num(arr, "i", 4) == 4.0);
    assert_string_equal(jsonutil_str(NULL, "s", "d"), "d");
    json_decref(arr);
    json_decref(o);
}

/* ---- clock ---------------------------------------------------------- */

#define T_BASE 1796083140.0 /* 2026-11-30T23:59:00Z */

static void test_clock_parse_accepts(void **state)
{
    (void)state;
    double t = 0;
    assert_true(clock_parse_iso8601("2026-11-30T23:59:00Z", &t));
    assert_true(t == T_BASE);
    assert_true(clock_parse_iso8601("2026-11-30T23:59:00.5Z", &t));
    assert_true(t == T_BASE + 0.5);
    assert_true(clock_parse_iso8601("2026-11-30T23:59:00.250Z", &t));
    assert_true(fabs(t - (T_BASE + 0.25)) < 1e-6);
    assert_true(clock_parse_iso8601("2026-11-30T23:59:00+01:00", &t));
    assert_true(t == T_BASE - 3600); /* 22:59Z */
    assert_true(clock_parse_iso8601("2026-11-30T23:59:00-05:30", &t));
    assert_true(t == T_BASE + 5.5 * 3600);
    assert_true(clock_parse_iso8601("2026-12-01T00:59:00+01:00", &t));
    assert_true(t == T_BASE); /* crossing midnight */
    assert_true(clock_parse_iso8601("1970-01-01T00:00:00Z", &t));
    assert_true(t == 0);
    assert_true(clock_parse_iso8601("2028-02-29T12:00:00Z", &t)); /* leap day */
}

static void test_clock_parse_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "2026-11-30",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "2026-11-32T00:00:00Z",
        "2026-11-30T24:00:00Z",
        "2026-11-30T23:60:00Z",
        "tomorrow",
        "",
        "2026-11-30T23:59:00",       /* no zone */
        "2026-11-30T23:59:00Zjunk",
        "2026-11-30T23:59:00Z ",
        "2026-11-30T23:59:00.Z",
        "2026-11-30T23:59:00+01",
        "2026-11-30T23:59:00+01:00x",
        "2026-11-30 23:59:00Z",
        "2026/11/30T23:59:00Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double t = -1;
        if (clock_parse_iso8601(bad[i], &t))
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

/* Fields must be digits only: sscanf("%2d") also takes a sign or leading
 * blanks, and timegm silently normalizes impossible dates. */
static void test_clock_parse_rejects_lenient_forms(void **state)
{
    (void)state;
    const char *bad[] = {
        "2026-+1-30T23:59:00Z",
        "2026-11-30T23:59: 0Z",
        "2026-11-30T-1:59:00Z",
        "2026-02-31T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-30T23:59:00+-1:00",
        "2026-11-30T23:59:00+99:99",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double t = -1;
        if (clock_parse_iso8601(bad[i], &t))
            fail_msg("accepted \"%s\"", bad[i]);
    }
}

static void test_clock_format(void **state)
{
    (void)state;
    char out[32];
    clock_iso8601(T_BASE, out);
    assert_string_equal(out, "2026-11-30T23:59:00.000Z");
    clock_iso8601(T_BASE + 0.5, out);
    assert_string_equal(out, "2026-11-30T23:59:00.500Z");
    clock_iso8601(0, out);
    assert_string_equal(out, "1970-01-01T00:00:00.000Z");
    clock_iso8601(T_BASE + 0.25, out);
    assert_string_equal(out, "2026-11-30T23:59:00.250Z");
}

/* format(parse(s)) == s for stamps with milliseconds. */
static void test_clock_round_trip(void **state)
{
    (void)state;
    for (int ms = 0; ms < 1000; ms++) {
        char in[40], out[32];
        snprintf(in, sizeof in, "2026-11-30T23:59:07.%03dZ", ms);
        double t = 0;
        assert_true(clock_parse_iso8601(in, &t));
        clock_iso8601(t, out);
        if (strcmp(in, out) != 0)
            fail_msg("\"%s\" came back as \"%s\"", in, out);
    }
    /* parse(format(t)) is t to the millisecond. */
    double now = clock_wall();
    char s[32];
    clock_iso8601(now, s);
    double back = 0;
    assert_true(clock_parse_iso8601(s, &back));
    assert_true(fabs(back - now) < 0.001 + 1e-6);
}

static void test_clock_sources(void **state)
{
    (void)state;
    double a = clock_mono(), b = clock_mono();
    assert_true(b >= a);
    assert_true(clock_wall() > 1.7e9); /* after 2023 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_load_valid, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_malformed, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_duplicate_keys, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_load_size_limit_and_links, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_save_round_trip, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test(test_text_invalid_utf8),
        cmocka_unit_test(test_getters_defaults),
        cmocka_unit_test(test_clock_parse_accepts),
        cmocka_unit_test(test_clock_parse_rejects),
        cmocka_unit_test(test_clock_parse_rejects_lenient_forms),
        cmocka_unit_test(test_clock_format),
        cmocka_unit_test(test_clock_round_trip),
        cmocka_unit_test(test_clock_sources),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
