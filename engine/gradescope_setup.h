/* gradescope_setup.h - running a Gradescope autograder's setup.sh once
 * per worker machine, and checking that it was. */
#ifndef ASSAY_GRADESCOPE_SETUP_H
#define ASSAY_GRADESCOPE_SETUP_H

#include <stdbool.h>

#include "common/err.h"

/* Where the stamps go: $ASSAY_GRADESCOPE_STATE, or this. */
#define GRADESCOPE_STATE_DEFAULT "/var/lib/assay/gradescope"

/* 0 when AUTOGRADER_DIR has no setup.sh, or when this machine has run
 * that exact setup.sh (its stamp exists); else -1 with *e telling the
 * administrator what to run. */
int gradescope_setup_check(const char *autograder_dir, struct err *e);

/* Runs AUTOGRADER_DIR/setup.sh (bash, in that folder, with this
 * process's privileges) unless its stamp says it ran (or FORCE), then
 * writes the stamp.  *ran tells whether it ran.  Its output goes to
 * this process's standard output and error. */
int gradescope_setup_run(const char *autograder_dir, bool force, bool *ran, struct err *e);

#endif
