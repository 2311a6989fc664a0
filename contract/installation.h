/* installation.h - the names one Assay installation uses on its machine:
 * the uids its runs are leased from and, derived from its name, the
 * lock directory, run directory and cgroup of its sandbox slots.  Two
 * installations (or the test suite beside a live one) with different
 * names and disjoint uid ranges never touch each other's.  A spool keeps
 * its installation in workers.json ("installation"); assay-worker and
 * `assay grade` take it as --installation NAME --uids FIRST-LAST. */
#ifndef ASSAY_INSTALLATION_H
#define ASSAY_INSTALLATION_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/* The unnamed installation (spools made before installations had names,
 * workers started without --installation): these uids, and the run,
 * lock and cgroup directories below without a NAME component. */
#define INSTALLATION_UID_BASE 61000
#define INSTALLATION_UID_COUNT 1000
#define INSTALLATION_UID_MIN 1000       /* below: system accounts */
#define INSTALLATION_UID_LAST 2000000000u
#define INSTALLATION_COUNT_MAX 100000
#define INSTALLATION_NAME_MAX 32

#define INSTALLATION_RUN_ROOT "/run/assay"        /* run directories: ROOT[/NAME] */
#define INSTALLATION_LOCK_ROOT "/run/lock/assay"  /* uid leases: ROOT[/NAME]/uid-N */
#define INSTALLATION_CGROUP_ROOT "assay"          /* below the cgroup mount: ROOT[/NAME] */

struct installation {
    char name[INSTALLATION_NAME_MAX + 1];   /* "": the unnamed installation */
    unsigned uid_base, uid_count;           /* runs use uid_base .. uid_base + count - 1 */
};

/* The unnamed installation. */
void installation_default(struct installation *in);

/* 1 to 32 lower-case letters, digits, '-' and '_', starting with a letter
 * or digit, and not "slot-..." or "local-..." (the unnamed installation's
 * directories are ROOT/slot-N and ROOT/local-ID). */
int installation_check_name(const char *name, struct err *e);

/* "FIRST-LAST" (both included) into *BASE and *COUNT. */
int installation_parse_uids(const char *text, unsigned *base, unsigned *count, struct err *e);
/* "FIRST-LAST" of IN. */
void installation_format_uids(const struct installation *in, char *out, size_t n);

/* IN from a name (NULL or "": unnamed) and a range (NULL: the default
 * one); the error names what is wrong and what is allowed. */
int installation_set(struct installation *in, const char *name, const char *uids,
                     struct err *e);

bool installation_equal(const struct installation *a, const struct installation *b);
bool installation_uids_overlap(const struct installation *a, const struct installation *b);

/* Its run directory (slots, local workers), lock directory and cgroup
 * path below the cgroup mount. */
void installation_run_dir(const struct installation *in, char *out, size_t n);
void installation_lock_dir(const struct installation *in, char *out, size_t n);
void installation_cgroup(const struct installation *in, char *out, size_t n);

#endif
