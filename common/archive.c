/*
 * archive.c - zip archives for submissions, job bundles and results,
 * read and written here on top of zlib (inflate and crc32 only).
 *
 * A zip that a student uploaded is hostile input: names may climb out
 * with "../" or start with "/", entries may be symlinks, and the sizes in
 * the headers may lie (a zip bomb).  archive_extract reads the central
 * directory with every offset checked against the file, checks every
 * name and type before writing anything, counts bytes as it inflates
 * them, checks each entry's CRC-32, creates files with O_EXCL|O_NOFOLLOW,
 * and on any problem removes what it wrote and says which entry was
 * wrong.  Stored and deflated entries are read (what zip tools write);
 * encrypted entries and other methods are refused by name.
 *
 * archive_create writes stored entries: Assay's bundles are small text,
 * and on a local disk or a LAN deflate costs more than it saves.  Sizes
 * and CRCs are those of the bytes actually read, patched into each local
 * header afterwards, never taken from stat.
 *
 * Format: PKWARE APPNOTE 6.3 (local headers, central directory, end of
 * central directory record, and the Zip64 records for reading).
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
#include <zlib.h>

#include "common/buf.h"
#include "common/fs.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_END64_LOCATOR 0x07064b50u
#define LOCAL_LEN 30
#define CENTRAL_LEN 46
#define END_LEN 22
#define MAX_COMMENT 65535
#define MAX_CENTRAL_BYTES (64u << 20)
#define FLAG_ENCRYPTED 0x0001u
#define FLAG_UTF8 0x0800u
#define MADE_BY_UNIX 3
#define CHUNK 65536

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

/* ---- reading ---- */

struct entry {
    char *name;
    uint16_t made_by, flags, method;
    uint32_t crc, attr;
    uint64_t csize, usize, offset;
};

struct reader {
    int fd;
    uint64_t size;          /* of the file */
    const char *zipname;    /* for messages */
    struct entry *entries;
    uint64_t n;
};

/* Reads exactly LEN bytes at OFF, all inside the file. */
static int read_at(struct reader *r, uint64_t off, void *out, size_t len)
{
    if (off > r->size || len > r->size - off)
        return -1;
    ssize_t got = pread(r->fd, out, len, (off_t)off);
    return got == (ssize_t)len ? 0 : -1;
}

static int corrupt(struct reader *r, struct err *e, const char *what)
{
    return err_set(e, "%s is not a readable zip archive: %s", r->zipname, what);
}

/* Finds the end of central directory record: the last one whose comment
 * runs exactly to the end of the file. */
static int find_end(struct reader *r, uint64_t *end_off, struct err *e)
{
    if (r->size < END_LEN)
        return corrupt(r, e, "too short");
    size_t span = r->size < END_LEN + MAX_COMMENT ? (size_t)r->size : END_LEN + MAX_COMMENT;
    unsigned char *tail = malloc(span);
    uint64_t base = r->size - span;
    int rc = tail && read_at(r, base, tail, span) == 0 ? 1 : -1;
    for (size_t i = span - END_LEN + 1; rc == 1 && i-- > 0;) {
        if (get32(tail + i) == SIG_END && i + END_LEN + get16(tail + i + 20) == span) {
            *end_off = base + i;
            rc = 0;
        }
    }
    free(tail);
    return rc == 0 ? 0 : corrupt(r, e, "no end of central directory record");
}

/* Where the central directory is and how many entries it has, from the
 * end record or, when that says so, from the Zip64 end record. */
static int locate_central(struct reader *r, uint64_t *cd_off, uint64_t *cd_size, struct err *e)
{
    uint64_t end_off = 0;
    unsigned char end[END_LEN];
    if (find_end(r, &end_off, e) < 0 || read_at(r, end_off, end, END_LEN) < 0)
        return -1;
    if (get16(end + 4) != 0 || get16(end + 6) != 0)
        return corrupt(r, e, "archives split over several disks are not supported");
    r->n = get16(end + 10);
    *cd_size = get32(end + 12);
    *cd_off = get32(end + 16);
    if (r->n == 0xffff || *cd_size == 0xffffffffu || *cd_off == 0xffffffffu) {
        unsigned char loc[20], end64[56];
        if (end_off < 20 || read_at(r, end_off - 20, loc, 20) < 0 ||
            get32(loc) != SIG_END64_LOCATOR || read_at(r, get64(loc + 8), end64, 56) < 0 ||
            get32(end64) != SIG_END64)
            return corrupt(r, e, "a broken Zip64 end record");
        r->n = get64(end64 + 32);
        *cd_size = get64(end64 + 40);
        *cd_off = get64(end64 + 48);
    }
    if (*cd_off > r->size || *cd_size > r->size - *cd_off)
        return corrupt(r, e, "the central directory lies outside the file");
    if (*cd_size > MAX_CENTRAL_BYTES)
        return corrupt(r, e, "the central directory is too large");
    return 0;
}

