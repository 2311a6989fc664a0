/*
 * cmd_workers.c - `assay workers`: the worker machines as the shippers
 * last saw them; `assay workers check`: test each one now.
 *
 *   assay workers [--json]          up/down/refusing since when, last contact,
 *                                   slots busy, capabilities, version
 *   assay workers check [--json] [WORKER...]
 *                                   connect, host key, key login, writable
 *                                   inbox, assay-worker present and of this
 *                                   version, free disk: one line per problem;
 *                                   then a canary grading per test kind (and
 *                                   per Gradescope setup.sh): ok, or what
 *                                   the worker lacks
 *
 * The list reads health/ and the slot directories; check runs
 * `assay-shipper --probe` for each worker (the same code the shippers
 * use; assay itself links no transport, so that it starts fast), then
 * `assay-shipper --canary`, which grades the canaries
 * (contract/canary.h) on it through its transport.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/run.h"
#include "cli/commands.h"
#include "contract/canary.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/scan.h"
#include "spool/workers.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

static const char usage[] =
    "Usage: assay workers [--spool S] [--json]\n"
    "       assay workers check [--spool S] [--json] [WORKER...]\n"
    "\n"
    "Lists each worker in workers.json: up, down or refusing jobs (since when, why),\n"
    "last contact, slots busy, capabilities, assay-worker version. `check` tests\n"
    "each worker now (connect, host key, login, writable inbox, same version, free\n"
    "disk), then grades a canary assignment of each test kind on it (io, pytest,\n"
    "doctest, notebook, gradescope, and the setup.sh of each Gradescope autograder\n"
    "it may grade), and prints one line per problem and per canary: ok, or what\n"
    "is missing; it exits 1 if anything failed. Canary results are not recorded.\n";

#define worker_row health_worker_row

static const char *ago(const char *stamp, char *buf, size_t n)
{
    double t;
    if (!clock_parse_iso8601(stamp, &t))
        return "never";
    snprintf(buf, n, "%.0f s ago", clock_wall() - t);
    return buf;
}

static void print_rows(const json_t *rows)
{
    cli_printf(stdout, "%-12s %-9s %-16s %-10s %-13s %-11s %-7s %s\n", "WORKER", "TRANSPORT", "HOST",
               "STATUS", "LAST CONTACT", "SLOTS BUSY", "VERSION", "CAPABILITIES");
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r) {
        char when[32], slots[16], caps[256] = "";
        snprintf(slots, sizeof slots, "%lld / %lld", (long long)json_integer_value(json_object_get(r, "busy")),
                 (long long)json_integer_value(json_object_get(r, "slots")));
        size_t j;
        const json_t *c;
        json_array_foreach(json_object_get(r, "capabilities"), j, c)
            snprintf(caps + strlen(caps), sizeof caps - strlen(caps), "%s%s", j ? "," : "",
                     json_string_value(c));
        cli_printf(stdout, "%-12s %-9s %-16s %-10s %-13s %-11s %-7s %s\n", jsonutil_str(r, "name", "?"),
                   jsonutil_str(r, "transport", "?"), jsonutil_str(r, "host", "-"),
                   jsonutil_str(r, "status", "?"), ago(jsonutil_str(r, "last_contact", ""), when, sizeof when),
                   slots, jsonutil_str(r, "version", "?"), caps);
        const char *reason = jsonutil_str(r, "reason", "");
        if (*reason)
            cli_printf(stdout, "    %s since %s: %s\n", jsonutil_str(r, "status", "?"), jsonutil_str(r, "since", "?"),
                       reason);
        char pool[600];
        health_pool_line(json_object_get(r, "pool"), pool, sizeof pool);
        if (*pool)
            cli_printf(stdout, "    %s\n", pool);
    }
}

static bool named(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return true;
    return n == 0;
}

/* What one `assay-shipper` asked to WHAT answered in J: its JSON, or
 * NULL with why in E (its {"error": why}, or that it could not run). */
static json_t *answer_of(struct run_job *j, const char *exe, const char *what, struct err *e)
{
    json_t *a = j->rc >= 0 && j->out.len ? jsonutil_load_text(buf_str(&j->out), j->out.len, exe, e)
                                         : NULL;
    if (!a && j->rc < 0) {
        err_set(e, "cannot %s: %s", what, j->e.msg);
    } else if (!a) {   /* it ran, and answered no JSON: the same for every cause */
        err_set(e, "cannot run %s to %s", exe, what);
    } else if (json_is_object(a) && json_object_get(a, "error")) {
        err_set(e, "%s", jsonutil_str(a, "error", "?"));
        json_decref(a);
        a = NULL;
    }
    return a;
}

/* `assay-shipper --spool S --worker W FLAG` for the N workers of WS, all
 * at once (the same code the shippers use; assay links no transport):
 * ANSWERS[i] is what it printed for WS[i], or NULL with why in ERRS[i]. */
