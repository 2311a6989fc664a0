/*
 * main.c - assay-deliver: sends the spool's deliveries (grades to
 * Canvas) to their destinations, with retries, exactly once.
 *
 *   assay-deliver --spool S [--die-with-parent]     the daemon (assay-scheduler starts it)
 *   assay-deliver --spool S --roster COURSE         import COURSE's Canvas roster (roster.c)
 *
 * One process per spool, on a libuv loop: it watches
 * deliveries/pending/ (inotify, and a tick every second for deliveries
 * whose backoff ends), and for each course and destination (a "lane")
 * sends one exchange at a time, so a course's deliveries reach its
 * service in order and a slow or throttling service holds up only its
 * own course.  Requests go through libcurl's multi interface on the same
 * loop (http.c).  What to send and what an answer means is the
 * destination's (destination.h); the moves between states are
 * spool/delivery.c's.  On start-up, deliveries left in sending/ by a
 * process that died are put back, marked unsure, so the destination
 * checks before sending them again.  SIGTERM stops it at once: what was
 * in flight is recovered the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <uv.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/crash.h"
#include "common/log.h"
#include "deliver/deliver.h"
#include "deliver/http.h"
#include "deliver/pending.h"

#define TICK_MS 1000

struct deliverer {
    uv_loop_t *loop;
    struct spool spool;
    struct http *http;
    uv_timer_t tick, soon;
    uv_fs_event_t watch;
    uv_signal_t sigterm, sigint;
    char **busy;                    /* the lanes with an exchange in flight */
    size_t n_busy;
    struct run *runs;               /* the exchanges in flight, a list */
    struct pending pending;         /* what pending/ holds */
    bool stopping;
};

/* One exchange in flight. */
struct run {
    struct run *prev, *next;
    struct deliverer *dv;
    char lane[200];
    struct dest_exchange x;
    struct delivery *ds;
    uv_timer_t delay;
};

static const char usage[] =
    "Usage: assay-deliver --spool S [--die-with-parent]\n"
    "       assay-deliver --spool S --roster COURSE\n"
    "Sends the spool's deliveries (grades to Canvas) with retries; started by\n"
    "assay-scheduler. --roster imports a course's Canvas roster into\n"
    "courses/COURSE/roster.json (`assay canvas roster` runs it).\n";

static void scan_soon(struct deliverer *dv);

/* ---- lanes ---- */

static bool lane_busy(const struct deliverer *dv, const char *lane)
{
    for (size_t i = 0; i < dv->n_busy; i++)
        if (!strcmp(dv->busy[i], lane))
            return true;
    return false;
}

static int lane_take(struct deliverer *dv, const char *lane)
{
    char **b = realloc(dv->busy, (dv->n_busy + 1) * sizeof *b);
    if (!b)
        return -1;
    dv->busy = b;
    if (!(b[dv->n_busy] = strdup(lane)))
        return -1;
    dv->n_busy++;
    return 0;
}

static void lane_free(struct deliverer *dv, const char *lane)
{
    for (size_t i = 0; i < dv->n_busy; i++)
        if (!strcmp(dv->busy[i], lane)) {
            free(dv->busy[i]);
            dv->busy[i] = dv->busy[--dv->n_busy];
            return;
        }
}

/* ---- settling ---- */

static void free_run_handle(uv_handle_t *h)
{
    struct run *r = h->data;
    for (size_t i = 0; i < r->x.n; i++)
        delivery_free(&r->ds[i]);
    free(r->ds);
    free(r->x.items);
    free(r);
}

static void run_unlink(struct run *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        r->dv->runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
}

static void run_end(struct run *r)
{
    struct deliverer *dv = r->dv;
    r->x.kind->end(&r->x);
    dest_request_clear(&r->x.req);
    lane_free(dv, r->lane);
    run_unlink(r);
    uv_close((uv_handle_t *)&r->delay, free_run_handle);
    scan_soon(dv);
}

