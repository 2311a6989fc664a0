/*
 * cmd_workers.c - `assay workers`: the worker machines as the shippers
 * last saw them; `assay workers check`: test each one now.
 *
 *   assay workers [--json]          up/down/refusing since when, last contact,
 *                                   slots busy, capabilities, version
 *   assay workers check [WORKER...] connect, host key, key login, writable
 *                                   inbox, assay-worker present and of this
 *                                   version, free disk: one line per problem
 *
 * The list reads health/ and the slot directories; check runs
 * `assay-shipper --probe` for each worker (the same code the shippers
 * use; assay itself links no transport, so that it starts fast).
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
#include "spool/health.h"
#include "spool/job.h"
#include "spool/scan.h"
#include "spool/workers.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

static const char usage[] =
    "Usage: assay workers [--spool S] [--json]\n"
    "       assay workers check [--spool S] [WORKER...]\n"
    "\n"
    "Lists each worker in workers.json: up, down or refusing jobs (since when, why),\n"
    "last contact, slots busy, capabilities, assay-worker version. `check` tests\n"
    "each worker now (connect, host key, login, writable inbox, same version, free\n"
    "disk) and prints one line per problem; it exits 1 if there is any.\n";

static int busy_slots(const struct spool *s, const struct worker_cfg *w)
{
    int busy = 0;
    for (int k = 1; k <= worker_shippers(w); k++) {
        char rel[200];
        snprintf(rel, sizeof rel, SPOOL_SHIPPERS "/%s.%d", w->name, k);
        busy += scan_count_jobs(s, rel) > 0;
    }
    return busy;
}

static json_t *worker_row(const struct spool *s, const struct worker_cfg *w)
{
    json_t *h = health_read(s, w->name);
    json_t *caps = json_array();
    for (size_t i = 0; i < w->n_capabilities; i++)
        json_array_append_new(caps, json_string(w->capabilities[i]));
    const char *status = !w->enabled ? "disabled" : h ? jsonutil_str(h, "status", "?") : "unknown";
    /* shown as written: the host is its transport's key to read */
    const char *host = jsonutil_str(w->entry, "host", "-");
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o}", "name", w->name,
                            "transport", w->transport, "host", host,
                            "status", status, "since", jsonutil_str(h, "since", ""),
                            "reason", jsonutil_str(h, "reason", ""),
                            "last_contact", jsonutil_str(h, "last_contact", ""),
                            "slots", w->slots, "busy", busy_slots(s, w), "capabilities", caps);
    json_object_set(row, "version", json_object_get(h, "version") ? json_object_get(h, "version")
                                                                  : json_null());
    json_object_set(row, "free_mb", json_object_get(h, "free_mb") ? json_object_get(h, "free_mb")
                                                                  : json_null());
    json_decref(h);
    return row;
}

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
    }
}

/* What `assay-shipper --probe` said of worker W: its answer, or NULL
 * with why not in E. */
static json_t *probe_worker(const struct spool *s, const struct worker_cfg *w, struct err *e)
{
    char *dir = fs_program_dir(), *exe = fs_join(dir, "assay-shipper");
    char *argv[] = {exe, "--spool", s->root, "--worker", (char *)w->name, "--probe", NULL};
    struct buf out = BUF_INIT;
    struct err ran;
    int rc = exe ? run_capture(argv, 1u << 20, &out, &ran) : err_set(&ran, "out of memory");
    json_t *j = rc >= 0 && out.len ? jsonutil_load_text(buf_str(&out), out.len, exe, e) : NULL;
    if (!j && rc < 0) {
        err_set(e, "cannot probe the worker: %s", ran.msg);
    } else if (!j) {   /* it ran, and answered no JSON: the same for every cause */
        err_set(e, "cannot run %s to probe the worker", exe);
    } else if (json_object_get(j, "error")) {
        err_set(e, "%s", jsonutil_str(j, "error", "?"));
        json_decref(j);
        j = NULL;
    }
    buf_free(&out);
    free(dir);
    free(exe);
    return j;
}

/* One line per problem of worker W; returns how many. */
static int check_worker(const struct spool *s, const struct worker_cfg *w)
{
    struct err e;
    json_t *info = probe_worker(s, w, &e);
    int problems = 0;
    if (!info) {
        cli_printf(stdout, "%s: PROBLEM: %s\n", w->name, e.msg);
        problems++;
    } else {
        const char *version = jsonutil_str(info, "version", "?");
        double free_mb = jsonutil_num(info, "free_mb", 0);
        if (strcmp(version, ASSAY_VERSION)) {
            cli_printf(stdout, "%s: PROBLEM: its assay-worker is version %s, this primary is %s: install "
                       "the same version on both\n", w->name, version, ASSAY_VERSION);
            problems++;
        }
        if (free_mb < w->min_free_mb) {
            cli_printf(stdout, "%s: PROBLEM: only %.0f MB of disk free (min_free_mb is %.0f): it takes no "
                       "jobs until space is freed\n", w->name, free_mb, w->min_free_mb);
            problems++;
        }
        if (!w->enabled)
            cli_printf(stdout, "%s: note: disabled in workers.json, so it takes no jobs\n", w->name);
        if (!problems)
            cli_printf(stdout, "%s: ok (%s, assay-worker %s, %.0f MB free)\n", w->name,
                       w->local ? w->dir : jsonutil_str(w->entry, "host", "?"), version, free_mb);
    }
    json_decref(info);
    return problems;
}

static bool named(char **names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return true;
    return n == 0;
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
        int problems = 0;
        for (size_t i = 0; i < w.n; i++)
            if (named(argv + optind, argc - optind, w.v[i].name))
                problems += check_worker(&s, &w.v[i]);
        rc = problems ? EXIT_FAILED : EXIT_OK;
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
