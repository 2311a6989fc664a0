/*
 * keeper.c - where runs are born: one process per slot that lives in the
 * slot's cgroup and makes each run's PID 1 ahead of the run.
 *
 * The launcher forks the keeper once and moves it into the slot's
 * cgroups once (moving a process into a v1 cgroup can cost ~10 ms; on
 * v2 it is one write, but the same keeper serves both).  Every PID 1 is
 * cloned by the keeper, so it is born inside the slot's cgroups.  The
 * keeper makes the next run's PID 1 as soon as the launcher is done with
 * the previous run (KEEPER_NEXT, no reply): it reaps the previous PID 1,
 * gives the slot's memory back (page cache, freed tmpfs pages), and
 * clones the new one (pid1.c), which sets up its namespaces and root and
 * then waits.  When the run comes (KEEPER_JOB: the job and its pipes,
 * job_wire.c), the keeper hands it on to that PID 1 and replies with a
 * pidfd for it: the run's critical path is a message, the run's own
 * binds and pivot, and the command's fork and exec.  If no PID 1 is ready
 * (the first run, another root filesystem, a launcher that never said
 * NEXT) the keeper makes one then.  KEEPER_READY asks which PID 1 is
 * waiting, so that the launcher can tell it from a stray process.
 *
 * A PID 1 is made after every earlier run's PID 1 has been reaped, in
 * fresh namespaces with a fresh root, so nothing of one run reaches the
 * next; it waits with no run's file, pipe or environment.  The keeper is
 * exempt from the OOM killer (oom_score_adj -1000; PID 1 resets its own)
 * and dies with the launcher (PR_SET_PDEATHSIG); a waiting PID 1 dies
 * with the keeper.
 *
 * The keeper also does once what every run would otherwise repeat: it
 * lives in a private mount namespace of its own where it builds the
 * read-only tree every run of the slot shares (rootfs.c; again only if a
 * run names another root filesystem), so each PID 1, cloned with a new
 * mount namespace, starts from a copy of it and only adds its own parts.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
#include <linux/sched.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "sandbox/cgroup.h"

#define STOP_WAIT_S 2.0   /* for the keeper to end its PID 1s and exit */

enum { KEEPER_JOB = 1, KEEPER_NEXT = 2, KEEPER_READY = 3 };

struct reply {
    int ok;                     /* 1: done, 0: failed */
    int32_t pid;                /* the PID 1 given the run, or waiting (READY; 0: none) */
    char msg[400];
};

/* ---- in the keeper ---- */

static void send_reply(int sock, int ok, pid_t pid, const char *msg, int fd)
{
    struct reply r = {.ok = ok, .pid = (int32_t)pid};
    snprintf(r.msg, sizeof r.msg, "%.399s", msg);
    wire_send(sock, &r, sizeof r, &fd, fd >= 0 ? 1 : 0);
}

/* Whether mount point POINT is in a sandbox slot's directory, of any
 * installation: INSTALLATION_RUN_ROOT/slot-N/... or .../NAME/slot-N/... */
static bool in_some_slot(const char *point)
{
    size_t rl = strlen(INSTALLATION_RUN_ROOT);
    if (strncmp(point, INSTALLATION_RUN_ROOT "/", rl + 1))
        return false;
    const char *rest = point + rl + 1, *slash = strchr(rest, '/');
    return !strncmp(rest, "slot-", 5) || (slash && !strncmp(slash + 1, "slot-", 5));
}

/* Detaches from the keeper's mount namespace the other slots'
 * directories, of this installation and any other: every PID 1's clone
 * copies this namespace, and PID 1, before it pivots, sees less.  /sys
 * stays: the keeper gives the slot's memory back through it. */
static void trim_namespace(const char *root_mnt)
{
    char own[256], line[4096], point[4096];
    snprintf(own, sizeof own, "%.200s", root_mnt);
    char *slash = strrchr(own, '/');
    if (slash)
        slash[1] = '\0';   /* RUN_DIR/slot-N/ */
    FILE *f = fopen("/proc/self/mountinfo", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && in_some_slot(point) &&
            strncmp(point, own, strlen(own)))
            umount2(point, MNT_DETACH);
    if (f)
        fclose(f);
}

