/* namespace.h - the pieces of the namespace sandbox and how they meet
 * (internal to the namespace launcher; the rest of Assay sees launcher.h). */
#ifndef ASSAY_NAMESPACE_H
#define ASSAY_NAMESPACE_H

#include <linux/filter.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/buf.h"
#include "common/err.h"
#include "sandbox/launcher.h"

struct cgroup;

/* Inside the sandbox the run is uid/gid 1000, mapped to the slot's uid
 * outside; nothing else is mapped (no root inside). */
#define SANDBOX_UID 1000

#define SANDBOX_WORK_MB 256               /* the work tmpfs: the disk a run can fill */
#define SANDBOX_TMP_MB 64                 /* /tmp and /dev/shm inside, each */

/* What a PID 1 is born with, before any run is known: the slot's
 * identity and root (keeper.c makes one ahead of each run from this). */
struct sandbox_birth {
    uid_t uid;                  /* the slot's uid outside */
    const char *root_mnt;       /* an empty host directory: staging for the root (rootfs.c) */
    const char *work_base;      /* where the runs' work directories will be (NULL: unknown) */
    const char *rootfs;         /* NULL: the host's system directories */
    bool prepared;              /* root_mnt already holds the prepared tree (keeper) */
    int sock;                   /* PID 1's end of the socket the run comes over */
    const struct sock_fprog *filter;
};

/* One run, as PID 1 receives it (job_wire.c carries it). */
struct sandbox_job {
    const char *workdir;        /* host path, shown at the same path inside */
    const char *command;
    char *const *env;
    const struct run_bind *binds;
    int n_binds;
    const char *rootfs;         /* NULL: the host's system directories */
    struct run_limits limits;
    int stdin_fd;               /* -1: /dev/null */
    int out_fd, err_fd;         /* write ends of the output pipes */
    int report_fd;              /* write end: PID 1's struct pid1_report */
};

/* What PID 1 tells the launcher: when the command started, then how it
 * ended (each one write, < PIPE_BUF, so each read gets one whole). */
enum { PID1_EXITED = 1, PID1_SETUP_FAILED = 2, PID1_STARTED = 3 };
struct pid1_report {
    int kind;
    int status;                 /* the command's wait status (PID1_EXITED) */
    double started;             /* clock_mono() as the command was spawned (PID1_STARTED) */
    char msg[240];              /* which set-up step failed and why */
};

/* Clones PID 1 in fresh user, mount, PID, network, IPC, UTS and cgroup
 * namespaces (into CGROUP_FD's cgroup when >= 0),
 * maps SANDBOX_UID to the birth's uid and lets it go: it sets up all a
 * run does not decide, then waits on BIRTH->sock for its run.  The
 * spawning process is its parent. */
int sandbox_spawn(const struct sandbox_birth *birth, int cgroup_fd, pid_t *pid, int *pidfd,
                  struct err *e);

/* PID 1: waits on SYNC_FD for the uid map, sets up what every run has,
 * receives its run, finishes the root, runs the command, reaps, kills
 * what is left, reports.  Never returns. */
_Noreturn void sandbox_pid1(const struct sandbox_birth *birth, int sync_fd);

/* ---- the run on the wire (job_wire.c) ---- */

#define JOB_WIRE_MAX (256u << 10)
#define JOB_MAX_ENV 256
#define JOB_MAX_BINDS 32
#define JOB_MAX_FDS 4

/* Serialises JOB's strings and limits into B (its fds go beside). */
int job_encode(const struct sandbox_job *job, struct buf *b, struct err *e);
/* Decodes MSG into JOB, pointing into MSG; ENV (JOB_MAX_ENV + 1) and
 * BINDS (JOB_MAX_BINDS) are the arrays it fills.  The fds are FDS[0..2]
 * (out, err, report) and FDS[3] (stdin) when the job has one.  -1 if
 * malformed or NFDS does not fit. */
int job_decode(const char *msg, size_t len, const int *fds, int nfds, struct sandbox_job *job,
               char **env, struct run_bind *binds);
/* The fds that go beside JOB: 3, or 4 with a stdin. */
int job_fds(const struct sandbox_job *job, int fds[JOB_MAX_FDS]);
/* One message and up to JOB_MAX_FDS fds over a SOCK_SEQPACKET socket. */
ssize_t wire_send(int sock, const void *data, size_t len, const int *fds, int nfds);
/* Receives one message into DATA, its fds into FDS (*NFDS of them,
 * close-on-exec), with recvmsg's FLAGS; returns its length. */
