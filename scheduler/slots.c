/*
 * slots.c - worker slots, and handing jobs to the idle ones.
 *
 * Every slot listed in workers.json has a directory shippers/W.K/ and a
 * shipper.  A slot is busy while a job file is in its directory; the
 * scheduler watches each directory, so a slot freed by its shipper is
 * refilled at once.  dispatch() asks the policy for a job for each idle
 * slot of an enabled worker and hands it over with one rename from
 * incoming/ into the slot's directory.  Slots are visited by slot number
 * first, so load spreads across workers.  On SIGHUP the slots are
 * rebuilt from the new workers.json: new ones start, removed ones stop
 * and their job goes back to incoming/, changed ones restart.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/log.h"
#include "scheduler/scheduler.h"
#include "spool/health.h"
#include "spool/queue.h"
#include "spool/scan.h"

void slots_refresh(struct slot *slot)
{
    struct fs_list sc;
    slot->job[0] = '\0';
    if (scan_dir(slot->dir, SCAN_JOBS, &sc) < 0)
        log_msg_for(LOG_WARN, slot->worker->name, NULL, "out of memory listing slot %s",
                    slot->name);
    if (sc.n > 0 && !job_name_to_id(sc.names[0], slot->job, sizeof slot->job))
        slot->job[0] = '\0';
    fs_list_free(&sc);
}

static void on_slot_event(uv_fs_event_t *h, const char *name, int events, int status)
{
    (void)name;
    (void)events;
    (void)status;
    struct slot *slot = h->data;
    bool was_busy = slot->job[0];
    slots_refresh(slot);
    if (was_busy && !slot->job[0])
        dispatch(slot->s);
}

static bool hand_over(struct sched *s, struct slot *slot, struct sched_job *j)
{
    struct err e;
    int rc = queue_hand_to_slot(&s->spool, j->id, slot->rel, &e);
    if (rc == 0) {
        snprintf(slot->job, sizeof slot->job, "%s", j->id);
        log_msg_for(LOG_INFO, slot->worker->name, j->id, "assigned to slot %s", slot->name);
    } else if (rc < 0) {
        log_msg_for(LOG_ERROR, slot->worker->name, j->id, "cannot hand the job to slot %s: %s",
                    slot->name, e.msg);
    }   /* 1: its file went away meanwhile (held, requeued): nothing to hand over */
    return rc == 0;
}

/* Marks each worker available or not from health/ (written by shippers). */
void workers_health_refresh(struct sched *s)
{
    for (size_t i = 0; i < s->workers.n; i++) {
        struct worker_cfg *w = &s->workers.v[i];
        json_t *h = health_read(&s->spool, w->name);
        bool available = !h || health_available(h);
        if (available != w->available)
            log_msg_for(available ? LOG_INFO : LOG_WARN, w->name, NULL, "worker %s %s", w->name,
                    available ? "takes jobs again" : "takes no new jobs (see assay workers)");
        w->available = available;
        json_decref(h);
    }
}

void dispatch(struct sched *s)
{
    if (s->stopping)
        return;
    for (size_t i = 0; i < s->n_slots && s->n_pending > 0; i++) {
        struct slot *slot = s->slots[i];
        if (slot->job[0] || !slot->worker->enabled || !slot->worker->available)
            continue;
        struct sched_job *j;
        while ((j = s->policy->pick(s->policy, slot->worker, &s->workers))) {
            bool ok = hand_over(s, slot, j);
            pending_drop(s, j);   /* handed over, or its file is gone */
            if (ok)
                break;
        }
    }
}

static const json_t *worker_json(const struct workers *w, const struct worker_cfg *cfg)
{
    return json_array_get(json_object_get(w->json, "workers"), (size_t)(cfg - w->v));
}

static char **shipper_argv(struct sched *s, const struct slot *slot)
{
    char *exe = fs_join(s->bindir, "assay-shipper"), k[16];
    snprintf(k, sizeof k, "%d", slot->index);
    char **argv = child_argv(exe, "--spool", s->spool.root, "--worker", slot->worker->name,
                             "--slot", k, "--die-with-parent", NULL);
    free(exe);
    return argv;
}

static void slot_lost(const struct worker_cfg *w, int k)
{
    log_msg_for(LOG_ERROR, w->name, NULL, "cannot set up slot %s.%d: out of memory; it is left "
                "out until workers.json is reloaded", w->name, k);
}

/* A new slot K of worker W, its directory watched and its shipper
 * started; NULL (logged) if memory ran out. */
