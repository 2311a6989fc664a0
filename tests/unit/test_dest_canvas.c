/* test_dest_canvas.c - unit tests for the Canvas destination
 * (deliver/dest_canvas.c) without a network: each test builds a spool
 * with a recorded result and an lms block, runs begin, checks the exact
 * request (method, URL, form body, token), feeds it an answer and checks
 * how the items are settled: done, retried (throttled, 5xx, no answer,
 * unsure), dead with the reason's category; a possibly-sent delivery is
 * looked for first; a regrade's batch is one update_grades POST whose
 * Progress is polled; a mistake in the block or a token file others may
 * read settles every item dead with the fix; the answer headers a server
 * sends (Retry-After, X-Rate-Limit-Remaining) are read within bounds,
 * whatever number they carry. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "deliver/destination.h"
#include "deliver/http.h"
#include "spool/delivery.h"
#include "spool/spool.h"

struct fixture {
    char *dir;
    struct spool s;
    struct delivery d[3];
    struct dest_item items[3];
    struct dest_exchange x;
};

static void write_rel(struct spool *s, const char *rel, const char *text, mode_t mode)
{
    char *p = spool_path(s, "%s", rel);
    char *parent = strdup(p);
    *strrchr(parent, '/') = '\0';
    struct err e;
    assert_int_equal(fs_mkdir_p(parent, 0755, &e), 0);
    tu_write(p, text, strlen(text));
    chmod(p, mode);
    free(parent);
    free(p);
}

static void add_result(struct spool *s, const char *student, double score)
{
    char rel[200], text[600];
    snprintf(rel, sizeof rel, "results/cs101/hw1/%s/1/results.json", student);
    snprintf(text, sizeof text, "{\"score\": %g, \"max_score\": 2, \"tests\": [], \"assay\": "
             "{\"status\": \"graded\", \"submitted_at\": \"2026-11-01T10:00:00Z\"}}", score);
    write_rel(s, rel, text, 0600);
    snprintf(rel, sizeof rel, "results/cs101/hw1/%s/1/results.student.json", student);
    snprintf(text, sizeof text, "{\"score\": %g, \"max_score\": 2, \"tests\": [{\"name\": "
             "\"says hi\", \"score\": %g, \"max_score\": 2}]}", score, score);
    write_rel(s, rel, text, 0600);
}

static void set_lms(struct fixture *f, const char *extra)
{
    char text[1000];
    snprintf(text, sizeof text, "{\"lms\": {\"base_url\": \"https://canvas.example.edu\", "
             "\"course_id\": 7, \"token_file\": \"canvas.token\", \"assignments\": "
             "{\"hw1\": {\"assignment_id\": 42}}%s}}", extra);
    write_rel(&f->s, "courses/cs101/course.json", text, 0644);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    struct err e;
    char *root = tu_path(f->dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(&f->s, root, &e), 0);
    free(root);
    set_lms(f, "");
    write_rel(&f->s, "canvas.token", "s3cret-token\n", 0600);
    const char *students[] = {"ada", "bo", "cy"};
    for (int i = 0; i < 3; i++) {
        add_result(&f->s, students[i], 2);
        char key[64];
        snprintf(key, sizeof key, "J%d.1.canvas", i);
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i}", "key", key,
                              "destination", "canvas", "course", "cs101", "assignment", "hw1",
                              "student", students[i], "job_id", "J", "version", 1);
        assert_int_equal(delivery_from_json(j, &f->d[i], &e), 0);
        f->items[i].d = &f->d[i];
    }
    f->x = (struct dest_exchange){.kind = dest_find("canvas"), .spool = &f->s, .course = "cs101",
                                  .items = f->items, .n = 1};
    dest_retry_defaults(&f->x.retry);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    f->x.kind->end(&f->x);
    dest_request_clear(&f->x.req);
    for (int i = 0; i < 3; i++)
        delivery_free(&f->d[i]);
    spool_close(&f->s);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static struct dest_answer answer(long status, const char *body)
{
    return (struct dest_answer){.status = status, .body = body, .len = strlen(body),
                                .rate_remaining = -1};
}

static void test_one_grade_is_one_put(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    assert_string_equal(f->x.req.method, "PUT");
    assert_string_equal(f->x.req.url, "https://canvas.example.edu/api/v1/courses/7/assignments/"
                        "42/submissions/sis_login_id:ada");
    assert_string_equal(f->x.req.content_type, "application/x-www-form-urlencoded");
    assert_string_equal(f->x.req.token, "s3cret-token");
    assert_true(f->x.req.changes);
    assert_string_equal(f->x.req.body, "submission%5Bposted_grade%5D=2&comment%5Btext_comment%5D="
                        "Assay%3A%202%20%2F%202%20points%20%28version%201%29.%0Asays%20hi%3A%20"
                        "2%20%2F%202%0A%28ref%20J0.1.canvas%29");
    struct dest_answer a = answer(200, "{}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DONE);
    assert_string_equal(f->items[0].note, "grade 2 sent to Canvas for sis_login_id:ada with a "
                        "comment");
}

static void test_answers_judged(void **state)
{
    struct fixture *f = *state;
    struct {
        long status;
        long remaining;
        enum dest_item_state want;
        const char *category;
        const char *note_starts;
    } cases[] = {
        {503, -1, DEST_ITEM_RETRY, NULL, "Canvas answered 503: {\"errors\": 1}"},
        {429, -1, DEST_ITEM_RETRY, NULL, "Canvas answered 429"},
        {403, 0, DEST_ITEM_RETRY, NULL, "throttled by Canvas (403, X-Rate-Limit-Remaining: 0)"},
        {403, 5, DEST_ITEM_DEAD, "refused", "Canvas refused the grade (403: {\"errors\": 1})"},
        {401, -1, DEST_ITEM_DEAD, "token", "Canvas refused the token in canvas.token (401: "},
        {404, -1, DEST_ITEM_DEAD, "unknown_student", "Canvas course 7 has no student "
                                                     "sis_login_id:ada or no assignment 42"},
        {422, -1, DEST_ITEM_DEAD, "refused", "Canvas refused the grade (422"},
        {0, -1, DEST_ITEM_RETRY, NULL, "no answer from Canvas: Connection reset"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        f->items[0].state = DEST_ITEM_OPEN;
        f->items[0].unsure = false;
        assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
        struct dest_answer a = answer(cases[i].status, "{\"errors\": 1}");
        a.rate_remaining = cases[i].remaining;
        a.error = "Connection reset";
        assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SETTLED);
        assert_int_equal(f->items[0].state, cases[i].want);
        if (cases[i].category)
            assert_string_equal(f->items[0].category, cases[i].category);
        if (strncmp(f->items[0].note, cases[i].note_starts, strlen(cases[i].note_starts)))
            fail_msg("status %ld: note \"%s\"", cases[i].status, f->items[0].note);
        /* no answer to a PUT: it may have arrived */
        assert_int_equal(f->items[0].unsure, cases[i].status == 0);
        assert_null(strstr(f->items[0].note, "s3cret"));
        f->x.kind->end(&f->x);
    }
}

