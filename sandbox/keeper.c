/*
 * keeper.c - where runs are born on a cgroup v1 host.
 *
 * cgroup v1 has no clone3(CLONE_INTO_CGROUP), and moving a process into
 * a cgroup can cost ~10 ms.  So the launcher forks a keeper once, moves
 * it into the slot's cgroups once, and from then on asks it for each run:
 * the job goes over a SOCK_SEQPACKET socket as one message (the strings,
 * serialised; the pipes as SCM_RIGHTS), the keeper clones the run's PID 1
 * (pid1.c) - which is born inside the keeper's cgroups - sends back a
 * pidfd for it, reaps it, and says so.  The keeper is exempt from the OOM
 * killer (oom_score_adj -1000; PID 1 resets its own) and dies with the
 * launcher (PR_SET_PDEATHSIG).
 *
 * The keeper also does once what every run would otherwise repeat: it
 * lives in a private mount namespace of its own where it builds the
 * read-only tree every run of the slot shares (rootfs.c; again only if a
 * run names another root filesystem), so each run, cloned with a new
 * mount namespace, starts from a copy of it and only adds its own parts.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
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
#include "common/log.h"
#include "sandbox/cgroup.h"

#define MSG_MAX (256u << 10)
#define MAX_ENV 256
#define MAX_BINDS 32

struct wire_head {
    struct run_limits limits;
    uint32_t uid;
    int32_t n_env, n_binds;
    uint8_t has_stdin, has_rootfs;
};

struct reply {
    int ok;                     /* 1 spawned, 2 reaped, 0 failed */
    char msg[400];
};

/* ---- the message ---- */

static void put_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s) + 1);
}

static int encode_job(const struct sandbox_job *job, struct buf *b, struct err *e)
{
    struct wire_head h = {.limits = job->limits, .uid = (uint32_t)job->uid,
                          .n_binds = job->n_binds, .has_stdin = job->stdin_fd >= 0,
                          .has_rootfs = job->rootfs != NULL};
    while (job->env[h.n_env])
        h.n_env++;
    if (h.n_env > MAX_ENV || h.n_binds > MAX_BINDS)
        return err_set(e, "the run has more than %d environment variables or %d binds",
                       MAX_ENV, MAX_BINDS);
    buf_append(b, &h, sizeof h);
    put_str(b, job->workdir);
    put_str(b, job->command);
    put_str(b, job->root_mnt);
    if (job->rootfs)
        put_str(b, job->rootfs);
    for (int i = 0; i < h.n_env; i++)
        put_str(b, job->env[i]);
    for (int i = 0; i < h.n_binds; i++) {
        put_str(b, job->binds[i].source);
        put_str(b, job->binds[i].target);
        put_str(b, job->binds[i].writable ? "w" : "r");
    }
    if (b->len > MSG_MAX)
        return err_set(e, "the run's command and environment exceed %u bytes", MSG_MAX);
    return 0;
}

/* Next NUL-terminated string of [*p, end), or NULL. */
static const char *take_str(const char **p, const char *end)
{
    const char *s = *p, *nul = s < end ? memchr(s, '\0', (size_t)(end - s)) : NULL;
    if (!nul)
        return NULL;
    *p = nul + 1;
    return s;
}

/* Decodes MSG into JOB; ENV and BINDS are the arrays it points into. */
static int decode_job(const char *msg, size_t len, struct sandbox_job *job, char **env,
                      struct run_bind *binds)
{
    struct wire_head h;
    if (len < sizeof h)
        return -1;
    memcpy(&h, msg, sizeof h);
    if (h.n_env < 0 || h.n_env > MAX_ENV || h.n_binds < 0 || h.n_binds > MAX_BINDS)
        return -1;
    const char *p = msg + sizeof h, *end = msg + len;
    job->limits = h.limits;
    job->uid = (uid_t)h.uid;
    job->workdir = take_str(&p, end);
    job->command = take_str(&p, end);
    job->root_mnt = take_str(&p, end);
    job->rootfs = h.has_rootfs ? take_str(&p, end) : NULL;
    for (int i = 0; i < h.n_env; i++)
        if (!(env[i] = (char *)take_str(&p, end)))
            return -1;
    env[h.n_env] = NULL;
    for (int i = 0; i < h.n_binds; i++) {
        binds[i].source = take_str(&p, end);
        binds[i].target = take_str(&p, end);
        const char *w = take_str(&p, end);
        if (!binds[i].source || !binds[i].target || !w)
            return -1;
        binds[i].writable = w[0] == 'w';
    }
    job->env = env;
    job->binds = binds;
    job->n_binds = h.n_binds;
    job->stdin_fd = h.has_stdin ? 0 : -1;   /* the fd itself comes beside */
    return job->workdir && job->command && job->root_mnt ? 0 : -1;
}

