/*
 * run.c - runs another Assay program and captures its standard output.
 *
 * The programs ask each other through their command lines where linking
 * would pull in what they must not carry: `assay workers check` asks
 * `assay-shipper --probe` (the transports, with libssh2 and OpenSSL, live
 * in assay-shipper alone, so that `assay` starts fast), and the scheduler
 * and `assay workers` have the transports' own workers.json keys checked
 * by `assay-shipper --check-config`.
 */
#define _GNU_SOURCE
#include "common/run.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Reads FD to its end (the child must never block on a full pipe),
 * keeping at most MAX bytes; -1 if memory ran out. */
static int read_all(int fd, size_t max, struct buf *out)
{
    char chunk[4096];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && out->len < max && rc == 0)
            rc = buf_append(out, chunk, (size_t)n < max - out->len ? (size_t)n : max - out->len);
    return rc;
}

int run_capture(char *const argv[], size_t max, struct buf *out, struct err *e)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_sys(e, "cannot run %s", argv[0]);
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc == 0) {
        /* without its dup2 the child would print on our own output */
        if ((rc = posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO)) == 0)
            rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return err_sys(e, "cannot run %s", argv[0]);
    }
    int kept = read_all(fds[0], max, out);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_sys(e, "cannot wait for %s", argv[0]);
    if (kept < 0)
        return err_set(e, "out of memory reading what %s printed", argv[0]);
    if (!WIFEXITED(status))
        return err_set(e, "%s was killed by signal %d", argv[0], WTERMSIG(status));
    return WEXITSTATUS(status);
}
