/* report.h - turning a runner's JSON-lines report into scored cases. */
#ifndef ASSAY_KINDS_REPORT_H
#define ASSAY_KINDS_REPORT_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/kind.h"

/* One sub-test (a pytest test, a doctest example) as the runner saw it. */
struct case_list {
    json_t *names;      /* in order */
    json_t *status;     /* name -> {"outcome", "message", "memory"} */
    bool memory;        /* some case ran out of memory */
    bool lost;          /* Assay ran out of memory: a case may be missing */
    bool leave_out_skipped;   /* skipped cases count for nothing, not as failed */
};

void case_list_init(struct case_list *c);
void case_list_free(struct case_list *c);
void case_list_add(struct case_list *c, const char *name);
void case_list_set(struct case_list *c, const char *name, const char *outcome,
                   const char *message, bool memory);
/* True (OUT marked as Assay's failure) when a case may be missing: the
 * list would misstate the run, so it is not scored. */
bool case_list_lost(const struct case_list *c, struct test_outcome *out);

/* How many cases ended with OUTCOME ("skipped", ...). */
size_t case_list_count(const struct case_list *c, const char *outcome);

/* Scores the cases into OUT: each case is worth PER points (or, when
 * ALL_OR_NOTHING, the test's points go to all-passed only).  Cases
 * without a result get UNFINISHED as their message; with
 * leave_out_skipped, skipped cases are listed worth 0 of 0 and left out
 * of the count.  Sets the verdict (passed, failed or the limit the run
 * hit) and the feedback. */
void case_list_score(struct case_list *c, struct test_run *run,
                     const struct run_result *res, double per, bool all_or_nothing,
                     struct test_outcome *out);

#endif
