/* test_fs.c - unit tests for common/fs.h: relative path checks, mkdir -p,
 * atomic writes, bounded reads that refuse links/FIFOs/directories,
 * fs_read_beneath, tree copy/removal that never follow symlinks, and
 * the sorted file walk. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <linux/fs.h>
#include <signal.h>
#include <sys/ioctl.h>

#include "common/fs.h"

/* ---- fs_relpath_is_safe -------------------------------------------- */

static void test_relpath_is_safe(void **state)
{
    (void)state;
    assert_true(fs_relpath_is_safe("a.py"));
    assert_true(fs_relpath_is_safe("dir/a.py"));
    assert_true(fs_relpath_is_safe("d1/d2/d3/x"));
    assert_true(fs_relpath_is_safe(".hidden"));
    assert_true(fs_relpath_is_safe("a..b"));
    assert_true(fs_relpath_is_safe("...")); /* a plain (odd) name */
    assert_true(fs_relpath_is_safe("caf\xC3\xA9.py"));

    assert_false(fs_relpath_is_safe(NULL));
    assert_false(fs_relpath_is_safe(""));
    assert_false(fs_relpath_is_safe("/etc/passwd"));
    assert_false(fs_relpath_is_safe("/"));
    assert_false(fs_relpath_is_safe(".."));
    assert_false(fs_relpath_is_safe("../x"));
    assert_false(fs_relpath_is_safe("a/.."));
    assert_false(fs_relpath_is_safe("a/../b"));
    assert_false(fs_relpath_is_safe("a//b"));
    assert_false(fs_relpath_is_safe("a/"));
    assert_false(fs_relpath_is_safe("."));
    assert_false(fs_relpath_is_safe("./a"));
    assert_false(fs_relpath_is_safe("a/./b"));
    assert_false(fs_relpath_is_safe("a\nb"));
    assert_false(fs_relpath_is_safe("a\tb"));
    assert_false(fs_relpath_is_safe("a\x01"));
    assert_false(fs_relpath_is_safe("dir/\x1b[31m"));
    assert_false(fs_relpath_is_safe("a\x7f"));
}

/* ---- fs_mkdir_p / fs_mkdtemp / small helpers ------------------------ */

static void test_mkdir_p(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *deep = tu_path(dir, "a/b/c");
    assert_int_equal(fs_mkdir_p(deep, 0755, &e), 0);
    assert_true(fs_is_dir(deep));
    /* Again: already there is fine. */
    assert_int_equal(fs_mkdir_p(deep, 0755, &e), 0);
    /* Trailing slash. */
    char *slash = tu_path(dir, "a/b/d/");
    assert_int_equal(fs_mkdir_p(slash, 0755, &e), 0);
    char *d = tu_path(dir, "a/b/d");
    assert_true(fs_is_dir(d));
    /* Through or onto a regular file fails with a message. */
    tu_write_at(dir, "file", "x");
    char *onto = tu_path(dir, "file");
    e.msg[0] = '\0';
    assert_int_equal(fs_mkdir_p(onto, 0755, &e), -1);
    assert_true(strlen(e.msg) > 0);
    char *through = tu_path(dir, "file/sub");
    e.msg[0] = '\0';
    assert_int_equal(fs_mkdir_p(through, 0755, &e), -1);
    assert_true(strlen(e.msg) > 0);
    /* An empty name is an error, not a read past its end. */
    assert_int_equal(fs_mkdir_p("", 0755, &e), -1);
    assert_string_equal(e.msg, "cannot create a directory with an empty name");
    free(deep);
    free(slash);
    free(d);
    free(onto);
    free(through);
}

