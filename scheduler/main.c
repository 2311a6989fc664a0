/*
 * main.c - assay-scheduler: hands queued jobs to idle worker slots.
 *
 *   assay-scheduler [--spool S] [--policy fair|fcfs] [--age-guard SECONDS]
 *
 * One libuv loop.  At start-up it rebuilds its state from the spool
 * (slot directories, incoming/, deferred/), starts one assay-shipper per
 * slot in workers.json and an assay-worker for every local worker, and
 * from then on reacts to inotify events: a job renamed into incoming/ is
 * dispatched within milliseconds.  A rescan every SCHED_RESCAN_MS is only
 * a safety net.  SIGHUP reloads workers.json (and restarts assay-web,
 * which web.json may ask it to run: web.c); SIGTERM or SIGINT stops
 * every process it started and leaves queued jobs where they are.  The
 * policy (policy_*.c) decides which job an idle slot takes: "fair" (the
 * default) shares each pool across courses, "fcfs" is first come, first
 * served.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/crash.h"
#include "common/fs.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/scheduler_lock.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

#define STOP_GRACE_MS 5000

static const char usage[] =
    "Usage: assay-scheduler [--spool S] [--policy fair|fcfs] [--age-guard SECONDS]\n"
    "\n"
    "Runs the spool S (default $ASSAY_SPOOL or " SPOOL_DEFAULT_ROOT "): hands each\n"
    "queued job to an idle slot of a worker offering its capability, and keeps one\n"
    "assay-shipper per slot (and the assay-worker of each local worker) running.\n"
    "Logs go to S/logs/assay.log. SIGHUP reloads S/workers.json (and\n"
    "S/web.json: with \"start\": true it runs assay-web too); SIGTERM stops.\n"
    "\n"
    "  --policy fair      (default) each worker pool is shared across courses by\n"
    "                     weighted fair queuing (courses/C/course.json \"weight\")\n"
    "  --policy fcfs      first come, first served\n"
    "  --age-guard S      fair: a batch job waiting longer than S seconds is served\n"
    "                     as interactive (default 600)\n";

static void on_incoming(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)events;
    struct sched *s = h->data;
    pending_on_event(s, status < 0 ? NULL : name);
    dispatch(s);
}

static void on_deferred(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    deferred_scan(h->data);
}

static void on_health(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    struct sched *s = h->data;
    workers_health_refresh(s);
    dispatch(s);
}

static void on_rescan(uv_timer_t *t)
{
    struct sched *s = t->data;
    scheduler_lock_seen(s->lock_fd);   /* for `assay status`, once this one is gone */
    pending_scan(s);
    for (size_t i = 0; i < s->n_slots; i++)
        slots_refresh(s->slots[i]);
    deferred_scan(s);
    workers_health_refresh(s);
    dispatch(s);
    deliverer_refresh(s);
    intake_refresh(s);
}

static void reload(struct sched *s)
{
    web_configure(s);   /* whatever becomes of workers.json */
    struct workers next;
    struct problems p = {0};
    if (workers_load(&s->spool, &next, &p) < 0 ||
        workers_check_transports(&s->spool, s->bindir, &p) < 0 || p.count) {
        for (size_t i = 0; i < p.count; i++)
            log_msg(LOG_ERROR, NULL, "workers.json not reloaded: %s", p.items[i]);
        problems_free(&p);
        workers_free(&next);
        return;
    }
    struct workers old = s->workers;
    s->workers = next;
    struct err e;
    if (slots_configure(s, &e) < 0) {   /* nothing changed: the slots still use OLD */
        s->workers = old;
        workers_free(&next);
        log_msg(LOG_ERROR, NULL, "workers.json not reloaded: %s", e.msg);
        return;
    }
    workers_free(&old);
    workers_health_refresh(s);
    log_msg(LOG_INFO, NULL, "workers.json reloaded: %zu workers, %zu slots", s->workers.n,
            s->n_slots);
    dispatch(s);
}

