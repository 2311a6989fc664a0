/*
 * cli_util.c - small pieces the assay subcommands share: opening the
 * spool named by --spool (and saying plainly when this user may not read
 * it), waiting for a result to appear, saying that no scheduler is
 * running (and since when), and printing.
 *
 * Printing: every line that carries text a student, a worker or a file
 * wrote (outputs, diffs, feedback, names, log lines, reasons) goes out
 * through cli_printf, and JSON through cli_print_json, so that no byte of
 * theirs reaches the terminal as a control sequence.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grp.h>
#include <pwd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"

static int cli_vprintf(FILE *out, const char *fmt, va_list ap)
{
    struct buf raw = BUF_INIT;
    char *shown = buf_vprintf(&raw, fmt, ap) == 0 ? text_visible(raw.data, raw.len, 1) : NULL;
    buf_free(&raw);
    /* never the raw text instead: it may be what must not reach a terminal */
    int rc = fputs(shown ? shown : "[out of memory: text not shown]\n", out);
    free(shown);
    return rc < 0 || !shown ? -1 : 0;
}

int cli_printf(FILE *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = cli_vprintf(out, fmt, ap);
    va_end(ap);
    return rc;
}

void cli_print_json(FILE *out, const json_t *j, size_t flags)
{
    /* jansson writes C0 controls as \u escapes but C1 ones (U+0080..U+009F,
     * CSI among them) as they are; on a terminal every non-ASCII character
     * is written as an escape instead.  A pipe gets the UTF-8: the same JSON. */
    if (isatty(fileno(out)))
        flags |= JSON_ENSURE_ASCII;
    json_dumpf(j, out, flags);
    fputc('\n', out);
}

/* The folders a spool command reads, and those it also writes. */
static const char *const read_dirs[] = {
    SPOOL_INCOMING, SPOOL_SHIPPERS, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED,
    "results", "jobs", "health", "logs", NULL,
};
static const char *const write_dirs[] = {
    "tmp", SPOOL_INCOMING, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED, "jobs", "submissions",
    "notify", NULL,
};

/* Whose PATH is and who may do what NEED asks there: "it is root's,
 * group root, mode 0700: run assay as root", with "or as a member of
 * group G" when the group has that access too.  NULL: out of memory. */
