/*
 * transport_contract.c - the contract of shipper/transport.h, checked
 * against a real worker: the same checks for every transport, so a new
 * transport is tested by pointing this driver at one of its workers.
 *
 *   transport_contract --spool S --worker W --dir D   the worker is up
 *   transport_contract --spool S --worker W --down    the worker is down
 *   ... --batch   the worker is a batch system's pool (slurm): no grading
 *                 daemon, no heartbeat and no active/ folder; the checks
 *                 of those are skipped, saying so
 *
 * It opens worker W of spool S with transport_open(), as assay-shipper
 * does.  D is W's worker directory as seen from this machine (a local
 * worker's "dir"; a test host's "remote_dir"): the driver plays the worker
 * there, taking the job from inbox/ and writing a result into outbox/ the
 * way assay-worker does, and touching its heartbeat file from a process
 * of its own (contract/heartbeat.h), so the worker's own daemon must be
 * kept from grading meanwhile (tests/e2e/test_transport_contract.py
 * pauses it).  Stopping and killing that process shows the transport a
 * daemon that hangs and one that dies; the heartbeat file's text is put
 * back at the end.
 * One line per check, "ok: ..." or "FAIL: ..."; exit status 0 when every
 * check passed, 1 when one failed, 2 when the driver could not start.
 * Built by `make test` into build/tests/transport_contract.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/log.h"
#include "contract/heartbeat.h"
#include "contract/worker_dir.h"
#include "shipper/transport.h"
#include "spool/spool.h"
#include "spool/workers.h"

/* Several of the SSH transport's 32 KB writes and reads, and not a
 * multiple of them. */
#define JOB_BYTES (300 * 1024 + 123)
#define RESULT_BYTES (200 * 1024 + 45)
#define SHORT_WAIT_S 1.0      /* a wait that is meant to time out */
#define LONG_WAIT_S 60.0      /* a wait that is meant to see its result */
#define RESULT_DELAY_S 0.5    /* the result is renamed in this long into a wait */
/* Bounds for "about its timeout" and "within its time limits": loose,
 * for the machine may be loaded; they catch a hang, not a slow call. */
#define SLACK_S 20.0
#define HEARD_WAIT_S 2.5      /* a wait long enough to hear the worker twice */
#define UNKNOWN_KEY "assay_contract_no_such_key"

static int failures;
static bool batch;   /* --batch: a pool behind a batch system, no daemon of ours */

/* Prints "ok: WHAT (DETAIL)" or "FAIL: WHAT (DETAIL)"; returns OK. */
__attribute__((format(printf, 3, 4)))
static bool check(bool ok, const char *what, const char *detail, ...)
{
    char text[1400];
    va_list ap;
    va_start(ap, detail);
    vsnprintf(text, sizeof text, detail, ap);
    va_end(ap);
    printf("%s: %s%s%s%s\n", ok ? "ok" : "FAIL", what, text[0] ? " (" : "", text,
           text[0] ? ")" : "");
    fflush(stdout);   /* in order with the transports' log lines on stderr */
    failures += !ok;
    return ok;
}

/* "" when a call succeeded, else "returned RC: why" (for a check's detail). */
static const char *outcome(int rc, int good, const struct err *e)
{
    static char text[1100];
    if (rc == good)
        return "";
    snprintf(text, sizeof text, "returned %d%s%s", rc, e->msg[0] ? ": " : "", e->msg);
    return text;
}

/* ---- what the checks share ---- */

struct ctx {
    struct transport *t;
    const char *dir;            /* the worker directory, seen from here */
    pid_t beater;               /* the process playing the daemon's heartbeat */
    char id[40];                /* the job of NAME */
    char name[128];             /* the archive pushed, taken and answered */
    char queued[128];           /* an archive pushed and forgotten while queued */
    char unknown[128];          /* a name the worker never saw */
    struct buf job, result;     /* the bytes of NAME's job and result */
};

