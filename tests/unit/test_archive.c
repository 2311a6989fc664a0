/* test_archive.c - unit tests for common/archive.h, Assay's rules around
 * libzip: archives built here with libzip are extracted byte-exact, and
 * hostile ones (path traversal, absolute names, symlink entries, zip
 * bombs, too many entries, duplicate names, non-zip files, damaged data,
 * encrypted entries, unknown methods) are refused with nothing left in
 * DEST.  Archives that libzip would not write are built byte by byte
 * here (raw_zip): headers whose sizes lie, a method or an encryption
 * flag patched in, a NUL in a name, a central directory larger than the
 * limits allow libzip to parse.  archive_create followed by
 * archive_extract round-trips a tree (also through a memfd, as the
 * shipper does), and libzip reads what archive_create writes. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/mman.h>
#include <zip.h>
#include <zlib.h>

#include "common/archive.h"
#include "common/fs.h"

struct zentry {
    const char *name;
    const void *data;   /* NULL with len 0: an empty file; ignored for dirs */
    size_t len;
    unsigned mode;      /* full st_mode for the unix attributes; 0: not set */
    bool dir;
};

/* Writes ZIP from ENTRIES with libzip directly. */
static void make_zip(const char *path, const struct zentry *ents, size_t n)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (size_t i = 0; i < n; i++) {
        zip_int64_t idx;
        if (ents[i].dir) {
            idx = zip_dir_add(z, ents[i].name, ZIP_FL_ENC_UTF_8);
        } else {
            zip_source_t *src = zip_source_buffer(z, ents[i].data ? ents[i].data : "",
                                                  ents[i].len, 0);
            assert_non_null(src);
            idx = zip_file_add(z, ents[i].name, src, ZIP_FL_ENC_UTF_8);
            if (idx < 0)
                zip_source_free(src);
        }
        if (idx < 0)
            fail_msg("libzip refused to add \"%s\": %s", ents[i].name, zip_strerror(z));
        if (ents[i].mode)
            assert_int_equal(zip_file_set_external_attributes(z, (zip_uint64_t)idx, 0,
                                                              ZIP_OPSYS_UNIX,
                                                              (zip_uint32_t)ents[i].mode << 16),
                             0);
    }
    if (zip_close(z) < 0)
        fail_msg("zip_close: %s", zip_strerror(z));
}