static void on_kill_timer(uv_timer_t *t)
{
    struct sched *s = t->data;
    for (size_t i = 0; i < s->n_slots; i++)
        if (s->slots[i]->shipper.proc)
            uv_process_kill(s->slots[i]->shipper.proc, SIGKILL);
    for (size_t i = 0; i < s->n_daemons; i++)
        if (s->daemons[i]->child.proc)
            uv_process_kill(s->daemons[i]->child.proc, SIGKILL);
    if (s->deliverer.proc)
        uv_process_kill(s->deliverer.proc, SIGKILL);
    if (s->intake.proc)
        uv_process_kill(s->intake.proc, SIGKILL);
    if (s->web.proc)
        uv_process_kill(s->web.proc, SIGKILL);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct sched *s = h->data;
    if (signum == SIGHUP) {
        reload(s);
        return;
    }
    if (s->stopping)
        return;
    log_msg(LOG_INFO, NULL, "stopping on signal %d; %zu jobs stay queued", signum, s->n_pending);
    s->stopping = true;
    uv_fs_event_stop(&s->incoming_watch);
    uv_fs_event_stop(&s->deferred_watch);
    uv_fs_event_stop(&s->health_watch);
    uv_timer_stop(&s->rescan_timer);
    uv_timer_stop(&s->deferred_timer);
    uv_timer_stop(&s->snapshot_timer);
    snapshot_remove(s);
    slots_stop_all(s);
    child_stop(&s->deliverer);
    child_stop(&s->intake);
    child_stop(&s->web);
    if (s->children_running == 0)
        uv_stop(s->loop);
    else
        uv_timer_start(&s->stop_timer, on_kill_timer, STOP_GRACE_MS, 0);
}

/* The spool's lock, for as long as this scheduler runs; -1 (said) if
 * another holds it. */
static int lock_spool(const struct sched *s)
{
    struct err e;
    int fd = scheduler_lock_take(&s->spool, &e);
    if (fd < 0)
        fprintf(stderr, "assay-scheduler: %s\n", e.msg);
    return fd;
}

static int start(struct sched *s, const char *root, const char *policy, double age_guard)
{
    struct err e;
    if (spool_open(&s->spool, root, &e) < 0) {
        fprintf(stderr, "assay-scheduler: %s\n", e.msg);
        return -1;
    }
    char *logpath = spool_path(&s->spool, "logs/assay.log"), *traces = spool_path(&s->spool, "logs/traces.log");
    if (log_open("assay-scheduler", logpath) < 0 || !logpath)
        fprintf(stderr, "assay-scheduler: cannot open %s/logs/assay.log: %s; logging here\n", root,
                logpath ? strerror(errno) : "out of memory");
    crash_install(traces, "assay-scheduler");
    free(logpath);
    free(traces);
    struct problems p = {0};
    if (!(s->bindir = fs_program_dir())) {
        fprintf(stderr, "assay-scheduler: out of memory\n");
        return -1;
    }
    if (workers_load(&s->spool, &s->workers, &p) < 0 ||
        workers_check_transports(&s->spool, s->bindir, &p) < 0 || p.count) {
        fprintf(stderr, "assay-scheduler: %s/workers.json is invalid:\n", root);
        for (size_t i = 0; i < p.count; i++)
            fprintf(stderr, "  %s\n", p.items[i]);
        problems_free(&p);
        return -1;
    }
    struct policy_env env = {.age_guard_s = age_guard};
    if (!(s->policy = policy_new(policy, &env))) {
        fprintf(stderr, "assay-scheduler: unknown policy \"%s\" (known: " POLICY_NAMES ")\n",
                policy);
        return -1;
    }
    if (!(s->table = calloc(SCHED_JOB_BUCKETS, sizeof *s->table))) {
        fprintf(stderr, "assay-scheduler: out of memory\n");
        return -1;
    }
    return 0;
}

/* Frees what start() made before the loop existed (it failed, or the
 * spool is locked by another scheduler). */
static void abandon_start(struct sched *s)
{
    if (s->policy)
        s->policy->destroy(s->policy);
    free(s->table);
    workers_free(&s->workers);
    free(s->bindir);
    spool_close(&s->spool);
    log_close();
}

static void watch_dir(struct sched *s, uv_fs_event_t *h, const char *sub, uv_fs_event_cb cb)
{
    char *dir = spool_path(&s->spool, "%s", sub);
    uv_fs_event_init(s->loop, h);
    h->data = s;
    int rc = dir ? uv_fs_event_start(h, cb, dir, 0) : UV_ENOMEM;
    if (rc < 0)
        log_msg(LOG_ERROR, NULL, "cannot watch %s/: %s; changes there are seen at the rescan "
                "every %d s", sub, uv_strerror(rc), SCHED_RESCAN_MS / 1000);
    free(dir);
}