/* A fresh archive name, as a shipper makes one per attempt. */
static void new_name(char *out, size_t n, char id[40])
{
    char token[33];
    ids_job_id(id);
    ids_random_hex(token, 16);
    worker_archive_name(out, n, id, token);
}

/* N bytes that are not all alike (xorshift), so that a byte out of place shows. */
static void fill(struct buf *b, size_t n, unsigned seed)
{
    unsigned x = seed;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf_append(b, &(char){(char)x}, 1);
    }
}

static char *in_dir(const struct ctx *c, const char *folder, const char *name)
{
    return worker_path(c->dir, folder, name);
}

static bool there(const struct ctx *c, const char *folder, const char *name)
{
    char *p = in_dir(c, folder, name);
    bool yes = fs_exists(p);
    free(p);
    return yes;
}

/* Entries of FOLDER whose name holds ID: the archive, a temporary copy
 * left behind, a duplicate under another name. */
static int entries_with(const struct ctx *c, const char *folder, const char *id)
{
    char *p = in_dir(c, folder, NULL);
    DIR *d = opendir(p);
    free(p);
    int n = 0;
    for (struct dirent *de; d && (de = readdir(d));)
        n += strstr(de->d_name, id) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Compares the whole of FD (from its start, whatever its offset) with WANT. */
static bool fd_holds(int fd, const struct buf *want, char *why, size_t n)
{
    char chunk[65536];
    size_t at = 0;
    ssize_t got;
    while ((got = pread(fd, chunk, sizeof chunk, (off_t)at)) > 0) {
        if (at + (size_t)got > want->len || memcmp(chunk, want->data + at, (size_t)got)) {
            snprintf(why, n, "the bytes differ from offset %zu on", at);
            return false;
        }
        at += (size_t)got;
    }
    if (got < 0 || at != want->len)
        snprintf(why, n, "%zu bytes where %zu were written", at, want->len);
    return got == 0 && at == want->len;
}

static bool file_holds(const struct ctx *c, const char *folder, const char *name,
                       const struct buf *want, char *why, size_t n)
{
    char *p = in_dir(c, folder, name);
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        snprintf(why, n, "there is no %s", p);
    free(p);
    bool same = fd >= 0 && fd_holds(fd, want, why, n);
    if (fd >= 0)
        close(fd);
    return same;
}

/* Whether results() lists NAME, and the hidden names it lists, if any. */
static bool listed(struct transport *t, const char *name, char *hidden, size_t n)
{
    char **names = t->ops->results(t);
    bool found = false;
    hidden[0] = '\0';
    for (size_t i = 0; names && names[i]; i++) {
        found |= !strcmp(names[i], name);
        if (names[i][0] == '.')
            snprintf(hidden + strlen(hidden), n - strlen(hidden), " %s", names[i]);
    }
    transport_free_names(names);
    return found;
}

/* ---- playing the worker ---- */

/* Writes outbox/.NAME.part, as a worker does before the rename. */
static int write_partial(const struct ctx *c, const struct buf *data)
{
    char *p = worker_part_path(c->dir, WORKER_OUTBOX, c->name);
    struct err e;
    int rc = fs_write_file(p, data->data, data->len, false, &e);
    if (rc < 0)
        fprintf(stderr, "transport_contract: %s\n", e.msg);
    free(p);
    return rc;
}

/* The worker finishing: outbox/.NAME.part renamed to outbox/NAME. */
static int publish(const struct ctx *c)
{
    char *from = worker_part_path(c->dir, WORKER_OUTBOX, c->name);
    char *to = in_dir(c, WORKER_OUTBOX, c->name);
    int rc = rename(from, to);
    free(from);
    free(to);
    return rc;
}

static int move_job(const struct ctx *c, const char *from, const char *to)
{
    char *a = in_dir(c, from, c->name), *b = in_dir(c, to, c->name);
    int rc = rename(a, b);
    free(a);
    free(b);
    return rc;
}

/* A process that does what the grading daemon's loop does for the
 * heartbeat: creates the file naming itself, and touches it. */
static pid_t start_beater(const char *dir)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    struct err e = {{0}};
    int fd = heartbeat_start(dir, &e);
    if (fd < 0)
        _exit(1);
    for (;;) {
        heartbeat_touch(fd, &e);   /* a failure shows as a stale heartbeat, which is checked */
        usleep(250 * 1000);
    }
}