struct fixture {
    char *root;   /* private temp dir */
    char *zip;    /* root/test.zip */
    char *dest;   /* root/dest (exists, empty, mode 0700) */
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->root = tu_mkdtemp();
    f->zip = tu_path(f->root, "test.zip");
    f->dest = tu_path(f->root, "dest");
    assert_int_equal(mkdir(f->dest, 0700), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    tu_rm_rf(f->root);
    free(f->root);
    free(f->zip);
    free(f->dest);
    free(f);
    return 0;
}

static const struct archive_limits roomy = {100u << 20, 50u << 20, 1000};

static void assert_file_is(const char *dir, const char *rel, const void *data, size_t len)
{
    char *p = tu_path(dir, rel);
    struct stat st;
    if (lstat(p, &st) < 0)
        fail_msg("%s is missing", rel);
    assert_true(S_ISREG(st.st_mode));
    size_t got = 0;
    char *text = tu_read(p, &got);
    assert_non_null(text);
    assert_int_equal(got, len);
    if (len)
        assert_memory_equal(text, data, len);
    free(text);
    free(p);
}

/* ---- good archives -------------------------------------------------- */

static void test_extract_nested(void **state)
{
    struct fixture *f = *state;
    size_t blen = 150 * 1024;
    unsigned char *bin = malloc(blen);
    for (size_t i = 0; i < blen; i++)
        bin[i] = (unsigned char)((i * 2654435761u) >> 13);
    const char *py = "print('hello')\n";
    struct zentry ents[] = {
        {"main.py", py, strlen(py), 0, false},
        {"pkg/", NULL, 0, 0, true},
        {"pkg/__init__.py", NULL, 0, S_IFREG | 0644, false},
        {"pkg/sub/data.bin", bin, blen, S_IFREG | 0600, false},
        {"pkg/empty/", NULL, 0, S_IFDIR | 0755, true},
        {"caf\xC3\xA9.txt", "utf8 name", 9, 0, false},
    };
    make_zip(f->zip, ents, sizeof ents / sizeof *ents);
    struct err e = {{0}};
    if (archive_extract(f->zip, f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    assert_file_is(f->dest, "main.py", py, strlen(py));
    assert_file_is(f->dest, "pkg/__init__.py", "", 0);
    assert_file_is(f->dest, "pkg/sub/data.bin", bin, blen);
    assert_file_is(f->dest, "caf\xC3\xA9.txt", "utf8 name", 9);
    char *empty = tu_path(f->dest, "pkg/empty");
    assert_true(fs_is_dir(empty));
    assert_int_equal(tu_count_entries(empty), 0);
    assert_int_equal(tu_count_entries(f->dest), 3);
    free(empty);
    free(bin);
}

static void test_limits_exactly_met(void **state)
{
    struct fixture *f = *state;
    char data[100];
    memset(data, 'd', sizeof data);
    struct zentry ents[] = {
        {"1", data, 100, 0, false}, {"2", data, 100, 0, false}, {"3", data, 100, 0, false},
        {"4", data, 100, 0, false}, {"5", data, 100, 0, false},
    };
    make_zip(f->zip, ents, 5);
    struct archive_limits lim = {500, 100, 5};
    struct err e = {{0}};
    if (archive_extract(f->zip, f->dest, &lim, &e) != 0)
        fail_msg("extract at the limits failed: %s", e.msg);
    assert_int_equal(tu_count_entries(f->dest), 5);
}

/* Python's zipfile.writestr() and other tools store only permission bits
 * (no S_IFREG) in the unix attributes; such entries are regular files. */
static void test_extract_permission_only_modes(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"hello.py", "print('hi')\n", 12, 0600, false},
        {"run.sh", "#!/bin/sh\n", 10, 0755, false},
        {"sub/x.txt", "x", 1, 0644, false},
    };
    make_zip(f->zip, ents, 3);
    struct err e = {{0}};
    if (archive_extract(f->zip, f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    assert_file_is(f->dest, "hello.py", "print('hi')\n", 12);
    assert_file_is(f->dest, "run.sh", "#!/bin/sh\n", 10);
    assert_file_is(f->dest, "sub/x.txt", "x", 1);
}

/* ---- refused archives ----------------------------------------------- */

static void assert_refused(struct fixture *f, const struct archive_limits *lim,
                           const char *must_mention)
{
    struct err e = {{0}};
    assert_int_equal(archive_extract(f->zip, f->dest, lim, &e), -1);
    assert_true(strlen(e.msg) > 0);
    if (must_mention && !tu_contains(e.msg, must_mention))
        fail_msg("message \"%s\" does not mention \"%s\"", e.msg, must_mention);
    /* DEST still exists and is empty; nothing escaped next to it. */
    assert_true(fs_is_dir(f->dest));
    assert_int_equal(tu_count_entries(f->dest), 0);
    assert_int_equal(tu_count_entries(f->root), 2); /* test.zip, dest */
}

static void test_refuse_dotdot(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"good.py", "ok\n", 3, 0, false},
        {"dir/good2.py", "ok\n", 3, 0, false},
        {"../evil.py", "import os\n", 10, 0, false},
    };
    make_zip(f->zip, ents, 3);
    assert_refused(f, &roomy, "../evil.py");

    /* ".." in the middle, and as a directory entry. */
    struct zentry mid[] = {{"a/../../evil.py", "x", 1, 0, false}};
    make_zip(f->zip, mid, 1);
    assert_refused(f, &roomy, NULL);
    struct zentry dir[] = {{"../", NULL, 0, 0, true}};
    make_zip(f->zip, dir, 1);
    assert_refused(f, &roomy, NULL);
}


/* Deeper than FS_MAX_DEPTH, or a name part longer than NAME_MAX: refused
 * before anything is written, the message naming the entry (shortened)
 * and the limit; exactly FS_MAX_DEPTH directories is fine. */
static void test_refuse_deep_and_long_names(void **state)
{
    struct fixture *f = *state;
    char deep[700] = "sub/", ok[300] = "";
    for (int i = 0; i < 300; i++)
        strcat(deep, "a/");
    strcat(deep, "x.py");
    struct zentry d[] = {{"good.py", "ok\n", 3, 0, false}, {deep, "x", 1, 0, false}};
    make_zip(f->zip, d, 2);
    assert_refused(f, &roomy, "\"sub/a/.../x.py\" is 301 directories deep; at most 64 are allowed");

    char longname[320] = "sub/";
    memset(longname + 4, 'n', 300);
    strcpy(longname + 304, ".py");
    struct zentry l[] = {{longname, "x", 1, 0, false}};
    make_zip(f->zip, l, 1);
    assert_refused(f, &roomy, "has a name of 303 bytes; at most 255 are allowed");

    for (int i = 0; i < FS_MAX_DEPTH; i++)
        strcat(ok, "b/");
    strcat(ok, "y.py");
    struct zentry fine[] = {{ok, "y", 1, 0, false}};
    make_zip(f->zip, fine, 1);
    struct err e = {{0}};
    assert_int_equal(archive_extract(f->zip, f->dest, &roomy, &e), 0);
}

static void test_refuse_absolute(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"fine.txt", "f", 1, 0, false},
        {"/tmp/evil", "x", 1, 0, false},
    };
    make_zip(f->zip, ents, 2);
    assert_refused(f, &roomy, "/tmp/evil");
}