/* An item to retry, or dead once its attempts are used up. */
static void settle_retry(struct run *r, struct dest_item *it)
{
    struct deliverer *dv = r->dv;
    struct delivery *d = it->d;
    struct err e;
    const struct dest_retry *rt = &r->x.retry;
    if (d->tries + 1 >= rt->max_attempts) {
        char reason[1400];
        snprintf(reason, sizeof reason, "gave up after %d attempts; the last: %s; `assay sync "
                 "retry --course %s --student %s` sends it again", d->tries + 1, it->note,
                 d->course, d->student);
        if (delivery_dead(&dv->spool, d, "attempts", reason, &e) < 0)
            log_msg(LOG_ERROR, d->job_id, "cannot move delivery %s to dead/: %s", d->key, e.msg);
        else
            log_msg(LOG_ERROR, d->job_id, "not delivered to %s for %s/%s/%s: %s", d->dest,
                    d->course, d->assignment, d->student, reason);
        return;
    }
    double wait = fmax(backoff_delay(d->tries + 1, rt->first_s, rt->max_s), it->retry_after);
    if (delivery_defer(&dv->spool, d, it->note, clock_wall() + wait, it->unsure, &e) < 0)
        log_msg(LOG_ERROR, d->job_id, "cannot put delivery %s back in pending/: %s", d->key,
                e.msg);
    else
        log_msg(LOG_WARN, d->job_id, "delivery to %s for %s/%s/%s failed (attempt %d of %d; "
                "next in %.1f s): %s", d->dest, d->course, d->assignment, d->student, d->tries,
                rt->max_attempts, wait, it->note);
}

static void settle_item(struct run *r, struct dest_item *it)
{
    struct deliverer *dv = r->dv;
    struct delivery *d = it->d;
    struct err e;
    switch (it->state) {
    case DEST_ITEM_DONE:
        if (delivery_done(&dv->spool, d, it->note, &e) < 0)
            log_msg(LOG_ERROR, d->job_id, "cannot move delivery %s to done/: %s", d->key, e.msg);
        else
            log_msg(LOG_INFO, d->job_id, "delivered to %s: %s", d->dest, it->note);
        break;
    case DEST_ITEM_DEAD:
        if (delivery_dead(&dv->spool, d, it->category ? it->category : "refused", it->note,
                          &e) < 0)
            log_msg(LOG_ERROR, d->job_id, "cannot move delivery %s to dead/: %s", d->key, e.msg);
        else
            log_msg(LOG_ERROR, d->job_id, "not delivered to %s for %s/%s/%s: %s", d->dest,
                    d->course, d->assignment, d->student, it->note);
        break;
    case DEST_ITEM_OPEN:   /* a destination's mistake: tried again */
        snprintf(it->note, sizeof it->note, "the %s destination left it unsettled", d->dest);
        settle_retry(r, it);
        break;
    case DEST_ITEM_RETRY:
        settle_retry(r, it);
        break;
    }
}

static void settle_run(struct run *r)
{
    for (size_t i = 0; i < r->x.n; i++)
        settle_item(r, &r->x.items[i]);
    run_end(r);
}

/* ---- sending ---- */

static void step(struct run *r, enum dest_step s);

static void on_answer(void *arg, const struct dest_answer *a)
{
    struct run *r = arg;
    if (r->dv->stopping)
        return;
    step(r, r->x.kind->answer(&r->x, a));
}

static void send_now(struct run *r)
{
    struct err e;
    if (http_send(r->dv->http, &r->x.req, r->x.retry.timeout_s, on_answer, r, &e) < 0) {
        dest_settle_all(&r->x, DEST_ITEM_RETRY, NULL, "%s", e.msg);
        settle_run(r);
        return;
    }
    dest_request_drop_token(&r->x.req);   /* http.c has its own copy */
}

static void on_delay(uv_timer_t *t)
{
    send_now(t->data);
}

static void step(struct run *r, enum dest_step s)
{
    if (s == DEST_SETTLED) {
        settle_run(r);
    } else if (r->x.req.delay_s > 0) {
        uv_timer_start(&r->delay, on_delay, (uint64_t)(r->x.req.delay_s * 1000), 0);
    } else {
        send_now(r);
    }
}

