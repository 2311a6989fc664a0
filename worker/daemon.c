/*
 * daemon.c - assay-worker: grades the jobs that arrive in its inbox.
 *
 *   assay-worker --dir D --slots N [--name W] [--log FILE] [--die-with-parent]
 *                [--sandbox namespace|rlimit] [--installation NAME] [--uids FIRST-LAST]
 *
 * A libuv loop watches D/inbox/ (inotify: a job is picked up as soon as
 * a transport renames it in).  Each job is moved to D/active/ and graded
 * by a forked child (worker_grade_one in daemon_grade.c, which
 * `assay-worker grade-one` also runs, by hand), at most N at once.  A
 * child that crashes still gets its job an error result, with the
 * backtrace it left.  At start-up, jobs left in active/ by a crash are
 * graded again first.  One daemon per directory (a lock file).
 * SIGTERM stops the children and the daemon; jobs in active/ stay for
 * the next start.  Every second the loop touches D/heartbeat
 * (contract/heartbeat.h), by which the shippers tell a daemon that
 * grades from one that is gone or hung.  --installation and --uids name the installation whose
 * uids, lock and run directories and cgroups the launchers use
 * (contract/installation.h); the scheduler passes its spool's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "common/crash.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/proctitle.h"
#include "worker/daemon.h"
#include "contract/heartbeat.h"
#include "contract/worker_dir.h"
#include "sandbox/launcher.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

#define RESCAN_MS 30000   /* safety net only: inotify does the real work */

/* Polls a grader's pidfd, which becomes readable when it exits.  Each
 * job has its own, so a closing handle is never reused. */
struct exit_watch {
    uv_poll_t poll;             /* first: the handle's address is the struct's */
    int pidfd;
};

struct slot {
    struct launcher *launcher;  /* the slot's own, made once, if its type wants one */
    pid_t pid;
    struct exit_watch *exit_watch;
    bool busy;
    bool out_of_service;        /* could not be made clean: grades nothing more */
    char job[256];
};

struct daemon {
    uv_loop_t *loop;
    const char *dir, *worker;
    const struct launcher_type *sandbox;   /* the graders' launcher */
    const struct sandbox_site *site;       /* the installation's names */
    int nslots;
    struct slot *slots;
    uv_fs_event_t watch;
    uv_signal_t sigterm, sigint;
    uv_timer_t rescan;
    uv_timer_t beat;            /* touches the heartbeat file (contract/heartbeat.h) */
    int beat_fd;
    bool beat_failing;          /* said so once; said again when it works */
    bool stopping;
};

static const char usage[] =
    "Usage: assay-worker --dir D --slots N [--name W] [--log FILE] [--traces FILE]\n"
    "                    [--die-with-parent] [--sandbox namespace|rlimit]\n"
    "                    [--installation NAME] [--uids FIRST-LAST]\n"
    "       assay-worker grade-one --dir D [--name W] [--installation NAME]\n"
    "                    [--uids FIRST-LAST] JOB_ARCHIVE_NAME\n"
    "       assay-worker grade-archive [--name W] [--sandbox namespace|rlimit]\n"
    "                    [--installation NAME] [--uids FIRST-LAST] IN OUT\n"
    "       assay-worker wait --dir D [--timeout SECONDS] JOB_ARCHIVE_NAME\n"
    "       assay-worker status --dir D\n"
    "       assay-worker canary --dir D [--json]\n"
    "       assay-worker --sandboxes\n"
    "\n"
    "Grades job archives that arrive in D/inbox/, N at a time, and leaves result\n"
    "archives in D/outbox/. Its log goes to --log (default D/logs/worker.log), stack\n"
    "traces of its own crashes to --traces (default D/logs/traces.log).\n"
    "`wait` returns when the result of a job is in D/outbox/ (printing a line every\n"
    "second meanwhile: the free disk and the daemon's heartbeat): what a shipper\n"
    "runs over SSH instead of polling.\n"
    "`grade-archive` grades the one job archive IN (no daemon, no D: a private\n"
    "directory under $TMPDIR) and writes its result archive to OUT atomically: what\n"
    "a batch system's job runs (the slurm transport).\n"
    "`status` prints the version, the free disk and the jobs of D as JSON.\n"
    "`canary` has the daemon running on D grade a small built-in assignment of each\n"
    "test kind and prints, per kind, ok or what this machine lacks (a Python\n"
    "package, the interpreter, a sandbox that cannot start); it exits 1 if any\n"
    "failed. deploy-worker.sh runs it last.\n"
    "--sandbox: how student code runs: the namespace sandbox (the default; the worker\n"
    "refuses to start, saying what is missing, where the host cannot run it) or\n"
    "rlimit (development only: rlimits and a uid, no namespaces; results say so).\n"
    "--installation, --uids: the installation this worker grades for: runs are leased\n"
    "uids FIRST-LAST (default 61000-61999) with locks in /run/lock/assay/NAME, slots\n"
    "in /run/assay/NAME and cgroups in assay/NAME (without a NAME: /run/lock/assay,\n"
    "/run/assay, assay; so does an empty NAME). Two installations on one machine\n"
    "need different ones.\n"
    "--sandboxes prints the names --sandbox takes, separated by \", \".\n";

