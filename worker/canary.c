/*
 * canary.c - `assay-worker canary --dir D [--json]`: the canary gradings
 * (contract/canary.h) on this machine, through the daemon running on D.
 *
 * deploy-worker.sh ends with it, so a worker that cannot grade a kind
 * (IPython missing, a sandbox that cannot start) is found while the
 * admin is still at it.  Each canary's job archive goes into D/inbox/
 * (written as .NAME.part, then renamed, as a transport delivers), the
 * running daemon grades it in its slots and sandbox exactly as it grades
 * a student's job, and its result is taken from D/outbox/, judged
 * (canary_judge) and removed.  Each is awaited as long as a job's lease
 * (1.5 × its wall limits plus the default margin); after one goes
 * unanswered the others are looked for once more, not waited for again.
 * Without a daemon on D nothing is sent: the sandbox's own host check
 * says what this machine lacks, if it lacks anything (a daemon refuses
 * to start without it), else the message says to start the daemon.
 * Prints one line per canary ("notebook:
 * MISSING: Python module IPython (Debian package python3-ipython)") or
 * with --json the list of outcomes; exits 0 when every one passed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/canary.h"
#include "contract/results_check.h"
#include "contract/worker_dir.h"
#include "sandbox/launcher.h"
#include "worker/daemon.h"

#define MARGIN_S 10.0          /* workers.json's default timeout_margin_s */
#define LAST_LOOK_S 0.5

/* Delivers canary C to DIR's inbox as a new archive; its name in NAME. */
static int deliver(const char *dir, const struct canary *c, char *name, size_t n, struct err *e)
{
    if (canary_archive_name(name, n, c->kind, clock_wall()) < 0)
        return err_set(e, "its archive name is too long");
    char id[200];
    snprintf(id, sizeof id, "%.*s", (int)(strlen(name) - 4), name);   /* no ".zip" */
    *strrchr(id, '.') = '\0';                                          /* no token */
    char *part = worker_part_path(dir, WORKER_INBOX, name);
    char *final = worker_path(dir, WORKER_INBOX, name);
    int fd = part ? open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
    int rc = fd >= 0 ? 0 : err_sys(e, "cannot create %s", part ? part : "the job archive");
    if (rc == 0)
        rc = canary_pack(c, fd, name, id, NULL, 0, e);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = err_sys(e, "cannot write %s", part);
    if (rc == 0 && rename(part, final) < 0)
        rc = err_sys(e, "cannot move the job into %s/%s", dir, WORKER_INBOX);
    if (rc < 0 && part)
        unlink(part);   /* *e says what went wrong */
    free(part);
    free(final);
    return rc;
}

/* Waits until PATH exists (results are renamed into the outbox, which
 * the inotify descriptor INO watches), at most TIMEOUT_S. */
static bool await(int ino, const char *path, double timeout_s)
{
    double deadline = clock_mono() + timeout_s;
    while (!fs_exists(path)) {
        double left = deadline - clock_mono();
        if (left <= 0)
            return false;
        struct pollfd p = {ino, POLLIN, 0};
        if (poll(&p, 1, ino >= 0 ? (int)(left * 1000) + 1 : 100) > 0) {
            char buf[4096] __attribute__((aligned(8)));
            while (read(ino, buf, sizeof buf) > 0) {
            }
        }
    }
    return true;
}

/* The results.json of the result archive PATH, or NULL with why. */
static json_t *read_result(const char *path, struct err *e)
{
    struct archive_limits lim = {RESULT_ARCHIVE_MAX_BYTES, RESULT_FILE_MAX_BYTES, RESULT_MAX_FILES};
    const char *tmp = getenv("TMPDIR");
    char *dir = NULL, *json = NULL;
    json_t *r = NULL;
    if (fs_mkdtemp(tmp && *tmp ? tmp : "/tmp", "assay-canary-", &dir, e) == 0 &&
        archive_extract(path, dir, &lim, e) == 0) {
        if (!(json = fs_join(dir, "results.json")))
            err_set(e, "out of memory");
        else
            r = jsonutil_load_file(json, RESULT_JSON_MAX_BYTES, e);
    }
    struct err ignored;   /* a leftover in /tmp is only untidy */
    if (dir)
        fs_remove_tree(dir, &ignored);
    free(dir);
    free(json);
    return r;
}

/* Waits for canary C's result NAME (or says why it was not sent: WHY),
 * judges it, and removes what is left of it. */
