/*
 * archive.c - zip archives (libzip) for submissions and job bundles.
 *
 * A zip that a student uploaded is hostile input: names may climb out
 * with "../" or start with "/", entries may be symlinks, and the sizes in
 * the headers may lie (a zip bomb).  archive_extract checks every name
 * before writing anything, counts bytes as it inflates them, creates
 * files with O_EXCL|O_NOFOLLOW, and on any problem removes what it wrote
 * and says which entry was wrong.
 */
#define _GNU_SOURCE
#include "common/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "common/fs.h"

static bool entry_is_link_or_special(zip_t *z, zip_uint64_t i)
{
    zip_uint8_t opsys;
    zip_uint32_t attr;
    if (zip_file_get_external_attributes(z, i, 0, &opsys, &attr) < 0)
        return false;
    if (opsys != ZIP_OPSYS_UNIX)
        return false;
    mode_t type = (mode_t)(attr >> 16) & S_IFMT;
    if (type == 0)   /* permission bits only, as Python's zipfile writes */
        return false;
    return type != S_IFREG && type != S_IFDIR;
}

/* Checks every entry's name and type before anything is written. */
static int check_entries(zip_t *z, zip_int64_t n, const struct archive_limits *lim,
                         const char *zipname, struct err *e)
{
    if ((uint64_t)n > lim->max_entries)
        return err_set(e, "%s has %lld entries; the limit is %llu", zipname,
                       (long long)n, (unsigned long long)lim->max_entries);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!name)
            return err_set(e, "%s: entry %lld has no readable name", zipname, (long long)i);
        char *copy = strdup(name);
        size_t len = strlen(copy);
        while (len > 0 && copy[len - 1] == '/')
            copy[--len] = '\0';
        bool safe = fs_relpath_is_safe(copy);
        free(copy);
        if (!safe)
            return err_set(e, "%s: entry \"%s\" has an unsafe path (absolute or "
                           "containing \"..\"); the archive was not unpacked", zipname, name);
        if (entry_is_link_or_special(z, (zip_uint64_t)i))
            return err_set(e, "%s: entry \"%s\" is a symbolic link or special file; "
                           "submit regular files only", zipname, name);
    }
    return 0;
}

static int make_parents(const char *dest, const char *name, struct err *e)
{
    char *path = fs_join(dest, name);
    if (!path)
        return err_set(e, "out of memory");
    char *slash = strrchr(path, '/');
    int rc = 0;
    if (slash && slash > path + strlen(dest)) {
        *slash = '\0';
        rc = fs_mkdir_p(path, 0755, e);
    }
    free(path);
    return rc;
}

static int extract_one(zip_t *z, zip_uint64_t i, const char *name, const char *dest,
                       const struct archive_limits *lim, uint64_t *total,
                       const char *zipname, struct err *e)
{
    if (make_parents(dest, name, e) < 0)
        return -1;
    char *path = fs_join(dest, name);
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    if (fd < 0) {
        int rc = errno == EEXIST
                     ? err_set(e, "%s: entry \"%s\" appears twice", zipname, name)
                     : err_sys(e, "cannot create %s", path ? path : name);
        free(path);
        return rc;
    }
    free(path);
    zip_file_t *zf = zip_fopen_index(z, i, 0);
    if (!zf) {
        close(fd);
        return err_set(e, "%s: entry \"%s\" cannot be read: %s", zipname, name,
                       zip_strerror(z));
    }
    int rc = 0;
    uint64_t size = 0;
    char chunk[65536];
    for (;;) {
        zip_int64_t got = zip_fread(zf, chunk, sizeof chunk);
        if (got < 0) {
            rc = err_set(e, "%s: entry \"%s\" is corrupt: %s", zipname, name,
                         zip_file_strerror(zf));
            break;
        }
        if (got == 0)
            break;
        size += (uint64_t)got;
        *total += (uint64_t)got;
        if (size > lim->max_file_bytes || *total > lim->max_total_bytes) {
            rc = err_set(e, "%s: unpacking \"%s\" goes over the size limit of %llu "
                         "bytes (%s); the archive was refused", zipname, name,
                         (unsigned long long)(size > lim->max_file_bytes
                                                  ? lim->max_file_bytes
                                                  : lim->max_total_bytes),
                         size > lim->max_file_bytes ? "per file" : "in total");
            break;
        }
        if (write(fd, chunk, (size_t)got) != got) {
            rc = err_sys(e, "cannot write \"%s\"", name);
            break;
        }
    }
    zip_fclose(zf);
    close(fd);
    return rc;
}

