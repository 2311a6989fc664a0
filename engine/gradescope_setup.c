/*
 * gradescope_setup.c - setup.sh of a Gradescope autograder, once per
 * worker machine.
 *
 * On Gradescope, setup.sh runs as root while the autograder's Docker
 * image is built: it installs packages system-wide.  Assay does the same
 * thing on each worker machine, explicitly, with `assay gradescope setup
 * ASSIGNMENT_DIR` (cli/cmd_gradescope.c), run by an administrator:
 * never at grading time, where it would run as root next to student
 * code, or once per job.  A stamp named after the MD5 of setup.sh's
 * content records that it ran, so an edited setup.sh needs running
 * again; the gradescope kind refuses to grade until it has.
 */
#define _GNU_SOURCE
#include "engine/gradescope_setup.h"

#include <md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fs.h"

#define SETUP_MAX_BYTES (1u << 20)

static const char *state_dir(void)
{
    const char *d = getenv("ASSAY_GRADESCOPE_STATE");
    return d && *d ? d : GRADESCOPE_STATE_DEFAULT;
}

/* The stamp path for DIR's setup.sh, or NULL (and *absent) without one. */
static char *stamp_path(const char *dir, bool *absent, struct err *e)
{
    char *setup = fs_join(dir, "setup.sh"), *path = NULL;
    struct buf b = BUF_INIT;
    *absent = setup && !fs_exists(setup);
    if (!*absent && fs_read_file(setup, SETUP_MAX_BYTES, &b, e) == 0) {
        char hex[MD5_DIGEST_STRING_LENGTH];
        MD5Data((const uint8_t *)buf_str(&b), b.len, hex);
        if (asprintf(&path, "%s/setup-%s.done", state_dir(), hex) < 0) {
            path = NULL;
            err_set(e, "out of memory");
        }
    }
    buf_free(&b);
    free(setup);
    return path;
}

int gradescope_setup_check(const char *dir, struct err *e)
{
    bool absent;
    char *stamp = stamp_path(dir, &absent, e);
    int rc = absent || (stamp && fs_exists(stamp)) ? 0 : -1;
    if (rc < 0 && stamp)
        err_set(e, "the autograder's setup.sh has not been run on this worker: run `assay "
                "gradescope setup ASSIGNMENT_DIR` on it once, as root (stamps are kept in %s)",
                state_dir());
    free(stamp);
    return rc;
}

static int run_setup(const char *dir, struct err *e)
{
    pid_t pid = fork();
    if (pid < 0)
        return err_sys(e, "cannot start setup.sh");
    if (pid == 0) {
        if (chdir(dir) < 0)
            _exit(127);
        execl("/bin/bash", "bash", "./setup.sh", (char *)NULL);
        _exit(127);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0)
        return err_sys(e, "cannot wait for setup.sh");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set(e, "%s/setup.sh failed (%s %d); fix it and run the setup again", dir,
                       WIFEXITED(status) ? "exit code" : "signal",
                       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return 0;
}

int gradescope_setup_run(const char *dir, bool force, bool *ran, struct err *e)
{
    bool absent;
    char *stamp = stamp_path(dir, &absent, e);
    int rc = 0;
    *ran = false;
    if (absent)
        rc = 0;
    else if (!stamp)
        rc = -1;
    else if (force || !fs_exists(stamp)) {
        rc = fs_mkdir_p(state_dir(), 0755, e);
        if (rc == 0 && (rc = run_setup(dir, e)) == 0) {
            *ran = true;
            rc = fs_write_atomic(stamp, dir, strlen(dir), e);
        }
    }
    free(stamp);
    return rc;
}
