/*
 * proctitle.c - sets the command line a process shows, as sendmail,
 * Postfix and OpenSSH do.
 *
 * A process forked to do one job (assay-worker's graders) has no argv of
 * its own; showing "assay-worker grade-one JOB_ID --dir D" tells an admin
 * in ps, and the tests in /proc, which job it is.  The title is written
 * over the original arguments, as NUL-separated words, and only there:
 * once the last byte of that area is not a NUL, the kernel shows just
 * the first word.  A title longer than the original arguments loses its
 * last words.
 */
#define _GNU_SOURCE
#include <string.h>

#include "common/proctitle.h"

static char *area;      /* argv[0] .. the end of the last argument */
static size_t area_len;

void proctitle_init(int argc, char **argv)
{
    if (argc < 1 || !argv[0])
        return;
    char *end = argv[0] + strlen(argv[0]) + 1;
    for (int i = 1; i < argc; i++)
        if (argv[i] == end)
            end += strlen(argv[i]) + 1;
    area = argv[0];
    area_len = (size_t)(end - argv[0]);
}

void proctitle_set(const char *const *words)
{
    if (!area || area_len < 2)
        return;
    size_t at = 0;
    for (int i = 0; words[i]; i++) {
        size_t n = strlen(words[i]) + 1;
        if (n > area_len - at)
            break;      /* whole words only: half a path would mislead */
        memcpy(area + at, words[i], n);
        at += n;
    }
    memset(area + at, 0, area_len - at);
}