static struct slot *slot_new(struct sched *s, const struct worker_cfg *w, int k)
{
    struct slot *slot = calloc(1, sizeof *slot);
    if (!slot) {
        slot_lost(w, k);
        return NULL;
    }
    slot->s = s;
    slot->worker = w;
    slot->index = k;
    spool_slot_name(slot->name, sizeof slot->name, w->name, k);
    snprintf(slot->rel, sizeof slot->rel, SPOOL_SHIPPERS "/%s", slot->name);
    slot->dir = spool_path(&s->spool, "%s", slot->rel);
    slot->watch = calloc(1, sizeof *slot->watch);
    slot->shipper.argv = shipper_argv(s, slot);
    if (!slot->dir || !slot->watch || !slot->shipper.argv) {
        slot_lost(w, k);
        child_free(&slot->shipper);
        free(slot->watch);
        free(slot->dir);
        free(slot);
        return NULL;
    }
    struct err e;
    if (fs_mkdir_p(slot->dir, 0755, &e) < 0)   /* its shipper tries again, and says so too */
        log_msg_for(LOG_ERROR, w->name, NULL, "slot %s: %s", slot->name, e.msg);
    uv_fs_event_init(s->loop, slot->watch);
    slot->watch->data = slot;
    int rc = uv_fs_event_start(slot->watch, on_slot_event, slot->dir, 0);
    if (rc < 0)
        log_msg_for(LOG_WARN, w->name, NULL, "cannot watch %s: %s; a job finished there is "
                    "noticed at the next rescan", slot->dir, uv_strerror(rc));
    slots_refresh(slot);
    if (slot->job[0])
        log_msg_for(LOG_INFO, w->name, slot->job, "re-adopted in slot %s", slot->name);
    slot->shipper.s = s;
    snprintf(slot->shipper.label, sizeof slot->shipper.label, "shipper %s", slot->name);
    snprintf(slot->shipper.worker, sizeof slot->shipper.worker, "%s", w->name);
    child_start(&slot->shipper);
    return slot;
}

static void slot_release(void *owner)
{
    struct slot *slot = owner;
    json_decref(slot->config);
    free(slot->dir);
    free(slot);
}

/* Stops a slot that left workers.json; its job goes back to the queue.
 * The slot is freed once its shipper has exited. */
static void slot_remove(struct sched *s, struct slot *slot)
{
    uv_fs_event_stop(slot->watch);
    uv_close((uv_handle_t *)slot->watch, sched_free_handle);
    slots_refresh(slot);
    if (slot->job[0] && !s->stopping) {
        struct err e;
        int rc = queue_unassign(&s->spool, slot->job, slot->rel, &e);
        if (rc == 0)
            log_msg_for(LOG_INFO, slot->worker->name, slot->job, "slot %s was removed; job requeued",
                        slot->name);
        else if (rc < 0)
            log_msg_for(LOG_ERROR, slot->worker->name, slot->job, "slot %s was removed, but its "
                        "job stays there: %s", slot->name, e.msg);
    }
    log_msg_for(LOG_INFO, slot->worker->name, NULL, "slot %s removed", slot->name);
    child_retire(&slot->shipper, slot_release, slot);
}

static struct slot *take_slot(struct slot **old, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (old[i] && !strcmp(old[i]->name, name)) {
            struct slot *slot = old[i];
            old[i] = NULL;
            return slot;
        }
    return NULL;
}

static void daemon_release(void *owner)
{
    struct daemon_proc *d = owner;
    json_decref(d->config);
    free(d);
}

