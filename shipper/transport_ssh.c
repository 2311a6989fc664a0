/*
 * transport_ssh.c - a worker on another machine, reached over SSH (libssh2).
 *
 * One authenticated session per shipper, kept open across jobs and
 * re-established with backoff (1 s doubling to 30 s) after a failure;
 * never a connection per operation.  The host key is checked against the
 * known_hosts file named in workers.json: an unknown or changed key is
 * refused with a sentence naming the host, the key's fingerprint and what
 * to do.  The host is asked for the key types known_hosts lists for it;
 * when it has none of them, the message names the line and the key it
 * does offer.  Only key authentication is tried.
 *
 *   push    SFTP upload to REMOTE/inbox/.NAME.part, then rename to NAME
 *   wait    an exec channel running `assay-worker wait`, which returns
 *           when the result is in the outbox and meanwhile prints, every
 *           second, the worker's free disk and its grading daemon's
 *           heartbeat (contract/heartbeat.h): each line goes to the
 *           listener; a daemon that stopped answering ends the wait at
 *           once; a channel silent for TRANSPORT_SILENT_S is a dead link:
 *           one new connection, and the wait ends if that fails too
 *   pull    SFTP download of REMOTE/outbox/NAME into memory (a memfd)
 *   forget  SFTP unlink of what is left
 *   probe   a file written in the inbox, then `assay-worker status`
 *           (version, free disk, the daemon's heartbeat)
 *
 * A push or probe that finds the session it kept open dead (a firewall
 * dropped it while idle, sshd's child was killed) opens a new one and
 * tries once more before it reports a failure.
 * Every network step has a time limit: connect 4 s, small calls (a
 * probe's, listing and removing files) 3 s, transfers 10 s.
 * A failed call is reported by its real cause: what the SFTP server
 * answered (permission denied, no such file, no space), or the session
 * lost (the connection broke, or no answer in time), never one as the
 * other.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/backoff.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "shipper/transport.h"
#include "contract/heartbeat.h"
#include "contract/worker_dir.h"

#define CONNECT_TIMEOUT_MS 4000
#define CALL_TIMEOUT_MS 10000
#define SILENT_MS ((int)(TRANSPORT_SILENT_S * 1000))   /* assay-worker wait speaks every second */
#define SSHD_ANSWERS "sshd answers"
#define BACKOFF_MAX_S 30.0
#define PULL_LIMIT (256ull << 20)

/* An SSH worker's keys in workers.json (docs/SPOOL.md, "workers.json"). */
static const char *const ssh_keys[] = {"host", "port", "user", "key", "known_hosts",
                                       "remote_dir", "worker_command", NULL};

struct ssh_config {
    const char *host, *user, *key, *known_hosts, *remote_dir, *command;
    int port;
};

struct ssh_transport {
    struct transport base;
    struct ssh_config cfg;          /* strings in the worker's workers.json entry */
    char *key, *pubkey, *known_hosts;   /* resolved against the spool root */
    const char *remote_dir, *command;
    int sock;
    LIBSSH2_SESSION *session;
    LIBSSH2_SFTP *sftp;
    int failures;                  /* sessions that failed to open in a row */
    double next_try;
    char last_error[1024];      /* why the last connection attempt failed */
};

static const char *host_of(const struct ssh_transport *t)
{
    return t->cfg.host;
}

/* ---- connection ---- */

/* Closes the session.  When the link may be dead, the socket is shut
 * down first, so libssh2's goodbyes fail at once instead of each waiting
 * out its timeout on a silent peer. */
static void disconnect_link(struct ssh_transport *t, bool dead)
{
    if (dead && t->sock >= 0)
        shutdown(t->sock, SHUT_RDWR);
    if (t->sftp)
        libssh2_sftp_shutdown(t->sftp);
    if (t->session) {
        if (!dead)
            libssh2_session_disconnect(t->session, "assay-shipper closing");
        libssh2_session_free(t->session);
    }
    if (t->sock >= 0)
        close(t->sock);
    t->sftp = NULL;
    t->session = NULL;
    t->sock = -1;
}

static void disconnect(struct ssh_transport *t)
{
    disconnect_link(t, false);
}

static int tcp_connect(struct ssh_transport *t, struct err *e)
{
    char port[16];
    snprintf(port, sizeof port, "%d", t->cfg.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host_of(t), port, &hints, &res);
    if (gai != 0)
        return err_set(e, "cannot resolve %s: %s", host_of(t), gai_strerror(gai));
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd p = {fd, POLLOUT, 0};
        int soerr = 0;
        socklen_t len = sizeof soerr;
        if (poll(&p, 1, CONNECT_TIMEOUT_MS) == 1 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
            rc = 0;
        else
            errno = soerr ? soerr : ETIMEDOUT;
    }
    if (rc < 0) {
        err_sys(e, "cannot connect to %s port %d", host_of(t), t->cfg.port);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* Left non-blocking: libssh2's blocking API then waits with poll and
     * honours the session timeout; on a blocking socket it would wait forever.
     * No Nagle: a job's round trip is a chain of small requests, and a small
     * write held back for the peer's delayed acknowledgement stalls each
     * link by tens of milliseconds. */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0)
        log_msg(LOG_WARN, NULL, "worker %s: cannot turn Nagle's algorithm off (%s); jobs "
                "may take tens of milliseconds longer", t->base.worker->name, strerror(errno));
    t->sock = fd;
    return 0;
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = tab[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = tab[v & 63];
    }
    out[o] = '\0';   /* no padding, as OpenSSH prints it */
}