/* ---- fds over the socket ---- */

static ssize_t send_with_fds(int sock, const void *data, size_t len, const int *fds, int nfds)
{
    struct iovec iov = {(void *)data, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds > 0) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
    }
    ssize_t n;
    do
        n = sendmsg(sock, &m, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

/* Receives one message into DATA and up to 4 fds; returns its length. */
static ssize_t recv_with_fds(int sock, void *data, size_t len, int *fds, int *nfds)
{
    struct iovec iov = {data, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * 4)];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)(k > 4 ? 4 : k));
            *nfds = k > 4 ? 4 : k;
        }
    return n;
}

/* ---- in the keeper ---- */

static void send_reply(int sock, int ok, const char *msg, int fd)
{
    struct reply r = {.ok = ok};
    snprintf(r.msg, sizeof r.msg, "%.399s", msg);
    send_with_fds(sock, &r, sizeof r, &fd, fd >= 0 ? 1 : 0);
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

/* Detaches from the keeper's mount namespace what no run needs: /sys
 * (with its cgroup mounts) and the other slots' directories, of this
 * installation and any other.  Every run's clone copies this namespace
 * and tears its copy down again, so each mount left here costs each run;
 * and PID 1, before it pivots, sees less. */
static void trim_namespace(const char *root_mnt)
{
    char own[256], line[4096], point[4096];
    snprintf(own, sizeof own, "%.200s", root_mnt);
    char *slash = strrchr(own, '/');
    if (slash)
        slash[1] = '\0';   /* RUN_DIR/slot-N/ */
    /* a mount that stays costs each run a little; PID 1 pivots away from it all */
    umount2("/sys", MNT_DETACH);
    FILE *f = fopen("/proc/self/mountinfo", "re");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && in_some_slot(point) &&
            strncmp(point, own, strlen(own)))
            umount2(point, MNT_DETACH);
    if (f)
        fclose(f);
}

/* Which root filesystem the prepared tree is of ("" the host's). */
static char prepared_for[4096];
static bool have_prepared;

/* Makes sure the keeper's mount namespace holds the tree JOB needs.  The
 * binds are looked up as the run's uid (fsuid), as they were when each
 * run built its own root: root's privilege does not reach sources the
 * run's uid could not reach. */
static int ensure_prepared(const struct sandbox_job *job, char *why, size_t n)
{
    const char *want = job->rootfs ? job->rootfs : "";
    if (have_prepared && !strcmp(prepared_for, want))
        return 0;
    if (!have_prepared && !prepared_for[0])
        trim_namespace(job->root_mnt);   /* once, on the first run */
    have_prepared = false;
    setfsgid((gid_t)job->uid);
    setfsuid(job->uid);
    int rc = sandbox_rootfs_prepare(job->root_mnt, job->rootfs, why, n);
    setfsuid(0);
    setfsgid(0);
    if (rc < 0 || strlen(want) >= sizeof prepared_for)
        return -1;
    strcpy(prepared_for, want);
    have_prepared = true;
    return 0;
}

static struct netns_spare spare = {-1, -1};

/* Clones the run's PID 1 in the spare network namespace if there is one
 * (else PID 1 gets a new one from clone3), and makes the next spare. */
static int spawn_in_spare(struct sandbox_job *job, pid_t *pid, int *pidfd, struct err *e)
{
    job->net_ready = netns_spare_enter(&spare) == 0;
    int rc = sandbox_spawn(job, -1, pid, pidfd, e);
    if (job->net_ready)
        netns_spare_leave(&spare);
    return rc;
}

