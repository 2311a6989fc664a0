/*
 * transport_slurm.c - a pool of a Slurm cluster's compute nodes, seen by
 * Assay as one worker whose slots are the most Assay jobs it keeps in
 * Slurm at once (workers.json "transport": "slurm").
 *
 * Slurm places each job on a node; Assay keeps deciding which job goes
 * next (its fair policy) and grades in its own sandbox on the node.  The
 * primary and the nodes share a directory ("shared_dir", the cluster's
 * NFS home or scratch) laid out like a worker directory:
 *
 *   inbox/NAME       the job archive, written as .NAME.part and renamed
 *   outbox/NAME      its result, written by the node the same way
 *   jobs/NAME.sh     the batch script; jobs/NAME.id  Slurm's job id;
 *   jobs/NAME.out    the job's output (its last lines explain a failure)
 *
 *   push    the archive into inbox/, then a batch job (slurm.h: slurmrestd
 *           or sbatch) whose script runs `assay-worker grade-archive` on
 *           the node, asking for the job's time and memory (the shipper's
 *           timeout and the assignment's memory limit, plus a margin);
 *           pushing an attempt already submitted (jobs/NAME.id) is a no-op
 *   wait    the result's arrival (inotify, and a look at every hearing)
 *           and the job's state from Slurm every second: a job that ended
 *           FAILED, NODE_FAIL, TIMEOUT, PREEMPTED, OUT_OF_MEMORY or
 *           CANCELLED without a result is an infrastructure failure (the
 *           shipper defers the job and tries again, with a new token);
 *           time spent PENDING in Slurm does not count against the job's
 *           timeout; Slurm not answering for TRANSPORT_SILENT_S ends it
 *   pull    opens outbox/NAME;  forget  cancels the job if it may still
 *           run and removes its files;  results  lists outbox/
 *   probe   Slurm answers (ping), the partition is UP and has a node that
 *           is not down or drained; reports its nodes and this pool's
 *           jobs pending and running in Slurm
 *
 * Slurm is at-least-once (a node cut off from the controller keeps
 * running its copy while the job is tried again elsewhere), and jobs are
 * submitted with requeue off so that every retry is Assay's, with a new
 * attempt token: a late copy's result carries the old token and is
 * dropped as stale by the shipper, so exactly one result is recorded.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "common/run.h"
#include "contract/canary.h"
#include "contract/worker_dir.h"
#include "shipper/slurm.h"
#include "shipper/transport.h"

#define JOBS_DIR "jobs"
#define RESULT_GRACE_S 2.0        /* after the job ended, for the result to show (NFS) */
#define POOL_EVERY 5              /* wait() reports the pool every this many hearings */
#define DEFAULT_OVERHEAD_MB 512   /* assay-worker, Python and the sandbox, beyond the limit */
#define DEFAULT_MEMORY_MB 1024    /* a job whose assignment names no memory limit */

static const char *const slurm_keys[] = {"api", "partition", "constraint", "account", "qos",
                                         "shared_dir", "worker_command", "sandbox",
                                         "memory_overhead_mb", NULL};

static const struct slurm_api_kind *const apis[] = {&slurm_api_rest, &slurm_api_commands, NULL};

const struct slurm_api_kind *slurm_api_find(const char *name)
{
    for (int i = 0; apis[i]; i++)
        if (!strcmp(apis[i]->name, name ? name : "rest"))
            return apis[i];
    return NULL;
}

void slurm_copy_shown(char *out, size_t n, const char *s)
{
    char *v = text_visible(s, strlen(s), 0);
    snprintf(out, n, "%s", v ? v : "?");
    free(v);
}

int slurm_state_ended(const char *state)
{
    static const char *const ended[] = {"COMPLETED", "FAILED", "NODE_FAIL", "TIMEOUT",
                                        "PREEMPTED", "OUT_OF_MEMORY", "CANCELLED",
                                        "BOOT_FAIL", "DEADLINE", NULL};
    for (int i = 0; ended[i]; i++)
        if (!strncmp(state, ended[i], strlen(ended[i])))
            return 1;
    return 0;
}

