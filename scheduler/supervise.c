/*
 * supervise.c - the processes the scheduler keeps alive: one
 * assay-shipper per slot, and the assay-worker of every local worker.
 *
 * A child that dies is started again after a backoff (1 s, doubling to
 * 60 s; back to 1 s once it had run for a minute), and each death is
 * logged with its exit status or signal.  Children are started with
 * --die-with-parent, so none outlives a scheduler killed with -9.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/log.h"
#include "scheduler/scheduler.h"

#define BACKOFF_MIN_S 1.0
#define BACKOFF_MAX_S 60.0
#define HEALTHY_AFTER_S 60.0

char **child_argv(const char *first, ...)
{
    size_t n = 0;
    char **argv = calloc(32, sizeof *argv);
    bool ok = argv && first && (argv[n++] = strdup(first)) != NULL;
    va_list ap;
    va_start(ap, first);
    for (const char *a; ok && n < 31 && (a = va_arg(ap, const char *));)
        ok = (argv[n++] = strdup(a)) != NULL;
    va_end(ap);
    if (!ok) {   /* out of memory: no command line rather than a cut one */
        child_argv_free(argv);
        return NULL;
    }
    return argv;
}

void child_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

void sched_free_handle(uv_handle_t *h)
{
    free(h);
}

static void spawn(struct child *c);

static void on_restart_timer(uv_timer_t *t)
{
    struct child *c = t->data;
    if (c->wanted && !c->s->stopping && !c->proc)
        spawn(c);
}

static void schedule_restart(struct child *c)
{
    /* a child that ran a while before dying starts its count afresh */
    c->failures = clock_mono() - c->started_at > HEALTHY_AFTER_S ? 1 : c->failures + 1;
    double delay = backoff_delay(c->failures, BACKOFF_MIN_S, BACKOFF_MAX_S);
    if (!c->restart) {
        if (!(c->restart = malloc(sizeof *c->restart))) {
            log_msg_for(LOG_ERROR, c->worker, NULL, "cannot schedule a restart of %s: out of "
                        "memory; it stays stopped until assay-scheduler restarts", c->label);
            return;
        }
        uv_timer_init(c->s->loop, c->restart);
        c->restart->data = c;
    }
    uv_timer_start(c->restart, on_restart_timer, (uint64_t)(delay * 1000), 0);
    log_msg_for(LOG_WARN, c->worker, NULL, "%s will be restarted in %.0f s", c->label, delay);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
    struct child *c = proc->data;
    struct sched *s = c->s;
    c->proc = NULL;
    s->children_running--;
    uv_close((uv_handle_t *)proc, sched_free_handle);
    if (c->release) {              /* retired: its owner can go now */
        log_msg_for(LOG_INFO, c->worker, NULL, "%s stopped", c->label);
        child_free(c);
        c->release(c->owner);
    } else if (c->restarting && !s->stopping) {
        c->restarting = false;
        log_msg_for(LOG_INFO, c->worker, NULL, "%s restarting with a new configuration", c->label);
        spawn(c);
    } else if (c->wanted && !s->stopping) {
        log_msg_for(LOG_ERROR, c->worker, NULL, "%s (pid %d) died: %s %d", c->label, proc->pid,
                sig ? "signal" : "exit status", sig ? sig : (int)status);
        schedule_restart(c);
    } else {
        log_msg_for(LOG_INFO, c->worker, NULL, "%s stopped", c->label);
    }
    if (s->stopping && s->children_running == 0)
        uv_stop(s->loop);
}


static void spawn(struct child *c)
{
    uv_process_t *proc = c->argv ? calloc(1, sizeof *proc) : NULL;
    if (!proc) {
        log_msg_for(LOG_ERROR, c->worker, NULL, "cannot start %s: out of memory", c->label);
        if (c->argv)   /* without a command line a retry cannot do better */
            schedule_restart(c);
        return;
    }
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t o = {.file = c->argv[0], .args = c->argv, .exit_cb = on_exit_cb,
                              .stdio_count = 3, .stdio = stdio};
    proc->data = c;
    c->started_at = clock_mono();
    int rc = uv_spawn(c->s->loop, proc, &o);
    if (rc < 0) {
        log_msg_for(LOG_ERROR, c->worker, NULL, "cannot start %s (%s): %s", c->label, c->argv[0], uv_strerror(rc));
        uv_close((uv_handle_t *)proc, sched_free_handle);
        schedule_restart(c);
        return;
    }
    c->proc = proc;
    c->s->children_running++;
    log_msg_for(LOG_INFO, c->worker, NULL, "started %s (pid %d)", c->label, proc->pid);
}

void child_start(struct child *c)
{
    c->wanted = true;
    if (!c->proc)
        spawn(c);
}

void child_stop(struct child *c)
{
    c->wanted = false;
    if (c->restart)
        uv_timer_stop(c->restart);
    if (c->proc)
        uv_process_kill(c->proc, SIGTERM);
}

void child_restart(struct child *c, char **argv)
{
    if (!argv)   /* out of memory making it: the old one names the same slot */
        log_msg_for(LOG_WARN, c->worker, NULL, "%s restarts with its previous command line: "
                    "out of memory making the new one", c->label);
    if (argv) {
        child_argv_free(c->argv);
        c->argv = argv;
    }
    c->wanted = true;
    if (c->proc) {
        c->restarting = true;
        uv_process_kill(c->proc, SIGTERM);
    } else {
        spawn(c);
    }
}

void child_retire(struct child *c, void (*release)(void *owner), void *owner)
{
    child_stop(c);
    if (!c->proc) {
        child_free(c);
        release(owner);
        return;
    }
    c->release = release;
    c->owner = owner;
}

void child_free(struct child *c)
{
    child_stop(c);
    if (c->restart)
        uv_close((uv_handle_t *)c->restart, sched_free_handle);
    c->restart = NULL;
    child_argv_free(c->argv);
    c->argv = NULL;
}
