/*
 * grade_archive.c - `assay-worker grade-archive IN OUT`: grades one job
 * archive with no daemon, for a batch system that starts one process per
 * job (the slurm transport's job script runs it on a compute node).
 *
 * IN is a job archive "<id>.<token>.zip" (on the cluster's shared
 * directory); the grading happens in a private worker directory on this
 * machine ($TMPDIR, else /tmp), exactly as the daemon's graders do it
 * (worker_grade_one, in a child process, so a crash still leaves an
 * error result with its backtrace; the sandbox slot it grades in is made
 * and let go by this process, as the daemon lends its graders theirs),
 * and the result archive is copied to
 * OUT as ".NAME.part" beside it, then renamed: the primary never sees
 * half a result.  Exit status 0 when a result (perhaps an error result)
 * is at OUT, 1 when not even that could be written.
 *
 * A batch system cancels a job with SIGTERM (Slurm: then SIGKILL once
 * KillWait has passed); so does Ctrl-C by hand, with SIGINT.  Either kills
 * the grader, lets its sandbox slot go (the run's processes, the work
 * tmpfs with the copies of the submission and the tests, the cgroup),
 * removes the private directory, publishes nothing and ends by the same
 * signal: a cancelled job leaves no submission or hidden test on the
 * node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/log.h"
#include "contract/worker_dir.h"
#include "sandbox/launcher.h"
#include "worker/daemon.h"

static volatile sig_atomic_t cancelled;   /* the signal that cancelled the job, or 0 */
static volatile sig_atomic_t grader;      /* the grader's pid while it runs, or 0 */

/* Kills the grader at once: a flag alone could be set just before the
 * wait for it begins, and then be seen only when the grading ended. */
static void on_cancel(int sig)
{
    cancelled = sig;
    if (grader > 0)
        kill(grader, SIGKILL);
}

/* SIGTERM and SIGINT cancel (on_cancel); with BY_DEFAULT, they are given
 * back their default action. */
static void catch_cancel(bool by_default)
{
    struct sigaction sa = {0};
    sa.sa_handler = by_default ? SIG_DFL : on_cancel;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

/* Forks the grader of DIR/active/NAME (with LAUNCHER, or one of its own
 * when NULL), the cancelling signals held until the grader has their
 * default action back and GRADER names it; 0 when the job was cancelled
 * already. */
static pid_t start_grader(const char *dir, const char *name, const char *worker,
                          struct launcher *launcher)
{
    sigset_t hold, was;
    sigemptyset(&hold);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGINT);
    sigprocmask(SIG_BLOCK, &hold, &was);
    if (cancelled) {   /* read with the signals held: none is missed */
        sigprocmask(SIG_SETMASK, &was, NULL);
        return 0;
    }
    pid_t pid = fork();
    if (pid == 0) {
        catch_cancel(true);
        sigprocmask(SIG_SETMASK, &was, NULL);
        _exit(worker_grade_one(dir, name, worker, launcher) < 0 ? 1 : 0);
    }
    grader = pid > 0 ? pid : 0;
    sigprocmask(SIG_SETMASK, &was, NULL);   /* a held signal kills it now */
    return pid;
}

/* The sandbox slot the grader uses, made clean here, so that this process
 * lets it go whatever becomes of the grader (killed, cancelled): its
 * processes, cgroup, work tmpfs and directories go with it.  NULL: the
 * grader makes its own, and records why it could not in its result. */
static struct launcher *lend_launcher(void)
{
    struct err e;
    struct launcher *l = worker_own_launcher(&e);
    if (l && l->clean && l->clean(l, &e) < 0) {
        l->destroy(l);
        l = NULL;
    }
    return l;
}

/* Grades DIR/active/NAME in a child process; writes an error result
 * when the child left none (it crashed or was killed), unless the job
 * was cancelled: then the grader is killed and nothing is written. */
