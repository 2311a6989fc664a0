/* test_hooks.c - unit tests for the webhook endpoints (web/hooks*.c)
 * without an HTTP server: a real spool, forges.json with secrets in
 * private files, a course mapping repositories, and requests made of
 * headers and a raw body, signed here with libsodium. */
#define _GNU_SOURCE
#include "testutil.h"

#include <sodium.h>

#include "common/fs.h"
#include "common/log.h"
#include "spool/course.h"
#include "spool/pushes.h"
#include "web/hooks.h"

#define SECRET "It's a Secret to Everybody"
#define GL_TOKEN "gl-hook-token-1234"
#define SHA "0123456789abcdef0123456789abcdef01234567"

struct fixture {
    char *dir;
    struct spool s;
};

struct req {
    const char *names[8], *values[8];
    int n;
};

static const char *req_header(void *ctx, const char *name)
{
    struct req *r = ctx;
    for (int i = 0; i < r->n; i++)
        if (!strcasecmp(r->names[i], name))
            return r->values[i];
    return NULL;
}

static void add(struct req *r, const char *name, const char *value)
{
    r->names[r->n] = name;
    r->values[r->n++] = value;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    struct err e;
    f->dir = tu_mkdtemp();
    assert_int_equal(spool_init(f->dir, NULL, &e), 0);
    assert_int_equal(spool_open(&f->s, f->dir, &e), 0);
    char path[512], text[2048];
    snprintf(path, sizeof path, "%s/gh.secret", f->dir);
    write_text(path, SECRET "\n", 0600);
    snprintf(path, sizeof path, "%s/gl.secret", f->dir);
    write_text(path, GL_TOKEN "\n", 0600);
    snprintf(path, sizeof path, "%s/forges.json", f->dir);
    snprintf(text, sizeof text,
             "{\"github\": {\"secret_file\": \"gh.secret\", \"token_file\": \"gh.token\"},"
             " \"gitlab\": {\"secret_file\": \"%s/gl.secret\", \"token_file\": \"gl.token\","
             " \"api_url\": \"https://gitlab.example.edu/api/v4/\"}}", f->dir);
    write_text(path, text, 0644);
    snprintf(path, sizeof path, "%s/courses/cs101/hw1", f->dir);
    assert_int_equal(fs_mkdir_p(path, 0755, &e), 0);
    snprintf(path, sizeof path, "%s/courses/cs101/hw1/assignment.json", f->dir);
    write_text(path, "{\"assay\": 1, \"title\": \"t\", \"tests\": []}", 0644);
    snprintf(path, sizeof path, "%s/courses/cs101/course.json", f->dir);
    write_text(path, "{\"git\": {\"github\": \"cs101-org\", \"gitlab\": \"cs/cs101\","
               " \"students\": {\"octo-ada\": \"ada\"}}}", 0644);
    log_open("test_hooks", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    spool_close(&f->s);
    tu_rm_rf(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

static char *github_body(const char *repo, const char *ref)
{
    char *b = NULL;
    assert_true(asprintf(&b, "{\"ref\": \"%s\", \"after\": \"%s\", \"repository\": "
                         "{\"full_name\": \"%s\", \"default_branch\": \"main\"}, "
                         "\"pusher\": {\"name\": \"octo-ada\"}}", ref, SHA, repo) > 0);
    return b;
}

static void sign(const char *key, const char *body, char out[80])
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
    crypto_auth_hmacsha256_final(&st, mac);
    strcpy(out, "sha256=");
    sodium_bin2hex(out + 7, 73, mac, sizeof mac);
}

static struct hook_reply post(struct fixture *f, const struct hook_kind *k, struct req *r,
                              const char *body)
{
    struct hook_request rq = {.header = req_header, .ctx = r, .body = body, .len = strlen(body)};
    struct hook_reply out;
    hook_handle(&f->s, k, &rq, &out);
    return out;
}

static size_t queued(struct fixture *f)
{
    struct fs_list l = {0};
    assert_int_equal(pushes_list(&f->s, &l), 0);
    size_t n = l.n;
    fs_list_free(&l);
    return n;
}

static struct hook_reply github_push(struct fixture *f, const char *repo, const char *ref,
                                     const char *key, const char *delivery)
{
    char *body = github_body(repo, ref);
    char sig[80];
    sign(key, body, sig);
    struct req r = {0};
    add(&r, "X-GitHub-Event", "push");
    add(&r, "X-GitHub-Delivery", delivery);
    add(&r, "X-Hub-Signature-256", sig);
    struct hook_reply out = post(f, &hook_github, &r, body);
    free(body);
    return out;
}

static void test_routes(void **state)
{
    (void)state;
    assert_ptr_equal(hook_find_route("/hooks/github"), &hook_github);
    assert_ptr_equal(hook_find_route("/hooks/gitlab"), &hook_gitlab);
    assert_null(hook_find_route("/hooks/bitbucket"));
}

static void test_github_push_queued_once(void **state)
{
    struct fixture *f = *state;
    struct hook_reply out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                                        "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_int_equal(out.status, 202);
    assert_string_equal(out.text, "queued: github-72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_int_equal(queued(f), 1);
    json_t *push;
    struct err e;
    assert_int_equal(pushes_load(&f->s, "github-72d3162e-cc78-11e3-81ab-4c9367dc0958", &push,
                                 &e), 0);
    assert_string_equal(json_string_value(json_object_get(push, "course")), "cs101");
    assert_string_equal(json_string_value(json_object_get(push, "assignment")), "hw1");
    assert_string_equal(json_string_value(json_object_get(push, "student")), "ada");
    assert_string_equal(json_string_value(json_object_get(push, "sha")), SHA);
    assert_string_equal(json_string_value(json_object_get(push, "repository")),
                        "cs101-org/hw1-octo-ada");
    json_decref(push);
    /* the same delivery again: a repeat, still one push */
    out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                      "72d3162e-cc78-11e3-81ab-4c9367dc0958");
    assert_int_equal(out.status, 200);
    assert_int_equal(queued(f), 1);
}

static void test_github_forged(void **state)
{
    struct fixture *f = *state;
    struct hook_reply out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main",
                                        "not the secret", "d1");
    assert_int_equal(out.status, 401);
    assert_string_equal(out.text,
                        "X-Hub-Signature-256 does not match the body signed with the secret");
    /* a signature of another body */
    char *body = github_body("cs101-org/hw1-octo-ada", "refs/heads/main"), sig[80];
    sign(SECRET, "{}", sig);
    struct req r = {0};
    add(&r, "X-GitHub-Event", "push");
    add(&r, "X-Hub-Signature-256", sig);
    assert_int_equal(post(f, &hook_github, &r, body).status, 401);
    /* none at all, and a malformed one */
    struct req none = {0};
    add(&none, "X-GitHub-Event", "push");
    out = post(f, &hook_github, &none, body);
    assert_int_equal(out.status, 401);
    assert_non_null(strstr(out.text, "no X-Hub-Signature-256"));
    r.values[1] = "sha256=zz";
    assert_int_equal(post(f, &hook_github, &r, body).status, 401);
    free(body);
    assert_int_equal(queued(f), 0);
}

static void test_github_not_graded(void **state)
{
    struct fixture *f = *state;
    struct hook_reply out = github_push(f, "someone/hw1-octo-ada", "refs/heads/main", SECRET,
                                        "d2");
    assert_int_equal(out.status, 202);
    assert_non_null(strstr(out.text, "not graded: no course maps the GitHub repository "
                                     "someone/hw1-octo-ada"));
    out = github_push(f, "cs101-org/hw9-octo-ada", "refs/heads/main", SECRET, "d3");
    assert_int_equal(out.status, 202);   /* no assignment hw9 */
    out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/feature", SECRET, "d4");
    assert_int_equal(out.status, 202);
    assert_string_equal(out.text, "not graded: only pushes to the default branch (main) are");
    /* a ping when the hook is made */
    char sig[80];
    sign(SECRET, "{\"zen\": \"Keep it simple.\"}", sig);
    struct req r = {0};
    add(&r, "X-GitHub-Event", "ping");
    add(&r, "X-Hub-Signature-256", sig);
    assert_int_equal(post(f, &hook_github, &r, "{\"zen\": \"Keep it simple.\"}").status, 200);
    assert_int_equal(queued(f), 0);
}

static struct hook_reply gitlab_push(struct fixture *f, const char *token, const char *body)
{
    struct req r = {0};
    add(&r, "X-Gitlab-Event", "Push Hook");
    add(&r, "Idempotency-Key", "f6f1c1a4-6c0e-4d8e-9d61-0e1f0d1c2b3a");
    if (token)
        add(&r, "X-Gitlab-Token", token);
    return post(f, &hook_gitlab, &r, body);
}

static const char GL_BODY[] =
    "{\"object_kind\": \"push\", \"ref\": \"refs/heads/main\", \"after\": \"" SHA "\","
    " \"user_username\": \"octo-ada\", \"project\": {\"id\": 42,"
    " \"path_with_namespace\": \"cs/cs101/hw1-octo-ada\", \"default_branch\": \"main\"}}";

static void test_gitlab(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(gitlab_push(f, "wrong", GL_BODY).status, 401);
    assert_int_equal(gitlab_push(f, GL_TOKEN "x", GL_BODY).status, 401);
    assert_int_equal(gitlab_push(f, NULL, GL_BODY).status, 401);
    assert_int_equal(queued(f), 0);
    /* a payload it cannot grade: 200, never a 4xx that would disable the hook */
    assert_int_equal(gitlab_push(f, GL_TOKEN, "{\"ref\": 3}").status, 200);
    assert_int_equal(gitlab_push(f, GL_TOKEN, "not json").status, 200);
    struct hook_reply out = gitlab_push(f, GL_TOKEN, GL_BODY);
    assert_int_equal(out.status, 202);
    assert_string_equal(out.text, "queued: gitlab-f6f1c1a4-6c0e-4d8e-9d61-0e1f0d1c2b3a");
    assert_int_equal(gitlab_push(f, GL_TOKEN, GL_BODY).status, 200);
    assert_int_equal(queued(f), 1);
    json_t *push;
    struct err e;
    assert_int_equal(pushes_load(&f->s, "gitlab-f6f1c1a4-6c0e-4d8e-9d61-0e1f0d1c2b3a", &push,
                                 &e), 0);
    assert_int_equal(json_integer_value(json_object_get(push, "project_id")), 42);
    assert_string_equal(json_string_value(json_object_get(push, "student")), "ada");
    json_decref(push);
}

static void test_secret_file_rules(void **state)
{
    struct fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/gh.secret", f->dir);
    chmod(path, 0644);   /* readable by others: refused, and said; never a 2xx */
    struct hook_reply out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                                        "d9");
    assert_int_equal(out.status, 503);
    assert_int_equal(queued(f), 0);
    struct err e;
    assert_null(fs_read_secret(path, "GitHub webhook secret", &e));
    assert_non_null(strstr(e.msg, "may be read by others (mode 0644); make it private: chmod 600"));
    assert_null(strstr(e.msg, SECRET));
}