static int knownhost_type(int type, const char **name)
{
    switch (type) {
    case LIBSSH2_HOSTKEY_TYPE_RSA: *name = "ssh-rsa"; return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: *name = "ecdsa-sha2-nistp256"; return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: *name = "ecdsa-sha2-nistp384"; return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
    case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: *name = "ecdsa-sha2-nistp521"; return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
    case LIBSSH2_HOSTKEY_TYPE_ED25519: *name = "ssh-ed25519"; return LIBSSH2_KNOWNHOST_KEY_ED25519;
    default: *name = "unknown"; return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
    }
}

static int verify_host_key(struct ssh_transport *t, struct err *e)
{
    size_t len;
    int type;
    const char *key = libssh2_session_hostkey(t->session, &len, &type);
    const char *hash = libssh2_hostkey_hash(t->session, LIBSSH2_HOSTKEY_HASH_SHA256);
    if (!key || !hash)
        return err_set(e, "%s sent no host key", host_of(t));
    char fp[64];
    base64((const unsigned char *)hash, 32, fp);
    const char *tname;
    int kbits = knownhost_type(type, &tname);
    LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(t->session);
    int rc = -1;
    if (!kh || libssh2_knownhost_readfile(kh, t->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
        err_set(e, "cannot read the known_hosts file %s for worker %s: create it with "
                "`ssh-keyscan -p %d %s >> %s` after checking the key on the host", t->known_hosts,
                t->base.worker->name, t->cfg.port, host_of(t), t->known_hosts);
    } else {
        struct libssh2_knownhost *found = NULL;
        int check = libssh2_knownhost_checkp(kh, host_of(t), t->cfg.port, key, len,
                                             LIBSSH2_KNOWNHOST_TYPE_PLAIN |
                                             LIBSSH2_KNOWNHOST_KEYENC_RAW | kbits, &found);
        if (check == LIBSSH2_KNOWNHOST_CHECK_MATCH)
            rc = 0;
        else if (check == LIBSSH2_KNOWNHOST_CHECK_MISMATCH)
            err_set(e, "REFUSED: the host key of worker %s (%s port %d) has CHANGED; it is now "
                    "%s SHA256:%s, which does not match %s. If the host was reinstalled, check "
                    "the new fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) "
                    "and replace its line in %s; otherwise the connection may be intercepted",
                    t->base.worker->name, host_of(t), t->cfg.port, tname, fp,
                    t->known_hosts, t->known_hosts);
        else
            err_set(e, "REFUSED: the host key of worker %s (%s port %d), %s SHA256:%s, is not in "
                    "%s. Check the fingerprint on the host (ssh-keygen -lf "
                    "/etc/ssh/ssh_host_*_key.pub), then add it with `ssh-keyscan -p %d %s >> %s`",
                    t->base.worker->name, host_of(t), t->cfg.port, tname, fp,
                    t->known_hosts, t->cfg.port, host_of(t), t->known_hosts);
    }
    if (kh)
        libssh2_knownhost_free(kh);
    return rc;
}

/* The host key algorithms known_hosts holds for this host, in the order
 * of its lines ("ssh-ed25519,ecdsa-sha2-nistp256"), or NULL; WHERE gets
 * its lines ("line 3, ecdsa-sha2-nistp256").  libssh2 would otherwise ask
 * for its own favourite (ECDSA), and a known_hosts with only the ed25519
 * key would be refused. */
static char *known_key_types(const struct ssh_transport *t, struct buf *where)
{
    struct buf b = BUF_INIT, pats = BUF_INIT;
    struct err e;   /* verify_host_key says so when known_hosts cannot be read */
    char bracket[300];
    snprintf(bracket, sizeof bracket, "[%s]:%d", host_of(t), t->cfg.port);
    const char *want = t->cfg.port == 22 ? host_of(t) : bracket;
    if (fs_read_file(t->known_hosts, 1u << 20, &b, &e) == 0) {
        char *line = b.data;
        for (int n = 1; line && *line; n++) {
            char *next = strchr(line, '\n');
            if (next)
                *next++ = '\0';
            char hosts[1024], type[128];
            bool match = false;
            if (line[0] != '#' && sscanf(line, "%1023s %127s", hosts, type) == 2)
                for (char *h = strtok(hosts, ","); h && !match; h = strtok(NULL, ","))
                    match = !strcmp(h, want);
            if (match)
                buf_printf(where, "%sline %d, %s", where->len ? "; " : "", n, type);
            if (match && !strstr(buf_str(&pats), type)) {
                if (!strcmp(type, "ssh-rsa"))
                    buf_printf(&pats, "%srsa-sha2-512,rsa-sha2-256,ssh-rsa", pats.len ? "," : "");
                else
                    buf_printf(&pats, "%s%s", pats.len ? "," : "", type);
            }
            line = next;
        }
    }
    buf_free(&b);
    return pats.len ? buf_steal(&pats) : (buf_free(&pats), NULL);
}

/* ssh-keyscan's name for a host key type ("ed25519" for "ssh-ed25519"). */
static const char *keyscan_type(const char *tname)
{
    if (!strncmp(tname, "ecdsa", 5))
        return "ecdsa";
    return !strncmp(tname, "ssh-", 4) ? tname + 4 : tname;
}

/* The handshake failed while asking only for the key types known_hosts
 * lists for this host (WHERE).  A second handshake with libssh2's own
 * choice learns which key the host does offer, only to name it and its
 * fingerprint in the message: that key is trusted for nothing. */
static int hostkey_type_error(struct ssh_transport *t, const char *where, struct err *e)
{
    char *msg = NULL, why[256];
    libssh2_session_last_error(t->session, &msg, NULL, 0);
    snprintf(why, sizeof why, "%s", msg ? msg : "unknown error");
    disconnect(t);
    struct err ignored;   /* not reached again: the message below says what is known */
    const char *key = NULL, *hash = NULL, *tname = NULL;
    size_t len;
    int type;
    if (tcp_connect(t, &ignored) == 0 && (t->session = libssh2_session_init())) {
        libssh2_session_set_blocking(t->session, 1);
        libssh2_session_set_timeout(t->session, CALL_TIMEOUT_MS);
        if (libssh2_session_handshake(t->session, t->sock) == 0) {
            key = libssh2_session_hostkey(t->session, &len, &type);
            hash = libssh2_hostkey_hash(t->session, LIBSSH2_HOSTKEY_HASH_SHA256);
        }
    }
    if (!key || !hash)
        return err_set(e, "SSH handshake failed (worker %s, %s): %s. %s lists for this host "
                       "only %s: if the host has no key of that type, check its fingerprint on "
                       "the host (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub) and replace the "
                       "line with the output of `ssh-keyscan -p %d %s`", t->base.worker->name,
                       host_of(t), why, t->known_hosts, where, t->cfg.port, host_of(t));
    char fp[64];
    base64((const unsigned char *)hash, 32, fp);
    knownhost_type(type, &tname);
    return err_set(e, "REFUSED: worker %s (%s port %d) has no host key of the type %s lists "
                   "for it (%s); it offers %s SHA256:%s. Check that fingerprint on the host "
                   "(ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub), then replace the line with the "
                   "output of `ssh-keyscan -t %s -p %d %s`", t->base.worker->name, host_of(t),
                   t->cfg.port, t->known_hosts, where, tname, fp, keyscan_type(tname),
                   t->cfg.port, host_of(t));
}

static int session_error(struct ssh_transport *t, struct err *e, const char *what)
{
    char *msg = NULL;
    libssh2_session_last_error(t->session, &msg, NULL, 0);
    return err_set(e, "%s (worker %s, %s): %s", what, t->base.worker->name, host_of(t),
                   msg ? msg : "unknown error");
}

/* The SFTP server's status codes, in words (draft-ietf-secsh-filexfer-13). */
static const char *sftp_status_words(unsigned long fx)
{
    switch (fx) {
    case LIBSSH2_FX_NO_SUCH_FILE: return "no such file";
    case LIBSSH2_FX_NO_SUCH_PATH: return "no such path";
    case LIBSSH2_FX_PERMISSION_DENIED: return "permission denied";
    case LIBSSH2_FX_WRITE_PROTECT: return "the file system is read-only";
    case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: return "no space left on the file system";
    case LIBSSH2_FX_QUOTA_EXCEEDED: return "the quota is exceeded";
    case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "the file exists already";
    case LIBSSH2_FX_NOT_A_DIRECTORY: return "not a directory";
    case LIBSSH2_FX_OP_UNSUPPORTED: return "operation not supported";
    case LIBSSH2_FX_FAILURE: return "failure (a full disk, for one, is reported so)";
    default: return "an error";
    }
}

/* The session failed under a call (not the server saying no): why, in
 * words, from libssh2's code CODE and message MSG. */
static const char *lost_words(int code, const char *msg, char *out, size_t n)
{
    const char *why;
    switch (code) {
    case LIBSSH2_ERROR_TIMEOUT: why = "no answer in time"; break;
    case LIBSSH2_ERROR_SOCKET_SEND: why = "the connection broke while sending"; break;
    case LIBSSH2_ERROR_SOCKET_RECV: why = "the connection broke while receiving"; break;
    case LIBSSH2_ERROR_SOCKET_DISCONNECT: why = "the connection was closed"; break;
    case LIBSSH2_ERROR_CHANNEL_CLOSED: case LIBSSH2_ERROR_CHANNEL_EOF_SENT:
        why = "the channel was closed"; break;
    default: why = "the session failed"; break;
    }
    snprintf(out, n, "%s (libssh2: %s)", why, msg && *msg ? msg : "no message");
    return out;
}

/* True when the last call failed because the SFTP server said no (its
 * status in *FX), false when the session itself failed. */
static bool sftp_refused(struct ssh_transport *t, unsigned long *fx)
{
    *fx = 0;
    if (!t->session || !t->sftp ||
        libssh2_session_last_errno(t->session) != LIBSSH2_ERROR_SFTP_PROTOCOL)
        return false;
    *fx = libssh2_sftp_last_error(t->sftp);
    return true;
}

/* Why WHAT failed on the open session, by its real cause. */
static int call_error(struct ssh_transport *t, struct err *e, const char *what)
{
    unsigned long fx;
    if (sftp_refused(t, &fx))
        return err_set(e, "%s on worker %s: the SFTP server says: %s", what,
                       t->base.worker->name, sftp_status_words(fx));
    char *msg = NULL, why[600];
    int code = t->session ? libssh2_session_last_error(t->session, &msg, NULL, 0) : 0;
    return err_set(e, "%s: lost the SSH session with worker %s (%s): %s", what,
                   t->base.worker->name, host_of(t), lost_words(code, msg, why, sizeof why));
}

static int open_session(struct ssh_transport *t, struct err *e)
{
    if (tcp_connect(t, e) < 0)
        return -1;
    if (!(t->session = libssh2_session_init()))
        return err_set(e, "cannot start an SSH session with worker %s: out of memory",
                       t->base.worker->name);
    libssh2_session_set_blocking(t->session, 1);
    libssh2_session_set_timeout(t->session, CALL_TIMEOUT_MS);
    struct buf where = BUF_INIT;
    char *types = known_key_types(t, &where);
    if (types)
        libssh2_session_method_pref(t->session, LIBSSH2_METHOD_HOSTKEY, types);
    int rc = libssh2_session_handshake(t->session, t->sock);
    if (rc == LIBSSH2_ERROR_KEX_FAILURE && types)   /* no method in common: maybe the host key */
        rc = hostkey_type_error(t, buf_str(&where), e);
    else if (rc != 0)
        rc = session_error(t, e, "SSH handshake failed");
    free(types);
    buf_free(&where);
    if (rc != 0)
        return -1;
    if (verify_host_key(t, e) < 0)
        return -1;
    const char *user = t->cfg.user;
    if (libssh2_userauth_publickey_fromfile(t->session, user, t->pubkey, t->key, NULL) != 0)
        return session_error(t, e, "key authentication failed");
    if (!(t->sftp = libssh2_sftp_init(t->session)))
        return session_error(t, e, "cannot start SFTP");
    return 0;
}

/* Makes sure a session is up; between failed attempts it waits its backoff. */
static int ensure(struct ssh_transport *t, struct err *e)
{
    if (t->session && t->sftp)
        return 0;
    double now = clock_mono();
    if (now < t->next_try)   /* backing off: the reason is still the last one */
        return err_set(e, "%s", t->last_error);
    disconnect(t);
    if (open_session(t, e) == 0) {
        if (t->failures > 0)
            log_msg(LOG_INFO, NULL, "connected to worker %s again", t->base.worker->name);
        t->failures = 0;
        return 0;
    }
    disconnect(t);
    snprintf(t->last_error, sizeof t->last_error, "%s", e->msg);
    t->next_try = clock_mono() + backoff_delay(++t->failures, 1, BACKOFF_MAX_S);
    return -1;
}

/* After a failed call: drop the session unless the server simply said no. */
static void after_failure(struct ssh_transport *t)
{
    if (!t->session)
        return;
    int code = libssh2_session_last_errno(t->session);
    if (code != LIBSSH2_ERROR_SFTP_PROTOCOL)
        disconnect_link(t, true);
}


/* ---- remote commands ---- */

static char *quote(const char *s)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "'");
    for (; *s; s++)
        buf_puts(&b, *s == '\'' ? "'\\''" : (char[]){*s, 0});
    buf_puts(&b, "'");
    return buf_steal(&b);
}

