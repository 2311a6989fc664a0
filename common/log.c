/*
 * log.c - Assay's log lines.
 *
 * Every process writes one line per event:
 *   2026-11-22T10:15:02.123Z assay-worker[812] lab2 JOBID LEVEL message
 * ("-" stands for no worker or no job).  Lines are written with a single
 * write(2) on an O_APPEND descriptor, so lines from many processes
 * sharing the central log never interleave.
 */
#define _GNU_SOURCE
#include "common/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"

static char log_process[64] = "assay";
static char log_worker[64] = "-";
static int log_fd = -1;
static int log_copy_fd = -1;

int log_open(const char *process, const char *path)
{
    snprintf(log_process, sizeof log_process, "%s", process);
    if (!path)
        return 0;
    if (log_fd >= 0)
        close(log_fd);
    log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return log_fd < 0 ? -1 : 0;
}

void log_set_worker(const char *worker)
{
    snprintf(log_worker, sizeof log_worker, "%s", worker && *worker ? worker : "-");
}

void log_also(int fd)
{
    log_copy_fd = fd;
}

void log_close(void)
{
    if (log_fd >= 0)
        close(log_fd);
    log_fd = -1;
}

static const char *level_name(enum log_level level)
{
    return level == LOG_ERROR ? "error" : level == LOG_WARN ? "warning" : "info";
}

static void log_line(enum log_level level, const char *worker, const char *job,
                     const char *fmt, va_list ap)
{
    char stamp[32], msg[2048], line[2304];
    clock_iso8601(clock_wall(), stamp);
    vsnprintf(msg, sizeof msg, fmt, ap);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    int n = snprintf(line, sizeof line, "%s %s[%d] %s %s %s %s\n", stamp, log_process,
                     (int)getpid(), worker && *worker ? worker : log_worker,
                     job && *job ? job : "-", level_name(level), msg);
    if (n < 0)
        return;
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
    if (write(fd, line, len) < 0) { /* nowhere better to report it */ }
    if (log_copy_fd >= 0 && write(log_copy_fd, line, len) < 0) {
    }
}

void log_msg(enum log_level level, const char *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, NULL, job, fmt, ap);
    va_end(ap);
}

void log_msg_for(enum log_level level, const char *worker, const char *job, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(level, worker, job, fmt, ap);
    va_end(ap);
}