static void test_refuse_symlink(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"fine.txt", "f", 1, 0, false},
        {"link", "/etc/passwd", 11, S_IFLNK | 0777, false},
    };
    make_zip(f->zip, ents, 2);
    assert_refused(f, &roomy, "symbolic link");

    /* Other special files (a FIFO, a device) too. */
    struct zentry fifo[] = {{"fifo", "", 0, S_IFIFO | 0644, false}};
    make_zip(f->zip, fifo, 1);
    assert_refused(f, &roomy, "fifo");
    struct zentry dev[] = {{"dev", "", 0, S_IFCHR | 0644, false}};
    make_zip(f->zip, dev, 1);
    assert_refused(f, &roomy, "dev");
}

static void test_refuse_zip_bomb(void **state)
{
    struct fixture *f = *state;
    size_t big = 10u << 20;
    char *zeros = calloc(1, big);
    assert_non_null(zeros);
    struct zentry ents[] = {
        {"first.py", "print(1)\n", 9, 0, false},
        {"sub/second.py", "print(2)\n", 9, 0, false},
        {"bomb.bin", zeros, big, 0, false},
    };
    make_zip(f->zip, ents, 3);
    struct stat st;
    assert_int_equal(stat(f->zip, &st), 0);
    assert_true(st.st_size < 200 * 1024); /* it really is compressed tiny */

    struct archive_limits total = {1u << 20, 100u << 20, 100};
    assert_refused(f, &total, "size limit");

    /* The per-file limit is counted while inflating as well. */
    struct archive_limits per_file = {100u << 20, 1u << 20, 100};
    assert_refused(f, &per_file, "size limit");
    free(zeros);
}

static void test_refuse_too_many_entries(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"1", "1", 1, 0, false}, {"2", "2", 1, 0, false}, {"3", "3", 1, 0, false},
        {"4", "4", 1, 0, false}, {"5", "5", 1, 0, false}, {"6", "6", 1, 0, false},
    };
    make_zip(f->zip, ents, 6);
    struct archive_limits lim = {1u << 20, 1u << 20, 5};
    assert_refused(f, &lim, "limit");
}

/* libzip will not write two entries with one name, so write "a.py" and
 * "b.py" and rename the second in the raw bytes (local header and central
 * directory; the CRC covers only the data). */
static void test_refuse_duplicates(void **state)
{
    struct fixture *f = *state;
    struct zentry ents[] = {
        {"a.py", "first\n", 6, 0, false},
        {"b.py", "second\n", 7, 0, false},
    };
    make_zip(f->zip, ents, 2);
    size_t len = 0;
    char *raw = tu_read(f->zip, &len);
    assert_non_null(raw);
    int patched = 0;
    for (size_t i = 0; i + 4 <= len; i++)
        if (memcmp(raw + i, "b.py", 4) == 0) {
            raw[i] = 'a';
            patched++;
        }
    assert_int_equal(patched, 2);
    tu_write(f->zip, raw, len);
    free(raw);
    assert_refused(f, &roomy, NULL);

    /* A file and a directory of the same name. */
    struct zentry clash[] = {
        {"x", "file", 4, 0, false},
        {"x/", NULL, 0, 0, true},
    };
    make_zip(f->zip, clash, 2);
    assert_refused(f, &roomy, NULL);
}

