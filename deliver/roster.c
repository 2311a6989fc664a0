/*
 * roster.c - `assay-deliver --roster COURSE`: imports a course's students
 * from Canvas into courses/COURSE/roster.json, which the Canvas
 * destination reads to address each student by their SIS id and to name
 * the students Canvas does not know.  `assay canvas roster --course C`
 * runs it (assay itself links no HTTP client).
 *
 *   GET /api/v1/courses/:course_id/users?enrollment_type[]=student&per_page=100
 *
 * page after page, following the Link header's rel="next" (only to the
 * configured Canvas site: the token is never sent elsewhere).  A student
 * is known to Assay by the block's student_id (their login id by
 * default); one without it is listed as skipped.  The file is written
 * whole, atomically, or not at all.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonutil.h"
#include "deliver/deliver.h"
#include "deliver/http.h"

#define ROSTER_MAX_PAGES 1000

struct page {
    long status;
    struct buf body;
    struct http_headers h;
    char errbuf[CURL_ERROR_SIZE];
};

/* GETs URL with TOKEN into P; -1 with *e when no answer came. */
static int get_page(const char *url, const char *token, struct page *p, struct err *e)
{
    struct dest_request req = {.method = "GET", .url = (char *)url, .token = (char *)token};
    CURL *easy = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    int rc = -1;
    p->h.rate_remaining = -1;
    if (!easy || http_easy_setup(easy, &req, 60, &p->body, &p->h, &hdrs, p->errbuf) < 0) {
        err_set(e, "out of memory");
    } else {
        CURLcode c = curl_easy_perform(easy);
        if (c != CURLE_OK)
            err_set(e, "no answer from Canvas: %s", p->errbuf[0] ? p->errbuf : curl_easy_strerror(c));
        else
            rc = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &p->status);
    }
    for (struct curl_slist *l = hdrs; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(hdrs);
    if (easy)
        curl_easy_cleanup(easy);
    return rc;
}

/* Adds the users of one page to STUDENTS; each one skipped to SKIPPED. */
static int add_users(const struct page *p, const char *id_field, json_t *students,
                     json_t *skipped, struct err *e)
{
    json_t *users = jsonutil_load_text(buf_str(&p->body), p->body.len, "Canvas's list of users", e);
    if (!json_is_array(users)) {
        if (users)
            err_set(e, "Canvas's list of users is not a JSON list");
        json_decref(users);
        return -1;
    }
    size_t i;
    json_t *u;
    json_array_foreach(users, i, u) {
        const char *key = jsonutil_str(u, id_field, NULL);
        const char *name = jsonutil_str(u, "name", "?");
        if (!key || !spool_name_is_valid(key)) {
            json_array_append_new(skipped, json_pack("{s:s, s:s?}", "name", name,
                                                     id_field, key));
            continue;
        }
        json_object_set_new(students, key, json_pack("{s:I, s:s, s:s?, s:s?}", "id",
                            (json_int_t)jsonutil_num(u, "id", 0), "name", name,
                            "sis_user_id", jsonutil_str(u, "sis_user_id", NULL),
                            "login_id", jsonutil_str(u, "login_id", NULL)));
    }
    json_decref(users);
    return 0;
}

static void say_refusal(const struct page *p, const char *token_file)
{
    struct dest_answer a = {.body = buf_str(&p->body), .len = p->body.len};
    char ex[300];
    dest_body_excerpt(&a, ex, sizeof ex);
    if (p->status == 401)
        fprintf(stderr, "assay canvas roster: Canvas refused the token in %s (401: expired, "
                "revoked or mistyped); to fix: put a valid token there\n", token_file);
    else
        fprintf(stderr, "assay canvas roster: Canvas answered %ld: %s\n", p->status, ex);
}

struct import {
    const char *base, *token_file, *id_field;
    char course_id[96];
    json_t *students, *skipped;
    int pages;
};

