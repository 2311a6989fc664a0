/*
 * cli_util.c - small pieces the assay subcommands share: opening the
 * spool named by --spool, waiting for a result to appear.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"

int cli_open_spool(const char *opt, struct spool *s, const char *cmd)
{
    struct err e;
    if (spool_open(s, spool_root_from(opt), &e) < 0) {
        fprintf(stderr, "assay %s: %s\n", cmd, e.msg);
        return -1;
    }
    return 0;
}

json_t *cli_result_if_job(const char *dir, const char *job_id)
{
    char *path = fs_join(dir, "results.json");
    struct err e;   /* not there yet, or unreadable: the caller waits and looks again */
    json_t *r = fs_exists(path) ? jsonutil_load_file(path, 16u << 20, &e) : NULL;
    free(path);
    if (r && strcmp(jsonutil_str(json_object_get(r, "assay"), "job_id", ""), job_id)) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

/* Waits on a FIFO the shipper writes to once the result is recorded
 * (spool_notify), not on inotify: closing an inotify descriptor costs an
 * RCU grace period (~10 ms), paid at exit by every `submit --wait`. */
json_t *cli_wait_result(const struct spool *s, const char *result_rel, const char *job_id,
                        double timeout_s)
{
    char *dir = spool_path(s, "%s", result_rel), *fifo = spool_path(s, "notify/%s", job_id);
    if (mkfifo(fifo, 0600) < 0 && errno != EEXIST) { /* fall back to the 1 s guard below */ }
    int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    double deadline = clock_mono() + timeout_s;
    json_t *r;
    while (!(r = cli_result_if_job(dir, job_id))) {
        double left = deadline - clock_mono();
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        /* the FIFO makes this immediate; the 1 s cap only guards a missed write */
        if (poll(&p, 1, left > 1 ? 1000 : (int)(left * 1000) + 1) > 0) {
            char buf[64];
            while (read(fd, buf, sizeof buf) > 0) {
            }
            if (p.revents & POLLHUP) {   /* a writer came and went: listen afresh */
                close(fd);
                fd = open(fifo, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
            }
        }
    }
    if (fd >= 0)
        close(fd);
    if (fifo)
        unlink(fifo);   /* if it stays, the next wait for this job reuses it */
    free(fifo);
    free(dir);
    return r;
}
