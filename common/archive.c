/*
 * archive.c - zip archives for submissions, job bundles and results:
 * libzip reads and writes the format, and this file holds Assay's rules
 * for hostile input around it.
 *
 * A zip that a student uploaded is hostile input: names may climb out
 * with "../" or start with "/", entries may be symlinks, and the sizes in
 * the headers may lie (a zip bomb).  archive_extract gives libzip the
 * file through a source of our own (pread on the caller's descriptor:
 * nothing is copied into memory and the descriptor's offset is left
 * alone) that caps how much libzip may read while it parses the central
 * directory, so neither millions of entries nor a tail of fake end
 * records can make it allocate or work without bound.  It then checks
 * every entry's name, type, encryption and method before writing
 * anything, counts the bytes as libzip inflates them and stops at the
 * limits, checks each entry's size and CRC-32 against its header,
 * creates files with O_EXCL|O_NOFOLLOW, and on any problem removes what
 * it wrote and says which entry was wrong.  Stored and deflated entries
 * are read (what zip tools write); encrypted entries and other methods
 * are refused by name.
 *
 * archive_create writes stored entries (Assay's bundles are small text,
 * and on a local disk or a LAN deflate costs more than it saves) through
 * a source that writes to the caller's descriptor, so the shipper's job
 * bundles stay in a memfd.  Each file is opened only when libzip copies
 * it (one descriptor at a time, never through a symlink, regular files
 * only); the sizes and CRCs in the headers are libzip's count of the
 * bytes actually read, never taken from stat.
 */
#define _GNU_SOURCE
#include "common/archive.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include "common/fs.h"

#define CHUNK 65536
/* The longest entry name unpacked, in bytes: far below PATH_MAX once the
 * worker's own directories are put in front. */
#define ARCHIVE_MAX_NAME 1024
/* What libzip may read while it opens an archive: the tail where it looks
 * for the end record (a comment of up to 64 KiB, the record, the Zip64
 * locator), and per allowed entry of the central directory; never more
 * than MAX_CENTRAL_BYTES in all. */
#define TAIL_BYTES (65535 + 22 + 20)
#define CENTRAL_BYTES_PER_ENTRY 4096
#define MAX_CENTRAL_BYTES (64u << 20)
/* Entries are dated 1980-01-01 00:00 (DOS format) so that archives of
 * the same files are the same bytes. */
#define DOS_DATE_1980 ((1 << 5) | 1)

/* ---- reading: a libzip source over a descriptor ---- */

struct fd_in {
    int fd;
    uint64_t size, at;
    uint64_t budget;        /* bytes libzip may still read while opening */
    bool over_budget;
    zip_error_t zerr;
};

static zip_int64_t in_read(struct fd_in *in, void *data, zip_uint64_t len)
{
    if (len > in->size - in->at)
        len = in->size - in->at;
    if (len > in->budget) {
        in->over_budget = true;
        zip_error_set(&in->zerr, ZIP_ER_READ, EFBIG);
        return -1;
    }
    zip_uint64_t got = 0;
    while (got < len) {
        ssize_t n = pread(in->fd, (char *)data + got, len - got, (off_t)(in->at + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            zip_error_set(&in->zerr, ZIP_ER_READ, n < 0 ? errno : EIO);
            return -1;
        }
        got += (zip_uint64_t)n;
    }
    in->at += got;
    in->budget -= got;
    return (zip_int64_t)got;
}

static zip_int64_t in_stat(struct fd_in *in, void *data, zip_uint64_t len)
{
    zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &in->zerr);
    if (!st)
        return -1;
    st->size = in->size;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof *st;
}

