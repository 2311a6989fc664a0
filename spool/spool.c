/*
 * spool.c - the spool's layout and its two write primitives.
 *
 * A job's state is the directory its file is in; every state change is
 * one rename(2) within the spool's file system (spool_move), and every
 * file is written in tmp/, fsynced, then renamed into place
 * (spool_write), so no reader ever sees half a file.  Both sync the
 * directories they change before returning, so what they made visible is
 * still there after a power cut (docs/SPOOL.md, Durability).  Modelled on
 * Postfix's queue.  The layout, the job file and workers.json are
 * documented in docs/SPOOL.md.
 */
#define _GNU_SOURCE
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"
#include "spool/delivery.h"

static const char *const layout[] = {
    "tmp", SPOOL_INCOMING, SPOOL_SHIPPERS, SPOOL_DEFERRED, SPOOL_HOLD, SPOOL_FAILED,
    "submissions", "results", "courses", "logs", "jobs", "workers", "health", "notify",
    "deliveries", DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_DONE, DELIVERY_DEAD, NULL,
};

static const char default_workers[] =
    "{\n"
    "%s"
    "  \"workers\": [\n"
    "    {\"name\": \"local\", \"transport\": \"local\", \"dir\": \"%s\",\n"
    "     \"slots\": 2, \"prefetch\": 1, \"capabilities\": [\"python\"], \"enabled\": true}\n"
    "  ]\n"
    "}\n";

static bool is_writable_tmpfs(const char *dir)
{
    struct statfs fs;
    return statfs(dir, &fs) == 0 && fs.f_type == TMPFS_MAGIC && access(dir, W_OK) == 0;
}

/* A local worker's directory holds only archives in flight, which the
 * spool can always make again: on a tmpfs they never touch a disk.  The
 * installation's run directory where /run is one (systemd), else
 * /dev/shm; a directory in the spool if neither is.  The worker refuses
 * the directory if someone else made it first (contract/worker_dir.c). */
static void default_local_dir(const struct installation *in, char *out, size_t n)
{
    char id[17], run[128];
    ids_random_hex(id, 8);
    installation_run_dir(in, run, sizeof run);
    if (geteuid() == 0 && is_writable_tmpfs("/run"))
        snprintf(out, n, "%s/local-%s", run, id);
    else if (is_writable_tmpfs("/dev/shm"))
        snprintf(out, n, "/dev/shm/assay-local-%s", id);
    else
        snprintf(out, n, "workers/local");
}

const char *spool_root_from(const char *opt)
{
    if (opt && *opt)
        return opt;
    const char *env = getenv("ASSAY_SPOOL");
    return env && *env ? env : SPOOL_DEFAULT_ROOT;
}

