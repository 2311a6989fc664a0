/*
 * slurm_rest.c - Slurm through slurmrestd's REST API v0.0.38 (Slurm
 * 22.05, as Debian 12 ships it), with libcurl and jansson: the slurm
 * transport's default way (workers.json "api": "rest").
 *
 * Keys: "url" (slurmrestd's base URL), "user" (the Slurm user the jobs
 * run as) and "token_file" (a JWT for that user, from `scontrol token`;
 * mode 0600, read again whenever the file changes, so a token can be
 * renewed without restarting anything).  One libcurl handle per
 * shipper, so the connection is kept across calls.
 *
 * slurmrestd answers HTTP 500 both for an unknown job and when slurmctld
 * refuses the token, so every answer is judged by the body's errors[]
 * (their error_number), never by the status alone.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "shipper/slurm.h"

#define CONNECT_TIMEOUT_S 3L
#define CALL_TIMEOUT_S 15L            /* slurmctld may take MessageTimeout to answer it */
#define ANSWER_MAX (64u << 20)        /* a cluster's /nodes or /jobs, at most */
#define TOKEN_MAX 16384
#define QUICK_REFUSAL_S 2.0           /* slurmctld refusing at once: the token */
#define ERR_INVALID_JOB_ID 2017       /* ESLURM_INVALID_JOB_ID */
#define ERR_INVALID_PARTITION 2000    /* ESLURM_INVALID_PARTITION_NAME */

static const char *const rest_keys[] = {"url", "user", "token_file", NULL};

struct rest {
    struct slurm_api base;
    CURL *curl;
    char *url, *user, *token_file;
    char *token;                  /* as last read */
    struct timespec token_mtime;
};

/* The token file as it is now (read again when it changed): a bare JWT
 * or scontrol's "SLURM_JWT=..." line. */
static int load_token(struct rest *r, struct err *e)
{
    struct stat st;
    if (stat(r->token_file, &st) < 0)
        return err_sys(e, "cannot read the token file %s", r->token_file);
    if (r->token && st.st_mtim.tv_sec == r->token_mtime.tv_sec &&
        st.st_mtim.tv_nsec == r->token_mtime.tv_nsec)
        return 0;
    struct buf b = BUF_INIT;
    if (fs_read_file(r->token_file, TOKEN_MAX, &b, e) < 0)
        return -1;
    char *t = b.data ? b.data : "";
    if (!strncmp(t, "SLURM_JWT=", 10))
        t += 10;
    t[strcspn(t, " \t\r\n")] = '\0';
    if (!*t) {
        buf_free(&b);
        return err_set(e, "the token file %s is empty: put the output of `scontrol token "
                       "username=%s lifespan=SECONDS` in it", r->token_file, r->user);
    }
    free(r->token);
    r->token = strdup(t);
    buf_free(&b);
    r->token_mtime = st.st_mtim;
    return r->token ? 0 : err_set(e, "out of memory");
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    struct buf *b = arg;
    if (b->len + size * n > ANSWER_MAX || buf_append(b, data, size * n) < 0)
        return 0;   /* too big, or out of memory: libcurl ends the call */
    return size * n;
}

/* printf into a new string; NULL when out of memory. */
static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

/* Slurm's text S as it may be shown on a terminal (text_visible),
 * malloc'd; NULL when out of memory. */
static char *shown(const char *s)
{
    return text_visible(s, strlen(s), 0);
}

/* The first of ANSWER's errors[] as one sentence into *e, and its number
 * into *NUM; 0 when there is none. */
static int answer_error(const json_t *answer, long *num, struct err *e)
{
    const json_t *first = json_array_get(json_object_get(answer, "errors"), 0);
    if (!first)
        return 0;
    const json_t *n = json_object_get(first, "error_number");
    if (!n)
        n = json_object_get(first, "error_code");
    if (!n)
        n = json_object_get(first, "errno");
    *num = json_is_integer(n) ? (long)json_integer_value(n) : -1;
    char *what = shown(jsonutil_str(first, "error", "an error"));
    char *desc = shown(jsonutil_str(first, "description", ""));
    err_set(e, "%s%s%s%s", what ? what : "?", desc && *desc ? " (" : "", desc ? desc : "",
            desc && *desc ? ")" : "");
    free(what);
    free(desc);
    return -1;
}