struct slurm_config {
    const char *api, *partition, *constraint, *account, *qos, *shared_dir, *worker_command,
        *sandbox;
    double overhead_mb;
};

struct slurm_transport {
    struct transport base;
    struct slurm_config cfg;    /* strings in the worker's workers.json entry */
    struct slurm_api *api;
    char prefix[160];           /* Slurm job names of this pool: "assay.WORKER." */
    int watch_fd;               /* inotify on outbox/ (-1: none; the hearings look) */
    char version[32];           /* worker_command --version, as seen here ("": unknown) */
    char settled[256];          /* the last archive whose job wait() saw end or deliver
                                   its result (its last act): not to be cancelled */
};

static void read_config(const json_t *o, const char *path, struct slurm_config *c,
                        struct problems *p)
{
    c->api = check_string(o, path, "api", false, p);
    c->partition = check_string(o, path, "partition", true, p);
    c->constraint = check_string(o, path, "constraint", false, p);
    c->account = check_string(o, path, "account", false, p);
    c->qos = check_string(o, path, "qos", false, p);
    c->shared_dir = check_string(o, path, "shared_dir", true, p);
    c->worker_command = check_string(o, path, "worker_command", false, p);
    c->sandbox = check_string(o, path, "sandbox", false, p);
    c->overhead_mb = check_number(o, path, "memory_overhead_mb", DEFAULT_OVERHEAD_MB, 0, 1 << 20, p);
    if (!c->worker_command)
        c->worker_command = "assay-worker";
    char where[200];
    snprintf(where, sizeof where, "%s.shared_dir", path);
    if (c->shared_dir && c->shared_dir[0] != '/')
        problems_add(p, where, "\"%s\" must be an absolute path (a directory the primary and "
                     "every node of the partition see at the same path)", c->shared_dir);
    snprintf(where, sizeof where, "%s.api", path);
    if (c->api && !slurm_api_find(c->api))
        problems_add(p, where, "\"%s\" is not one Assay has: \"rest\" (slurmrestd) or "
                     "\"commands\" (sbatch, squeue)", c->api);
}

static void slurm_check(const json_t *entry, const char *path, struct problems *p)
{
    struct slurm_config c;
    read_config(entry, path, &c, p);
    const struct slurm_api_kind *k = slurm_api_find(c.api);
    const char *keys[32];
    size_t n = 0;
    for (size_t i = 0; slurm_keys[i] && n < 31; i++)
        keys[n++] = slurm_keys[i];
    for (size_t i = 0; k && k->keys[i] && n < 31; i++)
        keys[n++] = k->keys[i];
    keys[n] = NULL;
    check_known_keys(entry, path, worker_common_keys, keys, p);
    if (k)
        k->check(entry, path, p);
}

/* SHARED/FOLDER/NAME[SUFFIX], malloc'd. */
static char *shared_path(const struct slurm_transport *t, const char *folder, const char *name,
                         const char *suffix)
{
    char *s;
    if (asprintf(&s, "%s/%s/%s%s", t->cfg.shared_dir, folder, name ? name : "",
                 suffix ? suffix : "") < 0)
        return NULL;
    return s;
}

/* Slurm's job id for archive NAME (jobs/NAME.id); 0 when none was submitted. */
static long read_id(const struct slurm_transport *t, const char *name)
{
    char *path = shared_path(t, JOBS_DIR, name, ".id");
    struct buf b = BUF_INIT;
    struct err ignored;   /* none: not submitted (or the file was lost: submitted again) */
    long id = path && fs_read_file(path, 64, &b, &ignored) == 0 ? strtol(buf_str(&b), NULL, 10) : 0;
    buf_free(&b);
    free(path);
    return id > 0 ? id : 0;
}

/* S with every ' made safe, inside single quotes, appended to B. */
static void quoted(struct buf *b, const char *s)
{
    buf_puts(b, " '");
    for (; *s; s++)
        buf_puts(b, *s == '\'' ? "'\\''" : (char[]){*s, '\0'});
    buf_puts(b, "'");
}

