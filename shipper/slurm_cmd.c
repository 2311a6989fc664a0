/*
 * slurm_cmd.c - Slurm through its commands (sbatch, squeue, sinfo,
 * scontrol, scancel), for sites without slurmrestd (workers.json
 * "api": "commands").  The primary must then be a Slurm submit host: the
 * commands run as the shipper's user, with munge, against the cluster's
 * slurm.conf (or the one "slurm_conf" names).
 *
 * Each command runs with its standard error joined to its output, so a
 * failure is reported in Slurm's own words.  squeue -t all keeps showing
 * a job for MinJobAge after it ended; after that it is unknown.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/check.h"
#include "common/jsonutil.h"
#include "common/run.h"
#include "shipper/slurm.h"

#define OUTPUT_MAX (16u << 20)
#define MAX_ARGS 40

static const char *const cmd_keys[] = {"slurm_conf", NULL};

struct cmd {
    struct slurm_api base;
    char *conf_env;             /* "SLURM_CONF=..." or NULL: the system's */
};

/* Runs the Slurm command ARGS (NULL-terminated, ARGS[0] its name) with
 * stderr joined to stdout into *OUT; its exit status, or -1 with *e. */
static int slurm_run(struct cmd *c, const char *const *args, struct buf *out, struct err *e)
{
    char *argv[MAX_ARGS + 8];
    int n = 0;
    argv[n++] = "/usr/bin/env";
    if (c->conf_env)
        argv[n++] = c->conf_env;
    argv[n++] = "/bin/sh";
    argv[n++] = "-c";
    argv[n++] = "exec \"$0\" \"$@\" 2>&1";
    for (int i = 0; args[i] && i < MAX_ARGS; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    int rc = run_capture(argv, OUTPUT_MAX, out, e);
    if (rc < 0)
        err_prefix(e, "cannot run %s", args[0]);
    return rc;
}

/* *e: "COMMAND failed (status N): its last line". */
static int failed(const char *what, int rc, const struct buf *out, struct err *e)
{
    char *last = text_last_lines(buf_str(out), out->len, 1, 300);
    char *shown = last ? text_visible(last, strlen(last), 0) : NULL;
    err_set(e, "%s exited with status %d: %s", what, rc, shown && *shown ? shown : "no message");
    free(last);
    free(shown);
    return -1;
}

/* "--NAME=VALUE", malloc'd; NULL when VALUE is NULL or out of memory. */
static char *flag(const char *name, const char *value)
{
    char *s;
    return value && asprintf(&s, "--%s=%s", name, value) >= 0 ? s : NULL;
}

static int cmd_submit(struct slurm_api *a, const struct slurm_submit *s, long *id, struct err *e)
{
    struct cmd *c = (struct cmd *)a;
    char time[32], mem[32];
    snprintf(time, sizeof time, "--time=%d", s->time_min);
    snprintf(mem, sizeof mem, "--mem=%ldM", s->memory_mb);
    /* the first four are always given; the rest when the worker has them */
    char *owned[] = {flag("job-name", s->name), flag("partition", s->partition),
                     flag("chdir", s->workdir), flag("output", s->output),
                     flag("constraint", s->constraint), flag("account", s->account),
                     flag("qos", s->qos)};
    const size_t n_owned = sizeof owned / sizeof *owned;
    const char *args[MAX_ARGS] = {"sbatch", "--parsable", "--no-requeue", time, mem};
    int n = 5;
    bool whole = true;
    for (size_t i = 0; i < n_owned; i++) {
        if (owned[i])
            args[n++] = owned[i];
        else if (i < 4)
            whole = false;
    }
    args[n++] = s->script_path;
    args[n] = NULL;
    struct buf out = BUF_INIT;
    int rc = !whole ? err_set(e, "out of memory") : slurm_run(c, args, &out, e);
    if (rc > 0)
        rc = failed("sbatch", rc, &out, e);
    char *end = NULL;
    if (rc == 0 && ((*id = strtol(buf_str(&out), &end, 10)) <= 0 || (*end && !strchr(";\n", *end))))
        rc = err_set(e, "sbatch --parsable printed no job id");
    if (rc < 0)
        err_prefix(e, "cannot submit to partition %s", s->partition);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    buf_free(&out);
    return rc;
}

static int cmd_job(struct slurm_api *a, long id, struct slurm_job *j, struct err *e)
{
    struct cmd *c = (struct cmd *)a;
    char jid[32];
    snprintf(jid, sizeof jid, "--jobs=%ld", id);
    const char *args[] = {"squeue", "--noheader", "--states=all", jid, "--format=%T|%B|%r", NULL};
    struct buf out = BUF_INIT;
    int rc = slurm_run(c, args, &out, e);
    if (rc > 0 && strstr(buf_str(&out), "Invalid job id"))
        rc = 1;
    else if (rc > 0)
        rc = failed("squeue", rc, &out, e);
    else if (rc == 0 && !out.len)
        rc = 1;   /* gone from squeue: ended more than MinJobAge ago */
    else if (rc == 0) {
        char *line = out.data, *f2 = strchr(line, '|'), *f3 = f2 ? strchr(f2 + 1, '|') : NULL;
        if (!f3)
            rc = err_set(e, "squeue printed \"%.60s\", not STATE|NODE|REASON", line);
        else {
            *f2++ = *f3++ = '\0';
            f3[strcspn(f3, "\n")] = '\0';
            slurm_copy_shown(j->state, sizeof j->state, line);
            slurm_copy_shown(j->node, sizeof j->node, strcmp(f2, "n/a") ? f2 : "");
            slurm_copy_shown(j->reason, sizeof j->reason, f3);
        }
    }
    buf_free(&out);
    return rc;
}

static int cmd_cancel(struct slurm_api *a, long id, struct err *e)
{
    struct cmd *c = (struct cmd *)a;
    char jid[32];
    snprintf(jid, sizeof jid, "%ld", id);
    const char *args[] = {"scancel", jid, NULL};
    struct buf out = BUF_INIT;
    int rc = slurm_run(c, args, &out, e);
    if (rc > 0)
        rc = failed("scancel", rc, &out, e);
    buf_free(&out);
    return rc;
}

/* sinfo's "STATE COUNT" lines into *P. */
static void count_nodes(char *text, struct slurm_pool *p)
{
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char st[64];
        int n;
        if (sscanf(line, "%63s %d", st, &n) != 2)
            continue;
        if (strstr(st, "drain"))
            p->drained += n;
        else if (!strncmp(st, "idle", 4))
            p->idle += n;
        else if (!strncmp(st, "alloc", 5))
            p->allocated += n;
        else if (!strncmp(st, "mix", 3))
            p->mixed += n;
        else if (!strncmp(st, "down", 4) || !strncmp(st, "unk", 3) || !strncmp(st, "fail", 4))
            p->down += n;
        else
            p->other += n;
    }
}