static void grade_in_child(const char *dir, const char *name, const char *worker)
{
    struct launcher *lent = cancelled ? NULL : lend_launcher();
    pid_t pid = start_grader(dir, name, worker, lent);
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    grader = 0;
    if (lent)
        lent->destroy(lent);
    if (cancelled)
        return;
    char *result = worker_path(dir, WORKER_OUTBOX, name);
    if (result && fs_exists(result)) {
        free(result);
        return;
    }
    free(result);
    char msg[300], host[128] = "?";
    gethostname(host, sizeof host - 1);
    if (pid < 0)
        snprintf(msg, sizeof msg, "The grader could not start on %s: %s.", host, strerror(errno));
    else if (WIFSIGNALED(status))
        snprintf(msg, sizeof msg, "The grader on %s was killed by signal %d (%s).", host,
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(msg, sizeof msg, "The grader on %s exited with status %d and no result.", host,
                 WEXITSTATUS(status));
    char *trace = worker_trace_path(dir, name);
    worker_write_error(dir, name, "infrastructure", msg, trace);   /* logs its own failure */
    free(trace);
}

/* Copies the result SRC to OUT through OUT's directory's ".NAME.part". */
static int publish_copy(const char *src, const char *out, struct err *e)
{
    char *d = strdup(out), *b = strdup(out);
    char *part = NULL;
    int rc = -1;
    if (!d || !b || asprintf(&part, "%s/.%s.part", dirname(d), basename(b)) < 0)
        err_set(e, "out of memory");
    else if (fs_copy_file(src, part, 0644, e) == 0)
        rc = rename(part, out) == 0 ? 0 : err_sys(e, "cannot move the result to %s", out);
    if (rc < 0 && part)
        unlink(part);   /* *e holds the failure */
    free(part);
    free(d);
    free(b);
    return rc;
}

int worker_grade_archive(const char *in, const char *out, const char *worker)
{
    char *copy = strdup(in);
    const char *name = copy ? basename(copy) : NULL;
    if (!name || !worker_is_archive(name)) {
        fprintf(stderr, "assay-worker grade-archive: %s is not a job archive (<id>.<token>.zip)\n",
                in);
        free(copy);
        return 1;
    }
    const char *base = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
    catch_cancel(false);
    struct err e = {{0}};
    char *dir = NULL, *active = NULL, *result = NULL;
    int rc = fs_mkdtemp(base, "assay-grade-", &dir, &e);
    if (rc == 0 && (rc = worker_layout_create(dir, &e)) == 0)
        rc = worker_layout_reachable(dir, &e);
    if (rc == 0 && !(active = worker_path(dir, WORKER_ACTIVE, name)))
        rc = err_set(&e, "out of memory");
    if (rc == 0)
        rc = fs_copy_file(in, active, 0600, &e);
    if (rc == 0) {
        char *logpath = fs_join(dir, "logs/worker.log");
        if (log_open("assay-worker", logpath) < 0)   /* then its lines go to stderr: Slurm's output */
            fprintf(stderr, "assay-worker: cannot open %s; logging here\n", logpath);
        free(logpath);
        grade_in_child(dir, name, worker);
        if (!(result = worker_path(dir, WORKER_OUTBOX, name)))
            rc = err_set(&e, "out of memory");
    }
    bool publish = rc == 0 && !cancelled;
    if (publish)
        rc = publish_copy(result, out, &e);
    bool published = publish && rc == 0;
    if (cancelled)   /* whatever else failed, this is why */
        fprintf(stderr, "assay-worker grade-archive: cancelled (%s): %s\n", strsignal(cancelled),
                published ? "its result was published first"
                          : "the grading was stopped and nothing is published");
    else if (rc < 0)
        fprintf(stderr, "assay-worker grade-archive: %s\n", e.msg);
    struct err ignored;   /* a leftover in the node's tmp is only untidy */
    if (dir)
        fs_remove_tree(dir, &ignored);
    log_close();
    free(result);
    free(active);
    free(dir);
    free(copy);
    if (cancelled) {   /* ends as the signal would have ended it */
        catch_cancel(true);
        raise(cancelled);
    }
    return rc < 0 ? 1 : 0;
}