/* The batch script: grade the one archive NAME with assay-worker on the node. */
static char *batch_script(const struct slurm_transport *t, const char *name)
{
    struct buf b = BUF_INIT;
    char *in = shared_path(t, WORKER_INBOX, name, NULL), *out = shared_path(t, WORKER_OUTBOX, name, NULL);
    if (in && out) {
        buf_printf(&b, "#!/bin/sh\n# Assay: grade %s (worker %s) in Assay's sandbox on this "
                   "node.\nexec", name, t->base.worker->name);
        quoted(&b, t->cfg.worker_command);
        buf_puts(&b, " grade-archive --name");
        quoted(&b, t->base.worker->name);
        if (t->cfg.sandbox) {
            buf_puts(&b, " --sandbox");
            quoted(&b, t->cfg.sandbox);
        }
        quoted(&b, in);
        quoted(&b, out);
        buf_puts(&b, "\n");
    }
    free(in);
    free(out);
    return in && out ? buf_steal(&b) : (buf_free(&b), NULL);
}

static int submit(struct slurm_transport *t, const char *name, struct err *e)
{
    char *script = batch_script(t, name), *sh = shared_path(t, JOBS_DIR, name, ".sh");
    char *out = shared_path(t, JOBS_DIR, name, ".out"), *idp = shared_path(t, JOBS_DIR, name, ".id");
    char jobname[400], id_text[32];
    char jid[128], tok[128];
    if (!worker_archive_parse(name, jid, tok, sizeof jid))
        snprintf(jid, sizeof jid, "%s", name);
    snprintf(jobname, sizeof jobname, "%s%s", t->prefix, jid);
    const struct transport_needs *n = &t->base.needs;
    long memory = (n->memory_mb > 0 ? n->memory_mb : DEFAULT_MEMORY_MB) + (long)t->cfg.overhead_mb;
    struct slurm_submit s = {.name = jobname, .script = script, .script_path = sh,
                             .workdir = t->cfg.shared_dir, .output = out,
                             .partition = t->cfg.partition, .constraint = t->cfg.constraint,
                             .account = t->cfg.account, .qos = t->cfg.qos,
                             .time_min = (int)ceil((n->seconds > 0 ? n->seconds : 600) / 60.0) + 1,
                             .memory_mb = memory};
    long id = 0;
    int rc = script && sh && out && idp ? 0 : err_set(e, "out of memory");
    if (rc == 0)
        rc = fs_write_atomic(sh, script, strlen(script), e);
    if (rc == 0)
        rc = t->api->ops->submit(t->api, &s, &id, e);
    snprintf(id_text, sizeof id_text, "%ld\n", id);
    if (rc == 0 && fs_write_atomic(idp, id_text, strlen(id_text), e) < 0) {
        struct err ignored;   /* the job is not ours to wait for: cancelled, *e says why */
        t->api->ops->cancel(t->api, id, &ignored);
        rc = -1;
    }
    /* a canary (`assay workers check`) logs nothing: it is no job */
    if (rc == 0 && !canary_archive_fresh(name, clock_wall()))
        log_msg(LOG_INFO, jid, "submitted to Slurm as job %ld (partition %s, %d min, %ld MB)", id,
                t->cfg.partition, s.time_min, memory);
    free(script);
    free(sh);
    free(out);
    free(idp);
    return rc;
}

static int slurm_push(struct transport *base, int fd, const char *name, struct err *e)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    if (read_id(t, name))
        return 0;   /* this attempt is in Slurm already (a shipper resuming it) */
    char *tmp = worker_part_path(t->cfg.shared_dir, WORKER_INBOX, name);
    char *final = worker_path(t->cfg.shared_dir, WORKER_INBOX, name);
    int rc = tmp && final ? 0 : err_set(e, "out of memory");
    if (rc == 0) {
        unlink(tmp);   /* what a killed shipper left: written again */
        rc = fs_copy_fd(fd, name, tmp, 0600, e);
    }
    if (rc == 0 && rename(tmp, final) < 0)
        rc = err_sys(e, "cannot put %s into %s/%s", name, t->cfg.shared_dir, WORKER_INBOX);
    if (rc == 0 && (rc = submit(t, name, e)) < 0)
        unlink(final);   /* *e says why; nothing half-submitted stays */
    if (tmp)
        unlink(tmp);
    free(tmp);
    free(final);
    return rc;
}

