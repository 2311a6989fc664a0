/* scan.h - the one way to list a spool directory: job files, names,
 * version directories; and the versions of one student's work. */
#ifndef ASSAY_SCAN_H
#define ASSAY_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/fs.h"
#include "spool/spool.h"

enum scan_what {
    SCAN_JOBS,      /* job files "ID.json", in name order: ids begin with
                     * their creation time, so oldest first */
    SCAN_NAMES,     /* course, assignment, student names (spool_name_is_valid),
                     * alphabetical */
    SCAN_VERSIONS,  /* version directories "1", "2", ..., ascending */
};

/* Lists the directory DIR (absolute): the entries of the kind asked for
 * in out->names, every other one not starting with '.' in out->others
 * (common/fs.h; free with fs_list_free).  A directory that does not exist
 * lists nothing; returns -1 only when memory ran out (what was listed so
 * far is kept). */
int scan_dir(const char *dir, enum scan_what what, struct fs_list *out);
/* The same for the spool directory REL ("incoming", "shippers/W.1", ...). */
int scan_spool(const struct spool *s, const char *rel, enum scan_what what, struct fs_list *out);

/* How many job files the spool directory REL holds. */
size_t scan_count_jobs(const struct spool *s, const char *rel);

/* True when NAME is a job file's name, "<id>.json"; ID (if not NULL)
 * gets the id, which must fit in N bytes. */
bool job_name_to_id(const char *name, char *id, size_t n);

/* The version numbers of STUDENT's work to COURSE/ASSIGNMENT under AREA
 * ("submissions" or "results"), ascending; *N of them (0: none).  A
 * malloc'd array, or NULL when there are none. */
long long *spool_versions(const struct spool *s, const char *area, const char *course,
                          const char *assignment, const char *student, size_t *n);
/* The highest of them, 0 when there is none. */
long long spool_latest_version(const struct spool *s, const char *area, const char *course,
                               const char *assignment, const char *student);

#endif
