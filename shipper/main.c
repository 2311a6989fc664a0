/*
 * main.c - assay-shipper: the process that serves one worker slot.
 *
 *   assay-shipper --spool S --worker W --slot K [--die-with-parent]
 *
 * The scheduler hands a job to the slot by renaming its file into
 * shippers/W.K/; the shipper notices through inotify (no polling),
 * ships it (ship.c), and waits for the next.  It holds a lock on the
 * slot directory, so two shippers never serve one slot; a job already in
 * the directory when it starts (it or the scheduler crashed) is resumed.
 * All its state is on disk: SIGTERM or kill -9 loses no job and no
 * result.  SIGTERM waits while a result is being recorded, so its log
 * line is written too; a kill -9 at that moment can lose only that line.
 * --probe, --canary and --check-config serve `assay workers` and the
 * scheduler, which link no transport.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/crash.h"
#include "common/fs.h"
#include "common/log.h"
#include "shipper/shipper.h"
#include "spool/job.h"
#include "spool/scan.h"

/* How often an idle shipper checks its worker: with the daemon's
 * heartbeat going stale in HEARTBEAT_STALE_S, a worker that dies while
 * idle is called down within 10 s (a busy one is heard every second). */
#define PROBE_UP_MS 3000
#define PROBE_DOWN_MS 3000         /* ... and a worker that is down, at most */
#define START_GRACE_S 2.0          /* a worker starting with us may take this long */
#define STUCK_BACKOFF_MAX_S 60

static const char usage[] =
    "Usage: assay-shipper --spool S --worker W --slot K [--die-with-parent]\n"
    "       assay-shipper --spool S --worker W --probe\n"
    "       assay-shipper --spool S --worker W --canary\n"
    "       assay-shipper --spool S --check-config\n"
    "\n"
    "Serves slot K of worker W (from S/workers.json): ships each job the scheduler\n"
    "puts in S/shippers/W.K/ to the worker and records its result. Normally started\n"
    "by assay-scheduler. --probe contacts W once (for `assay workers check`) and\n"
    "prints what it answered as JSON, or {\"error\": why} and exits 1.\n"
    "--canary grades the canary assignments on W (one per test kind, and each\n"
    "Gradescope setup.sh of the spool's assignments W may grade) through its\n"
    "transport and prints their outcomes as a JSON list; it exits 1 if any failed.\n"
    "Nothing of it is recorded in the spool.\n"
    "--check-config checks every worker's transport keys in S/workers.json and\n"
    "prints one problem per line (exit 1), or nothing (exit 0).\n";

/* The oldest job file in the slot directory (normally there is one). */
static char *next_job(const struct shipper *sh)
{
    struct fs_list sc;
    if (scan_spool(&sh->spool, sh->slot_dir, SCAN_JOBS, &sc) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing slot %s", sh->slot_name);
    char *oldest = sc.n ? strdup(sc.names[0]) : NULL;
    if (sc.n && !oldest)
        log_msg(LOG_WARN, NULL, "out of memory taking job %s; trying again shortly", sc.names[0]);
    fs_list_free(&sc);
    return oldest;
}

/* Worker WORKER of the spool's workers.json, into SH. */
static int find_worker(struct shipper *sh, const char *worker, struct err *e)
{
    struct problems p = {0};
    if (workers_load(&sh->spool, &sh->workers, &p) < 0) {
        err_set(e, "workers.json is invalid: %s", p.count ? p.items[0] : "?");
        problems_free(&p);
        return -1;
    }
    if (!(sh->worker = workers_find(&sh->workers, worker)))
        return err_set(e, "workers.json has no worker named \"%s\"", worker);
    return 0;
}

static int setup(struct shipper *sh, const char *root, const char *worker, struct err *e)
{
    if (spool_open(&sh->spool, root, e) < 0)
        return -1;
    char *logpath = spool_path(&sh->spool, "logs/assay.log");
    char *traces = spool_path(&sh->spool, "logs/traces.log");
    if (log_open("assay-shipper", logpath) < 0 || !logpath)
        fprintf(stderr, "assay-shipper: cannot open %s/logs/assay.log: %s; logging here\n", root,
                logpath ? strerror(errno) : "out of memory");
    log_set_worker(worker);
    crash_install(traces, "assay-shipper");
    free(logpath);
    free(traces);
    if (find_worker(sh, worker, e) < 0)
        return -1;
    if (sh->slot < 1 || sh->slot > worker_shippers(sh->worker))
        return err_set(e, "worker %s has no slot %d", worker, sh->slot);
    spool_slot_name(sh->slot_name, sizeof sh->slot_name, worker, sh->slot);
    if (asprintf(&sh->slot_dir, SPOOL_SHIPPERS "/%s", sh->slot_name) < 0)
        return err_set(e, "out of memory");
    char *dir = spool_path(&sh->spool, "%s", sh->slot_dir);
    int rc = fs_mkdir_p(dir, 0755, e);
    free(dir);
    if (rc < 0)
        return -1;
    sh->transport = transport_open(sh->worker, sh->spool.root, e);
    return sh->transport ? 0 : -1;
}

/* Frees what setup made, however far it got (the shipper is exiting). */
static void teardown(struct shipper *sh)
{
    if (sh->transport)
        sh->transport->ops->destroy(sh->transport);
    sh->transport = NULL;
    free(sh->slot_dir);
    sh->slot_dir = NULL;
    workers_free(&sh->workers);
    spool_close(&sh->spool);
}

/* One shipper per slot: the second waits for the first to go. */
static int lock_slot(struct shipper *sh)
{
    char *path = spool_path(&sh->spool, "%s/.lock", sh->slot_dir);
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
        int saved = errno;
        close(fd);
        fd = -1;
        errno = saved;
    }
    if (fd < 0)
        log_msg(LOG_ERROR, NULL, "cannot lock slot %s (%s/.lock): %s", sh->slot_name, sh->slot_dir,
                path ? strerror(errno) : "out of memory");
    free(path);
    return fd;
}

