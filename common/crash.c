/*
 * crash.c - stack traces of Assay's own crashes.
 *
 * Every long-running program installs this at start: a fatal signal
 * appends a backtrace to the central stack-trace log (logs/traces.log
 * in the spool; on a worker, a file the daemon ships back with the job's
 * result), so a crash on a lab machine is read on the primary, not lost.
 * The handler opens the file only when a crash happens (open(2) is
 * async-signal-safe), so installing it creates nothing: graders install
 * it once per job.
 */
#define _GNU_SOURCE
#include "common/crash.h"

#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"

static char crash_path[4096];
static char crash_process[64];

static void on_fatal(int sig)
{
    int crash_fd = crash_path[0] ? open(crash_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                                        0644) : -1;
    if (crash_fd >= 0) {
        char stamp[32];
        clock_iso8601(clock_wall(), stamp);
        dprintf(crash_fd, "%s %s[%d]: fatal signal %d (%s)\n", stamp, crash_process,
                (int)getpid(), sig, strsignal(sig));
        void *frames[64];
        int n = backtrace(frames, 64);
        backtrace_symbols_fd(frames, n, crash_fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

void crash_install(const char *path, const char *process)
{
    snprintf(crash_process, sizeof crash_process, "%s", process);
    snprintf(crash_path, sizeof crash_path, "%s", path ? path : "");   /* "": traces nowhere */
    void *frames[1];
    backtrace(frames, 1);   /* loads libgcc now, not inside the handler */
    int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        signal(sigs[i], on_fatal);
}