static void test_refuse_not_a_zip(void **state)
{
    struct fixture *f = *state;
    tu_write(f->zip, "this is not a zip file\n", 23);
    assert_refused(f, &roomy, "not a readable zip");
    /* Truncated zip. */
    struct zentry ents[] = {{"a.txt", "aaaaaaaaaaaaaaaaaaaaaaaa", 24, 0, false}};
    make_zip(f->zip, ents, 1);
    struct stat st;
    assert_int_equal(stat(f->zip, &st), 0);
    assert_int_equal(truncate(f->zip, st.st_size / 2), 0);
    assert_refused(f, &roomy, "not a readable zip");
    /* Missing file. */
    unlink(f->zip);
    struct err e = {{0}};
    assert_int_equal(archive_extract(f->zip, f->dest, &roomy, &e), -1);
    assert_true(tu_contains(e.msg, "not a readable zip"));
    assert_int_equal(tu_count_entries(f->dest), 0);
}

/* A refusal empties DEST in place: the same directory, with its mode. */
static void test_refusal_keeps_dest_itself(void **state)
{
    struct fixture *f = *state;
    struct stat before, after;
    assert_int_equal(stat(f->dest, &before), 0);
    struct zentry ents[] = {
        {"ok.txt", "ok", 2, 0, false},
        {"big.bin", "0123456789", 10, 0, false},
    };
    make_zip(f->zip, ents, 2);
    struct archive_limits lim = {1u << 20, 5, 10};
    assert_refused(f, &lim, "size limit");
    assert_int_equal(stat(f->dest, &after), 0);
    assert_int_equal(after.st_mode & 07777, before.st_mode & 07777);
    assert_int_equal(after.st_ino, before.st_ino);
}

/* ---- archive_create -------------------------------------------------- */

struct collect {
    char *rel[32];
    off_t size[32];
    int n;
};

static int collect_cb(const char *rel, off_t size, void *arg)
{
    struct collect *c = arg;
    assert_true(c->n < 32);
    c->rel[c->n] = strdup(rel);
    c->size[c->n++] = size;
    return 0;
}

static void collect_free(struct collect *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->rel[i]);
    c->n = 0;
}