static void test_mkdtemp_and_helpers(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *a = NULL, *b = NULL;
    assert_int_equal(fs_mkdtemp(dir, "job", &a, &e), 0);
    assert_int_equal(fs_mkdtemp(dir, "job", &b, &e), 0);
    assert_string_not_equal(a, b);
    assert_true(fs_is_dir(a));
    struct stat st;
    assert_int_equal(lstat(a, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_true(strncmp(a, dir, strlen(dir)) == 0);
    assert_true(strncmp(a + strlen(dir), "/job-", 5) == 0);
    free(a);
    free(b);

    char *j = fs_join("x/y", "z.txt");
    assert_string_equal(j, "x/y/z.txt");
    free(j);

    tu_write_at(dir, "f", "1");
    char *f = tu_path(dir, "f"), *l = tu_path(dir, "l"), *none = tu_path(dir, "none");
    assert_int_equal(symlink(dir, l), 0);
    assert_true(fs_exists(f));
    assert_false(fs_is_dir(f));
    assert_true(fs_exists(l));
    assert_false(fs_is_dir(l)); /* a link to a directory is not a directory */
    assert_false(fs_exists(none));
    assert_true(fs_is_dir(dir));
    free(f);
    free(l);
    free(none);
}

/* ---- fs_write_atomic / fs_read_file -------------------------------- */

static void test_write_atomic_read_round_trip(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    /* 200 KB of binary data (with NULs), more than one read chunk. */
    size_t len = 200 * 1024 + 7;
    unsigned char *data = malloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 31 + i / 256);
    char *path = tu_path(dir, "data.bin");
    assert_int_equal(fs_write_atomic(path, data, len, &e), 0);

    struct buf b = BUF_INIT;
    assert_int_equal(fs_read_file(path, len, &b, &e), 0);
    assert_int_equal(b.len, len);
    assert_memory_equal(b.data, data, len);
    buf_free(&b);

    /* The temporary file is gone; the mode is 0644. */
    assert_int_equal(tu_count_entries(dir), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);

    /* Overwrite with something shorter. */
    assert_int_equal(fs_write_atomic(path, "new", 3, &e), 0);
    assert_int_equal(fs_read_file(path, 100, &b, &e), 0);
    assert_int_equal(b.len, 3);
    assert_string_equal(b.data, "new");
    buf_free(&b);

    /* An empty file reads as an empty string. */
    assert_int_equal(fs_write_atomic(path, "", 0, &e), 0);
    assert_int_equal(fs_read_file(path, 100, &b, &e), 0);
    assert_int_equal(b.len, 0);
    assert_string_equal(buf_str(&b), "");
    buf_free(&b);
    assert_int_equal(tu_count_entries(dir), 1);

    /* Into a missing directory: an error, nothing left behind. */
    char *bad = tu_path(dir, "missing/x");
    e.msg[0] = '\0';
    assert_int_equal(fs_write_atomic(bad, "x", 1, &e), -1);
    assert_true(strlen(e.msg) > 0);
    assert_int_equal(tu_count_entries(dir), 1);
    free(bad);
    free(path);
    free(data);
}

/* fs_write_file rewrites a scratch file in place: what is left is exactly
 * the new content, whether longer, shorter or empty; a link is refused. */
static void test_write_file_rewrites_in_place(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *path = tu_path(dir, "results.json");
    const char *texts[] = {"{\"score\": 1}\n", "{\"score\": 1, \"assay\": {\"attempts\": 1}}\n",
                           "{}\n", ""};
    struct stat st0, st;
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        assert_int_equal(fs_write_file(path, texts[i], strlen(texts[i]), i % 2 == 1, &e), 0);
        struct buf b = BUF_INIT;
        assert_int_equal(fs_read_file(path, 1000, &b, &e), 0);
        assert_int_equal(b.len, strlen(texts[i]));
        assert_string_equal(buf_str(&b), texts[i]);
        buf_free(&b);
        assert_int_equal(stat(path, i == 0 ? &st0 : &st), 0);
        if (i > 0)   /* the same file each time, not a new one */
            assert_int_equal(st.st_ino, st0.st_ino);
    }
    char *link = tu_path(dir, "link.json");
    assert_int_equal(symlink(path, link), 0);
    e.msg[0] = '\0';
    assert_int_equal(fs_write_file(link, "x", 1, false, &e), -1);
    assert_non_null(strstr(e.msg, "link.json"));
    free(link);
    free(path);
}

