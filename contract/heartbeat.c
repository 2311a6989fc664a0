/*
 * heartbeat.c - the grading daemon's heartbeat file (heartbeat.h): made
 * and touched by assay-worker's daemon, read on the worker's host by
 * `assay-worker status` and `wait` and by the local transport, judged on
 * the primary by the transports' probe and wait.
 *
 * The heartbeat is the file's modification time, not its text: touching
 * an inode needs no free block, so a worker whose disk is full still
 * shows a live daemon (and is reported as refusing for its disk, not as
 * down).  The text says which process writes it.
 */
#define _GNU_SOURCE
#include "contract/heartbeat.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fs.h"

int heartbeat_start(const char *dir, struct err *e)
{
    char *path = fs_join(dir, WORKER_HEARTBEAT);
    if (!path)
        return err_set(e, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        err_sys(e, "cannot create the heartbeat file %s", path);
        free(path);
        return -1;
    }
    char text[64];
    int n = snprintf(text, sizeof text, "{\"pid\": %ld}\n", (long)getpid());
    /* In place, not renamed: a reader may see it empty for a moment (pid
     * unknown), never missing.  A full disk may refuse the text; the
     * touches still work, and they are what counts. */
    if (ftruncate(fd, 0) < 0 || write(fd, text, (size_t)n) != n)
        err_sys(e, "cannot write the heartbeat file %s", path);
    fchmod(fd, 0644);   /* a file left by an older daemon keeps its mode otherwise */
    free(path);
    return fd;
}

int heartbeat_touch(int fd, struct err *e)
{
    if (futimens(fd, NULL) < 0)
        return err_sys(e, "cannot touch the heartbeat file");
    return 0;
}

static long pid_in(const char *path)
{
    struct buf b = BUF_INIT;
    struct err e;   /* unreadable text: the pid is unknown, the age still counts */
    long pid = 0;
    if (fs_read_file(path, 4096, &b, &e) == 0) {
        const char *p = strstr(buf_str(&b), "\"pid\":");
        if (p)
            pid = strtol(p + 6, NULL, 10);
    }
    buf_free(&b);
    return pid > 0 ? pid : 0;
}

void heartbeat_read(const char *dir, struct heartbeat *hb)
{
    *hb = (struct heartbeat){.running = true};
    char *path = fs_join(dir, WORKER_HEARTBEAT);
    struct stat st;
    if (!path || lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        free(path);
        return;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    hb->found = true;
    hb->age_s = (double)(now.tv_sec - st.st_mtim.tv_sec) +
                (double)(now.tv_nsec - st.st_mtim.tv_nsec) / 1e9;
    if (hb->age_s < 0)   /* touched a moment after we looked at the clock */
        hb->age_s = 0;
    hb->pid = pid_in(path);
    /* EPERM: it exists, under another user (the daemon is root's) */
    if (hb->pid > 0)
        hb->running = kill((pid_t)hb->pid, 0) == 0 || errno == EPERM;
    free(path);
}

json_t *heartbeat_json(const struct heartbeat *hb)
{
    if (!hb->found)
        return json_null();
    return json_pack("{s:I, s:b, s:f}", "pid", (json_int_t)hb->pid, "running", hb->running,
                     "age_s", hb->age_s);
}

void heartbeat_from_json(const json_t *j, struct heartbeat *hb)
{
    *hb = (struct heartbeat){.running = true};
    if (!json_is_object(j))
        return;
    const json_t *pid = json_object_get(j, "pid"), *running = json_object_get(j, "running");
    hb->found = true;
    hb->pid = json_is_integer(pid) ? (long)json_integer_value(pid) : 0;
    hb->running = !json_is_false(running);
    hb->age_s = json_number_value(json_object_get(j, "age_s"));
}

int heartbeat_check(const struct heartbeat *hb, const char *worker, const char *dir,
                    const char *who_answers, struct err *e)
{
    if (hb->found && hb->age_s <= HEARTBEAT_STALE_S)
        return 0;
    const char *sep = who_answers ? "; " : "", *who = who_answers ? who_answers : "";
    if (!hb->found)
        return err_set(e, "the grading daemon of worker %s is not running (%s/%s is missing: "
                       "assay-worker never started there%s%s): start it (on an SSH worker "
                       "`systemctl start assay-worker`), and see %s/logs/worker.log",
                       worker, dir, WORKER_HEARTBEAT, sep, who, dir);
    if (!hb->running)
        return err_set(e, "the grading daemon of worker %s is not running (assay-worker pid "
                       "%ld has exited%s%s): start it again (on an SSH worker `systemctl "
                       "start assay-worker`), and see why it stopped in %s/logs/worker.log "
                       "and its traces.log", worker, hb->pid, sep, who, dir);
    return err_set(e, "the grading daemon of worker %s is not answering (assay-worker pid %ld "
                   "has not touched its heartbeat for over %.0f s%s%s): it is stopped or "
                   "hung; look at it on the worker (on an SSH worker `systemctl status "
                   "assay-worker`)", worker, hb->pid, HEARTBEAT_STALE_S, sep, who);
}
