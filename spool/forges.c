/*
 * forges.c - GitHub and GitLab settings (forges.json) and the mapping of
 * repositories to courses, assignments and students (course.json "git").
 *
 *   forges.json   { "github": { "secret_file": "/etc/assay/github-webhook.secret",
 *                               "token_file": "/etc/assay/github.token",
 *                               "api_url": "https://api.github.com",
 *                               "result_url": "https://assay.example.edu/results/{job}",
 *                               "max_archive_mb": 50 },
 *                   "gitlab": { ... } }
 *   course.json   "git": { "github": "cs101-fall26", "gitlab": "cs/cs101",
 *                          "assignments": {"hello-world": "hw1"},
 *                          "students": {"octo-alice": "alice"},
 *                          "repositories": {"cs101-fall26/final-t3":
 *                                           {"assignment": "final", "student": "t3"}} }
 *
 * Read by assay-web (a webhook: is it signed, whose push is it) and by
 * assay-intake (fetch, submit).  Courses are read on every push, so an
 * edit applies to the next one; a course whose course.json is broken is
 * skipped and named in the reason a push was not mapped.
 */
#define _GNU_SOURCE
#include "spool/forges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"

#define FORGES_MAX_BYTES (64u << 10)
#define COURSE_MAX_BYTES (64u << 10)
#define ARCHIVE_MB_DEFAULT 50
#define ARCHIVE_MB_MAX 4096

static const char *const forge_keys[] = {"secret_file", "token_file", "api_url", "result_url",
                                         "max_archive_mb", NULL};
static const char *const git_keys[] = {"github", "gitlab", "assignments", "students",
                                       "repositories", NULL};

static const char *default_api(const char *forge)
{
    return !strcmp(forge, "github") ? "https://api.github.com" : "";
}

/* A file name from forges.json: absolute, or relative to the spool. */
static int file_field(const struct spool *s, const json_t *b, const char *key, char *out,
                      size_t n, struct problems *p, const char *where)
{
    const char *v = check_string(b, where, key, true, p);
    if (!v)
        return -1;
    int len = v[0] == '/' ? snprintf(out, n, "%s", v) : snprintf(out, n, "%s/%s", s->root, v);
    if (len < 0 || (size_t)len >= n) {
        problems_add(p, where, "\"%s\" is too long", key);
        return -1;
    }
    return 0;
}

static void read_block(const struct spool *s, const char *forge, const json_t *b,
                       struct forge_config *c, struct problems *p)
{
    char where[64];
    snprintf(where, sizeof where, "$.%s", forge);
    if (!json_is_object(b)) {
        problems_add(p, where, "must be an object");
        return;
    }
    check_known_keys(b, where, forge_keys, NULL, p);
    file_field(s, b, "secret_file", c->secret_file, sizeof c->secret_file, p, where);
    file_field(s, b, "token_file", c->token_file, sizeof c->token_file, p, where);
    const char *api = check_string(b, where, "api_url", !*default_api(forge), p);
    api = api ? api : default_api(forge);
    if (strncmp(api, "https://", 8) && strncmp(api, "http://", 7))
        problems_add(p, where, "\"api_url\" must start with https:// (for GitLab, the "
                     "server's address followed by /api/v4)");
    snprintf(c->api_url, sizeof c->api_url, "%s", api);
    size_t len = strlen(c->api_url);
    while (len > 0 && c->api_url[len - 1] == '/')
        c->api_url[--len] = '\0';
    const char *url = check_string(b, where, "result_url", false, p);
    snprintf(c->result_url, sizeof c->result_url, "%s", url ? url : "");
    double mb = check_number(b, where, "max_archive_mb", ARCHIVE_MB_DEFAULT, 1, ARCHIVE_MB_MAX, p);
    c->max_archive_bytes = (uint64_t)(mb * 1024 * 1024);
}

