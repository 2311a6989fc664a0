/*
 * fs.c - file system helpers shared by every Assay program.
 *
 * Everything here assumes that a directory may contain files planted by
 * student code: reads refuse symlinks, FIFOs and devices and are bounded
 * in size; removal never follows a link out of the tree; copies take
 * regular files and directories only.  Writes that others may read
 * concurrently go through fs_write_atomic, so no reader sees half a file.
 */
#define _GNU_SOURCE
#include "common/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

bool fs_relpath_is_safe(const char *rel)
{
    if (!rel || !*rel || rel[0] == '/')
        return false;
    const char *p = rel;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        for (size_t i = 0; i < n; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
                return false;
        if (!slash)
            break;
        p = slash + 1;
        if (!*p)
            return false;
    }
    return true;
}

char *fs_join(const char *a, const char *b)
{
    if (!a || !b)
        return NULL;   /* a path that could not be made: so is this one */
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb + 1);
    return p;
}

bool fs_exists(const char *path)
{
    struct stat st;
    return path && lstat(path, &st) == 0;
}

bool fs_is_dir(const char *path)
{
    struct stat st;
    return path && lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Makes PATH and its missing parents; with DURABLE each directory made is
 * synced into its parent as it is made, so none is lost in a power cut
 * while a name below it survives.  PATH itself is tried first: in a spool
 * its parents nearly always exist, and a walk from the root would cost a
 * mkdir per level every time. */
static int mkdir_parents(const char *path, mode_t mode, bool durable, struct err *e)
{
    if (path && !*path)
        return err_set(e, "cannot create a directory with an empty name");
    /* (a trailing slash takes the walk, which syncs the right parent) */
    bool leaf_first = path && path[strlen(path) - 1] != '/';
    if (leaf_first && mkdir(path, mode) == 0)
        return durable ? fs_sync_parent(path, e) : 0;
    if (leaf_first && errno == EEXIST)
        return fs_is_dir(path) ? 0 : err_set(e, "%s exists and is not a directory", path);
    if (leaf_first && errno != ENOENT)   /* ENOENT: a parent is missing, made below */
        return err_sys(e, "cannot create directory %s", path);
    char *p = path ? strdup(path) : NULL;
    if (!p)
        return err_set(e, "out of memory");
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        if (*s == '/' || *s == '\0') {
            char c = *s;
            *s = '\0';
            bool made = mkdir(p, mode) == 0;
            if (!made && errno != EEXIST)
                rc = err_sys(e, "cannot create directory %s", p);
            else if (made && durable)
                rc = fs_sync_parent(p, e);
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    if (rc == 0 && !fs_is_dir(path))
        return err_set(e, "%s exists and is not a directory", path);
    return rc;
}

int fs_mkdir_p(const char *path, mode_t mode, struct err *e)
{
    return mkdir_parents(path, mode, false, e);
}

int fs_mkdir_p_durable(const char *path, mode_t mode, struct err *e)
{
    return mkdir_parents(path, mode, true, e);
}

int fs_mkdtemp(const char *base, const char *prefix, char **out, struct err *e)
{
    if (!base)
        return err_set(e, "out of memory");
    size_t n = strlen(base) + strlen(prefix) + 10;
    char *tmpl = malloc(n);
    if (!tmpl)
        return err_set(e, "out of memory");
    snprintf(tmpl, n, "%s/%s-XXXXXX", base, prefix);
    if (!mkdtemp(tmpl)) {
        err_sys(e, "cannot create a temporary directory in %s", base);
        free(tmpl);
        return -1;
    }
    *out = tmpl;
    return 0;
}

/* ---- removing trees ----
 *
 * A tree to remove may have been made by student code: any depth, any
 * names, symlinks, unreadable directories.  The walk holds one
 * directory open at a time and keeps its way back in memory (each
 * directory's name, identity and subdirectories still to go), so no
 * depth is too deep and no path too long; it opens every directory with
 * O_NOFOLLOW and climbs back through ".." only after checking that it
 * leads to the directory it came from, so a link is removed, never
 * followed, and it never leaves the file system it started on. */

struct rm_frame {
    char *name;                 /* in the parent directory; NULL for the top */
    dev_t dev;
    ino_t ino;
    char **subdirs;             /* still to remove, each freed once done */
    size_t n, next;
};

struct rm_walk {
    const char *top;            /* for messages */
    struct rm_frame *frames;
    size_t depth, cap;          /* frames[depth - 1] is the open directory */
    int fd;
    bool failed;
    struct err *e;              /* the first failure */
};

/* TOP/REL for a message, with a long REL's middle left out. */
static void rm_fail(struct rm_walk *w, const char *name, int errnum)
{
    if (w->failed)
        return;
    w->failed = true;
    struct buf rel = BUF_INIT;
    for (size_t i = 1; i < w->depth; i++)
        buf_printf(&rel, "%s/", w->frames[i].name);
    if (name)
        buf_puts(&rel, name);
    const char *r = buf_str(&rel);
    size_t len = strlen(r);
    errno = errnum;
    if (len > 300)
        err_sys(w->e, "cannot remove %s/%.100s/.../%s", w->top, r, r + len - 100);
    else
        err_sys(w->e, "cannot remove %s%s%s", w->top, len ? "/" : "", r);
    buf_free(&rel);
}

static int rm_add_subdir(struct rm_frame *f, const char *name)
{
    char **grown = realloc(f->subdirs, (f->n + 1) * sizeof *f->subdirs);
    if (!grown)
        return -1;
    f->subdirs = grown;
    return (f->subdirs[f->n] = strdup(name)) ? (int)f->n++ : -1;
}

/* Unlinks every entry of the open directory that is not a directory and
 * notes the directories for later. */
static int rm_list(struct rm_walk *w)
{
    struct rm_frame *f = &w->frames[w->depth - 1];
    int fd = dup(w->fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        rm_fail(w, NULL, errno);
        return -1;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, ".."))
            continue;
        struct stat st;
        bool dir = de->d_type == DT_DIR ||
                   (de->d_type == DT_UNKNOWN && fstatat(w->fd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(st.st_mode));
        if (dir && rm_add_subdir(f, n) < 0) {
            closedir(d);
            rm_fail(w, n, ENOMEM);
            return -1;
        }
        if (!dir && unlinkat(w->fd, n, 0) < 0 && errno != ENOENT)
            rm_fail(w, n, errno);
    }
    closedir(d);
    return 0;
}

/* Opens subdirectory NAME of the open directory, making it usable first
 * if code under test took its permissions away. */
static int rm_open_sub(struct rm_walk *w, const char *name, struct stat *st)
{
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(w->fd, name, flags);
    if (fd < 0 && errno == EACCES && fchmodat(w->fd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
        fd = openat(w->fd, name, flags);
    if (fd < 0)
        return -1;
    int bad = fstat(fd, st) < 0 ? errno : st->st_dev != w->frames[0].dev ? EXDEV : 0;
    if (bad) {   /* EXDEV: another file system mounted inside, left alone */
        close(fd);
        errno = bad;
        return -1;
    }
    if ((st->st_mode & 0700) != 0700)
        fchmod(fd, 0700);   /* if it fails, the unlinks below say so */
    return fd;
}

static int rm_push(struct rm_walk *w, char *name, int fd, const struct stat *st)
{
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        struct rm_frame *grown = realloc(w->frames, cap * sizeof *grown);
        if (!grown)
            return -1;
        w->frames = grown;
        w->cap = cap;
    }
    w->frames[w->depth++] = (struct rm_frame){.name = name, .dev = st->st_dev, .ino = st->st_ino};
    if (w->fd >= 0)
        close(w->fd);
    w->fd = fd;
    return 0;
}

static void rm_frame_free(struct rm_frame *f)
{
    for (size_t i = f->next; i < f->n; i++)
        free(f->subdirs[i]);
    free(f->subdirs);
    free(f->name);
}

/* Back to the parent through "..", which must be the directory the walk
 * came from; then the finished directory is removed from it. */
static int rm_pop(struct rm_walk *w)
{
    struct rm_frame *f = &w->frames[w->depth - 1], *parent = f - 1;
    int fd = openat(w->fd, "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || st.st_dev != parent->dev || st.st_ino != parent->ino) {
        int saved = fd < 0 ? errno : EXDEV;
        if (fd >= 0)
            close(fd);
        w->depth--;   /* the message names the directory that moved */
        rm_fail(w, f->name, saved);
        w->depth++;
        return -1;
    }
    close(w->fd);
    w->fd = fd;
    w->depth--;
    if (unlinkat(fd, f->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
        rm_fail(w, f->name, errno);
    rm_frame_free(f);
    return 0;
}

/* Removes everything below the open directory FD (taken over), top
 * included in the walk's frames as frame 0. */
static int rm_walk_run(struct rm_walk *w)
{
    if (rm_list(w) < 0)
        return -1;
    while (w->depth > 0) {
        struct rm_frame *f = &w->frames[w->depth - 1];
        if (f->next == f->n) {
            if (w->depth == 1)
                return 0;
            if (rm_pop(w) < 0)
                return -1;
            continue;
        }
        char *name = f->subdirs[f->next++];
        struct stat st;
        int fd = rm_open_sub(w, name, &st);
        if (fd < 0) {
            if (errno == ENOTDIR && unlinkat(w->fd, name, 0) == 0)
                errno = 0;   /* replaced by a file meanwhile: gone now */
            else if (errno != ENOENT)
                rm_fail(w, name, errno);
            free(name);
            continue;
        }
        if (rm_push(w, name, fd, &st) < 0) {
            close(fd);
            rm_fail(w, name, ENOMEM);
            free(name);
            return -1;
        }
        if (rm_list(w) < 0)
            return -1;
    }
    return 0;
}

/* Empties the directory open as FD (taken over and closed); TOP names it. */
static int remove_below(int fd, const char *top, struct err *e)
{
    struct rm_walk w = {.top = top, .fd = -1, .e = e};
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return err_sys(e, "cannot remove %s", top);
    }
    int rc = rm_push(&w, NULL, fd, &st);
    if (rc < 0) {
        close(fd);
        err_set(e, "out of memory removing %s", top);
    } else {
        rc = rm_walk_run(&w);
    }
    for (size_t i = 0; i < w.depth; i++)
        rm_frame_free(&w.frames[i]);
    free(w.frames);
    if (w.fd >= 0)
        close(w.fd);
    return rc < 0 || w.failed ? -1 : 0;
}

/* Opens the directory PATH to empty it, making it usable first if code
 * under test took its permissions away (a mode that lets its owner in
 * is kept as it is: the directory may stay). */
static int open_top(const char *path)
{
    int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(path, flags);
    if (fd < 0 && errno == EACCES && fchmodat(AT_FDCWD, path, 0700, AT_SYMLINK_NOFOLLOW) == 0)
        fd = open(path, flags);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0700) != 0700)
        fchmod(fd, st.st_mode | 0700);   /* if it fails, the unlinks inside say so */
    return fd;
}

int fs_remove_tree(const char *path, struct err *e)
{
    if (!path)
        return err_set(e, "out of memory");
    if (unlink(path) == 0 || errno == ENOENT)
        return 0;
    /* EISDIR: a directory; EPERM: a directory (POSIX allows it) or a file
     * that cannot go (immutable, append-only) */
    if (errno != EISDIR && errno != EPERM)
        return err_sys(e, "cannot remove %s", path);
    int unlink_errno = errno;
    int fd = open_top(path);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == ENOTDIR)
            errno = unlink_errno;   /* a file: why it could not be unlinked */
        return err_sys(e, "cannot remove %s", path);
    }
    if (remove_below(fd, path, e) < 0)
        return -1;
    if (rmdir(path) < 0 && errno != ENOENT)
        return err_sys(e, "cannot remove %s", path);
    return 0;
}