/* METHOD on PATH (below the URL) with BODY (may be NULL): *ANSWER is the
 * JSON answered.  -1 with *e when slurmrestd cannot be reached, refuses
 * the call, or answers with errors[]: *NUM then has the first error's
 * number (0 when the failure was not Slurm's answer). */
static int call(struct rest *r, const char *method, const char *path, const char *body,
                json_t **answer, long *num, struct err *e)
{
    *answer = NULL;
    *num = 0;
    if (load_token(r, e) < 0)
        return -1;
    char *url = format("%s%s", r->url, path), *hu = format("X-SLURM-USER-NAME: %s", r->user);
    char *ht = format("X-SLURM-USER-TOKEN: %s", r->token);
    struct buf got = BUF_INIT;
    struct curl_slist *h = url && hu && ht ? curl_slist_append(NULL, hu) : NULL;
    if (h && !curl_slist_append(h, ht))
        h = NULL;   /* freed below through ALL */
    struct curl_slist *all = h;
    if (h && body && !curl_slist_append(h, "Content-Type: application/json"))
        h = NULL;
    CURL *c = r->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &got);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, CALL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    double started = clock_mono();
    CURLcode rc = h ? curl_easy_perform(c) : CURLE_OUT_OF_MEMORY;
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    int out = -1;
    if (rc != CURLE_OK)
        err_set(e, "slurmrestd at %s is unreachable: %s", r->url, curl_easy_strerror(rc));
    else if (status == 401 || status == 403)
        err_set(e, "slurmrestd at %s refused the token in %s for user %s (HTTP %ld): make a new "
                "one with `scontrol token username=%s`", r->url, r->token_file, r->user, status,
                r->user);
    else if (!(*answer = jsonutil_load_text(got.data ? got.data : "", got.len, "slurmrestd's answer", e)))
        err_prefix(e, "slurmrestd at %s answered HTTP %ld to %s %s", r->url, status, method, path);
    else if (answer_error(*answer, num, e) < 0) {
        /* slurmctld refusing the token and slurmctld not answering look
         * alike in errors[] (-1, or 5005): at once, it was the token */
        if ((*num == -1 || *num == 5005) && clock_mono() - started < QUICK_REFUSAL_S)
            err_prefix(e, "slurmctld refused the token in %s for user %s (expired, or not made "
                       "with this cluster's jwt key; make a new one with `scontrol token "
                       "username=%s lifespan=SECONDS`)", r->token_file, r->user, r->user);
        else if (*num == -1 || *num == 5005)
            err_prefix(e, "slurmctld did not answer slurmrestd at %s in time", r->url);
    } else
        out = 0;
    if (out < 0) {
        json_decref(*answer);
        *answer = NULL;
    }
    curl_slist_free_all(all);
    buf_free(&got);
    free(url);
    free(hu);
    free(ht);
    return out;
}

static void put(json_t *o, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(o, key, json_string(value));
}