/* The keeper's state: the slot, the PID 1 made ahead, the one running. */
struct keeper_state {
    int sock;
    struct cgroup *cg;
    struct keeper_slot slot;
    char prepared_for[4096];    /* the root filesystem of the prepared tree ("": the host's) */
    bool have_prepared;
    pid_t ready;                /* the PID 1 waiting for a run (0: none) */
    int ready_sock, ready_pidfd;
    char ready_for[4096];       /* its root filesystem ("": the host's) */
    pid_t running;              /* the PID 1 handed a run, not reaped yet (0: none) */
};

/* Makes sure the keeper's mount namespace holds the tree for ROOTFS
 * ("": the host's).  The binds are looked up as the run's uid (fsuid),
 * as they were when each run built its own root: root's privilege does
 * not reach sources the run's uid could not reach. */
static int ensure_prepared(struct keeper_state *k, const char *rootfs, char *why, size_t n)
{
    if (k->have_prepared && !strcmp(k->prepared_for, rootfs))
        return 0;
    k->have_prepared = false;
    if (strlen(rootfs) >= sizeof k->prepared_for)
        return snprintf(why, n, "the root filesystem's path is too long"), -1;
    setfsgid((gid_t)k->slot.uid);
    setfsuid(k->slot.uid);
    int rc = sandbox_rootfs_prepare(k->slot.root_mnt, rootfs[0] ? rootfs : NULL, why, n);
    setfsuid(0);
    setfsgid(0);
    if (rc < 0)
        return -1;
    strcpy(k->prepared_for, rootfs);
    k->have_prepared = true;
    return 0;
}

/* Reaps the PID 1 of the last run; KILL: first ends it, for a run whose
 * launcher went away without saying it was done. */
static void reap_running(struct keeper_state *k, bool kill_it)
{
    if (k->running <= 0)
        return;
    if (kill_it)
        kill(k->running, SIGKILL);
    while (waitpid(k->running, NULL, 0) < 0 && errno == EINTR) {
    }
    k->running = 0;
}

static void drop_ready(struct keeper_state *k)
{
    if (k->ready <= 0)
        return;
    close(k->ready_sock);   /* it sees the end of its socket and exits */
    close(k->ready_pidfd);
    kill(k->ready, SIGKILL);
    while (waitpid(k->ready, NULL, 0) < 0 && errno == EINTR) {
    }
    k->ready = 0;
}

/* Makes a PID 1 ready for root filesystem ROOTFS, unless one is.  Before
 * it: the last run's PID 1 reaped and the slot's memory given back, so
 * the new one starts clean and its own pages are all the slot holds. */
static int make_ready(struct keeper_state *k, const char *rootfs, char *why, size_t n)
{
    if (k->ready > 0 && !strcmp(k->ready_for, rootfs))
        return 0;
    drop_ready(k);
    long long left;
    struct err e;   /* the launcher checks the charge itself before each run */
    k->cg->ops->reclaim(k->cg, &left, &e);
    if (ensure_prepared(k, rootfs, why, n) < 0)
        return -1;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return snprintf(why, n, "cannot create a socket: %s", strerror(errno)), -1;
    int size = (int)JOB_WIRE_MAX + 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sandbox_birth birth = {.uid = k->slot.uid, .root_mnt = k->slot.root_mnt,
                                  .rootfs = rootfs[0] ? rootfs : NULL, .prepared = true,
                                  .sock = sv[1], .filter = k->slot.filter};
    pid_t pid;
    int rc = sandbox_spawn(&birth, -1, &pid, &k->ready_pidfd, &e);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        return snprintf(why, n, "%.*s", (int)n - 1, e.msg), -1;
    }
    k->ready = pid;
    k->ready_sock = sv[0];
    snprintf(k->ready_for, sizeof k->ready_for, "%s", rootfs);
    return 0;
}

/* KEEPER_JOB: hands the run to the PID 1 made for it (made now if there
 * is none for its root filesystem) and replies with a pidfd for it. */
static void serve_job(struct keeper_state *k, const char *msg, size_t len, const int *fds,
                      int nfds)
{
    static char *env[JOB_MAX_ENV + 1];
    static struct run_bind binds[JOB_MAX_BINDS];
    struct sandbox_job job;
    char why[300];
    if (job_decode(msg, len, fds, nfds, &job, env, binds) < 0) {
        send_reply(k->sock, 0, 0, "the keeper received a malformed job", -1);
        return;
    }
    reap_running(k, true);   /* a run still going here was abandoned */
    if (make_ready(k, job.rootfs ? job.rootfs : "", why, sizeof why) < 0) {
        char text[400];
        snprintf(text, sizeof text, "cannot prepare the sandbox's root: %s", why);
        send_reply(k->sock, 0, 0, text, -1);
        return;
    }
    if (wire_send(k->ready_sock, msg, len, fds, nfds) < 0) {
        snprintf(why, sizeof why, "cannot hand the run to its PID 1: %s", strerror(errno));
        drop_ready(k);
        send_reply(k->sock, 0, 0, why, -1);
        return;
    }
    send_reply(k->sock, 1, k->ready, "", k->ready_pidfd);
    close(k->ready_sock);
    close(k->ready_pidfd);
    k->running = k->ready;
    k->ready = 0;
}

