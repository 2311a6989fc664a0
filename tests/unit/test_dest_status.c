/* test_dest_status.c - unit tests for the commit-status destinations
 * (deliver/dest_github.c, dest_gitlab.c, commit_status.c) without a
 * network: a spool with forges.json, a token file and a recorded result;
 * each test runs begin, checks the exact request (method, URL, JSON
 * body, Accept, token), feeds an answer and checks how the delivery is
 * settled; a job's statuses go in order (one waits for an earlier
 * unsent one, one is dropped once a later one was sent). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include "common/fs.h"
#include "common/jsonutil.h"
#include "deliver/destination.h"
#include "spool/delivery.h"
#include "spool/spool.h"

#define SHA "3f2a9c1d0b7e3f2a9c1d0b7e3f2a9c1d0b7e3f2a"

struct fixture {
    char *dir;
    struct spool s;
    struct delivery d;
    struct dest_item item;
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

static void add_result(struct fixture *f, const char *job, double score, const char *error)
{
    char text[800];
    snprintf(text, sizeof text, "{\"score\": %g, \"max_score\": 10, \"tests\": [], \"assay\": "
             "{\"status\": \"%s\", \"job_id\": \"%s\", \"error\": %s}}", score,
             error ? "error" : "graded", job, error ? error : "null");
    write_rel(&f->s, "results/cs101/hw1/ada/1/results.json", text, 0600);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    f->dir = tu_mkdtemp();
    char *root = tu_path(f->dir, "spool");
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(&f->s, root, &e), 0);
    free(root);
    write_rel(&f->s, "forges.json", "{\"github\": {\"secret_file\": \"s\", \"token_file\": "
              "\"gh.token\", \"result_url\": \"https://assay.example.edu/r/{course}/"
              "{assignment}/{student}/{version}\"}, \"gitlab\": {\"secret_file\": \"s\", "
              "\"token_file\": \"gl.token\", \"api_url\": \"https://git.example.edu/api/v4/\"}}",
              0644);
    write_rel(&f->s, "gh.token", "ghp-token\n", 0600);
    write_rel(&f->s, "gl.token", "glpat-token\n", 0600);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->x.kind)
        f->x.kind->end(&f->x);
    dest_request_clear(&f->x.req);
    delivery_free(&f->d);
    spool_close(&f->s);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* The delivery KEY (phase PHASE or NULL) of job J to FORGE, ready to begin. */
static void load(struct fixture *f, const char *forge, const char *key, const char *phase,
                 const char *reason)
{
    struct err e;
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:{s:s, s:s, s:s, s:i}}",
                          "key", key, "destination", forge, "course", "cs101",
                          "assignment", "hw1", "student", "ada", "job_id", "J", "version", 1,
                          "origin", "forge", forge, "repository", "cs101-org/hw1-ada",
                          "sha", SHA, "project_id", 77);
    if (phase)
        json_object_set_new(j, "phase", json_string(phase));
    if (reason)
        json_object_set_new(j, "reason", json_string(reason));
    delivery_free(&f->d);
    assert_int_equal(delivery_from_json(j, &f->d, &e), 0);
    memset(&f->item, 0, sizeof f->item);
    f->item.d = &f->d;
    dest_request_clear(&f->x.req);
    f->x = (struct dest_exchange){.kind = dest_find(forge), .spool = &f->s, .course = "cs101",
                                  .items = &f->item, .n = 1};
    dest_retry_defaults(&f->x.retry);
}

static json_t *body(struct fixture *f)
{
    struct err e;
    json_t *b = jsonutil_load_text(f->x.req.body, strlen(f->x.req.body), "body", &e);
    assert_non_null(b);
    return b;
}

static struct dest_answer answer(long status, const char *text)
{
    return (struct dest_answer){.status = status, .body = text, .len = strlen(text),
                                .rate_remaining = -1};
}

