/* data.h - what the pages show, gathered from the spool's readers
 * (data.c): the jobs of a course in the queue, an assignment's students
 * and their latest results, a waiting job's place in the queue. */
#ifndef ASSAY_WEB_DATA_H
#define ASSAY_WEB_DATA_H

#include <jansson.h>
#include <stdbool.h>

#include "spool/spool.h"

/* The jobs of COURSE (and ASG, unless NULL; and STUDENT, unless NULL)
 * in the queue: [{"id", "state" ("waiting", "running", "deferred",
 * "held", "failed"), "assignment", "student", "version", "queued_at",
 * "capability", "slot" (running), "reason" (failed)}], oldest first. */
json_t *data_queue_jobs(const struct spool *s, const char *course, const char *asg,
                        const char *student);

/* The students of COURSE/ASG (submitted or with a result), by name. */
json_t *data_students(const struct spool *s, const char *course, const char *asg);

/* The assignments of COURSE (names of courses/COURSE/ holding an
 * assignment.json), by name. */
json_t *data_assignments(const struct spool *s, const char *course);
/* Every course of the spool, by name. */
json_t *data_courses(const struct spool *s);

/* For a waiting job (ID, CAPABILITY, queued at QUEUED_AT): how many
 * waiting jobs of the same capability were queued before it (*AHEAD),
 * and an estimate of its wait from COURSE/ASG's average grading time and
 * the slots that offer the capability (*WAIT_S; -1 when unknown). */
void data_queue_place(const struct spool *s, const char *course, const char *asg,
                      const char *capability, double queued_at, size_t *ahead, double *wait_s);

/* Drops the job rows data.c keeps between pages (at exit). */
void data_forget(void);

#endif