static void serve_one(struct keeper_state *k, const char *msg, size_t len, const int *fds,
                      int nfds)
{
    char why[300];
    int type = len > 0 ? msg[0] : 0;
    if (type == KEEPER_JOB) {
        serve_job(k, msg + 1, len - 1, fds, nfds);
    } else if (type == KEEPER_NEXT && len >= 2 && msg[len - 1] == '\0') {
        reap_running(k, false);   /* it has ended, or is ending: the launcher saw it */
        if (make_ready(k, msg + 1, why, sizeof why) < 0) {
            /* said again, to the run, when the next KEEPER_JOB tries once more */
        }
    } else if (type == KEEPER_READY) {
        reap_running(k, true);
        send_reply(k->sock, 1, k->ready, "", -1);
    }
    for (int i = 0; i < nfds; i++)
        close(fds[i]);   /* the run's pipes: PID 1 holds its own copies */
}

static _Noreturn void keeper_main(int sock, struct cgroup *cg, const struct keeper_slot *slot,
                                  pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    prctl(PR_SET_NAME, "assay-keeper");   /* what ps -o comm and top show */
    /* nothing of the launcher's (logs, job directories) stays open here */
    if (sock != 3 && dup3(sock, 3, O_CLOEXEC) == 3)
        sock = 3;
    syscall(SYS_close_range, sock + 1, ~0U, 0);
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {
        if (write(adj, "-1000", 5) < 0) {
        }
        close(adj);
    }
    static struct keeper_state k;
    k.sock = sock;
    k.cg = cg;
    k.slot = *slot;
    /* the prepared tree lives here, out of the host's sight */
    /* NULL: the keeper exits below, and its launcher reports it gone */
    char *msg = unshare(CLONE_NEWNS) == 0 ? malloc(JOB_WIRE_MAX + 1) : NULL;
    if (msg)
        trim_namespace(slot->root_mnt);
    for (;;) {
        int fds[JOB_MAX_FDS], nfds;
        ssize_t n = msg ? wire_recv(sock, msg, JOB_WIRE_MAX + 1, fds, &nfds) : -1;
        if (n <= 0) {   /* the launcher closed the socket: done, and no PID 1 outlives it */
            drop_ready(&k);
            reap_running(&k, true);
            _exit(0);
        }
        serve_one(&k, msg, (size_t)n, fds, nfds);
    }
}

/* ---- in the launcher ---- */

/* fork(), born inside the cgroup of directory CG_FD where the host lets
 * clone3 say so (v2: nothing is migrated), else where the caller is. */
static pid_t fork_into(int cg_fd)
{
    if (cg_fd < 0)
        return fork();
    struct clone_args a = {.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD,
                           .cgroup = (uint64_t)cg_fd};
    return (pid_t)syscall(SYS_clone3, &a, sizeof a);
}

int keeper_start(struct keeper *k, struct cgroup *cg, const struct keeper_slot *slot,
                 struct err *e)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return err_sys(e, "cannot create the keeper's socket");
    int size = (int)JOB_WIRE_MAX + 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    pid_t parent = getpid();
    int cg_fd = cg->ops->clone_fd(cg);
    pid_t pid = fork_into(cg_fd);
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return err_sys(e, "cannot start the keeper");
    }
    if (pid == 0) {
        close(sv[0]);
        keeper_main(sv[1], cg, slot, parent);
    }
    close(sv[1]);
    k->pid = pid;
    k->sock = sv[0];
    k->parent = parent;
    if (cg_fd < 0 && cg->ops->enter(cg, pid, e) < 0) {
        keeper_stop(k);
        return err_prefix(e, "cannot move the keeper into the slot's cgroup");
    }
    return 0;
}