static int rest_submit(struct slurm_api *a, const struct slurm_submit *s, long *id, struct err *e)
{
    struct rest *r = (struct rest *)a;
    json_t *job = json_pack("{s:s, s:s, s:s, s:s, s:b, s:i, s:I, s:{s:s}}", "name", s->name,
                            "partition", s->partition, "current_working_directory", s->workdir,
                            "standard_output", s->output, "requeue", 0, "time_limit", s->time_min,
                            "memory_per_node", (json_int_t)s->memory_mb, "environment", "PATH",
                            "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
    json_t *req = job ? json_pack("{s:o, s:s}", "job", job, "script", s->script) : NULL;
    if (!req)
        return err_set(e, "out of memory");
    put(job, "constraints", s->constraint);
    put(job, "account", s->account);
    put(job, "qos", s->qos);
    char *body = jsonutil_dump(req);
    json_decref(req);
    json_t *ans = NULL;
    long num;
    int rc = body ? call(r, "POST", "/slurm/v0.0.38/job/submit", body, &ans, &num, e)
                  : err_set(e, "out of memory");
    free(body);
    if (rc == 0 && !json_is_integer(json_object_get(ans, "job_id")))
        rc = err_set(e, "slurmrestd accepted the job but named no job_id");
    if (rc == 0)
        *id = (long)json_integer_value(json_object_get(ans, "job_id"));
    else
        err_prefix(e, "cannot submit to partition %s", s->partition);
    json_decref(ans);
    return rc;
}

static int rest_job(struct slurm_api *a, long id, struct slurm_job *j, struct err *e)
{
    struct rest *r = (struct rest *)a;
    char path[64];
    snprintf(path, sizeof path, "/slurm/v0.0.38/job/%ld", id);
    json_t *ans = NULL;
    long num;
    if (call(r, "GET", path, NULL, &ans, &num, e) < 0)
        return num == ERR_INVALID_JOB_ID ? 1 : -1;
    const json_t *job = json_array_get(json_object_get(ans, "jobs"), 0);
    int rc = job ? 0 : 1;
    slurm_copy_shown(j->state, sizeof j->state, jsonutil_str(job, "job_state", "UNKNOWN"));
    slurm_copy_shown(j->node, sizeof j->node, jsonutil_str(job, "batch_host", ""));
    if (!j->node[0])
        slurm_copy_shown(j->node, sizeof j->node, jsonutil_str(job, "nodes", ""));
    slurm_copy_shown(j->reason, sizeof j->reason, jsonutil_str(job, "state_reason", "None"));
    j->restarts = (int)jsonutil_num(job, "restart_cnt", 0);
    json_decref(ans);
    return rc;
}

static int rest_cancel(struct slurm_api *a, long id, struct err *e)
{
    struct rest *r = (struct rest *)a;
    char path[64];
    snprintf(path, sizeof path, "/slurm/v0.0.38/job/%ld", id);
    json_t *ans = NULL;
    long num;
    int rc = call(r, "DELETE", path, NULL, &ans, &num, e);
    json_decref(ans);
    return rc < 0 && num != ERR_INVALID_JOB_ID && num != 2021 /* already ended */ ? -1 : 0;
}

static bool in_partition(const json_t *node, const char *partition)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(node, "partitions"), i, p)
        if (json_is_string(p) && !strcmp(json_string_value(p), partition))
            return true;
    return false;
}

static bool has_flag(const json_t *node, const char *flag)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(node, "state_flags"), i, f)
        if (json_is_string(f) && !strcasecmp(json_string_value(f), flag))
            return true;
    return false;
}

static void count_nodes(const json_t *nodes, const char *partition, struct slurm_pool *p)
{
    size_t i;
    const json_t *n;
    json_array_foreach(json_object_get(nodes, "nodes"), i, n) {
        if (!in_partition(n, partition))
            continue;
        const char *st = jsonutil_str(n, "state", "");
        if (has_flag(n, "DRAIN") || strstr(st, "drain"))
            p->drained++;
        else if (!strcmp(st, "idle"))
            p->idle++;
        else if (!strcmp(st, "allocated"))
            p->allocated++;
        else if (!strcmp(st, "mixed"))
            p->mixed++;
        else if (!strcmp(st, "down") || !strcmp(st, "error") || !strcmp(st, "unknown"))
            p->down++;
        else
            p->other++;
    }
}

static void count_jobs(const json_t *jobs, const char *prefix, struct slurm_pool *p)
{
    size_t i;
    const json_t *j;
    json_array_foreach(json_object_get(jobs, "jobs"), i, j) {
        if (strncmp(jsonutil_str(j, "name", ""), prefix, strlen(prefix)))
            continue;
        const char *st = jsonutil_str(j, "job_state", "");
        p->pending += !strcmp(st, "PENDING");
        p->running += !strcmp(st, "RUNNING") || !strcmp(st, "CONFIGURING") ||
                      !strcmp(st, "COMPLETING");
    }
}

