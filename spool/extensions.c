/*
 * extensions.c - courses/<course>/<assignment>/extensions.json, each
 * student's own due date:
 *
 *     { "alice": {"due": "2026-12-02T23:59:00Z"}, "bob": {"days": 2} }
 *
 * Read by spool/record.c when a result is recorded (the late penalty
 * counts from the student's due date), checked whole by `assay regrade`
 * and `grade-all` before they queue anything, and written by `assay
 * extensions grant|revoke` under a lock, checked, in one rename.  One
 * entry's rules are the late policy's (contract/late.c,
 * late_extension_read); the file's are here: a JSON object whose keys
 * are student names.  Every problem names the file and the field.
 */
#define _GNU_SOURCE
#include "spool/extensions.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/check.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/scan.h"

#define EXTENSIONS_MAX_BYTES (1u << 20)

/* "$.alice", or "$["Alice Smith"]" for a key that is no name. */
static void key_where(char *out, size_t n, const char *key)
{
    if (spool_name_is_valid(key))
        snprintf(out, n, "$.%s", key);
    else
        snprintf(out, n, "$[\"%.80s\"]", key);
}

void extensions_check(const json_t *ext, const char *file, const struct late_policy *lp,
                      struct problems *p)
{
    static const struct late_policy none;
    if (!lp)
        lp = &none;
    const char *key;
    json_t *entry;
    json_object_foreach((json_t *)ext, key, entry) {
        char where[128];
        key_where(where, sizeof where, key);
        if (!spool_name_is_valid(key))
            problems_add(p, file, "%s: \"%.80s\" is not a student name (letters, digits, "
                         "- _ . @, as given to assay submit --student)", where, key);
        struct problems own = {0};
        double due;
        late_extension_read(entry, where, lp, &due, &own);
        for (size_t i = 0; i < own.count; i++)
            problems_add(p, file, "%s", own.items[i]);
        problems_free(&own);
    }
}

json_t *extensions_load(const struct spool *s, const char *course, const char *asg,
                        const struct late_policy *lp, struct problems *p)
{
    char *path = spool_path(s, "courses/%s/%s/extensions.json", course, asg);
    json_t *ext = NULL;
    struct err e;
    if (!path) {
        problems_add(p, "extensions.json", "out of memory reading it");
    } else if (!fs_exists(path)) {
        if (!(ext = json_object()))
            problems_add(p, path, "out of memory reading it");
    } else if (!(ext = jsonutil_load_file(path, EXTENSIONS_MAX_BYTES, &e))) {
        size_t n = strlen(path);   /* "PATH:1:7: invalid JSON: ...": the path once */
        bool named = !strncmp(e.msg, path, n) && e.msg[n] == ':';
        problems_add(p, path, "%s%s", named ? "line:column " : "", e.msg + (named ? n + 1 : 0));
    } else if (!json_is_object(ext)) {
        problems_add(p, path, "$: must be an object {\"STUDENT\": {...}, ...}, not %s",
                     check_type_name(ext));
        json_decref(ext);
        ext = NULL;
    } else {
        extensions_check(ext, path, lp, p);
    }
    free(path);
    return ext;
}

/* Keys that are no student name may be meant for anyone. */
static bool has_stray_key(const json_t *ext)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)ext, key, v)
        if (!spool_name_is_valid(key))
            return true;
    return false;
}

int extensions_due_for(const struct spool *s, const char *course, const char *asg,
                       const char *student, const struct late_policy *lp, double *due,
                       bool *extended, struct problems *p)
{
    *due = lp->due;
    *extended = false;
    json_t *ext = extensions_load(s, course, asg, lp, p);
    const json_t *mine = json_object_get(ext, student);
    bool certain = ext && !has_stray_key(ext);
    if (mine) {
        struct problems own = {0};   /* already in *p, with the file's name */
        char where[128];
        key_where(where, sizeof where, student);
        double d = lp->due;
        if (late_extension_read(mine, where, lp, &d, &own) == 0) {
            *due = d;
            *extended = true;
        } else {
            certain = false;
        }
        problems_free(&own);
    }
    json_decref(ext);
    return certain ? 0 : -1;
}

int extensions_lock(const struct spool *s, const char *course, const char *asg, struct err *e)
{
    char *dir = spool_path(s, "courses/%s/%s", course, asg);
    int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (fd < 0)
        err_sys(e, "cannot open %s", dir ? dir : "the assignment directory");
    else if (flock(fd, LOCK_EX) < 0) {   /* held for milliseconds by another grant */
        err_sys(e, "cannot lock %s", dir);
        close(fd);
        fd = -1;
    }
    free(dir);
    return fd;
}

int extensions_save(const struct spool *s, const char *course, const char *asg,
                    const json_t *ext, struct err *e)
{
    char *rel = NULL;
    if (asprintf(&rel, "courses/%s/%s/extensions.json", course, asg) < 0)
        return err_set(e, "out of memory");
    int rc = spool_write_json(s, rel, ext, e);
    free(rel);
    return rc;
}

bool extensions_student_known(const struct spool *s, const char *course, const char *student)
{
    char rel[200];
    snprintf(rel, sizeof rel, "submissions/%s", course);
    struct fs_list asgs;
    /* out of memory listing: those listed are looked at, and a student
     * missed is only refused an extension with the reason said */
    scan_spool(s, rel, SCAN_NAMES, &asgs);
    bool known = false;
    for (size_t i = 0; i < asgs.n && !known; i++) {
        char *dir = spool_path(s, "submissions/%s/%s/%s", course, asgs.names[i], student);
        known = fs_is_dir(dir);
        free(dir);
    }
    fs_list_free(&asgs);
    return known;
}

int extensions_set(const struct spool *s, const char *course, const char *asg,
                   const char *student, json_t *entry, const struct late_policy *lp,
                   json_t **before, struct problems *p, struct err *e)
{
    e->msg[0] = '\0';
    if (before)
        *before = NULL;
    int lock = extensions_lock(s, course, asg, e);
    if (lock < 0) {
        json_decref(entry);
        return -1;
    }
    struct problems load = {0};
    json_t *ext = extensions_load(s, course, asg, lp, &load);
    int rc = -1;
    if (!ext) {   /* no object to change: only a person can say what was meant */
        problems_free(p);
        *p = load;
        load = (struct problems){0};
    } else {
        if (before)
            *before = json_deep_copy(json_object_get(ext, student));
        if (entry ? json_object_set_new(ext, student, json_incref(entry)) < 0
                  : json_object_del(ext, student) < 0) {
            err_set(e, entry ? "out of memory" : "%s has no extension for %s/%s", student, course,
                    asg);
        } else {
            char *file = spool_path(s, "courses/%s/%s/extensions.json", course, asg);
            size_t had = p->count;
            extensions_check(ext, file ? file : "extensions.json", lp, p);
            rc = p->count > had ? -1 : extensions_save(s, course, asg, ext, e);
            free(file);
        }
    }
    problems_free(&load);
    json_decref(ext);
    json_decref(entry);
    close(lock);
    return rc;
}