/* Starts the exchange of deliveries DS[0..N) (taken into sending/). */
static void run_start(struct deliverer *dv, const struct dest_kind *kind, struct delivery *ds,
                      size_t n, const char *lane)
{
    struct run *r = calloc(1, sizeof *r);
    struct dest_item *items = calloc(n, sizeof *items);
    if (!r || !items || lane_take(dv, lane) < 0) {
        log_msg(LOG_ERROR, NULL, "out of memory starting deliveries; they wait in sending/ "
                "until assay-deliver restarts");
        free(r);
        free(items);
        for (size_t i = 0; i < n; i++)
            delivery_free(&ds[i]);
        free(ds);
        return;
    }
    r->dv = dv;
    snprintf(r->lane, sizeof r->lane, "%s", lane);
    r->ds = ds;
    for (size_t i = 0; i < n; i++)
        items[i].d = &ds[i];
    r->x = (struct dest_exchange){.kind = kind, .spool = &dv->spool, .course = ds[0].course,
                                  .items = items, .n = n};
    dest_retry_defaults(&r->x.retry);
    uv_timer_init(dv->loop, &r->delay);
    r->delay.data = r;
    r->next = dv->runs;
    if (dv->runs)
        dv->runs->prev = r;
    dv->runs = r;
    step(r, kind->begin(&r->x));
}

/* ---- the scan ---- */

/* Takes the deliveries of GROUP (loaded, due, one lane) into sending/
 * and starts their exchange; each one gone meanwhile is dropped. */
static void launch(struct deliverer *dv, const struct dest_kind *kind, struct delivery *group,
                   size_t n, const char *lane)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        struct err e;
        pending_forget(&dv->pending, group[i].key);
        int rc = delivery_take(&dv->spool, group[i].key, &e);
        if (rc == 0) {
            group[kept++] = group[i];
            continue;
        }
        if (rc < 0)
            log_msg(LOG_ERROR, group[i].job_id, "cannot take delivery %s: %s", group[i].key,
                    e.msg);
        delivery_free(&group[i]);
    }
    if (kept)
        run_start(dv, kind, group, kept, lane);
    else
        free(group);
}

/* True when entry B may go in the same bulk request as A. */
static bool same_batch(const struct pending_entry *a, const struct pending_entry *b, double now)
{
    return !b->skip && !b->stale && b->batch && b->due <= now && !strcmp(a->lane, b->lane) &&
           !strcmp(a->assignment, b->assignment);
}

/* Loads the deliveries of entries IDX[0..N) and launches them; those that
 * cannot be read now are left for the next scan. */
static void start_group(struct deliverer *dv, size_t *idx, size_t n, const char *lane)
{
    struct delivery *group = calloc(n, sizeof *group);
    if (!group)
        return;   /* out of memory: they wait for the next scan */
    size_t k = 0;
    const struct dest_kind *kind = NULL;
    for (size_t i = 0; i < n; i++) {
        struct err e;
        const char *key = dv->pending.v[idx[i]].key;
        if (delivery_load(&dv->spool, DELIVERY_PENDING, key, &group[k], &e) == 0 &&
            (kind = dest_find(group[k].dest)))
            k++;
        else
            pending_forget(&dv->pending, key);   /* read again (and buried) at the next scan */
    }
    if (k)
        launch(dv, kind, group, k, lane);
    else
        free(group);
}

static void scan(struct deliverer *dv)
{
    if (pending_refresh(&dv->pending, &dv->spool) < 0)
        log_msg(LOG_WARN, NULL, "out of memory reading pending deliveries; sending those read");
    double now = clock_wall();
    struct pending *p = &dv->pending;
    size_t *idx = calloc(p->n ? p->n : 1, sizeof *idx);
    for (size_t i = 0; idx && i < p->n; i++) {
        struct pending_entry *e = &p->v[i];
        if (e->skip || e->stale || e->due > now || lane_busy(dv, e->lane))
            continue;
        const struct dest_kind *kind = dest_find(strchr(e->lane, '/') + 1);
        size_t n = 0, max = e->batch && kind ? kind->max_batch : 1;
        idx[n++] = i;
        for (size_t j = i + 1; j < p->n && n < max; j++)
            if (same_batch(e, &p->v[j], now))
                idx[n++] = j;
        char lane[sizeof e->lane];
        snprintf(lane, sizeof lane, "%s", e->lane);
        start_group(dv, idx, n, lane);
    }
    free(idx);
}

static void on_soon(uv_timer_t *t)
{
    struct deliverer *dv = t->data;
    if (!dv->stopping)
        scan(dv);
}

/* A scan on the next turn of the loop; many events make one scan. */
static void scan_soon(struct deliverer *dv)
{
    if (!dv->stopping && !uv_is_active((uv_handle_t *)&dv->soon))
        uv_timer_start(&dv->soon, on_soon, 0, 0);
}

static void on_tick(uv_timer_t *t)
{
    scan_soon(t->data);
}