static void test_read_file_refusals(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    struct buf b = BUF_INIT;
    tu_write_at(dir, "real.txt", "secret");
    char *real = tu_path(dir, "real.txt");

    /* A symlink to a readable regular file. */
    char *link = tu_path(dir, "link");
    assert_int_equal(symlink(real, link), 0);
    assert_int_equal(fs_read_file(link, 100, &b, &e), -1);
    assert_true(strlen(e.msg) > 0);
    buf_free(&b);

    /* A FIFO with no writer: must fail, not block.  The alarm only turns
     * a hang into a failure; no timing is asserted. */
    char *fifo = tu_path(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    alarm(20);
    e.msg[0] = '\0';
    assert_int_equal(fs_read_file(fifo, 100, &b, &e), -1);
    alarm(0);
    assert_true(tu_contains(e.msg, "not a regular file"));
    buf_free(&b);

    /* A directory. */
    tu_mkdir_at(dir, "sub");
    char *sub = tu_path(dir, "sub");
    e.msg[0] = '\0';
    assert_int_equal(fs_read_file(sub, 100, &b, &e), -1);
    assert_true(strlen(e.msg) > 0);
    buf_free(&b);

    /* Over the maximum; exactly the maximum is fine. */
    char *big = tu_path(dir, "big");
    char hundred[100];
    memset(hundred, 'x', sizeof hundred);
    tu_write(big, hundred, sizeof hundred);
    e.msg[0] = '\0';
    assert_int_equal(fs_read_file(big, 99, &b, &e), -1);
    assert_true(tu_contains(e.msg, "limit"));
    buf_free(&b);
    assert_int_equal(fs_read_file(big, 100, &b, &e), 0);
    assert_int_equal(b.len, 100);
    buf_free(&b);

    /* Missing. */
    char *none = tu_path(dir, "none");
    e.msg[0] = '\0';
    assert_int_equal(fs_read_file(none, 100, &b, &e), -1);
    assert_true(tu_contains(e.msg, "none"));
    buf_free(&b);

    free(real);
    free(link);
    free(fifo);
    free(sub);
    free(big);
    free(none);
}

/* ---- fs_read_beneath ------------------------------------------------ */

static void test_read_beneath(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    struct buf b = BUF_INIT;
    /* dir/outside.txt is outside the work dir dir/work. */
    tu_write_at(dir, "outside.txt", "outside");
    tu_mkdir_at(dir, "work");
    tu_mkdir_at(dir, "work/sub");
    tu_mkdir_at(dir, "work/sub/deep");
    tu_write_at(dir, "work/sub/deep/f.txt", "nested content\n");
    tu_write_at(dir, "work/top.txt", "top");
    char *work = tu_path(dir, "work");
    char *outside = tu_path(dir, "outside.txt");
    char *lnk = tu_path(dir, "work/link.txt");
    char *ldir = tu_path(dir, "work/ldir");
    char *escape = tu_path(dir, "work/escape");
    assert_int_equal(symlink("top.txt", lnk), 0);
    assert_int_equal(symlink("sub", ldir), 0);
    assert_int_equal(symlink("..", escape), 0);
    int fd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);

    assert_int_equal(fs_read_beneath(fd, "sub/deep/f.txt", 1000, &b, &e), 0);
    assert_string_equal(buf_str(&b), "nested content\n");
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, "top.txt", 1000, &b, &e), 0);
    assert_string_equal(buf_str(&b), "top");
    buf_free(&b);

    assert_int_equal(fs_read_beneath(fd, "../outside.txt", 1000, &b, &e), -1);
    assert_int_equal(b.len, 0);
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, "sub/../../outside.txt", 1000, &b, &e), -1);
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, outside, 1000, &b, &e), -1);
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, "link.txt", 1000, &b, &e), -1);
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, "ldir/deep/f.txt", 1000, &b, &e), -1);
    buf_free(&b);
    assert_int_equal(fs_read_beneath(fd, "escape/outside.txt", 1000, &b, &e), -1);
    buf_free(&b);
    /* A directory and an oversized file are refused as well. */
    assert_int_equal(fs_read_beneath(fd, "sub", 1000, &b, &e), -1);
    buf_free(&b);
    e.msg[0] = '\0';
    assert_int_equal(fs_read_beneath(fd, "sub/deep/f.txt", 5, &b, &e), -1);
    assert_true(tu_contains(e.msg, "limit"));
    buf_free(&b);

    close(fd);
    free(work);
    free(outside);
    free(lnk);
    free(ldir);
    free(escape);
}

/* ---- fs_copy_tree --------------------------------------------------- */