static void test_github_result_status(void **state)
{
    struct fixture *f = *state;
    add_result(f, "J", 7.5, NULL);
    load(f, "github", "J.1.github", NULL, NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    assert_string_equal(f->x.req.method, "POST");
    assert_string_equal(f->x.req.url, "https://api.github.com/repos/cs101-org/hw1-ada/statuses/"
                        SHA);
    assert_string_equal(f->x.req.accept, "application/vnd.github+json");
    assert_string_equal(f->x.req.content_type, "application/json");
    assert_string_equal(f->x.req.token, "ghp-token");
    json_t *b = body(f);
    assert_string_equal(jsonutil_str(b, "state", ""), "failure");
    assert_string_equal(jsonutil_str(b, "description", ""), "Points 7.5/10");
    assert_string_equal(jsonutil_str(b, "context", ""), "assay/hw1");
    assert_string_equal(jsonutil_str(b, "target_url", ""),
                        "https://assay.example.edu/r/cs101/hw1/ada/1");
    assert_int_equal(json_object_size(b), 4);
    json_decref(b);
    struct dest_answer a = answer(201, "{}");
    assert_int_equal(f->x.kind->answer(&f->x, &a), DEST_SETTLED);
    assert_int_equal(f->item.state, DEST_ITEM_DONE);
}

static void test_github_answers(void **state)
{
    struct fixture *f = *state;
    add_result(f, "J", 10, NULL);
    const long statuses[] = {0, 502, 401, 404};
    const enum dest_item_state want[] = {DEST_ITEM_RETRY, DEST_ITEM_RETRY, DEST_ITEM_DEAD,
                                         DEST_ITEM_DEAD};
    for (int i = 0; i < 4; i++) {
        load(f, "github", "J.1.github", NULL, NULL);
        assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
        json_t *b = body(f);
        assert_string_equal(jsonutil_str(b, "state", ""), "success");
        assert_string_equal(jsonutil_str(b, "description", ""), "Points 10/10");
        json_decref(b);
        struct dest_answer a = answer(statuses[i], "{\"message\": \"Bad credentials\"}");
        a.error = "Connection refused";
        f->x.kind->answer(&f->x, &a);
        assert_int_equal(f->item.state, want[i]);
        assert_null(strstr(f->item.note, "ghp-token"));
    }
    assert_string_equal(f->item.category, "refused");
}

static void test_error_results(void **state)
{
    struct fixture *f = *state;
    add_result(f, "J", 0, "{\"category\": \"infrastructure\", \"message\": \"The worker "
               "lab2 stopped answering.\"}");
    load(f, "github", "J.1.github", NULL, NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    json_t *b = body(f);
    assert_string_equal(jsonutil_str(b, "state", ""), "error");
    assert_string_equal(jsonutil_str(b, "description", ""), "Assay could not grade this commit "
                        "(infrastructure): The worker lab2 stopped answering.");
    json_decref(b);
    /* a refused commit: failure, the reason cut to GitHub's 140 characters */
    load(f, "github", "K.refused.github", "refused", "Assay refused the commit 3f2a9c1d0b7e: "
         "entry \"hw1-ada-3f2a9c1/notes.txt\" is a symbolic link or special file; submit "
         "regular files only (and more words here so that it is longer than GitHub allows)");
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    b = body(f);
    assert_string_equal(jsonutil_str(b, "state", ""), "failure");
    const char *desc = jsonutil_str(b, "description", "");
    assert_int_equal(strlen(desc), 140);
    assert_string_equal(desc + 137, "...");
    json_decref(b);
}

static void test_gitlab_phases_in_order(void **state)
{
    struct fixture *f = *state;
    struct err e;
    /* running waits while pending is unsent */
    write_rel(&f->s, "deliveries/pending/J.pending.gitlab.json", "{}", 0600);
    load(f, "gitlab", "J.running.gitlab", "running", NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->item.state, DEST_ITEM_RETRY);
    /* pending goes */
    char *p = spool_path(&f->s, "deliveries/pending/J.pending.gitlab.json");
    unlink(p);
    free(p);
    load(f, "gitlab", "J.pending.gitlab", "pending", NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SEND);
    assert_string_equal(f->x.req.url, "https://git.example.edu/api/v4/projects/77/statuses/" SHA);
    assert_string_equal(f->x.req.token, "glpat-token");
    json_t *b = body(f);
    assert_string_equal(jsonutil_str(b, "state", ""), "pending");
    assert_string_equal(jsonutil_str(b, "name", ""), "assay/hw1");
    assert_string_equal(jsonutil_str(b, "description", ""), "Queued for grading");
    json_decref(b);
    /* GitLab refusing the state the commit already has: it was sent */
    struct dest_answer a = answer(400, "{\"message\": \"Cannot transition status via :enqueue "
                                       "from :pending\"}");
    f->x.kind->answer(&f->x, &a);
    assert_int_equal(f->item.state, DEST_ITEM_DONE);
    /* once the result's status was sent, a late running is dropped */
    write_rel(&f->s, "deliveries/done/J.1.gitlab.json", "{}", 0600);
    load(f, "gitlab", "J.running.gitlab", "running", NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->item.state, DEST_ITEM_DONE);
    assert_string_equal(f->item.note, "not sent: a later status of the commit was sent first");
    (void)e;
}

static void test_token_file_others_may_read(void **state)
{
    struct fixture *f = *state;
    add_result(f, "J", 10, NULL);
    char *p = spool_path(&f->s, "gh.token");
    chmod(p, 0644);
    free(p);
    load(f, "github", "J.1.github", NULL, NULL);
    assert_int_equal(f->x.kind->begin(&f->x), DEST_SETTLED);
    assert_int_equal(f->item.state, DEST_ITEM_DEAD);
    assert_string_equal(f->item.category, "token");
    assert_non_null(strstr(f->item.note, "make it private: chmod 600"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_github_result_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_github_answers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_results, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gitlab_phases_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_file_others_may_read, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