static void init_loop(struct sched *s)
{
    s->loop = uv_default_loop();
    watch_dir(s, &s->incoming_watch, SPOOL_INCOMING, on_incoming);
    watch_dir(s, &s->deferred_watch, SPOOL_DEFERRED, on_deferred);
    watch_dir(s, &s->health_watch, "health", on_health);
    uv_timer_t *timers[] = {&s->deferred_timer, &s->rescan_timer, &s->stop_timer};
    for (int i = 0; i < 3; i++) {
        uv_timer_init(s->loop, timers[i]);
        timers[i]->data = s;
    }
    uv_signal_t *sigs[] = {&s->sigterm, &s->sigint, &s->sighup};
    int nums[] = {SIGTERM, SIGINT, SIGHUP};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(s->loop, sigs[i]);
        sigs[i]->data = s;
        uv_signal_start(sigs[i], on_signal, nums[i]);
    }
    uv_timer_start(&s->rescan_timer, on_rescan, SCHED_RESCAN_MS, SCHED_RESCAN_MS);
    snapshot_init(s);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void shutdown_all(struct sched *s)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        child_free(&s->slots[i]->shipper);
        uv_close((uv_handle_t *)s->slots[i]->watch, sched_free_handle);
        json_decref(s->slots[i]->config);
        free(s->slots[i]->dir);
    }
    for (size_t i = 0; i < s->n_daemons; i++) {
        child_free(&s->daemons[i]->child);
        json_decref(s->daemons[i]->config);
    }
    child_free(&s->deliverer);
    child_free(&s->intake);
    child_free(&s->web);
    uv_walk(s->loop, close_walk, NULL);
    uv_run(s->loop, UV_RUN_DEFAULT);
    for (size_t i = 0; i < s->n_slots; i++)
        free(s->slots[i]);
    for (size_t i = 0; i < s->n_daemons; i++)
        free(s->daemons[i]);
    free(s->slots);
    free(s->daemons);
    pending_free_all(s);
    free(s->table);
    s->policy->destroy(s->policy);
    strmap_free(&s->newest, NULL);
    strmap_free(&s->names, free);   /* values: warn_if_stuck's last warning times */
    catalog_free(s);
    workers_free(&s->workers);
    free(s->bindir);
    uv_loop_close(s->loop);
    spool_close(&s->spool);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"policy", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {"version", no_argument, NULL, 'v'},
        {"age-guard", required_argument, NULL, 'g'}, {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *policy = "fair";
    double age_guard = POLICY_AGE_GUARD_S;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': root = optarg; break;
        case 'p': policy = optarg; break;
        case 'g':
            age_guard = strtod(optarg, &end);
            if (*end || !(age_guard > 0)) {
                fprintf(stderr, "assay-scheduler: --age-guard needs a number of seconds > 0\n");
                return 2;
            }
            break;
        case 'v': printf("assay-scheduler %s\n", ASSAY_VERSION); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    struct sched s = {0};
    int lock = -1;
    if (start(&s, spool_root_from(root), policy, age_guard) < 0 || (lock = lock_spool(&s)) < 0) {
        abandon_start(&s);
        return 1;
    }
    s.lock_fd = lock;
    init_loop(&s);
    struct err e;
    if (slots_configure(&s, &e) < 0) {
        log_msg(LOG_ERROR, NULL, "cannot start: %s", e.msg);
        fprintf(stderr, "assay-scheduler: %s\n", e.msg);
        shutdown_all(&s);
        close(lock);
        return 1;
    }
    workers_health_refresh(&s);
    web_configure(&s);
    pending_scan(&s);
    deferred_scan(&s);
    log_msg(LOG_INFO, NULL, "assay-scheduler %s started: %zu workers, %zu slots, %zu jobs "
            "queued, policy %s", ASSAY_VERSION, s.workers.n, s.n_slots, s.n_pending, policy);
    dispatch(&s);
    deliverer_refresh(&s);
    intake_refresh(&s);
    uv_run(s.loop, UV_RUN_DEFAULT);
    log_msg(LOG_INFO, NULL, "stopped");
    shutdown_all(&s);
    scheduler_lock_seen(lock);   /* the last moment it ran, for `assay status` */
    close(lock);
    log_close();
    return 0;
}