/* How a command's standard output is read: all of it into OUT (at most
 * 1 MB), or line by line by LINE, which returns 0 to read on, 1 when the
 * answer is complete, -1 to stop (with why in *e). */
struct remote_lines {
    int (*line)(void *ctx, const char *line, struct err *e);
    void *ctx;
    bool heard;                 /* a line came */
};

enum { REMOTE_DONE = 0, REMOTE_LOST = -1, REMOTE_STOPPED = -2 };

/* Hands each whole line of PENDING to L (the rest stays for the next
 * chunk); lines L does not know go to OUT, for the error message. */
static int take_lines(struct buf *pending, struct remote_lines *l, struct buf *out,
                      bool *done, struct err *e)
{
    char *start = pending->data, *end = pending->data + pending->len, *nl;
    int rc = 0;
    while (rc == 0 && start < end && (nl = memchr(start, '\n', (size_t)(end - start)))) {
        *nl = '\0';
        l->heard = true;
        rc = l->line(l->ctx, start, e);
        if (rc == 0 && strncmp(start, "waiting", 7) && out->len < 4096)
            buf_printf(out, "%s\n", start);
        start = nl + 1;
    }
    size_t rest = (size_t)(end - start);
    memmove(pending->data, start, rest);
    pending->len = rest;
    if (rest < (1u << 16))
        pending->data[rest] = '\0';
    else
        pending->len = 0;   /* a line this long is no line of ours */
    *done = rc == 1;
    return rc < 0 ? REMOTE_STOPPED : 0;
}

