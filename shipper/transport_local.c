/*
 * transport_local.c - a worker on this machine, reached through its
 * directory (workers.json "dir").
 *
 * push writes the job archive into DIR/inbox under a dot-name and renames
 * it; wait watches DIR/outbox with inotify, so a result is seen the moment
 * the worker renames it in, and reads the daemon's heartbeat file every
 * second meanwhile (a daemon that stopped answering ends the wait); pull
 * opens it where it is.  Used by the demo
 * and single-machine installations, and by the tests.  `assay init` puts
 * DIR on a tmpfs (/run/assay or /dev/shm): the archives never touch a disk.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/buf.h"
#include "common/check.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/run.h"
#include "shipper/transport.h"
#include "contract/heartbeat.h"
#include "contract/worker_dir.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

struct local_transport {
    struct transport base;
    char *dir;
    int watch_fd;   /* inotify on outbox/, for the transport's life: closing
                       an inotify fd waits for an RCU grace period (~10 ms) */
};

static bool worker_has(const struct local_transport *t, const char *name)
{
    const char *subs[] = {WORKER_INBOX, WORKER_ACTIVE, WORKER_OUTBOX};
    for (int i = 0; i < 3; i++) {
        char *p = worker_path(t->dir, subs[i], name);
        bool there = fs_exists(p);
        free(p);
        if (there)
            return true;
    }
    return false;
}

static int local_push(struct transport *base, int fd, const char *name, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    if (worker_has(t, name))
        return 0;
    char *tmp = worker_part_path(t->dir, WORKER_INBOX, name);
    char *final = worker_path(t->dir, WORKER_INBOX, name);
    if (!tmp || !final) {
        free(tmp);
        free(final);
        return err_set(e, "out of memory");
    }
    unlink(tmp);   /* what a killed shipper left: written again below */
    int rc = fs_copy_fd(fd, name, tmp, 0644, e);
    if (rc == 0 && rename(tmp, final) < 0)
        rc = err_sys(e, "cannot deliver %s to worker %s", name, base->worker->name);
    if (rc < 0)
        unlink(tmp);   /* *e holds the failure; no half-delivered job left */
    free(tmp);
    free(final);
    return rc;
}

/* What the worker directory says now: free disk and the daemon's
 * heartbeat, as {"free_mb", "daemon"} in *INFO; -1 with why in *e when
 * the daemon is not answering. */
static int local_heard(struct local_transport *t, json_t **info, struct err *e)
{
    struct heartbeat hb;
    heartbeat_read(t->dir, &hb);
    if (heartbeat_check(&hb, t->base.worker->name, t->dir, NULL, e) < 0)
        return -1;
    struct statvfs v;
    if (statvfs(t->dir, &v) < 0)
        return err_sys(e, "cannot read %s", t->dir);
    *info = json_pack("{s:f, s:o}", "free_mb",
                      (double)v.f_bavail * (double)v.f_frsize / (1024.0 * 1024.0),
                      "daemon", heartbeat_json(&hb));
    return *info ? 0 : err_set(e, "out of memory");
}

static int local_wait(struct transport *base, const char *name, double timeout_s,
                      const struct transport_listener *listener, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    if (t->watch_fd < 0) {
        char *outbox = worker_path(t->dir, WORKER_OUTBOX, NULL);
        t->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        /* A result only ever arrives by rename (the worker writes
         * outbox/.NAME.part first): its creation would wake every waiting
         * shipper of this worker for nothing. */
        if (t->watch_fd >= 0 && inotify_add_watch(t->watch_fd, outbox, IN_MOVED_TO) < 0) {
            close(t->watch_fd);
            t->watch_fd = -1;
        }
        if (t->watch_fd < 0)
            err_sys(e, "cannot watch %s/%s", t->dir, WORKER_OUTBOX);
        free(outbox);
        if (t->watch_fd < 0)
            return -1;
    }
    char *result = worker_path(t->dir, WORKER_OUTBOX, name);
    if (!result)
        return err_set(e, "out of memory");
    double deadline = clock_mono() + timeout_s, heard = clock_mono() - TRANSPORT_HEAR_S;
    int ready = 0;
    while (!(ready = fs_exists(result))) {
        double now = clock_mono(), left = deadline - now;
        if (left <= 0)
            break;
        if (now - heard >= TRANSPORT_HEAR_S) {
            json_t *info = NULL;
            if (local_heard(t, &info, e) < 0) {
                ready = -1;
                break;
            }
            if (listener)
                listener->heard(listener->ctx, info);
            json_decref(info);
            heard = now;
        }
        double nap = heard + TRANSPORT_HEAR_S - now;
        struct pollfd p = {t->watch_fd, POLLIN, 0};
        if (poll(&p, 1, (int)((nap < left ? nap : left) * 1000) + 1) > 0) {
            char buf[4096] __attribute__((aligned(8)));
            while (read(t->watch_fd, buf, sizeof buf) > 0) {
            }
        }
    }
    free(result);
    return ready;
}

static int local_pull(struct transport *base, const char *name, int *fd, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    char *src = worker_path(t->dir, WORKER_OUTBOX, name);
    if (!src)
        return err_set(e, "out of memory");
    /* Read in place: the worker never writes to a result once it is in
     * the outbox, and the shipper removes it only when it is recorded. */
    *fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int rc = *fd < 0 ? err_sys(e, "cannot open %s", src) : 0;
    free(src);
    return rc;
}

