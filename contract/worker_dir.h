/* worker_dir.h - a worker directory's folders and their permissions. */
#ifndef ASSAY_WORKER_DIR_H
#define ASSAY_WORKER_DIR_H

#include "common/err.h"

/* Creates (or repairs) worker directory DIR: DIR and tmp/ 0711, so a
 * run's uid can pass through to its own work directory but list nothing;
 * inbox/, active/, outbox/ and logs/ 0700.  Existing folders keep their
 * owner (on an SSH worker, the queues belong to the worker's account). */
int worker_layout_create(const char *dir, struct err *e);

/* Checks that every folder above DIR lets other users pass (o+x): runs
 * execute as unprivileged uids and must reach DIR/tmp.  A worker directory
 * under /root (0700) would otherwise make every test fail with
 * "Permission denied". */
int worker_layout_reachable(const char *dir, struct err *e);

#endif