/* The Zip64 extended information field replaces the 32-bit values that
 * are all ones, in this order. */
static int apply_zip64(struct entry *en, const unsigned char *x, size_t len)
{
    for (size_t i = 0; i + 4 <= len;) {
        uint16_t id = get16(x + i), n = get16(x + i + 2);
        if (i + 4 + n > len)
            return -1;
        if (id == 0x0001) {
            const unsigned char *p = x + i + 4, *stop = p + n;
            uint64_t *fields[] = {&en->usize, &en->csize, &en->offset};
            for (int k = 0; k < 3; k++) {
                if (*fields[k] != 0xffffffffu)
                    continue;
                if (p + 8 > stop)
                    return -1;
                *fields[k] = get64(p);
                p += 8;
            }
        }
        i += 4 + (size_t)n;
    }
    return 0;
}

static int parse_entry(struct reader *r, const unsigned char *p, size_t left, size_t *used,
                       struct entry *en, struct err *e)
{
    if (left < CENTRAL_LEN || get32(p) != SIG_CENTRAL)
        return corrupt(r, e, "a broken central directory entry");
    size_t nlen = get16(p + 28), xlen = get16(p + 30), clen = get16(p + 32);
    if (CENTRAL_LEN + nlen + xlen + clen > left)
        return corrupt(r, e, "a central directory entry runs past its end");
    en->made_by = get16(p + 4);
    en->flags = get16(p + 8);
    en->method = get16(p + 10);
    en->crc = get32(p + 16);
    en->csize = get32(p + 20);
    en->usize = get32(p + 24);
    en->attr = get32(p + 38);
    en->offset = get32(p + 42);
    if (apply_zip64(en, p + CENTRAL_LEN + nlen, xlen) < 0)
        return corrupt(r, e, "a broken Zip64 extra field");
    en->name = strndup((const char *)p + CENTRAL_LEN, nlen);
    if (!en->name)
        return err_set(e, "out of memory");
    if (strlen(en->name) != nlen)
        return err_set(e, "%s: an entry's name contains a NUL byte; the archive was not "
                       "unpacked", r->zipname);
    *used = CENTRAL_LEN + nlen + xlen + clen;
    return 0;
}

static int read_central(struct reader *r, const struct archive_limits *lim, struct err *e)
{
    uint64_t cd_off = 0, cd_size = 0;
    if (locate_central(r, &cd_off, &cd_size, e) < 0)
        return -1;
    if (r->n > lim->max_entries)
        return err_set(e, "%s has %llu entries; the limit is %llu", r->zipname,
                       (unsigned long long)r->n, (unsigned long long)lim->max_entries);
    if (r->n > cd_size / CENTRAL_LEN)
        return corrupt(r, e, "more entries than the central directory holds");
    unsigned char *cd = malloc(cd_size ? cd_size : 1);
    r->entries = calloc(r->n ? r->n : 1, sizeof *r->entries);
    int rc = cd && r->entries ? 0 : err_set(e, "out of memory");
    if (rc == 0 && read_at(r, cd_off, cd, cd_size) < 0)
        rc = corrupt(r, e, "cannot read the central directory");
    for (uint64_t i = 0, pos = 0; rc == 0 && i < r->n; i++) {
        size_t used = 0;
        rc = parse_entry(r, cd + pos, cd_size - pos, &used, &r->entries[i], e);
        pos += used;
    }
    free(cd);
    return rc;
}

static bool entry_is_link_or_special(const struct entry *en)
{
    if (en->made_by >> 8 != MADE_BY_UNIX)
        return false;
    mode_t type = (mode_t)(en->attr >> 16) & S_IFMT;
    if (type == 0)   /* permission bits only, as Python's zipfile writes */
        return false;
    return type != S_IFREG && type != S_IFDIR;
}

static bool is_dir_entry(const struct entry *en)
{
    size_t len = strlen(en->name);
    return len > 0 && en->name[len - 1] == '/';
}

