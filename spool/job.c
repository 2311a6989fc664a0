/*
 * job.c - job files: one small JSON object per submission to grade.
 *
 * The file's directory is its state (spool.c); its content says what to
 * grade (course, assignment, student, version, where the files are),
 * when it was queued, how urgent it is, which capability it needs, and
 * the current attempt and its random token.  Fields may be added, never
 * renamed.  job_load checks every field, so a malformed file is caught
 * once, at the door, and sent to failed/ with the reason.
 */
#define _GNU_SOURCE
#include "spool/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"

#define JOB_MAX_BYTES (1u << 20)

json_t *job_new(const char *course, const char *assignment, const char *student,
                long long version, bool batch, const char *capability)
{
    char id[40], queued[32];
    ids_job_id(id);
    clock_iso8601(clock_wall(), queued);
    json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:i, s:n}",
                          "id", id, "course", course, "assignment", assignment,
                          "student", student, "version", (json_int_t)version,
                          "submission", "", "queued_at", queued, "submitted_at", queued,
                          "priority", batch ? "batch" : "interactive",
                          "capability", capability, "attempt", 0, "token");
    char *sub = NULL;
    if (j && asprintf(&sub, "submissions/%s/%s/%s/%lld", course, assignment, student, version) < 0)
        sub = NULL;
    if (j && (!sub || json_object_set_new(j, "submission", json_string(sub)) < 0)) {
        json_decref(j);   /* out of memory: no job rather than one without its files */
        j = NULL;
    }
    free(sub);
    return j;
}

static const char *field(const json_t *j, const char *key, struct err *e, int *bad)
{
    const json_t *v = json_object_get(j, key);
    if (!json_is_string(v) || !*json_string_value(v)) {
        if (!*bad)
            err_set(e, "field \"%s\" is missing or not a non-empty string", key);
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

int job_refresh(struct job *job, struct err *e)
{
    json_t *j = job->json;
    int bad = 0;
    if (!json_is_object(j))
        return err_set(e, "a job file must hold a JSON object");
    job->id = field(j, "id", e, &bad);
    job->course = field(j, "course", e, &bad);
    job->assignment = field(j, "assignment", e, &bad);
    job->student = field(j, "student", e, &bad);
    job->submission = field(j, "submission", e, &bad);
    job->priority = field(j, "priority", e, &bad);
    job->capability = field(j, "capability", e, &bad);
    const char *queued = field(j, "queued_at", e, &bad);
    if (bad)
        return -1;
    const char *names[] = {job->course, job->assignment, job->student};
    for (int i = 0; i < 3; i++)
        if (!spool_name_is_valid(names[i]))
            return err_set(e, "\"%s\" is not a valid course, assignment or student name", names[i]);
    if (strcmp(job->priority, "interactive") && strcmp(job->priority, "batch"))
        return err_set(e, "field \"priority\" must be \"interactive\" or \"batch\"");
    if (!clock_parse_iso8601(queued, &job->queued_at))
        return err_set(e, "field \"queued_at\" is not an ISO 8601 time");
    const json_t *v = json_object_get(j, "version");
    if (!json_is_integer(v) || json_integer_value(v) < 1)
        return err_set(e, "field \"version\" must be a whole number of at least 1");
    job->version = json_integer_value(v);
    v = json_object_get(j, "attempt");
    job->attempt = json_is_integer(v) ? (int)json_integer_value(v) : 0;
    v = json_object_get(j, "token");
    job->token = json_is_string(v) ? json_string_value(v) : NULL;
    job->not_before = jsonutil_num(j, "not_before", 0);
    job->submitted_at = job->queued_at;   /* jobs older than the field */
    v = json_object_get(j, "submitted_at");
    if (v && !(json_is_string(v) && clock_parse_iso8601(json_string_value(v), &job->submitted_at)))
        return err_set(e, "field \"submitted_at\" is not an ISO 8601 time");
    if (strstr(job->submission, "..") || job->submission[0] == '/')
        return err_set(e, "field \"submission\" must be a path inside the spool");
    return 0;
}

int job_from_json(json_t *j, struct job *job, struct err *e)
{
    memset(job, 0, sizeof *job);
    job->json = j;
    if (job_refresh(job, e) < 0) {
        job_free(job);
        return -1;
    }
    return 0;
}

int job_load(const char *path, struct job *job, struct err *e)
{
    memset(job, 0, sizeof *job);
    json_t *j = jsonutil_load_file(path, JOB_MAX_BYTES, e);
    if (!j)
        return -1;
    return job_from_json(j, job, e);
}

void job_free(struct job *job)
{
    json_decref(job->json);
    memset(job, 0, sizeof *job);
}

char *job_result_rel(const struct job *job)
{
    char *p = NULL;
    if (asprintf(&p, "results/%s/%s/%s/%lld", job->course, job->assignment, job->student,
                 job->version) < 0)
        return NULL;
    return p;
}

char *job_index_rel(const char *id)
{
    char *p = NULL;
    if (asprintf(&p, "jobs/%s", id) < 0)
        return NULL;
    return p;
}

char *job_result_rel_from_index(const char *path)
{
    struct buf b = BUF_INIT;
    struct err e;   /* no index, or an unreadable one: either way no result to name */
    char *rel = NULL;
    if (fs_read_file(path, JOB_MAX_BYTES, &b, &e) == 0 && b.len > 0) {
        if (!strncmp(buf_str(&b), "results/", 8)) {
            b.data[strcspn(b.data, "\n")] = '\0';
            rel = strdup(b.data);
        } else {
            struct job job;
            json_t *j = jsonutil_load_text(buf_str(&b), b.len, path, &e);
            if (j && job_from_json(j, &job, &e) == 0) {   /* it takes J over */
                rel = job_result_rel(&job);
                job_free(&job);
            }
        }
    }
    buf_free(&b);
    return rel;
}