int forge_config_load(const struct spool *s, const char *forge, struct forge_config *c,
                      struct err *e)
{
    memset(c, 0, sizeof *c);
    char *path = spool_path(s, "%s", FORGES_FILE);
    if (!fs_exists(path)) {
        free(path);
        return 1;
    }
    json_t *j = jsonutil_load_file(path, FORGES_MAX_BYTES, e);
    const json_t *b = json_object_get(j, forge);
    struct problems p = {0};
    int rc = !j ? -1 : !b ? 1 : 0;
    if (rc == 0) {
        read_block(s, forge, b, c, &p);
        if (p.count)
            rc = err_set(e, "%s: %s%s", path, p.items[0], p.count > 1 ? " (and more)" : "");
    }
    problems_free(&p);
    json_decref(j);
    free(path);
    return rc;
}

/* ---- course.json "git" ------------------------------------------------ */

static void check_name_map(const json_t *git, const char *where, const char *key,
                           struct problems *p)
{
    const json_t *m = json_object_get(git, key);
    if (!m)
        return;
    char at[300];
    snprintf(at, sizeof at, "%s.%s", where, key);
    if (!json_is_object(m)) {
        problems_add(p, at, "must be an object of names");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
        if (!json_is_string(v) || !spool_name_is_valid(json_string_value(v)))
            problems_add(p, at, "\"%s\" must map to a name of letters, digits, - _ . @", k);
}

static void check_repositories(const json_t *git, const char *where, struct problems *p)
{
    const json_t *m = json_object_get(git, "repositories");
    if (!m)
        return;
    char at[300];
    snprintf(at, sizeof at, "%s.repositories", where);
    if (!json_is_object(m)) {
        problems_add(p, at, "must be an object: \"owner/repository\": {\"assignment\", "
                     "\"student\"}");
        return;
    }
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v) {
        const char *a = json_string_value(json_object_get(v, "assignment"));
        const char *u = json_string_value(json_object_get(v, "student"));
        if (!strchr(k, '/') || !a || !u || !spool_name_is_valid(a) || !spool_name_is_valid(u))
            problems_add(p, at, "\"%s\" must be \"owner/repository\": {\"assignment\": A, "
                         "\"student\": U} with valid names", k);
    }
}

void forge_check_git_block(const json_t *git, const char *where, struct problems *p)
{
    if (!json_is_object(git)) {
        problems_add(p, where, "must be an object");
        return;
    }
    check_known_keys(git, where, git_keys, NULL, p);
    check_string(git, where, "github", false, p);
    check_string(git, where, "gitlab", false, p);
    check_name_map(git, where, "assignments", p);
    check_name_map(git, where, "students", p);
    check_repositories(git, where, p);
}

/* ---- mapping a repository --------------------------------------------- */

static bool has_assignment(const struct spool *s, const char *course, const char *asg)
{
    char *p = spool_path(s, "courses/%s/%s/assignment.json", course, asg);
    bool yes = spool_name_is_valid(asg) && fs_exists(p);
    free(p);
    return yes;
}

static int set_owner(struct repo_owner *out, const char *course, const char *asg,
                     const char *student)
{
    snprintf(out->course, sizeof out->course, "%s", course);
    snprintf(out->assignment, sizeof out->assignment, "%s", asg);
    snprintf(out->student, sizeof out->student, "%s", student);
    return 0;
}

struct classroom_best {
    const char *asg;
    size_t len;
};

/* Keeps PREFIX (naming assignment ASG) if NAME is PREFIX-USER and PREFIX
 * is longer than the best so far: "hw1-extra-bob" is hw1-extra's. */
static void consider(const struct spool *s, const char *course, const char *name,
                     const char *prefix, const char *asg, struct classroom_best *best)
{
    size_t n = strlen(prefix);
    if (n > best->len && !strncasecmp(name, prefix, n) && name[n] == '-' && name[n + 1] &&
        asg && has_assignment(s, course, asg)) {
        best->len = n;
        best->asg = asg;
    }
}

static bool is_visible(const char *name)
{
    return name[0] != '.';
}

/* NAME as PREFIX-USER, PREFIX an assignment of the course or a key of
 * "assignments" (a Classroom assignment's name), USER a student. */