static void stop_beater(struct ctx *c)
{
    if (c->beater > 0) {
        kill(c->beater, SIGKILL);
        waitpid(c->beater, NULL, 0);
    }
    c->beater = 0;
}

/* Removes whatever the checks left in the worker directory (a failed
 * check may leave an archive the worker's daemon would grade later). */
static void tidy(const struct ctx *c)
{
    const char *folders[] = {WORKER_INBOX, WORKER_ACTIVE, WORKER_OUTBOX};
    const char *names[] = {c->name, c->queued};
    for (int f = 0; f < 3; f++)
        for (int n = 0; n < 2; n++) {
            char *p = in_dir(c, folders[f], names[n]);
            char *part = worker_part_path(c->dir, folders[f], names[n]);
            unlink(p);
            unlink(part);
            free(p);
            free(part);
        }
}

/* ---- the checks ---- */

/* The transport kind checks its own keys in workers.json. */
static void check_config(const struct worker_cfg *w)
{
    const struct transport_kind *k = transport_find(w->transport);
    struct problems p = {0};
    k->check(w->entry, "$.workers[0]", &p);
    check(p.count == 0, "the worker's workers.json entry passes its transport's check",
          "%s", p.count ? p.items[0] : "");
    problems_free(&p);
    json_t *odd = json_deep_copy(w->entry);
    json_object_set_new(odd, UNKNOWN_KEY, json_true());
    k->check(odd, "$.workers[0]", &p);
    bool named = false;
    for (size_t i = 0; i < p.count; i++)
        named |= strstr(p.items[i], UNKNOWN_KEY) != NULL;
    check(named, "the check names an unknown key", "%s", p.count ? p.items[0] : "no problem");
    problems_free(&p);
    json_decref(odd);
}

/* probe() answers: 0 and an object, in *INFO (the caller frees it). */
static bool probe_answers(const struct ctx *c, const char *what, json_t **info)
{
    struct err e = {{0}};
    int rc = c->t->ops->probe(c->t, info, &e);
    return check(rc == 0 && json_is_object(*info), what, "%s", outcome(rc, 0, &e));
}

/* What the shipper reads of a probe (health/W.json, `assay workers`):
 * the worker's version and free disk. */
static void check_probe_info(const json_t *info)
{
    const char *version = json_string_value(json_object_get(info, "version"));
    json_t *free_mb = json_object_get(info, "free_mb");
    check(version && version[0] && json_is_number(free_mb) && json_number_value(free_mb) >= 0,
          "probe() says the worker's version and free disk", "version %s, free_mb %g",
          version ? version : "missing", json_is_number(free_mb) ? json_number_value(free_mb) : -1);
    /* transport.h lists queue sizes too, which no caller reads and the
     * local transport does not give: optional, but counts when given. */
    const char *queues[] = {"inbox", "active", "outbox"};
    for (int i = 0; i < 3; i++) {
        json_t *q = json_object_get(info, queues[i]);
        if (q)
            check(json_is_integer(q) && json_integer_value(q) >= 0,
                  "probe()'s queue size is a count", "%s", queues[i]);
    }
}

static void check_probe_up(const struct ctx *c)
{
    json_t *info = NULL;
    if (probe_answers(c, "probe() of a worker that is up succeeds", &info))
        check_probe_info(info);
    json_decref(info);
}

/* Pushes DATA as NAME from a memfd whose offset is at its end: push
 * reads from the start.  Returns push's result; *still_open says the
 * descriptor was left open. */
