/* launcher.h - the interface that runs one command of a test. */
#ifndef ASSAY_LAUNCHER_H
#define ASSAY_LAUNCHER_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"
#include "contract/installation.h"
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
    double cpu_s;
    double wall_s;              /* from the spawn of the command (its clone and exec;
                                 * not the launcher's set-up) to its end */
    /* How long the run's processes were ready to run but waited for a
     * CPU the machine did not give them (the scheduler's run-queue wait
     * or the cgroup's CPU pressure, from the exec on); 0 where not measured. */
    double cpu_wait_s;
    /* Stopped at its wall limit for want of a CPU, not by its own doing
     * (launcher_note_starved): the test was not judged. */
    bool starved;
    long max_rss_kb;
    bool wall_exceeded, cpu_exceeded, memory_exceeded;
    bool output_exceeded, file_exceeded;
    bool disk_exceeded;         /* the work area (disk_mb) was full when the run failed */
    long disk_mb;               /* the work area's size; 0: no bound of the launcher's */
    struct buf out, err;        /* captured, at most output_kb each */
};

/* A launcher starts a command with the limits applied, waits for it (at
 * most wall_s from the moment the command is spawned: the launcher's own
 * set-up is not the student's time), captures its output, and makes sure
 * that no process it started survives the call.  run() returns -1 only
 * when the launcher itself failed (an infrastructure error); whatever the
 * command did is described in *res. */
struct launcher {
    const char *name;           /* its type's name (launcher_type) */
    int slot;                   /* the sandbox slot in use, -1 if none */
    /* Where work directories must be made (the sandbox's size-limited
     * tmpfs), or NULL for anywhere. */
    const char *work_base;
    /* Makes DIR (a fresh work directory) usable by the run's identity. */
    int (*adopt_dir)(struct launcher *self, const char *dir, struct err *e);
    /* Makes the slot as new before a grading: removes whatever is left
     * in work_base (a killed grader's work directories), ends what is
     * left of earlier runs and checks that nothing stays charged to
     * them.  -1: the slot cannot be made clean and must not grade; the
     * error names it.  NULL: the launcher keeps nothing between runs. */
    int (*clean)(struct launcher *self, struct err *e);
    int (*run)(struct launcher *self, const struct run_spec *spec,
               struct run_result *res, struct err *e);
    /* Lets the slot go: what is left of its runs is ended and, unless
     * KEEP_WORK, work_base is gone too. */
    void (*destroy)(struct launcher *self);
    /* Set before destroy to leave work_base and what is in it (the engine
     * does, keeping work directories): the slot's next grading removes it. */
    bool keep_work;
};

/* ---- the installation's names (launcher.c) ---- */

/* What the launchers of one installation lease and create on the machine
 * (contract/installation.h): the run uids, the directory of their lease
 * locks, the directory of the sandbox's slots and the slots' cgroup
 * below the cgroup mount.  Launchers of different installations share
 * none of them. */
struct sandbox_site {
    uid_t uid_base;
    unsigned uid_count;
    char lock_dir[128];         /* uid-N lock files, one per uid */
    char run_dir[128];          /* slot-N/ directories */
    char cgroup_name[96];       /* slot-N cgroups below it */
};

/* The names of installation IN (NULL: the unnamed one). */
void sandbox_site_of(struct sandbox_site *site, const struct installation *in);

/* ---- the registry (launcher.c) ---- */

/* One way to run student code, as the programs pick it: by name
 * (`assay grade --sandbox`, `assay-worker --sandbox`, the benchmarks).
 * Each is defined in the file of its implementation (launcher_*.c) and
 * listed once in launcher.c's table; callers never compare names. */
struct launcher_type {
    const char *name;           /* what --sandbox takes and results record */
    /* Whether this host can run it; if not, the error names what is
     * missing and how to enable it.  NULL: every host can. */
    int (*host_check)(struct err *e);
    /* A launcher of this type for installation SITE (NULL: the unnamed
     * one), checking the host first where it must.  It copies SITE. */
    struct launcher *(*create)(const struct sandbox_site *site, struct err *e);
    /* For a launcher costly to set up: a worker daemon calls this once
     * per slot and every grader the slot forks uses the result (made
     * again after a grader died abnormally).  NULL: each grader makes
     * its own with create. */
    struct launcher *(*create_for_slot)(const struct sandbox_site *site, struct err *e);
};

/* The type named NAME, or the default (the namespace sandbox) for NULL;
 * NULL if no launcher has that name. */
const struct launcher_type *launcher_find(const char *name);
/* The same, with an error naming the known ones when NAME is unknown. */
const struct launcher_type *launcher_lookup(const char *name, struct err *e);
const char *launcher_names(void);     /* "namespace, rlimit" */
/* A launcher of the type named NAME (NULL: the default) for SITE (NULL:
 * the unnamed installation). */
struct launcher *launcher_new(const char *name, const struct sandbox_site *site, struct err *e);

void run_result_free(struct run_result *r);

#endif
