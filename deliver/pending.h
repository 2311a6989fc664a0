/* pending.h - assay-deliver's view of deliveries/pending/: what each
 * waiting delivery's lane is and when it is due, read once per file, so
 * that a scan after each answer costs a directory listing, not a read of
 * every file (a flood of thousands waiting while Canvas is down). */
#ifndef ASSAY_DELIVER_PENDING_H
#define ASSAY_DELIVER_PENDING_H

#include <stdbool.h>
#include <stddef.h>

#include "spool/spool.h"

/* A regrade's deliveries wait this long after being queued, so that those
 * of one assignment recorded close together go in one bulk request. */
#define PENDING_BATCH_LINGER_S 2.0

struct pending_entry {
    char *key;
    char lane[200];                 /* "COURSE/DESTINATION": one exchange at a time */
    char assignment[72];
    double due;                     /* seconds since the epoch */
    bool batch;                     /* may go in a bulk request */
    bool skip;                      /* unreadable (buried) or of no known destination */
    bool stale;                     /* taken since it was read: read it again */
};

struct pending {
    struct pending_entry *v;        /* sorted by key: oldest first */
    size_t n;
};

/* Lists pending/ again: entries of files gone are dropped, new files
 * (and stale entries) read; an unreadable file is buried in dead/ with
 * its reason.  -1 only when memory ran out (what was read is kept). */
int pending_refresh(struct pending *p, const struct spool *s);
/* KEY was taken (or is about to be): its entry is read again if the file
 * comes back. */
void pending_forget(struct pending *p, const char *key);
void pending_free(struct pending *p);

#endif
