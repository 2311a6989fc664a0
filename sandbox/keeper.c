/*
 * keeper.c - where runs are born: one process per slot that lives in the
 * slot's cgroup and makes each run's PID 1 ahead of the run.
 *
 * The launcher forks the keeper once and moves it into the slot's
 * cgroups once (moving a process into a v1 cgroup can cost ~10 ms; on v2
 * it is born there by clone3).  Every PID 1 is cloned by the keeper, so
 * it is born inside the slot's cgroups.  As soon as the launcher is done
 * with a run it says KEEPER_NEXT (no reply), and the keeper, while the
 * grader reads that run's results, reaps the run's PID 1, gives the
 * slot's memory back (page cache, freed tmpfs pages) and clones the next
 * run's PID 1 (pid1.c), which sets up its namespaces and root and then
 * waits on the runs socket.  The keeper posts its pid on the board, a
 * page the launcher shares.  To start a run the launcher takes that PID 1
 * off the board (a pidfd of its own for it) and sends the job and its
 * pipes (job_wire.c) down the runs socket, straight to it: the run's
 * critical path is that message, the run's own binds and pivot, and the
 * command's fork and exec.  If no PID 1 waits for the run's root
 * filesystem (the first run, another root filesystem, a launcher that
 * never said NEXT) the launcher asks for one (KEEPER_READY) and waits.
 *
 * A PID 1 is made after every earlier run's PID 1 has been reaped, in
 * fresh namespaces with a fresh root, so nothing of one run reaches the
 * next; it waits with no run's file, pipe or environment, and a run left
 * in the socket by a PID 1 that died before reading it is discarded
 * first.  The keeper is exempt from the OOM killer (oom_score_adj -1000;
 * PID 1 resets its own) and dies with the launcher (PR_SET_PDEATHSIG);
 * its PID 1s die with it.
 *
 * The keeper also does once what every run would otherwise repeat: it
 * lives in a private mount namespace of its own where it builds the
 * read-only tree every run of the slot shares (rootfs.c; again only if a
 * run names another root filesystem), so each PID 1, cloned with a new
 * mount namespace, starts from a copy of it and only adds its own parts.
 * Likewise it lives in a network namespace of its own, whose setting gives
 * each run's namespace a small TCP table (netns.c).
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
#include <stdatomic.h>
#include <sys/mman.h>
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
#include "sandbox/launcher_common.h"
#include "sandbox/cgroup.h"

#define STOP_WAIT_S 2.0   /* for the keeper to end its PID 1s and exit */

enum { KEEPER_NEXT = 2, KEEPER_READY = 3 };

struct reply {
    int ok;                     /* 1: done, 0: failed */
    int32_t pid;                /* the PID 1 waiting for a run */
    char msg[400];
};

/* ---- in the keeper ---- */

