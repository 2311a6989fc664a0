/* crash.h - a backtrace in a file when a process dies of a fatal signal. */
#ifndef ASSAY_CRASH_H
#define ASSAY_CRASH_H

/* On SIGSEGV, SIGBUS, SIGABRT, SIGFPE or SIGILL, appends
 * "<time> PROCESS[pid]: fatal signal N" and a backtrace to PATH, then
 * dies of the signal as it would have.  PATH may be NULL (a path that
 * memory ran out making): then crashes leave no trace. */
void crash_install(const char *path, const char *process);

#endif