/* The free disk of the shared directory, in MB. */
static double free_mb(const struct slurm_transport *t)
{
    struct statvfs v;
    if (statvfs(t->cfg.shared_dir, &v) < 0)
        return 0;
    return (double)v.f_bavail * (double)v.f_frsize / (1024.0 * 1024.0);
}

static json_t *pool_json(const struct slurm_transport *t, const struct slurm_pool *p)
{
    return json_pack("{s:s, s:s, s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:i, s:i}", "partition",
                     t->cfg.partition, "state", p->state, "nodes", "idle", p->idle, "allocated",
                     p->allocated, "mixed", p->mixed, "down", p->down, "drained", p->drained,
                     "other", p->other, "pending", p->pending, "running", p->running);
}

/* The listener hears the shared disk's free space and, every POOL_EVERY
 * hearings, the pool as Slurm shows it. */
static void tell(struct slurm_transport *t, const struct transport_listener *l, int hearing)
{
    if (!l)
        return;
    json_t *info = json_pack("{s:f}", "free_mb", free_mb(t));
    struct slurm_pool p;
    struct err ignored;   /* the pool is shown as it was last heard; wait() judges the job */
    if (info && hearing % POOL_EVERY == 0 &&
        t->api->ops->pool(t->api, t->cfg.partition, t->prefix, &p, &ignored) == 0)
        json_object_set_new(info, "pool", pool_json(t, &p));
    if (info)
        l->heard(l->ctx, info);
    json_decref(info);
}

/* The last lines of the job's output, visible, malloc'd ("" if none). */
static char *output_tail(const struct slurm_transport *t, const char *name)
{
    char *path = shared_path(t, JOBS_DIR, name, ".out");
    struct buf b = BUF_INIT;
    struct err ignored;   /* no output: nothing to quote */
    if (path)
        fs_read_file(path, 1u << 20, &b, &ignored);
    char *last = text_last_lines(buf_str(&b), b.len, 2, 400);
    char *shown = last ? text_visible(last, strlen(last), 0) : NULL;
    free(last);
    buf_free(&b);
    free(path);
    return shown ? shown : strdup("");
}

/* *e: why job ID (state J, or unknown when KNOWN is 0) gave no result. */
static int no_result(const struct slurm_transport *t, const char *name, long id, int known,
                     const struct slurm_job *j, struct err *e)
{
    char *tail = output_tail(t, name);
    const char *said = tail && *tail ? "; its output ends: " : "";
    if (!known)
        err_set(e, "Slurm no longer knows job %ld and it left no result%s%s", id, said,
                tail ? tail : "");
    else if (!strcmp(j->state, "COMPLETED"))
        err_set(e, "Slurm job %ld completed on node %s but left no result in %s/%s%s%s", id,
                j->node, t->cfg.shared_dir, WORKER_OUTBOX, said, tail ? tail : "");
    else
        err_set(e, "Slurm job %ld ended %s on node %s (reason: %s) without a result: the "
                "cluster's failure, not the student's%s%s", id, j->state, j->node[0] ? j->node : "?",
                j->reason, said, tail ? tail : "");
    free(tail);
    return -1;
}

/* Whether Slurm requeued job J itself (after a node failed under it, a
 * job that RAN is PENDING again): then its copy may still run on the
 * lost node, and the retry must be Assay's, under a new token. */
static bool requeued(const struct slurm_job *j, bool *ran)
{
    if (!strcmp(j->state, "RUNNING") || !strcmp(j->state, "COMPLETING"))
        *ran = true;
    return j->restarts > 0 || (*ran && !strcmp(j->state, "PENDING")) ||
           !strncmp(j->state, "REQUEUE", 7);
}