static int push(const struct ctx *c, const char *name, const struct buf *data, bool *still_open,
                struct err *e)
{
    *still_open = false;
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0 || write(fd, data->data, data->len) != (ssize_t)data->len) {
        err_sys(e, "cannot make the archive to push");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = c->t->ops->push(c->t, fd, name, e);
    *still_open = fcntl(fd, F_GETFD) >= 0;
    close(fd);
    return rc;
}

static void check_push(const struct ctx *c)
{
    struct err e = {{0}};
    bool open_after;
    int rc = push(c, c->name, &c->job, &open_after, &e);
    check(rc == 0, "push() delivers an archive", "%s", outcome(rc, 0, &e));
    check(open_after, "push() leaves the caller's file open", "%s", "");
    char why[200] = "";
    check(file_holds(c, WORKER_INBOX, c->name, &c->job, why, sizeof why),
          "the archive lands whole in the worker's inbox under its name", "%s", why);
    int n = entries_with(c, WORKER_INBOX, c->id);
    check(n == 1, "the inbox holds it once, with no temporary file left", "%d in the inbox",
          n);
}

static void check_push_again(const struct ctx *c)
{
    struct err e = {{0}};
    bool open_after;
    int rc = push(c, c->name, &c->job, &open_after, &e);
    check(rc == 0, "push() of an archive the inbox already has is not an error", "%s",
          outcome(rc, 0, &e));
    char why[200] = "";
    int n = entries_with(c, WORKER_INBOX, c->id);
    check(n == 1 && file_holds(c, WORKER_INBOX, c->name, &c->job, why, sizeof why),
          "... and leaves one whole copy", "%d in the inbox%s%s", n, why[0] ? ", " : "", why);
}

/* The worker has taken the job: pushing it again must not queue it a
 * second time (it would be graded twice). */
static void check_push_taken(const struct ctx *c)
{
    if (move_job(c, WORKER_INBOX, WORKER_ACTIVE) < 0) {
        check(false, "the worker takes the job", "cannot move it to active/: %m");
        return;
    }
    struct err e = {{0}};
    bool open_after;
    int rc = push(c, c->name, &c->job, &open_after, &e);
    check(rc == 0, "push() of an archive the worker is grading is not an error", "%s",
          outcome(rc, 0, &e));
    int n = entries_with(c, WORKER_INBOX, c->id);
    check(n == 0, "... and does not queue it again", "%d in the inbox", n);
}

/* While the result is still being written (outbox/.NAME.part), it has
 * not come: wait times out, results() does not list it. */
static void check_wait_times_out(const struct ctx *c)
{
    struct buf half = BUF_INIT;
    buf_append(&half, c->result.data, c->result.len / 2);
    int wrote = write_partial(c, &half);
    buf_free(&half);
    if (!check(wrote == 0, "the worker starts writing a result", "%s", ""))
        return;
    struct err e = {{0}};
    double t0 = clock_mono();
    int rc = c->t->ops->wait(c->t, c->name, SHORT_WAIT_S, NULL, &e);
    double took = clock_mono() - t0;
    check(rc == 0, "wait() for a result that does not come returns 0", "%s",
          outcome(rc, 0, &e));
    check(took >= 0.9 * SHORT_WAIT_S && took < SHORT_WAIT_S + SLACK_S,
          "... after about its timeout", "%.2f s for a timeout of %.1f s", took, SHORT_WAIT_S);
    char hidden[600];
    bool found = listed(c->t, c->name, hidden, sizeof hidden);
    check(!found && !hidden[0], "results() lists neither a result being written nor its "
          "temporary name", "%s%s", found ? "lists it" : "", hidden);
}

/* The result is renamed into the outbox RESULT_DELAY_S into a wait (by a
 * child: the wait must wake for it, not find it already there). */