char *spool_path(const struct spool *s, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    int rc = s->root && buf_printf(&b, "%s/", s->root) == 0 ? buf_vprintf(&b, fmt, ap) : -1;
    va_end(ap);
    if (rc < 0) {   /* never half a path: "ROOT/" would name the whole spool */
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

/* workers.json's "installation" line for IN ("" for none). */
static void installation_line(const struct installation *in, char *out, size_t n)
{
    char uids[32];
    if (!in) {
        out[0] = '\0';
        return;
    }
    installation_format_uids(in, uids, sizeof uids);
    snprintf(out, n, "  \"installation\": {\"name\": \"%s\", \"uids\": \"%s\"},\n", in->name,
             uids);
}

int spool_init(const char *root, const struct installation *in, struct err *e)
{
    /* Private by default: the root and workers/ only let a run's uid pass
     * through to a local worker's work directories; everything else
     * (submissions, hidden tests, results) is for the spool's owner. */
    if (fs_mkdir_p(root, 0711, e) < 0)
        return -1;
    chmod(root, 0711);   /* past the umask; a root someone else owns keeps its own mode */
    struct spool s = {(char *)root};
    for (int i = 0; layout[i]; i++) {
        char *p = spool_path(&s, "%s", layout[i]);
        mode_t mode = strcmp(layout[i], "workers") ? 0700 : 0711;
        int rc = fs_mkdir_p(p, mode, e);
        if (rc == 0)
            chmod(p, mode);   /* past the umask, as for the root */
        free(p);
        if (rc < 0)
            return -1;
    }
    char *workers = spool_path(&s, "workers.json");
    int rc = 0;
    if (!fs_exists(workers)) {
        struct installation unnamed;
        installation_default(&unnamed);
        char dir[192], inst[192], text[sizeof default_workers + 384];
        default_local_dir(in ? in : &unnamed, dir, sizeof dir);
        installation_line(in, inst, sizeof inst);
        snprintf(text, sizeof text, default_workers, inst, dir);
        rc = spool_write(&s, "workers.json", text, strlen(text), e);
    }
    free(workers);
    return rc;
}

int spool_open(struct spool *s, const char *root, struct err *e)
{
    if (!(s->root = strdup(root)))
        return err_set(e, "out of memory");
    for (int i = 0; layout[i]; i++) {
        char *p = spool_path(s, "%s", layout[i]);
        bool ok = fs_is_dir(p);
        if (!ok && i > 0 && fs_is_dir(s->root) && mkdir(p, 0700) == 0)
            ok = true;   /* a spool made by an older version: add what is new */
        free(p);
        if (!ok) {
            err_set(e, "%s is not an Assay spool (no %s/ in it); create one with "
                    "`assay init %s`", root, layout[i], root);
            spool_close(s);
            return -1;
        }
    }
    return 0;
}

void spool_close(struct spool *s)
{
    free(s->root);
    s->root = NULL;
}

static int write_fully(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Writes DATA in tmp/ and renames it to REL; ALSO (may be NULL) is made a
 * second name of the same file first.  DURABLE syncs the file before the
 * rename and the directories of both names after it, so the file is there
 * after a power cut once this returns. */
static int write_in_place(const struct spool *s, const char *rel, const void *data, size_t len,
                          bool durable, const char *also, mode_t mode, struct err *e)
{
    char rnd[17];
    ids_random_hex(rnd, 8);
    char *tmp = spool_path(s, "tmp/w-%s", rnd), *dst = spool_path(s, "%s", rel);
    char *second = also ? spool_path(s, "%s", also) : NULL;
    int rc = -1;
    int fd = tmp && dst && (second || !also) ? open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
                                             : -1;
    if (fd < 0 && (!tmp || !dst || (also && !second))) {
        err_set(e, "out of memory");
    } else if (fd < 0) {
        err_sys(e, "cannot create %s", tmp);
    } else if (write_fully(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
        err_sys(e, "cannot write %s (is the disk full?)", tmp);
        close(fd);
        unlink(tmp);
    } else if (second && link(tmp, second) < 0) {
        err_sys(e, "cannot create %s", second);
        close(fd);
        unlink(tmp);
    } else if (close(fd) < 0 || rename(tmp, dst) < 0) {
        err_sys(e, "cannot put %s in place", dst);
        unlink(tmp);
    } else if (durable && (fs_sync_parent(dst, e) < 0 || (second && fs_sync_parent(second, e) < 0))) {
        rc = -1;   /* in place, but maybe not after a power cut: the caller tells nobody */
    } else {
        rc = 0;
    }
    free(tmp);
    free(dst);
    free(second);
    return rc;
}

int spool_write(const struct spool *s, const char *rel, const void *data, size_t len,
                struct err *e)
{
    return write_in_place(s, rel, data, len, true, NULL, 0644, e);
}

int spool_write_private(const struct spool *s, const char *rel, const void *data, size_t len,
                        struct err *e)
{
    return write_in_place(s, rel, data, len, true, NULL, 0600, e);
}

static int write_json(const struct spool *s, const char *rel, const json_t *j, bool durable,
                      const char *also, struct err *e)
{
    char *text = jsonutil_dump_file(j);
    if (!text)
        return err_set(e, "cannot encode %s", rel);
    int rc = write_in_place(s, rel, text, strlen(text), durable, also, 0644, e);
    free(text);
    return rc;
}

int spool_write_json(const struct spool *s, const char *rel, const json_t *j, struct err *e)
{
    return write_json(s, rel, j, true, NULL, e);
}

int spool_write_json_linked(const struct spool *s, const char *rel, const json_t *j,
                            const char *also, struct err *e)
{
    return write_json(s, rel, j, true, also, e);
}

int spool_update_json(const struct spool *s, const char *rel, const json_t *j, struct err *e)
{
    return write_json(s, rel, j, false, NULL, e);
}

int spool_move(const struct spool *s, const char *from, const char *to, struct err *e)
{
    char *a = spool_path(s, "%s", from), *b = spool_path(s, "%s", to);
    int rc = 0;
    if (!a || !b)
        rc = err_set(e, "out of memory");
    else if (rename(a, b) < 0)
        rc = errno == ENOENT && !fs_exists(a) ? 1 : err_sys(e, "cannot move %s to %s", from, to);
    else
        rc = fs_sync_rename(a, b, e);
    free(a);
    free(b);
    return rc;
}

char *spool_tmpdir(const struct spool *s, const char *prefix, struct err *e)
{
    char *base = spool_path(s, "tmp"), *out = NULL;
    if (fs_mkdtemp(base, prefix, &out, e) < 0)
        out = NULL;
    free(base);
    return out;
}

void spool_notify(const struct spool *s, const char *id)
{
    char *path = spool_path(s, "notify/%s", id);
    int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        if (write(fd, "!", 1) < 0) { /* the waiter went away: fine */ }
        close(fd);
    }
    free(path);
}

void spool_slot_name(char *out, size_t n, const char *worker, int slot)
{
    snprintf(out, n, "%s.%d", worker, slot);
}

bool spool_name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] == '.')
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@") == n;
}