/* The scheduler starts a local worker along with its shippers, and the
 * worker takes a moment to come up: allow it that, quietly, before the
 * first probe that counts (a down worker is an error in the log). */
static void await_worker_start(struct shipper *sh)
{
    double until = clock_mono() + START_GRACE_S;
    while (clock_mono() < until) {
        json_t *info = NULL;
        struct err e;   /* quietly: the probe that counts comes next (serve) */
        int rc = sh->transport->ops->probe(sh->transport, &info, &e);
        json_decref(info);
        if (rc == 0)
            return;
        usleep(50 * 1000);
    }
}

static void serve(struct shipper *sh)
{
    char *dir = spool_path(&sh->spool, "%s", sh->slot_dir);
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd < 0 || !dir || inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CREATE) < 0)
        log_msg(LOG_ERROR, NULL, "cannot watch slot %s: %s; a job handed to it waits up to %d s",
                sh->slot_name, dir ? strerror(errno) : "out of memory", PROBE_UP_MS / 1000);
    free(dir);
    await_worker_start(sh);
    bool up = shipper_check_worker(sh);
    if (up)
        shipper_drop_stale(sh);
    int stuck = 0;       /* rounds the same job stayed in the slot */
    int down = 0;        /* probes failed in a row; a worker just starting is up
                          * within moments, so the first waits are short */
    for (;;) {
        char *job = next_job(sh);
        if (job) {
            if (shipper_ship_job(sh, job) < 0)
                up = shipper_check_worker(sh);
            char *again = next_job(sh);
            /* Still there: the spool could not be written (a full disk?).
             * Back off instead of spinning; the job is safe where it is. */
            if (again && !strcmp(again, job)) {
                unsigned wait_s = (unsigned)backoff_delay(++stuck, 1, STUCK_BACKOFF_MAX_S);
                log_msg(LOG_WARN, NULL, "job %s is still in slot %s; retrying in %u s", job,
                        sh->slot_name, wait_s);
                sleep(wait_s);
            } else {
                stuck = 0;
            }
            free(again);
            free(job);
            shipper_drop_stale(sh);
            continue;
        }
        struct pollfd p = {fd, POLLIN, 0};
        int wait_ms = up ? PROBE_UP_MS : (int)backoff_delay(down + 1, 200, PROBE_DOWN_MS);
        if (poll(&p, 1, wait_ms) > 0) {
            char buf[4096] __attribute__((aligned(8)));
            while (read(fd, buf, sizeof buf) > 0) {
            }
        } else {
            bool was_up = up;
            up = shipper_check_worker(sh);
            down = up ? 0 : down + 1;
            if (up && !was_up)
                shipper_drop_stale(sh);   /* late results of jobs graded elsewhere */
        }
    }
}