/* The channel said nothing for SILENCE_MS, or the session failed under
 * it: why, in *e. */
static int remote_lost(struct ssh_transport *t, int code, int silence_ms, struct err *e)
{
    if (code == LIBSSH2_ERROR_TIMEOUT || code == 0)
        return err_set(e, "lost the link to worker %s (%s): it said nothing for %.0f s",
                       t->base.worker->name, host_of(t), silence_ms / 1000.0);
    return call_error(t, e, "the command on the worker was cut off");
}

/* Runs CMD on the worker, its output read as LINES says (NULL: all into
 * OUT).  REMOTE_DONE with its exit status in *EXIT_CODE (0 when the
 * answer was complete before it exited), REMOTE_STOPPED when LINES said
 * stop, REMOTE_LOST when the session failed or the channel was silent
 * for SILENCE_MS: the session is dropped then. */
static int run_remote(struct ssh_transport *t, const char *cmd, int silence_ms,
                      struct remote_lines *lines, struct buf *out, int *exit_code, struct err *e)
{
    *exit_code = -1;
    LIBSSH2_CHANNEL *ch = libssh2_channel_open_session(t->session);
    if (!ch) {
        call_error(t, e, "cannot start a command on the worker");
        after_failure(t);
        return REMOTE_LOST;
    }
    /* stderr is not read: left in the window it would hold back stdout's EOF */
    libssh2_channel_handle_extended_data2(ch, LIBSSH2_CHANNEL_EXTENDED_DATA_IGNORE);
    libssh2_session_set_timeout(t->session, silence_ms);
    int rc = libssh2_channel_exec(ch, cmd) == 0 ? REMOTE_DONE : REMOTE_LOST;
    int code = rc == REMOTE_DONE ? 0 : libssh2_session_last_errno(t->session);
    bool done = false;
    struct buf pending = BUF_INIT;
    char chunk[4096];
    while (rc == REMOTE_DONE && !done) {
        ssize_t n = libssh2_channel_read(ch, chunk, sizeof chunk);
        if (n > 0 && !lines) {
            if (out->len < (1u << 20))
                buf_append(out, chunk, (size_t)n);
        } else if (n > 0) {
            buf_append(&pending, chunk, (size_t)n);
            rc = take_lines(&pending, lines, out, &done, e);
        } else if (n == 0 && libssh2_channel_eof(ch)) {
            break;
        } else if (n == 0) {
            /* nothing yet but not the end: wait for the socket, not a spin */
            struct pollfd p = {t->sock, POLLIN, 0};
            if (poll(&p, 1, silence_ms) <= 0)
                rc = REMOTE_LOST;   /* code 0: silence */
        } else {
            rc = REMOTE_LOST;
            code = (int)n;
        }
    }
    buf_free(&pending);
    libssh2_session_set_timeout(t->session, CALL_TIMEOUT_MS);
    if (rc == REMOTE_LOST) {
        remote_lost(t, code, silence_ms, e);
        disconnect_link(t, true);   /* a silent link: start afresh (frees the channel) */
        return REMOTE_LOST;
    }
    libssh2_channel_close(ch);
    if (rc == REMOTE_DONE && !done)   /* a complete answer says all; else the exit status */
        libssh2_channel_wait_closed(ch);
    if (rc == REMOTE_DONE)
        *exit_code = done ? 0 : libssh2_channel_get_exit_status(ch);
    libssh2_channel_free(ch);
    return rc;
}

