/* launcher.h - the interface that runs one command of a test. */
#ifndef ASSAY_LAUNCHER_H
#define ASSAY_LAUNCHER_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/err.h"
#include "contract/limits.h"

/* A host directory shown to the run at another path (a sandbox feature:
 * a launcher without mount namespaces refuses runs that ask for one). */
struct run_bind {
    const char *source;         /* on the host */
    const char *target;         /* inside the run, absolute */
    bool writable;
};

struct run_spec {
    const char *workdir;        /* becomes the current directory */
    const char *command;        /* a shell command line */
    int stdin_fd;               /* -1 for an empty standard input */
    char *const *env;           /* the whole environment of the run */
    struct run_limits limits;
    const struct run_bind *binds;
    int n_binds;
    const char *rootfs;         /* a root file system directory (only the sandbox honours
                                 * it; the rlimit launcher refuses); NULL: the host's */
};

struct run_result {
    bool exited;                /* exit_code valid */
    int exit_code;
    int term_signal;            /* 0 unless killed by a signal */
    double cpu_s, wall_s;
    long max_rss_kb;
    bool wall_exceeded, cpu_exceeded, memory_exceeded;
    bool output_exceeded, file_exceeded;
    struct buf out, err;        /* captured, at most output_kb each */
};

/* A launcher starts a command with the limits applied, waits for it (at
 * most wall_s), captures its output, and makes sure that no process it
 * started survives the call.  run() returns -1 only when the launcher
 * itself failed (an infrastructure error); whatever the command did is
 * described in *res. */
struct launcher {
    const char *name;           /* the mode: "namespace" or "rlimit" */
    int slot;                   /* the sandbox slot in use, -1 if none */
    /* Where work directories must be made (the sandbox's size-limited
     * tmpfs), or NULL for anywhere. */
    const char *work_base;
    /* Makes DIR (a fresh work directory) usable by the run's identity. */
    int (*adopt_dir)(struct launcher *self, const char *dir, struct err *e);
    int (*run)(struct launcher *self, const struct run_spec *spec,
               struct run_result *res, struct err *e);
    void (*destroy)(struct launcher *self);
};

/* rlimits, a process group and a wall clock.  When started as root, the
 * command runs as an unprivileged uid of its own, leased (by a lock held
 * until destroy) from 61000-61999 so that concurrent graders never share
 * one. */
struct launcher *launcher_rlimit_new(struct err *e);

/* The namespace sandbox (sandbox/): fresh namespaces, a new root,
 * cgroup limits and accounting, seccomp.  It leases a slot (its uid, its
 * cgroups, its work tmpfs) until destroy. */
struct launcher *launcher_sandbox_new(struct err *e);

/* Whether this host can run the namespace sandbox; if not, the error
 * names what is missing and how to enable it. */
int launcher_sandbox_check(struct err *e);

/* A launcher by mode name: "namespace" (also for NULL) or "rlimit". */
struct launcher *launcher_new(const char *mode, struct err *e);

void run_result_free(struct run_result *r);

#endif
