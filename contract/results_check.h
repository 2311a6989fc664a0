/* results_check.h - what a result archive sent back by a worker may hold:
 * the one place that says what a valid result is, and how much of a
 * worker's log the primary keeps (docs/SECURITY.md, "Primary and
 * worker"). */
#ifndef ASSAY_RESULTS_CHECK_H
#define ASSAY_RESULTS_CHECK_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"

#define RESULT_JSON_MAX_BYTES (16u << 20)    /* results.json */
#define RESULT_JSON_MAX_DEPTH 32             /* nesting of results.json */
#define RESULT_MAX_TESTS 2000
#define RESULT_MAX_CASES 10000               /* per test */
#define RESULT_MAX_POINTS 1e9                /* any max_score */
#define RESULT_FILE_MAX_BYTES (16u << 20)    /* any one file of the archive */
#define RESULT_ARCHIVE_MAX_BYTES (64u << 20) /* all of them together */
#define RESULT_MAX_FILES 200
/* Of worker.log and traces.log, per result: */
#define RESULT_LOG_MAX_LINES 200
#define RESULT_LOG_MAX_BYTES (32u << 10)     /* as kept (made visible) */
#define RESULT_LOG_LINE_MAX 1000             /* bytes of one line, before escaping */

/* Checks R, a results.json a worker sent: an object of the documented
 * shape (docs/ASSIGNMENTS.md, Results), at most RESULT_JSON_MAX_DEPTH
 * deep, every score a finite number within 0 and its max_score, the
 * total the sum of the tests', and none of the keys only the primary
 * sets.  -1 with the problems found ("$.tests[0].score: ...") in *E. */
int results_check(const json_t *r, struct err *e);

/* Checks the unpacked result archive DIR: results.json a regular file
 * (never a link) that parses and passes results_check; besides it only
 * worker.log, traces.log and feedback/..., within the file count and
 * sizes above.  -1 with what is wrong in *E. */
int results_check_dir(const char *dir, struct err *e);

/* A worker's log text, as the primary keeps it: at most
 * RESULT_LOG_MAX_LINES lines and RESULT_LOG_MAX_BYTES, each line cut at
 * RESULT_LOG_LINE_MAX bytes and made visible (text_visible: no control
 * character survives), empty lines skipped; DROPPED counts the lines
 * not kept. */
struct sent_lines {
    char **lines;
    size_t n;
    size_t dropped;
};
int sent_lines_split(const char *text, size_t len, struct sent_lines *out, struct err *e);
void sent_lines_free(struct sent_lines *l);

#endif
