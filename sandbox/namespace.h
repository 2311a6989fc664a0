/* namespace.h - the pieces of the namespace sandbox and how they meet
 * (internal to the namespace launcher; the rest of Assay sees launcher.h). */
#ifndef ASSAY_NAMESPACE_H
#define ASSAY_NAMESPACE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/err.h"
#include "sandbox/launcher.h"

struct cgroup;

/* Inside the sandbox the run is uid/gid 1000, mapped to the slot's uid
 * outside; nothing else is mapped (no root inside). */
#define SANDBOX_UID 1000

#define SANDBOX_WORK_MB 256               /* the work tmpfs: the disk a run can fill */
#define SANDBOX_TMP_MB 64                 /* /tmp and /dev/shm inside, each */

/* Everything PID 1 needs to set a run up, in the spawning process. */
struct sandbox_job {
    const char *workdir;        /* host path, shown at the same path inside */
    const char *command;
    char *const *env;
    const struct run_bind *binds;
    int n_binds;
    const char *rootfs;         /* NULL: the host's system directories */
    const char *root_mnt;       /* an empty host directory: staging for the root (rootfs.c) */
    bool prepared;              /* root_mnt already holds the prepared tree (keeper) */
    bool net_ready;             /* already in a fresh network namespace, loopback up */
    struct run_limits limits;
    uid_t uid;                  /* outside */
    int stdin_fd;               /* -1: /dev/null */
    int out_fd, err_fd;         /* write ends of the output pipes */
    int report_fd;              /* write end: PID 1's struct pid1_report */
    const struct sock_fprog *filter;
};

/* What PID 1 tells the launcher: when the command started, then how it
 * ended (each one write, < PIPE_BUF, so each read gets one whole). */
enum { PID1_EXITED = 1, PID1_SETUP_FAILED = 2, PID1_STARTED = 3 };
struct pid1_report {
    int kind;
    int status;                 /* the command's wait status (PID1_EXITED) */
    double started;             /* clock_mono() once the command was exec'd (PID1_STARTED) */
    char msg[240];              /* which set-up step failed and why */
};

/* Clones PID 1 in fresh user, mount, PID, network, IPC, UTS and cgroup
 * namespaces (into CGROUP_FD's cgroup when >= 0), maps SANDBOX_UID to
 * the job's uid and lets it go.  The spawning process is its parent. */
int sandbox_spawn(const struct sandbox_job *job, int cgroup_fd, pid_t *pid, int *pidfd,
                  struct err *e);

/* PID 1: waits on SYNC_FD for the uid map, sets the run up, runs the
 * command, reaps, kills what is left, reports.  Never returns. */
_Noreturn void sandbox_pid1(const struct sandbox_job *job, int sync_fd);

/* Builds the tree every run shares (system directories, /etc, /dev) below
 * ROOT_MNT in the calling process's mount namespace, made private first.
 * On failure, -1 with WHY saying which step. */
int sandbox_rootfs_prepare(const char *root_mnt, const char *rootfs, char *why, size_t n);
/* In PID 1: builds the run's own root from the prepared tree plus the
 * per-run parts and pivots into it.  On failure, -1 with WHY. */
int sandbox_rootfs_enter(const struct sandbox_job *job, char *why, size_t n);

int sandbox_filter_build(struct sock_fprog *prog, struct err *e);
void sandbox_filter_free(struct sock_fprog *prog);
int sandbox_filter_apply(const struct sock_fprog *prog);

/* The run's network namespace (netns.c).  A spare is a fresh namespace
 * with loopback up, made ahead for the next run; HOST is the caller's. */
struct netns_spare {
    int host, next;
};
int netns_loopback_up(void);
int netns_spare_init(struct netns_spare *n);
/* Makes the spare if there is none. */
int netns_spare_make(struct netns_spare *n);
/* Moves the caller into the spare (used up); clone PID 1, then leave. */
int netns_spare_enter(struct netns_spare *n);
void netns_spare_leave(struct netns_spare *n);

/* v1 hosts: the keeper, a process that lives in the slot's cgroup and
 * forks every run there (keeper.c). */
struct keeper {
    pid_t pid;
    int sock;
    pid_t parent;               /* the process that started it (and reaps it) */
};
int keeper_start(struct keeper *k, struct cgroup *cg, const struct sock_fprog *filter,
                 struct err *e);
/* Asks the keeper to spawn JOB; *PIDFD refers to the run's PID 1. */
int keeper_spawn(struct keeper *k, const struct sandbox_job *job, int *pidfd, struct err *e);
/* Waits until the keeper has reaped the run's PID 1. */
int keeper_wait_reaped(struct keeper *k, struct err *e);
void keeper_stop(struct keeper *k);
/* Before a grading: a keeper that died (killed by someone, or the OOM
 * killer despite its exemption) would fail every later run of the slot
 * with "cannot reach the sandbox keeper".  Its parent starts a new one
 * in its place (1, and logs it); anyone else gets -1 saying it is gone.
 * 0 while it lives, and where there is none (cgroup v2). */
int keeper_revive(struct keeper *k, struct cgroup *cg, const struct sock_fprog *filter,
                  struct err *e);

#endif
