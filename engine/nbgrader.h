/* nbgrader.h - Jupyter notebooks in nbgrader's format (schema version 3). */
#ifndef ASSAY_NBGRADER_H
#define ASSAY_NBGRADER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

/* The largest notebook Assay reads (students embed images). */
#define NB_MAX_BYTES (32u << 20)

/* What a cell is for, from its metadata.nbgrader. */
enum nb_role {
    NB_PLAIN,       /* no nbgrader metadata: anyone's code or text */
    NB_ANSWER,      /* "solution": the student writes it */
    NB_TEST,        /* "grade" without "solution": autograder tests */
    NB_LOCKED,      /* "locked": instructor content students must not change */
    NB_MANUAL,      /* "grade" and "solution": an answer graded by a person */
    NB_TASK,        /* "task": a task graded by a person */
};

/* Parses TEXT (named WHAT in messages) as an nbformat 4 notebook.  NULL,
 * with *e saying what is wrong and where, for broken JSON or a file that
 * is not a notebook. */
json_t *nb_parse(const char *text, size_t len, const char *what, struct err *e);
json_t *nb_load_file(const char *path, struct err *e);

/* A cell's source as one string ("source" may be a string or a list of
 * strings; anything else reads as empty).  malloc'd; NULL if out of memory. */
char *nb_source(const json_t *cell);
/* "code", "markdown", "raw", or "" for anything else. */
const char *nb_cell_type(const json_t *cell);
const json_t *nb_meta(const json_t *cell);       /* metadata.nbgrader or NULL */
const char *nb_grade_id(const json_t *cell);     /* NULL when none */
enum nb_role nb_role(const json_t *cell);
const char *nb_role_name(enum nb_role r);
double nb_points(const json_t *cell);            /* 0 unless a number >= 0 */

/* SRC with the hidden tests (### BEGIN/END HIDDEN TESTS and the lines
 * between) removed; *had_hidden tells whether there were any. malloc'd;
 * NULL if out of memory (or SRC is NULL). */
char *nb_visible_source(const char *src, bool *had_hidden);
/* nbgrader's checksum of a cell (md5 hex, 32 digits + NUL); -1 if out of memory. */
int nb_checksum(const json_t *cell, char out[33]);

/* What a released answer cell holds in place of the solution: CODE for
 * code cells, TEXT for markdown (NULL: nbgrader's "# YOUR CODE HERE\n
 * raise NotImplementedError()" and "YOUR ANSWER HERE"). */
struct nb_stubs {
    const char *code, *text;
};
/* The released version of answer cell CELL (its source SRC). malloc'd;
 * NULL if out of memory. */
char *nb_stub_answer(const json_t *cell, const char *src, const struct nb_stubs *stubs);
/* Whether ANSWER (a student's version of answer cell CELL) is still the
 * released stub, ignoring surrounding white space: nbgrader gives such
 * an answer 0 points and "No response.".  -1 if out of memory. */
int nb_answer_unchanged(const json_t *cell, const char *answer, const struct nb_stubs *stubs);

/* Whether a test cell of NB holds an nbgrader "### AUTOTEST" line
 * (expanded by `assay notebook release`, engine/python/autotest_expand.py). */
bool nb_has_autotest(const json_t *nb);

/* Checks an instructor's source notebook; every problem goes into P as
 * "WHERE: cell N (grade_id): what". */
void nb_check_source(const json_t *nb, const char *where, struct problems *p);
/* Points of the autograded (test) cells of a source notebook. */
double nb_test_points(const json_t *nb);
/* Points of the cells a person grades (manually graded answers, tasks). */
double nb_manual_points(const json_t *nb);

/* The student version of a source notebook: solutions replaced by
 * "# YOUR CODE HERE" / "raise NotImplementedError()", hidden tests
 * removed, outputs cleared, test and locked cells marked read-only,
 * checksums set.  A new notebook; NULL if out of memory. */
json_t *nb_release(const json_t *source, const struct nb_stubs *stubs);

/* The cells to grade: the submission's cells in its order, with every
 * test and locked cell restored from SOURCE by grade_id (or, when an
 * editor stripped the metadata, by content), deleted ones put back, and
 * answers taken from the submission.  Returns a list of plan entries
 * {"role", "type", "code", "show", "grade_id", "points", "hidden",
 * "cell"} and appends to PROBLEMS (a JSON list) one sentence per problem
 * found in the submission.  NULL if out of memory. */
json_t *nb_merge(const json_t *source, const json_t *submission, json_t *problems);

#endif