static int cmd_pool(struct slurm_api *a, const char *partition, const char *prefix,
                    struct slurm_pool *p, struct err *e)
{
    struct cmd *c = (struct cmd *)a;
    memset(p, 0, sizeof *p);
    char part[300];
    snprintf(part, sizeof part, "--partition=%s", partition);
    const char *ping[] = {"scontrol", "ping", NULL};
    const char *avail[] = {"sinfo", "--noheader", part, "--format=%a", NULL};
    const char *nodes[] = {"sinfo", "--noheader", part, "--format=%T %D", NULL};
    const char *jobs[] = {"squeue", "--noheader", part, "--format=%j|%T", NULL};
    const char *const *steps[] = {ping, avail, nodes, jobs};
    struct buf out[4] = {BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT};
    int rc = 0;
    for (int i = 0; i < 4 && rc == 0; i++) {
        int st = slurm_run(c, steps[i], &out[i], e);
        if (st > 0 || (i == 0 && st == 0 && !strstr(buf_str(&out[0]), "is UP")))
            rc = failed(i == 0 ? "scontrol ping" : steps[i][0], st, &out[i], e);
        else if (st < 0)
            rc = -1;
    }
    if (rc == 0 && !out[1].len)
        rc = err_set(e, "Slurm has no partition \"%s\"", partition);
    if (rc == 0) {
        snprintf(p->version, sizeof p->version, "?");
        char *avail_line = out[1].data;
        avail_line[strcspn(avail_line, "\n")] = '\0';
        for (char *q = avail_line; *q; q++)
            *q = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        slurm_copy_shown(p->state, sizeof p->state, avail_line);
        count_nodes(out[2].data ? out[2].data : (char[]){""}, p);
        for (char *line = strtok(out[3].data ? out[3].data : (char[]){""}, "\n"); line;
             line = strtok(NULL, "\n")) {
            char *bar = strchr(line, '|');
            if (!bar || strncmp(line, prefix, strlen(prefix)))
                continue;
            p->pending += !strcmp(bar + 1, "PENDING");
            p->running += !strcmp(bar + 1, "RUNNING") || !strcmp(bar + 1, "COMPLETING") ||
                          !strcmp(bar + 1, "CONFIGURING");
        }
    }
    for (int i = 0; i < 4; i++)
        buf_free(&out[i]);
    return rc;
}

static void cmd_destroy(struct slurm_api *a)
{
    struct cmd *c = (struct cmd *)a;
    free(c->conf_env);
    free(c);
}

static const struct slurm_api_ops cmd_ops = {cmd_submit, cmd_job, cmd_cancel, cmd_pool,
                                             cmd_destroy};

static void cmd_check(const json_t *entry, const char *path, struct problems *p)
{
    const char *conf = check_string(entry, path, "slurm_conf", false, p);
    char where[200];
    snprintf(where, sizeof where, "%s.slurm_conf", path);
    if (conf && conf[0] != '/')
        problems_add(p, where, "\"%s\" must be an absolute path (the slurm.conf the commands "
                     "read)", conf);
}

static struct slurm_api *cmd_open(const json_t *entry, const char *worker, struct err *e)
{
    (void)worker;
    struct cmd *c = calloc(1, sizeof *c);
    const char *conf = jsonutil_str(entry, "slurm_conf", NULL);
    if (c && conf && asprintf(&c->conf_env, "SLURM_CONF=%s", conf) < 0)
        c->conf_env = NULL;   /* asprintf leaves it undefined */
    if (!c || (conf && !c->conf_env)) {
        free(c);
        err_set(e, "out of memory");
        return NULL;
    }
    c->base.ops = &cmd_ops;
    return &c->base;
}

const struct slurm_api_kind slurm_api_commands = {"commands", cmd_keys, cmd_check, cmd_open};