static int rest_pool(struct slurm_api *a, const char *partition, const char *prefix,
                     struct slurm_pool *p, struct err *e)
{
    struct rest *r = (struct rest *)a;
    memset(p, 0, sizeof *p);
    json_t *ping = NULL, *part = NULL, *nodes = NULL, *jobs = NULL;
    char path[300];
    snprintf(path, sizeof path, "/slurm/v0.0.38/partition/%s", partition);
    long num;
    int rc = call(r, "GET", "/slurm/v0.0.38/ping", NULL, &ping, &num, e);
    const json_t *first = json_array_get(json_object_get(ping, "pings"), 0);
    if (rc == 0 && strcmp(jsonutil_str(first, "ping", ""), "UP"))
        rc = err_set(e, "slurmctld (%s) does not answer slurmrestd's ping",
                     jsonutil_str(first, "hostname", "?"));
    if (rc == 0 && call(r, "GET", path, NULL, &part, &num, e) < 0)
        rc = num == ERR_INVALID_PARTITION ? err_set(e, "Slurm has no partition \"%s\"", partition)
                                          : -1;
    if (rc == 0 && (rc = call(r, "GET", "/slurm/v0.0.38/nodes", NULL, &nodes, &num, e)) == 0)
        rc = call(r, "GET", "/slurm/v0.0.38/jobs", NULL, &jobs, &num, e);
    if (rc == 0) {
        const json_t *v = json_object_get(json_object_get(ping, "meta"), "Slurm");
        slurm_copy_shown(p->version, sizeof p->version,
                   jsonutil_str(json_object_get(v, "version") ? v : NULL, "release", "?"));
        slurm_copy_shown(p->state, sizeof p->state,
                   jsonutil_str(json_array_get(json_object_get(part, "partitions"), 0), "state", "?"));
        count_nodes(nodes, partition, p);
        count_jobs(jobs, prefix, p);
    }
    json_decref(ping);
    json_decref(part);
    json_decref(nodes);
    json_decref(jobs);
    return rc;
}

static void rest_destroy(struct slurm_api *a)
{
    struct rest *r = (struct rest *)a;
    if (r->curl)
        curl_easy_cleanup(r->curl);
    free(r->url);
    free(r->user);
    free(r->token_file);
    free(r->token);
    free(r);
}

static const struct slurm_api_ops rest_ops = {rest_submit, rest_job, rest_cancel, rest_pool,
                                              rest_destroy};

static void rest_check(const json_t *entry, const char *path, struct problems *p)
{
    char where[200];
    const char *url = check_string(entry, path, "url", true, p);
    snprintf(where, sizeof where, "%s.url", path);
    if (url && strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
        problems_add(p, where, "\"%s\" must start with http:// or https:// (slurmrestd's "
                     "address, e.g. http://slurm-head:6820)", url);
    check_string(entry, path, "user", true, p);
    const char *tf = check_string(entry, path, "token_file", true, p);
    snprintf(where, sizeof where, "%s.token_file", path);
    struct stat st;
    if (!tf)
        return;
    if (tf[0] != '/')
        problems_add(p, where, "\"%s\" must be an absolute path", tf);
    else if (stat(tf, &st) < 0)
        problems_add(p, where, "cannot read %s (%s): put a token from `scontrol token "
                     "username=USER lifespan=SECONDS` in it, mode 0600", tf, strerror(errno));
    else if (st.st_mode & 077)
        problems_add(p, where, "%s may be read by other users (mode %03o): chmod 600 %s", tf,
                     (unsigned)(st.st_mode & 0777), tf);
}

static struct slurm_api *rest_open(const json_t *entry, const char *worker, struct err *e)
{
    static bool initialised;
    if (!initialised && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        err_set(e, "cannot initialise libcurl");
        return NULL;
    }
    initialised = true;
    struct rest *r = calloc(1, sizeof *r);
    const char *url = jsonutil_str(entry, "url", NULL), *user = jsonutil_str(entry, "user", NULL);
    const char *tf = jsonutil_str(entry, "token_file", NULL);
    if (!url || !user || !tf) {
        free(r);
        err_set(e, "worker %s: a slurm worker with \"api\": \"rest\" needs \"url\", \"user\" "
                "and \"token_file\" in workers.json", worker);
        return NULL;
    }
    if (!r || !(r->curl = curl_easy_init()) || !(r->url = strdup(url)) ||
        !(r->user = strdup(user)) || !(r->token_file = strdup(tf))) {
        if (r)
            rest_destroy(&r->base);
        err_set(e, "out of memory");
        return NULL;
    }
    size_t n = strlen(r->url);
    while (n > 0 && r->url[n - 1] == '/')
        r->url[--n] = '\0';
    r->base.ops = &rest_ops;
    return &r->base;
}

const struct slurm_api_kind slurm_api_rest = {"rest", rest_keys, rest_check, rest_open};
