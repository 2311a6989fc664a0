/*
 * cmd_logs.c - `assay logs`: the central log and stack-trace log, filtered.
 *
 *   assay logs [--job ID] [--worker W] [--errors] [--since DURATION] [--follow]
 *
 * Every Assay process appends lines "TIME PROCESS[PID] WORKER JOB LEVEL
 * MESSAGE" to logs/assay.log (log.c); shippers append the lines their
 * workers sent back with results, so a remote worker's log is read here
 * too.  Stack traces (logs/traces.log) that match the filter follow
 * under their own heading.  --follow keeps printing new lines (inotify)
 * until interrupted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "cli/commands.h"
#include "spool/logread.h"

static const char usage[] =
    "Usage: assay logs [--job ID] [--worker W] [--errors] [--since DURATION] [--follow]\n"
    "                  [--spool S]\n"
    "\n"
    "Prints the central log (S/logs/assay.log) and matching stack traces\n"
    "(S/logs/traces.log).\n"
    "  --job ID          only lines about that job\n"
    "  --worker W        only lines from or about worker W\n"
    "  --errors          only errors (and every stack trace)\n"
    "  --since DURATION  only the last 30s, 10m, 2h or 1d\n"
    "  --follow          keep printing new lines until interrupted\n";

#define filter log_filter
#define line_matches log_line_matches
#define trace_matches log_trace_matches

/* Prints the complete lines of BUF that match; keeps a partial last line. */
static void emit(struct buf *b, const struct filter *f, bool traces)
{
    if (b->len == 0)
        return;
    size_t start = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] != '\n')
            continue;
        b->data[i] = '\0';
        const char *line = b->data + start;
        if (traces ? trace_matches(line, f) : line_matches(line, f))
            cli_printf(stdout, "%s\n", line);
        start = i + 1;
    }
    memmove(b->data, b->data + start, b->len - start);
    b->len -= start;
    fflush(stdout);
}

/* -1 (said) if lines were lost for want of memory. */
static int read_new(int fd, struct buf *b, const struct filter *f, bool traces)
{
    char chunk[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (buf_append(b, chunk, (size_t)n) < 0 && rc == 0) {
            fprintf(stderr, "assay logs: out of memory: some lines are not shown\n");
            rc = -1;
        }
        emit(b, f, traces);
    }
    return rc;
}

#define parse_since log_parse_since

static int follow(int fd, const char *path, struct buf *b, const struct filter *f)
{
    int in = inotify_init1(IN_CLOEXEC);
    if (in < 0 || inotify_add_watch(in, path, IN_MODIFY) < 0) {   /* else: waiting for ever */
        cli_printf(stderr, "assay logs: cannot follow %s: %s\n", path, strerror(errno));
        if (in >= 0)
            close(in);
        return -1;
    }
    for (;;) {
        struct pollfd p = {in, POLLIN, 0};
        if (poll(&p, 1, -1) > 0) {
            char ev[4096] __attribute__((aligned(8)));
            if (read(in, ev, sizeof ev) < 0)
                break;
        }
        read_new(fd, b, f, false);
    }
    close(in);
    return 0;
}

int cmd_logs(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"job", required_argument, NULL, 'j'},
        {"worker", required_argument, NULL, 'w'}, {"errors", no_argument, NULL, 'e'},
        {"since", required_argument, NULL, 'S'}, {"follow", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    const char *spool = NULL;
    struct filter f = {0};
    bool keep = false;
    int c;
    while ((c = getopt_long(argc, argv, "hf", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spool = optarg; break;
        case 'j': f.job = optarg; break;
        case 'w': f.worker = optarg; break;
        case 'e': f.errors = true; break;
        case 'f': keep = true; break;
        case 'S':
            if (parse_since(optarg) < 0) {
                fprintf(stderr, "assay logs: --since takes a duration such as 30s, 10m, 2h or 1d\n");
                return EXIT_USAGE;
            }
            f.since = clock_wall() - parse_since(optarg);
            break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    struct spool s;
    if (optind != argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (cli_open_spool(spool, &s, "logs", false) < 0)
        return EXIT_FAILED;
    char *logpath = spool_path(&s, "logs/assay.log"), *tpath = spool_path(&s, "logs/traces.log");
    struct buf b = BUF_INIT, t = BUF_INIT;
    int rc = EXIT_OK;
    int fd = logpath ? open(logpath, O_RDONLY | O_CLOEXEC | O_CREAT, 0644) : -1;
    if (fd < 0) {
        fprintf(stderr, "assay logs: cannot open %s/logs/assay.log: %s\n", s.root,
                logpath ? strerror(errno) : "out of memory");
        rc = EXIT_FAILED;
    } else if (read_new(fd, &b, &f, false) < 0) {
        rc = EXIT_FAILED;
    }
    int tfd = tpath ? open(tpath, O_RDONLY | O_CLOEXEC) : -1;
    if (tfd < 0 && (!tpath || errno != ENOENT)) {   /* none until something crashed */
        fprintf(stderr, "assay logs: cannot open %s/logs/traces.log: %s\n", s.root,
                tpath ? strerror(errno) : "out of memory");
        rc = EXIT_FAILED;
    }
    if (tfd >= 0) {
        char chunk[65536];
        ssize_t n;
        while ((n = read(tfd, chunk, sizeof chunk)) > 0)
            if (buf_append(&t, chunk, (size_t)n) < 0 && rc == EXIT_OK) {
                fprintf(stderr, "assay logs: out of memory: some stack traces are not shown\n");
                rc = EXIT_FAILED;
            }
        emit(&t, &f, true);
        close(tfd);
    }
    if (keep && fd >= 0 && follow(fd, logpath, &b, &f) < 0)
        rc = EXIT_FAILED;
    if (fd >= 0)
        close(fd);
    buf_free(&b);
    buf_free(&t);
    free(logpath);
    free(tpath);
    spool_close(&s);
    return rc;
}
