/*
 * daemon_remote.c - the assay-worker subcommands a shipper runs over SSH.
 *
 *   assay-worker wait --dir D [--timeout S] NAME   block until outbox/NAME exists
 *   assay-worker status --dir D                    version, free disk, queue sizes
 *
 * `wait` is how a remote result is awaited without polling: the shipper
 * keeps one exec channel open on its SSH session; inotify here wakes it the
 * moment the result is renamed into the outbox.  Every HEARTBEAT_EVERY_S
 * it prints a line, "waiting {"free_mb": N, "daemon": {...}}": the line
 * itself lets the shipper notice a link that died without a word, and
 * what it says lets it notice a grading daemon that stopped answering
 * (its heartbeat file, contract/heartbeat.h, read here, on the worker's
 * own clock) and a disk that fills while jobs run.  `status` says the
 * same, with the version and the queues.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "contract/heartbeat.h"
#include "contract/worker_dir.h"
#include "worker/daemon.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

static double free_mb_of(const char *dir)
{
    struct statvfs v;
    if (statvfs(dir, &v) < 0)
        return -1;
    return (double)v.f_bavail * (double)v.f_frsize / (1024.0 * 1024.0);
}

/* What the daemon's heartbeat file says, as JSON text ("null" when
 * there is none). */
static char *daemon_json(const char *dir)
{
    struct heartbeat hb;
    heartbeat_read(dir, &hb);
    json_t *j = heartbeat_json(&hb);
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return text;
}

/* One line of `wait`: the worker is reachable, its disk, its daemon. */
static void beat(const char *dir)
{
    char *daemon = daemon_json(dir);
    printf("waiting {\"free_mb\": %.0f, \"daemon\": %s}\n", free_mb_of(dir),
           daemon ? daemon : "null");
    fflush(stdout);
    free(daemon);
}

int worker_wait(const char *dir, const char *name, double timeout_s)
{
    char *outbox = worker_path(dir, WORKER_OUTBOX, NULL), *result = fs_join(outbox, name);
    if (!result) {
        printf("error out of memory\n");
        return 2;
    }
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0 || inotify_add_watch(fd, outbox, IN_MOVED_TO) < 0) {   /* results arrive by rename */
        printf("error cannot watch %s: %s\n", outbox, strerror(errno));
        return 2;
    }
    double deadline = clock_mono() + timeout_s, last_beat = -HEARTBEAT_EVERY_S;
    int rc = 1;
    while (!(fs_exists(result) && (rc = 0, 1))) {
        double now = clock_mono(), left = deadline - now;
        if (left <= 0)
            break;
        /* A line every HEARTBEAT_EVERY_S (the first at once), however
         * busy the outbox is. */
        if (now - last_beat >= HEARTBEAT_EVERY_S) {
            beat(dir);
            last_beat = now;
        }
        double nap = last_beat + HEARTBEAT_EVERY_S - now;
        nap = nap < left ? nap : left;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)(nap * 1000) + 1) > 0) {
            char buf[4096] __attribute__((aligned(8)));
            while (read(fd, buf, sizeof buf) > 0) {
            }
        }
    }
    printf(rc == 0 ? "ready\n" : "timeout\n");
    fflush(stdout);
    close(fd);
    free(outbox);
    free(result);
    return rc;
}

static int count_jobs(const char *dir, const char *folder)
{
    char *path = worker_path(dir, folder, NULL);
    struct fs_list l;
    int n = path && fs_list(path, worker_is_archive, NULL, &l) == 0 ? (int)l.n : -1;
    if (path)
        fs_list_free(&l);
    free(path);
    return n;   /* -1: could not be counted (out of memory) */
}

int worker_status(const char *dir)
{
    double free_mb = free_mb_of(dir);
    if (free_mb < 0) {
        printf("{\"error\": \"cannot read %s\"}\n", dir);
        return 1;
    }
    char *daemon = daemon_json(dir);
    printf("{\"version\": \"%s\", \"free_mb\": %.0f, \"inbox\": %d, \"active\": %d, "
           "\"outbox\": %d, \"daemon\": %s}\n", ASSAY_VERSION, free_mb,
           count_jobs(dir, WORKER_INBOX), count_jobs(dir, WORKER_ACTIVE),
           count_jobs(dir, WORKER_OUTBOX), daemon ? daemon : "null");
    free(daemon);
    return 0;
}