static void test_a_possibly_sent_grade_is_looked_for_first(void **state)
{
    struct fixture *f = *state;
    json_object_set_new(f->d[0].json, "unsure", json_true());
    f->d[0].unsure = true;
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    assert_string_equal(f->x.req.method, "GET");
    assert_string_equal(f->x.req.url, "https://canvas.example.edu/api/v1/courses/7/assignments/"
                        "42/submissions/sis_login_id:ada?include%5B%5D=submission_comments");
    assert_false(f->x.req.changes);
    /* not there: the PUT follows */
    struct dest_answer a = answer(200, "{\"submission_comments\": [{\"comment\": \"hello\"}]}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SEND);
    assert_string_equal(f->x.req.method, "PUT");
    f->x.kind->end(&f->x);
    /* there: done without sending */
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    a = answer(200, "{\"submission_comments\": [{\"comment\": \"Assay: 2 / 2\\n(ref J0.1.canvas)\"}]}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DONE);
    assert_true(strstr(f->items[0].note, "was already in Canvas") != NULL);
}

static void test_a_batch_is_one_update_grades_polled(void **state)
{
    struct fixture *f = *state;
    write_rel(&f->s, "courses/cs101/roster.json", "{\"students\": {\"ada\": {\"id\": 11, "
              "\"sis_user_id\": \"S11\"}, \"bo\": {\"id\": 12, \"sis_user_id\": \"S12\"}}}", 0600);
    set_lms(f, ", \"comment\": false");
    f->x.n = 3;
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    /* cy is not in the roster: named, and left out of the request */
    assert_int_equal(f->items[2].state, DEST_ITEM_DEAD);
    assert_string_equal(f->items[2].category, "unknown_student");
    assert_true(!strncmp(f->items[2].note, "cy is not in the Canvas roster of course 7", 41));
    assert_string_equal(f->x.req.method, "POST");
    assert_string_equal(f->x.req.url, "https://canvas.example.edu/api/v1/courses/7/assignments/"
                        "42/submissions/update_grades");
    assert_string_equal(f->x.req.body, "grade_data%5Bsis_user_id:S11%5D%5Bposted_grade%5D=2&"
                        "grade_data%5Bsis_user_id:S12%5D%5Bposted_grade%5D=2");
    struct dest_answer a = answer(200, "{\"id\": 9, \"workflow_state\": \"queued\", \"url\": "
                                  "\"https://canvas.example.edu/api/v1/progress/9\"}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SEND);
    assert_string_equal(f->x.req.method, "GET");
    assert_string_equal(f->x.req.url, "https://canvas.example.edu/api/v1/progress/9");
    assert_true(f->x.req.delay_s > 0);
    a = answer(200, "{\"id\": 9, \"workflow_state\": \"running\"}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SEND);
    a = answer(200, "{\"id\": 9, \"workflow_state\": \"completed\"}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DONE);
    assert_int_equal(f->items[1].state, DEST_ITEM_DONE);
    assert_true(strstr(f->items[0].note, "Progress 9 completed") != NULL);
}

static void test_mistakes_are_dead_with_the_fix(void **state)
{
    struct fixture *f = *state;
    write_rel(&f->s, "courses/cs101/course.json", "{\"lms\": {\"base_url\": "
              "\"http://canvas.example.edu\", \"course_id\": 7, \"token_file\": \"canvas.token\", "
              "\"assignments\": {\"hw1\": {\"assignment_id\": 42}}}}", 0644);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DEAD);
    assert_string_equal(f->items[0].category, "config");
    assert_true(!strncmp(f->items[0].note, "courses/cs101/course.json: $.lms.base_url: "
                         "\"http://canvas.example.edu\" must start with https://", 80));
    f->x.kind->end(&f->x);
    set_lms(f, "");
    char *token = spool_path(&f->s, "canvas.token");
    chmod(token, 0640);
    f->items[0].state = DEST_ITEM_OPEN;
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DEAD);
    char want[600];
    snprintf(want, sizeof want, "the token file %s may be read by others (mode 0640); to fix: "
             "chmod 600 %s", token, token);
    assert_true(!strncmp(f->items[0].note, want, strlen(want)));
    free(token);
    /* an assignment Canvas does not get: done, saying so */
    f->x.kind->end(&f->x);
    write_rel(&f->s, "courses/cs101/course.json", "{\"lms\": {\"base_url\": "
              "\"https://canvas.example.edu\", \"course_id\": 7, \"token_file\": \"canvas.token\", "
              "\"assignments\": {}}}", 0644);
    f->items[0].state = DEST_ITEM_OPEN;
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->items[0].state, DEST_ITEM_DONE);
    assert_string_equal(f->items[0].note, "nothing sent: lms.assignments in "
                        "courses/cs101/course.json has no entry for hw1");
}

static void header(struct http_headers *h, const char *line)
{
    http_header_line(h, line, strlen(line));
}

static void test_answer_headers_are_kept_in_bounds(void **state)
{
    (void)state;
    struct http_headers h = {0};
    http_headers_free(&h);
    assert_int_equal(h.rate_remaining, -1);
    header(&h, "X-Rate-Limit-Remaining: 700.25\r\n");
    assert_int_equal(h.rate_remaining, 700);
    header(&h, "x-rate-limit-remaining: 10000000000000000000000000002.5\r\n");
    assert_int_equal(h.rate_remaining, 1000000000);
    header(&h, "X-Rate-Limit-Remaining: -5\r\n");
    assert_int_equal(h.rate_remaining, 0);
    header(&h, "X-Rate-Limit-Remaining: nan\r\n");
    assert_int_equal(h.rate_remaining, 0);
    header(&h, "Retry-After: 3\r\n");
    assert_true(h.retry_after == 3);
    header(&h, "Retry-After: inf\r\n");
    assert_true(h.retry_after == 86400);
    header(&h, "Retry-After: Wed, 21 Oct 2026 07:28:00 GMT\r\n");
    assert_true(h.retry_after == 0);
    header(&h, "HTTP/1.1 200 OK\r\n");   /* a new answer forgets the last's */
    assert_int_equal(h.rate_remaining, -1);
    http_headers_free(&h);
}

int main(void)
{
    log_open("test", NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_grade_is_one_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_judged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_possibly_sent_grade_is_looked_for_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_batch_is_one_update_grades_polled, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mistakes_are_dead_with_the_fix, setup, teardown),
        cmocka_unit_test(test_answer_headers_are_kept_in_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
