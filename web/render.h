/* render.h - pieces of pages shared by several (render.c). */
#ifndef ASSAY_WEB_RENDER_H
#define ASSAY_WEB_RENDER_H

#include <jansson.h>
#include <stdbool.h>

#include "common/buf.h"

/* A results.json (or its student view) as HTML: the total, the status,
 * an error with its category, and each test with its output. */
void render_result(struct buf *b, const json_t *r);
/* "3 s", "4 min", "2 h 5 min": a duration for people. */
void render_duration(char *out, size_t n, double s);
/* The late days of result R ("0" when on time, "" without a result). */
void render_late_days(char *out, size_t n, const json_t *r);

#endif
