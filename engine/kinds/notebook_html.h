/* notebook_html.h - the HTML feedback page of a graded notebook. */
#ifndef ASSAY_KINDS_NOTEBOOK_HTML_H
#define ASSAY_KINDS_NOTEBOOK_HTML_H

#include <jansson.h>

/* A self-contained HTML page showing the graded notebook NAME: PLAN's
 * cells (nb_merge entries, each code cell with its "result"), with test
 * cells as students may see them ("show": hidden tests removed), the
 * PROBLEMS found, and the SCORE of MAX (PENDING of it awaiting manual
 * grading).  malloc'd. */
char *notebook_html(const char *name, const json_t *plan, const json_t *problems,
                    double score, double max, double pending);

#endif
