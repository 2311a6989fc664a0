/* installs.h - the machine's registry of installations: which spool holds
 * which installation name and uid range (contract/installation.h), so
 * that `assay init` never gives two installations the same. */
#ifndef ASSAY_INSTALLS_H
#define ASSAY_INSTALLS_H

#include <stdbool.h>

#include "common/err.h"
#include "contract/installation.h"

/* One file per installation, NAME.json ("_unnamed.json" for the unnamed
 * one): {"spool": "/abs/spool", "name": "NAME", "uids": "FIRST-LAST"}.
 * INSTALLS_DIR/.lock is held while one is chosen and its spool made. */
#define INSTALLS_DIR "/etc/assay/installations.d"
/* Where new installations' ranges are looked for: the unnamed
 * installation's 61000-61999 stays for spools made before names. */
#define INSTALLS_FIRST_UID 62000

struct installs {
    int lock_fd;
};

/* Opens the registry and waits for its lock, which makes every other
 * `assay init` on the machine wait until installs_close. */
int installs_open(struct installs *r, struct err *e);
void installs_close(struct installs *r);

/* Reserves IN for the spool at ROOT (absolute): drops entries whose spool
 * no longer names them (or is ROOT), refuses IN's name or uids where
 * another spool's installation holds them or an account of the passwd
 * database has a uid in the range (the error names that spool or account
 * and --uids), and records IN.  With PICK_UIDS, IN's range is chosen
 * instead: the first block of IN->uid_count uids from INSTALLS_FIRST_UID
 * that nobody holds. */
int installs_claim(struct installs *r, const char *root, struct installation *in,
                   bool pick_uids, struct err *e);

#endif
