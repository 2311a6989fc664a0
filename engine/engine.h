/* engine.h - grades one submission against one assignment. */
#ifndef ASSAY_ENGINE_H
#define ASSAY_ENGINE_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/assignment.h"
#include "sandbox/launcher.h"

struct engine_options {
    struct launcher *launcher;  /* runs the tests' commands; NULL: none can run (an
                                 * assignment without tests needs none), and
                                 * results.json says "none" where it names it */
    const char *work_base;      /* where work directories go; NULL: $TMPDIR or /tmp */
    bool keep_workdirs;         /* for debugging an assignment */
    const char *files_dir;      /* where kinds leave feedback files (feedback/...) that
                                 * travel with results.json; NULL: none are kept */
    bool slot_cleaned;          /* the caller ran launcher->clean just before (the
                                 * worker daemon does before each grading): not again */
};

/* Grades the submission at PATH (a directory, a single file or a .zip)
 * and returns results.json in the instructor's view (DESIGN.md section
 * 4).  Problems with the submission, the assignment or Assay itself end
 * up in the result as an error with a category, never as a crash (tests
 * to run without a launcher are an infrastructure error); the return
 * value is NULL only when memory ran out. */
json_t *engine_grade(const struct assignment *a, const char *path,
                     const struct engine_options *o);

#endif
