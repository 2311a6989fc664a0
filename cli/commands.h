/* commands.h - the subcommands of the assay command-line tool. */
#ifndef ASSAY_COMMANDS_H
#define ASSAY_COMMANDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "spool/scheduler_lock.h"
#include "spool/spool.h"

/* Exit codes shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INVALID_ASSIGNMENT = 3 };

int cmd_grade(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_submit(int argc, char **argv);
int cmd_queue(int argc, char **argv);       /* hold, release, requeue */
int cmd_regrade(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_results(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_workers(int argc, char **argv);
int cmd_notebook(int argc, char **argv);     /* notebook release */
int cmd_gradescope(int argc, char **argv);   /* gradescope setup */
int cmd_grade_all(int argc, char **argv);    /* grade-all (and regrade's progress) */
int cmd_export(int argc, char **argv);
int cmd_extensions(int argc, char **argv);   /* extensions list|grant|revoke */
int cmd_import(int argc, char **argv);       /* import classroom */
int cmd_sync(int argc, char **argv);         /* sync status|retry|resend */
int cmd_canvas(int argc, char **argv);       /* canvas roster */
int cmd_manual(int argc, char **argv);       /* manual list|grade */
int cmd_kit(int argc, char **argv);          /* kit: the public tests for students */
int cmd_audit(int argc, char **argv);        /* audit: mutants of the reference solution */
int cmd_users(int argc, char **argv);        /* users add|remove|passwd|list|token|import */

/* Queues the latest version of every student of COURSE/ASG as a batch job
 * (cmd_queue.c); QUEUED gets {"id", "student", "rel"} per job.  -1 if
 * some could not be queued (each said on stderr, as `assay CMD`). */
int regrade_queue_all(const struct spool *s, const char *course, const char *asg,
                      json_t *queued, const char *cmd);
/* Shows progress until every QUEUED job has a result or failed (at most
 * TIMEOUT_S, 0: no limit), then the summary (cmd_bulk.c).  EXIT_OK when
 * all were graded. */
int bulk_wait_and_summarize(const struct spool *s, const json_t *queued, double timeout_s);
/* After a bulk grading: waits (at most WAIT_S) for the deliveries of the
 * QUEUED jobs to be sent, then prints how many were delivered and each
 * student not synced and why (cmd_sync.c); nothing when their course
 * sends grades nowhere. */
void sync_report_jobs(const struct spool *s, const json_t *queued, double wait_s);

/* Opens the spool given by --spool (or $ASSAY_SPOOL, or the default) and
 * checks this user may read its folders (and, when WRITES, write in those
 * jobs move through); prints why not for command CMD, naming the folder
 * and who may. */
int cli_open_spool(const char *opt, struct spool *s, const char *cmd, bool writes);
/* Who runs this command, for logs and records: "alice", or "root (sudo
 * by alice)". */
void cli_invoking_user(char *out, size_t n);
/* fprintf for text that holds anything a student, a worker or a file
 * wrote: the whole text goes through text_visible (common/buf.h), so
 * control characters are shown ("\x1b") instead of acted on; newlines
 * are kept.  -1 if it could not be written (or memory ran out, said in
 * place of the text). */
int cli_printf(FILE *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* json_dumpf and a newline, with every non-ASCII character escaped when
 * OUT is a terminal (jansson leaves C1 controls raw). */
void cli_print_json(FILE *out, const json_t *j, size_t flags);
/* The results.json in DIR if it belongs to JOB_ID (not an older or newer
 * grading of the same version), else NULL. */
json_t *cli_result_if_job(const char *dir, const char *job_id);
/* Waits until results/.../RESULT_REL holds JOB_ID's result (inotify, no
 * polling loop); NULL after TIMEOUT_S. */
json_t *cli_wait_result(const struct spool *s, const char *result_rel, const char *job_id,
                        double timeout_s);

/* The sentence saying that no scheduler is running on S and since when
 * (ST from scheduler_lock_probe), malloc'd; NULL while one runs or when
 * it cannot be told (never "none" unless it is known). */
char *cli_no_scheduler(const struct spool *s, const struct scheduler_state *st);

/* Prints results.json as a table with feedback under it (results_table.c). */
void results_print_table(FILE *out, const json_t *results);

#endif
