/*
 * main.c - assay-intake: the pushes from GitHub and GitLab that assay-web
 * queued in pushes/incoming/, fetched and submitted one at a time.
 *
 *   assay-intake --spool S [--once] [--die-with-parent]
 *
 * A libuv loop learns of a new push from inotify within milliseconds and
 * wakes for a deferred one when its backoff ends; a rescan every 30 s is
 * only a safety net.  One runs per spool (a lock on pushes/intake.lock).
 * The archive of a student's commit is parsed here, never in the web
 * server.  --once handles every push that is due and exits (for tests
 * and for running it from cron instead of as a daemon).
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "intake/intake.h"
#include "spool/pushes.h"

#define RESCAN_MS 30000

static const char usage[] =
    "Usage: assay-intake --spool S [--once] [--die-with-parent]\n"
    "\n"
    "Fetches each push from GitHub or GitLab that assay-web queued in\n"
    "S/pushes/incoming/ and submits the commit for grading (docs/INTEGRATIONS.md).\n"
    "Normally started by assay-scheduler.\n"
    "\n"
    "  --once     handle the pushes that are due now, then exit\n";

struct intake {
    struct spool s;
    uv_loop_t *loop;
    uv_fs_event_t watch;
    uv_timer_t wake;
    uv_signal_t sigterm, sigint;
};

/* Handles every push that is due; returns when the next one is (0: none). */
static double pass(const struct spool *s)
{
    struct fs_list l = {0};
    if (pushes_list(s, &l) < 0)
        log_msg(LOG_ERROR, NULL, "out of memory listing %s", PUSHES_INCOMING);
    double next = 0;
    for (size_t i = 0; i < l.n; i++) {
        double due = intake_push(s, l.names[i], clock_wall());
        if (due > 0 && (next == 0 || due < next))
            next = due;
    }
    fs_list_free(&l);
    return next;
}

static void on_wake(uv_timer_t *t);

/* A pass, then the timer set for the next push due (or the rescan). */
static void run_pass(struct intake *in)
{
    double next = pass(&in->s), now = clock_wall();
    uint64_t ms = RESCAN_MS;
    if (next > 0 && (next - now) * 1000 < RESCAN_MS)
        ms = next <= now ? 1 : (uint64_t)((next - now) * 1000) + 1;
    uv_timer_start(&in->wake, on_wake, ms, 0);
}

static void on_wake(uv_timer_t *t)
{
    run_pass(t->data);
}

static void on_change(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    if (status < 0)
        log_msg(LOG_WARN, NULL, "watching %s: %s", PUSHES_INCOMING, uv_strerror(status));
    run_pass(h->data);
}

static void on_signal(uv_signal_t *h, int sig)
{
    (void)sig;
    uv_stop(h->loop);
}

/* One assay-intake per spool: the lock is held for the process's life. */
static int take_lock(const struct spool *s)
{
    char *path = spool_path(s, "pushes/intake.lock");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "assay-intake: %s %s: %s\n", fd < 0 ? "cannot open" : "another "
                "assay-intake holds", path ? path : "the lock", strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    free(path);
    return fd;
}

static int serve(struct intake *in)
{
    in->loop = uv_default_loop();
    char *dir = spool_path(&in->s, "%s", PUSHES_INCOMING);
    uv_fs_event_init(in->loop, &in->watch);
    uv_timer_init(in->loop, &in->wake);
    uv_signal_init(in->loop, &in->sigterm);
    uv_signal_init(in->loop, &in->sigint);
    in->watch.data = in->wake.data = in;
    int rc = dir ? uv_fs_event_start(&in->watch, on_change, dir, 0) : UV_ENOMEM;
    free(dir);
    if (rc < 0) {
        log_msg(LOG_ERROR, NULL, "cannot watch %s: %s", PUSHES_INCOMING, uv_strerror(rc));
        return 1;
    }
    uv_signal_start(&in->sigterm, on_signal, SIGTERM);
    uv_signal_start(&in->sigint, on_signal, SIGINT);
    log_msg(LOG_INFO, NULL, "assay-intake started");
    run_pass(in);
    uv_run(in->loop, UV_RUN_DEFAULT);
    log_msg(LOG_INFO, NULL, "assay-intake stopped");
    uv_close((uv_handle_t *)&in->watch, NULL);
    uv_close((uv_handle_t *)&in->wake, NULL);
    uv_close((uv_handle_t *)&in->sigterm, NULL);
    uv_close((uv_handle_t *)&in->sigint, NULL);
    uv_run(in->loop, UV_RUN_DEFAULT);
    uv_loop_close(in->loop);
    return 0;
}

/* The pushes' folders (assay-web makes them too, with the first push). */
static int make_dirs(const struct spool *s, struct err *e)
{
    const char *dirs[] = {PUSHES_INCOMING, PUSHES_DONE, PUSHES_FAILED};
    for (int i = 0; i < 3; i++) {
        char *d = spool_path(s, "%s", dirs[i]);
        int rc = fs_mkdir_p_durable(d, 0700, e);
        free(d);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"once", no_argument, NULL, 'o'},
        {"die-with-parent", no_argument, NULL, 'p'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL;
    bool once = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': root = optarg; break;
        case 'o': once = true; break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    struct intake in = {0};
    struct err e;
    if (spool_open(&in.s, spool_root_from(root), &e) < 0) {
        fprintf(stderr, "assay-intake: %s\n", e.msg);
        return 1;
    }
    char *logf = spool_path(&in.s, "logs/assay.log");
    int lock = -1, rc = 1;
    if (make_dirs(&in.s, &e) < 0)
        fprintf(stderr, "assay-intake: %s\n", e.msg);
    else if ((lock = take_lock(&in.s)) >= 0 && curl_global_init(CURL_GLOBAL_DEFAULT) == 0) {
        log_open("assay-intake", logf);
        if (once) {
            pass(&in.s);
            rc = 0;
        } else {
            rc = serve(&in);
        }
        log_close();
        curl_global_cleanup();
    }
    if (lock >= 0)
        close(lock);
    free(logf);
    spool_close(&in.s);
    return rc;
}
