/*
 * submission.c - staging a submission before grading.
 *
 * Students hand in a folder, a single file or a zip.  Whatever it is,
 * it is copied into a private staging directory as plain files and
 * folders: symlinks and special files are left out, sizes and counts are
 * bounded, and a zip is unpacked with the checks of common/archive.c.
 * Every test then copies from the staging directory, so nothing a test
 * run changes is seen by the next.
 */
#define _GNU_SOURCE
#include "engine/submission.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/fs.h"

struct tally {
    unsigned long long bytes;
    unsigned long files;
    const char *too_big;
    char name[512];
};

static int tally_file(const char *rel, off_t size, void *arg)
{
    struct tally *t = arg;
    t->bytes += (unsigned long long)size;
    t->files++;
    if ((unsigned long long)size > SUBMISSION_MAX_FILE_BYTES && !t->too_big) {
        snprintf(t->name, sizeof t->name, "%s", rel);
        t->too_big = t->name;
    }
    return 0;
}

static int stage_dir(const char *path, const char *dest, struct err *e)
{
    struct tally t = {0};
    if (fs_walk_files(path, tally_file, &t, e) < 0)
        return -1;
    if (t.too_big)
        return err_set(e, "%s is larger than %llu MB, the limit for one file", t.too_big,
                       SUBMISSION_MAX_FILE_BYTES >> 20);
    if (t.bytes > SUBMISSION_MAX_BYTES)
        return err_set(e, "the submission holds %llu MB, more than the limit of %llu MB",
                       t.bytes >> 20, SUBMISSION_MAX_BYTES >> 20);
    if (t.files > SUBMISSION_MAX_FILES)
        return err_set(e, "the submission holds %lu files, more than the limit of %d",
                       t.files, SUBMISSION_MAX_FILES);
    return fs_copy_tree(path, dest, e) < 0 ? -1 : 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int submission_stage(const char *path, const char *dest, struct err *e)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return err_sys(e, "cannot read the submission %s", path);
    if (S_ISDIR(st.st_mode))
        return stage_dir(path, dest, e);
    if (!S_ISREG(st.st_mode))
        return err_set(e, "%s is not a regular file or a folder", path);
    if (has_suffix(path, ".zip")) {
        struct archive_limits lim = {SUBMISSION_MAX_BYTES, SUBMISSION_MAX_FILE_BYTES,
                                     SUBMISSION_MAX_FILES};
        return archive_extract(path, dest, &lim, e);
    }
    if ((unsigned long long)st.st_size > SUBMISSION_MAX_FILE_BYTES)
        return err_set(e, "%s is larger than %llu MB, the limit for one file", path,
                       SUBMISSION_MAX_FILE_BYTES >> 20);
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    char *target = fs_join(dest, base);
    int rc = fs_copy_file(path, target, 0644, e);
    free(target);
    return rc;
}

/* The single entry of DIR if it is a folder (ignoring __MACOSX), else NULL. */
static char *only_subdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *only = NULL;
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            !strcmp(de->d_name, "__MACOSX"))
            continue;
        count++;
        free(only);
        only = fs_join(dir, de->d_name);   /* NULL (out of memory): not unwrapped */
    }
    closedir(d);
    if (count != 1 || !fs_is_dir(only)) {
        free(only);
        return NULL;
    }
    return only;
}

void submission_unwrap(const char *dest)
{
    char *sub = only_subdir(dest);
    if (!sub)
        return;
    char *moved = fs_join(dest, ".assay-unwrap");
    if (rename(sub, moved) == 0) {
        DIR *d = opendir(moved);
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            char *from = fs_join(moved, de->d_name), *to = fs_join(dest, de->d_name);
            if (rename(from, to) < 0) { /* a name clash: leave it inside */ }
            free(from);
            free(to);
        }
        if (d)
            closedir(d);
        struct err ignored;   /* what stays clashed with a name outside: still the student's */
        fs_remove_tree(moved, &ignored);
    }
    char *mac = fs_join(dest, "__MACOSX");
    struct err ignored;   /* macOS's metadata left in place is harmless */
    fs_remove_tree(mac, &ignored);
    free(mac);
    free(moved);
    free(sub);
}