/* Reads every page into IM; 0, or 1 with the reason said. */
static int read_pages(struct import *im, const char *token)
{
    char *url = NULL;
    if (asprintf(&url, "%s/api/v1/courses/%s/users?enrollment_type%%5B%%5D=student&per_page=100",
                 im->base, im->course_id) < 0)
        return fprintf(stderr, "assay canvas roster: out of memory\n"), 1;
    int rc = 0;
    while (url && rc == 0) {
        struct page p = {0};
        struct err e;
        if (++im->pages > ROSTER_MAX_PAGES) {
            fprintf(stderr, "assay canvas roster: more than %d pages; stopped\n", ROSTER_MAX_PAGES);
            rc = 1;
        } else if (get_page(url, token, &p, &e) < 0) {
            fprintf(stderr, "assay canvas roster: %s\n", e.msg);
            rc = 1;
        } else if (p.status != 200) {
            say_refusal(&p, im->token_file);
            rc = 1;
        } else if (add_users(&p, im->id_field, im->students, im->skipped, &e) < 0) {
            fprintf(stderr, "assay canvas roster: %s\n", e.msg);
            rc = 1;
        }
        free(url);
        url = NULL;
        if (rc == 0 && p.h.link_next) {
            if (strncmp(p.h.link_next, im->base, strlen(im->base))) {
                fprintf(stderr, "assay canvas roster: Canvas's next page is on another site "
                        "(%.200s); the token is sent only to %s\n", p.h.link_next, im->base);
                rc = 1;
            } else {
                url = strdup(p.h.link_next);
            }
        }
        buf_free(&p.body);
        http_headers_free(&p.h);
    }
    free(url);
    return rc;
}

static int save(const struct spool *s, const char *course, struct import *im)
{
    char now[32], rel[200];
    clock_iso8601(clock_wall(), now);
    snprintf(rel, sizeof rel, "courses/%s/roster.json", course);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:O}", "source", "canvas", "canvas_course_id",
                            im->course_id, "student_id", im->id_field, "imported_at", now,
                            "students", im->students);
    struct err e;
    if (!doc || spool_write_json(s, rel, doc, &e) < 0) {
        fprintf(stderr, "assay canvas roster: cannot write %s: %s\n", rel,
                doc ? e.msg : "out of memory");
        json_decref(doc);
        return 1;
    }
    json_decref(doc);
    printf("imported %zu students of Canvas course %s (%d page%s) into %s\n",
           json_object_size(im->students), im->course_id, im->pages, im->pages == 1 ? "" : "s",
           rel);
    size_t i;
    json_t *u;
    json_array_foreach(im->skipped, i, u)
        printf("skipped %s: no usable %s in Canvas\n", jsonutil_str(u, "name", "?"), im->id_field);
    return 0;
}

int roster_import(const char *root, const char *course)
{
    struct spool s;
    struct err e;
    if (!spool_name_is_valid(course)) {
        fprintf(stderr, "assay canvas roster: \"%s\" is no course name\n", course);
        return 2;
    }
    if (spool_open(&s, root, &e) < 0) {
        fprintf(stderr, "assay canvas roster: %s\n", e.msg);
        return 1;
    }
    json_t *block = dest_load_block(&s, course, dest_find("canvas"), &e);
    char *token = block ? dest_read_secret(&s, jsonutil_str(block, "token_file", ""), &e) : NULL;
    int rc = 1;
    if (!token) {
        fprintf(stderr, "assay canvas roster: %s\n", e.msg);
    } else {
        struct import im = {.base = jsonutil_str(block, "base_url", ""),
                            .token_file = jsonutil_str(block, "token_file", ""),
                            .id_field = !strcmp(jsonutil_str(block, "student_id", ""),
                                                "sis_user_id") ? "sis_user_id" : "login_id",
                            .students = json_object(), .skipped = json_array()};
        const json_t *cid = json_object_get(block, "course_id");
        if (json_is_integer(cid))
            snprintf(im.course_id, sizeof im.course_id, "%lld", (long long)json_integer_value(cid));
        else
            snprintf(im.course_id, sizeof im.course_id, "%s", json_string_value(cid));
        rc = im.students && im.skipped ? read_pages(&im, token) : 1;
        if (rc == 0)
            rc = save(&s, course, &im);
        json_decref(im.students);
        json_decref(im.skipped);
        explicit_bzero(token, strlen(token));
        free(token);
    }
    json_decref(block);
    spool_close(&s);
    return rc;
}
