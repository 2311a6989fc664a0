/*
 * log.c - Assay's log lines.
 *
 * Every process writes one line per event:
 *   2026-11-22T10:15:02.123Z assay-worker[812] lab2 JOBID LEVEL message
 * ("-" stands for no worker or no job).  Lines are written with a single
 * write(2) on an O_APPEND descriptor, so lines from many processes
 * sharing the central log never interleave.
 *
 * Long-lived processes keep the log open, so they follow its rotation
 * themselves: at most once a second, before a line, they check that the
 * path still names the file they hold, and reopen it (creating it) when
 * logrotate has renamed it away.  Lines written in between land in the
 * renamed file, which the logrotate configuration leaves uncompressed
 * until its next run (delaycompress), so no line is lost.
 */
#define _GNU_SOURCE
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"

static char log_process[64] = "assay";
static char log_worker[64] = "-";
static int log_fd = -1;
static int log_copy_fd = -1;
/* The log's absolute path ("" when it cannot be followed), and when to
 * look at it next (clock_mono): the check costs two system calls, the
 * clock none (vDSO), so most lines cost only their write. */
static char log_path[4096];
static double log_next_check;

#define LOG_CHECK_INTERVAL_S 1.0

static int open_log(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* Keeps PATH absolute, so that a later chdir does not change which file
 * the check looks at. */
static void remember_path(const char *path)
{
    char cwd[4096];
    int n = -1;
    if (path[0] == '/')
        n = snprintf(log_path, sizeof log_path, "%s", path);
    else if (getcwd(cwd, sizeof cwd))
        n = snprintf(log_path, sizeof log_path, "%s/%s", cwd, path);
    if (n < 0 || (size_t)n >= sizeof log_path)
        log_path[0] = '\0';
}

int log_open(const char *process, const char *path)
{
    snprintf(log_process, sizeof log_process, "%s", process);
    if (!path)
        return 0;
    if (log_fd >= 0)
        close(log_fd);
    remember_path(path);
    log_fd = open_log(path);
    log_next_check = clock_mono() + LOG_CHECK_INTERVAL_S;
    return log_fd < 0 ? -1 : 0;
}

/* Reopens the log if its path now names another file, or none (renamed
 * by logrotate, or removed).  The new descriptor takes the old one's
 * number; if it cannot be opened, lines keep going to the old file. */
static void follow_rotation(void)
{
    if (log_fd < 0 || !log_path[0])
        return;
    double now = clock_mono();
    if (now < log_next_check)
        return;
    log_next_check = now + LOG_CHECK_INTERVAL_S;
    struct stat named, held;
    if (stat(log_path, &named) == 0) {
        if (fstat(log_fd, &held) < 0 ||
            (named.st_ino == held.st_ino && named.st_dev == held.st_dev))
            return;
    } else if (errno != ENOENT) {
        return;   /* cannot tell: stay with the file held */
    }
    int fd = open_log(log_path);
    if (fd < 0)
        return;
    if (dup3(fd, log_fd, O_CLOEXEC) < 0) {
        close(log_fd);
        log_fd = fd;
        return;
    }
    close(fd);
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
    log_path[0] = '\0';
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
    follow_rotation();
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