/* `--probe`: the transports (libssh2, OpenSSL) live in this program only,
 * so that `assay`, which runs once per submission, starts fast. */
static int probe_once(const char *root, const char *worker)
{
    struct shipper sh = {0};
    struct err e = {{0}};
    json_t *info = NULL;
    if (spool_open(&sh.spool, root, &e) == 0 && find_worker(&sh, worker, &e) == 0 &&
        (sh.transport = transport_open(sh.worker, sh.spool.root, &e)) &&
        sh.transport->ops->probe(sh.transport, &info, &e) == 0)
        e.msg[0] = '\0';
    else if (!e.msg[0])
        err_set(&e, "no answer");
    json_t *out = e.msg[0] ? json_pack("{s:s}", "error", e.msg) : json_incref(info);
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{\"error\": \"out of memory\"}");
    int rc = e.msg[0] || !text ? 1 : 0;
    free(text);
    json_decref(out);
    json_decref(info);
    teardown(&sh);
    return rc;
}

/* `--canary`: canary gradings on the worker through its transport
 * (canary.c), for `assay workers check`; exit 0 when every one passed. */
static int canary_once(const char *root, const char *worker)
{
    struct shipper sh = {0};
    struct err e = {{0}};
    json_t *out = NULL;
    if (spool_open(&sh.spool, root, &e) == 0 && find_worker(&sh, worker, &e) == 0 &&
        (sh.transport = transport_open(sh.worker, sh.spool.root, &e)))
        out = shipper_canaries(&sh, &e);
    bool ok = out != NULL;
    size_t i;
    const json_t *o;
    json_array_foreach(out, i, o)
        ok &= json_is_true(json_object_get(o, "ok"));
    json_t *shown = out ? json_incref(out) : json_pack("{s:s}", "error", e.msg);
    char *text = shown ? json_dumps(shown, JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{\"error\": \"out of memory\"}");
    free(text);
    json_decref(shown);
    json_decref(out);
    teardown(&sh);
    return ok ? 0 : 1;
}

/* `--check-config`: the transports' own keys, which only this program
 * knows; the scheduler and `assay workers` ask it (spool/workers.c). */
static int check_config(const char *root)
{
    struct spool s;
    struct workers w;
    struct problems p = {0};
    struct err e;
    if (spool_open(&s, root, &e) < 0) {
        printf("workers.json: %s\n", e.msg);
        return 1;
    }
    if (workers_load(&s, &w, &p) == 0)
        transports_check(&w, &p);
    for (size_t i = 0; i < p.count; i++)
        printf("%s\n", p.items[i]);
    int rc = p.count ? 1 : 0;
    problems_free(&p);
    workers_free(&w);
    spool_close(&s);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"worker", required_argument, NULL, 'w'},
        {"slot", required_argument, NULL, 'k'},  {"die-with-parent", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},        {"probe", no_argument, NULL, 'P'},
        {"check-config", no_argument, NULL, 'C'}, {"canary", no_argument, NULL, 'Y'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *worker = NULL;
    bool probe = false, check = false, canary = false;
    struct shipper sh = {0};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': root = optarg; break;
        case 'w': worker = optarg; break;
        case 'k': sh.slot = atoi(optarg); break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'P': probe = true; break;
        case 'C': check = true; break;
        case 'Y': canary = true; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (check && optind == argc)
        return check_config(spool_root_from(root));
    if (probe && worker && optind == argc)
        return probe_once(spool_root_from(root), worker);
    if (canary && worker && optind == argc)
        return canary_once(spool_root_from(root), worker);
    if (!worker || sh.slot < 1 || optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    struct err e;
    if (setup(&sh, spool_root_from(root), worker, &e) < 0) {
        log_msg(LOG_ERROR, NULL, "assay-shipper cannot start: %s", e.msg);
        fprintf(stderr, "assay-shipper: %s\n", e.msg);
        teardown(&sh);
        return 1;
    }
    if (lock_slot(&sh) < 0) {   /* logged why */
        teardown(&sh);
        return 1;
    }
    log_msg(LOG_INFO, NULL, "shipper for slot %s started", sh.slot_name);
    serve(&sh);
    return 0;
}
