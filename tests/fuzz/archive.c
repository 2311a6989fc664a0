/* archive.c - libFuzzer target for common/archive.c's extraction: the
 * input is a zip as a student uploads it or a worker sends a result
 * back.  It is extracted from a memfd (archive_extract_fd, as the
 * shipper reads a pulled result) into an empty scratch directory under
 * small limits, so that the fuzzer reaches the limit checks too.  Every
 * refusal must leave the directory empty; anything ASan, UBSan or
 * LeakSanitizer reports, or a file left behind, is a finding.
 *   build-fuzz/fuzz/archive tests/fuzz/corpus/archive   (make fuzz runs it) */
#define _GNU_SOURCE
#include <dirent.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/archive.h"
#include "tests/fuzz/fuzz.h"

/* True when DIR has no entries. */
static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fuzz_die("cannot list the scratch directory", NULL);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            n++;
    closedir(d);
    return n == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *dest = fuzz_scratch();
    int fd = memfd_create("fuzz.zip", MFD_CLOEXEC);
    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
        fuzz_die("cannot fill a memfd", NULL);
    struct archive_limits lim = {1u << 20, 256u << 10, 64};
    struct err e;
    if (archive_extract_fd(fd, "fuzz.zip", dest, &lim, &e) < 0 && !dir_is_empty(dest)) {
        fprintf(stderr, "a refused archive left files in %s (%s)\n", dest, e.msg);
        abort();
    }
    close(fd);
    return 0;
}