static void ask_shippers(const struct spool *s, const struct worker_cfg **ws, size_t n,
                         const char *flag, const char *what, json_t **answers, struct err *errs)
{
    char *dir = fs_program_dir(), *exe = fs_join(dir, "assay-shipper");
    struct run_job *jobs = calloc(n, sizeof *jobs);
    char *(*argvs)[7] = calloc(n, sizeof *argvs);
    for (size_t i = 0; exe && jobs && argvs && i < n; i++) {
        char *argv[7] = {exe, "--spool", s->root, "--worker", (char *)ws[i]->name, (char *)flag,
                         NULL};
        memcpy(argvs[i], argv, sizeof argv);
        jobs[i] = (struct run_job){.argv = argvs[i], .out = BUF_INIT};
    }
    if (exe && jobs && argvs)
        run_capture_all(jobs, n, 16u << 20);
    for (size_t i = 0; i < n; i++) {
        answers[i] = exe && jobs && argvs ? answer_of(&jobs[i], exe, what, &errs[i]) : NULL;
        if (!exe || !jobs || !argvs)
            err_set(&errs[i], "cannot %s: out of memory", what);
        if (jobs)
            buf_free(&jobs[i].out);
    }
    free(jobs);
    free(argvs);
    free(dir);
    free(exe);
}

/* What the probe answered INFO says is wrong with W, into PROBLEMS. */
static void probe_problems(const struct worker_cfg *w, const json_t *info, json_t *problems)
{
    const char *version = jsonutil_str(info, "version", "?");
    double free_mb = jsonutil_num(info, "free_mb", 0);
    /* a Slurm pool's nodes are not asked their version (its probe cannot
     * run one there): the canary gradings below show what they run */
    bool asked = json_object_get(info, "version") || !json_object_get(info, "pool");
    if (asked && strcmp(version, ASSAY_VERSION))
        jsonutil_append_textf(problems, "its assay-worker is version %s, this primary is %s: "
                              "install the same version on both", version, ASSAY_VERSION);
    if (free_mb < w->min_free_mb)
        jsonutil_append_textf(problems, "only %.0f MB of disk free (min_free_mb is %.0f): it "
                              "takes no jobs until space is freed", free_mb, w->min_free_mb);
}

/* The canary gradings that failed on W, named, as one problem. */
static void canary_problems(const json_t *canaries, json_t *problems)
{
    struct buf failed = BUF_INIT;
    size_t i;
    const json_t *o;
    json_array_foreach(canaries, i, o)
        if (!json_is_true(json_object_get(o, "ok")))
            buf_printf(&failed, "%s%s", failed.len ? ", " : "", jsonutil_str(o, "canary", "?"));
    if (failed.len)
        jsonutil_append_textf(problems, "it cannot grade: %s (the canary gradings below say why)",
                              buf_str(&failed));
    buf_free(&failed);
}

/* J, or JSON null when it is missing (json_pack takes no NULL). */
static json_t *or_null(json_t *j)
{
    return j ? j : json_null();
}

/* Worker W as checked: {"name", "ok", "host", "version", "free_mb",
 * "problems", "notes", "canaries"}, from the probe's answer INFO (or
 * why there is none, PERR) and the canaries' CANARIES (or CERR).  A
 * worker that could not be reached has nothing else to say. */
static json_t *check_row(const struct worker_cfg *w, json_t *info, const struct err *perr,
                         json_t *canaries, const struct err *cerr)
{
    json_t *problems = json_array(), *notes = json_array();
    if (!info) {
        jsonutil_append_textf(problems, "%s", perr->msg);
    } else {
        probe_problems(w, info, problems);
        if (!canaries)
            jsonutil_append_textf(problems, "%s", cerr->msg);
        canary_problems(canaries, problems);
    }
    if (!w->enabled)
        jsonutil_append_textf(notes, "disabled in workers.json, so it takes no jobs");
    const char *host = w->local ? w->dir
                                : jsonutil_str(w->entry, "host", jsonutil_str(w->entry, "url", "?"));
    return json_pack("{s:s, s:b, s:s, s:O, s:O, s:o, s:o, s:o}", "name", w->name,
                     "ok", problems && json_array_size(problems) == 0, "host", host,
                     "version", or_null(json_object_get(info, "version")),
                     "free_mb", or_null(json_object_get(info, "free_mb")),
                     "problems", problems, "notes", notes,
                     "canaries", canaries ? json_incref(canaries) : json_array());
}

/* ROW of check_worker as lines: the worker's verdict, its problems and
 * notes, then one line per canary grading. */
static void print_check(const json_t *row)
{
    const char *name = jsonutil_str(row, "name", "?");
    size_t i;
    const json_t *x;
    if (json_is_true(json_object_get(row, "ok")))
        cli_printf(stdout, "%s: ok (%s, assay-worker %s, %.0f MB free)\n", name,
                   jsonutil_str(row, "host", "?"), jsonutil_str(row, "version", "?"),
                   jsonutil_num(row, "free_mb", 0));
    json_array_foreach(json_object_get(row, "problems"), i, x)
        cli_printf(stdout, "%s: PROBLEM: %s\n", name, json_string_value(x));
    json_array_foreach(json_object_get(row, "notes"), i, x)
        cli_printf(stdout, "%s: note: %s\n", name, json_string_value(x));
    json_array_foreach(json_object_get(row, "canaries"), i, x) {
        struct buf said = BUF_INIT;
        int rc = canary_describe(x, &said);
        cli_printf(stdout, "%s %s: %s\n", name, jsonutil_str(x, "canary", "?"),
                   rc == 0 ? buf_str(&said) : "(not shown: out of memory)");
        buf_free(&said);
    }
}