static void test_create_extract_round_trip(void **state)
{
    struct fixture *f = *state;
    char *src = tu_path(f->root, "src");
    assert_int_equal(mkdir(src, 0755), 0);
    tu_write_at(src, "results.json", "{\"score\": 1}\n");
    tu_mkdir_at(src, "logs");
    tu_mkdir_at(src, "logs/deep");
    char bin[5000];
    for (size_t i = 0; i < sizeof bin; i++)
        bin[i] = (char)(i % 251);
    char *binp = tu_path(src, "logs/deep/out.bin");
    tu_write(binp, bin, sizeof bin);
    tu_write_at(src, "logs/empty.txt", "");
    char *lnk = tu_path(src, "logs/link");
    assert_int_equal(symlink("/etc/passwd", lnk), 0);

    char *zip = tu_path(f->root, "out.zip");
    struct err e = {{0}};
    if (archive_create(zip, &(struct archive_part){.dir = src, .prefix = ""}, 1, &e) != 0)
        fail_msg("create failed: %s", e.msg);

    /* The archive holds the three regular files, by relative name. */
    int zerr = 0;
    zip_t *z = zip_open(zip, ZIP_RDONLY, &zerr);
    assert_non_null(z);
    assert_int_equal(zip_get_num_entries(z, 0), 3);
    assert_true(zip_name_locate(z, "logs/deep/out.bin", 0) >= 0);
    assert_true(zip_name_locate(z, "logs/link", 0) < 0);
    zip_discard(z);

    if (archive_extract(zip, f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    struct collect a = {.n = 0}, b = {.n = 0};
    assert_int_equal(fs_walk_files(src, collect_cb, &a, &e), 0);
    assert_int_equal(fs_walk_files(f->dest, collect_cb, &b, &e), 0);
    assert_int_equal(a.n, 3);
    assert_int_equal(b.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(a.rel[i], b.rel[i]);
        assert_int_equal(a.size[i], b.size[i]);
    }
    assert_file_is(f->dest, "logs/deep/out.bin", bin, sizeof bin);
    assert_file_is(f->dest, "results.json", "{\"score\": 1}\n", 13);
    collect_free(&a);
    collect_free(&b);

    /* Creating again over an existing archive replaces it. */
    char *only = tu_path(f->root, "only");
    assert_int_equal(mkdir(only, 0755), 0);
    tu_write_at(only, "one.txt", "1");
    assert_int_equal(archive_create(zip, &(struct archive_part){.dir = only, .prefix = ""}, 1, &e), 0);
    z = zip_open(zip, ZIP_RDONLY, &zerr);
    assert_non_null(z);
    assert_int_equal(zip_get_num_entries(z, 0), 1);
    zip_discard(z);

    free(only);
    free(src);
    free(binp);
    free(lnk);
    free(zip);
}

/* An empty directory gives an archive that extracts to nothing. */
static void test_create_empty_dir(void **state)
{
    struct fixture *f = *state;
    char *src = tu_path(f->root, "empty");
    assert_int_equal(mkdir(src, 0755), 0);
    char *zip = tu_path(f->root, "empty.zip");
    struct err e = {{0}};
    int created = archive_create(zip, &(struct archive_part){.dir = src, .prefix = ""}, 1, &e);
    bool written = fs_exists(zip);
    int extracted = archive_extract(zip, f->dest, &roomy, &e);
    free(src);
    free(zip);
    assert_int_equal(created, 0);
    if (!written)
        fail_msg("archive_create returned 0 but wrote no archive");
    if (extracted != 0)
        fail_msg("extract of the empty archive failed: %s", e.msg);
    assert_int_equal(tu_count_entries(f->dest), 0);
}


/* ---- methods and damage ---------------------------------------------- */

/* Writes ZIP with libzip: one entry NAME holding DATA, compressed with
 * METHOD, encrypted when EM is not ZIP_EM_NONE. */
static void make_zip_method(const char *path, const char *name, const void *data, size_t len,
                            zip_int32_t method, zip_uint16_t em)
{
    int zerr = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    zip_source_t *src = zip_source_buffer(z, data, len, 0);
    zip_int64_t idx = zip_file_add(z, name, src, 0);
    assert_true(idx >= 0);
    assert_int_equal(zip_set_file_compression(z, (zip_uint64_t)idx, method, 0), 0);
    if (em != ZIP_EM_NONE)
        assert_int_equal(zip_file_set_encryption(z, (zip_uint64_t)idx, em, "secret"), 0);
    if (zip_close(z) < 0)
        fail_msg("zip_close: %s", zip_strerror(z));
}

static void test_stored_and_deflated(void **state)
{
    struct fixture *f = *state;
    char text[20000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "abcabcabd\n"[i % 10];
    struct err e = {{0}};
    make_zip_method(f->zip, "deflated.txt", text, sizeof text, ZIP_CM_DEFLATE, ZIP_EM_NONE);
    struct stat st;
    assert_int_equal(stat(f->zip, &st), 0);
    assert_true(st.st_size < (off_t)sizeof text / 4);   /* really compressed */
    if (archive_extract(f->zip, f->dest, &roomy, &e) != 0)
        fail_msg("deflated: %s", e.msg);
    assert_file_is(f->dest, "deflated.txt", text, sizeof text);
    char *dest2 = tu_path(f->root, "dest2");
    assert_int_equal(mkdir(dest2, 0700), 0);
    make_zip_method(f->zip, "stored.txt", text, sizeof text, ZIP_CM_STORE, ZIP_EM_NONE);
    if (archive_extract(f->zip, dest2, &roomy, &e) != 0)
        fail_msg("stored: %s", e.msg);
    assert_file_is(dest2, "stored.txt", text, sizeof text);
    free(dest2);
}

/* Flips one byte of the stored data: the CRC-32 no longer matches. */
static void test_refuse_damaged_data(void **state)
{
    struct fixture *f = *state;
    make_zip_method(f->zip, "a.txt", "hello, world", 12, ZIP_CM_STORE, ZIP_EM_NONE);
    size_t len = 0;
    char *bytes = tu_read(f->zip, &len);
    char *at = memmem(bytes, len, "hello", 5);
    assert_non_null(at);
    *at = 'j';
    tu_write(f->zip, bytes, len);
    free(bytes);
    assert_refused(f, &roomy, "CRC-32");
}

static void test_refuse_encrypted(void **state)
{
    struct fixture *f = *state;
    make_zip_method(f->zip, "secret.txt", "hidden", 6, ZIP_CM_STORE, ZIP_EM_TRAD_PKWARE);
    assert_refused(f, &roomy, "encrypted");
}

static void test_refuse_unknown_method(void **state)
{
    struct fixture *f = *state;
    if (!zip_compression_method_supported(ZIP_CM_BZIP2, 1))
        skip();
    make_zip_method(f->zip, "b.txt", "bzip2 me", 8, ZIP_CM_BZIP2, ZIP_EM_NONE);
    assert_refused(f, &roomy, "compression method 12");
}

/* ---- archives built byte by byte ------------------------------------ */

/* One entry for raw_zip: DATA is written as given (already compressed
 * for METHOD 8); the headers declare CRC and USIZE, which may lie. */
struct raw_entry {
    const char *name;
    size_t name_len;    /* may cover a NUL inside NAME */
    const void *data;
    size_t len;
    uint16_t method, flags;
    uint32_t crc, usize;
};

static void put16(unsigned char **p, uint16_t v)
{
    *(*p)++ = (unsigned char)v;
    *(*p)++ = (unsigned char)(v >> 8);
}

static void put32(unsigned char **p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p, (uint16_t)(v >> 16));
}

/* The fields local and central headers share, from "version needed" on. */
static void put_common(unsigned char **p, const struct raw_entry *en)
{
    put16(p, 20);
    put16(p, en->flags);
    put16(p, en->method);
    put32(p, 0x00210000);   /* 1980-01-01 00:00 */
    put32(p, en->crc);
    put32(p, (uint32_t)en->len);
    put32(p, en->usize);
    put16(p, (uint16_t)en->name_len);
    put16(p, 0);
}

/* Writes PATH as PKWARE's APPNOTE lays a zip out: local headers and data,
 * the central directory (made by Unix, regular files 0644), the end
 * record. */
static void raw_zip(const char *path, const struct raw_entry *ents, size_t n)
{
    size_t cap = 22;
    for (size_t i = 0; i < n; i++)
        cap += 30 + 46 + 2 * ents[i].name_len + ents[i].len;
    unsigned char *buf = malloc(cap), *p = buf;
    uint32_t *offsets = calloc(n ? n : 1, sizeof *offsets);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        offsets[i] = (uint32_t)(p - buf);
        put32(&p, 0x04034b50);
        put_common(&p, &ents[i]);
        memcpy(p, ents[i].name, ents[i].name_len);
        p += ents[i].name_len;
        memcpy(p, ents[i].data, ents[i].len);
        p += ents[i].len;
    }
    unsigned char *central = p;
    for (size_t i = 0; i < n; i++) {
        put32(&p, 0x02014b50);
        put16(&p, 3 << 8 | 20);
        put_common(&p, &ents[i]);
        put16(&p, 0);                       /* comment */
        put16(&p, 0);                       /* disk */
        put16(&p, 0);                       /* internal attributes */
        put32(&p, (uint32_t)(S_IFREG | 0644) << 16);
        put32(&p, offsets[i]);
        memcpy(p, ents[i].name, ents[i].name_len);
        p += ents[i].name_len;
    }
    put32(&p, 0x06054b50);
    put32(&p, 0);                           /* disk numbers */
    put16(&p, (uint16_t)n);
    put16(&p, (uint16_t)n);
    put32(&p, (uint32_t)(p - central - 12));
    put32(&p, (uint32_t)(central - buf));
    put16(&p, 0);
    tu_write(path, buf, (size_t)(p - buf));
    free(offsets);
    free(buf);
}

/* A stored entry NAME holding TEXT, with honest headers. */
static struct raw_entry raw_stored(const char *name, const char *text)
{
    return (struct raw_entry){name, strlen(name), text, strlen(text), 0, 0,
                              (uint32_t)crc32(0, (const Bytef *)text, (uInt)strlen(text)),
                              (uint32_t)strlen(text)};
}

/* LEN zeros as a raw deflate stream (what method 8 holds); *OUT_LEN set. */
static unsigned char *deflate_zeros(size_t len, size_t *out_len)
{
    unsigned char *zeros = calloc(1, len), *out = malloc(len / 100 + 1024);
    z_stream z = {0};
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = zeros;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)(len / 100 + 1024);
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    free(zeros);
    return out;
}