static zip_int64_t in_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct fd_in *in = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        in->at = 0;
        return 0;
    case ZIP_SOURCE_READ:
        return in_read(in, data, len);
    case ZIP_SOURCE_CLOSE:
    case ZIP_SOURCE_FREE:
    case ZIP_SOURCE_ACCEPT_EMPTY:   /* 0: an empty file is not an archive */
        return 0;
    case ZIP_SOURCE_STAT:
        return in_stat(in, data, len);
    case ZIP_SOURCE_SEEK: {
        zip_int64_t to = zip_source_seek_compute_offset(in->at, in->size, data, len, &in->zerr);
        if (to < 0)
            return -1;
        in->at = (uint64_t)to;
        return 0;
    }
    case ZIP_SOURCE_TELL:
        return (zip_int64_t)in->at;
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&in->zerr, data, len);
    case ZIP_SOURCE_SUPPORTS:
        return ZIP_SOURCE_SUPPORTS_SEEKABLE | ZIP_SOURCE_MAKE_COMMAND_BITMASK(ZIP_SOURCE_ACCEPT_EMPTY);
    default:
        zip_error_set(&in->zerr, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* ---- reading: Assay's rules ---- */

static int unreadable(const char *zipname, struct err *e, const char *what)
{
    return err_set(e, "%s is not a readable zip archive: %s", zipname, what);
}

/* Why libzip could not open the archive, in the words of a sentence. */
static const char *open_problem(const struct fd_in *in, zip_error_t *zerr)
{
    if (in->over_budget)
        return "the central directory is too large";
    switch (zip_error_code_zip(zerr)) {
    case ZIP_ER_NOZIP:
        return "no end of central directory record";
    case ZIP_ER_MULTIDISK:
        return "archives split over several disks are not supported";
    case ZIP_ER_INCONS:
        return "its central directory is inconsistent";
    default:
        return zip_error_strerror(zerr);
    }
}

static zip_t *open_archive(struct fd_in *in, const char *zipname, struct err *e)
{
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_source_t *src = zip_source_function_create(in_cb, in, &zerr);
    zip_t *z = src ? zip_open_from_source(src, ZIP_RDONLY, &zerr) : NULL;
    if (!z) {
        unreadable(zipname, e, open_problem(in, &zerr));
        if (src)
            zip_source_free(src);
    }
    zip_error_fini(&zerr);
    in->budget = UINT64_MAX;   /* entries are bounded by the limits instead */
    return z;
}

static bool is_dir_name(const char *name)
{
    size_t len = strlen(name);
    return len > 0 && name[len - 1] == '/';
}

/* 1 safe, 0 not, -1 out of memory (not the archive's fault). */
static int name_is_safe(const char *name)
{
    char *copy = strdup(name);
    if (!copy)
        return -1;
    size_t len = strlen(copy);
    while (len > 0 && copy[len - 1] == '/')
        copy[--len] = '\0';
    bool safe = fs_relpath_is_safe(copy);
    free(copy);
    return safe;
}

/* The Unix file type in the external attributes, when there is one:
 * Python's zipfile stores permission bits only, which means a file. */
static bool is_link_or_special(zip_t *z, zip_uint64_t i)
{
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(z, i, 0, &opsys, &attr) < 0 || opsys != ZIP_OPSYS_UNIX)
        return false;
    mode_t type = (mode_t)(attr >> 16) & S_IFMT;
    return type != 0 && type != S_IFREG && type != S_IFDIR;
}

/* An entry's name for a message: a long or deep one as its first two
 * parts, "...", and its last part (cut at 60 bytes). */
static void shown_name(const char *name, char *out, size_t n)
{
    const char *last = strrchr(name, '/'), *second = strchr(name, '/');
    if (last && !last[1]) {   /* a directory entry "a/b/": its last part is b */
        const char *p = last;
        while (p > name && p[-1] != '/')
            p--;
        last = p > name ? p - 1 : NULL;
    }
    second = second ? strchr(second + 1, '/') : NULL;
    if (strlen(name) <= 120 || !last || !second || second >= last)
        snprintf(out, n, "%.120s%s", name, strlen(name) > 120 ? "..." : "");
    else
        snprintf(out, n, "%.*s/.../%.60s%s", (int)(second - name), name, last + 1,
                 strlen(last + 1) > 60 ? "..." : "");
}

/* Refuses a name the file system or the walks cannot take: a part
 * longer than NAME_MAX, a path longer than ARCHIVE_MAX_NAME, more
 * directories than FS_MAX_DEPTH. */
