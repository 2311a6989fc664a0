/* diff.h - a short, line-numbered diff of expected vs actual output. */
#ifndef ASSAY_DIFF_H
#define ASSAY_DIFF_H

#include <stddef.h>

/* Returns malloc'd text: differing lines marked "-" (expected) and "+"
 * (the program's output) with their line numbers and two lines of
 * context, at most MAX_LINES lines long, valid UTF-8; NULL if memory
 * ran out. */
char *diff_lines(const char *expected, size_t elen, const char *actual, size_t alen,
                 int max_lines);

#endif
