/* classroom.h - reading a GitHub Classroom workflow for `assay import
 * classroom` (classroom_workflow.c). */
#ifndef ASSAY_CLASSROOM_H
#define ASSAY_CLASSROOM_H

#include <jansson.h>

#include "common/err.h"

/* The grader steps of the workflow file PATH, in order: a list of
 * {"grader": "io"|"command"|"python", "where": "jobs.J.steps[N]",
 * "step": its name or absent, "with": {input: text}}.  Problems of a
 * step go to P; NULL with *e when the file cannot be read as YAML. */
json_t *classroom_workflow_load(const char *path, struct problems *p, struct err *e);

#endif