static int check_shape(const char *name, const char *zipname, struct err *e)
{
    char shown[200];
    shown_name(name, shown, sizeof shown);
    size_t len = strlen(name), part = 0, longest = 0;
    int dirs = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '/') {
            dirs += i + 1 < len;   /* "a/b/" is a directory b in a: one level */
            part = 0;
        } else if (++part > longest) {
            longest = part;
        }
    }
    if (longest > NAME_MAX)
        return err_set(e, "%s: entry \"%s\" has a name of %zu bytes; at most %d are allowed "
                       "(rename it); the archive was not unpacked", zipname, shown, longest,
                       NAME_MAX);
    if (dirs > FS_MAX_DEPTH)
        return err_set(e, "%s: entry \"%s\" is %d directories deep; at most %d are allowed "
                       "(flatten the folders); the archive was not unpacked", zipname, shown,
                       dirs, FS_MAX_DEPTH);
    if (len > ARCHIVE_MAX_NAME)
        return err_set(e, "%s: entry \"%s\" has a path of %zu bytes; at most %d are allowed "
                       "(shorten its folders' names); the archive was not unpacked", zipname,
                       shown, len, ARCHIVE_MAX_NAME);
    return 0;
}

static int check_entry(zip_t *z, zip_uint64_t i, const char *zipname, struct err *e)
{
    zip_stat_t st;
    if (zip_stat_index(z, i, ZIP_FL_ENC_RAW, &st) < 0)
        return unreadable(zipname, e, zip_strerror(z));
    int safe = name_is_safe(st.name);
    if (safe < 0)
        return err_set(e, "out of memory checking %s", zipname);
    if (!safe)
        return err_set(e, "%s: entry \"%s\" has an unsafe path (absolute or "
                       "containing \"..\"); the archive was not unpacked", zipname, st.name);
    if (check_shape(st.name, zipname, e) < 0)
        return -1;
    if (is_link_or_special(z, i))
        return err_set(e, "%s: entry \"%s\" is a symbolic link or special file; "
                       "submit regular files only", zipname, st.name);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        return err_set(e, "%s: entry \"%s\" is encrypted; submit an archive without a "
                       "password", zipname, st.name);
    if (!is_dir_name(st.name) && st.comp_method != ZIP_CM_STORE &&
        st.comp_method != ZIP_CM_DEFLATE)
        return err_set(e, "%s: entry \"%s\" uses compression method %u; only stored "
                       "and deflated entries can be read (zip's default)", zipname, st.name,
                       (unsigned)st.comp_method);
    return 0;
}

/* Checks the entry count, then every entry, before anything is written. */
static int check_entries(zip_t *z, const char *zipname, const struct archive_limits *lim,
                         struct err *e)
{
    zip_int64_t n = zip_get_num_entries(z, 0);
    if ((uint64_t)n > lim->max_entries)
        return err_set(e, "%s has %llu entries; the limit is %llu", zipname,
                       (unsigned long long)n, (unsigned long long)lim->max_entries);
    for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++)
        if (check_entry(z, i, zipname, e) < 0)
            return -1;
    return 0;
}

/* Where one entry's bytes go, counted against the limits as they come. */
struct sink {
    int fd;
    uint64_t size, *total;
    uLong crc;
    const struct archive_limits *lim;
    const char *zipname, *name;
};

static int sink_write(struct sink *s, const unsigned char *data, size_t len, struct err *e)
{
    s->size += len;
    *s->total += len;
    if (s->size > s->lim->max_file_bytes || *s->total > s->lim->max_total_bytes) {
        bool per_file = s->size > s->lim->max_file_bytes;
        return err_set(e, "%s: unpacking \"%s\" goes over the size limit of %llu bytes (%s); "
                       "the archive was refused", s->zipname, s->name,
                       (unsigned long long)(per_file ? s->lim->max_file_bytes
                                                     : s->lim->max_total_bytes),
                       per_file ? "per file" : "in total");
    }
    s->crc = crc32(s->crc, data, (uInt)len);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(s->fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_sys(e, "cannot write \"%s\"", s->name);
        off += (size_t)n;
    }
    return 0;
}

