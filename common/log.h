/* log.h - one line per event: time, process, worker, job, message. */
#ifndef ASSAY_LOG_H
#define ASSAY_LOG_H

enum log_level { LOG_INFO, LOG_WARN, LOG_ERROR };

/* PROCESS names the program ("assay-worker"); PATH is the log file to
 * append to, or NULL for standard error only.  The log is reopened (at
 * most once a second, before a line) when PATH no longer names the file
 * held: logrotate renamed it. */
int log_open(const char *process, const char *path);
void log_set_worker(const char *worker);
/* Also copies every line to FD (-1 to stop): a job's own log, shipped
 * back with its result. */
void log_also(int fd);
void log_close(void);
void log_msg(enum log_level level, const char *job, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line about WORKER from a process that serves many (the scheduler). */
void log_msg_for(enum log_level level, const char *worker, const char *job, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