static int requeue_error(const struct slurm_transport *t, const char *name, long id,
                         const struct slurm_job *j, struct err *e)
{
    char *tail = output_tail(t, name);
    err_set(e, "Slurm job %ld lost its node %s and Slurm requeued it (now %s, reason: %s): the "
            "cluster's failure, not the student's; Assay tries it again itself%s%s", id,
            j->node[0] ? j->node : "?", j->state, j->reason, tail && *tail ? "; its output "
            "ends: " : "", tail ? tail : "");
    free(tail);
    return -1;
}

/* inotify on outbox/ for the transport's life; -1 when it cannot be had
 * (the hearings every second still look for the result). */
static void watch_outbox(struct slurm_transport *t)
{
    if (t->watch_fd >= 0)
        return;
    char *outbox = worker_path(t->cfg.shared_dir, WORKER_OUTBOX, NULL);
    t->watch_fd = outbox ? inotify_init1(IN_CLOEXEC | IN_NONBLOCK) : -1;
    if (t->watch_fd >= 0 && inotify_add_watch(t->watch_fd, outbox, IN_MOVED_TO) < 0) {
        close(t->watch_fd);
        t->watch_fd = -1;
    }
    free(outbox);
}

static void nap(struct slurm_transport *t, double seconds)
{
    struct pollfd p = {t->watch_fd, POLLIN, 0};
    if (poll(&p, t->watch_fd >= 0, (int)(seconds * 1000) + 1) > 0) {
        char buf[4096] __attribute__((aligned(8)));
        while (read(t->watch_fd, buf, sizeof buf) > 0) {
        }
    }
}

/* What wait() has learnt of one job so far. */
struct watch {
    long id;                    /* Slurm's job id; 0: none submitted */
    struct slurm_job j;         /* its state at the last hearing */
    double failing, ended;      /* since when Slurm has not answered / the job has ended */
    bool ran;                   /* it was seen running */
    char node[64];              /* where it ran (a requeued job no longer says) */
};

/* One hearing of Slurm about job W->id at NOW: 0 to go on waiting (its
 * deadline *DEADLINE moved on while the job was pending since THEN), -1
 * with *e when the job is lost or Slurm has stopped answering. */
static int hear_job(struct slurm_transport *t, const char *name, struct watch *w, double now,
                    double then, double *deadline, struct err *e)
{
    struct err je;
    int st = w->id ? t->api->ops->job(t->api, w->id, &w->j, &je) : 2;
    if (st < 0) {
        if (!w->failing)
            w->failing = now;
        return now - w->failing >= TRANSPORT_SILENT_S ? err_set(e, "%s", je.msg) : 0;
    }
    w->failing = 0;
    if (st == 0 && w->j.node[0])
        snprintf(w->node, sizeof w->node, "%s", w->j.node);
    else if (st == 0)
        snprintf(w->j.node, sizeof w->j.node, "%s", w->node);
    if (st == 0 && requeued(&w->j, &w->ran))
        return requeue_error(t, name, w->id, &w->j, e);
    if (st == 0 && !strcmp(w->j.state, "PENDING"))   /* pending time is not the job's */
        *deadline += now - then < 2 * TRANSPORT_HEAR_S ? now - then : 0;
    if ((st == 1 || (st == 0 && slurm_state_ended(w->j.state))) && !w->ended)
        w->ended = now;
    if (w->ended && now - w->ended >= RESULT_GRACE_S)
        return no_result(t, name, w->id, st == 0, &w->j, e);
    return 0;
}

static int slurm_wait(struct transport *base, const char *name, double timeout_s,
                      const struct transport_listener *listener, struct err *e)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    char *result = worker_path(t->cfg.shared_dir, WORKER_OUTBOX, name);
    if (!result)
        return err_set(e, "out of memory");
    struct watch w;
    memset(&w, 0, sizeof w);
    w.id = read_id(t, name);   /* 0: none submitted; then only the result is awaited */
    watch_outbox(t);
    double now = clock_mono(), deadline = now + timeout_s, heard = now - TRANSPORT_HEAR_S;
    int ready, hearing = 0;
    while (!(ready = fs_exists(result)) && (now = clock_mono()) < deadline) {
        if (now - heard >= TRANSPORT_HEAR_S) {
            if (hear_job(t, name, &w, now, heard, &deadline, e) < 0 && !fs_exists(result)) {
                ready = -1;
                break;
            }
            tell(t, listener, hearing++);
            heard = now;
        }
        double left = deadline - now, next = heard + TRANSPORT_HEAR_S - now;
        nap(t, next < left ? next : left);
    }
    if (ready == -1 && fs_exists(result))
        ready = 1;   /* the result arrived as Slurm was being asked */
    if (ready == 1 || w.ended)   /* delivered, or over in Slurm: nothing to cancel */
        snprintf(t->settled, sizeof t->settled, "%s", name);
    free(result);
    return ready;
}

