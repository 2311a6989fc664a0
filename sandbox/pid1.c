/*
 * pid1.c - the birth of a sandboxed run and its init process.
 *
 * sandbox_spawn clones one process in fresh user, mount, PID, network
 * (loopback only: netns.c), IPC, UTS and cgroup
 * namespaces (clone3, straight into the slot's cgroup where the caller
 * gives one), writes its uid and gid maps (inside uid 1000 = the slot's
 * uid outside; nothing else, so there is no root inside), and then lets
 * it go.  That process is PID 1 of a run not yet known: the keeper
 * (keeper.c) makes it ahead, while the previous run's results are being
 * read, so that what follows is off the run's critical path.  It sets
 * up, as a straight sequence of named steps (the isolate way), all that
 * no run decides: the run's uid, the new root with fresh /tmp, /dev/shm
 * and /proc (rootfs.c), loopback, the host name, an
 * empty capability bounding set.  Then it waits on its socket for the
 * run (job_wire.c).  With it: the work directory and the run's binds,
 * pivot_root, no capabilities left; once the launcher says go (the
 * slot's limits are set, meanwhile) it forks the command - which applies
 * its rlimits and the seccomp filter and execs - tells the launcher,
 * once it runs, the moment it was forked (the run's wall clock starts
 * there: set-up is not the student's time), lets go of the run's pipes,
 * reaps every process that ends, and when the command ends kills
 * everything left and reports the command's wait status on the report
 * pipe once nothing but itself is left.  Killing PID 1 from outside
 * (time, output) takes the whole PID namespace with it.  A step that fails before the run comes
 * is reported on the run's report pipe when it does.
 */
#define _GNU_SOURCE
#include "sandbox/namespace.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "sandbox/launcher_common.h"

#define NAMESPACES (CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | \
                    CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)

/* ---- in the spawning process ---- */

static int write_map(pid_t pid, const char *file, uid_t outside, struct err *e)
{
    char path[64], line[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int n = snprintf(line, sizeof line, "%d %d 1\n", SANDBOX_UID, (int)outside);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, line, (size_t)n) != n) {
        err_sys(e, "cannot write %s", path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int sandbox_spawn(const struct sandbox_birth *birth, int cgroup_fd, pid_t *pid, int *pidfd,
                  struct err *e)
{
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) < 0)
        return err_sys(e, "cannot create a pipe");
    int fd = -1;
    struct clone_args args = {
        .flags = NAMESPACES | CLONE_PIDFD,
        .pidfd = (uint64_t)(uintptr_t)&fd,
        .exit_signal = SIGCHLD,
    };
    if (cgroup_fd >= 0) {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = (uint64_t)cgroup_fd;
    }
    long p = syscall(SYS_clone3, &args, sizeof args);
    if (p == 0) {
        close(sync[1]);
        sandbox_pid1(birth, sync[0]);
    }
    close(sync[0]);
    if (p < 0) {
        close(sync[1]);
        return err_sys(e, "cannot create the run's namespaces (clone3)");
    }
    if (write_map((pid_t)p, "uid_map", birth->uid, e) < 0 ||
        write_map((pid_t)p, "gid_map", birth->uid, e) < 0 || write(sync[1], "g", 1) != 1) {
        kill((pid_t)p, SIGKILL);
        waitpid((pid_t)p, NULL, 0);
        close(fd);
        close(sync[1]);
        return -1;
    }
    close(sync[1]);
    *pid = (pid_t)p;
    *pidfd = fd;
    return 0;
}

/* ---- in PID 1 ---- */

/* A set-up step that failed: said on the run's report pipe. */
struct setup {
    const struct sandbox_birth *birth;
    pid_t keeper;               /* the parent it dies with */
    char failed[240];           /* "step: why"; empty while all went well */
};

static int note_failure(struct setup *st, const char *step, const char *why)
{
    snprintf(st->failed, sizeof st->failed, "%s: %s", step, why);
    return -1;
}

static _Noreturn void report_failure(const struct sandbox_job *job, const char *msg)
{
    struct pid1_report r = {.kind = PID1_SETUP_FAILED};
    snprintf(r.msg, sizeof r.msg, "%s", msg);
    if (write(job->report_fd, &r, sizeof r) < 0) {
        /* nobody to tell */
    }
    _exit(127);
}

static _Noreturn void fail_run(const struct sandbox_job *job, const char *step, const char *why)
{
    char msg[240];
    snprintf(msg, sizeof msg, "%s: %s", step, why);
    report_failure(job, msg);
}

/* PID 1 is a clone of the keeper, so /proc/1/cmdline (readable by
 * anyone) would show the grader's command line - the worker's directory,
 * the job's name - and its environment area the worker's environment.
 * Both live in PID 1's own memory: overwrite them. */