static void serve_one(int sock, const struct sock_fprog *filter, const char *msg, size_t len,
                      const int *fds, int nfds)
{
    static char *env[MAX_ENV + 1];
    static struct run_bind binds[MAX_BINDS];
    struct sandbox_job job = {0};
    if (decode_job(msg, len, &job, env, binds) < 0 || nfds != 3 + (job.stdin_fd >= 0)) {
        send_reply(sock, 0, "the keeper received a malformed job", -1);
        return;
    }
    job.out_fd = fds[0];
    job.err_fd = fds[1];
    job.report_fd = fds[2];
    job.stdin_fd = job.stdin_fd >= 0 ? fds[3] : -1;
    job.filter = filter;
    struct err e = {{0}};
    pid_t pid;
    int pidfd;
    char why[200];
    if (ensure_prepared(&job, why, sizeof why) < 0) {
        snprintf(e.msg, sizeof e.msg, "cannot prepare the sandbox's root: %s", why);
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        send_reply(sock, 0, e.msg, -1);
        return;
    }
    job.prepared = true;
    if (spawn_in_spare(&job, &pid, &pidfd, &e) < 0) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        send_reply(sock, 0, e.msg, -1);
        return;
    }
    send_reply(sock, 1, "", pidfd);
    close(pidfd);
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    send_reply(sock, 2, "", -1);
    /* the next run's network namespace, made while the launcher reads
     * this run's accounting and the grader works on its results: during
     * the run it would compete with it for the CPU */
    netns_spare_make(&spare);
}

static _Noreturn void keeper_main(int sock, const struct sock_fprog *filter, pid_t parent)
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
    /* the prepared tree lives here, out of the host's sight */
    /* NULL: the keeper exits below, and its launcher reports it gone */
    char *msg = unshare(CLONE_NEWNS) == 0 ? malloc(MSG_MAX) : NULL;
    netns_spare_init(&spare);
    for (;;) {
        int fds[4], nfds;
        ssize_t n = msg ? recv_with_fds(sock, msg, MSG_MAX, fds, &nfds) : -1;
        if (n <= 0)
            _exit(0);   /* the launcher closed the socket: done */
        serve_one(sock, filter, msg, (size_t)n, fds, nfds);
    }
}

/* ---- in the launcher ---- */

int keeper_start(struct keeper *k, struct cgroup *cg, const struct sock_fprog *filter,
                 struct err *e)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return err_sys(e, "cannot create the keeper's socket");
    int size = (int)MSG_MAX + 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return err_sys(e, "cannot start the keeper");
    }
    if (pid == 0) {
        close(sv[0]);
        keeper_main(sv[1], filter, parent);
    }
    close(sv[1]);
    k->pid = pid;
    k->sock = sv[0];
    k->parent = parent;
    if (cg->ops->enter(cg, pid, e) < 0) {
        keeper_stop(k);
        return err_prefix(e, "cannot move the keeper into the slot's cgroup");
    }
    return 0;
}

static int read_reply(struct keeper *k, struct reply *r, int *fd, struct err *e)
{
    int fds[4], nfds = 0;
    ssize_t n = recv_with_fds(k->sock, r, sizeof *r, fds, &nfds);
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

int keeper_spawn(struct keeper *k, const struct sandbox_job *job, int *pidfd, struct err *e)
{
    struct buf b = BUF_INIT;
    if (encode_job(job, &b, e) < 0) {
        buf_free(&b);
        return -1;
    }
    int fds[4] = {job->out_fd, job->err_fd, job->report_fd, job->stdin_fd};
    ssize_t n = send_with_fds(k->sock, b.data, b.len, fds, job->stdin_fd >= 0 ? 4 : 3);
    buf_free(&b);
    if (n < 0)
        return err_sys(e, "cannot reach the sandbox keeper");
    struct reply r;
    if (read_reply(k, &r, pidfd, e) < 0)
        return -1;
    if (r.ok != 1 || *pidfd < 0)
        return err_set(e, "%s", r.msg[0] ? r.msg : "the keeper could not start the run");
    return 0;
}

int keeper_wait_reaped(struct keeper *k, struct err *e)
{
    struct reply r;
    if (read_reply(k, &r, NULL, e) < 0)
        return -1;
    return r.ok == 2 ? 0 : err_set(e, "the keeper sent an unexpected reply");
}

void keeper_stop(struct keeper *k)
{
    if (k->sock >= 0)
        close(k->sock);
    k->sock = -1;
    if (k->pid > 0) {
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

int keeper_revive(struct keeper *k, struct cgroup *cg, const struct sock_fprog *filter,
                  struct err *e)
{
    if (k->pid <= 0 || process_alive(k->pid))
        return 0;
    pid_t was = k->pid;
    if (k->parent != getpid())
        return err_set(e, "the sandbox keeper (pid %d) is gone", (int)was);
    keeper_stop(k);   /* reaps it and closes its socket */
    if (keeper_start(k, cg, filter, e) < 0)
        return err_prefix(e, "the sandbox keeper (pid %d) died, and a new one cannot start",
                          (int)was);
    log_msg(LOG_WARN, NULL, "the sandbox keeper of %s (pid %d) had died; pid %d took its place",
            cg->path, (int)was, (int)k->pid);
    return 1;
}
