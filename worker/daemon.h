/* daemon.h - assay-worker: the worker daemon and its per-job grader. */
#ifndef ASSAY_WORKER_DAEMON_H
#define ASSAY_WORKER_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

/* A worker directory D holds:
 *   inbox/   job archives "<job id>.<token>.zip", renamed in by a transport
 *   active/  the archives being graded (back to grading after a crash)
 *   outbox/  result archives, same names
 *   tmp/     work space;  logs/worker.log  the worker's own log */

struct err;
struct launcher;
struct launcher_type;
struct sandbox_site;

/* Grades D/active/NAME (in a process of its own) and leaves the result
 * archive in D/outbox/NAME, running the tests with LAUNCHER, or with one
 * of its own (worker_set_sandbox) when that is NULL.  Returns 0, or -1 if
 * not even an error result could be written. */
int worker_grade_one(const char *dir, const char *name, const char *worker,
                     struct launcher *launcher);
/* The type of launcher grade-one makes when it is given none (the
 * registry's, sandbox/launcher.h), and the installation's names it makes
 * it for (kept by pointer); until set, the registry's default and the
 * unnamed installation. */
void worker_set_sandbox(const struct launcher_type *type, const struct sandbox_site *site);
/* A launcher of that type for that installation, as grade-one makes when
 * it is given none; NULL with *E when it cannot be made. */
struct launcher *worker_own_launcher(struct err *e);

/* Writes an error result for NAME into D/outbox: CATEGORY and MESSAGE as
 * in results.json, TRACE (may be NULL) a file whose text goes along as
 * traces.log.  A failure is logged here, with the job's id. */
int worker_write_error(const char *dir, const char *name, const char *category,
                       const char *message, const char *trace);

/* `assay-worker grade-archive`: grades the job archive IN in a private
 * worker directory under $TMPDIR (else /tmp) and leaves its result at
 * OUT (written beside it as ".NAME.part", then renamed), for batch
 * systems that start one process per job.  0, or 1 when not even an
 * error result could be written (said on stderr). */
int worker_grade_archive(const char *in, const char *out, const char *worker);

/* `assay-worker wait`: returns 0 (printing "ready") once D/outbox/NAME
 * exists, 1 after TIMEOUT_S; prints "waiting {"free_mb", "daemon"}" every
 * second meanwhile (the daemon's heartbeat as read here) so the
 * other end of an SSH channel can tell a silent link from a long job. */
int worker_wait(const char *dir, const char *name, double timeout_s);
/* `assay-worker status`: {"version", "free_mb", "inbox", "active",
 * "outbox", "daemon"} of worker directory D on standard output ("daemon":
 * its heartbeat, contract/heartbeat.h, or null). */
int worker_status(const char *dir);

/* `assay-worker canary`: grades the canaries (contract/canary.h)
 * through the daemon running on D and prints their outcomes, one line
 * each or (AS_JSON) a JSON list; SANDBOX's host check explains a daemon
 * that is not running.  0 when every one passed, else 1. */
int worker_canary(const char *dir, const struct launcher_type *sandbox, bool as_json);

/* The job id in an archive name "<id>.<token>.zip" (for log lines). */
void worker_job_id(const char *name, char *out, size_t n);

#endif