static int classroom_match(const struct spool *s, const char *course, const json_t *git,
                           const char *name, struct repo_owner *out)
{
    struct fs_list l = {0};
    char *dir = spool_path(s, "courses/%s", course);
    fs_list(dir, is_visible, fs_cmp_names, &l);
    free(dir);
    struct classroom_best best = {0};
    for (size_t i = 0; i < l.n; i++)
        consider(s, course, name, l.names[i], l.names[i], &best);
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(git, "assignments"), k, v)
        consider(s, course, name, k, json_string_value(v), &best);
    int rc = 1;
    if (best.asg) {
        const char *user = name + best.len + 1;
        const char *student = json_string_value(json_object_get(json_object_get(git, "students"),
                                                                user));
        student = student ? student : user;
        if (spool_name_is_valid(student))
            rc = set_owner(out, course, best.asg, student);
    }
    fs_list_free(&l);
    return rc;
}

/* 0 when COURSE's git block maps FULL_NAME; 1 when not; WHY is added to
 * for a course whose course.json cannot be read. */
static int map_in_course(const struct spool *s, const char *course, const char *forge,
                         const char *full_name, struct repo_owner *out, struct buf *why)
{
    char *path = spool_path(s, "courses/%s/course.json", course);
    struct err e;
    json_t *j = fs_exists(path) ? jsonutil_load_file(path, COURSE_MAX_BYTES, &e) : NULL;
    const json_t *git = json_object_get(j, "git");
    int rc = 1;
    struct problems p = {0};
    if (git)
        forge_check_git_block(git, "$.git", &p);
    if (fs_exists(path) && (!j || p.count))
        buf_printf(why, "; courses/%s/course.json was skipped: %s", course,
                   !j ? e.msg : p.items[0]);
    else if (git) {
        const json_t *r = json_object_get(json_object_get(git, "repositories"), full_name);
        const char *org = json_string_value(json_object_get(git, forge));
        const char *slash = strrchr(full_name, '/');
        if (r)
            rc = set_owner(out, course, jsonutil_str(r, "assignment", ""),
                           jsonutil_str(r, "student", ""));
        else if (org && slash && strlen(org) == (size_t)(slash - full_name) &&
                 !strncasecmp(org, full_name, strlen(org)))
            rc = classroom_match(s, course, git, slash + 1, out);
    }
    problems_free(&p);
    json_decref(j);
    free(path);
    return rc;
}

int forge_map_repo(const struct spool *s, const char *forge, const char *full_name,
                   struct repo_owner *out, char *why, size_t n, struct err *e)
{
    struct fs_list l = {0};
    char *dir = spool_path(s, "courses");
    int rc = fs_list(dir, spool_name_is_valid, fs_cmp_names, &l) < 0 ? err_set(e, "out of memory")
                                                                     : 1;
    free(dir);
    struct buf skipped = BUF_INIT;
    for (size_t i = 0; rc == 1 && i < l.n; i++)
        rc = map_in_course(s, l.names[i], forge, full_name, out, &skipped);
    if (rc == 1)
        snprintf(why, n, "no course maps the %s repository %s (course.json \"git\": its "
                 "organization with ASSIGNMENT-USER names, or \"repositories\")%s",
                 !strcmp(forge, "github") ? "GitHub" : "GitLab", full_name, buf_str(&skipped));
    buf_free(&skipped);
    fs_list_free(&l);
    return rc;
}

char *forge_result_url(const char *tmpl, const char *job, const char *course,
                       const char *assignment, const char *student, long long version)
{
    if (!tmpl || !*tmpl)
        return NULL;
    char ver[32];
    snprintf(ver, sizeof ver, "%lld", version);
    const char *names[] = {"{job}", "{course}", "{assignment}", "{student}", "{version}"};
    const char *values[] = {job, course, assignment, student, ver};
    struct buf out = BUF_INIT;
    int rc = buf_append(&out, "", 0);
    for (const char *p = tmpl; rc == 0 && *p;) {
        int k = -1;
        for (int i = 0; i < 5 && k < 0; i++)
            if (!strncmp(p, names[i], strlen(names[i])))
                k = i;
        rc = k < 0 ? buf_append(&out, p, 1) : buf_puts(&out, values[k]);
        p += k < 0 ? 1 : strlen(names[k]);
    }
    if (rc < 0) {
        buf_free(&out);
        return NULL;
    }
    return buf_steal(&out);
}
