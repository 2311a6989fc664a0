/*
 * job_wire.c - a run on the wire, from the launcher to the keeper and on
 * to the PID 1 the keeper made ahead (keeper.c, pid1.c).
 *
 * A job travels as one SOCK_SEQPACKET message: a fixed head (limits,
 * counts, flags) and then its strings, each NUL-terminated (work
 * directory, command, root filesystem if any, the environment, each
 * bind's source, target and "w"/"r"); the pipes - out, err, report and
 * stdin if any - go beside as SCM_RIGHTS.  Decoding points into the
 * message, so the receiver keeps the message buffer while it uses the job.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

struct wire_head {
    struct run_limits limits;
    int32_t n_env, n_binds;
    uint8_t has_stdin, has_rootfs;
};

static void put_str(struct buf *b, const char *s)
{
    buf_append(b, s, strlen(s) + 1);
}

int job_encode(const struct sandbox_job *job, struct buf *b, struct err *e)
{
    struct wire_head h = {.limits = job->limits, .n_binds = job->n_binds,
                          .has_stdin = job->stdin_fd >= 0, .has_rootfs = job->rootfs != NULL};
    while (job->env[h.n_env])
        h.n_env++;
    if (h.n_env > JOB_MAX_ENV || h.n_binds > JOB_MAX_BINDS)
        return err_set(e, "the run has more than %d environment variables or %d binds",
                       JOB_MAX_ENV, JOB_MAX_BINDS);
    buf_append(b, &h, sizeof h);
    put_str(b, job->workdir);
    put_str(b, job->command);
    if (job->rootfs)
        put_str(b, job->rootfs);
    for (int i = 0; i < h.n_env; i++)
        put_str(b, job->env[i]);
    for (int i = 0; i < h.n_binds; i++) {
        put_str(b, job->binds[i].source);
        put_str(b, job->binds[i].target);
        put_str(b, job->binds[i].writable ? "w" : "r");
    }
    if (b->len > JOB_WIRE_MAX)
        return err_set(e, "the run's command and environment exceed %u bytes", JOB_WIRE_MAX);
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

static int decode_binds(const char **p, const char *end, int n, struct run_bind *binds)
{
    for (int i = 0; i < n; i++) {
        binds[i].source = take_str(p, end);
        binds[i].target = take_str(p, end);
        const char *w = take_str(p, end);
        if (!binds[i].source || !binds[i].target || !w)
            return -1;
        binds[i].writable = w[0] == 'w';
    }
    return 0;
}

int job_decode(const char *msg, size_t len, const int *fds, int nfds, struct sandbox_job *job,
               char **env, struct run_bind *binds)
{
    struct wire_head h;
    if (len < sizeof h)
        return -1;
    memcpy(&h, msg, sizeof h);
    if (h.n_env < 0 || h.n_env > JOB_MAX_ENV || h.n_binds < 0 || h.n_binds > JOB_MAX_BINDS ||
        nfds != 3 + (h.has_stdin != 0))
        return -1;
    const char *p = msg + sizeof h, *end = msg + len;
    memset(job, 0, sizeof *job);
    job->limits = h.limits;
    job->workdir = take_str(&p, end);
    job->command = take_str(&p, end);
    job->rootfs = h.has_rootfs ? take_str(&p, end) : NULL;
    for (int i = 0; i < h.n_env; i++)
        if (!(env[i] = (char *)take_str(&p, end)))
            return -1;
    env[h.n_env] = NULL;
    if (decode_binds(&p, end, h.n_binds, binds) < 0)
        return -1;
    job->env = env;
    job->binds = binds;
    job->n_binds = h.n_binds;
    job->out_fd = fds[0];
    job->err_fd = fds[1];
    job->report_fd = fds[2];
    job->stdin_fd = h.has_stdin ? fds[3] : -1;
    return job->workdir && job->command && (!h.has_rootfs || job->rootfs) ? 0 : -1;
}

int job_fds(const struct sandbox_job *job, int fds[JOB_MAX_FDS])
{
    fds[0] = job->out_fd;
    fds[1] = job->err_fd;
    fds[2] = job->report_fd;
    fds[3] = job->stdin_fd;
    return job->stdin_fd >= 0 ? 4 : 3;
}

ssize_t wire_send(int sock, const void *data, size_t len, const int *fds, int nfds)
{
    struct iovec iov = {(void *)data, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * JOB_MAX_FDS)];
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

ssize_t wire_recv(int sock, void *data, size_t len, int *fds, int *nfds, int flags)
{
    struct iovec iov = {data, len};
    union {
        char buf[CMSG_SPACE(sizeof(int) * JOB_MAX_FDS)];
        struct cmsghdr align;
    } u;
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    ssize_t n;
    do
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC | flags);
    while (n < 0 && errno == EINTR);
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); n >= 0 && c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            memcpy(fds, CMSG_DATA(c), sizeof(int) * (size_t)(k > JOB_MAX_FDS ? JOB_MAX_FDS : k));
            *nfds = k > JOB_MAX_FDS ? JOB_MAX_FDS : k;
        }
    return n;
}