static void check_wait_sees_result(const struct ctx *c)
{
    if (write_partial(c, &c->result) < 0) {
        check(false, "the worker writes its result", "%s", "");
        return;
    }
    pid_t child = fork();
    if (child == 0) {
        usleep((useconds_t)(RESULT_DELAY_S * 1e6));
        _exit(publish(c) == 0 ? 0 : 1);
    }
    struct err e = {{0}};
    double t0 = clock_mono();
    int rc = child < 0 ? -1 : c->t->ops->wait(c->t, c->name, LONG_WAIT_S, NULL, &e);
    double took = clock_mono() - t0;
    int status = -1;
    if (child > 0)
        waitpid(child, &status, 0);
    check(status == 0, "the worker renames its result into the outbox", "%s", "");
    check(rc == 1, "wait() returns 1 when the result appears", "after %.2f s%s%s", took,
          rc == 1 ? "" : ", ", outcome(rc, 1, &e));
    char *graded = in_dir(c, WORKER_ACTIVE, c->name);
    unlink(graded);   /* the job is done: the worker drops it, as assay-worker does */
    free(graded);
    rc = c->t->ops->wait(c->t, c->name, SHORT_WAIT_S, NULL, &e);
    check(rc == 1, "wait() for a result already there returns 1", "%s", outcome(rc, 1, &e));
}

static void check_results_and_pull(const struct ctx *c)
{
    char hidden[600];
    bool found = listed(c->t, c->name, hidden, sizeof hidden);
    check(found && !hidden[0], "results() lists the result, and no hidden name",
          "%s%s", found ? "" : "not listed", hidden);
    int fd = -1;
    struct err e = {{0}};
    int rc = c->t->ops->pull(c->t, c->name, &fd, &e);
    char why[200] = "";
    check(rc == 0 && fd >= 0 && fd_holds(fd, &c->result, why, sizeof why),
          "pull() gives the result's bytes, all of them", "%s%s", outcome(rc, 0, &e), why);
    if (fd >= 0)
        close(fd);
    fd = -1;
    e.msg[0] = '\0';
    rc = c->t->ops->pull(c->t, c->unknown, &fd, &e);
    check(rc == -1 && e.msg[0], "pull() of a result that is not there fails, saying why",
          "\"%s\"", e.msg);
    if (fd >= 0 && rc == 0)
        close(fd);
}

static void check_forget(const struct ctx *c)
{
    c->t->ops->forget(c->t, c->name, true);
    char hidden[600];
    bool found = listed(c->t, c->name, hidden, sizeof hidden);
    check(!there(c, WORKER_OUTBOX, c->name) && !found,
          "forget() removes a result from the outbox and from results()", "%s%s",
          there(c, WORKER_OUTBOX, c->name) ? "still in the outbox " : "",
          found ? "still listed" : "");
    struct err e = {{0}};
    bool open_after;
    int rc = push(c, c->queued, &c->job, &open_after, &e);
    bool queued = there(c, WORKER_INBOX, c->queued);
    c->t->ops->forget(c->t, c->queued, false);
    check(rc == 0 && queued && !there(c, WORKER_INBOX, c->queued),
          "forget() removes a job still queued in the inbox", "%s%s%s", rc ? "push " : "",
          outcome(rc, 0, &e), rc == 0 && !queued ? "push delivered nothing" : "");
    c->t->ops->forget(c->t, c->unknown, false);
    json_t *info = NULL;
    probe_answers(c, "forget() of an unknown name is harmless: probe() still answers", &info);
    json_decref(info);
}

/* What wait() hands its listener. */
struct hearing {
    int times;
    double free_mb;
};

static void heard(void *ctx, const json_t *info)
{
    struct hearing *h = ctx;
    h->times++;
    json_t *f = json_object_get(info, "free_mb");
    h->free_mb = json_is_number(f) ? json_number_value(f) : -1;
}

/* While wait() waits it hears the worker (its free disk), about every
 * TRANSPORT_HEAR_S. */
