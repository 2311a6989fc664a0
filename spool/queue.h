/* queue.h - the job's transitions (docs/SPOOL.md, "Job states"): every
 * move of a job file, each owned by one function here.
 *
 *   enqueue       (new)                       -> incoming/      assay submit, regrade
 *   hand_to_slot  incoming/                   -> shippers/W.K/  the scheduler
 *   unassign      shippers/W.K/               -> incoming/      a slot left workers.json,
 *                                                               or its worker went down
 *   claim         shippers/W.K/: a new attempt and its token     the slot's shipper
 *   defer         shippers/W.K/               -> deferred/      an attempt failed
 *   retry         deferred/                   -> incoming/      its backoff is over
 *   fail          any                         -> failed/        attempts used up, unreadable
 *   finish        any: recorded in results/, the file removed
 *   hold          incoming/, deferred/        -> hold/          an admin
 *   release       hold/                       -> incoming/
 *   requeue       failed/, deferred/, hold/   -> incoming/      fresh attempts
 *
 * States are the spool-relative directories ("incoming", "shippers/W.K").
 * Functions return 0, or -1 with one sentence in *e. */
#ifndef ASSAY_QUEUE_H
#define ASSAY_QUEUE_H

#include <jansson.h>

#include "common/err.h"
#include "spool/job.h"
#include "spool/record.h"
#include "spool/spool.h"

/* The state directory that holds job ID ("incoming", "deferred", "hold",
 * "failed" or "shippers/W.K"), malloc'd; NULL when it is in none (done). */
char *queue_locate(const struct spool *s, const char *id);

/* Queues JOB (a new job file, job_new) in incoming/; jobs/ID becomes a
 * second name of the file. */
int queue_enqueue(const struct spool *s, json_t *job, struct err *e);

/* Hands job ID from incoming/ to SLOT ("shippers/W.K").  Returns 1 when
 * its file was gone (held or requeued meanwhile): nothing to hand over. */
int queue_hand_to_slot(const struct spool *s, const char *id, const char *slot, struct err *e);
/* Returns job ID from SLOT to incoming/. */
int queue_unassign(const struct spool *s, const char *id, const char *slot, struct err *e);

/* JOB, in SLOT (named SLOT_NAME, "W.K"), starts its next attempt at NOW
 * with a new random token, unless this slot is resuming its own attempt
 * after a restart (then the worker may have it already).  Returns 0 for a
 * new attempt, 1 for one resumed. */
int queue_claim(const struct spool *s, struct job *job, const char *slot, const char *slot_name,
                double now, struct err *e);

/* JOB's attempt on WORKER failed with REASON: it waits in deferred/
 * until NOT_BEFORE (seconds since the epoch), then avoids that worker
 * when another can take it. */
int queue_defer(const struct spool *s, struct job *job, const char *from, const char *worker,
                const char *reason, double not_before, struct err *e);
/* Returns job ID from deferred/ to incoming/ (its backoff is over); 1
 * when it was gone (an admin held or requeued it meanwhile). */
int queue_retry(const struct spool *s, const char *id, struct err *e);

/* FROM/NAME goes to failed/, with failed/ID.reason holding WHY.  A job
 * that could be read (JOB, else NULL) first gets an error result (category
 * infrastructure, finished at NOW) with MESSAGE for its student.  Logs the
 * failure, then wakes whoever waits for the job. */
int queue_fail(const struct spool *s, const char *from, const char *name, const struct job *job,
               const char *why, const char *message, double now, struct err *e);

/* Why job ID went to failed/: the first line of failed/ID.reason,
 * malloc'd; NULL with *E saying why when there is none or it cannot be
 * read. */
char *queue_failed_reason(const struct spool *s, const char *id, struct err *e);

/* What finishing a job records in results/ (spool/record.c). */
enum job_end_kind {
    END_RESULT,                     /* a result the worker (or the engine) made */
    END_ERROR,                      /* an error result saying why it was not graded */
    END_SUPERSEDED,                 /* a newer version replaced it while it waited */
    END_ALREADY,                    /* recorded before a crash: only the file is left */
};
struct job_end {
    enum job_end_kind kind;
    const char *dir;                /* END_RESULT: the result directory to record */
    const char *category;           /* END_ERROR: "submission", "assignment", "infrastructure" */
    const char *message;            /* END_ERROR: the sentence a person can act on */
    const char *newer_id;           /* END_SUPERSEDED: the job that replaced it */
    long long newer_version;
    struct record_info info;
};

/* Ends JOB, whose file is in FROM, always in this order: records END,
 * removes the job file, logs LINE (or, when this attempt's result was
 * recorded already, says so), then wakes whoever waits for the job
 * (`assay submit --wait`), who may read the log.  Returns 0, 1 for a
 * repeat, or -1 when nothing could be recorded (the file stays). */
int queue_finish(const struct spool *s, const struct job *job, const char *from,
                 const struct job_end *end, const char *line, struct err *e);

/* What an admin does to job ID: 0 with *FROM (malloc'd) the state it
 * left, or -1 when it is in no state the command applies to (*e says
 * where it is). */
int queue_hold(const struct spool *s, const char *id, char **from, struct err *e);
int queue_release(const struct spool *s, const char *id, char **from, struct err *e);
/* ... and puts it back with fresh attempts (its failure reason goes). */
int queue_requeue(const struct spool *s, const char *id, char **from, struct err *e);

#endif
