/* pushes.h - pushes from GitHub and GitLab waiting to be fetched and
 * submitted: a small queue beside the job queue (docs/SPOOL.md,
 * "Pushes"), every move of a push file owned by one function here.
 *
 *   pushes_enqueue  (new)      -> pushes/incoming/   assay-web, on a verified webhook
 *   pushes_defer    incoming/  -> incoming/ (later)  assay-intake: the forge did not answer
 *   pushes_done     incoming/  -> pushes/done/       assay-intake: submitted, or nothing to submit
 *   pushes_fail     incoming/  -> pushes/failed/     assay-intake: refused for good (NAME.reason)
 *   pushes_drop_repeat  incoming/ -> (gone)          assay-intake: a repeat of a settled push
 *
 * A push's name is FORGE-DELIVERY (the webhook's delivery id): queueing
 * a name that is in any state is a redelivery and changes nothing, so a
 * push is graded once however often the forge sends it. */
#ifndef ASSAY_PUSHES_H
#define ASSAY_PUSHES_H

#include <jansson.h>
#include <stddef.h>

#include "common/err.h"
#include "common/fs.h"
#include "spool/spool.h"

#define PUSHES_INCOMING "pushes/incoming"
#define PUSHES_DONE "pushes/done"
#define PUSHES_FAILED "pushes/failed"
#define PUSH_NAME_MAX 128

/* The push name for FORGE ("github") and the delivery id ID: "FORGE-ID"
 * when ID is a plain token (letters, digits, '-', at most 96), else
 * "FORGE-sha256-HEX" of BODY (LEN bytes), the same for the same
 * request sent again.  0, or -1 if OUT (PUSH_NAME_MAX) is too small. */
int pushes_name(char out[PUSH_NAME_MAX], const char *forge, const char *id, const char *body,
                size_t len);

/* Queues PUSH as NAME, durably.  0 queued; 1 a redelivery (NAME is
 * queued, done or failed already); -1 with *e. */
int pushes_enqueue(const struct spool *s, const char *name, const json_t *push, struct err *e);
/* The names waiting in incoming/, oldest name first; -1 if memory ran out. */
int pushes_list(const struct spool *s, struct fs_list *out);
/* Reads the push NAME in incoming/ into *OUT (a new reference): 0; 1
 * when NAME is also in done/ or failed/ (a redelivery linked in while it
 * was being settled: drop it with pushes_drop_repeat); -1 with *e. */
int pushes_load(const struct spool *s, const char *name, json_t **out, struct err *e);
/* Removes incoming/NAME, a repeat of a push already settled. */
int pushes_drop_repeat(const struct spool *s, const char *name, struct err *e);
/* Keeps PUSH (NAME) in incoming/ with one more attempt, WHY as its last
 * error and "not_before" NOT_BEFORE (seconds since the epoch). */
int pushes_defer(const struct spool *s, const char *name, json_t *push, const char *why,
                 double not_before, struct err *e);
/* incoming/ -> done/, with NOTE (what was done) in the file. */
int pushes_done(const struct spool *s, const char *name, json_t *push, const char *note,
                struct err *e);
/* incoming/ -> failed/, with REASON in NAME.reason beside it. */
int pushes_fail(const struct spool *s, const char *name, json_t *push, const char *reason,
                struct err *e);

#endif
