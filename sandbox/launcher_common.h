/* launcher_common.h - what the launchers (rlimit, namespace sandbox) share:
 * the run uid lease, how a command line becomes an exec, capped output
 * reading, and turning what ended a run into run_result flags. */
#ifndef ASSAY_LAUNCHER_COMMON_H
#define ASSAY_LAUNCHER_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "sandbox/launcher.h"

/* *DST = *SRC, or the unnamed installation's names when SRC is NULL. */
void launcher_site_copy(struct sandbox_site *dst, const struct sandbox_site *src);

/* Leases the first run uid of SITE (uid_base + i) whose lock file
 * (SITE's lock_dir/uid-N) nobody holds; the lease lasts while *LOCK_FD
 * stays open.  Both launchers lease from the same pool, so two graders of
 * an installation never share a uid. */
int launcher_lease_uid(const struct sandbox_site *site, uid_t *uid, int *lock_fd,
                       struct err *e);

/* How a child will exec a command, prepared before it runs so the child
 * allocates nothing.  Simple commands run directly (saves a shell, ~1 ms);
 * anything with shell syntax goes through /bin/sh -c. */
struct exec_plan {
    char *words;                /* the command, split in place */
    char *argv[64];
};

void exec_plan_make(struct exec_plan *x, const char *cmd);
void exec_plan_free(struct exec_plan *x);
/* execs the plan with ENV as the whole environment; never returns. */
_Noreturn void exec_plan_run(const struct exec_plan *x, char *const *env);

/* Starts FN(ARG) in a child the posix_spawn way: the child shares our
 * memory, and we wait, until it execs or exits, so nothing is copied.
 * FN only sets the child up and execs or _exits; what it changes belongs
 * to the child (signal dispositions and mask, rlimits, credentials, its
 * working directory) as long as it uses system calls, not glibc's
 * process-wide wrappers (setuid(3) and friends signal every thread).
 * Never fork(3), whose atfork handlers - libuv's, in the worker daemon -
 * close descriptors whose numbers belong to the run by then.  Returns the
 * child's pid, or -1. */
pid_t launcher_spawn(int (*fn)(void *), void *arg);

/* Every signal at its default and unblocked: in a run's child before its
 * exec, or once in the sandbox's PID 1, whose children inherit it. */
void launcher_default_signals(void);

/* In a run's child, before its limits and exec: standard input (STDIN_FD,
 * or /dev/null when it is -1), output and errors on 0-2, nothing else
 * open, WORKDIR the current directory.  Exits with 126 if one of these
 * fails. */
void launcher_child_setup(int stdin_fd, int out_fd, int err_fd, const char *workdir);

/* Appends what is readable on FD to OUT up to CAP bytes; returns false at
 * end of file.  Sets *over when the stream went past the cap. */
bool launcher_drain_stream(int fd, struct buf *out, size_t cap, bool *over);

/* Fills exited/exit_code/term_signal from a wait status. */
void launcher_note_status(struct run_result *res, int status);
/* Sets file_exceeded when the run died of the file-size limit. */
void launcher_note_file_limit(struct run_result *res);
/* True if standard error says the program ran out of memory. */
bool launcher_says_out_of_memory(const struct run_result *res);

/* The time task TID (a thread id in our PID namespace) has spent ready
 * to run but waiting for a CPU, in nanoseconds: the scheduler's count,
 * /proc/TID/schedstat's second field.  -1 if the task is gone or the
 * kernel does not keep it (CONFIG_SCHED_INFO). */
long long launcher_task_cpu_wait_ns(pid_t tid);

/* Reads the small kernel file PATH (/proc, cgroupfs) into OUT, at most
 * N - 1 bytes, NUL-terminated; their number, -1 if it cannot be read.
 * No allocation: PID 1 uses it too. */
int launcher_read_small(const char *path, char *out, size_t n);

/* Process PID's state letter (R, S, Z, ...) and parent, from
 * /proc/PID/stat; -1 if it is gone. */
int launcher_proc_stat(pid_t pid, char *state, pid_t *parent);

/* Sets res->starved when the run was stopped at its wall limit for want
 * of a CPU rather than by its own doing: it got less than half of its
 * wall time on a CPU, and spent at least half of the rest waiting for
 * one (cpu_wait_s).  A program that sleeps or blocks on input waits for
 * no CPU, and one that computes gets one: both keep their timeout.  Any
 * other limit it hit (CPU, memory, output) is its own. */
void launcher_note_starved(struct run_result *res);

#endif
