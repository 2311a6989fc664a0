/* fuzz.h - what the libFuzzer targets of tests/fuzz/ share: a private
 * scratch directory for the parsers that read files (made once per
 * process, emptied between inputs, removed at exit), and the one way a
 * target gives up when the harness itself cannot go on. */
#ifndef ASSAY_FUZZ_H
#define ASSAY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/fs.h"

/* A failure of the harness, not of the code under test: libFuzzer must
 * not count it as a finding of the parser's, so it stops loudly. */
static inline void fuzz_die(const char *what, const struct err *e)
{
    fprintf(stderr, "fuzz harness: %s%s%s\n", what, e ? ": " : "", e ? e->msg : "");
    abort();
}

static char *fuzz_scratch_dir;

static inline void fuzz_scratch_remove(void)
{
    struct err e;   /* at exit: a leftover in the temporary directory is only untidy */
    if (fuzz_scratch_dir)
        fs_remove_tree(fuzz_scratch_dir, &e);
}

/* The scratch directory, empty: $TMPDIR/assay-fuzz-XXXXXX, or without
 * TMPDIR in /dev/shm (a tmpfs: a target that writes its input to a file
 * runs 15 times faster there than on a disk's /tmp). */
static inline const char *fuzz_scratch(void)
{
    struct err e;
    if (fuzz_scratch_dir) {
        if (fs_remove_tree(fuzz_scratch_dir, &e) < 0)
            fuzz_die("cannot empty the scratch directory", &e);
        if (mkdir(fuzz_scratch_dir, 0700) < 0)
            fuzz_die("cannot make the scratch directory again", NULL);
        return fuzz_scratch_dir;
    }
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = fs_is_dir("/dev/shm") ? "/dev/shm" : "/tmp";
    if (fs_mkdtemp(base, "assay-fuzz", &fuzz_scratch_dir, &e) < 0)
        fuzz_die("cannot make a scratch directory", &e);
    atexit(fuzz_scratch_remove);
    return fuzz_scratch_dir;
}

/* Writes the LEN bytes at DATA to DIR/NAME. */
static inline void fuzz_put(const char *dir, const char *name, const void *data, size_t len)
{
    struct err e;
    char *path = fs_join(dir, name);
    if (!path || fs_write_file(path, data, len, false, &e) < 0)
        fuzz_die("cannot write an input file", path ? &e : NULL);
    free(path);
}

#endif