static int extract_all(zip_t *z, zip_int64_t n, const char *dest,
                       const struct archive_limits *lim, const char *zipname,
                       struct err *e)
{
    uint64_t total = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        size_t len = strlen(name);
        if (len > 0 && name[len - 1] == '/') {
            char *dir = fs_join(dest, name);
            int rc = dir ? fs_mkdir_p(dir, 0755, e) : err_set(e, "out of memory");
            free(dir);
            if (rc < 0)
                return -1;
            continue;
        }
        if (extract_one(z, (zip_uint64_t)i, name, dest, lim, &total, zipname, e) < 0)
            return -1;
    }
    return 0;
}

/* Empties DEST after a refused archive, keeping DEST itself (its mode and
 * owner are the caller's). */
static void empty_dir(const char *dest)
{
    DIR *d = opendir(dest);
    struct dirent *de;
    struct err ignored;
    while (d && (de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *p = fs_join(dest, de->d_name);
        fs_remove_tree(p, &ignored);
        free(p);
    }
    if (d)
        closedir(d);
}

int archive_extract(const char *zip, const char *dest,
                    const struct archive_limits *lim, struct err *e)
{
    const char *zipname = strrchr(zip, '/') ? strrchr(zip, '/') + 1 : zip;
    int zerr = 0;
    zip_t *z = zip_open(zip, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        err_set(e, "%s is not a readable zip archive: %s", zipname, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    zip_int64_t n = zip_get_num_entries(z, 0);
    int rc = check_entries(z, n, lim, zipname, e);
    if (rc == 0)
        rc = extract_all(z, n, dest, lim, zipname, e);
    zip_discard(z);
    if (rc < 0)
        empty_dir(dest);
    return rc;
}

struct add_ctx {
    zip_t *z;
    const char *dir, *prefix;
    struct err *e;
};

static int add_file(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct add_ctx *c = arg;
    char *path = fs_join(c->dir, rel), *name = NULL;
    zip_source_t *src = path ? zip_source_file(c->z, path, 0, -1) : NULL;
    free(path);
    if (asprintf(&name, "%s%s", c->prefix, rel) < 0)
        name = NULL;
    zip_int64_t idx = src && name ? zip_file_add(c->z, name, src, ZIP_FL_ENC_UTF_8) : -1;
    free(name);
    /* Submissions and results are small text: deflate's setup costs more
     * than it saves on a local disk or a LAN. */
    if (idx >= 0)
        zip_set_file_compression(c->z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    if (idx < 0) {
        if (src)
            zip_source_free(src);
        return err_set(c->e, "cannot add %s to the archive: %s", rel, zip_strerror(c->z));
    }
    return 0;
}

int archive_create(const char *zip, const struct archive_part *parts, size_t n,
                   struct err *e)
{
    int zerr = 0;
    zip_t *z = zip_open(zip, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z)
        return err_set(e, "cannot create archive %s (libzip error %d)", zip, zerr);
    for (size_t i = 0; i < n; i++) {
        struct add_ctx c = {z, parts[i].dir, parts[i].prefix, e};
        if (fs_walk_files(parts[i].dir, add_file, &c, e) < 0) {
            zip_discard(z);
            return -1;
        }
    }
    bool empty = zip_get_num_entries(z, 0) == 0;
    if (zip_close(z) < 0) {
        err_set(e, "cannot write archive %s: %s", zip, zip_strerror(z));
        zip_discard(z);
        return -1;
    }
    if (empty) {   /* libzip writes no file for an archive without entries */
        static const char end_record[22] = "PK\5\6";
        return fs_write_atomic(zip, end_record, sizeof end_record, e);
    }
    return 0;
}
