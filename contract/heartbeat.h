/* heartbeat.h - the grading daemon's heartbeat: how a shipper tells a
 * worker whose daemon grades from one whose daemon is gone or hung.
 *
 * assay-worker's daemon creates DIR/heartbeat (its pid) when it starts
 * and touches it every HEARTBEAT_EVERY_S from its event loop, so the
 * file's age is how long the daemon has not been answering: a daemon
 * that died, or is stopped or stuck, stops touching it.  The file is
 * read on the worker's own host (`assay-worker status` and `wait` over
 * SSH, the local transport directly), so its age never mixes two
 * machines' clocks; what was read travels to the primary as JSON, where
 * heartbeat_check() judges it. */
#ifndef ASSAY_HEARTBEAT_H
#define ASSAY_HEARTBEAT_H

#include <jansson.h>
#include <stdbool.h>

#include "common/err.h"

#define WORKER_HEARTBEAT "heartbeat"   /* in the worker directory */
#define HEARTBEAT_EVERY_S 1.0          /* the daemon touches it this often */
/* Older than this, the daemon is not answering.  Long enough for a
 * daemon that is restarted (systemd, or the scheduler for a local
 * worker) to write its new heartbeat, so a restart is not an outage. */
#define HEARTBEAT_STALE_S 5.0

/* The daemon's side: creates DIR/heartbeat naming this process (mode
 * 0644: the shippers' account reads it) and returns a descriptor to
 * touch it with, or -1 with *e set. */
int heartbeat_start(const char *dir, struct err *e);
/* Sets the file's time to now; -1 with *e set on failure.  Only the
 * inode changes, so it works on a full disk. */
int heartbeat_touch(int fd, struct err *e);

/* What the heartbeat file of a worker directory says. */
struct heartbeat {
    bool found;        /* DIR/heartbeat exists */
    long pid;          /* the daemon that writes it (0: unknown) */
    bool running;      /* a process with that pid exists (true when unknown) */
    double age_s;      /* since it was last touched, by the reading host's clock */
};

/* Reads DIR/heartbeat on this host into *HB. */
void heartbeat_read(const char *dir, struct heartbeat *hb);
/* *HB as {"pid", "running", "age_s"}, or JSON null when not found; NULL
 * when out of memory. */
json_t *heartbeat_json(const struct heartbeat *hb);
/* The reverse; J NULL or not an object means no heartbeat found. */
void heartbeat_from_json(const json_t *j, struct heartbeat *hb);
/* 0 when HB shows a daemon that answers; else -1 with *e saying what is
 * wrong with the grading daemon of worker WORKER (directory DIR there),
 * in words that stay the same while it stays so (they go into the
 * worker's health record).  WHO_ANSWERS, when not NULL, says what did
 * answer ("sshd answers"), to tell this from a host that is down. */
int heartbeat_check(const struct heartbeat *hb, const char *worker, const char *dir,
                    const char *who_answers, struct err *e);

#endif