/* A local worker's assay-worker, started; NULL (logged) if memory ran out. */
static struct daemon_proc *daemon_new(struct sched *s, const struct worker_cfg *w,
                                      const json_t *cfg)
{
    struct daemon_proc *d = calloc(1, sizeof *d);
    char *exe = fs_join(s->bindir, "assay-worker"), *log = spool_path(&s->spool, "logs/assay.log");
    char *traces = spool_path(&s->spool, "logs/traces.log");
    const struct installation *in = &s->workers.installation;
    char slots[16], uids[32];
    snprintf(slots, sizeof slots, "%d", w->slots);
    installation_format_uids(in, uids, sizeof uids);
    /* no --sandbox: assay-worker's default; an empty --installation: the unnamed one */
    char **argv = child_argv(exe, "--dir", w->dir, "--slots", slots, "--name", w->name,
                             "--log", log, "--traces", traces, "--die-with-parent",
                             "--installation", in->name, "--uids", uids,
                             w->sandbox ? "--sandbox" : NULL, w->sandbox, NULL);
    free(exe);
    free(log);
    free(traces);
    json_t *copy = json_deep_copy(cfg);
    if (!d || !argv || !copy) {
        log_msg_for(LOG_ERROR, w->name, NULL, "cannot start worker %s: out of memory; it is "
                    "left out until workers.json is reloaded", w->name);
        child_argv_free(argv);
        json_decref(copy);
        free(d);
        return NULL;
    }
    d->config = copy;
    d->installation = *in;
    snprintf(d->name, sizeof d->name, "%s", w->name);
    d->child.s = s;
    d->child.argv = argv;
    snprintf(d->child.label, sizeof d->child.label, "worker %s", w->name);
    snprintf(d->child.worker, sizeof d->child.worker, "%s", w->name);
    child_start(&d->child);
    return d;
}

static int configure_daemons(struct sched *s, struct err *e)
{
    struct daemon_proc **next = calloc(s->workers.n + 1, sizeof *next);
    if (!next)
        return err_set(e, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < s->workers.n; i++) {
        const struct worker_cfg *w = &s->workers.v[i];
        if (!w->local)
            continue;
        const json_t *cfg = worker_json(&s->workers, w);
        struct daemon_proc *d = NULL;
        for (size_t j = 0; j < s->n_daemons && !d; j++)
            if (s->daemons[j] && !strcmp(s->daemons[j]->name, w->name) &&
                json_equal(s->daemons[j]->config, cfg) &&
                installation_equal(&s->daemons[j]->installation, &s->workers.installation)) {
                d = s->daemons[j];
                s->daemons[j] = NULL;
            }
        if (!d)
            d = daemon_new(s, w, cfg);
        if (d)
            next[n++] = d;
    }
    for (size_t j = 0; j < s->n_daemons; j++)
        if (s->daemons[j])
            child_retire(&s->daemons[j]->child, daemon_release, s->daemons[j]);
    free(s->daemons);
    s->daemons = next;
    s->n_daemons = n;
    return 0;
}

int slots_configure(struct sched *s, struct err *e)
{
    int max = 0;
    size_t cap = 0;
    for (size_t i = 0; i < s->workers.n; i++) {
        max = worker_shippers(&s->workers.v[i]) > max ? worker_shippers(&s->workers.v[i]) : max;
        cap += (size_t)worker_shippers(&s->workers.v[i]);
    }
    /* all the memory first: out of memory, nothing has changed */
    struct slot **next = calloc(cap + 1, sizeof *next);
    if (!next || configure_daemons(s, e) < 0) {   /* workers first: their shippers probe them */
        free(next);
        return err_set(e, "out of memory");
    }
    struct slot **old = s->slots;
    size_t n_old = s->n_slots, n = 0;
    s->slots = next;
    for (int k = 1; k <= max; k++) {
        for (size_t i = 0; i < s->workers.n; i++) {
            const struct worker_cfg *w = &s->workers.v[i];
            if (k > worker_shippers(w))
                continue;
            char name[160];
            spool_slot_name(name, sizeof name, w->name, k);
            struct slot *slot = take_slot(old, n_old, name);
            const json_t *cfg = worker_json(&s->workers, w);
            if (!slot) {
                if (!(slot = slot_new(s, w, k)))
                    continue;   /* logged; left out */
            } else if (!json_equal(slot->config, (json_t *)cfg)) {
                log_msg_for(LOG_INFO, w->name, NULL, "worker %s changed; restarting shipper %s",
                            w->name, name);
                slot->worker = w;
                child_restart(&slot->shipper, shipper_argv(s, slot));
            }
            slot->worker = w;
            json_decref(slot->config);
            slot->config = json_deep_copy(cfg);   /* NULL: the next reload restarts it, harmlessly */
            s->slots[n++] = slot;
        }
    }
    for (size_t i = 0; i < n_old; i++)
        if (old[i])
            slot_remove(s, old[i]);
    free(old);
    s->n_slots = n;
    return 0;
}

void slots_stop_all(struct sched *s)
{
    for (size_t i = 0; i < s->n_slots; i++) {
        child_stop(&s->slots[i]->shipper);
        uv_fs_event_stop(s->slots[i]->watch);
    }
    for (size_t i = 0; i < s->n_daemons; i++)
        child_stop(&s->daemons[i]->child);
}