static int slurm_pull(struct transport *base, const char *name, int *fd, struct err *e)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    char *src = worker_path(t->cfg.shared_dir, WORKER_OUTBOX, name);
    if (!src)
        return err_set(e, "out of memory");
    *fd = open(src, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    int rc = *fd < 0 ? err_sys(e, "cannot open %s", src) : 0;
    free(src);
    return rc;
}

static void slurm_forget(struct transport *base, const char *name, bool finished)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    long id = finished ? 0 : read_id(t, name);
    char *result = worker_path(t->cfg.shared_dir, WORKER_OUTBOX, name);
    /* A job whose result is there has done its last act: cancelling it
     * would only show it CANCELLED in Slurm's accounting.  Whoever saw the
     * result says so (FINISHED): the file itself may be gone by now, taken
     * by another shipper tidying up after the same job. */
    bool running = id && strcmp(t->settled, name) && result && !fs_exists(result);
    free(result);
    struct err e;
    if (running && t->api->ops->cancel(t->api, id, &e) < 0)
        log_msg(LOG_WARN, NULL, "cannot cancel Slurm job %ld (%s): %s; it ends by its time "
                "limit, and its result is dropped as stale", id, name, e.msg);
    char *paths[] = {worker_path(t->cfg.shared_dir, WORKER_INBOX, name),
                     worker_path(t->cfg.shared_dir, WORKER_OUTBOX, name),
                     shared_path(t, JOBS_DIR, name, ".id"), shared_path(t, JOBS_DIR, name, ".sh"),
                     shared_path(t, JOBS_DIR, name, ".out")};
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        if (paths[i] && unlink(paths[i]) < 0 && errno != ENOENT)
            log_msg(LOG_WARN, NULL, "cannot remove %s: %s", paths[i], strerror(errno));
        free(paths[i]);   /* NULL (out of memory): tidied next time */
    }
}

static bool not_hidden(const char *name)
{
    return name[0] != '.';
}

static char **slurm_results(struct transport *base)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    char *outbox = worker_path(t->cfg.shared_dir, WORKER_OUTBOX, NULL);
    struct fs_list l;
    if (fs_list(outbox, not_hidden, NULL, &l) < 0)
        log_msg(LOG_WARN, NULL, "out of memory listing %s/%s; the rest is tidied next time",
                t->cfg.shared_dir, WORKER_OUTBOX);
    free(outbox);
    char **names = calloc(l.n + 1, sizeof *names);
    for (size_t i = 0; names && i < l.n; i++) {
        names[i] = l.names[i];   /* taken over */
        l.names[i] = NULL;
    }
    fs_list_free(&l);
    return names;
}

/* Why a pool that Slurm answers for cannot take jobs, or 0. */
static int pool_usable(const struct slurm_transport *t, const struct slurm_pool *p, struct err *e)
{
    if (strcmp(p->state, "UP"))
        return err_set(e, "Slurm partition %s is %s: `scontrol update partitionname=%s "
                       "state=up` opens it", t->cfg.partition, p->state, t->cfg.partition);
    if (p->idle + p->allocated + p->mixed == 0)
        return err_set(e, "every node of Slurm partition %s is down or drained (%d down, %d "
                       "drained, %d other): see `sinfo -R -p %s`", t->cfg.partition, p->down,
                       p->drained, p->other, t->cfg.partition);
    return 0;
}