static void check_wait_hears_the_worker(const struct ctx *c)
{
    struct hearing h = {0, -1};
    struct transport_listener l = {heard, &h};
    struct err e = {{0}};
    int rc = c->t->ops->wait(c->t, c->unknown, HEARD_WAIT_S, &l, &e);
    check(rc == 0, "wait() with a listener, for a result that does not come, returns 0", "%s",
          outcome(rc, 0, &e));
    check(h.times >= 1 && h.free_mb >= 0, "... and its listener hears the worker's free disk "
          "meanwhile", "heard %d times in %.1f s, free_mb %g", h.times, HEARD_WAIT_S, h.free_mb);
}

/* The daemon's heartbeat stops (its process stopped, as by SIGSTOP):
 * wait() gives up long before its timeout and probe() fails, each saying
 * it is the grading daemon, not a permission or a link. */
static void check_daemon_hung(struct ctx *c)
{
    kill(c->beater, SIGSTOP);
    struct err e = {{0}};
    double t0 = clock_mono();
    int rc = c->t->ops->wait(c->t, c->unknown, LONG_WAIT_S, NULL, &e);
    double took = clock_mono() - t0;
    check(rc == -1 && strstr(e.msg, "grading daemon") && strstr(e.msg, "not answering"),
          "wait() gives up on a daemon whose heartbeat stopped, saying so", "%s",
          outcome(rc, -1, &e));
    check(took < LONG_WAIT_S - 1, "... before its timeout", "%.2f s for a timeout of %.0f s", took,
          LONG_WAIT_S);
    json_t *info = NULL;
    e.msg[0] = '\0';
    rc = c->t->ops->probe(c->t, &info, &e);
    check(rc == -1 && strstr(e.msg, "grading daemon") && strstr(e.msg, "not answering") &&
          !strstr(e.msg, "cannot write") && !strstr(e.msg, "owner"),
          "probe() of a worker whose daemon hangs fails, naming the daemon", "\"%s\"", e.msg);
    json_decref(info);
}

/* The daemon is gone (its process killed): probe() says it is not
 * running; a new daemon's heartbeat makes the worker answer again. */
static void check_daemon_gone_and_back(struct ctx *c)
{
    stop_beater(c);
    json_t *info = NULL;
    struct err e = {{0}};
    int rc = c->t->ops->probe(c->t, &info, &e);
    check(rc == -1 && strstr(e.msg, "grading daemon") && strstr(e.msg, "not running"),
          "probe() of a worker whose daemon exited fails, saying it is not running", "\"%s\"",
          e.msg);
    json_decref(info);
    info = NULL;
    c->beater = start_beater(c->dir);
    usleep(500 * 1000);   /* its first touch */
    probe_answers(c, "probe() answers again once a daemon beats again", &info);
    json_decref(info);
}

static void check_down(struct transport *t)
{
    json_t *info = NULL;
    struct err e = {{0}};
    double t0 = clock_mono();
    int rc = t->ops->probe(t, &info, &e);
    double took = clock_mono() - t0;
    check(rc == -1, "probe() of a worker that is down fails", "returned %d", rc);
    /* a sentence: something an admin reads in `assay workers` */
    check(strlen(e.msg) > 10 && strchr(e.msg, ' '), "... saying why in a sentence", "\"%s\"",
          e.msg);
    check(took < SLACK_S, "... within its time limits", "%.2f s", took);
    json_decref(info);
}

/* ---- running them ---- */

/* The heartbeat file's text (which daemon writes it), put back when
 * the checks are done. */
static void keep_heartbeat(const char *dir, struct buf *text, bool restore)
{
    char *path = fs_join(dir, WORKER_HEARTBEAT);
    struct err e;   /* none there at the start: nothing to put back */
    if (!restore)
        fs_read_file(path, 4096, text, &e);
    else if (text->len && fs_write_file(path, text->data, text->len, false, &e) < 0)
        fprintf(stderr, "transport_contract: cannot put back %s: %s\n", path, e.msg);
    free(path);
}

