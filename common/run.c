/*
 * run.c - runs another Assay program and captures its standard output.
 *
 * The programs ask each other through their command lines where linking
 * would pull in what they must not carry: `assay workers check` asks
 * `assay-shipper --probe` (the transports, with libssh2 and OpenSSL, live
 * in assay-shipper alone, so that `assay` starts fast), and the scheduler
 * and `assay workers` have the transports' own workers.json keys checked
 * by `assay-shipper --check-config`.  Several may run at once
 * (run_capture_all: `assay workers check` grades the canaries of every
 * worker together), each read as it writes.
 */
#define _GNU_SOURCE
#include "common/run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Starts ARGV with its standard output into a pipe: the pipe's read
 * end, or -1 with *e set. */
static int spawn_piped(char *const argv[], pid_t *pid, struct err *e)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_sys(e, "cannot run %s", argv[0]);
    posix_spawn_file_actions_t fa;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        /* without its dup2 the child would print on our own output */
        if ((rc = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO)) == 0)
            rc = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return err_sys(e, "cannot run %s", argv[0]);
    }
    return fds[0];
}

/* Reads what is there on J's pipe P into its output (at most MAX bytes
 * kept; *LOST when memory ran out); closes it at its end. */
static void read_some(struct pollfd *p, struct run_job *j, size_t max, bool *lost)
{
    char chunk[4096];
    ssize_t n = read(p->fd, chunk, sizeof chunk);
    if (n > 0 && j->out.len < max && !*lost)
        *lost = buf_append(&j->out, chunk, (size_t)n < max - j->out.len ? (size_t)n
                                                                          : max - j->out.len) < 0;
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(p->fd);
        p->fd = -1;   /* poll skips it from now on */
    }
}

static void wait_job(pid_t pid, struct run_job *j, bool lost)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            j->rc = err_sys(&j->e, "cannot wait for %s", j->argv[0]);
            return;
        }
    if (lost)
        j->rc = err_set(&j->e, "out of memory reading what %s printed", j->argv[0]);
    else if (!WIFEXITED(status))
        j->rc = err_set(&j->e, "%s was killed by signal %d", j->argv[0], WTERMSIG(status));
    else
        j->rc = WEXITSTATUS(status);
}

void run_capture_all(struct run_job *jobs, size_t n, size_t max)
{
    struct pollfd *p = calloc(n, sizeof *p);
    pid_t *pids = calloc(n, sizeof *pids);
    bool *lost = calloc(n, sizeof *lost);
    size_t open = 0;
    for (size_t i = 0; i < n; i++) {
        jobs[i].rc = -1;
        if (!p || !pids || !lost)
            err_set(&jobs[i].e, "out of memory");
        else if ((p[i].fd = spawn_piped(jobs[i].argv, &pids[i], &jobs[i].e)) >= 0)
            open++;
        if (p)
            p[i].events = POLLIN;
    }
    /* every child is read as it writes: none may block on a full pipe */
    while (open > 0) {
        for (size_t i = 0; i < n; i++)
            p[i].revents = 0;   /* after EINTR none is ready */
        if (poll(p, n, -1) < 0 && errno != EINTR)
            for (size_t i = 0; i < n; i++)   /* cannot happen; then one after another */
                while (p[i].fd >= 0)
                    read_some(&p[i], &jobs[i], max, &lost[i]);
        open = 0;
        for (size_t i = 0; i < n; i++) {
            if (p[i].fd >= 0 && p[i].revents)
                read_some(&p[i], &jobs[i], max, &lost[i]);
            open += p[i].fd >= 0;
        }
    }
    for (size_t i = 0; p && pids && lost && i < n; i++)
        if (pids[i] > 0)
            wait_job(pids[i], &jobs[i], lost[i]);
    free(p);
    free(pids);
    free(lost);
}

int run_capture(char *const argv[], size_t max, struct buf *out, struct err *e)
{
    struct run_job j = {.argv = argv, .out = *out};
    run_capture_all(&j, 1, max);
    *out = j.out;
    if (j.rc < 0)
        *e = j.e;
    return j.rc;
}
