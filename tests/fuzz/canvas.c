/* canvas.c - libFuzzer target for what Canvas answers assay-deliver
 * (deliver/http.c's header reading, deliver/dest_canvas.c's judging):
 * the input is a status (its first two bytes), header lines up to an
 * empty line, then the body.  Against a spool made once (a course with
 * an lms block, a token and a recorded result), each input runs the
 * exchange of one delivery (or, when the status's high bit is set, a
 * batch of two) from begin through up to four answers, each the same
 * fuzzed one: a check, a PUT, a bulk POST, Progress polls.
 *   build-fuzz/fuzz/canvas tests/fuzz/corpus/canvas   (make fuzz runs it) */
#define _GNU_SOURCE
#include <string.h>

#include "common/jsonutil.h"
#include "deliver/destination.h"
#include "deliver/http.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

static struct spool spool;
static char *spool_dir;

static void put(const char *rel, const char *text, mode_t mode)
{
    struct err e;
    char *p = spool_path(&spool, "%s", rel), *dir = p ? strdup(p) : NULL;
    if (!dir)
        fuzz_die("out of memory", NULL);
    *strrchr(dir, '/') = '\0';
    if (fs_mkdir_p(dir, 0700, &e) < 0 || fs_write_file(p, text, strlen(text), false, &e) < 0 ||
        chmod(p, mode) < 0)
        fuzz_die("cannot make the spool", &e);
    free(dir);
    free(p);
}

static void remove_spool(void)
{
    struct err e;   /* at exit: a leftover in the temporary directory is only untidy */
    fs_remove_tree(spool_dir, &e);
}

static void make_spool(void)
{
    struct err e;
    if (fs_mkdtemp("/tmp", "assay-fuzz-canvas", &spool_dir, &e) < 0 ||
        spool_init(spool_dir, NULL, &e) < 0 || spool_open(&spool, spool_dir, &e) < 0)
        fuzz_die("cannot make the spool", &e);
    atexit(remove_spool);
    put("courses/c/course.json", "{\"lms\": {\"base_url\": \"https://canvas.example.edu\", "
        "\"course_id\": 7, \"token_file\": \"t\", \"assignments\": {\"a\": {\"assignment_id\": "
        "4}}}}", 0600);
    put("t", "token\n", 0600);
    put("courses/c/roster.json", "{\"students\": {\"u\": {\"id\": 3, \"sis_user_id\": \"S3\"}, "
        "\"v\": {\"id\": 4}}}", 0600);
    const char *students[] = {"u", "v"};
    for (int i = 0; i < 2; i++) {
        char rel[100];
        snprintf(rel, sizeof rel, "results/c/a/%s/1/results.json", students[i]);
        put(rel, "{\"score\": 1.5, \"max_score\": 2, \"tests\": [], \"assay\": {\"status\": "
            "\"graded\"}}", 0600);
    }
}

static void load(struct delivery *d, const char *student, int n)
{
    char key[20];
    snprintf(key, sizeof key, "J.%d.canvas", n);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:b}", "key", key, "destination",
                          "canvas", "course", "c", "assignment", "a", "student", student,
                          "job_id", "J", "version", 1, "unsure", n == 0);
    struct err e;
    if (!j || delivery_from_json(j, d, &e) < 0)
        fuzz_die("cannot make a delivery", &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!spool_dir)
        make_spool();
    if (len < 2)
        return 0;
    unsigned code = (unsigned)data[0] << 8 | data[1];
    const char *rest = (const char *)data + 2, *end = rest + (len - 2);
    struct http_headers h = {.rate_remaining = -1};
    const char *p = rest;
    while (p < end) {   /* header lines up to an empty one */
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n == 0) {
            p++;
            break;
        }
        http_header_line(&h, p, n);
        p += n + (nl != NULL);
    }
    struct delivery d[2];
    struct dest_item items[2] = {{0}};
    load(&d[0], "u", 0);
    load(&d[1], "v", 1);
    items[0].d = &d[0];
    items[1].d = &d[1];
    struct dest_exchange x = {.kind = dest_find("canvas"), .spool = &spool, .course = "c",
                              .items = items, .n = code & 0x8000 ? 2 : 1};
    dest_retry_defaults(&x.retry);
    struct dest_answer a = {.status = (long)(code & 0x3ff), .error = "fuzz", .body = p,
                            .len = (size_t)(end - p), .retry_after = h.retry_after,
                            .rate_remaining = h.rate_remaining, .link_next = h.link_next,
                            .www_authenticate = h.www_authenticate};
    enum dest_step s = x.kind->begin(&x);
    for (int i = 0; i < 4 && s == DEST_SEND; i++)
        s = x.kind->answer(&x, &a);
    x.kind->end(&x);
    dest_request_clear(&x.req);
    http_headers_free(&h);
    delivery_free(&d[0]);
    delivery_free(&d[1]);
    return 0;
}