/* ---- the transport operations ---- */

/* 1 when PATH is on the worker, 0 when the server says it is not, -1
 * (with *e set) when the session failed. */
static int remote_exists(struct ssh_transport *t, const char *path, struct err *e)
{
    LIBSSH2_SFTP_ATTRIBUTES a;
    unsigned long fx;
    if (libssh2_sftp_lstat(t->sftp, path, &a) == 0)
        return 1;
    if (sftp_refused(t, &fx))
        return 0;
    return call_error(t, e, "cannot look for the job on the worker");
}

static int upload(struct ssh_transport *t, int in, const char *path, struct err *e)
{
    LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_open(t->sftp, path, LIBSSH2_FXF_WRITE |
                                               LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
    int rc = h ? 0 : call_error(t, e, "cannot create the job on the worker");
    char chunk[32768];
    ssize_t n = 0;
    for (off_t at = 0; rc == 0 && (n = pread(in, chunk, sizeof chunk, at)) > 0; at += n)
        for (ssize_t off = 0; rc == 0 && off < n;) {
            ssize_t w = libssh2_sftp_write(h, chunk + off, (size_t)(n - off));
            if (w < 0)
                rc = call_error(t, e, "cannot upload the job");
            else
                off += w;
        }
    if (rc == 0 && n < 0)   /* else half a job would be delivered as the whole */
        rc = err_sys(e, "cannot read the job archive");
    if (h && libssh2_sftp_close(h) != 0 && rc == 0)
        rc = call_error(t, e, "cannot upload the job");
    return rc;
}

static int push_once(struct ssh_transport *t, int fd, const char *name, struct err *e)
{
    if (ensure(t, e) < 0)
        return -1;
    const char *subs[] = {WORKER_INBOX, WORKER_ACTIVE, WORKER_OUTBOX};
    for (int i = 0; i < 3; i++) {
        char *p = worker_path(t->remote_dir, subs[i], name);
        if (!p)
            return err_set(e, "out of memory");
        int there = remote_exists(t, p, e);
        free(p);
        if (there < 0)
            after_failure(t);
        if (there != 0)
            return there > 0 ? 0 : -1;
    }
    char *tmp = worker_part_path(t->remote_dir, WORKER_INBOX, name);
    char *final = worker_path(t->remote_dir, WORKER_INBOX, name);
    if (!tmp || !final) {
        free(tmp);
        free(final);
        return err_set(e, "out of memory");
    }
    int rc = upload(t, fd, tmp, e);
    if (rc == 0 && libssh2_sftp_rename_ex(t->sftp, tmp, (unsigned)strlen(tmp), final,
                                          (unsigned)strlen(final),
                                          LIBSSH2_SFTP_RENAME_ATOMIC | LIBSSH2_SFTP_RENAME_NATIVE) != 0)
        rc = call_error(t, e, "cannot put the job in the worker's inbox");
    if (rc < 0)
        after_failure(t);
    free(tmp);
    free(final);
    return rc;
}

/* Runs OP(T, ARG, E); when it failed because the session it found open
 * had died (an idle session a firewall dropped, sshd's child killed),
 * once more, on a new session: a lost session is no outage. */
static int on_live_session(struct ssh_transport *t,
                           int (*op)(struct ssh_transport *t, void *arg, struct err *e),
                           void *arg, struct err *e)
{
    bool reused = t->session != NULL;
    int rc = op(t, arg, e);
    if (rc < 0 && reused && !t->session) {
        log_msg(LOG_WARN, NULL, "%s; connecting again", e->msg);
        rc = op(t, arg, e);
    }
    return rc;
}

struct push_args {
    int fd;
    const char *name;
};

static int push_op(struct ssh_transport *t, void *arg, struct err *e)
{
    const struct push_args *a = arg;
    return push_once(t, a->fd, a->name, e);
}

static int ssh_push(struct transport *base, int fd, const char *name, struct err *e)
{
    struct push_args a = {fd, name};
    return on_live_session((struct ssh_transport *)base, push_op, &a, e);
}

/* What `assay-worker wait` says, line by line. */
struct wait_lines {
    struct ssh_transport *t;
    const struct transport_listener *listener;
    bool ready, timeout;
};

static int wait_line(void *ctx, const char *line, struct err *e)
{
    struct wait_lines *w = ctx;
    if (!strcmp(line, "ready"))
        return w->ready = true, 1;
    if (!strcmp(line, "timeout"))
        return w->timeout = true, 1;
    if (strncmp(line, "waiting", 7))
        return 0;
    json_t *info = json_loads(line + 7, 0, NULL);   /* none: an older worker's bare beat */
    struct heartbeat hb;
    heartbeat_from_json(json_object_get(info, "daemon"), &hb);
    int rc = 0;
    if (info && heartbeat_check(&hb, w->t->base.worker->name, w->t->remote_dir, SSHD_ANSWERS,
                                e) < 0)
        rc = -1;
    else if (info && w->listener)
        w->listener->heard(w->listener->ctx, info);
    json_decref(info);
    return rc;
}

/* One `assay-worker wait` of at most LEFT seconds: 1 ready, 0 not yet
 * (its own timeout), -1 with *e set; *LOST says the link failed under it
 * (worth a new connection), *HEARD that the worker had spoken first. */
static int wait_once(struct ssh_transport *t, const char *qdir, const char *qname, double left,
                     const struct transport_listener *listener, bool *lost, bool *heard,
                     struct err *e)
{
    char *cmd = NULL;
    *lost = *heard = false;
    if (asprintf(&cmd, "%s wait --dir %s --timeout %.3f %s", t->command, qdir, left, qname) < 0)
        return err_set(e, "out of memory");
    struct wait_lines w = {.t = t, .listener = listener};
    struct remote_lines lines = {.line = wait_line, .ctx = &w};
    struct buf out = BUF_INIT;
    int code, rc = run_remote(t, cmd, SILENT_MS, &lines, &out, &code, e);
    int ready = -1;
    if (rc == REMOTE_LOST)
        *lost = true, *heard = lines.heard;
    else if (rc == REMOTE_STOPPED)
        ready = -1;   /* the daemon stopped answering: *e says so */
    else if (w.ready)
        ready = 1;
    else if (w.timeout)
        ready = 0;
    else if (code == 127)
        err_set(e, "worker %s has no %s (exit status 127): install it or set "
                "\"worker_command\" in workers.json", t->base.worker->name, t->command);
    else
        err_set(e, "`%s wait` on worker %s failed (exit status %d): %.200s", t->command,
                t->base.worker->name, code, buf_str(&out));
    buf_free(&out);
    free(cmd);
    return ready;
}

/* Waits, hearing the worker every second.  A link that fails gets a new
 * connection at once -- a session sshd lost is no outage -- but one that
 * cannot be made, a second failure before the worker said a word, or a
 * daemon that stopped answering, ends the wait: the job goes elsewhere
 * now, not at its deadline. */
static int ssh_wait(struct transport *base, const char *name, double timeout_s,
                    const struct transport_listener *listener, struct err *e)
{
    struct ssh_transport *t = (struct ssh_transport *)base;
    double deadline = clock_mono() + timeout_s;
    char *qdir = quote(t->remote_dir), *qname = quote(name);
    int ready = -1;
    bool lost_silent = false;   /* the last connection failed before the worker spoke */
    struct err lost_why = {{0}};
    if (!qdir || !qname)
        err_set(e, "out of memory");
    while (qdir && qname) {
        if (deadline - clock_mono() <= 0) {
            ready = 0;
            break;
        }
        if (ensure(t, e) < 0) {
            if (lost_why.msg[0])
                err_set(e, "%s; connecting again failed: %s", lost_why.msg, t->last_error);
            break;
        }
        bool lost, heard;
        ready = wait_once(t, qdir, qname, deadline - clock_mono(), listener, &lost, &heard, e);
        if (ready == 1 || (ready == -1 && !lost) || (ready == -1 && !heard && lost_silent))
            break;
        if (ready == -1) {   /* lost: connect again */
            log_msg(LOG_WARN, NULL, "%s; connecting again", e->msg);
            lost_why = *e;
            lost_silent = !heard;
        }
    }
    free(qdir);
    free(qname);
    return ready;
}

static int ssh_pull(struct transport *base, const char *name, int *fd, struct err *e)
{
    struct ssh_transport *t = (struct ssh_transport *)base;
    if (ensure(t, e) < 0)
        return -1;
    char *src = worker_path(t->remote_dir, WORKER_OUTBOX, name);
    if (!src)
        return err_set(e, "out of memory");
    LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_open(t->sftp, src, LIBSSH2_FXF_READ, 0);
    free(src);
    if (!h) {
        call_error(t, e, "cannot read the result on the worker");
        after_failure(t);
        return -1;
    }
    /* in memory: a result is bounded (PULL_LIMIT) and read once */
    int out = memfd_create(name, MFD_CLOEXEC);
    int rc = out < 0 ? err_sys(e, "cannot make room for the result %s", name) : 0;
    unsigned long long total = 0;
    char chunk[32768];
    ssize_t n;
    while (rc == 0 && (n = libssh2_sftp_read(h, chunk, sizeof chunk)) != 0) {
        if (n < 0)
            rc = call_error(t, e, "cannot download the result");
        else if ((total += (unsigned long long)n) > PULL_LIMIT)
            rc = err_set(e, "the result of %s on worker %s is larger than %llu MB", name,
                         base->worker->name, PULL_LIMIT >> 20);
        else if (write(out, chunk, (size_t)n) != n)
            rc = err_sys(e, "cannot keep the result %s", name);
    }
    libssh2_sftp_close(h);
    if (rc < 0) {
        if (out >= 0)
            close(out);
        after_failure(t);
        return -1;
    }
    *fd = out;
    return 0;
}

/* Small calls (a probe, listing and removing files) get the time limit
 * of a wait's silence: a worker answers them in milliseconds, and an idle
 * shipper must not sit out a long timeout on a dead link before its next
 * probe sees it.  Transfers keep CALL_TIMEOUT_MS. */
static void small_calls(struct ssh_transport *t, bool on)
{
    if (t->session)
        libssh2_session_set_timeout(t->session, on ? SILENT_MS : CALL_TIMEOUT_MS);
}

static void ssh_forget(struct transport *base, const char *name, bool finished)
{
    (void)finished;   /* the worker's daemon finishes or drops what it has begun */
    struct ssh_transport *t = (struct ssh_transport *)base;
    struct err e;   /* no link: what is left is tidied once it is back (shipper_drop_stale) */
    if (ensure(t, &e) < 0)
        return;
    small_calls(t, true);
    const char *subs[] = {WORKER_INBOX, WORKER_OUTBOX};
    unsigned long fx;
    for (int i = 0; i < 2 && t->session; i++) {
        char *p = worker_path(t->remote_dir, subs[i], name);
        /* fails where NAME is not: it is in one of the two at most */
        if (p && libssh2_sftp_unlink(t->sftp, p) != 0 && !sftp_refused(t, &fx))
            after_failure(t);   /* the session is lost: the next call opens another */
        free(p);
    }
    small_calls(t, false);
}

static char **ssh_results(struct transport *base)
{
    struct ssh_transport *t = (struct ssh_transport *)base;
    struct err e;   /* no link: nothing to tidy now; the probe reports the link */
    char **names = calloc(1, sizeof *names);
    if (!names || ensure(t, &e) < 0)
        return names;
    char *dir = worker_path(t->remote_dir, WORKER_OUTBOX, NULL);
    if (!dir)
        return names;
    small_calls(t, true);
    LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_opendir(t->sftp, dir);
    free(dir);
    size_t n = 0;
    char entry[512];
    LIBSSH2_SFTP_ATTRIBUTES a;
    while (h && libssh2_sftp_readdir(h, entry, sizeof entry, &a) > 0) {
        if (entry[0] == '.')
            continue;
        char **grown = realloc(names, (n + 2) * sizeof *names);
        if (grown)
            names = grown;
        if (!grown || !(names[n] = strdup(entry))) {
            log_msg(LOG_WARN, NULL, "out of memory listing the results on worker %s; the rest "
                    "is tidied next time", base->worker->name);
            break;
        }
        names[++n] = NULL;
    }
    if (h)
        libssh2_sftp_closedir(h);
    else
        after_failure(t);
    small_calls(t, false);
    return names;
}

/* Can the shipper's account write to the inbox?  Only the SFTP server's
 * "permission denied" makes it a question of owners; a session that died
 * is reported as lost. */
static int check_inbox(struct ssh_transport *t, struct err *e)
{
    char *probe = worker_path(t->remote_dir, WORKER_INBOX, ".assay-probe");
    if (!probe)
        return err_set(e, "out of memory");
    LIBSSH2_SFTP_HANDLE *h = libssh2_sftp_open(t->sftp, probe, LIBSSH2_FXF_WRITE |
                                               LIBSSH2_FXF_CREAT | LIBSSH2_FXF_TRUNC, 0644);
    int rc = 0;
    unsigned long fx;
    if (!h && sftp_refused(t, &fx) && (fx == LIBSSH2_FX_PERMISSION_DENIED ||
                                       fx == LIBSSH2_FX_WRITE_PROTECT)) {
        rc = err_set(e, "user %s cannot write to %s/inbox on worker %s (the SFTP server says: "
                     "%s): fix its owner (scripts/deploy-worker.sh does this)", t->cfg.user,
                     t->remote_dir, t->base.worker->name, sftp_status_words(fx));
    } else if (!h && sftp_refused(t, &fx) && (fx == LIBSSH2_FX_NO_SUCH_FILE ||
                                              fx == LIBSSH2_FX_NO_SUCH_PATH)) {
        rc = err_set(e, "worker %s has no %s/inbox (the SFTP server says: %s): check "
                     "\"remote_dir\" in workers.json, or rerun scripts/deploy-worker.sh",
                     t->base.worker->name, t->remote_dir, sftp_status_words(fx));
    } else if (!h) {
        rc = call_error(t, e, "the inbox check failed");
    } else {
        libssh2_sftp_close(h);
        libssh2_sftp_unlink(t->sftp, probe);   /* a hidden name, written afresh each probe */
    }
    if (rc < 0)
        after_failure(t);
    free(probe);
    return rc;
}

/* `assay-worker status`, and what it says of the daemon. */
static int status_of(struct ssh_transport *t, json_t **info, struct err *e)
{
    char *qdir = quote(t->remote_dir), *cmd = NULL;
    struct buf out = BUF_INIT;
    int code = -1, rc = -1;
    if (!qdir || asprintf(&cmd, "%s status --dir %s", t->command, qdir) < 0) {
        cmd = NULL;
        err_set(e, "out of memory");
    } else if (run_remote(t, cmd, SILENT_MS, NULL, &out, &code, e) == REMOTE_DONE) {
        *info = code == 0 ? json_loads(buf_str(&out), 0, NULL) : NULL;
        struct heartbeat hb;
        heartbeat_from_json(json_object_get(*info, "daemon"), &hb);
        if (*info && json_object_get(*info, "daemon") &&
            heartbeat_check(&hb, t->base.worker->name, t->remote_dir, SSHD_ANSWERS, e) < 0) {
            json_decref(*info);
            *info = NULL;
        } else if (*info) {
            rc = 0;   /* no "daemon": an older worker, which check reports by its version */
        } else if (code == 127) {
            err_set(e, "worker %s has no %s (exit status 127): install it or set "
                    "\"worker_command\" in workers.json", t->base.worker->name, t->command);
        } else {
            err_set(e, "`%s status` on worker %s failed (exit status %d): %.200s", t->command,
                    t->base.worker->name, code, buf_str(&out));
        }
    }
    buf_free(&out);
    free(cmd);
    free(qdir);
    return rc;
}

static int probe_op(struct ssh_transport *t, void *info, struct err *e)
{
    if (ensure(t, e) < 0)
        return -1;
    small_calls(t, true);
    int rc = check_inbox(t, e) < 0 ? -1 : status_of(t, info, e);
    small_calls(t, false);
    return rc;
}

static int ssh_probe(struct transport *base, json_t **info, struct err *e)
{
    return on_live_session((struct ssh_transport *)base, probe_op, info, e);
}

static void ssh_destroy(struct transport *base)
{
    struct ssh_transport *t = (struct ssh_transport *)base;
    disconnect(t);
    free(t->key);
    free(t->pubkey);
    free(t->known_hosts);
    free(t);
}

static const struct transport_ops ssh_ops = {
    .name = "ssh",
    .push = ssh_push,
    .wait = ssh_wait,
    .pull = ssh_pull,
    .forget = ssh_forget,
    .results = ssh_results,
    .probe = ssh_probe,
    .destroy = ssh_destroy,
};

static char *resolve(const char *root, const char *path)
{
    return path[0] == '/' ? strdup(path) : fs_join(root, path);
}

/* Reads ENTRY's SSH keys into *C (strings stay in ENTRY); every problem
 * goes to *P. */
static void read_config(const json_t *entry, const char *path, struct ssh_config *c,
                        struct problems *p)
{
    c->host = check_string(entry, path, "host", true, p);
    c->port = (int)check_number(entry, path, "port", 22, 1, 65535, p);
    c->user = check_string(entry, path, "user", false, p);
    c->key = check_string(entry, path, "key", false, p);
    c->known_hosts = check_string(entry, path, "known_hosts", false, p);
    c->remote_dir = check_string(entry, path, "remote_dir", false, p);
    c->command = check_string(entry, path, "worker_command", false, p);
    if (!c->user)
        c->user = "assay";
    if (!c->remote_dir)
        c->remote_dir = "/var/lib/assay-worker";
    if (!c->command)
        c->command = "assay-worker";
    if (json_object_get(entry, "sandbox"))
        problems_add(p, path, "\"sandbox\" applies to local workers only: an ssh worker's "
                     "assay-worker is started on its host (see docs/DEPLOY.md)");
    if (!c->key || !c->known_hosts)
        problems_add(p, path, "an ssh worker needs \"key\" (a private key file) and "
                     "\"known_hosts\" (its host key); see docs/DEPLOY.md");
}

static void ssh_check(const json_t *entry, const char *path, struct problems *p)
{
    struct ssh_config c;
    check_known_keys(entry, path, worker_common_keys, ssh_keys, p);
    read_config(entry, path, &c, p);
}

static struct transport *ssh_open(const struct worker_cfg *worker, const char *root,
                                  struct err *e)
{
    struct ssh_config cfg;
    struct problems p = {0};
    read_config(worker->entry, worker->name, &cfg, &p);
    if (p.count) {
        err_set(e, "workers.json: %s", p.items[0]);
        problems_free(&p);
        return NULL;
    }
    static bool initialised;
    if (!initialised && libssh2_init(0) != 0) {
        err_set(e, "cannot initialise libssh2");
        return NULL;
    }
    initialised = true;
    struct ssh_transport *t = calloc(1, sizeof *t);
    if (!t) {
        err_set(e, "out of memory");
        return NULL;
    }
    t->base.ops = &ssh_ops;
    t->base.worker = worker;
    t->cfg = cfg;
    t->sock = -1;
    t->key = resolve(root, cfg.key);
    t->known_hosts = resolve(root, cfg.known_hosts);
    char *pub = NULL;
    if (!t->key || !t->known_hosts || asprintf(&pub, "%s.pub", t->key) < 0) {
        err_set(e, "out of memory");
        ssh_destroy(&t->base);
        return NULL;
    }
    if (fs_exists(pub))   /* else libssh2 derives the public key from the private one */
        t->pubkey = pub;
    else
        free(pub);
    t->remote_dir = cfg.remote_dir;
    t->command = cfg.command;
    return &t->base;
}

const struct transport_kind transport_ssh = {"ssh", ssh_check, ssh_open};