static int scrub_inherited_memory(void)
{
    char text[2048];
    char *p = launcher_read_small("/proc/self/stat", text, sizeof text) > 0 ?
              strrchr(text, ')') : NULL;
    if (!p)
        return -1;
    /* fields after "(comm)": 3 = state ... 48/49 arg_start/end, 50/51 env_start/end */
    unsigned long v[52] = {0};
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok && field < 51; tok = strtok(NULL, " "))
        v[++field] = strtoul(tok, NULL, 10);
    if (field < 51 || v[48] >= v[49] || v[50] > v[51])
        return -1;
    memset((void *)v[48], 0, v[49] - v[48]);
    memcpy((void *)v[48], "assay-init", v[49] - v[48] > 10 ? 11 : 0);
    memset((void *)v[50], 0, v[51] - v[50]);
    prctl(PR_SET_NAME, "assay-init", 0, 0, 0);
    return 0;
}

/* Empties the bounding and ambient sets: nothing the run execs can gain
 * a capability.  Mounting needs none of them (only the effective set,
 * emptied once the root is entered). */
static void drop_bounding_set(void)
{
    for (int cap = 0; cap < 64; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL)
            break;
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);   /* capset empties it anyway */
}

static int clear_capabilities(void)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    return (int)syscall(SYS_capset, &hdr, data);
}

/* The run's identity, taken first: uid and gid 1000 (the slot's uid
 * outside), no supplementary groups.  The capabilities in the new user
 * namespace stay (the old uid was not that namespace's root), so PID 1
 * can still mount - but as an unprivileged uid outside, and files it
 * creates have a mapped owner. */
static int take_run_ids(void)
{
    if (setgroups(0, NULL) < 0 || setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID) < 0)
        return -1;
    return setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID);
}

/* After set-up: no capabilities in any set, and not dumpable (so the run
 * cannot ptrace PID 1 or read its /proc entries). */
static int drop_privileges(void)
{
    if (clear_capabilities() < 0)
        return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static void set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit r = {soft, hard};
    /* fails only raising a hard limit above the inherited one: the run is
     * then held tighter than asked, never looser */
    setrlimit(resource, &r);
}

struct command_args {
    const struct sandbox_job *job;
    const struct exec_plan *plan;
    const struct sock_fprog *filter;
};

/* The command's child (launcher_spawn): its limits and filter, then exec. */
static int run_command(void *arg)
{
    const struct command_args *a = arg;
    const struct sandbox_job *job = a->job;
    launcher_child_setup(job->stdin_fd, job->out_fd, job->err_fd, job->workdir);
    /* The cgroup enforces CPU for the run as a whole; this is a backstop
     * for one process, a second after the limit. */
    rlim_t cpu = (rlim_t)ceil(job->limits.cpu_s) + 1;
    set_limit(RLIMIT_CPU, cpu, cpu + 1);
    set_limit(RLIMIT_FSIZE, (rlim_t)job->limits.file_mb << 20, (rlim_t)job->limits.file_mb << 20);
    set_limit(RLIMIT_CORE, 0, 0);
    if (sandbox_filter_apply(a->filter) < 0) {
        dprintf(2, "assay: cannot load the seccomp filter: %s\n", strerror(errno));
        _exit(126);
    }
    exec_plan_run(a->plan, job->env);
}

/* Tells the launcher the command runs, and since when: STARTED was read
 * just before the command's process was cloned, so its clone and exec
 * are the student's time, as in a bare run, and a PID 1 that waits for a
 * core once the command runs cannot make the run look shorter than it
 * was.  The monotonic clock is the launcher's too (no time namespace), so
 * a late read of this report changes nothing. */
static void report_started(const struct sandbox_job *job, double started)
{
    struct pid1_report r = {.kind = PID1_STARTED, .started = started};
    if (write(job->report_fd, &r, sizeof r) < 0) {
        /* the launcher is gone */
    }
}

/* Reaps until no process is left; when the command ends, kills the rest.
 * Returns the command's wait status.  No child left (ECHILD) means no
 * process of the run is left: every one of them is PID 1's descendant or
 * was handed to it when its parent died. */
static int reap_all(pid_t command)
{
    int status = 0, st;
    for (;;) {
        pid_t w = waitpid(-1, &st, __WALL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return status;   /* ECHILD: nothing left */
        }
        if (w == command) {
            status = st;
            kill(-1, SIGKILL);   /* every other process of the run */
        }
    }
}

/* Where the run is received (PID 1's own memory: a copy of the keeper's). */
static char run_msg[JOB_WIRE_MAX];
static char *run_env[JOB_MAX_ENV + 1];
static struct run_bind run_binds[JOB_MAX_BINDS];

/* Touches what receiving and starting the run will write, so that its
 * pages are PID 1's own before the run comes, not copied when it does. */