static void test_settled_push_is_a_repeat(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                                 "d5").status, 202);
    json_t *push;
    struct err e;
    assert_int_equal(pushes_load(&f->s, "github-d5", &push, &e), 0);
    assert_int_equal(pushes_done(&f->s, "github-d5", push, "submitted", &e), 0);
    json_decref(push);
    assert_int_equal(queued(f), 0);
    assert_int_equal(github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                                 "d5").status, 200);
    assert_int_equal(queued(f), 0);
}

static void test_course_git_block_checked(void **state)
{
    struct fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/courses/cs101/course.json", f->dir);
    write_text(path, "{\"git\": {\"github\": 3, \"students\": {\"octo\": \"a b\"}, "
               "\"repository\": {}}}", 0644);
    struct course_config cfg;
    struct problems p = {0};
    assert_int_equal(course_config_load(&f->s, "cs101", &cfg, &p), -1);
    assert_int_equal(p.count, 3);
    assert_string_equal(p.items[0], "courses/cs101/course.json: $.git.repository: unknown key "
                        "(is it misspelt?)");
    assert_string_equal(p.items[1], "courses/cs101/course.json: $.git.github: must be a string, "
                        "not a number");
    assert_string_equal(p.items[2], "courses/cs101/course.json: $.git.students: \"octo\" must "
                        "map to a name of letters, digits, - _ . @");
    problems_free(&p);
    /* and a push to it is not graded, naming the broken file */
    struct hook_reply out = github_push(f, "cs101-org/hw1-octo-ada", "refs/heads/main", SECRET,
                                        "d7");
    assert_int_equal(out.status, 202);
    assert_non_null(strstr(out.text, "courses/cs101/course.json was skipped"));
}

int main(void)
{
    assert_true(sodium_init() >= 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes),
        cmocka_unit_test_setup_teardown(test_github_push_queued_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_github_forged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_github_not_graded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gitlab, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settled_push_is_a_repeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_course_git_block_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