ssize_t wire_recv(int sock, void *data, size_t len, int *fds, int *nfds, int flags);

/* Builds the tree every run shares (system directories, /etc, /dev) below
 * ROOT_MNT in the calling process's mount namespace, made private first.
 * On failure, -1 with WHY saying which step. */
int sandbox_rootfs_prepare(const char *root_mnt, const char *rootfs, char *why, size_t n);
/* In PID 1, before its run is known: builds the run's own root from the
 * prepared tree plus the parts every run gets fresh, and the directories
 * down to WORK_BASE (NULL: none) in it.  On failure, -1 with WHY. */
int sandbox_rootfs_build(const char *root_mnt, const char *work_base, char *why, size_t n);
/* In PID 1, with its run: adds the work directory and the run's binds,
 * then pivots into the root.  On failure, -1 with WHY. */
int sandbox_rootfs_enter(const char *root_mnt, const struct sandbox_job *job, char *why, size_t n);

int sandbox_filter_build(struct sock_fprog *prog, struct err *e);
void sandbox_filter_free(struct sock_fprog *prog);
int sandbox_filter_apply(const struct sock_fprog *prog);

/* In PID 1, in its fresh network namespace: loopback up (netns.c). */
int netns_loopback_up(void);
/* In the keeper, once: a network namespace of its own whose setting gives
 * each run's namespace a small TCP table of its own (netns.c).  -1 with
 * errno: the runs share the host's table, which works, only slower. */
int netns_keeper_enter(void);

/* What the slot's memory cgroup may still hold between runs: the
 * keeper's and the waiting PID 1's own pages, page cache a run read
 * (reclaimable, so no later run's limit pays for it) and kernel objects
 * that outlive a run for a moment.  A run's leftovers (files in the work
 * tmpfs, shared memory) that were not removed hold far more.  Past it,
 * the slot is reclaimed (memory.force_empty, memory.reclaim: a cost of
 * its own, and page cache that runs read again), not before. */
#define SLOT_RESIDUE_MB 32

/* The keeper, a process that lives in the slot's cgroup and that every
 * run's PID 1 is born from, one made ahead of each run (keeper.c). */
struct keeper_board;
struct keeper {
    pid_t pid;
    int sock;                   /* requests to the keeper */
    int runs;                   /* runs, straight to the PID 1 waiting for one */
    struct keeper_board *board; /* shared with the keeper: which PID 1 waits */
    pid_t parent;               /* the process that started it (and reaps it) */
};
/* What the keeper needs to make PID 1s: the slot's uid and root staging
 * directory, the seccomp filter; copied into the keeper. */
struct keeper_slot {
    uid_t uid;
    const char *root_mnt;
    const char *work_base;
    const struct sock_fprog *filter;
};
int keeper_start(struct keeper *k, struct cgroup *cg, const struct keeper_slot *slot,
                 struct err *e);
/* Hands JOB straight to the PID 1 made ahead for its root filesystem
 * (or, if there is none, asks the keeper for one and waits); *PIDFD and
 * *PID refer to it. */
int keeper_run(struct keeper *k, const struct sandbox_job *job, int *pidfd, pid_t *pid,
               struct err *e);
/* Lets the PID 1 given a run start its command: the slot's limits are
 * set.  Until then it only prepares the run's directories. */
int keeper_go(struct keeper *k, struct err *e);
/* After a run: the keeper reaps its PID 1 and makes the next one, for
 * root filesystem ROOTFS (NULL: the host's), while the caller goes on.
 * Nothing comes back; a failure shows at the next keeper_run. */
int keeper_next(struct keeper *k, const char *rootfs, struct err *e);
void keeper_stop(struct keeper *k);
bool keeper_alive(const struct keeper *k);
/* Before a grading: a keeper that died (killed by someone, or the OOM
 * killer despite its exemption) would fail every later run of the slot
 * with "cannot reach the sandbox keeper".  Its parent starts a new one
 * in its place (1, and logs it); anyone else gets -1 saying it is gone.
 * 0 while it lives. */
int keeper_revive(struct keeper *k, struct cgroup *cg, const struct keeper_slot *slot,
                  struct err *e);

/* Makes namespace launcher L start every run from nothing made ahead:
 * the keeper clones each run's PID 1 when the run comes and it sets
 * everything up on the run's critical path, as isolate does (for the
 * benchmark's comparison; never in production). */
void sandbox_namespace_cold(struct launcher *l);

#endif