static void send_reply(int sock, int ok, pid_t pid, const char *msg)
{
    struct reply r = {.ok = ok, .pid = (int32_t)pid};
    snprintf(r.msg, sizeof r.msg, "%.399s", msg);
    wire_send(sock, &r, sizeof r, NULL, 0);
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

/* What the launcher and the keeper share (a MAP_SHARED page made before
 * the keeper forks; the graders a worker daemon forks share it too):
 * which PID 1 waits for a run, and for which root filesystem.  The keeper
 * writes it once the PID 1 is made; the launcher that takes that PID 1
 * sets READY back to 0, which is how the keeper learns it was taken. */
struct keeper_board {
    _Atomic pid_t ready;
    char ready_for[4096];       /* its root filesystem ("": the host's) */
};

/* The keeper's state: the slot, the PID 1 made ahead, the one running. */
struct keeper_state {
    int sock, runs;
    struct keeper_board *board;
    struct cgroup *cg;
    struct keeper_slot slot;
    char prepared_for[4096];    /* the root filesystem of the prepared tree ("": the host's) */
    bool have_prepared;
    pid_t ready;                /* the PID 1 made ahead, as the keeper knows it (0: none) */
    pid_t running;              /* a PID 1 a launcher took, not reaped yet (0: none) */
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

static void end_child(pid_t pid)
{
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* Notes whether a launcher took the PID 1 made ahead, and ends and
 * reaps the one it took: that run is over (the launcher saw it end, or
 * went away without saying). */
static void reap_taken(struct keeper_state *k)
{
    if (k->ready > 0 && atomic_load(&k->board->ready) != k->ready) {
        k->running = k->ready;
        k->ready = 0;
    }
    if (k->running > 0)
        end_child(k->running);
    k->running = 0;
}

static void drop_ready(struct keeper_state *k)
{
    if (k->ready <= 0)
        return;
    atomic_store(&k->board->ready, 0);
    end_child(k->ready);
    k->ready = 0;
}

/* A run sent to a PID 1 that died before it read it stays in the
 * socket: the next one must not take it for its own.  False once the
 * launcher has closed its end: a closed socket reads as an endless
 * stream of empty messages, and no run can come any more. */
static bool discard_stale_runs(int runs)
{
    char head[64];
    int fds[JOB_MAX_FDS], nfds;
    ssize_t n;
    while ((n = wire_recv(runs, head, sizeof head, fds, &nfds, MSG_DONTWAIT)) > 0)
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
    return n < 0;   /* EAGAIN: emptied, the launcher still there */
}

/* Makes a PID 1 ready for root filesystem ROOTFS, unless one is.  Before
 * it: the last run's PID 1 reaped and, if the slot holds more than a
 * residue (namespace.h), its memory given back, off the next run's path. */
static int make_ready(struct keeper_state *k, const char *rootfs, char *why, size_t n)
{
    if (k->ready > 0 && !strcmp(k->board->ready_for, rootfs))
        return 0;
    drop_ready(k);
    long long left;
    struct err e;   /* the launcher checks the charge itself before each run */
    if (k->cg->ops->charged(k->cg, &left, &e) < 0 || left > (long long)SLOT_RESIDUE_MB << 20)
        k->cg->ops->reclaim(k->cg, &left, &e);
    if (strlen(rootfs) >= sizeof k->board->ready_for || ensure_prepared(k, rootfs, why, n) < 0)
        return -1;
    if (!discard_stale_runs(k->runs))
        return snprintf(why, n, "the launcher has closed the runs socket"), -1;
    struct sandbox_birth birth = {.uid = k->slot.uid, .root_mnt = k->slot.root_mnt,
                                  .work_base = k->slot.work_base,
                                  .rootfs = rootfs[0] ? rootfs : NULL, .prepared = true,
                                  .sock = k->runs, .filter = k->slot.filter};
    pid_t pid;
    int pidfd;
    if (sandbox_spawn(&birth, -1, &pid, &pidfd, &e) < 0)
        return snprintf(why, n, "%.*s", (int)n - 1, e.msg), -1;
    close(pidfd);   /* the launcher opens its own */
    k->ready = pid;
    strcpy(k->board->ready_for, rootfs);
    atomic_store(&k->board->ready, pid);
    return 0;
}

/* KEEPER_NEXT (ROOTFS, no reply) and KEEPER_READY (ROOTFS, or none for
 * "any": the reply says which PID 1 waits). */
static void serve_one(struct keeper_state *k, const char *msg, size_t len)
{
    char why[300], rootfs[sizeof k->board->ready_for];
    int type = len > 0 ? msg[0] : 0;
    bool named = len >= 2 && msg[len - 1] == '\0';
    if (type != KEEPER_NEXT && type != KEEPER_READY)
        return;
    const char *want = named ? msg + 1 : k->ready > 0 ? k->board->ready_for : "";
    if (strlen(want) >= sizeof rootfs) {
        if (type == KEEPER_READY)
            send_reply(k->sock, 0, 0, "the root filesystem's path is too long");
        return;
    }
    strcpy(rootfs, want);
    reap_taken(k);
    int rc = make_ready(k, rootfs, why, sizeof why);
    if (type == KEEPER_NEXT)
        return;   /* a failure is said when a run asks (KEEPER_READY) and it fails again */
    if (rc < 0) {
        char text[400];
        snprintf(text, sizeof text, "cannot prepare the sandbox's root: %s", why);
        send_reply(k->sock, 0, 0, text);
        return;
    }
    send_reply(k->sock, 1, k->ready, "");
}

static _Noreturn void keeper_main(int sock, int runs, struct keeper_board *board,
                                  struct cgroup *cg, const struct keeper_slot *slot, pid_t parent)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);
    prctl(PR_SET_NAME, "assay-keeper");   /* what ps -o comm and top show */
    signal(SIGPIPE, SIG_IGN);   /* a PID 1 killed at birth must not take the keeper with it
                                   (each PID 1 sets its signals back to the default) */
    /* nothing of the launcher's (logs, job directories) stays open here */
    if (dup3(sock, 3, O_CLOEXEC) != 3 || dup3(runs, 4, O_CLOEXEC) != 4)
        _exit(1);
    syscall(SYS_close_range, 5, ~0U, 0);
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {
        if (write(adj, "-1000", 5) < 0) {
        }
        close(adj);
    }
    static struct keeper_state k;
    k.sock = 3;
    k.runs = 4;
    k.board = board;
    k.cg = cg;
    k.slot = *slot;
    /* the prepared tree lives here, out of the host's sight; private at
     * once, so that what it detaches stays attached in the host and what
     * the host mounts later (another slot's work tmpfs) never reaches
     * it, to be pinned here after the host has let it go */
    if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        _exit(1);   /* its launcher reports it gone */
    trim_namespace(slot->root_mnt);
    /* ignored when it fails (a kernel before 6.1): the runs' namespaces
     * then share the host's TCP table, as they did, and still work */
    (void)netns_keeper_enter();
    static char msg[8192];
    for (;;) {
        int fds[JOB_MAX_FDS], nfds;
        ssize_t n = wire_recv(k.sock, msg, sizeof msg - 1, fds, &nfds, 0);
        if (n <= 0) {   /* the launcher closed the socket: done, and no PID 1 outlives it */
            reap_taken(&k);
            drop_ready(&k);
            _exit(0);
        }
        for (int i = 0; i < nfds; i++)
            close(fds[i]);   /* none is expected */
        serve_one(&k, msg, (size_t)n);
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

static int socket_pair(int sv[2], struct err *e)
{
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return err_sys(e, "cannot create the keeper's sockets");
    int size = (int)JOB_WIRE_MAX + 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    return 0;
}

static void close_pair(int sv[2])
{
    close(sv[0]);
    close(sv[1]);
}

int keeper_start(struct keeper *k, struct cgroup *cg, const struct keeper_slot *slot,
                 struct err *e)
{
    int sv[2], rv[2];
    if (socket_pair(sv, e) < 0)
        return -1;
    if (socket_pair(rv, e) < 0) {
        close_pair(sv);
        return -1;
    }
    struct keeper_board *board = mmap(NULL, sizeof *board, PROT_READ | PROT_WRITE,
                                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t parent = getpid();
    int cg_fd = cg->ops->clone_fd(cg);
    pid_t pid = board == MAP_FAILED ? -1 : fork_into(cg_fd);
    if (pid < 0) {
        close_pair(sv);
        close_pair(rv);
        if (board != MAP_FAILED)
            munmap(board, sizeof *board);
        return err_sys(e, "cannot start the keeper");
    }
    if (pid == 0) {
        close(sv[0]);
        close(rv[0]);
        keeper_main(sv[1], rv[1], board, cg, slot, parent);
    }
    close(sv[1]);
    close(rv[1]);
    *k = (struct keeper){.pid = pid, .sock = sv[0], .runs = rv[0], .board = board,
                         .parent = parent};
    if (cg_fd < 0 && cg->ops->enter(cg, pid, e) < 0) {
        keeper_stop(k);
        return err_prefix(e, "cannot move the keeper into the slot's cgroup");
    }
    return 0;
}

static int read_reply(struct keeper *k, struct reply *r, struct err *e)
{
    int fds[JOB_MAX_FDS], nfds = 0;
    ssize_t n = wire_recv(k->sock, r, sizeof *r, fds, &nfds, 0);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    if (n != (ssize_t)sizeof *r)
        return err_set(e, "the sandbox keeper (pid %d) is gone", (int)k->pid);
    r->msg[sizeof r->msg - 1] = '\0';
    return 0;
}

/* Sends message TYPE with PAYLOAD (LEN bytes). */
static int keeper_send(struct keeper *k, int type, const char *payload, size_t len,
                       struct err *e)
{
    char msg[4200];
    if (len >= sizeof msg)
        return err_set(e, "the root filesystem's path is too long");
    msg[0] = (char)type;
    memcpy(msg + 1, payload, len);
    if (wire_send(k->sock, msg, len + 1, NULL, 0) < 0)
        return err_sys(e, "cannot reach the sandbox keeper");
    return 0;
}

/* Asks for a PID 1 ready for ROOTFS and waits until there is one. */
static int ask_ready(struct keeper *k, const char *rootfs, struct err *e)
{
    struct reply r;
    if (keeper_send(k, KEEPER_READY, rootfs, strlen(rootfs) + 1, e) < 0 ||
        read_reply(k, &r, e) < 0)
        return -1;
    if (r.ok != 1)
        return err_set(e, "%s", r.msg[0] ? r.msg : "the keeper could not make a PID 1");
    return 0;
}

/* Takes the PID 1 waiting for a run of ROOTFS, if the board shows one,
 * with a pidfd of ours for it.  0 if there is none. */
static pid_t take_ready(struct keeper *k, const char *rootfs, int *pidfd)
{
    pid_t p = atomic_load(&k->board->ready);
    if (p <= 0 || strcmp(k->board->ready_for, rootfs))
        return 0;
    *pidfd = (int)syscall(SYS_pidfd_open, p, 0);
    if (*pidfd < 0)
        return 0;
    pid_t want = p;
    if (!atomic_compare_exchange_strong(&k->board->ready, &want, 0)) {
        close(*pidfd);
        return 0;
    }
    return p;
}

int keeper_run(struct keeper *k, const struct sandbox_job *job, int *pidfd, pid_t *pid,
               struct err *e)
{
    const char *rootfs = job->rootfs ? job->rootfs : "";
    struct buf b = BUF_INIT;
    if (job_encode(job, &b, e) < 0) {
        buf_free(&b);
        return -1;
    }
    pid_t p = take_ready(k, rootfs, pidfd);
    if (!p && ask_ready(k, rootfs, e) == 0 && !(p = take_ready(k, rootfs, pidfd)))
        err_set(e, "the keeper's PID 1 for the run was gone before it could be taken");
    int fds[JOB_MAX_FDS];
    if (p && wire_send(k->runs, b.data, b.len, fds, job_fds(job, fds)) < 0) {
        err_sys(e, "cannot hand the run to its PID 1");
        close(*pidfd);
        p = 0;
    }
    buf_free(&b);
    *pid = p;
    return p ? 0 : -1;
}

int keeper_go(struct keeper *k, struct err *e)
{
    if (wire_send(k->runs, "g", 1, NULL, 0) < 0)
        return err_sys(e, "cannot tell the run's PID 1 to start");
    return 0;
}

int keeper_next(struct keeper *k, const char *rootfs, struct err *e)
{
    const char *r = rootfs ? rootfs : "";
    return keeper_send(k, KEEPER_NEXT, r, strlen(r) + 1, e);
}

void keeper_stop(struct keeper *k)
{
    pid_t w = -1;
    if (k->sock >= 0) {
        shutdown(k->sock, SHUT_RDWR);   /* for every copy: the keeper ends its PID 1s and exits */
        close(k->sock);
    }
    if (k->runs >= 0)
        close(k->runs);
    k->sock = k->runs = -1;
    if (k->pid > 0) {
        double until = clock_mono() + STOP_WAIT_S;
        while ((w = waitpid(k->pid, NULL, WNOHANG)) == 0 && clock_mono() < until)
            usleep(1000);
        if (w == 0)   /* stuck: its PID 1s die with it (PR_SET_PDEATHSIG) */
            end_child(k->pid);
    }
    k->pid = 0;
    if (k->board)
        munmap(k->board, sizeof *k->board);
    k->board = NULL;
}

/* Whether PID is alive: neither gone nor a zombie (a dead child its
 * parent has not reaped yet still answers kill(pid, 0)). */
static bool process_alive(pid_t pid)
{
    char state;
    pid_t parent;
    return launcher_proc_stat(pid, &state, &parent) == 0 && state != 'Z' && state != 'X';
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
    int status = 0;
    char how[64] = "";
    if (waitpid(was, &status, WNOHANG) == was)
        snprintf(how, sizeof how, WIFSIGNALED(status) ? " (killed by signal %d)" :
                 " (exit status %d)", WIFSIGNALED(status) ? WTERMSIG(status) :
                 WEXITSTATUS(status));
    k->pid = 0;   /* reaped: keeper_stop must not wait for it */
    keeper_stop(k);   /* closes its socket */
    if (keeper_start(k, cg, slot, e) < 0)
        return err_prefix(e, "the sandbox keeper (pid %d) died, and a new one cannot start",
                          (int)was);
    log_msg(LOG_WARN, NULL, "the sandbox keeper of %s (pid %d) had died%s; pid %d took its "
            "place", cg->path, (int)was, how, (int)k->pid);
    return 1;
}
