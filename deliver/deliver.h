/* deliver.h - what assay-deliver's files share. */
#ifndef ASSAY_DELIVER_H
#define ASSAY_DELIVER_H

/* roster.c: `assay-deliver --roster COURSE` imports the course's Canvas
 * roster into courses/COURSE/roster.json; prints what it did; the exit
 * status (0, or 1 with the reason on standard error). */
int roster_import(const char *root, const char *course);

#endif