static void test_copy_tree(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    tu_mkdir_at(dir, "src");
    tu_write_at(dir, "src/a.txt", "A");
    tu_mkdir_at(dir, "src/d");
    tu_write_at(dir, "src/d/b.txt", "BB");
    tu_mkdir_at(dir, "src/d/e");
    tu_write_at(dir, "src/d/e/c.txt", "CCC");
    tu_mkdir_at(dir, "src/empty");
    tu_write_at(dir, "secret.txt", "do not copy");
    char *p1 = tu_path(dir, "src/link.txt"), *p2 = tu_path(dir, "src/dlink"),
         *p3 = tu_path(dir, "src/outlink"), *p4 = tu_path(dir, "src/fifo");
    assert_int_equal(symlink("a.txt", p1), 0);
    assert_int_equal(symlink("d", p2), 0);
    assert_int_equal(symlink("../secret.txt", p3), 0);
    assert_int_equal(mkfifo(p4, 0644), 0);

    char *src = tu_path(dir, "src"), *dst = tu_path(dir, "dst");
    alarm(20); /* a FIFO must be skipped, not opened */
    assert_int_equal(fs_copy_tree(src, dst, &e), 3);
    alarm(0);

    struct { const char *rel, *text; } want[] = {
        {"dst/a.txt", "A"}, {"dst/d/b.txt", "BB"}, {"dst/d/e/c.txt", "CCC"}};
    for (size_t i = 0; i < 3; i++) {
        char *p = tu_path(dir, want[i].rel);
        char *text = tu_read(p, NULL);
        assert_non_null(text);
        assert_string_equal(text, want[i].text);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        free(text);
        free(p);
    }
    char *empty = tu_path(dir, "dst/empty");
    assert_true(fs_is_dir(empty));
    free(empty);
    const char *absent[] = {"dst/link.txt", "dst/dlink", "dst/outlink", "dst/fifo"};
    for (size_t i = 0; i < 4; i++) {
        char *p = tu_path(dir, absent[i]);
        assert_false(fs_exists(p));
        free(p);
    }
    /* dst: a.txt d empty */
    assert_int_equal(tu_count_entries(dst), 3);
    free(p1);
    free(p2);
    free(p3);
    free(p4);
    free(src);
    free(dst);
}

/* ---- fs_remove_tree ------------------------------------------------- */