static void dispatch(struct daemon *d);

static bool is_running(const struct daemon *d, const char *name)
{
    for (int i = 0; i < d->nslots; i++)
        if (d->slots[i].busy && !strcmp(d->slots[i].job, name))
            return true;
    return false;
}

/* The oldest job archive in D/FOLDER not being graded (job ids sort by
 * time), or NULL. */
static char *oldest_job(const struct daemon *d, const char *folder)
{
    char *path = worker_path(d->dir, folder, NULL), *best = NULL;
    struct fs_list l;
    if (!path || fs_list(path, worker_is_archive, fs_cmp_names, &l) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing %s/%s", d->dir, folder);
    for (size_t i = 0; path && i < l.n && !best; i++)
        if (!is_running(d, l.names[i]) && !(best = strdup(l.names[i])))
            log_msg(LOG_WARN, NULL, "out of memory taking job %s; trying again shortly",
                    l.names[i]);
    if (path)
        fs_list_free(&l);
    free(path);
    return best;
}

static void remove_active(const struct daemon *d, const char *job)
{
    char *a = worker_path(d->dir, WORKER_ACTIVE, job), *t = worker_trace_path(d->dir, job);
    if (a && unlink(a) < 0 && errno != ENOENT)
        log_msg(LOG_WARN, job, "cannot remove %s: %s", a, strerror(errno));
    if (t)
        unlink(t);   /* there only when the grader crashed */
    free(a);
    free(t);
}

static void free_exit_watch(uv_handle_t *h)
{
    struct exit_watch *w = (struct exit_watch *)h;
    close(w->pidfd);
    free(w);
}

/* A launcher costly to set up (the namespace sandbox: on cgroup v1 its
 * keeper process must be moved into the slot's cgroups, ~10 ms) has a
 * create_for_slot hook: each daemon slot makes one when it first grades
 * and every grader it forks uses it.  Cheap ones (rlimit) have none, and
 * each grader makes its own.  When the slot's cannot be made, the grader
 * makes its own and reports why. */
static void slot_launcher_ready(struct daemon *d, struct slot *s)
{
    if (s->launcher || !d->sandbox->create_for_slot)
        return;
    struct err e;
    if (!(s->launcher = d->sandbox->create_for_slot(d->site, &e)))
        log_msg(LOG_ERROR, NULL, "slot %d: cannot set up the sandbox: %s",
                (int)(s - d->slots) + 1, e.msg);
}

/* Before each grading the slot's launcher makes the slot as new (what a
 * killed grader left, its memory charge).  A slot that cannot be made
 * clean grades nothing more until the daemon restarts: its launcher is
 * kept, and with it the lease on its uid, so no other grader on this
 * host is handed that slot either.  Its jobs wait for another slot; the
 * shipper defers those no slot takes in time (an infrastructure
 * failure, never the student's score). */
static bool slot_is_clean(struct daemon *d, struct slot *s)
{
    struct err e;
    if (s->out_of_service)
        return false;
    if (!s->launcher || !s->launcher->clean || s->launcher->clean(s->launcher, &e) == 0)
        return true;
    s->out_of_service = true;
    log_msg(LOG_ERROR, NULL, "slot %d: %s; it grades nothing more until assay-worker restarts",
            (int)(s - d->slots) + 1, e.msg);
    for (int i = 0; i < d->nslots; i++)
        if (!d->slots[i].out_of_service)
            return false;
    log_msg(LOG_ERROR, NULL, "every slot of this worker is out of service: no job is graded "
            "here until assay-worker restarts");
    return false;
}

static void slot_launcher_drop(struct slot *s)
{
    if (s->launcher)
        s->launcher->destroy(s->launcher);
    s->launcher = NULL;
}

/* The grader of slot S ended without a result (killed from outside -
 * by an admin, the OOM killer - or crashed: the sandbox's limits stop
 * only the student's processes, never the grader): an error result of
 * category "infrastructure" goes back in its place, so the primary tries
 * the job again instead of waiting out its time limit. */
static void report_grader_failure(struct daemon *d, struct slot *s, int status, int sig)
{
    char *trace = NULL, msg[512], how[96];
    if (sig)
        snprintf(how, sizeof how, "was killed by signal %d (%s)", sig, strsignal(sig));
    else
        snprintf(how, sizeof how, "exited with status %d", status);
    snprintf(msg, sizeof msg, "The grader on worker %s %s while grading this job, in slot "
             "%d: a fault of the worker or of Assay, not of the submission.", d->worker, how,
             (int)(s - d->slots) + 1);
    char id[128];
    worker_job_id(s->job, id, sizeof id);
    log_msg(LOG_ERROR, id, "the grader in slot %d %s", (int)(s - d->slots) + 1, how);
    trace = worker_trace_path(d->dir, s->job);   /* NULL: the error goes without it */
    worker_write_error(d->dir, s->job, "infrastructure", msg, trace);   /* logs its failure */
    free(trace);
}

/* The grader's pidfd became readable: it has exited. */
static void on_grader_exit(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct slot *s = h->data;
    struct daemon *d = h->loop->data;
    int ws = 0;
    if (waitpid(s->pid, &ws, 0) < 0)
        ws = 0;
    if (!d->stopping) {
        int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 0, sig = WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
        if (code != 0 || sig != 0) {
            report_grader_failure(d, s, code, sig);
            slot_launcher_drop(s);  /* it may be mid-conversation with its keeper */
        }
        remove_active(d, s->job);
    }
    s->busy = false;
    s->pid = 0;
    s->exit_watch = NULL;
    uv_poll_stop(h);
    uv_close((uv_handle_t *)h, free_exit_watch);
    dispatch(d);
}

/* In the forked child: leave the daemon's loop and signals behind, grade
 * JOB, exit.  Never returns. */
static void grader_main(const struct daemon *d, const char *job, struct launcher *launcher,
                        pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* never outlive the daemon ... */
    if (getppid() != parent)            /* ... which may have died already */
        _exit(1);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* the daemon's options point into argv, which the title overwrites */
    char *dir = strdup(d->dir), *worker = strdup(d->worker);
    if (!dir || !worker)
        _exit(1);
    char id[128];
    worker_job_id(job, id, sizeof id);
    const char *title[] = {"assay-worker", "grade-one", id, "--dir", dir, "--name", worker, NULL};
    proctitle_set(title);
    prctl(PR_SET_NAME, "grade-one");
    char *deflog = fs_join(dir, "logs/worker.log");
    /* the daemon's log: the daemon has said already if it cannot be opened */
    log_open("assay-worker", deflog);
    free(deflog);
    worker_set_sandbox(d->sandbox, d->site);
    _exit(worker_grade_one(dir, job, worker, launcher) < 0 ? 1 : 0);
}

/* A fork rather than an exec of `assay-worker grade-one`: the grader
 * needs nothing the daemon has not loaded already, and skipping exec and
 * dynamic linking saves a few milliseconds of CPU per job. */
static int start_grading(struct daemon *d, struct slot *s, const char *job)
{
    snprintf(s->job, sizeof s->job, "%s", job);
    pid_t parent = getpid(), pid = fork();
    if (pid == 0)
        grader_main(d, s->job, s->launcher, parent);
    int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    if (pid < 0 || pidfd < 0) {
        log_msg(LOG_ERROR, job, "cannot start a grader: %s", strerror(errno));
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        return -1;
    }
    struct exit_watch *w = calloc(1, sizeof *w);
    int rc = w ? uv_poll_init(d->loop, &w->poll, pidfd) : UV_ENOMEM;
    if (rc == 0) {
        w->pidfd = pidfd;   /* closed with W from here on */
        w->poll.data = s;
        if ((rc = uv_poll_start(&w->poll, UV_READABLE, on_grader_exit)) < 0)
            uv_close((uv_handle_t *)&w->poll, free_exit_watch);
    } else {
        free(w);
        close(pidfd);
    }
    if (rc < 0) {   /* a grader nobody waits for would hold its slot for ever */
        log_msg(LOG_ERROR, job, "cannot watch a grader: %s; the job is tried again", uv_strerror(rc));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    s->pid = pid;
    s->exit_watch = w;
    s->busy = true;
    char id[128];
    worker_job_id(job, id, sizeof id);
    log_msg(LOG_INFO, id, "started grading in slot %d", (int)(s - d->slots) + 1);
    return 0;
}

/* Takes the next job: first what a crash left in active/, then the inbox. */
static char *next_job(struct daemon *d)
{
    char *job = oldest_job(d, WORKER_ACTIVE);
    if (job)
        return job;
    job = oldest_job(d, WORKER_INBOX);
    if (!job)
        return NULL;
    char *from = worker_path(d->dir, WORKER_INBOX, job), *to = worker_path(d->dir, WORKER_ACTIVE, job);
    int rc = from && to ? rename(from, to) : -1;
    if (rc < 0)
        log_msg(LOG_ERROR, job, "cannot take the job from the inbox: %s", strerror(errno));
    free(from);
    free(to);
    if (rc < 0) {
        free(job);
        return NULL;
    }
    return job;
}

/* Whether a job waits in active/ (not being graded) or in the inbox. */
static bool has_job(const struct daemon *d)
{
    const char *folders[] = {WORKER_ACTIVE, WORKER_INBOX};
    for (int i = 0; i < 2; i++) {
        char *job = oldest_job(d, folders[i]);
        free(job);
        if (job)
            return true;
    }
    return false;
}

static void dispatch(struct daemon *d)
{
    for (int i = 0; i < d->nslots && !d->stopping; i++) {
        if (d->slots[i].busy || d->slots[i].out_of_service)
            continue;
        if (!has_job(d))
            return;
        slot_launcher_ready(d, &d->slots[i]);
        if (!slot_is_clean(d, &d->slots[i]))
            continue;
        char *job = next_job(d);
        if (!job)
            return;
        start_grading(d, &d->slots[i], job);
        free(job);
    }
}

static void on_inbox(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    dispatch(h->loop->data);
}

static void on_rescan(uv_timer_t *t)
{
    dispatch(t->loop->data);
}

/* The heartbeat: touched from this loop, so a daemon that is stopped,
 * stuck or dead stops touching it, and the shippers call the worker down
 * (heartbeat.h).  Its graders are other processes: one that hangs does
 * not stop the heartbeat. */
static void on_beat(uv_timer_t *t)
{
    struct daemon *d = t->loop->data;
    struct err e;
    if (heartbeat_touch(d->beat_fd, &e) < 0) {
        if (!d->beat_failing)
            log_msg(LOG_ERROR, NULL, "%s: the shippers will call this worker down", e.msg);
        d->beat_failing = true;
    } else if (d->beat_failing) {
        log_msg(LOG_INFO, NULL, "the heartbeat file can be touched again");
        d->beat_failing = false;
    }
}

static void on_stop(uv_signal_t *sig, int signum)
{
    struct daemon *d = sig->loop->data;
    log_msg(LOG_INFO, NULL, "stopping on signal %d", signum);
    d->stopping = true;
    for (int i = 0; i < d->nslots; i++)
        if (d->slots[i].busy && d->slots[i].pid > 0)
            kill(d->slots[i].pid, SIGKILL);
    uv_fs_event_stop(&d->watch);
    uv_timer_stop(&d->rescan);
    uv_timer_stop(&d->beat);
    uv_signal_stop(&d->sigterm);
    uv_signal_stop(&d->sigint);
    uv_close((uv_handle_t *)&d->watch, NULL);
    uv_close((uv_handle_t *)&d->rescan, NULL);
    uv_close((uv_handle_t *)&d->beat, NULL);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
}

/* A grader killed while writing its result leaves outbox/.NAME.part. */
static void remove_partial_results(const char *dir)
{
    char *outbox = worker_path(dir, WORKER_OUTBOX, NULL);
    struct fs_list l;
    if (!outbox || fs_list(outbox, worker_is_part, NULL, &l) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing %s/outbox; some .part files stay", dir);
    for (size_t i = 0; outbox && i < l.n; i++) {
        char *p = fs_join(outbox, l.names[i]);
        if (!p || (unlink(p) < 0 && errno != ENOENT))
            log_msg(LOG_WARN, NULL, "cannot remove %s/%s: %s", outbox, l.names[i], strerror(errno));
        free(p);
    }
    if (outbox)
        fs_list_free(&l);
    free(outbox);
}

static int prepare_dir(const char *dir, int *lock_fd)
{
    struct err e;
    if (worker_layout_create(dir, &e) < 0 ||
        (geteuid() == 0 && worker_layout_reachable(dir, &e) < 0)) {
        fprintf(stderr, "assay-worker: %s\n", e.msg);
        log_msg(LOG_ERROR, NULL, "cannot start: %s", e.msg);
        return -1;
    }
    char *lock = fs_join(dir, WORKER_LOCK);
    *lock_fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (*lock_fd < 0)
        fprintf(stderr, "assay-worker: cannot open %s/%s: %s\n", dir, WORKER_LOCK,
                lock ? strerror(errno) : "out of memory");
    free(lock);
    if (*lock_fd < 0)
        return -1;
    if (flock(*lock_fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "assay-worker: another assay-worker is running on %s\n", dir);
        return -1;
    }
    /* With the lock held no grader runs: whatever is in tmp/ was left by
     * graders killed mid-way. */
    char *tmp = worker_path(dir, WORKER_TMP, NULL);
    if (fs_remove_tree(tmp, &e) < 0)
        log_msg(LOG_WARN, NULL, "%s; what is left there stays until the next start", e.msg);
    free(tmp);
    remove_partial_results(dir);
    if (worker_layout_create(dir, &e) < 0) {   /* tmp/ again, emptied above */
        fprintf(stderr, "assay-worker: %s\n", e.msg);
        log_msg(LOG_ERROR, NULL, "cannot start: %s", e.msg);
        return -1;
    }
    return 0;
}

/* Job archives unpack into tmp/, and (rlimit mode) the tests run there:
 * a dozen files created and removed per job.  On a disk file system each
 * costs tens to hundreds of microseconds of kernel time (inode allocation,
 * journal, discard), so, when it can, the daemon mounts a tmpfs on tmp/
 * in a mount namespace of its own: only it and its graders see it, and
 * it vanishes with the last of them, even after kill -9.  Nothing in
 * tmp/ needs to outlive the daemon (jobs stay in active/ until their
 * result is in outbox/).  Without root it stays on disk. */
static void mount_scratch(const char *dir)
{
    char *tmp = worker_path(dir, WORKER_TMP, NULL);
    if (geteuid() != 0) {
        log_msg(LOG_INFO, NULL, "scratch space %s stays on disk (not root)", tmp);
    } else if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
               mount("tmpfs", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711") < 0) {
        log_msg(LOG_WARN, NULL, "scratch space %s stays on disk: cannot mount a tmpfs: %s", tmp,
                strerror(errno));
    }
    free(tmp);
}

/* A launcher may need what the host lacks (the namespace sandbox: root,
 * user namespaces and cgroup controllers): refuse to start, saying what
 * is missing, rather than fail every job later. */
static int check_sandbox(const struct launcher_type *type)
{
    struct err e;
    if (!type->host_check || type->host_check(&e) == 0)
        return 0;
    fprintf(stderr, "assay-worker: cannot start: %s\n", e.msg);
    log_msg(LOG_ERROR, NULL, "cannot start: %s", e.msg);
    return -1;
}

/* Opens the log PATH (NULL: its name could not be made), or says on
 * standard error why the lines go there instead. */
static void open_log(const char *path)
{
    if (log_open("assay-worker", path) < 0 || !path)
        fprintf(stderr, "assay-worker: cannot open the log %s: %s; logging here\n",
                path ? path : "logs/worker.log", path ? strerror(errno) : "out of memory");
}

static int run_daemon(const char *dir, int nslots, const char *worker, const char *logpath,
                      const char *traces, const struct launcher_type *sandbox,
                      const struct sandbox_site *site)
{
    int lock_fd;
    char *deflog = fs_join(dir, "logs/worker.log"), *deftraces = fs_join(dir, "logs/traces.log");
    const char *log = logpath ? logpath : deflog;
    /* a new directory has no logs/ until prepare_dir: then the log is opened again */
    bool logging = log_open("assay-worker", log) == 0 && log;
    log_set_worker(worker);
    if (check_sandbox(sandbox) < 0 || prepare_dir(dir, &lock_fd) < 0) {
        free(deflog);
        free(deftraces);
        return 1;
    }
    if (!logging)
        open_log(log);
    mount_scratch(dir);
    crash_install(traces ? traces : deftraces, "assay-worker");
    free(deflog);
    free(deftraces);
    struct daemon d = {.loop = uv_default_loop(), .dir = dir, .worker = worker,
                       .sandbox = sandbox, .site = site, .nslots = nslots, .beat_fd = -1};
    if (!(d.slots = calloc((size_t)nslots, sizeof *d.slots)) || !d.loop) {
        fprintf(stderr, "assay-worker: out of memory\n");
        log_msg(LOG_ERROR, NULL, "cannot start: out of memory");
        free(d.slots);
        close(lock_fd);
        return 1;
    }
    d.loop->data = &d;
    char *inbox = worker_path(dir, WORKER_INBOX, NULL);
    uv_fs_event_init(d.loop, &d.watch);
    int rc = inbox ? uv_fs_event_start(&d.watch, on_inbox, inbox, 0) : UV_ENOMEM;
    if (rc < 0)
        log_msg(LOG_ERROR, NULL, "cannot watch %s/%s: %s; jobs are picked up at the rescan every "
                "%d s", dir, WORKER_INBOX, uv_strerror(rc), RESCAN_MS / 1000);
    uv_timer_init(d.loop, &d.rescan);
    uv_timer_start(&d.rescan, on_rescan, RESCAN_MS, RESCAN_MS);
    struct err e = {{0}};
    if ((d.beat_fd = heartbeat_start(dir, &e)) < 0)
        log_msg(LOG_ERROR, NULL, "%s: the shippers will call this worker down", e.msg);
    else if (e.msg[0])   /* made, but its text (the pid) could not be written */
        log_msg(LOG_WARN, NULL, "%s", e.msg);
    uv_timer_init(d.loop, &d.beat);
    if (d.beat_fd >= 0)
        uv_timer_start(&d.beat, on_beat, 0, (uint64_t)(HEARTBEAT_EVERY_S * 1000));
    uv_signal_init(d.loop, &d.sigterm);
    uv_signal_start(&d.sigterm, on_stop, SIGTERM);
    uv_signal_init(d.loop, &d.sigint);
    uv_signal_start(&d.sigint, on_stop, SIGINT);
    log_msg(LOG_INFO, NULL, "assay-worker %s started on %s with %d slots", ASSAY_VERSION, dir,
            nslots);
    dispatch(&d);
    uv_run(d.loop, UV_RUN_DEFAULT);
    log_msg(LOG_INFO, NULL, "stopped");
    uv_loop_close(d.loop);
    for (int i = 0; i < nslots; i++)
        slot_launcher_drop(&d.slots[i]);
    free(d.slots);
    free(inbox);
    if (d.beat_fd >= 0)
        close(d.beat_fd);
    close(lock_fd);
    log_close();
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},  {"slots", required_argument, NULL, 's'},
        {"name", required_argument, NULL, 'n'}, {"log", required_argument, NULL, 'l'},
        {"traces", required_argument, NULL, 't'},
        {"die-with-parent", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'v'},    {"timeout", required_argument, NULL, 'T'},
        {"sandbox", required_argument, NULL, 'S'}, {"sandboxes", no_argument, NULL, 'L'},
        {"installation", required_argument, NULL, 'I'}, {"uids", required_argument, NULL, 'U'},
        {"json", no_argument, NULL, 'J'},
        {NULL, 0, NULL, 0},
    };
    proctitle_init(argc, argv);
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    bool grade_one = sub && !strcmp(sub, "grade-one");
    bool grade_archive = sub && !strcmp(sub, "grade-archive");
    const char *dir = NULL, *name = "local", *logpath = NULL, *traces = NULL;
    const char *sandbox = NULL;   /* the registry's default */
    const char *installation = NULL, *uids = NULL;   /* the unnamed installation's */
    int slots = 1, c;
    double timeout = 600;
    bool as_json = false;
    if (sub)
        argv++, argc--;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 's': slots = atoi(optarg); break;
        case 'n': name = optarg; break;
        case 'l': logpath = optarg; break;
        case 't': traces = optarg; break;
        case 'T': timeout = atof(optarg); break;
        case 'S': sandbox = optarg; break;
        case 'I': installation = optarg; break;
        case 'U': uids = optarg; break;
        case 'J': as_json = true; break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'v': printf("assay-worker %s\n", ASSAY_VERSION); return 0;
        case 'L': printf("%s\n", launcher_names()); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    bool wait = sub && !strcmp(sub, "wait"), status = sub && !strcmp(sub, "status");
    bool canary = sub && !strcmp(sub, "canary");
    if ((!dir && !grade_archive) || slots < 1 || slots > 256 ||
        (sub && !grade_one && !grade_archive && !wait && !status && !canary) ||
        ((grade_one || wait) && optind != argc - 1) || (grade_archive && optind != argc - 2) ||
        ((status || canary) && optind != argc)) {
        fputs(usage, stderr);
        return 2;
    }
    struct err e;
    const struct launcher_type *type = launcher_lookup(sandbox, &e);
    if (!type) {
        fprintf(stderr, "assay-worker: --sandbox: %s\n", e.msg);
        if (logpath && log_open("assay-worker", logpath) == 0)   /* the central log, too */
            log_msg(LOG_ERROR, NULL, "cannot start: --sandbox: %s", e.msg);
        return 2;
    }
    struct installation in;
    static struct sandbox_site site;   /* the graders this process forks use it */
    if (installation_set(&in, installation, uids, &e) < 0) {
        fprintf(stderr, "assay-worker: --installation/--uids: %s\n", e.msg);
        if (logpath && log_open("assay-worker", logpath) == 0)   /* the central log, too */
            log_msg(LOG_ERROR, NULL, "cannot start: --installation/--uids: %s", e.msg);
        return 2;
    }
    sandbox_site_of(&site, &in);
    if (wait)
        return worker_wait(dir, argv[optind], timeout);
    if (status)
        return worker_status(dir);
    if (canary)
        return worker_canary(dir, type, as_json);
    if (grade_archive) {   /* a batch system's job: one archive, no daemon */
        worker_set_sandbox(type, &site);
        return worker_grade_archive(argv[optind], argv[optind + 1], name);
    }
    if (grade_one) {   /* by hand: the daemon forks its graders (grader_main) */
        char *deflog = fs_join(dir, "logs/worker.log");
        open_log(logpath ? logpath : deflog);
        free(deflog);
        worker_set_sandbox(type, &site);
        return worker_grade_one(dir, argv[optind], name, NULL) < 0 ? 1 : 0;
    }
    return run_daemon(dir, slots, name, logpath, traces, type, &site);
}