static int corrupt_entry(const struct sink *s, const char *why, struct err *e)
{
    return err_set(e, "%s: entry \"%s\" is corrupt: %s", s->zipname, s->name, why);
}

/* libzip checks the CRC-32 and size at the end of each entry; a failure
 * there is reported as the same mismatch as our own check below. */
static int read_problem(const struct sink *s, const zip_stat_t *st, zip_error_t *zerr,
                        struct err *e)
{
    int code = zip_error_code_zip(zerr);
    if (code == ZIP_ER_CRC)
        return corrupt_entry(s, "its CRC-32 does not match its header", e);
    if (code == ZIP_ER_INCONS && s->size != st->size)
        return corrupt_entry(s, "its size does not match its header", e);
    return corrupt_entry(s, zip_error_strerror(zerr), e);
}

static int copy_entry(zip_t *z, zip_uint64_t i, const zip_stat_t *st, struct sink *s,
                      struct err *e)
{
    zip_file_t *zf = zip_fopen_index(z, i, 0);
    if (!zf)
        return corrupt_entry(s, zip_strerror(z), e);
    unsigned char *chunk = malloc(CHUNK);
    int rc = chunk ? 0 : err_set(e, "out of memory");
    zip_int64_t n;
    while (rc == 0 && (n = zip_fread(zf, chunk, CHUNK)) != 0)
        rc = n < 0 ? read_problem(s, st, zip_file_get_error(zf), e)
                   : sink_write(s, chunk, (size_t)n, e);
    free(chunk);
    zip_fclose(zf);
    if (rc == 0 && (s->size != st->size || s->crc != st->crc))
        rc = corrupt_entry(s, s->size != st->size ? "its size does not match its header"
                                                  : "its CRC-32 does not match its header", e);
    return rc;
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

static int extract_file(zip_t *z, zip_uint64_t i, const zip_stat_t *st, const char *dest,
                        struct sink *s, struct err *e)
{
    if (make_parents(dest, st->name, e) < 0)
        return -1;
    char *path = fs_join(dest, st->name);
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    if (fd < 0) {
        int rc = errno == EEXIST
                     ? err_set(e, "%s: entry \"%s\" appears twice", s->zipname, st->name)
                     : err_sys(e, "cannot create %s", path ? path : st->name);
        free(path);
        return rc;
    }
    free(path);
    s->fd = fd;
    int rc = copy_entry(z, i, st, s, e);
    close(fd);
    return rc;
}

static int extract_all(zip_t *z, const char *zipname, const char *dest,
                       const struct archive_limits *lim, struct err *e)
{
    uint64_t total = 0;
    zip_int64_t n = zip_get_num_entries(z, 0);
    for (zip_uint64_t i = 0; i < (zip_uint64_t)n; i++) {
        zip_stat_t st;
        if (zip_stat_index(z, i, ZIP_FL_ENC_RAW, &st) < 0)
            return unreadable(zipname, e, zip_strerror(z));
        if (is_dir_name(st.name)) {
            char *dir = fs_join(dest, st.name);
            int rc = dir ? fs_mkdir_p(dir, 0755, e) : err_set(e, "out of memory");
            free(dir);
            if (rc < 0)
                return -1;
            continue;
        }
        struct sink s = {.fd = -1, .total = &total, .crc = crc32(0, NULL, 0), .lim = lim,
                         .zipname = zipname, .name = st.name};
        if (extract_file(z, i, &st, dest, &s, e) < 0)
            return -1;
    }
    return 0;
}

/* The archive's file name without its folders, for messages. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* One entry more than allowed, so that an archive just over the limit is
 * parsed and refused by its count, which says more than its size. */
static uint64_t open_budget(const struct archive_limits *lim)
{
    uint64_t most = (MAX_CENTRAL_BYTES - TAIL_BYTES) / CENTRAL_BYTES_PER_ENTRY;
    if (lim->max_entries >= most)
        return MAX_CENTRAL_BYTES;
    return TAIL_BYTES + (lim->max_entries + 1) * CENTRAL_BYTES_PER_ENTRY;
}

int archive_extract_fd(int fd, const char *label, const char *dest,
                       const struct archive_limits *lim, struct err *e)
{
    const char *zipname = base_name(label);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return unreadable(zipname, e, "not a regular file");
    struct fd_in in = {.fd = fd, .size = (uint64_t)st.st_size, .budget = open_budget(lim)};
    zip_error_init(&in.zerr);
    zip_t *z = open_archive(&in, zipname, e);
    int rc = z ? check_entries(z, zipname, lim, e) : -1;
    struct err ignored;   /* the refusal is what is reported; DEST goes with its caller's scratch */
    if (rc == 0 && (rc = extract_all(z, zipname, dest, lim, e)) < 0)
        fs_empty_dir(dest, &ignored);
    if (z)
        zip_discard(z);
    zip_error_fini(&in.zerr);
    return rc;
}

int archive_extract(const char *zip, const char *dest,
                    const struct archive_limits *lim, struct err *e)
{
    int fd = open(zip, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_sys(e, "%s is not a readable zip archive", base_name(zip));
    int rc = archive_extract_fd(fd, zip, dest, lim, e);
    close(fd);
    return rc;
}

/* ---- writing: a libzip source that writes to a descriptor ---- */

struct fd_out {
    int fd;
    off_t start;            /* where the archive begins in the file */
    uint64_t at, end;       /* offsets from START */
    zip_error_t zerr;
};

static zip_int64_t out_fail(struct fd_out *out, int code)
{
    zip_error_set(&out->zerr, code, errno);
    return -1;
}

static zip_int64_t out_write(struct fd_out *out, const void *data, zip_uint64_t len)
{
    for (zip_uint64_t off = 0; off < len;) {
        ssize_t n = pwrite(out->fd, (const char *)data + off, len - off,
                           out->start + (off_t)(out->at + off));
        if (n < 0 && errno != EINTR)
            return out_fail(out, ZIP_ER_WRITE);
        off += n > 0 ? (zip_uint64_t)n : 0;
    }
    out->at += len;
    if (out->at > out->end)
        out->end = out->at;
    return (zip_int64_t)len;
}

static zip_int64_t out_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct fd_out *out = ud;
    switch (cmd) {
    case ZIP_SOURCE_BEGIN_WRITE:   /* the archive starts at the descriptor's offset */
        out->start = lseek(out->fd, 0, SEEK_CUR);
        out->at = out->end = 0;
        return out->start < 0 ? out_fail(out, ZIP_ER_SEEK) : 0;
    case ZIP_SOURCE_COMMIT_WRITE:  /* and leaves it after the archive, as write() would */
        return lseek(out->fd, out->start + (off_t)out->end, SEEK_SET) < 0
                   ? out_fail(out, ZIP_ER_SEEK)
                   : 0;
    case ZIP_SOURCE_WRITE:
        return out_write(out, data, len);
    case ZIP_SOURCE_SEEK_WRITE: {
        zip_int64_t to = zip_source_seek_compute_offset(out->at, out->end, data, len, &out->zerr);
        if (to < 0)
            return -1;
        out->at = (uint64_t)to;
        return 0;
    }
    case ZIP_SOURCE_TELL_WRITE:
        return (zip_int64_t)out->at;
    case ZIP_SOURCE_STAT:
        /* "no such archive yet": libzip starts a new one and reads nothing */
        zip_error_set(&out->zerr, ZIP_ER_READ, ENOENT);
        return -1;
    case ZIP_SOURCE_ROLLBACK_WRITE:   /* the caller drops the file or memfd */
    case ZIP_SOURCE_REMOVE:           /* no entries: archive_create_fd writes the end record */
    case ZIP_SOURCE_CLOSE:
    case ZIP_SOURCE_FREE:
        return 0;
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&out->zerr, data, len);
    case ZIP_SOURCE_SUPPORTS:
        return ZIP_SOURCE_SUPPORTS_WRITABLE;
    default:   /* reading: never asked of a new archive */
        zip_error_set(&out->zerr, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* ---- writing: files opened only when libzip copies them ---- */

struct writer {
    zip_t *z;
    uint64_t n;             /* entries added */
    char *failed;           /* the file that could not be read, for the message */
    int failed_errno;
};

struct file_in {
    struct writer *w;
    char *path, *rel;
    uint64_t size;          /* from the walk: only libzip's guess whether Zip64 is needed */
    int fd;
    zip_error_t zerr;
};

static zip_int64_t file_fail(struct file_in *f, int code)
{
    int saved = errno;
    if (!f->w->failed) {
        f->w->failed = strdup(f->rel);
        f->w->failed_errno = saved;
    }
    zip_error_set(&f->zerr, code, saved);
    return -1;
}

/* O_NONBLOCK: a FIFO put in a file's place after the walk must not hang
 * the open (it is then refused as not a regular file). */
static zip_int64_t file_open(struct file_in *f)
{
    struct stat st;
    f->fd = open(f->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (f->fd >= 0 && fstat(f->fd, &st) == 0 && S_ISREG(st.st_mode))
        return 0;
    int saved = f->fd >= 0 ? EINVAL : errno;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    errno = saved;
    return file_fail(f, ZIP_ER_OPEN);
}

static zip_int64_t file_read(struct file_in *f, void *data, zip_uint64_t len)
{
    ssize_t n;
    do
        n = read(f->fd, data, len);
    while (n < 0 && errno == EINTR);
    return n < 0 ? file_fail(f, ZIP_ER_READ) : n;
}

static zip_int64_t file_stat(struct file_in *f, void *data, zip_uint64_t len)
{
    zip_stat_t *st = ZIP_SOURCE_GET_ARGS(zip_stat_t, data, len, &f->zerr);
    if (!st)
        return -1;
    st->size = f->size;
    st->valid |= ZIP_STAT_SIZE;
    return sizeof *st;
}

static struct file_in *file_new(struct writer *w, const char *dir, const char *rel,
                                off_t size)
{
    struct file_in *f = malloc(sizeof *f);
    if (!f)
        return NULL;
    *f = (struct file_in){.w = w, .path = fs_join(dir, rel), .rel = strdup(rel),
                          .size = (uint64_t)size, .fd = -1};
    zip_error_init(&f->zerr);
    if (!f->path || !f->rel) {
        free(f->path);
        free(f->rel);
        free(f);
        return NULL;
    }
    return f;
}

static void file_free(struct file_in *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    zip_error_fini(&f->zerr);
    free(f->path);
    free(f->rel);
    free(f);
}

static zip_int64_t file_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct file_in *f = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        return file_open(f);
    case ZIP_SOURCE_READ:
        return file_read(f, data, len);
    case ZIP_SOURCE_CLOSE:
        close(f->fd);
        f->fd = -1;
        return 0;
    case ZIP_SOURCE_STAT:
        return file_stat(f, data, len);
    case ZIP_SOURCE_ERROR:
        return zip_error_to_data(&f->zerr, data, len);
    case ZIP_SOURCE_FREE:
        file_free(f);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return ZIP_SOURCE_SUPPORTS_READABLE;
    default:
        zip_error_set(&f->zerr, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

/* Adds SRC as entry NAME: a stored regular file, mode 0644 (our reader
 * gives every file that mode), dated 1980; on failure SRC is freed. */
static int add_source(struct writer *w, const char *name, zip_source_t *src, struct err *e)
{
    zip_int64_t idx = src ? zip_file_add(w->z, name, src, 0) : -1;
    if (src && idx < 0)
        zip_source_free(src);
    zip_uint64_t i = (zip_uint64_t)idx;
    zip_uint32_t attr = (zip_uint32_t)(S_IFREG | 0644) << 16;
    if (idx < 0 || zip_set_file_compression(w->z, i, ZIP_CM_STORE, 0) < 0 ||
        zip_file_set_dostime(w->z, i, 0, DOS_DATE_1980, 0) < 0 ||
        zip_file_set_external_attributes(w->z, i, 0, ZIP_OPSYS_UNIX, attr) < 0)
        return err_set(e, "cannot add %s to the archive: %s", name, zip_strerror(w->z));
    w->n++;
    return 0;
}

struct add_ctx {
    struct writer *w;
    const char *dir, *prefix;
    struct err *e;
};

static int add_file(const char *rel, off_t size, void *arg)
{
    struct add_ctx *c = arg;
    struct file_in *f = file_new(c->w, c->dir, rel, size);
    char *name = NULL;
    if (!f || asprintf(&name, "%s%s", c->prefix, rel) < 0) {
        file_free(f);
        return err_set(c->e, "out of memory");
    }
    zip_source_t *src = zip_source_function(c->w->z, file_cb, f);
    if (!src)
        file_free(f);
    int rc = add_source(c->w, name, src, c->e);
    free(name);
    return rc;
}

/* libzip writes nothing for an archive without entries; Assay wants a
 * valid empty archive there: the end of central directory record alone. */
static int write_empty(int fd, const char *label, struct err *e)
{
    static const unsigned char end[22] = {'P', 'K', 5, 6};
    return write(fd, end, sizeof end) == (ssize_t)sizeof end
               ? 0
               : err_sys(e, "cannot write archive %s", label);
}

/* Copies the files into the archive; the message names a file that could
 * not be read, else says what libzip could not write. */
static int close_archive(struct writer *w, struct fd_out *out, const char *label, struct err *e)
{
    if (zip_close(w->z) == 0) {
        w->z = NULL;
        return w->n == 0 ? write_empty(out->fd, label, e) : 0;
    }
    if (w->failed) {
        errno = w->failed_errno;
        return err_sys(e, "cannot add %s to the archive", w->failed);
    }
    return err_set(e, "cannot write archive %s: %s", label, zip_strerror(w->z));
}

static int add_parts(struct writer *w, const struct archive_part *parts, size_t n,
                     struct err *e)
{
    for (size_t i = 0; i < n; i++) {
        struct add_ctx c = {w, parts[i].dir, parts[i].prefix, e};
        zip_source_t *data = NULL;
        if (parts[i].data)
            data = zip_source_buffer(w->z, parts[i].data, parts[i].len, 0);
        int rc = parts[i].data ? add_source(w, parts[i].prefix, data, e)
                               : fs_walk_files(parts[i].dir, add_file, &c, e);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int archive_create_fd(int fd, const char *label, const struct archive_part *parts, size_t n,
                      struct err *e)
{
    struct fd_out out = {.fd = fd};
    struct writer w = {0};
    zip_error_t zerr;
    zip_error_init(&zerr);
    zip_error_init(&out.zerr);
    zip_source_t *src = zip_source_function_create(out_cb, &out, &zerr);
    w.z = src ? zip_open_from_source(src, ZIP_CREATE | ZIP_TRUNCATE, &zerr) : NULL;
    int rc = w.z ? 0 : err_set(e, "cannot create archive %s: %s", label, zip_error_strerror(&zerr));
    if (!w.z && src)
        zip_source_free(src);
    if (rc == 0)
        rc = add_parts(&w, parts, n, e) < 0 ? -1 : close_archive(&w, &out, label, e);
    if (w.z)
        zip_discard(w.z);
    free(w.failed);
    zip_error_fini(&zerr);
    zip_error_fini(&out.zerr);
    return rc;
}

int archive_create(const char *zip, const struct archive_part *parts, size_t n,
                   struct err *e)
{
    int fd = open(zip, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_sys(e, "cannot create archive %s", zip);
    int rc = archive_create_fd(fd, zip, parts, n, e);
    if (close(fd) < 0 && rc == 0)
        rc = err_sys(e, "cannot write archive %s", zip);
    if (rc < 0)
        unlink(zip);   /* no half-written archive left; *e says what failed */
    return rc;
}