static json_t *collect(const char *dir, int ino, const struct canary *c, const char *name,
                       const char *why, double timeout, bool *answered)
{
    char *result = worker_path(dir, WORKER_OUTBOX, name);
    char *queued = worker_path(dir, WORKER_INBOX, name);
    struct err e = {{0}};
    json_t *r = NULL;
    double t0 = clock_mono();
    *answered = true;
    if (why)
        snprintf(e.msg, sizeof e.msg, "%s", why);
    else if (!result || !queued)
        err_set(&e, "out of memory");
    else if (!(*answered = await(ino, result, timeout)))
        err_set(&e, "the daemon returned no result within %.0f s: is it grading (systemctl "
                "status assay-worker, %s/logs/worker.log)?", timeout, dir);
    else
        r = read_result(result, &e);
    if (result)
        unlink(result);   /* there or not: a canary leaves nothing behind */
    if (queued)
        unlink(queued);
    json_t *o = canary_judge(c, c->kind, r, e.msg, clock_mono() - t0);
    json_decref(r);
    free(result);
    free(queued);
    return o;
}

/* Every canary through the daemon on DIR: the list of outcomes. */
static json_t *run_all(const char *dir)
{
    size_t n;
    const struct canary *all = canary_all(&n);
    char (*names)[200] = calloc(n, sizeof *names);
    char (*whys)[1024] = calloc(n, sizeof *whys);
    json_t *out = json_array();
    char *outbox = worker_path(dir, WORKER_OUTBOX, NULL);
    int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ino >= 0 && (!outbox || inotify_add_watch(ino, outbox, IN_MOVED_TO) < 0)) {
        close(ino);   /* await() then looks every 0.1 s instead */
        ino = -1;
    }
    for (size_t i = 0; names && whys && i < n; i++) {
        struct err e;
        if (deliver(dir, &all[i], names[i], sizeof names[i], &e) < 0)
            snprintf(whys[i], sizeof whys[i], "%s", e.msg);
    }
    bool all_answered = true;
    for (size_t i = 0; names && whys && out && i < n; i++) {
        bool answered;
        double lease = MARGIN_S + 1.5 * canary_wall_s(&all[i]);
        json_t *o = collect(dir, ino, &all[i], names[i], whys[i][0] ? whys[i] : NULL,
                            all_answered ? lease : LAST_LOOK_S, &answered);
        all_answered &= answered;
        if (json_array_append_new(out, o) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    if (ino >= 0)
        close(ino);
    free(outbox);
    free(names);
    free(whys);
    if (out && json_array_size(out) < n) {   /* memory ran out on the way */
        json_decref(out);
        out = NULL;
    }
    return out;
}

static int print_outcomes(const json_t *out, bool as_json)
{
    bool ok = true;
    size_t i;
    const json_t *o;
    json_array_foreach(out, i, o)
        ok &= json_is_true(json_object_get(o, "ok"));
    if (as_json) {
        char *text = json_dumps(out, JSON_INDENT(2));
        printf("%s\n", text ? text : "{\"error\": \"out of memory\"}");
        free(text);
        return ok && text ? 0 : 1;
    }
    json_array_foreach(out, i, o) {
        struct buf said = BUF_INIT;
        int rc = canary_describe(o, &said);
        char *line = rc == 0 ? text_visible(buf_str(&said), said.len, 0) : NULL;
        printf("%s: %s\n", jsonutil_str(o, "canary", "?"),
               line ? line : "(not shown: out of memory)");
        free(line);
        buf_free(&said);
    }
    return ok ? 0 : 1;
}

int worker_canary(const char *dir, const struct launcher_type *sandbox, bool as_json)
{
    struct err e;
    if (!worker_daemon_running(dir)) {
        /* a daemon refuses to start where its sandbox cannot run: say why */
        if (sandbox->host_check && sandbox->host_check(&e) < 0)
            fprintf(stderr, "assay-worker canary: no assay-worker is running on %s, and the %s "
                    "sandbox cannot run here: %s\n", dir, sandbox->name, e.msg);
        else
            fprintf(stderr, "assay-worker canary: no assay-worker is running on %s: start it "
                    "(systemctl start assay-worker), then run this again\n", dir);
        return 1;
    }
    json_t *out = run_all(dir);
    if (!out) {
        fprintf(stderr, "assay-worker canary: out of memory\n");
        return 1;
    }
    int rc = print_outcomes(out, as_json);
    json_decref(out);
    return rc;
}