static int read_reply(struct keeper *k, struct reply *r, int *fd, struct err *e)
{
    int fds[JOB_MAX_FDS], nfds = 0;
    ssize_t n = wire_recv(k->sock, r, sizeof *r, fds, &nfds);
    if (n != (ssize_t)sizeof *r) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        return err_set(e, "the sandbox keeper (pid %d) is gone", (int)k->pid);
    }
    r->msg[sizeof r->msg - 1] = '\0';
    if (fd)
        *fd = nfds > 0 ? fds[0] : -1;
    for (int i = fd ? 1 : 0; i < nfds; i++)
        close(fds[i]);
    return 0;
}

/* Sends message TYPE with PAYLOAD (and FDS beside). */
static int keeper_send(struct keeper *k, int type, const void *payload, size_t len,
                       const int *fds, int nfds, struct err *e)
{
    struct buf b = BUF_INIT;
    char t = (char)type;
    buf_append(&b, &t, 1);
    buf_append(&b, payload, len);
    ssize_t n = wire_send(k->sock, b.data, b.len, fds, nfds);
    buf_free(&b);
    return n < 0 ? err_sys(e, "cannot reach the sandbox keeper") : 0;
}

int keeper_run(struct keeper *k, const struct sandbox_job *job, int *pidfd, pid_t *pid,
               struct err *e)
{
    struct buf b = BUF_INIT;
    int fds[JOB_MAX_FDS];
    int rc = job_encode(job, &b, e);
    if (rc == 0)
        rc = keeper_send(k, KEEPER_JOB, b.data, b.len, fds, job_fds(job, fds), e);
    buf_free(&b);
    struct reply r;
    if (rc < 0 || read_reply(k, &r, pidfd, e) < 0)
        return -1;
    if (r.ok != 1 || *pidfd < 0) {
        if (*pidfd >= 0)
            close(*pidfd);
        return err_set(e, "%s", r.msg[0] ? r.msg : "the keeper could not start the run");
    }
    *pid = (pid_t)r.pid;
    return 0;
}

int keeper_next(struct keeper *k, const char *rootfs, struct err *e)
{
    const char *r = rootfs ? rootfs : "";
    return keeper_send(k, KEEPER_NEXT, r, strlen(r) + 1, NULL, 0, e);
}

int keeper_ready_pid(struct keeper *k, pid_t *pid, struct err *e)
{
    struct reply r;
    if (keeper_send(k, KEEPER_READY, "", 0, NULL, 0, e) < 0 || read_reply(k, &r, NULL, e) < 0)
        return -1;
    *pid = (pid_t)r.pid;
    return 0;
}

void keeper_stop(struct keeper *k)
{
    pid_t w = -1;
    if (k->sock >= 0) {
        shutdown(k->sock, SHUT_RDWR);   /* for every copy: the keeper ends its PID 1s and exits */
        close(k->sock);
    }
    k->sock = -1;
    if (k->pid <= 0)
        return;
    double until = clock_mono() + STOP_WAIT_S;
    while ((w = waitpid(k->pid, NULL, WNOHANG)) == 0 && clock_mono() < until)
        usleep(1000);
    if (w == 0) {   /* stuck: its PID 1s die with it (PR_SET_PDEATHSIG) */
        kill(k->pid, SIGKILL);
        while (waitpid(k->pid, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    k->pid = 0;
}

/* Whether PID is alive: neither gone nor a zombie (a dead child its
 * parent has not reaped yet still answers kill(pid, 0)). */
static bool process_alive(pid_t pid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, stat, sizeof stat - 1);
    if (fd >= 0)
        close(fd);
    if (n <= 0)
        return false;
    stat[n] = '\0';
    const char *paren = strrchr(stat, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

bool keeper_alive(const struct keeper *k)
{
    return k->pid > 0 && process_alive(k->pid);
}

int keeper_revive(struct keeper *k, struct cgroup *cg, const struct keeper_slot *slot,
                  struct err *e)
{
    if (k->pid <= 0 || process_alive(k->pid))
        return 0;
    pid_t was = k->pid;
    if (k->parent != getpid())
        return err_set(e, "the sandbox keeper (pid %d) is gone", (int)was);
    keeper_stop(k);   /* reaps it and closes its socket */
    if (keeper_start(k, cg, slot, e) < 0)
        return err_prefix(e, "the sandbox keeper (pid %d) died, and a new one cannot start",
                          (int)was);
    log_msg(LOG_WARN, NULL, "the sandbox keeper of %s (pid %d) had died; pid %d took its place",
            cg->path, (int)was, (int)k->pid);
    return 1;
}
