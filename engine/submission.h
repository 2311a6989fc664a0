/* submission.h - turns what a student handed in into a directory of files. */
#ifndef ASSAY_SUBMISSION_H
#define ASSAY_SUBMISSION_H

#include "common/err.h"

#define SUBMISSION_MAX_BYTES (50ull << 20)
#define SUBMISSION_MAX_FILE_BYTES (20ull << 20)
#define SUBMISSION_MAX_FILES 1000

/* Copies PATH (a directory, a .zip or a single file) into the fresh
 * directory DEST: regular files only, within the limits above.  On -1 the
 * message is meant for the student (category "submission"). */
int submission_stage(const char *path, const char *dest, struct err *e);

/* If DEST holds nothing but one folder (a zipped project folder), moves
 * that folder's contents up.  Called only when required files are not at
 * the top. */
void submission_unwrap(const char *dest);

#endif
