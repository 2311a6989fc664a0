/*
 * transport_local.c - a worker on this machine, reached through its
 * directory (workers.json "dir").
 *
 * push writes the job archive into DIR/inbox under a dot-name and renames
 * it; wait watches DIR/outbox with inotify, so a result is seen the moment
 * the worker renames it in; pull opens it where it is.  Used by the demo
 * and single-machine installations, and by the tests.  `assay init` puts
 * DIR on a tmpfs (/run/assay or /dev/shm): the archives never touch a disk.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "shipper/transport.h"
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

static char *in_dir(const struct local_transport *t, const char *sub, const char *name)
{
    char *p = NULL;
    if (asprintf(&p, "%s/%s/%s", t->dir, sub, name) < 0)
        return NULL;
    return p;
}

static bool worker_has(const struct local_transport *t, const char *name)
{
    const char *subs[] = {"inbox", "active", "outbox"};
    for (int i = 0; i < 3; i++) {
        char *p = in_dir(t, subs[i], name);
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
    char *tmp = NULL, *final = in_dir(t, "inbox", name);
    if (asprintf(&tmp, "%s/inbox/.%s.part", t->dir, name) < 0)
        tmp = NULL;
    unlink(tmp);
    int rc = fs_copy_fd(fd, name, tmp, 0644, e);
    if (rc == 0 && rename(tmp, final) < 0)
        rc = err_sys(e, "cannot deliver %s to worker %s", name, base->worker->name);
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    free(final);
    return rc;
}

static int local_wait(struct transport *base, const char *name, double timeout_s, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    if (t->watch_fd < 0) {
        char *outbox = fs_join(t->dir, "outbox");
        t->watch_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        /* A result only ever arrives by rename (the worker writes
         * outbox/.NAME.part first): its creation would wake every waiting
         * shipper of this worker for nothing. */
        if (t->watch_fd >= 0 && inotify_add_watch(t->watch_fd, outbox, IN_MOVED_TO) < 0) {
            close(t->watch_fd);
            t->watch_fd = -1;
        }
        if (t->watch_fd < 0)
            err_sys(e, "cannot watch %s", outbox);
        free(outbox);
        if (t->watch_fd < 0)
            return -1;
    }
    char *result = in_dir(t, "outbox", name);
    double deadline = clock_mono() + timeout_s;
    int ready = 0;
    while (!(ready = fs_exists(result))) {
        double left = deadline - clock_mono();
        if (left <= 0)
            break;
        struct pollfd p = {t->watch_fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
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
    char *src = in_dir(t, "outbox", name);
    /* Read in place: the worker never writes to a result once it is in
     * the outbox, and the shipper removes it only when it is recorded. */
    *fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int rc = *fd < 0 ? err_sys(e, "cannot open %s", src) : 0;
    free(src);
    return rc;
}

static void local_forget(struct transport *base, const char *name)
{
    struct local_transport *t = (struct local_transport *)base;
    const char *subs[] = {"inbox", "outbox"};
    for (int i = 0; i < 2; i++) {
        char *p = in_dir(t, subs[i], name);
        unlink(p);
        free(p);
    }
}

static char **local_results(struct transport *base)
{
    struct local_transport *t = (struct local_transport *)base;
    char *outbox = fs_join(t->dir, "outbox");
    DIR *d = opendir(outbox);
    free(outbox);
    char **names = calloc(1, sizeof *names);
    size_t n = 0;
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char **grown = realloc(names, (n + 2) * sizeof *names);
        if (!grown)
            break;
        names = grown;
        names[n++] = strdup(de->d_name);
        names[n] = NULL;
    }
    if (d)
        closedir(d);
    return names;
}

/* The worker is up when its daemon holds the directory's lock. */
static int local_probe(struct transport *base, json_t **info, struct err *e)
{
    struct local_transport *t = (struct local_transport *)base;
    char *lock = fs_join(t->dir, ".lock");
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    free(lock);
    bool running = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;
    if (fd >= 0)
        close(fd);
    if (!running)
        return err_set(e, "no assay-worker is running on %s", t->dir);
    char *inbox = fs_join(t->dir, "inbox");
    bool writable = access(inbox, W_OK) == 0;
    free(inbox);
    if (!writable)
        return err_sys(e, "cannot write to %s/inbox", t->dir);
    struct statvfs v;
    if (statvfs(t->dir, &v) < 0)
        return err_sys(e, "cannot read %s", t->dir);
    *info = json_pack("{s:s, s:f}", "version", ASSAY_VERSION,
                      "free_mb", (double)v.f_bavail * (double)v.f_frsize / (1024.0 * 1024.0));
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

struct transport *transport_local_new(const struct worker_cfg *worker, struct err *e)
{
    if (!worker->dir) {
        err_set(e, "worker %s: a local worker needs \"dir\" in workers.json", worker->name);
        return NULL;
    }
    struct local_transport *t = calloc(1, sizeof *t);
    t->base.ops = &local_ops;
    t->base.worker = worker;
    t->dir = strdup(worker->dir);
    t->watch_fd = -1;
    if (worker_layout_create(t->dir, e) < 0) {
        local_destroy(&t->base);
        return NULL;
    }
    return &t->base;
}
