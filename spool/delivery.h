/* delivery.h - outgoing deliveries (a grade to Canvas, a commit status to
 * GitHub): a small queue of their own beside the job queue, with every
 * move of a delivery file owned by one function here (docs/SPOOL.md,
 * "Deliveries").
 *
 *   queue      (new)                  -> deliveries/pending/   whoever finishes a job
 *                                                                (queue_finish); a grade changed
 *                                                                otherwise; assay sync resend
 *   take       pending/               -> sending/              assay-deliver, when it is due
 *   defer      sending/               -> pending/              assay-deliver: try again later
 *   done       sending/               -> done/                 assay-deliver: the service took it
 *   dead       sending/               -> dead/                 assay-deliver: refused for good,
 *                                                                or attempts used up
 *   recover    sending/               -> pending/ (unsure)     assay-deliver at start-up
 *   bury       pending/ (unreadable)  -> dead/ + KEY.reason    assay-deliver
 *   retry      dead/                  -> pending/              assay sync retry
 *
 * A delivery's name is its idempotency key, KEY = JOB_ID.ATTEMPT.DEST
 * (one recorded result of one attempt, for one destination): queueing a
 * key that exists in any state is a repeat and changes nothing, so a
 * crash between recording a result and removing its job file queues
 * nothing twice.  Functions return 0, 1 for "nothing to do" (said at
 * each), or -1 with one sentence in *e. */
#ifndef ASSAY_DELIVERY_H
#define ASSAY_DELIVERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "common/fs.h"
#include "spool/job.h"
#include "spool/spool.h"

#define DELIVERY_PENDING "deliveries/pending"
#define DELIVERY_SENDING "deliveries/sending"
#define DELIVERY_DONE "deliveries/done"
#define DELIVERY_DEAD "deliveries/dead"

/* The destination a course.json block configures ("lms" -> "canvas"),
 * or NULL for a key that is no delivery block: spool/course.c accepts
 * these blocks and lists their destinations; each destination reads and
 * checks its own block (deliver/destination.c). */
const char *delivery_dest_of_block(const char *block);

/* A delivery file, read (the strings live in JSON). */
struct delivery {
    json_t *json;
    const char *key, *dest, *course, *assignment, *student, *job_id;
    long long version;
    int tries;                  /* attempts to send made so far */
    double not_before;          /* seconds since the epoch: not sent before then */
    bool unsure;                /* an earlier attempt may have reached the
                                 * service (a crash or a timeout mid-way) */
    bool batch;                 /* from a regrade or grade-all (batch priority) */
};

int delivery_load(const struct spool *s, const char *state, const char *key,
                  struct delivery *d, struct err *e);
int delivery_from_json(json_t *j, struct delivery *d, struct err *e);
void delivery_free(struct delivery *d);

/* The keys of the delivery files in STATE (DELIVERY_PENDING, ...),
 * oldest first; -1 only when memory ran out. */
int delivery_list(const struct spool *s, const char *state, struct fs_list *out);
/* The state directory holding KEY, or NULL (a constant). */
const char *delivery_locate(const struct spool *s, const char *key);

/* Queues one delivery of JOB's recorded result to DEST.  1 when KEY is
 * already in some state (a repeat). */
int delivery_queue(const struct spool *s, const struct job *job, const char *dest,
                   struct err *e);
/* Queues a delivery to each destination COURSE's course.json configures
 * for JOB's result (none: nothing).  Failures are logged, each with the
 * command that sends it later; returns how many could not be queued. */
int delivery_queue_for_result(const struct spool *s, const struct job *job);
/* Queues the commit status of JOB when it came from a GitHub or GitLab
 * push (the job's "origin"; otherwise nothing, 0): of its recorded
 * result (PHASE NULL, key JOB_ID.ATTEMPT.FORGE), or of PHASE "pending"
 * (queued for grading), "running" (a shipper took it; GitLab only) or
 * "refused" (the pushed commit was not submitted: REASON says why; JOB
 * is then one made for the push, never queued), key JOB_ID.PHASE.FORGE.  1 when the
 * key exists (a repeat). */
int delivery_queue_commit_status(const struct spool *s, const struct job *job, const char *phase,
                                 const char *reason, struct err *e);
/* Whose grade a delivery sends, and the recorded result that made it. */
struct delivery_target {
    const char *course, *assignment, *student;
    long long version;
    const char *job_id;
    int attempt;
    bool batch;
    const json_t *extra;            /* NULL, or fields a destination needs beside these
                                     * (a commit's sha), copied into the file */
};
/* A grade that changed without a job finishing (a manual grade), or one
 * to send again whatever was sent before (`assay sync resend`): a
 * delivery of T to each destination COURSE's course.json configures,
 * under the keys CHANGE.DEST (CHANGE unique to this change, such as an
 * ids_job_id and a word).  Returns how many were queued (0: the course
 * sends grades nowhere, or they were queued before), -1 with *e. */
int delivery_queue_change(const struct spool *s, const struct delivery_target *t,
                          const char *change, struct err *e);

/* pending/ -> sending/; 1 when it was gone. */
int delivery_take(const struct spool *s, const char *key, struct err *e);
/* sending/ -> pending/, attempt counted, not sent before NOT_BEFORE, WHY
 * kept as last_error; UNSURE: the attempt may have reached the service. */
int delivery_defer(const struct spool *s, struct delivery *d, const char *why,
                   double not_before, bool unsure, struct err *e);
/* sending/ -> done/, with NOTE (what was sent, or why nothing needed to be). */
int delivery_done(const struct spool *s, struct delivery *d, const char *note, struct err *e);
/* sending/ -> dead/ with REASON (a sentence naming the student and the
 * fix) and CATEGORY (unknown_student, token, refused, config, attempts). */
int delivery_dead(const struct spool *s, struct delivery *d, const char *category,
                  const char *reason, struct err *e);
/* Every delivery in sending/ back to pending/, marked unsure: the
 * process that was sending them is gone.  Returns how many moved. */
int delivery_recover(const struct spool *s, struct err *e);
/* pending/KEY.json, which cannot be read as a delivery, -> dead/ with
 * dead/KEY.reason holding WHY: assay-deliver, so it is not tried again
 * and again. */
int delivery_bury(const struct spool *s, const char *key, const char *why, struct err *e);
/* dead/ -> pending/ with fresh attempts; 1 when it was not there. */
int delivery_retry(const struct spool *s, const char *key, struct err *e);

/* How many delivery files each state holds: for `assay sync status` and
 * the /metrics page. */
struct delivery_counts {
    size_t pending, sending, done, dead;
};
int delivery_count(const struct spool *s, struct delivery_counts *c);

#endif