int fs_empty_dir(const char *path, struct err *e)
{
    if (!path)
        return err_set(e, "out of memory");
    int fd = open_top(path);
    if (fd < 0)
        return errno == ENOENT ? 0 : err_sys(e, "cannot open %s", path);
    return remove_below(fd, path, e);
}

/* Reads an open regular file into out, failing above max bytes. */
static int read_fd_bounded(int fd, const char *what, size_t max,
                           struct buf *out, struct err *e)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_sys(e, "cannot stat %s", what);
    if (!S_ISREG(st.st_mode))
        return err_set(e, "%s is not a regular file", what);
    char chunk[65536];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_sys(e, "cannot read %s", what);
        }
        if (n == 0)
            break;
        total += (size_t)n;
        if (total > max)
            return err_set(e, "%s is larger than the limit of %zu bytes", what, max);
        if (buf_append(out, chunk, (size_t)n) < 0)
            return err_set(e, "out of memory reading %s", what);
    }
    if (buf_append(out, "", 0) < 0)   /* an empty file still gets its "" */
        return err_set(e, "out of memory reading %s", what);
    return 0;
}

int fs_read_file(const char *path, size_t max, struct buf *out, struct err *e)
{
    if (!path)
        return err_set(e, "out of memory");
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "cannot open %s", path);
    int rc = read_fd_bounded(fd, path, max, out, e);
    close(fd);
    return rc;
}

