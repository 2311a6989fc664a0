/* test_web.c - unit tests for assay-web's pure parts: the session store
 * and login limiter (web/session.c), token comparison (web/auth.c), HTML
 * and URL escaping (web/html.c), the access decisions (web/access.c)
 * and route patterns (web/dispatch.c); and the accounts' password and
 * token checks (spool/accounts.c). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sodium.h>

#include "spool/accounts.h"
#include "web/access.h"
#include "web/auth.h"
#include "web/dispatch.h"
#include "web/html.h"
#include "web/session.h"

/* ---- sessions ---- */

static void test_session_ids_are_random_and_found(void **state)
{
    (void)state;
    struct session_store *st = session_store_new(60, 3600, 10);
    assert_non_null(st);
    const struct session *a = session_create(st, "ada", 1000);
    const struct session *b = session_create(st, "bob", 1000);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(strlen(a->id), SESSION_ID_LEN);
    assert_int_equal(strspn(a->id, "0123456789abcdef"), SESSION_ID_LEN);
    assert_string_not_equal(a->id, b->id);
    assert_string_not_equal(a->id, a->csrf);
    char id[SESSION_ID_LEN + 1];
    snprintf(id, sizeof id, "%s", a->id);
    const struct session *f = session_find(st, id, 1010);
    assert_non_null(f);
    assert_string_equal(f->user, "ada");
    /* unknown, truncated and made-up ids find nothing */
    assert_null(session_find(st, "ab", 1010));
    char other[SESSION_ID_LEN + 1];
    memset(other, 'a', SESSION_ID_LEN);
    other[SESSION_ID_LEN] = '\0';
    assert_null(session_find(st, other, 1010));
    assert_null(session_find(st, NULL, 1010));
    session_destroy(st, id);
    assert_null(session_find(st, id, 1010));
    assert_int_equal(session_count(st), 1);
    session_store_free(st);
}

static void test_session_idle_and_absolute_expiry(void **state)
{
    (void)state;
    struct session_store *st = session_store_new(60, 300, 10);
    char id[SESSION_ID_LEN + 1];
    snprintf(id, sizeof id, "%s", session_create(st, "ada", 1000)->id);
    /* used every 50 s, it lives until 300 s after login, not longer */
    for (double t = 1050; t < 1300; t += 50)
        assert_non_null(session_find(st, id, t));
    assert_null(session_find(st, id, 1301));
    assert_int_equal(session_count(st), 0);
    /* unused for more than 60 s, it ends */
    snprintf(id, sizeof id, "%s", session_create(st, "ada", 2000)->id);
    assert_non_null(session_find(st, id, 2059));
    assert_null(session_find(st, id, 2120));
    session_store_free(st);
}

static void test_session_store_is_bounded(void **state)
{
    (void)state;
    struct session_store *st = session_store_new(60, 3600, 3);
    char first[SESSION_ID_LEN + 1];
    snprintf(first, sizeof first, "%s", session_create(st, "u0", 1000)->id);
    for (int i = 1; i < 3; i++)
        assert_non_null(session_create(st, "u", 1000 + i));
    assert_non_null(session_create(st, "u3", 1010));   /* the least recently used goes */
    assert_int_equal(session_count(st), 3);
    assert_null(session_find(st, first, 1011));
    session_store_free(st);
}

static void test_limiter_counts_failures_in_a_window(void **state)
{
    (void)state;
    struct limiter *l = limiter_new(3, 60);
    assert_non_null(l);
    for (int i = 0; i < 3; i++) {
        assert_true(limiter_allowed(l, "user:ada", 100 + i));
        limiter_failed(l, "user:ada", 100 + i);
    }
    assert_false(limiter_allowed(l, "user:ada", 110));
    assert_true(limiter_allowed(l, "user:bob", 110));
    assert_true(limiter_allowed(l, "user:ada", 161));   /* the window is over */
    limiter_failed(l, "user:bob", 200);
    limiter_clear(l, "user:bob");
    assert_true(limiter_allowed(l, "user:bob", 200));
    limiter_free(l);
}

