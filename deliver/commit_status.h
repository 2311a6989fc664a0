/* commit_status.h - what the GitHub and GitLab destinations share: a
 * commit status made from a delivery (the job's origin, its phase or its
 * recorded result) and the judging of the forge's answer.  Each forge
 * is a struct status_forge in its own file (dest_github.c, dest_gitlab.c). */
#ifndef ASSAY_COMMIT_STATUS_H
#define ASSAY_COMMIT_STATUS_H

#include "deliver/destination.h"

enum status_state { ST_PENDING, ST_RUNNING, ST_SUCCESS, ST_FAILURE, ST_ERROR };

struct status_forge {
    const char *name;               /* "github": forges.json's block */
    const char *label;              /* "GitHub" */
    const char *states[5];          /* the forge's word for each status_state */
    const char *context_key;        /* the body's key for "assay/<assignment>" */
    const char *accept;             /* the Accept header */
    /* The statuses address of the delivery's commit (malloc'd). */
    char *(*url)(const char *api_url, const json_t *origin);
    /* True when an answer STATUS with body BODY means the commit already
     * has this state (GitLab refuses a repeated transition with 400). */
    bool (*already)(long status, const char *body);
    size_t max_description;         /* the forge's limit, in bytes */
};

#define STATUS_DESC_BYTES 512

/* The state and description for delivery D (phase, or its recorded
 * result): 0; 1 when nothing is to be sent (NOTE says why: a later
 * status of the job was sent); 2 when it must wait for an earlier one;
 * -1 with NOTE (a sentence) when it cannot be made.  DESC (STATUS_DESC_BYTES) gets at most MAX bytes of
 * text, cut at a character with "...". */
int status_of_delivery(const struct spool *s, const struct delivery *d, enum status_state *st,
                       char desc[STATUS_DESC_BYTES], size_t max, char *note, size_t n);

enum dest_step status_begin(struct dest_exchange *x, const struct status_forge *f);
enum dest_step status_answer(struct dest_exchange *x, const struct status_forge *f,
                             const struct dest_answer *a);
void status_check(const struct spool *s, const json_t *block, const char *file,
                  const char *where, struct problems *p);

#endif