static void on_pending_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    scan_soon(h->data);
}

/* ---- the process ---- */

static void close_walk(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct deliverer *dv = s->data;
    log_msg(LOG_INFO, NULL, "assay-deliver stopping (signal %d); what was being sent is "
            "checked at the next start", signum);
    dv->stopping = true;
    uv_stop(dv->loop);
}

static int setup(struct deliverer *dv, const char *root, struct err *e)
{
    if (spool_open(&dv->spool, root, e) < 0)
        return -1;
    char *logpath = spool_path(&dv->spool, "logs/assay.log");
    char *traces = spool_path(&dv->spool, "logs/traces.log");
    if (log_open("assay-deliver", logpath) < 0 || !logpath)
        fprintf(stderr, "assay-deliver: cannot open %s/logs/assay.log: %s; logging here\n", root,
                logpath ? strerror(errno) : "out of memory");
    crash_install(traces, "assay-deliver");
    free(logpath);
    free(traces);
    int moved = delivery_recover(&dv->spool, e);
    if (moved < 0)
        return -1;
    if (moved)
        log_msg(LOG_INFO, NULL, "%d deliveries were being sent when assay-deliver last stopped; "
                "each is checked with its destination before it is sent again", moved);
    if (!(dv->http = http_new(dv->loop, e)))
        return -1;
    return 0;
}

static int watch(struct deliverer *dv, struct err *e)
{
    uv_timer_init(dv->loop, &dv->tick);
    uv_timer_init(dv->loop, &dv->soon);
    dv->tick.data = dv->soon.data = dv;
    uv_timer_start(&dv->tick, on_tick, TICK_MS, TICK_MS);
    uv_fs_event_init(dv->loop, &dv->watch);
    dv->watch.data = dv;
    char *dir = spool_path(&dv->spool, "%s", DELIVERY_PENDING);
    int rc = dir ? uv_fs_event_start(&dv->watch, on_pending_event, dir, 0) : UV_ENOMEM;
    free(dir);
    if (rc < 0)   /* the tick still finds everything, a second late */
        log_msg(LOG_WARN, NULL, "cannot watch %s/: %s; deliveries are found every second",
                DELIVERY_PENDING, uv_strerror(rc));
    uv_signal_init(dv->loop, &dv->sigterm);
    uv_signal_init(dv->loop, &dv->sigint);
    dv->sigterm.data = dv->sigint.data = dv;
    uv_signal_start(&dv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&dv->sigint, on_signal, SIGINT);
    (void)e;
    return 0;
}

static int daemon_run(const char *root)
{
    struct deliverer dv = {0};
    struct err e;
    dv.loop = uv_default_loop();
    if (setup(&dv, root, &e) < 0 || watch(&dv, &e) < 0) {
        log_msg(LOG_ERROR, NULL, "assay-deliver cannot start: %s", e.msg);
        fprintf(stderr, "assay-deliver: %s\n", e.msg);
        spool_close(&dv.spool);
        return 1;
    }
    log_msg(LOG_INFO, NULL, "assay-deliver started");
    scan_soon(&dv);
    uv_run(dv.loop, UV_RUN_DEFAULT);
    /* stopping: what is in flight stays in sending/, recovered at the next start */
    http_free(dv.http);
    while (dv.runs) {   /* left in sending/: only our memory goes */
        struct run *r = dv.runs;
        r->x.kind->end(&r->x);
        dest_request_clear(&r->x.req);
        run_unlink(r);
        uv_close((uv_handle_t *)&r->delay, free_run_handle);
    }
    uv_walk(dv.loop, close_walk, NULL);
    uv_run(dv.loop, UV_RUN_DEFAULT);
    uv_loop_close(dv.loop);
    pending_free(&dv.pending);
    for (size_t i = 0; i < dv.n_busy; i++)
        free(dv.busy[i]);
    free(dv.busy);
    spool_close(&dv.spool);
    log_close();
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"die-with-parent", no_argument, NULL, 'p'},
        {"roster", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *roster = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': root = optarg; break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'r': roster = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default: fputs(usage, stderr); return 2;
        }
    }
    if (optind != argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "assay-deliver: libcurl cannot start\n");
        return 1;
    }
    int rc = roster ? roster_import(spool_root_from(root), roster) : daemon_run(spool_root_from(root));
    curl_global_cleanup();
    return rc;
}