static int slurm_probe(struct transport *base, json_t **info, struct err *e)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    char *inbox = worker_path(t->cfg.shared_dir, WORKER_INBOX, NULL);
    bool writable = inbox && access(inbox, W_OK) == 0;
    free(inbox);
    if (!writable)
        return err_sys(e, "cannot write to the shared directory %s/%s", t->cfg.shared_dir,
                       WORKER_INBOX);
    struct slurm_pool p;
    if (t->api->ops->pool(t->api, t->cfg.partition, t->prefix, &p, e) < 0 ||
        pool_usable(t, &p, e) < 0)
        return -1;
    *info = json_pack("{s:s, s:f, s:n, s:o}", "slurm_version", p.version, "free_mb", free_mb(t),
                      "daemon", "pool", pool_json(t, &p));
    if (*info && t->version[0])
        json_object_set_new(*info, "version", json_string(t->version));
    return *info ? 0 : err_set(e, "out of memory");
}

static void slurm_destroy(struct transport *base)
{
    struct slurm_transport *t = (struct slurm_transport *)base;
    if (t->api)
        t->api->ops->destroy(t->api);
    if (t->watch_fd >= 0)
        close(t->watch_fd);
    free(t);
}

static const struct transport_ops slurm_ops = {
    .name = "slurm",
    .push = slurm_push,
    .wait = slurm_wait,
    .pull = slurm_pull,
    .forget = slurm_forget,
    .results = slurm_results,
    .probe = slurm_probe,
    .destroy = slurm_destroy,
};

/* The version of the assay-worker the nodes run, when its path works
 * here too (a shared software directory, as clusters have): what
 * `assay workers check` compares with the primary's.  "" otherwise. */
static void read_version(struct slurm_transport *t)
{
    char *argv[] = {(char *)t->cfg.worker_command, "--version", NULL};
    struct buf out = BUF_INIT;
    struct err ignored;   /* not runnable here: the canary gradings show the nodes' */
    if (t->cfg.worker_command[0] == '/' && access(t->cfg.worker_command, X_OK) == 0 &&
        run_capture(argv, 256, &out, &ignored) == 0) {
        const char *text = buf_str(&out), *sp = strrchr(text, ' ');
        snprintf(t->version, sizeof t->version, "%.*s", (int)strcspn(sp ? sp + 1 : text, "\n"),
                 sp ? sp + 1 : text);
    }
    buf_free(&out);
}

/* inbox/, outbox/ and jobs/ of the shared directory, 0700: the archives
 * hold hidden tests. */
static int make_layout(const char *shared, struct err *e)
{
    const char *folders[] = {WORKER_INBOX, WORKER_OUTBOX, JOBS_DIR};
    for (int i = 0; i < 3; i++) {
        char *p = worker_path(shared, folders[i], NULL);
        int rc = p ? fs_mkdir_p(p, 0700, e) : err_set(e, "out of memory");
        free(p);
        if (rc < 0)
            return err_prefix(e, "cannot set up the shared directory");
    }
    return 0;
}

static struct transport *slurm_open(const struct worker_cfg *worker, const char *root,
                                    struct err *e)
{
    (void)root;   /* every path of a slurm worker is absolute */
    struct slurm_config cfg;
    struct problems p = {0};
    read_config(worker->entry, worker->name, &cfg, &p);
    if (p.count) {
        err_set(e, "workers.json: %s", p.items[0]);
        problems_free(&p);
        return NULL;
    }
    struct slurm_transport *t = calloc(1, sizeof *t);
    if (!t) {
        err_set(e, "out of memory");
        return NULL;
    }
    t->base.ops = &slurm_ops;
    t->base.worker = worker;
    t->cfg = cfg;
    t->watch_fd = -1;
    snprintf(t->prefix, sizeof t->prefix, "assay.%s.", worker->name);
    read_version(t);
    if (make_layout(cfg.shared_dir, e) < 0 ||
        !(t->api = slurm_api_find(cfg.api)->open(worker->entry, worker->name, e))) {
        slurm_destroy(&t->base);
        return NULL;
    }
    return &t->base;
}

const struct transport_kind transport_slurm = {"slurm", slurm_check, slurm_open};