static void test_remove_tree(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    /* Outside the tree: a directory with a file, and a lone file. */
    tu_mkdir_at(dir, "outside");
    tu_write_at(dir, "outside/keep.txt", "keep me");
    tu_write_at(dir, "keep2.txt", "keep me too");
    /* The tree. */
    tu_mkdir_at(dir, "tree");
    tu_mkdir_at(dir, "tree/a");
    tu_write_at(dir, "tree/a/f.txt", "x");
    tu_mkdir_at(dir, "tree/locked");
    tu_mkdir_at(dir, "tree/locked/inner");
    tu_write_at(dir, "tree/locked/inner/g.txt", "y");
    tu_write_at(dir, "tree/locked/h.txt", "z");
    char *l1 = tu_path(dir, "tree/to_outside"), *l2 = tu_path(dir, "tree/a/to_file"),
         *l3 = tu_path(dir, "tree/dangling"), *locked = tu_path(dir, "tree/locked"),
         *inner = tu_path(dir, "tree/locked/inner"), *outside = tu_path(dir, "outside");
    char *keep2 = tu_path(dir, "keep2.txt");
    assert_int_equal(symlink(outside, l1), 0);
    assert_int_equal(symlink(keep2, l2), 0);
    assert_int_equal(symlink("/nonexistent/nowhere", l3), 0);
    assert_int_equal(chmod(inner, 0), 0);
    assert_int_equal(chmod(locked, 0), 0);

    char *tree = tu_path(dir, "tree");
    assert_int_equal(fs_remove_tree(tree, &e), 0);
    assert_false(fs_exists(tree));

    char *keep = tu_path(dir, "outside/keep.txt");
    char *text = tu_read(keep, NULL);
    assert_non_null(text);
    assert_string_equal(text, "keep me");
    free(text);
    text = tu_read(keep2, NULL);
    assert_non_null(text);
    assert_string_equal(text, "keep me too");
    free(text);
    assert_int_equal(tu_count_entries(outside), 1);
    struct stat st;
    assert_int_equal(lstat(outside, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    /* Missing is not an error. */
    assert_int_equal(fs_remove_tree(tree, &e), 0);

    /* A symlink given as the tree itself is removed, not followed. */
    char *toplink = tu_path(dir, "toplink");
    assert_int_equal(symlink(outside, toplink), 0);
    assert_int_equal(fs_remove_tree(toplink, &e), 0);
    assert_false(fs_exists(toplink));
    assert_int_equal(tu_count_entries(outside), 1);

    /* A single file. */
    assert_int_equal(fs_remove_tree(keep2, &e), 0);
    assert_false(fs_exists(keep2));

    free(l1);
    free(l2);
    free(l3);
    free(locked);
    free(inner);
    free(outside);
    free(keep2);
    free(tree);
    free(keep);
    free(toplink);
}

/* ---- fs_walk_files -------------------------------------------------- */

struct walk_log {
    char *rel[16];
    off_t size[16];
    int n;
    int stop_after;
};

static int walk_cb(const char *rel, off_t size, void *arg)
{
    struct walk_log *w = arg;
    assert_true(w->n < 16);
    w->rel[w->n] = strdup(rel);
    w->size[w->n] = size;
    w->n++;
    if (w->stop_after && w->n >= w->stop_after)
        return -1;
    return 0;
}

static void walk_log_free(struct walk_log *w)
{
    for (int i = 0; i < w->n; i++)
        free(w->rel[i]);
    w->n = 0;
}

static void test_walk_files(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    tu_write_at(dir, "b.txt", "bb");
    tu_write_at(dir, "a.txt", "a");
    tu_mkdir_at(dir, "c");
    tu_write_at(dir, "c/z.txt", "zzzz");
    tu_write_at(dir, "c/m.txt", "");
    tu_mkdir_at(dir, "c/e");
    tu_mkdir_at(dir, "d");
    tu_mkdir_at(dir, "d/e");
    tu_write_at(dir, "d/e/f.py", "print(1)\n");
    char *l1 = tu_path(dir, "link.txt"), *l2 = tu_path(dir, "dlink"),
         *fifo = tu_path(dir, "c/fifo");
    assert_int_equal(symlink("a.txt", l1), 0);
    assert_int_equal(symlink("c", l2), 0);
    assert_int_equal(mkfifo(fifo, 0644), 0);

    struct walk_log w = {.n = 0};
    assert_int_equal(fs_walk_files(dir, walk_cb, &w, &e), 0);
    const char *want[] = {"a.txt", "b.txt", "c/m.txt", "c/z.txt", "d/e/f.py"};
    const off_t sizes[] = {1, 2, 0, 4, 9};
    assert_int_equal(w.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(w.rel[i], want[i]);
        assert_int_equal(w.size[i], sizes[i]);
    }
    walk_log_free(&w);

    /* A callback's failure stops the walk and is returned. */
    w.stop_after = 2;
    assert_int_not_equal(fs_walk_files(dir, walk_cb, &w, &e), 0);
    assert_int_equal(w.n, 2);
    walk_log_free(&w);

    /* A missing root is an error with a message. */
    char *none = tu_path(dir, "none");
    w.stop_after = 0;
    e.msg[0] = '\0';
    assert_int_equal(fs_walk_files(none, walk_cb, &w, &e), -1);
    assert_true(strlen(e.msg) > 0);
    assert_int_equal(w.n, 0);

    free(none);
    free(l1);
    free(l2);
    free(fifo);
}

static void test_sync_helpers(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *deep = fs_join(dir, "a/b/c"), *from = fs_join(dir, "a/b/c/f"), *to = fs_join(dir, "a/f");
    assert_int_equal(fs_mkdir_p_durable(deep, 0755, &e), 0);
    assert_true(fs_is_dir(deep));
    assert_int_equal(fs_mkdir_p_durable(deep, 0755, &e), 0);   /* already there: fine */
    assert_int_equal(fs_write_file(from, "x", 1, true, &e), 0);
    assert_int_equal(rename(from, to), 0);
    assert_int_equal(fs_sync_rename(from, to, &e), 0);
    assert_int_equal(fs_sync_parent(to, &e), 0);
    assert_int_equal(fs_sync_dir(dir, &e), 0);
    assert_int_equal(fs_sync_rename(to, from, &e), 0);   /* and back: another pair of directories */
    /* a directory that is not there is an error naming it */
    char *gone = fs_join(dir, "nope");
    assert_int_equal(fs_sync_dir(gone, &e), -1);
    assert_non_null(strstr(e.msg, gone));
    assert_int_equal(fs_sync_parent("nope/x", &e), -1);
    assert_non_null(strstr(e.msg, "nope"));
    assert_int_equal(fs_sync_dir(NULL, &e), -1);
    assert_string_equal(e.msg, "out of memory");
    free(gone);
    free(deep);
    free(from);
    free(to);
}

/* A tree deeper and longer than any path: 1000 directories of 200-byte
 * names (a path of 200 KB), a file at every level. */
static void test_remove_tree_any_depth(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char name[201];
    memset(name, 'd', 200);
    name[200] = '\0';
    char *tree = tu_path(dir, "deep");
    assert_int_equal(mkdir(tree, 0755), 0);
    int fd = open(tree, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    for (int i = 0; i < 1000; i++) {
        int f = openat(fd, "file.txt", O_WRONLY | O_CREAT, 0644);
        assert_true(f >= 0);
        assert_int_equal(write(f, "x", 1), 1);
        close(f);
        assert_int_equal(mkdirat(fd, name, 0755), 0);
        int next = openat(fd, name, O_RDONLY | O_DIRECTORY);
        assert_true(next >= 0);
        close(fd);
        fd = next;
    }
    assert_int_equal(symlinkat(dir, fd, "up"), 0);   /* never followed */
    close(fd);
    assert_int_equal(fs_remove_tree(tree, &e), 0);
    assert_false(fs_exists(tree));
    assert_true(fs_is_dir(dir));
    free(tree);
}

/* fs_empty_dir keeps the directory and its mode, and removes the rest. */
static void test_empty_dir(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    char *top = tu_path(dir, "top");
    assert_int_equal(mkdir(top, 0711), 0);
    assert_int_equal(chmod(top, 0711), 0);
    tu_mkdir_at(dir, "top/a");
    tu_mkdir_at(dir, "top/a/b");
    tu_write_at(dir, "top/a/b/f", "x");
    tu_write_at(dir, "top/g", "y");
    assert_int_equal(fs_empty_dir(top, &e), 0);
    assert_int_equal(tu_count_entries(top), 0);
    struct stat st;
    assert_int_equal(lstat(top, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0711);
    char *missing = tu_path(dir, "missing");
    assert_int_equal(fs_empty_dir(missing, &e), 0);
    free(missing);
    free(top);
}

/* What cannot be removed (an immutable file, as root on a file system
 * that has the flag) fails the removal, naming it; the rest goes. */
static void test_remove_tree_reports_what_stays(void **state)
{
    const char *dir = *state;
    struct err e = {{0}};
    tu_mkdir_at(dir, "t");
    tu_mkdir_at(dir, "t/sub");
    tu_write_at(dir, "t/sub/stuck", "x");
    tu_write_at(dir, "t/other", "y");
    char *stuck = tu_path(dir, "t/sub/stuck"), *tree = tu_path(dir, "t");
    int fd = open(stuck, O_RDONLY);
    int flags = FS_IMMUTABLE_FL;
    bool immutable = fd >= 0 && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    if (fd >= 0)
        close(fd);
    if (!immutable) {
        free(stuck);
        free(tree);
        skip();   /* not root, or no immutable flag on this file system */
    }
    assert_int_equal(fs_remove_tree(tree, &e), -1);
    assert_non_null(strstr(e.msg, "t/sub/stuck"));
    assert_non_null(strstr(e.msg, "Operation not permitted"));
    char *other = tu_path(dir, "t/other");
    assert_false(fs_exists(other));
    assert_true(fs_exists(stuck));
    fd = open(stuck, O_RDONLY);
    flags = 0;
    assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
    close(fd);
    assert_int_equal(fs_remove_tree(tree, &e), 0);
    assert_false(fs_exists(tree));
    free(other);
    free(stuck);
    free(tree);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relpath_is_safe),
        cmocka_unit_test_setup_teardown(test_mkdir_p, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_mkdtemp_and_helpers, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_sync_helpers, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_atomic_read_round_trip, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_file_rewrites_in_place, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_file_refusals, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_read_beneath, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_copy_tree, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_remove_tree, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_remove_tree_any_depth, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_empty_dir, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_remove_tree_reports_what_stays, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_walk_files, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