/* Checks every entry's name, type and method before anything is written. */
static int check_entries(struct reader *r, struct err *e)
{
    for (uint64_t i = 0; i < r->n; i++) {
        const struct entry *en = &r->entries[i];
        char *copy = strdup(en->name);
        size_t len = strlen(copy);
        while (len > 0 && copy[len - 1] == '/')
            copy[--len] = '\0';
        bool safe = fs_relpath_is_safe(copy);
        free(copy);
        if (!safe)
            return err_set(e, "%s: entry \"%s\" has an unsafe path (absolute or "
                           "containing \"..\"); the archive was not unpacked", r->zipname,
                           en->name);
        if (entry_is_link_or_special(en))
            return err_set(e, "%s: entry \"%s\" is a symbolic link or special file; "
                           "submit regular files only", r->zipname, en->name);
        if (en->flags & FLAG_ENCRYPTED)
            return err_set(e, "%s: entry \"%s\" is encrypted; submit an archive without a "
                           "password", r->zipname, en->name);
        if (!is_dir_entry(en) && en->method != 0 && en->method != Z_DEFLATED)
            return err_set(e, "%s: entry \"%s\" uses compression method %u; only stored "
                           "and deflated entries can be read (zip's default)", r->zipname,
                           en->name, (unsigned)en->method);
    }
    return 0;
}

/* Where the entry's data starts, after its local header. */
static int data_start(struct reader *r, const struct entry *en, uint64_t *start, struct err *e)
{
    unsigned char h[LOCAL_LEN];
    if (read_at(r, en->offset, h, LOCAL_LEN) < 0 || get32(h) != SIG_LOCAL)
        return err_set(e, "%s: entry \"%s\" is corrupt: no local header", r->zipname,
                       en->name);
    *start = en->offset + LOCAL_LEN + get16(h + 26) + get16(h + 28);
    if (*start > r->size || en->csize > r->size - *start)
        return err_set(e, "%s: entry \"%s\" is corrupt: its data runs past the end of the "
                       "file", r->zipname, en->name);
    return 0;
}

struct sink {
    int fd;
    uint64_t size, *total;
    uLong crc;
    const struct archive_limits *lim;
};

static int sink_write(struct sink *s, struct reader *r, const struct entry *en,
                      const unsigned char *data, size_t len, struct err *e)
{
    s->size += len;
    *s->total += len;
    if (s->size > s->lim->max_file_bytes || *s->total > s->lim->max_total_bytes) {
        bool per_file = s->size > s->lim->max_file_bytes;
        return err_set(e, "%s: unpacking \"%s\" goes over the size limit of %llu bytes (%s); "
                       "the archive was refused", r->zipname, en->name,
                       (unsigned long long)(per_file ? s->lim->max_file_bytes
                                                     : s->lim->max_total_bytes),
                       per_file ? "per file" : "in total");
    }
    s->crc = crc32(s->crc, data, (uInt)len);
    if (write(s->fd, data, len) != (ssize_t)len)
        return err_sys(e, "cannot write \"%s\"", en->name);
    return 0;
}

static int copy_stored(struct reader *r, const struct entry *en, uint64_t at, struct sink *s,
                       struct err *e)
{
    unsigned char *chunk = malloc(CHUNK);
    int rc = chunk ? 0 : err_set(e, "out of memory");
    for (uint64_t left = en->csize; rc == 0 && left > 0;) {
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        if (read_at(r, at, chunk, n) < 0)
            rc = err_set(e, "%s: entry \"%s\" cannot be read", r->zipname, en->name);
        else
            rc = sink_write(s, r, en, chunk, n, e);
        at += n;
        left -= n;
    }
    free(chunk);
    return rc;
}

