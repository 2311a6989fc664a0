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

static void read_all(int fd, size_t max, struct buf *out)
{
    char chunk[4096];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0 && out->len < max)
            buf_append(out, chunk, (size_t)n < max - out->len ? (size_t)n : max - out->len);
}

int run_capture(char *const argv[], size_t max, struct buf *out, struct err *e)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return err_sys(e, "cannot run %s", argv[0]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        errno = rc;
        return err_sys(e, "cannot run %s", argv[0]);
    }
    read_all(fds[0], max, out);
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_sys(e, "cannot wait for %s", argv[0]);
    if (!WIFEXITED(status))
        return err_set(e, "%s was killed by signal %d", argv[0], WTERMSIG(status));
    return WEXITSTATUS(status);
}