int fs_read_beneath(int dirfd, const char *rel, size_t max, struct buf *out,
                    struct err *e)
{
    struct open_how how = {
        .flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                   RESOLVE_NO_XDEV,
    };
    int fd = (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
    if (fd < 0)
        return err_sys(e, "cannot open %s", rel);
    int rc = read_fd_bounded(fd, rel, max, out, e);
    close(fd);
    return rc;
}

int fs_write_atomic(const char *path, const void *data, size_t len, struct err *e)
{
    if (!path)
        return err_set(e, "out of memory");
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return err_set(e, "out of memory");
    snprintf(tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        err_sys(e, "cannot create %s", tmp);
        free(tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            goto fail;
        p += w;
        left -= (size_t)w;
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    free(tmp);
    return fs_sync_parent(path, e);
fail:
    err_sys(e, "cannot write %s", path);
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

int fs_write_file(const char *path, const void *data, size_t len, bool durable,
                  struct err *e)
{
    /* Overwritten, then cut to length, rather than opened with O_TRUNC:
     * ext4 writes a file out when it closes one that was truncated to
     * zero (auto_da_alloc), an I/O per rewritten results.json. */
    if (!path)
        return err_set(e, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_sys(e, "cannot create %s", path);
    off_t size = (off_t)len;
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            err_sys(e, "cannot write %s", path);
            close(fd);
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    int rc = ftruncate(fd, size) < 0 || (durable && fsync(fd) < 0) ? -1 : 0;
    if (close(fd) < 0)   /* closed in every case; a failure of either counts */
        rc = -1;
    return rc < 0 ? err_sys(e, "cannot write %s", path) : 0;
}

int fs_sync_dir(const char *dir, struct err *e)
{
    if (!dir)
        return err_set(e, "out of memory");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "cannot open %s to sync it", dir);
    int rc = fsync(fd) < 0 ? err_sys(e, "cannot sync %s", dir) : 0;
    close(fd);   /* read-only: nothing a close could lose */
    return rc;
}

/* malloc'd: the directory holding PATH ("." for a bare name). */
static char *parent_of(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (!path)
        return NULL;
    if (!slash)
        return strdup(".");
    return slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
}

int fs_sync_parent(const char *path, struct err *e)
{
    char *dir = parent_of(path);
    int rc = fs_sync_dir(dir, e);
    free(dir);
    return rc;
}

int fs_sync_rename(const char *from, const char *to, struct err *e)
{
    char *a = parent_of(from), *b = parent_of(to);
    int rc = fs_sync_dir(b, e);
    if (rc == 0 && (!a || strcmp(a, b) != 0))
        rc = fs_sync_dir(a, e);   /* a NULL (out of memory) fails there */
    free(a);
    free(b);
    return rc;
}

struct sync_ctx {
    const char *root;
    struct err *e;
};

static int sync_one(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct sync_ctx *c = arg;
    char *path = fs_join(c->root, rel);
    int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : err_sys(c->e, "cannot sync %s", path ? path : rel);
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

int fs_sync_tree(const char *root, struct err *e)
{
    struct sync_ctx c = {root, e};
    if (fs_walk_files(root, sync_one, &c, e) < 0)
        return -1;
    return fs_sync_dir(root, e);
}

int fs_copy_fd(int in, const char *src, const char *dst, mode_t mode, struct err *e)
{
    if (!dst)
        return err_set(e, "out of memory");
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (out < 0)
        return err_sys(e, "cannot create %s", dst);
    int rc = 0;
    char chunk[65536];
    for (off_t at = 0;;) {
        ssize_t n = pread(in, chunk, sizeof chunk, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0)
                rc = err_sys(e, "cannot read %s", src);
            break;
        }
        at += n;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = err_sys(e, "cannot write %s", dst);
                goto done;
            }
            off += w;
        }
    }
done:
    if (close(out) < 0 && rc == 0)
        rc = err_sys(e, "cannot write %s", dst);
    return rc;
}

int fs_copy_file(const char *src, const char *dst, mode_t mode, struct err *e)
{
    if (!src || !dst)
        return err_set(e, "out of memory");
    int in = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0)
        return err_sys(e, "cannot open %s", src);
    struct stat st;
    int rc = fstat(in, &st) < 0 || !S_ISREG(st.st_mode)
                 ? err_set(e, "%s is not a regular file", src)
                 : fs_copy_fd(in, src, dst, mode, e);
    close(in);
    return rc;
}

static int copy_tree_rec(const char *src, const char *dst, int depth, struct err *e)
{
    if (depth > FS_MAX_DEPTH)
        return err_set(e, "%s is nested too deeply", src);
    if (mkdir(dst, 0755) < 0 && errno != EEXIST)
        return err_sys(e, "cannot create directory %s", dst);
    DIR *d = opendir(src);
    if (!d)
        return err_sys(e, "cannot read directory %s", src);
    int count = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *s = fs_join(src, de->d_name), *t = fs_join(dst, de->d_name);
        struct stat st;
        int rc = 0;
        if (!s || !t)
            rc = err_set(e, "out of memory");
        else if (lstat(s, &st) < 0)
            rc = err_sys(e, "cannot stat %s", s);
        else if (S_ISDIR(st.st_mode))
            rc = copy_tree_rec(s, t, depth + 1, e);
        else if (S_ISREG(st.st_mode))
            rc = fs_copy_file(s, t, 0644, e) < 0 ? -1 : 1;
        free(s);
        free(t);
        if (rc < 0) {
            closedir(d);
            return -1;
        }
        count += rc;
    }
    closedir(d);
    return count;
}