static int inflate_entry(struct reader *r, const struct entry *en, uint64_t at, struct sink *s,
                         struct err *e)
{
    z_stream z = {0};
    unsigned char *in = malloc(CHUNK), *out = malloc(CHUNK);
    int rc = in && out && inflateInit2(&z, -MAX_WBITS) == Z_OK ? 0
                                                               : err_set(e, "out of memory");
    int zr = Z_OK;
    for (uint64_t left = en->csize; rc == 0 && zr != Z_STREAM_END;) {
        if (z.avail_in == 0) {
            size_t n = left < CHUNK ? (size_t)left : CHUNK;
            if (n == 0 || read_at(r, at, in, n) < 0) {
                rc = err_set(e, "%s: entry \"%s\" is corrupt: its compressed data ends early",
                             r->zipname, en->name);
                break;
            }
            z.next_in = in;
            z.avail_in = (uInt)n;
            at += n;
            left -= n;
        }
        z.next_out = out;
        z.avail_out = CHUNK;
        zr = inflate(&z, Z_NO_FLUSH);
        if (zr != Z_OK && zr != Z_STREAM_END)
            rc = err_set(e, "%s: entry \"%s\" is corrupt: %s", r->zipname, en->name,
                         z.msg ? z.msg : "bad compressed data");
        else
            rc = sink_write(s, r, en, out, CHUNK - z.avail_out, e);
    }
    inflateEnd(&z);
    free(in);
    free(out);
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

static int extract_one(struct reader *r, const struct entry *en, const char *dest,
                       const struct archive_limits *lim, uint64_t *total, struct err *e)
{
    uint64_t at = 0;
    if (data_start(r, en, &at, e) < 0 || make_parents(dest, en->name, e) < 0)
        return -1;
    char *path = fs_join(dest, en->name);
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644) : -1;
    if (fd < 0) {
        int rc = errno == EEXIST
                     ? err_set(e, "%s: entry \"%s\" appears twice", r->zipname, en->name)
                     : err_sys(e, "cannot create %s", path ? path : en->name);
        free(path);
        return rc;
    }
    free(path);
    struct sink s = {fd, 0, total, crc32(0, NULL, 0), lim};
    int rc = en->method == 0 ? copy_stored(r, en, at, &s, e) : inflate_entry(r, en, at, &s, e);
    close(fd);
    if (rc == 0 && (s.size != en->usize || s.crc != en->crc))
        rc = err_set(e, "%s: entry \"%s\" is corrupt: %s does not match its header", r->zipname,
                     en->name, s.size != en->usize ? "its size" : "its CRC-32");
    return rc;
}

