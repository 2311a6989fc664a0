/* archive.h - zip archives: safe extraction, and creation from trees and buffers. */
#ifndef ASSAY_ARCHIVE_H
#define ASSAY_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct archive_limits {
    uint64_t max_total_bytes;   /* sum of extracted sizes, as actually read */
    uint64_t max_file_bytes;
    uint64_t max_entries;
};

/* Extracts ZIP into the existing directory DEST.  The whole archive is
 * refused (nothing is left in DEST) if any entry is unsafe: an absolute
 * path, a ".." component, a symlink or special file, a duplicate, or
 * sizes over the limits, counted while decompressing. */
int archive_extract(const char *zip, const char *dest,
                    const struct archive_limits *lim, struct err *e);
/* The same from the open file FD (read with pread, left open); LABEL
 * names it in messages. */
int archive_extract_fd(int fd, const char *label, const char *dest,
                       const struct archive_limits *lim, struct err *e);

/* One directory tree to put in an archive, its names starting PREFIX
 * ("" or "submission/"); or, when DATA is set, one file named PREFIX
 * holding the LEN bytes at DATA. */
struct archive_part {
    const char *dir;
    const char *prefix;
    const void *data;
    size_t len;
};

/* Writes every regular file below each part's directory (symlinks and
 * special files are left out), and each DATA part, into the archive ZIP,
 * which it creates or replaces. */
int archive_create(const char *zip, const struct archive_part *parts, size_t n,
                   struct err *e);
/* The same into FD, written from its current position (an empty file, or
 * a memfd); LABEL names it in messages.  FD is left open. */
int archive_create_fd(int fd, const char *label, const struct archive_part *parts, size_t n,
                      struct err *e);

#endif