static void test_token_equal(void **state)
{
    (void)state;
    char a[SESSION_ID_LEN + 1], b[SESSION_ID_LEN + 1];
    memset(a, 'c', SESSION_ID_LEN);
    a[SESSION_ID_LEN] = '\0';
    memcpy(b, a, sizeof a);
    assert_true(auth_token_equal(a, b));
    b[10] = 'd';
    assert_false(auth_token_equal(a, b));
    assert_false(auth_token_equal(NULL, a));
    assert_false(auth_token_equal(a, NULL));
    assert_false(auth_token_equal("", ""));
    assert_false(auth_token_equal("cc", "cc"));   /* too short to be a token */
}

/* ---- escaping ---- */

static void test_html_escape(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(html_escape(&b, "<script>alert('x')</script> & \"q\""), 0);
    assert_string_equal(buf_str(&b), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; "
                        "&quot;q&quot;");
    buf_reset(&b);
    /* control characters go, tab and newline stay, bad UTF-8 is replaced */
    assert_int_equal(html_escape(&b, "a\x1b[31mb\tc\nd\xff"), 0);
    assert_string_equal(buf_str(&b), "a[31mb\tc\nd\xEF\xBF\xBD");
    buf_reset(&b);
    assert_int_equal(html_escape(&b, NULL), 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
}

static void test_html_printf_escapes_strings_only(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    assert_int_equal(html_printf(&b, "<a href=\"/u/%s\">%s</a> %d %zu %g %lld %%", "x\"y", "<b>",
                                 -3, (size_t)7, 2.5, 1234567890123LL), 0);
    assert_string_equal(buf_str(&b), "<a href=\"/u/x&quot;y\">&lt;b&gt;</a> -3 7 2.5 "
                        "1234567890123 %");
    buf_free(&b);
}

static void test_url_escape(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    html_url_escape(&b, "/course/a b?x=1&y=\"<\"");
    assert_string_equal(buf_str(&b), "/course/a%20b%3Fx%3D1%26y%3D%22%3C%22");
    buf_free(&b);
}

/* ---- access ---- */

static void test_access_decisions(void **state)
{
    (void)state;
    const enum course_role N = COURSE_ROLE_NONE, S = COURSE_ROLE_STUDENT, T = COURSE_ROLE_TA,
                           I = COURSE_ROLE_INSTRUCTOR;
    /* staff pages: instructors, TAs and admins of the course only */
    assert_true(web_access_decide(WEB_STAFF, false, I, false));
    assert_true(web_access_decide(WEB_STAFF, false, T, false));
    assert_true(web_access_decide(WEB_STAFF, true, N, false));
    assert_false(web_access_decide(WEB_STAFF, false, S, false));
    assert_false(web_access_decide(WEB_STAFF, false, N, false));
    /* instructor actions: not TAs */
    assert_false(web_access_decide(WEB_INSTRUCTOR, false, T, false));
    assert_true(web_access_decide(WEB_INSTRUCTOR, false, I, false));
    /* a student's own page: the student of that course, staff, admins */
    assert_true(web_access_decide(WEB_SELF, false, S, true));
    assert_false(web_access_decide(WEB_SELF, false, S, false));     /* another student's */
    assert_false(web_access_decide(WEB_SELF, false, N, true));      /* not in the course */
    assert_true(web_access_decide(WEB_SELF, false, T, false));
    /* admin pages */
    assert_false(web_access_decide(WEB_ADMIN, false, I, false));
    assert_true(web_access_decide(WEB_ADMIN, true, N, false));
    assert_true(web_access_decide(WEB_USER, false, N, false));
}

static void test_route_patterns(void **state)
{
    (void)state;
    struct web_request req;
    memset(&req, 0, sizeof req);
    assert_int_equal(web_route_match("/course/{course}/{asg}", "/course/cs1/hw", &req), 1);
    assert_int_equal(req.nparams, 2);
    assert_string_equal(web_param(&req, "course"), "cs1");
    assert_string_equal(web_param(&req, "asg"), "hw");
    assert_string_equal(web_param(&req, "student"), "");
    for (int i = 0; i < req.nparams; i++)
        free(req.param_values[i]);
    /* segments must be names: no traversal, no empty segment, no extra part */
    assert_int_equal(web_route_match("/course/{course}", "/course/..", NULL), 0);
    assert_int_equal(web_route_match("/course/{course}", "/course/", NULL), 0);
    assert_int_equal(web_route_match("/course/{course}", "/course/a/b", NULL), 0);
    assert_int_equal(web_route_match("/course/{course}", "/course/.hidden", NULL), 0);
    assert_int_equal(web_route_match("/admin", "/admin/", NULL), 0);
    assert_int_equal(web_route_match("/admin", "/admin", NULL), 1);
}

/* ---- accounts ---- */

static void test_accounts_password_and_tokens(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct spool s = {dir};
    struct err e;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    assert_int_equal(mkdir(tmp, 0700), 0);
    assert_int_equal(accounts_add(&s, "ada", "short", false, &e), -1);
    assert_non_null(strstr(e.msg, "at least 8"));
    assert_int_equal(accounts_add(&s, "ada", "a good password", true, &e), 0);
    assert_int_equal(accounts_add(&s, "ada", "a good password", true, &e), -1);
    assert_int_equal(accounts_add(&s, "../x", "a good password", false, &e), -1);
    char token[ACCOUNT_TOKEN_LEN + 1];
    assert_int_equal(accounts_token_new(&s, "ada", token, &e), 0);
    struct stat st;
    char path[512];
    snprintf(path, sizeof path, "%s/users.json", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *users = accounts_load(&s, &e);
    assert_non_null(users);
    assert_true(accounts_verify(users, "ada", "a good password"));
    assert_false(accounts_verify(users, "ada", "a good passwore"));
    assert_false(accounts_verify(users, "nobody", "a good password"));
    assert_true(accounts_is_admin(users, "ada"));
    assert_string_equal(accounts_token_user(users, token), "ada");
    token[20] = token[20] == 'a' ? 'b' : 'a';
    assert_null(accounts_token_user(users, token));
    assert_null(accounts_token_user(users, "assay_"));
    const char *hash = json_string_value(json_object_get(json_object_get(users, "ada"), "password"));
    assert_non_null(strstr(hash, "$argon2id$"));
    json_decref(users);
    tu_rm_rf(dir);
    free(dir);
}

static void test_course_staff_fields_are_checked(void **state)
{
    (void)state;
    char *dir = tu_mkdtemp();
    struct spool s = {dir};
    char path[512];
    snprintf(path, sizeof path, "%s/courses", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/courses/cs1", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/courses/cs1/course.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"instructors\": [\"ada\"], \"tas\": \"tom\"}\n", f);
    fclose(f);
    struct course_config cfg;
    struct problems p = {0};
    assert_int_equal(course_config_load(&s, "cs1", &cfg, &p), -1);
    assert_int_equal(p.count, 1);
    assert_non_null(strstr(p.items[0], "courses/cs1/course.json"));
    assert_non_null(strstr(p.items[0], "\"tas\" must be a list of user names"));
    problems_free(&p);
    assert_int_equal(course_role_of(&s, "cs1", "ada"), COURSE_ROLE_INSTRUCTOR);
    assert_int_equal(course_role_of(&s, "cs1", "tom"), COURSE_ROLE_NONE);
    assert_int_equal(course_role_of(&s, "cs1", "../x"), COURSE_ROLE_NONE);
    f = fopen(path, "w");
    fputs("{\"instructors\": [\"ada\"], \"tas\": [\"tom\", 3]}\n", f);
    fclose(f);
    assert_int_equal(course_config_load(&s, "cs1", &cfg, &p), -1);
    assert_non_null(strstr(p.items[0], "\"tas\"[1] must be a user name"));
    problems_free(&p);
    assert_int_equal(course_role_of(&s, "cs1", "tom"), COURSE_ROLE_TA);
    tu_rm_rf(dir);
    free(dir);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_ids_are_random_and_found),
        cmocka_unit_test(test_session_idle_and_absolute_expiry),
        cmocka_unit_test(test_session_store_is_bounded),
        cmocka_unit_test(test_limiter_counts_failures_in_a_window),
        cmocka_unit_test(test_token_equal),
        cmocka_unit_test(test_html_escape),
        cmocka_unit_test(test_html_printf_escapes_strings_only),
        cmocka_unit_test(test_url_escape),
        cmocka_unit_test(test_access_decisions),
        cmocka_unit_test(test_route_patterns),
        cmocka_unit_test(test_accounts_password_and_tokens),
        cmocka_unit_test(test_course_staff_fields_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
