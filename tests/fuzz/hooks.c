/* hooks.c - libFuzzer target for webhook requests (web/hooks*.c): the
 * input's first byte picks the forge (bit 0: GitHub or GitLab) and
 * whether the request carries the right secret (bit 1: a true
 * X-Hub-Signature-256 of the body, or the true X-Gitlab-Token, so the
 * fuzzed payload gets past verification), then come header lines up to
 * an empty line, then the raw body.  Against a spool made once (a course
 * mapping an organization and a group, forges.json, the secrets), each
 * input is one hook_handle; what it queues is removed after.
 *   build-fuzz/fuzz/hooks tests/fuzz/corpus/hooks   (make fuzz runs it) */
#define _GNU_SOURCE
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "spool/pushes.h"
#include "tests/fuzz/fuzz.h"
#include "web/hooks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

#define SECRET "fuzz-secret"
#define MAX_HEADERS 16

static struct spool spool;
static char *spool_dir;

struct headers {
    char *names[MAX_HEADERS], *values[MAX_HEADERS];
    int n;
};

static const char *header(void *ctx, const char *name)
{
    struct headers *h = ctx;
    for (int i = 0; i < h->n; i++)
        if (!strcasecmp(h->names[i], name))
            return h->values[i];
    return NULL;
}

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
    if (sodium_init() < 0 || fs_mkdtemp("/tmp", "assay-fuzz-hooks", &spool_dir, &e) < 0 ||
        spool_init(spool_dir, NULL, &e) < 0 || spool_open(&spool, spool_dir, &e) < 0)
        fuzz_die("cannot make the spool", &e);
    atexit(remove_spool);
    put("secret", SECRET "\n", 0600);
    put("forges.json", "{\"github\": {\"secret_file\": \"secret\", \"token_file\": \"t\"}, "
        "\"gitlab\": {\"secret_file\": \"secret\", \"token_file\": \"t\", \"api_url\": "
        "\"https://git.example.edu/api/v4\"}}", 0644);
    put("courses/c/hw1/assignment.json", "{\"assay\": 1, \"title\": \"t\", \"tests\": []}", 0644);
    put("courses/c/course.json", "{\"git\": {\"github\": \"org\", \"gitlab\": \"g/c\"}}", 0644);
}

/* Header lines "Name: value" up to an empty line; returns the body's offset. */
static size_t read_headers(char *text, size_t len, struct headers *h)
{
    size_t i = 0;
    while (i < len && h->n < MAX_HEADERS - 2) {
        char *eol = memchr(text + i, '\n', len - i);
        if (!eol)
            break;
        *eol = '\0';
        size_t next = (size_t)(eol - text) + 1;
        if (eol == text + i)
            return next;
        char *colon = strchr(text + i, ':');
        if (colon) {
            *colon = '\0';
            h->names[h->n] = text + i;
            h->values[h->n++] = colon + 1 + strspn(colon + 1, " ");
        }
        i = next;
    }
    return i;
}

static void drop_pushes(void)
{
    struct err e;   /* each input starts from an empty queue */
    const char *dirs[] = {PUSHES_INCOMING, PUSHES_DONE, PUSHES_FAILED};
    for (int i = 0; i < 3; i++) {
        char *d = spool_path(&spool, "%s", dirs[i]);
        fs_empty_dir(d, &e);
        free(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (!spool_dir)
        make_spool();
    if (len < 1)
        return 0;
    char *text = malloc(len);
    if (!text)
        fuzz_die("out of memory", NULL);
    memcpy(text, data + 1, len - 1);
    struct headers h = {0};
    size_t at = read_headers(text, len - 1, &h);
    const struct hook_kind *k = data[0] & 1 ? &hook_gitlab : &hook_github;
    char sig[80];
    if (data[0] & 2) {
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
        crypto_auth_hmacsha256_update(&st, (const unsigned char *)text + at, len - 1 - at);
        crypto_auth_hmacsha256_final(&st, mac);
        strcpy(sig, "sha256=");
        sodium_bin2hex(sig + 7, sizeof sig - 7, mac, sizeof mac);
        h.names[h.n] = k == &hook_github ? "X-Hub-Signature-256" : "X-Gitlab-Token";
        h.values[h.n++] = k == &hook_github ? sig : SECRET;
    }
    struct hook_request rq = {.header = header, .ctx = &h, .body = text + at,
                              .len = len - 1 - at};
    struct hook_reply out;
    hook_handle(&spool, k, &rq, &out);
    if (out.status < 200 || out.status > 599)
        abort();
    drop_pushes();
    free(text);
    return 0;
}