/* Headers that declare 100 bytes for 4 MiB of zeros: the bytes are
 * counted as they are inflated and the limit stops them, whatever the
 * header says; with room for them, the size mismatch is refused. */
static void test_refuse_lying_sizes(void **state)
{
    struct fixture *f = *state;
    size_t big = 4u << 20, clen = 0;
    unsigned char *deflated = deflate_zeros(big, &clen);
    unsigned char *zeros = calloc(1, big);
    struct raw_entry en = {"small.txt", 9, deflated, clen, 8, 0,
                           (uint32_t)crc32(0, zeros, (uInt)big), 100};
    raw_zip(f->zip, &en, 1);
    struct archive_limits lim = {100u << 20, 1u << 20, 10};
    assert_refused(f, &lim, "size limit");
    assert_refused(f, &roomy, "its size does not match");
    free(zeros);
    free(deflated);
}

/* A deflate stream with garbage in the middle. */
static void test_refuse_damaged_deflate(void **state)
{
    struct fixture *f = *state;
    size_t clen = 0;
    unsigned char *deflated = deflate_zeros(1u << 20, &clen);
    memset(deflated + clen / 3, 0xff, clen / 3);
    struct raw_entry en = {"broken.bin", 10, deflated, clen, 8, 0, 0, 1u << 20};
    raw_zip(f->zip, &en, 1);
    assert_refused(f, &roomy, "\"broken.bin\" is corrupt");
    free(deflated);
}