static int extract_all(struct reader *r, const char *dest, const struct archive_limits *lim,
                       struct err *e)
{
    uint64_t total = 0;
    for (uint64_t i = 0; i < r->n; i++) {
        const struct entry *en = &r->entries[i];
        if (is_dir_entry(en)) {
            char *dir = fs_join(dest, en->name);
            int rc = dir ? fs_mkdir_p(dir, 0755, e) : err_set(e, "out of memory");
            free(dir);
            if (rc < 0)
                return -1;
            continue;
        }
        if (extract_one(r, en, dest, lim, &total, e) < 0)
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

static void reader_close(struct reader *r)
{
    for (uint64_t i = 0; r->entries && i < r->n; i++)
        free(r->entries[i].name);
    free(r->entries);
    if (r->fd >= 0)
        close(r->fd);
}

/* The archive's file name without its folders, for messages. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int archive_extract_fd(int fd, const char *label, const char *dest,
                       const struct archive_limits *lim, struct err *e)
{
    struct reader r = {.fd = -1, .zipname = base_name(label)};
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        return corrupt(&r, e, "not a regular file");
    r.size = (uint64_t)st.st_size;
    r.fd = fd;
    int rc = read_central(&r, lim, e);
    if (rc == 0)
        rc = check_entries(&r, e);
    if (rc == 0 && (rc = extract_all(&r, dest, lim, e)) < 0)
        empty_dir(dest);
    r.fd = -1;   /* the caller's */
    reader_close(&r);
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

/* ---- writing ---- */

struct writer {
    int fd;
    uint64_t at;            /* bytes written so far */
    struct buf central;     /* the central directory, written at the end */
    uint64_t n;
    struct err *e;
    const char *zip;
};

static int put(struct writer *w, const void *data, size_t len)
{
    if (write(w->fd, data, len) != (ssize_t)len)
        return err_sys(w->e, "cannot write archive %s", w->zip);
    w->at += len;
    return 0;
}

static bool needs_utf8_flag(const char *name)
{
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p >= 0x80)
            return true;
    return false;
}

/* The fields local and central headers share, from "version needed"
 * on: a stored entry, dated 1980-01-01 so that archives are reproducible. */
static void put_common(unsigned char *p, const char *name, uint32_t crc, uint32_t size)
{
    put16(p, 20);
    put16(p + 2, needs_utf8_flag(name) ? FLAG_UTF8 : 0);
    put16(p + 4, 0);
    put16(p + 6, 0);
    put16(p + 8, (1 << 5) | 1);
    put32(p + 10, crc);
    put32(p + 14, size);
    put32(p + 18, size);
    put16(p + 22, (uint16_t)strlen(name));
    put16(p + 24, 0);
}

static void add_central(struct writer *w, const char *name, uint32_t crc, uint32_t size,
                        uint64_t offset, mode_t mode)
{
    unsigned char h[CENTRAL_LEN] = {0};
    put32(h, SIG_CENTRAL);
    put16(h + 4, MADE_BY_UNIX << 8 | 20);
    put_common(h + 6, name, crc, size);
    put32(h + 38, (uint32_t)(S_IFREG | (mode & 0777)) << 16);
    put32(h + 42, (uint32_t)offset);
    buf_append(&w->central, h, sizeof h);
    buf_append(&w->central, name, strlen(name));
    w->n++;
}

/* Writes entry NAME with the bytes of FD (or DATA/LEN when FD < 0). */
static int add_entry(struct writer *w, const char *name, int fd, const void *data, size_t len,
                     mode_t mode)
{
    size_t nlen = strlen(name);
    if (nlen > 0xffff || w->n >= 0xffff || w->at > 0xffffffffu)
        return err_set(w->e, "archive %s is too large for a zip without Zip64", w->zip);
    unsigned char h[LOCAL_LEN];
    uint64_t offset = w->at;
    put32(h, SIG_LOCAL);
    put_common(h + 4, name, 0, 0);   /* CRC and sizes patched in below */
    if (put(w, h, LOCAL_LEN) < 0 || put(w, name, nlen) < 0)
        return -1;
    uLong crc = crc32(0, NULL, 0);
    uint64_t size = 0;
    if (fd < 0) {
        crc = crc32(crc, data, (uInt)len);
        size = len;
        if (put(w, data, len) < 0)
            return -1;
    } else {
        unsigned char chunk[CHUNK];
        ssize_t got;
        while ((got = read(fd, chunk, sizeof chunk)) > 0) {
            crc = crc32(crc, chunk, (uInt)got);
            size += (uint64_t)got;
            if (size > 0xffffffffu)
                return err_set(w->e, "%s is too large to put in an archive", name);
            if (put(w, chunk, (size_t)got) < 0)
                return -1;
        }
        if (got < 0)
            return err_sys(w->e, "cannot read %s", name);
    }
    unsigned char sizes[12];
    put32(sizes, (uint32_t)crc);
    put32(sizes + 4, (uint32_t)size);
    put32(sizes + 8, (uint32_t)size);
    if (pwrite(w->fd, sizes, sizeof sizes, (off_t)offset + 14) != (ssize_t)sizeof sizes)
        return err_sys(w->e, "cannot write archive %s", w->zip);
    add_central(w, name, (uint32_t)crc, (uint32_t)size, offset, mode);
    return 0;
}

struct add_ctx {
    struct writer *w;
    const char *dir, *prefix;
};

static int add_file(const char *rel, off_t size, void *arg)
{
    (void)size;   /* the bytes read count, not what stat said */
    struct add_ctx *c = arg;
    char *path = fs_join(c->dir, rel), *name = NULL;
    int fd = path ? open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
    struct stat st;
    int rc;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        rc = err_sys(c->w->e, "cannot add %s to the archive", rel);
    else if (asprintf(&name, "%s%s", c->prefix, rel) < 0)
        rc = err_set(c->w->e, "out of memory");
    else
        rc = add_entry(c->w, name, fd, NULL, 0, st.st_mode);
    if (fd >= 0)
        close(fd);
    free(path);
    free(name);
    return rc;
}

static int finish_archive(struct writer *w)
{
    unsigned char end[END_LEN] = {0};
    put32(end, SIG_END);
    put16(end + 8, (uint16_t)w->n);
    put16(end + 10, (uint16_t)w->n);
    put32(end + 12, (uint32_t)w->central.len);
    put32(end + 16, (uint32_t)w->at);
    if (w->at + w->central.len > 0xffffffffu)
        return err_set(w->e, "archive %s is too large for a zip without Zip64", w->zip);
    if (w->central.len && put(w, w->central.data, w->central.len) < 0)
        return -1;
    return put(w, end, sizeof end);
}

int archive_create_fd(int fd, const char *label, const struct archive_part *parts, size_t n,
                      struct err *e)
{
    struct writer w = {.fd = fd, .central = BUF_INIT, .e = e, .zip = label};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (parts[i].data) {
            rc = add_entry(&w, parts[i].prefix, -1, parts[i].data, parts[i].len, 0644);
        } else {
            struct add_ctx c = {&w, parts[i].dir, parts[i].prefix};
            rc = fs_walk_files(parts[i].dir, add_file, &c, e);
        }
    }
    if (rc == 0)
        rc = finish_archive(&w);
    buf_free(&w.central);
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
        unlink(zip);
    return rc;
}
