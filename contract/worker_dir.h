/* worker_dir.h - a worker directory: the names of its folders and files,
 * and their permissions.  The shipper's transports and assay-worker
 * speak through it (docs/SPOOL.md, "Worker directories"):
 *
 *   inbox/    job archives delivered by the primary, "<id>.<token>.zip"
 *   active/   those being graded (taken from inbox/ by one rename)
 *   outbox/   result archives, named as their job's archive
 *   tmp/      unpacking, and the rlimit launcher's work directories
 *   logs/     the daemon's own log
 *
 * A file is written as ".<name>.part" in the folder it belongs to and
 * renamed when whole; readers skip names that start with '.'. */
#ifndef ASSAY_WORKER_DIR_H
#define ASSAY_WORKER_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

#define WORKER_INBOX "inbox"
#define WORKER_ACTIVE "active"
#define WORKER_OUTBOX "outbox"
#define WORKER_TMP "tmp"
#define WORKER_LOGS "logs"
#define WORKER_LOCK ".lock"          /* held by the running assay-worker */

/* DIR/FOLDER/NAME (NAME may be NULL: DIR/FOLDER), malloc'd. */
char *worker_path(const char *dir, const char *folder, const char *name);
/* DIR/FOLDER/.NAME.part: where NAME is written before it is renamed. */
char *worker_part_path(const char *dir, const char *folder, const char *name);
/* True for a file that is still being written (".NAME.part"). */
bool worker_is_part(const char *name);

/* The archive name of a job's attempt, "<id>.<token>.zip", in OUT (N
 * bytes); -1 if it does not fit. */
int worker_archive_name(char *out, size_t n, const char *id, const char *token);
/* True for a finished archive in a worker directory's folder: "*.zip",
 * not hidden. */
bool worker_is_archive(const char *name);
/* DIR/active/NAME.trace: where a grader of archive NAME writes its stack
 * trace if it crashes, for the daemon to send back. */
char *worker_trace_path(const char *dir, const char *name);
/* Splits an archive name into the job ID and the attempt's TOKEN (each
 * at most N bytes); false if NAME is not "<id>.<token>.zip". */
bool worker_archive_parse(const char *name, char *id, char *token, size_t n);

/* True when an assay-worker daemon is running on DIR (it holds the
 * lock DIR/.lock). */
bool worker_daemon_running(const char *dir);

/* Creates (or repairs) worker directory DIR: DIR and tmp/ 0711, so a
 * run's uid can pass through to its own work directory but list nothing;
 * inbox/, active/, outbox/ and logs/ 0700.  Existing folders keep their
 * owner (on an SSH worker, the queues belong to the worker's account). */
int worker_layout_create(const char *dir, struct err *e);

/* Checks that every folder above DIR lets other users pass (o+x): runs
 * execute as unprivileged uids and must reach DIR/tmp.  A worker directory
 * under /root (0700) would otherwise make every test fail with
 * "Permission denied". */
int worker_layout_reachable(const char *dir, struct err *e);

#endif
