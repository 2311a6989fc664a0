/* archive.h - zip archives: safe extraction and creation from a tree. */
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

/* Writes every regular file below DIR into a new archive ZIP, names
 * relative to DIR. */
int archive_create(const char *zip, const char *dir, struct err *e);

#endif
