/*
 * pid1.c - the birth of a sandboxed run and its init process.
 *
 * sandbox_spawn clones one process in fresh user, mount, PID, network
 * (unless the keeper has made one ahead: netns.c), IPC, UTS and cgroup
 * namespaces (clone3, straight into the slot's cgroup
 * where v2 allows it), writes its uid and gid maps (inside uid 1000 = the
 * slot's uid outside; nothing else, so there is no root inside), and
 * then lets it go.  That process is PID 1 of the run, and sets it up as
 * a straight sequence of named steps (the isolate way): the new root
 * (rootfs.c), loopback (unless already up), the host name, the run's uid with no
 * capabilities; then it forks the command - which applies its rlimits
 * and the seccomp filter and execs - and tells the launcher the moment
 * the command runs (the run's wall clock starts there: set-up is not the
 * student's time), reaps every process that ends, and when the command
 * ends kills everything left and reports the command's wait status on
 * the report pipe.  Killing PID 1 from outside (time,
 * output) takes the whole PID namespace with it.
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

int sandbox_spawn(const struct sandbox_job *job, int cgroup_fd, pid_t *pid, int *pidfd,
                  struct err *e)
{
    int sync[2];
    if (pipe2(sync, O_CLOEXEC) < 0)
        return err_sys(e, "cannot create a pipe");
    int fd = -1;
    struct clone_args args = {
        .flags = (NAMESPACES & ~(job->net_ready ? CLONE_NEWNET : 0)) | CLONE_PIDFD,
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
        sandbox_pid1(job, sync[0]);
    }
    close(sync[0]);
    if (p < 0) {
        close(sync[1]);
        return err_sys(e, "cannot create the run's namespaces (clone3)");
    }
    if (write_map((pid_t)p, "uid_map", job->uid, e) < 0 ||
        write_map((pid_t)p, "gid_map", job->uid, e) < 0 || write(sync[1], "g", 1) != 1) {
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

static _Noreturn void report_failure(const struct sandbox_job *job, const char *step,
                                     const char *why)
{
    struct pid1_report r = {.kind = PID1_SETUP_FAILED};
    snprintf(r.msg, sizeof r.msg, "%s: %s", step, why);
    if (write(job->report_fd, &r, sizeof r) < 0) {
        /* nobody to tell */
    }
    _exit(127);
}

static void fail_errno(const struct sandbox_job *job, const char *step)
{
    report_failure(job, step, strerror(errno));
}

/* PID 1 is a clone of the grader, so /proc/1/cmdline (readable by
 * anyone) would show the grader's command line - the worker's directory,
 * the job's name - and its environment area the worker's environment.
 * Both live in PID 1's own memory: overwrite them. */
static int scrub_inherited_memory(void)
{
    char text[2048];
    int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd < 0 ? -1 : read(fd, text, sizeof text - 1);
    if (fd >= 0)
        close(fd);
    char *p = n > 0 ? strrchr((text[n] = '\0', text), ')') : NULL;
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

/* Closes every fd but the job's: the grader's own (its log, the job's
 * directories) must not reach the run. */
static void close_other_fds(const struct sandbox_job *job)
{
    int keep[4] = {job->stdin_fd, job->out_fd, job->err_fd, job->report_fd}, lo = 3;
    for (;;) {
        int next = -1;   /* the smallest kept fd >= lo */
        for (int i = 0; i < 4; i++)
            if (keep[i] >= lo && (next < 0 || keep[i] < next))
                next = keep[i];
        if (next < 0) {
            syscall(SYS_close_range, (unsigned)lo, ~0U, 0);
            return;
        }
        if (next > lo)
            syscall(SYS_close_range, (unsigned)lo, (unsigned)next - 1, 0);
        lo = next + 1;
    }
}

/* Empties the bounding and ambient sets while PID 1 still may. */
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
    drop_bounding_set();
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
    if (sandbox_filter_apply(job->filter) < 0) {
        dprintf(2, "assay: cannot load the seccomp filter: %s\n", strerror(errno));
        _exit(126);
    }
    exec_plan_run(a->plan, job->env);
}

/* Starts the command without copying PID 1 (launcher_spawn).  What the
 * child changes - its signal dispositions and mask, rlimits, seccomp
 * filter - belongs to it alone without CLONE_SIGHAND/THREAD. */
static pid_t start_command(const struct sandbox_job *job, const struct exec_plan *plan)
{
    struct command_args a = {job, plan};
    return launcher_spawn(run_command, &a);
}

/* Tells the launcher the command runs.  start_command returns once the
 * child has exec'd (launcher_spawn waits for that), so this is the moment
 * the student's code started; the monotonic clock is the launcher's too
 * (no time namespace), so a late read of this report changes nothing. */
static void report_started(const struct sandbox_job *job)
{
    struct pid1_report r = {.kind = PID1_STARTED, .started = clock_mono()};
    if (write(job->report_fd, &r, sizeof r) < 0) {
        /* the launcher is gone */
    }
}

/* Reaps until no process is left; when the command ends, kills the rest.
 * Returns the command's wait status. */
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

_Noreturn void sandbox_pid1(const struct sandbox_job *job, int sync_fd)
{
    char why[200], c;
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the run never outlives its launcher */
    if (read(sync_fd, &c, 1) != 1)
        _exit(127);   /* the spawner failed and has killed us */
    close(sync_fd);
    close_other_fds(job);
    if (scrub_inherited_memory() < 0)
        fail_errno(job, "hiding the grader's command line");
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {   /* the keeper is exempt from the OOM killer; the run is not */
        if (write(adj, "0", 1) < 0) {
        }
        close(adj);
    }
    if (take_run_ids() < 0)
        fail_errno(job, "taking the run's uid");
    if (!job->prepared && sandbox_rootfs_prepare(job->root_mnt, job->rootfs, why, sizeof why) < 0)
        report_failure(job, "preparing the root", why);
    if (sandbox_rootfs_enter(job, why, sizeof why) < 0)
        report_failure(job, "building the root", why);
    if (!job->net_ready && netns_loopback_up() < 0)
        fail_errno(job, "bringing up loopback");
    if (sethostname("assay-sandbox", 13) < 0)
        fail_errno(job, "setting the host name");
    if (drop_privileges() < 0)
        fail_errno(job, "dropping privileges");
    struct exec_plan plan;
    exec_plan_make(&plan, job->command);
    pid_t command = start_command(job, &plan);
    if (command < 0)
        fail_errno(job, "starting the command");
    report_started(job);
    struct pid1_report r = {.kind = PID1_EXITED, .status = reap_all(command)};
    if (write(job->report_fd, &r, sizeof r) < 0) {
        /* the launcher is gone */
    }
    _exit(0);
}