static void local_forget(struct transport *base, const char *name, bool finished)
{
    (void)finished;   /* the worker's daemon finishes or drops what it has begun */
    struct local_transport *t = (struct local_transport *)base;
    const char *subs[] = {WORKER_INBOX, WORKER_OUTBOX};
    for (int i = 0; i < 2; i++) {
        char *p = worker_path(t->dir, subs[i], name);   /* NULL: tidied next time */
        if (p && unlink(p) < 0 && errno != ENOENT)
            log_msg(LOG_WARN, NULL, "cannot remove %s: %s", p, strerror(errno));
        free(p);
    }
}

/* Every finished file: the shipper drops what is no current result. */
static bool not_hidden(const char *name)
{
    return name[0] != '.';
}

static char **local_results(struct transport *base)
{
    struct local_transport *t = (struct local_transport *)base;
    char *outbox = worker_path(t->dir, WORKER_OUTBOX, NULL);
    struct fs_list l;
    if (fs_list(outbox, not_hidden, NULL, &l) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing %s/%s; the rest is tidied next time",
                t->dir, WORKER_OUTBOX);
    free(outbox);
    char **names = calloc(l.n + 1, sizeof *names);
    for (size_t i = 0; names && i < l.n; i++) {
        names[i] = l.names[i];   /* taken over */
        l.names[i] = NULL;
    }
    fs_list_free(&l);
    return names;
}

/* The worker is up when its daemon holds the directory's lock and its
 * heartbeat is fresh (a daemon stopped with SIGSTOP still holds the lock). */
static int local_probe(struct transport *base, json_t **info, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    if (!worker_daemon_running(t->dir))
        return err_set(e, "no assay-worker is running on %s", t->dir);
    char *inbox = worker_path(t->dir, WORKER_INBOX, NULL);
    bool writable = access(inbox, W_OK) == 0;
    free(inbox);
    if (!writable)
        return err_sys(e, "cannot write to %s/inbox", t->dir);
    if (local_heard(t, info, e) < 0)
        return -1;
    if (json_object_set_new(*info, "version", json_string(ASSAY_VERSION)) < 0) {
        json_decref(*info);
        *info = NULL;
        return err_set(e, "out of memory");
    }
    return 0;
}

static void local_destroy(struct transport *base)
{
    struct local_transport *t = (struct local_transport *)base;
    if (t->watch_fd >= 0)
        close(t->watch_fd);
    free(t->dir);
    free(t);
}

static const struct transport_ops local_ops = {
    .name = "local",
    .push = local_push,
    .wait = local_wait,
    .pull = local_pull,
    .forget = local_forget,
    .results = local_results,
    .probe = local_probe,
    .destroy = local_destroy,
};

/* The sandboxes this build's assay-worker knows ("namespace, rlimit"):
 * only it links them. */
static char *worker_sandboxes(struct err *e)
{
    char *dir = fs_program_dir(), *exe = fs_join(dir, "assay-worker");
    char *argv[] = {exe, "--sandboxes", NULL};
    struct buf out = BUF_INIT;
    int rc = exe ? run_capture(argv, 4096, &out, e) : err_set(e, "out of memory");
    if (rc > 0)
        err_set(e, "%s --sandboxes exited with status %d", exe, rc);
    else if (rc == 0 && !out.len)
        rc = err_set(e, "%s --sandboxes printed nothing", exe);
    free(dir);
    free(exe);
    if (rc != 0) {
        buf_free(&out);
        return NULL;
    }
    out.data[strcspn(out.data, "\n")] = '\0';
    return buf_steal(&out);   /* never NULL: OUT holds text */
}

static bool listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-2] == ',') && (p[n] == '\0' || p[n] == ','))
            return true;
    return false;
}

/* "dir" and "sandbox" are read by the spool (spool/workers.c), for the
 * scheduler starts a local worker's assay-worker itself; the sandbox's
 * name is checked here, against what assay-worker says it knows. */
static void local_check(const json_t *entry, const char *path, struct problems *p)
{
    check_known_keys(entry, path, worker_common_keys, worker_local_keys, p);
    const char *sandbox = json_string_value(json_object_get(entry, "sandbox"));
    if (!sandbox)
        return;   /* absent: assay-worker's default; not a string: workers.c said so */
    char where[128];
    snprintf(where, sizeof where, "%s.sandbox", path);
    struct err e;
    char *known = worker_sandboxes(&e);
    if (!known)
        problems_add(p, where, "cannot ask assay-worker which sandboxes it has: %s", e.msg);
    else if (!listed(known, sandbox))
        problems_add(p, where, "\"%s\" is not a sandbox assay-worker knows (%s)", sandbox, known);
    free(known);
}

static struct transport *local_open(const struct worker_cfg *worker, const char *root,
                                    struct err *e)
{
    (void)root;   /* workers.c made "dir" absolute already */
    if (!worker->dir) {
        err_set(e, "worker %s: a local worker needs \"dir\" in workers.json", worker->name);
        return NULL;
    }
    struct local_transport *t = calloc(1, sizeof *t);
    if (!t) {
        err_set(e, "out of memory");
        return NULL;
    }
    t->base.ops = &local_ops;
    t->base.worker = worker;
    t->watch_fd = -1;
    if (!(t->dir = strdup(worker->dir))) {
        err_set(e, "out of memory");
        local_destroy(&t->base);
        return NULL;
    }
    if (worker_layout_create(t->dir, e) < 0) {
        local_destroy(&t->base);
        return NULL;
    }
    return &t->base;
}

const struct transport_kind transport_local = {WORKER_LOCAL, local_check, local_open};