static void prefault(void)
{
    memset(run_msg, 0, 16384);
    memset(run_env, 0, sizeof run_env);
    memset(run_binds, 0, sizeof run_binds);
}

/* All that no run decides, done before the run comes; a failed step ends
 * it, and is said when the run comes. */
static int set_up_ahead(struct setup *st)
{
    const struct sandbox_birth *b = st->birth;
    char why[200];
    if (scrub_inherited_memory() < 0)
        return note_failure(st, "hiding the grader's command line", strerror(errno));
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {   /* the keeper is exempt from the OOM killer; the run is not */
        if (write(adj, "0", 1) < 0) {
        }
        close(adj);
    }
    if (take_run_ids() < 0)
        return note_failure(st, "taking the run's uid", strerror(errno));
    /* a change of uid clears the parent-death signal: set it again, and
     * go if the keeper died before it held */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != st->keeper)
        _exit(0);
    if (!b->prepared && sandbox_rootfs_prepare(b->root_mnt, b->rootfs, why, sizeof why) < 0)
        return note_failure(st, "preparing the root", why);
    if (sandbox_rootfs_build(b->root_mnt, b->work_base, why, sizeof why) < 0)
        return note_failure(st, "building the root", why);
    if (netns_loopback_up() < 0)
        return note_failure(st, "bringing up loopback", strerror(errno));
    if (sethostname("assay-sandbox", 13) < 0)
        return note_failure(st, "setting the host name", strerror(errno));
    drop_bounding_set();
    launcher_default_signals();   /* inherited by the command: its child need not */
    prefault();
    return 0;
}

/* Waits for the run: its job and pipes.  Nothing comes when the keeper
 * discards this PID 1 (another root filesystem, the slot closing). */
static void receive_run(int sock, struct sandbox_job *job)
{
    int fds[JOB_MAX_FDS], nfds;
    ssize_t n = wire_recv(sock, run_msg, sizeof run_msg, fds, &nfds, 0);
    if (n <= 0)
        _exit(0);
    if (job_decode(run_msg, (size_t)n, fds, nfds, job, run_env, run_binds) < 0) {
        if (nfds >= 3) {   /* the report pipe, if it came */
            struct sandbox_job j = {.report_fd = fds[2]};
            report_failure(&j, "receiving the run: a malformed job");
        }
        _exit(127);
    }
}

/* Waits until the launcher has set the run's limits; nothing comes when
 * it could not (and it ends this PID 1). */
static void wait_for_go(int sock)
{
    char go;
    ssize_t n;
    do
        n = recv(sock, &go, 1, 0);
    while (n < 0 && errno == EINTR);
    if (n != 1 || go != 'g')
        _exit(127);
    close(sock);
}

/* Lets go of PID 1's copies of the run's pipes once the command holds
 * them: the output pipes end when the run's last process does. */
static void release_pipes(const struct sandbox_job *job)
{
    close(job->out_fd);
    if (job->err_fd != job->out_fd)
        close(job->err_fd);
    if (job->stdin_fd >= 0)
        close(job->stdin_fd);
}

_Noreturn void sandbox_pid1(const struct sandbox_birth *birth, int sync_fd)
{
    char why[200], c;
    struct setup st = {.birth = birth, .keeper = getppid()};
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the run never outlives its keeper */
    if (read(sync_fd, &c, 1) != 1)
        _exit(127);   /* the spawner failed and has killed us */
    close(sync_fd);
    /* the keeper's own fds (its socket, other PID 1s' sockets) must not reach the run */
    int sock = birth->sock;
    if (sock != 3 && dup3(sock, 3, O_CLOEXEC) == 3)
        sock = 3;
    syscall(SYS_close_range, (unsigned)sock + 1, ~0U, 0);
    if (sock > 3)
        syscall(SYS_close_range, 3U, (unsigned)sock - 1, 0);
    set_up_ahead(&st);   /* a failure waits in st.failed for the run's report pipe */
    struct sandbox_job job;
    receive_run(sock, &job);
    if (st.failed[0])
        report_failure(&job, st.failed);
    if (sandbox_rootfs_enter(birth->root_mnt, &job, why, sizeof why) < 0)
        fail_run(&job, "building the root", why);
    if (drop_privileges() < 0)
        fail_run(&job, "dropping privileges", strerror(errno));
    struct exec_plan plan;
    exec_plan_make(&plan, job.command);
    wait_for_go(sock);
    struct command_args a = {&job, &plan, birth->filter};
    double started = clock_mono();
    pid_t command = launcher_spawn(run_command, &a);
    if (command < 0)
        fail_run(&job, "starting the command", strerror(errno));
    report_started(&job, started);
    release_pipes(&job);
    struct pid1_report r = {.kind = PID1_EXITED, .status = reap_all(command)};
    if (write(job.report_fd, &r, sizeof r) < 0) {
        /* the launcher is gone */
    }
    _exit(0);
}