/* Methods and flags libzip would not write: Zstandard (93), and the
 * "strong encryption" flag (bit 6 with bit 0) on plain stored data. */
static void test_refuse_patched_method_and_flags(void **state)
{
    struct fixture *f = *state;
    struct raw_entry en = raw_stored("z.txt", "not really zstd");
    en.method = 93;
    raw_zip(f->zip, &en, 1);
    assert_refused(f, &roomy, "compression method 93");
    en = raw_stored("s.txt", "not really encrypted");
    en.flags = 0x41;
    raw_zip(f->zip, &en, 1);
    assert_refused(f, &roomy, "encrypted");
}

/* libzip reads a NUL inside a name as a space: the whole name is what
 * gets checked, so nothing after the NUL can climb out. */
static void test_nul_in_a_name(void **state)
{
    struct fixture *f = *state;
    struct raw_entry en = raw_stored("ok.py\0/../../evil.py", "x = 1\n");
    en.name_len = 20;
    raw_zip(f->zip, &en, 1);
    assert_refused(f, &roomy, "unsafe path");
    en = raw_stored("a\0b.py", "x = 1\n");
    en.name_len = 6;
    raw_zip(f->zip, &en, 1);
    struct err e = {{0}};
    if (archive_extract(f->zip, f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    assert_file_is(f->dest, "a b.py", "x = 1\n", 6);
}

/* libzip parses the whole central directory before the entry count can
 * be checked: what it may read is capped from the limits (here 5
 * entries), so 3000 entries are refused without being parsed. */
static void test_refuse_central_directory_over_budget(void **state)
{
    struct fixture *f = *state;
    size_t n = 3000;
    struct raw_entry *ents = calloc(n, sizeof *ents);
    char (*names)[16] = calloc(n, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "f%05zu.txt", i);
        ents[i] = raw_stored(names[i], "");
    }
    raw_zip(f->zip, ents, n);
    struct archive_limits five = {1u << 20, 1u << 20, 5};
    assert_refused(f, &five, "the central directory is too large");
    /* Within the budget, the count is reported as such. */
    struct archive_limits many = {1u << 20, 1u << 20, 2999};
    assert_refused(f, &many, "has 3000 entries; the limit is 2999");
    free(names);
    free(ents);
}

static void test_refuse_empty_file(void **state)
{
    struct fixture *f = *state;
    tu_write(f->zip, "", 0);
    assert_refused(f, &roomy, "not a readable zip archive");
}

/* A folder "tree" holding sol.py, as a submission. */
static char *make_solution_tree(const struct fixture *f)
{
    char *src = tu_path(f->root, "tree");
    assert_int_equal(mkdir(src, 0755), 0);
    tu_write_at(src, "sol.py", "x = 1\n");
    return src;
}

/* A DATA part becomes one entry; libzip reads the result back. */
static void test_create_with_data_part(void **state)
{
    struct fixture *f = *state;
    char *src = make_solution_tree(f);
    struct archive_part parts[] = {{.prefix = "job.json", .data = "{}\n", .len = 3},
                                   {.dir = src, .prefix = "submission/"}};
    struct err e = {{0}};
    if (archive_create(f->zip, parts, 2, &e) != 0)
        fail_msg("create failed: %s", e.msg);
    int zerr = 0;
    zip_t *z = zip_open(f->zip, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    assert_non_null(z);
    assert_int_equal(zip_get_num_entries(z, 0), 2);
    char got[8] = {0};
    zip_file_t *zf = zip_fopen(z, "job.json", 0);
    assert_non_null(zf);
    assert_int_equal(zip_fread(zf, got, sizeof got), 3);
    assert_string_equal(got, "{}\n");
    zip_fclose(zf);
    assert_true(zip_name_locate(z, "submission/sol.py", 0) >= 0);
    zip_discard(z);
    if (archive_extract(f->zip, f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    assert_file_is(f->dest, "job.json", "{}\n", 3);
    assert_file_is(f->dest, "submission/sol.py", "x = 1\n", 6);
    free(src);
}

/* The shipper's path: an archive made in a memfd, read from the same fd,
 * and a damaged one in memory refused naming the label. */
static void test_create_and_extract_in_memory(void **state)
{
    struct fixture *f = *state;
    char *src = make_solution_tree(f);
    struct archive_part parts[] = {{.prefix = "job.json", .data = "{}\n", .len = 3},
                                   {.dir = src, .prefix = "submission/"}};
    struct err e = {{0}};
    int fd = memfd_create("job.zip", MFD_CLOEXEC);
    assert_true(fd >= 0);
    if (archive_create_fd(fd, "job.zip", parts, 2, &e) != 0)
        fail_msg("create failed: %s", e.msg);
    if (archive_extract_fd(fd, "job.zip", f->dest, &roomy, &e) != 0)
        fail_msg("extract failed: %s", e.msg);
    assert_file_is(f->dest, "job.json", "{}\n", 3);
    assert_file_is(f->dest, "submission/sol.py", "x = 1\n", 6);
    assert_int_equal(ftruncate(fd, 10), 0);
    char *again = tu_path(f->root, "again");
    assert_int_equal(mkdir(again, 0700), 0);
    assert_int_equal(archive_extract_fd(fd, "job.zip", again, &roomy, &e), -1);
    assert_non_null(strstr(e.msg, "job.zip is not a readable zip archive"));
    close(fd);
    free(again);
    free(src);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_extract_nested),
        T(test_stored_and_deflated),
        T(test_refuse_damaged_data),
        T(test_refuse_encrypted),
        T(test_refuse_unknown_method),
        T(test_refuse_lying_sizes),
        T(test_refuse_damaged_deflate),
        T(test_refuse_patched_method_and_flags),
        T(test_nul_in_a_name),
        T(test_refuse_central_directory_over_budget),
        T(test_refuse_empty_file),
        T(test_create_with_data_part),
        T(test_create_and_extract_in_memory),
        T(test_limits_exactly_met),
        T(test_extract_permission_only_modes),
        T(test_refuse_dotdot),
        T(test_refuse_deep_and_long_names),
        T(test_refuse_absolute),
        T(test_refuse_symlink),
        T(test_refuse_zip_bomb),
        T(test_refuse_too_many_entries),
        T(test_refuse_duplicates),
        T(test_refuse_not_a_zip),
        T(test_refusal_keeps_dest_itself),
        T(test_create_extract_round_trip),
        T(test_create_empty_dir),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
