/* testutil.h - small helpers shared by the cmocka unit tests: private
 * temporary directories (removed without the code under test), file
 * writing and reading, and an independent UTF-8 validity check. */
#ifndef ASSAY_TESTUTIL_H
#define ASSAY_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory /tmp/assay-unit-XXXXXX (malloc'd path). */
static inline char *tu_mkdtemp(void)
{
    char *p = strdup("/tmp/assay-unit-XXXXXX");
    assert_non_null(p);
    assert_non_null(mkdtemp(p));
    return p;
}

static inline int tu_chmod_dirs(const char *path, const struct stat *st, int type,
                                struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_D || type == FTW_DNR)
        chmod(path, 0700);
    return 0;
}

static inline int tu_rm_one(const char *path, const struct stat *st, int type,
                            struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (type == FTW_DP || type == FTW_D || type == FTW_DNR)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* rm -rf without following symlinks, independent of common/fs.c. */
static inline void tu_rm_rf(const char *path)
{
    if (!path)
        return;
    nftw(path, tu_chmod_dirs, 16, FTW_PHYS);
    nftw(path, tu_rm_one, 16, FTW_PHYS | FTW_DEPTH);
}

/* cmocka setup and teardown giving each test a fresh directory in *state. */
static inline int tu_setup_dir(void **state)
{
    *state = tu_mkdtemp();
    return 0;
}

static inline int tu_teardown_dir(void **state)
{
    tu_rm_rf(*state);
    free(*state);
    return 0;
}

/* malloc'd "dir/name". */
static inline char *tu_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static inline void tu_write(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        assert_true(w > 0);
        p += w;
        len -= (size_t)w;
    }
    assert_int_equal(close(fd), 0);
}

static inline void tu_write_at(const char *dir, const char *rel, const char *text)
{
    char *p = tu_path(dir, rel);
    tu_write(p, text, strlen(text));
    free(p);
}

static inline void tu_mkdir_at(const char *dir, const char *rel)
{
    char *p = tu_path(dir, rel);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
}

/* Whole file, malloc'd and NUL-terminated; NULL if it cannot be read. */
static inline char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *data = malloc(cap + 1);
    assert_non_null(data);
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            data = realloc(data, cap + 1);
            assert_non_null(data);
        }
    }
    fclose(f);
    data[n] = '\0';
    if (len)
        *len = n;
    return data;
}

/* Number of entries (besides . and ..) in DIR, or -1 if DIR is not a
 * directory (symlinks are not followed). */
static inline int tu_count_entries(const char *dir)
{
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

/* Strict UTF-8 check (no overlongs, surrogates, > U+10FFFF), written
 * independently of common/buf.c. */
static inline bool tu_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n;
    }
    return true;
}

static inline bool tu_contains(const char *hay, const char *needle)
{
    return hay && needle && strstr(hay, needle) != NULL;
}

#endif