static char *who_may(const char *path, int need)
{
    struct stat st;
    struct buf b = BUF_INIT;
    if (stat(path, &st) < 0)
        return strdup("run assay as the spool's owner");
    struct passwd *pw = getpwuid(st.st_uid);
    struct group *gr = getgrgid(st.st_gid);
    mode_t g = (need & R_OK ? S_IRGRP : 0) | (need & W_OK ? S_IWGRP : 0) | S_IXGRP;
    char owner[32], group[32];
    snprintf(owner, sizeof owner, "uid %u", (unsigned)st.st_uid);
    snprintf(group, sizeof group, "%u", (unsigned)st.st_gid);
    const char *o = pw ? pw->pw_name : owner, *gname = gr ? gr->gr_name : group;
    int rc = buf_printf(&b, "it is %s's, group %s, mode %04o: run assay as %s", o, gname,
                        (unsigned)(st.st_mode & 07777), o);
    if (rc == 0 && (st.st_mode & g) == g)
        rc = buf_printf(&b, " or as a member of group %s", gname);
    if (rc < 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* -1 (said) if this user may not use a folder of the spool as CMD needs. */
static int check_access(const struct spool *s, bool writes, const char *cmd)
{
    for (int w = 0; w < (writes ? 2 : 1); w++) {
        const char *const *dirs = w ? write_dirs : read_dirs;
        int need = w ? W_OK | X_OK : R_OK | X_OK;
        for (int i = 0; dirs[i]; i++) {
            char *p = spool_path(s, "%s", dirs[i]);
            if (!p) {
                fprintf(stderr, "assay %s: out of memory\n", cmd);
                return -1;
            }
            if (faccessat(AT_FDCWD, p, need, AT_EACCESS) < 0 && errno != ENOENT) {
                int err = errno;
                char *who = who_may(p, need);
                cli_printf(stderr, "assay %s: cannot %s %s: %s (%s)\n", cmd,
                           w ? "write in" : "read", p, strerror(err),
                           who ? who : "and out of memory finding whose it is");
                free(who);
                free(p);
                return -1;
            }
            free(p);
        }
    }
    return 0;
}

int cli_open_spool(const char *opt, struct spool *s, const char *cmd, bool writes)
{
    struct err e;
    if (spool_open(s, spool_root_from(opt), &e) < 0) {
        cli_printf(stderr, "assay %s: %s\n", cmd, e.msg);
        return -1;
    }
    if (check_access(s, writes, cmd) < 0) {
        spool_close(s);
        return -1;
    }
    return 0;
}

json_t *cli_result_if_job(const char *dir, const char *job_id)
{
    char *path = fs_join(dir, "results.json");
    struct err e;   /* not there yet, or unreadable: the caller waits and looks again */
    json_t *r = fs_exists(path) ? jsonutil_load_file(path, 16u << 20, &e) : NULL;
    free(path);
    if (r && strcmp(jsonutil_str(json_object_get(r, "assay"), "job_id", ""), job_id)) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

/* Waits on a FIFO the shipper writes to once the result is recorded
 * (spool_notify), not on inotify: closing an inotify descriptor costs an
 * RCU grace period (~10 ms), paid at exit by every `submit --wait`. */
json_t *cli_wait_result(const struct spool *s, const char *result_rel, const char *job_id,
                        double timeout_s)
{
    char *dir = spool_path(s, "%s", result_rel), *fifo = spool_path(s, "notify/%s", job_id);
    if (mkfifo(fifo, 0600) < 0 && errno != EEXIST) { /* fall back to the 1 s guard below */ }
    int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    double deadline = clock_mono() + timeout_s;
    json_t *r;
    while (!(r = cli_result_if_job(dir, job_id))) {
        double left = deadline - clock_mono();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        /* the FIFO makes this immediate; the 1 s cap only guards a missed write */
        if (poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) > 0) {
            char buf[64];
            while (read(fd, buf, sizeof buf) > 0) {
            }
            if (p.revents & POLLHUP) {   /* a writer came and went: listen afresh */
                close(fd);
                fd = open(fifo, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    if (fifo)
        unlink(fifo);   /* if it stays, the next wait for this job reuses it */
    free(fifo);
    free(dir);
    return r;
}

/* "40 s", "5 min", "3 h", "2 days": how long ago, roughly. */
static void say_ago(double s, char *out, size_t n)
{
    if (s < 120)
        snprintf(out, n, "%.0f s", s < 0 ? 0 : s);
    else if (s < 7200)
        snprintf(out, n, "%.0f min", s / 60);
    else if (s < 172800)
        snprintf(out, n, "%.0f h", s / 3600);
    else
        snprintf(out, n, "%.0f days", s / 86400);
}

char *cli_no_scheduler(const struct spool *s, const struct scheduler_state *st)
{
    if (st->presence != SCHEDULER_STOPPED)
        return NULL;
    char seen[32], ago[32], *msg = NULL;
    clock_iso8601(st->last_seen, seen);
    say_ago(clock_wall() - st->last_seen, ago, sizeof ago);
    int rc = st->last_seen > 0
        ? asprintf(&msg, "no scheduler is running on %s: nothing holds its " SCHEDULER_LOCK
                   " (one was last seen running at %s, %s ago); queued jobs wait until "
                   "`assay-scheduler --spool %s` starts", s->root, seen, ago, s->root)
        : asprintf(&msg, "no scheduler is running on %s: none has run there yet (it has no "
                   SCHEDULER_LOCK "); queued jobs wait until `assay-scheduler --spool %s` "
                   "starts", s->root, s->root);
    return rc < 0 ? strdup("no scheduler is running on this spool") : msg;
}

void cli_invoking_user(char *out, size_t n)
{
    struct passwd *pw = getpwuid(getuid());
    const char *sudo = getuid() == 0 ? getenv("SUDO_USER") : NULL;
    if (pw)
        snprintf(out, n, "%s", pw->pw_name);
    else
        snprintf(out, n, "uid %u", (unsigned)getuid());
    if (sudo && *sudo)
        snprintf(out + strlen(out), n - strlen(out), " (sudo by %.64s)", sudo);
}
