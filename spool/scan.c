/*
 * scan.c - lists spool directories: the one directory scanner.
 *
 * Every reader of the queue and of results/ lists a directory the same
 * way: the scheduler loading incoming/, a shipper finding the job in its
 * slot, `assay status` counting jobs, `assay results` walking students
 * and versions.  scan_dir reads one directory (fs_list, common/fs.c),
 * keeps the entries of the kind asked for (job files, names, version
 * numbers), sorts them as that kind is read (jobs oldest first, names
 * alphabetically, versions numerically) and hands back the rest, so the
 * scheduler can move a stray file out of incoming/ with a reason.  Hidden
 * entries (".NAME": files being written) are never listed.
 */
#define _GNU_SOURCE
#include "spool/scan.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_NAME_MAX 100

bool job_name_to_id(const char *name, char *id, size_t n)
{
    size_t len = strlen(name);
    if (len <= 5 || len >= JOB_NAME_MAX || name[0] == '.' || strcmp(name + len - 5, ".json"))
        return false;
    if (id && len - 5 >= n)
        return false;
    if (id)
        snprintf(id, n, "%.*s", (int)(len - 5), name);
    return true;
}

static long long version_of(const char *name)
{
    size_t len = strspn(name, "0123456789");
    if (len == 0 || len > 18 || name[len] || name[0] == '0')
        return 0;
    return strtoll(name, NULL, 10);
}

static bool is_job(const char *name)
{
    return job_name_to_id(name, NULL, 0);
}

static bool is_name(const char *name)
{
    return spool_name_is_valid(name);
}

static bool is_version(const char *name)
{
    return version_of(name) > 0;
}

static int cmp_versions(const void *a, const void *b)
{
    long long x = version_of(*(char *const *)a), y = version_of(*(char *const *)b);
    return x < y ? -1 : x > y;
}

int scan_dir(const char *dir, enum scan_what what, struct fs_list *out)
{
    switch (what) {
    case SCAN_JOBS: return fs_list(dir, is_job, fs_cmp_names, out);
    case SCAN_NAMES: return fs_list(dir, is_name, fs_cmp_names, out);
    case SCAN_VERSIONS: return fs_list(dir, is_version, cmp_versions, out);
    }
    return fs_list(dir, is_job, fs_cmp_names, out);
}

int scan_spool(const struct spool *s, const char *rel, enum scan_what what, struct fs_list *out)
{
    char *dir = spool_path(s, "%s", rel);
    int rc = scan_dir(dir, what, out);
    free(dir);
    return rc;
}

size_t scan_count_jobs(const struct spool *s, const char *rel)
{
    char *dir = spool_path(s, "%s", rel);
    /* out of memory counts none: the count only picks how `assay status` reads */
    DIR *d = dir ? opendir(dir) : NULL;
    free(dir);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)))   /* counted, not listed: a queue may be long */
        n += job_name_to_id(de->d_name, NULL, 0);
    if (d)
        closedir(d);
    return n;
}

long long *spool_versions(const struct spool *s, const char *area, const char *course,
                          const char *assignment, const char *student, size_t *n)
{
    char *dir = spool_path(s, "%s/%s/%s/%s", area, course, assignment, student);
    struct fs_list sc;
    long long *v = NULL;
    *n = 0;
    if (scan_dir(dir, SCAN_VERSIONS, &sc) == 0 && sc.n && (v = malloc(sc.n * sizeof *v))) {
        for (size_t i = 0; i < sc.n; i++)
            v[i] = version_of(sc.names[i]);
        *n = sc.n;
    }
    fs_list_free(&sc);
    free(dir);
    return v;
}

long long spool_latest_version(const struct spool *s, const char *area, const char *course,
                               const char *assignment, const char *student)
{
    size_t n;
    long long *v = spool_versions(s, area, course, assignment, student, &n), latest = n ? v[n - 1] : 0;
    free(v);
    return latest;
}