/* The rows of check_row for the N workers of WS: every worker probed at
 * once, then the canaries graded at once on those that answered. */
static json_t *check_rows(const struct spool *s, const struct worker_cfg **ws, size_t n)
{
    json_t **infos = calloc(n, sizeof *infos), **canaries = calloc(n, sizeof *canaries);
    struct err *perrs = calloc(n, sizeof *perrs), *cerrs = calloc(n, sizeof *cerrs);
    const struct worker_cfg **up = calloc(n, sizeof *up);
    json_t *rows = json_array();
    size_t k = 0;
    if (infos && canaries && perrs && cerrs && up && rows) {
        ask_shippers(s, ws, n, "--probe", "probe the worker", infos, perrs);
        for (size_t i = 0; i < n; i++)
            if (infos[i])
                up[k++] = ws[i];
        /* the answers of UP's workers, in the first K places */
        ask_shippers(s, up, k, "--canary", "grade the canaries", canaries, cerrs);
        for (size_t i = n; k > 0 && i-- > 0;)   /* spread out, last first: K-1 <= i */
            if (infos[i]) {
                k--;
                canaries[i] = canaries[k], cerrs[i] = cerrs[k];
                if (k != i)
                    canaries[k] = NULL;
            }
        for (size_t i = 0; i < n; i++) {
            json_t *row = check_row(ws[i], infos[i], &perrs[i], canaries[i], &cerrs[i]);
            if (!row || json_array_append_new(rows, row) < 0) {
                json_decref(rows);   /* a worker missing from the answer must not pass */
                rows = NULL;
                break;
            }
        }
    } else {
        json_decref(rows);
        rows = NULL;
    }
    for (size_t i = 0; infos && canaries && i < n; i++) {
        json_decref(infos[i]);
        json_decref(canaries[i]);
    }
    free(infos), free(canaries), free(perrs), free(cerrs), free(up);
    return rows;
}

/* `assay workers check`: every worker NAMES lists (all, when none). */
static int check_workers(const struct spool *s, const struct workers *w, char **names, int n,
                         bool as_json)
{
    const struct worker_cfg **ws = calloc(w->n ? w->n : 1, sizeof *ws);
    size_t count = 0;
    for (size_t i = 0; ws && i < w->n; i++)
        if (named(names, n, w->v[i].name))
            ws[count++] = &w->v[i];
    json_t *rows = ws ? check_rows(s, ws, count) : NULL;
    free(ws);
    if (!rows) {
        fprintf(stderr, "assay workers: out of memory\n");
        return EXIT_FAILED;
    }
    bool ok = true;
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        ok &= json_is_true(json_object_get(row, "ok"));
        if (!as_json)
            print_check(row);
    }
    if (as_json)
        cli_print_json(stdout, rows, JSON_INDENT(2));
    json_decref(rows);
    return ok ? EXIT_OK : EXIT_FAILED;
}

int cmd_workers(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL;
    bool as_json = false, check = argc > 1 && !strcmp(argv[1], "check");
    if (check)
        argc--, argv++;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'j': as_json = true; break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    if (!check && optind != argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "workers", false) < 0)
        return EXIT_FAILED;
    struct workers w;
    struct problems p = {0};
    int rc = EXIT_OK;
    char *bindir = fs_program_dir();
    /* the transports check their own keys (an SSH worker's host, ...) */
    if (workers_load(&s, &w, &p) < 0 || workers_check_transports(&s, bindir, &p) < 0 || p.count) {
        fprintf(stderr, "assay workers: workers.json is invalid:\n");
        for (size_t i = 0; i < p.count; i++)
            cli_printf(stderr, "  %s\n", p.items[i]);
        rc = EXIT_FAILED;
    } else if (check) {
        rc = check_workers(&s, &w, argv + optind, argc - optind, as_json);
    } else {
        json_t *rows = json_array();
        int lost = rows ? 0 : -1;   /* a worker missing from the list would pass unseen */
        for (size_t i = 0; i < w.n; i++)
            lost |= json_array_append_new(rows, worker_row(&s, &w.v[i]));
        if (lost < 0) {
            fprintf(stderr, "assay workers: out of memory\n");
            rc = EXIT_FAILED;
        } else if (as_json) {
            cli_print_json(stdout, rows, JSON_INDENT(2));
        } else {
            print_rows(rows);
        }
        json_decref(rows);
    }
    problems_free(&p);
    workers_free(&w);
    free(bindir);
    spool_close(&s);
    return rc;
}