int fs_copy_tree(const char *src, const char *dst, struct err *e)
{
    if (!src || !dst)
        return err_set(e, "out of memory");
    return copy_tree_rec(src, dst, 0, e);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk_rec(const char *root, const char *rel, fs_walk_fn fn, void *arg,
                    int depth, struct err *e)
{
    if (depth > FS_MAX_DEPTH)
        return err_set(e, "%s is nested too deeply", root);
    char *dir = rel[0] ? fs_join(root, rel) : strdup(root);
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) {
        err_sys(e, "cannot read directory %s", dir ? dir : root);
        free(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (grown)
            names = grown;
        if (!grown || !(names[n] = strdup(de->d_name))) {
            rc = err_set(e, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        char *path = fs_join(dir, names[i]);
        char *sub = rel[0] ? fs_join(rel, names[i]) : strdup(names[i]);
        struct stat st;
        if (rc == 0 && (!path || !sub))
            rc = err_set(e, "out of memory listing %s", dir);
        if (rc == 0 && lstat(path, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                rc = walk_rec(root, sub, fn, arg, depth + 1, e);
            else if (S_ISREG(st.st_mode))
                rc = fn(sub, st.st_size, arg);
        }
        free(path);
        free(sub);
        free(names[i]);
    }
    free(names);
    free(dir);
    return rc;
}

int fs_walk_files(const char *root, fs_walk_fn fn, void *arg, struct err *e)
{
    if (!root)
        return err_set(e, "out of memory");
    return walk_rec(root, "", fn, arg, 0, e);
}

char *fs_program_dir(void)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return strdup(".");
    exe[n] = '\0';
    return strdup(dirname(exe));
}

static int list_push(char ***v, size_t *n, size_t *cap, const char *name)
{
    if (*n == *cap) {
        size_t grown_cap = *cap ? *cap * 2 : 64;
        char **grown = realloc(*v, grown_cap * sizeof *grown);
        if (!grown)
            return -1;
        *v = grown;
        *cap = grown_cap;
    }
    if (!((*v)[*n] = strdup(name)))
        return -1;
    (*n)++;
    return 0;
}

int fs_list(const char *dir, bool (*keep)(const char *name),
            int (*cmp)(const void *a, const void *b), struct fs_list *out)
{
    memset(out, 0, sizeof *out);
    if (!dir)
        return -1;   /* its path could not be made: out of memory */
    DIR *d = opendir(dir);
    if (!d)
        return 0;   /* not there (yet): nothing in it */
    size_t cap = 0, cap_others = 0;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        const char *name = de->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (keep(name))
            rc = list_push(&out->names, &out->n, &cap, name);
        else if (name[0] != '.')
            rc = list_push(&out->others, &out->n_others, &cap_others, name);
    }
    closedir(d);
    if (cmp && out->n > 1)
        qsort(out->names, out->n, sizeof *out->names, cmp);
    return rc;
}

void fs_list_free(struct fs_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->names[i]);
    for (size_t i = 0; i < l->n_others; i++)
        free(l->others[i]);
    free(l->names);
    free(l->others);
    memset(l, 0, sizeof *l);
}

int fs_cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A secret's file: a regular file, not a link, this user's or root's,
 * that nobody else may read or write. */
static int open_secret(const char *path, const char *what, struct err *e)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return err_sys(e, "cannot open the %s file %s", what, path);
    if (fstat(fd, &st) < 0) {
        err_sys(e, "cannot read the %s file %s", what, path);
    } else if (!S_ISREG(st.st_mode)) {
        err_set(e, "the %s file %s is not a regular file", what, path);
    } else if (st.st_uid != geteuid() && st.st_uid != 0) {
        err_set(e, "the %s file %s belongs to uid %u; it must be this user's (uid %u) or root's",
                what, path, (unsigned)st.st_uid, (unsigned)geteuid());
    } else if (st.st_mode & 077) {
        err_set(e, "the %s file %s may be read by others (mode %04o); to fix: "
                "chmod 600 %s", what, path, (unsigned)(st.st_mode & 07777), path);
    } else {
        return fd;
    }
    close(fd);
    return -1;
}

char *fs_read_secret(const char *path, const char *what, struct err *e)
{
    if (!path) {
        err_set(e, "out of memory");
        return NULL;
    }
    int fd = open_secret(path, what, e);
    char buf[4096];
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0)
        close(fd);
    char *secret = NULL;
    if (fd >= 0 && n < 0)
        err_sys(e, "cannot read the %s file %s", what, path);
    if (n >= 0) {
        buf[n] = '\0';
        buf[strcspn(buf, "\r\n")] = '\0';
        if (!buf[0])
            err_set(e, "the %s file %s must hold it on its first line", what, path);
        else if (!(secret = strdup(buf)))
            err_set(e, "out of memory");
    }
    explicit_bzero(buf, sizeof buf);
    return secret;
}

void fs_free_secret(char *secret)
{
    if (secret)
        explicit_bzero(secret, strlen(secret));
    free(secret);
}