static void run_up(struct transport *t, const char *dir)
{
    struct ctx c = {.t = t, .dir = dir};
    struct buf kept = BUF_INIT;
    keep_heartbeat(dir, &kept, false);
    c.beater = start_beater(dir);
    usleep(500 * 1000);   /* its first touch */
    char other_id[40];
    new_name(c.name, sizeof c.name, c.id);
    new_name(c.queued, sizeof c.queued, other_id);
    new_name(c.unknown, sizeof c.unknown, other_id);
    fill(&c.job, JOB_BYTES, 2463534242u);
    fill(&c.result, RESULT_BYTES, 88675123u);
    check_config(t->worker);
    check_probe_up(&c);
    check_push(&c);
    check_push_again(&c);
    if (!batch)
        check_push_taken(&c);
    check_wait_times_out(&c);
    check_wait_sees_result(&c);
    check_results_and_pull(&c);
    check_forget(&c);
    check_wait_hears_the_worker(&c);
    if (!batch) {
        check_daemon_hung(&c);
        check_daemon_gone_and_back(&c);
    } else {
        printf("skip: the grading daemon's checks (--batch: the batch system keeps the "
               "pool's jobs alive, and its own tests cover a node that fails)\n");
    }
    stop_beater(&c);
    keep_heartbeat(dir, &kept, true);
    buf_free(&kept);
    tidy(&c);
    buf_free(&c.job);
    buf_free(&c.result);
}

/* Opens worker NAME of spool ROOT as assay-shipper does; W keeps its
 * configuration, which the transport points into. */
static struct transport *open_worker(const char *root, const char *name, struct spool *s,
                                     struct workers *w)
{
    struct err e = {{0}};
    struct problems p = {0};
    struct transport *t = NULL;
    if (spool_open(s, root, &e) < 0)
        fprintf(stderr, "transport_contract: %s\n", e.msg);
    else if (workers_load(s, w, &p) < 0)
        fprintf(stderr, "transport_contract: workers.json: %s\n", p.count ? p.items[0] : "?");
    else if (!workers_find(w, name))
        fprintf(stderr, "transport_contract: workers.json has no worker %s\n", name);
    else if (!(t = transport_open(workers_find(w, name), s->root, &e)))
        fprintf(stderr, "transport_contract: %s\n", e.msg);
    problems_free(&p);
    return t;
}

static const char usage[] =
    "usage: transport_contract --spool S --worker W (--dir D | --down) [--batch]\n"
    "Checks shipper/transport.h's contract on worker W of spool S: with --dir,\n"
    "W is up and D is its worker directory as seen from here (the driver plays\n"
    "the worker in it); with --down, W does not answer.  --batch: W is a batch\n"
    "system's pool, with no grading daemon of Assay's to check.\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"spool", required_argument, NULL, 's'}, {"worker", required_argument, NULL, 'w'},
        {"dir", required_argument, NULL, 'd'},   {"down", no_argument, NULL, 'D'},
        {"batch", no_argument, NULL, 'b'},       {NULL, 0, NULL, 0},
    };
    const char *root = NULL, *worker = NULL, *dir = NULL;
    bool down = false;
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        if (o == 's') root = optarg;
        else if (o == 'w') worker = optarg;
        else if (o == 'd') dir = optarg;
        else if (o == 'D') down = true;
        else if (o == 'b') batch = true;
        else return fputs(usage, stderr), 2;
    }
    if (!root || !worker || !dir == !down || optind != argc)
        return fputs(usage, stderr), 2;
    log_open("transport_contract", NULL);   /* the transports' warnings, on stderr */
    struct spool s = {0};
    struct workers w = {0};
    struct transport *t = open_worker(root, worker, &s, &w);
    if (!t)
        return 2;
    printf("transport %s, worker %s\n", t->ops->name, worker);
    if (down)
        check_down(t);
    else
        run_up(t, dir);
    t->ops->destroy(t);
    workers_free(&w);
    spool_close(&s);
    printf("%d check%s failed\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
