/*
 * launcher_namespace.c - the namespace sandbox behind the launcher
 * interface (launcher.h): Assay's default way to run student code.
 *
 * It is the registry's "namespace" type (launcher_namespace, at the end;
 * the default), made once per worker slot since its set-up is costly.
 * sandbox_create leases a slot - a run uid from its installation's pool
 * (struct sandbox_site, launcher.h), which the rlimit launcher also uses
 * (uid_base + slot), so concurrent graders never share one - and with it
 * the slot's cgroup (cgroup.h; CGROUP/slot-N, made with the lease and
 * removed when the launcher lets the slot go), its directories under
 * RUN_DIR/slot-N (root/, below which the shared prepared tree and each
 * run's new root are mounted in private mount namespaces - rootfs.c;
 * work/, a size-limited tmpfs where the engine makes the work
 * directories; both, like the cgroup, made with the lease and gone when
 * the slot is let go), and compiles the seccomp filter.
 * On a v1 host it also starts the keeper the runs are born from
 * (keeper.c); on v2 they are born in the cgroup by clone3.
 *
 * Each run: set the cgroup's limits and zero its counters; spawn PID 1
 * (pid1.c) in fresh namespaces (on v1 through the keeper, which prepares
 * the shared root and the network namespace ahead); read stdout and
 * stderr with a cap while watching the wall clock - which starts when
 * PID 1 spawns the command (its report says when), not when PID 1 is
 * spawned, so set-up on a busy machine is not the student's time - and,
 * every tick, the cgroup's CPU time and how long the run's processes
 * have waited for a CPU; on any limit, SIGKILL PID 1 through its pidfd,
 * which ends the whole PID namespace.  Then PID 1's report gives the
 * command's wait status, the cgroup gives CPU time (all processes), peak
 * memory and OOM kills, and the cgroup is checked empty.  An OOM kill is
 * the run's verdict whatever else happened; a run stopped at its wall
 * limit while it waited for a CPU is marked starved
 * (launcher_note_starved), not timed out.  run() fails (an
 * infrastructure error) only when the sandbox itself could not be set
 * up, or not start the command within START_LIMIT_S.
 */
#define _GNU_SOURCE
#include "sandbox/launcher.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "sandbox/launcher_common.h"
#include "sandbox/cgroup.h"
#include "sandbox/namespace.h"

#define CPU_TICK_S 0.05         /* how often the cgroup's CPU time is checked */
/* From the spawn to the command's exec: set-up takes milliseconds, so a
 * run that has not started after this is the machine's trouble, and is
 * reported as the sandbox's failure. */
#define START_LIMIT_S 30.0
#define DRAIN_WAIT_S 1.0        /* for the cgroup to empty after PID 1 ended */
#define RESIDUE_WAIT_S 2.0      /* for pages freed after a run ended to go */
/* A work tmpfs with less than this free after a failed run was filled
 * by it (writes fail a block or a buffer short of the end). */
#define WORK_FULL_KB 1024

struct sandbox_launcher {
    struct launcher base;
    uid_t uid;
    int lock_fd;                /* holds the slot (uid) lease */
    struct cgroup *cg;
    struct keeper keeper;       /* where each run's PID 1 is made */
    long long charged_before;   /* bytes charged to the slot when the run was checked */
    struct keeper_slot kslot;   /* what the keeper makes them with */
    bool cold;                  /* no PID 1 made ahead: each run waits for its own */
    struct sock_fprog filter;
    struct sandbox_site site;   /* the installation's uids, directories and cgroup */
    char dir[150], root_mnt[160], work[160];   /* RUN_DIR/slot-N, its root/ and work/ */
};

extern const struct launcher_type launcher_namespace;   /* at the end */

/* ---- checking the host ---- */

static int check_user_namespaces(struct err *e)
{
    long long max = -1;
    FILE *f = fopen("/proc/sys/user/max_user_namespaces", "re");
    if (f) {
        if (fscanf(f, "%lld", &max) != 1)
            max = -1;
        fclose(f);
    }
    if (max == 0)
        return err_set(e, "user namespaces are disabled (user.max_user_namespaces is 0): "
                       "enable them with `sysctl -w user.max_user_namespaces=15000` (and "
                       "in /etc/sysctl.d/ to keep it), or, for development only, pass "
                       "--sandbox rlimit");
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
                      CLONE_NEWUTS | CLONE_NEWCGROUP) == 0 ? 0 : errno);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0)
        return err_sys(e, "cannot start a process to check for namespaces");
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return err_set(e, "this host refuses new user/mount/PID/network namespaces (%s): "
                       "check that the kernel has CONFIG_USER_NS, CONFIG_PID_NS and "
                       "CONFIG_NET_NS, that user.max_user_namespaces is not 0, and that no "
                       "security module or container runtime forbids unshare(2); or, for "
                       "development only, pass --sandbox rlimit",
                       strerror(WEXITSTATUS(status)));
    return 0;
}

/* Whether this host can run the namespace sandbox; if not, the error
 * names what is missing and how to enable it. */
static int sandbox_host_check(struct err *e)
{
    if (geteuid() != 0)
        return err_set(e, "the namespace sandbox must run as root (it maps every slot to a "
                       "uid of its own and creates cgroups): run as root, or, for "
                       "development only, pass --sandbox rlimit");
    int version;
    char root[256];
    if (check_user_namespaces(e) < 0 || cgroup_detect(&version, root, sizeof root, e) < 0)
        return -1;
    return 0;
}

/* ---- the slot ---- */

static bool is_mount_point(const char *path)
{
    struct stat a, b;
    char parent[256];
    snprintf(parent, sizeof parent, "%s/..", path);
    return stat(path, &a) == 0 && stat(parent, &b) == 0 && a.st_dev != b.st_dev;
}

static int make_slot_dirs(struct sandbox_launcher *s, int slot, struct err *e)
{
    const char *run = s->site.run_dir, *dir = s->dir;   /* DIR: filled just below */
    snprintf(s->dir, sizeof s->dir, "%.130s/slot-%d", run, slot);
    snprintf(s->root_mnt, sizeof s->root_mnt, "%s/root", dir);
    snprintf(s->work, sizeof s->work, "%s/work", dir);
    /* 0711: the run's uid passes through to its own work directory only;
     * a named installation's directory sits in INSTALLATION_RUN_ROOT */
    if (fs_mkdir_p(s->root_mnt, 0755, e) < 0 || fs_mkdir_p(s->work, 0711, e) < 0 ||
        chmod(INSTALLATION_RUN_ROOT, 0711) < 0 || chmod(run, 0711) < 0 || chmod(dir, 0711) < 0)
        return err_prefix(e, "cannot create the slot's directories");
    char opts[64];
    snprintf(opts, sizeof opts, "size=%dm,mode=0711", SANDBOX_WORK_MB);
    if (!is_mount_point(s->work) &&
        mount("tmpfs", s->work, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
        return err_sys(e, "cannot mount the slot's work tmpfs on %s", s->work);
    return 0;
}

static int open_cgroup(struct sandbox_launcher *s, int slot, struct err *e)
{
    int version;
    char root[256];
    if (cgroup_detect(&version, root, sizeof root, e) < 0)
        return -1;
    const char *group = s->site.cgroup_name;
    s->cg = version == 2 ? cgroup_v2_open(root, group, slot, CG_ALL, e)
                         : cgroup_v1_open(root, group, slot, CG_ALL, e);
    if (!s->cg)
        return -1;
    /* a previous grader killed mid-run may have left processes */
    s->cg->ops->kill_all(s->cg, NULL);
    return 0;
}

/* ---- one run ---- */

struct watch {
    int pidfd, out, err, report;
    bool out_open, err_open, report_open, exited, killed;
    bool over_memory;           /* its own memory went past the limit */
    double next_memory_check;   /* memory.stat costs more than the CPU counter */
    bool started;               /* PID 1 said the command runs */
    bool start_overdue;         /* it had not within START_LIMIT_S */
    double spawned;             /* when PID 1 was asked for */
    double start, end;          /* the command's exec; its end (0: not yet) */
    double wait_base, wait_now; /* the cgroup's CPU wait at the start, at the last tick */
    double waited_at;           /* when wait_now was read */
    bool wait_known;            /* both were read */
    struct pid1_report rep;
    bool have_report;
};

/* Whether no process of the run is left: PID 1 said so (it reaps every
 * other one before it reports the command's end) or is gone itself. */
static bool run_ended(const struct watch *w)
{
    return w->exited || (w->have_report && w->rep.kind == PID1_EXITED);
}

static void kill_run(struct watch *w)
{
    if (!w->killed)
        syscall(SYS_pidfd_send_signal, w->pidfd, SIGKILL, NULL, 0);
    w->killed = true;
}

/* Reads the cgroup's CPU wait so far (all processes of the run but the
 * keeper); a failed read keeps the last one. */
static void sample_wait(struct sandbox_launcher *s, struct watch *w)
{
    double v;
    w->waited_at = clock_mono();
    if (s->cg->ops->cpu_wait(s->cg, s->keeper.pid, &v) == 0)
        w->wait_now = v;
}

/* The command runs: the wall clock starts at the moment PID 1 gives (the
 * exec), never before the spawn or after now. */
static void note_started(struct sandbox_launcher *s, struct watch *w, double at)
{
    double now = clock_mono();
    w->started = true;
    w->start = at >= w->spawned && at <= now ? at : now;
    sample_wait(s, w);
    w->wait_base = w->wait_now;
    w->wait_known = true;
}

static void read_report(struct sandbox_launcher *s, struct watch *w)
{
    struct pid1_report r;
    ssize_t n = read(w->report, &r, sizeof r);
    if (n == (ssize_t)sizeof r && r.kind == PID1_STARTED) {
        note_started(s, w, r.started);
    } else if (n == (ssize_t)sizeof r) {
        w->rep = r;
        w->have_report = true;
        if (r.kind == PID1_EXITED && !w->end)
            w->end = clock_mono();
    } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        w->report_open = false;
    }
}

/* Every tick: the CPU limit against the cgroup (all processes of the
 * run), and how long they have waited for a CPU (sampled while they
 * live: per-task counts end with the task). */
static void check_cpu(struct sandbox_launcher *s, struct watch *w, const struct run_limits *l,
                      struct run_result *res)
{
    double used;
    if (run_ended(w) || w->killed)
        return;
    /* once a tick, not at every burst of output: it reads a file per task */
    if (w->started && clock_mono() - w->waited_at >= CPU_TICK_S)
        sample_wait(s, w);
    if (s->cg->ops->cpu_used(s->cg, &used) == 0 && used >= l->cpu_s) {
        res->cpu_exceeded = true;
        kill_run(w);
    }
}

/* Checks the memory limit against the run's own pages (all processes).
 * The cgroup's limit is the memory limit plus the work area, because the
 * files a run writes are charged to it too; this check holds the run's
 * own memory to the limit, at each tick of the CPU check. */
static void check_memory_use(struct sandbox_launcher *s, struct watch *w,
                             const struct run_limits *l)
{
    long long kb;
    double now = clock_mono();
    if (run_ended(w) || now < w->next_memory_check)
        return;
    w->next_memory_check = now + CPU_TICK_S;
    if (s->cg->ops->anon_kb(s->cg, &kb) == 0 && kb > (long long)l->memory_mb * 1024) {
        w->over_memory = true;
        kill_run(w);
    }
}

/* The run is out of time: the wall limit once the command runs, the
 * start limit before. */
static void out_of_time(struct sandbox_launcher *s, struct watch *w, struct run_result *res)
{
    if (w->killed)
        return;   /* already stopped for another limit, which is the verdict */
    if (w->started) {
        sample_wait(s, w);   /* the last look at its tasks before they go */
        res->wall_exceeded = true;
    } else {
        w->start_overdue = true;
    }
    kill_run(w);
}

/* The run is over once none of its processes is left and its output is
 * read; PID 1 may still be tearing its namespaces down (its keeper reaps
 * it), which is not the run's time. */
static bool run_over(const struct watch *w)
{
    if (w->out_open || w->err_open)
        return false;
    return (w->have_report && w->rep.kind == PID1_EXITED) || (w->exited && !w->report_open);
}

/* Reads output and the report until the run is over, enforcing wall
 * time, CPU time and output size. */
static void watch_run(struct sandbox_launcher *s, struct watch *w, const struct run_limits *l,
                      struct run_result *res)
{
    size_t cap = (size_t)l->output_kb * 1024;
    double grace_end = 0;
    while (!run_over(w)) {
        struct pollfd p[4] = {{w->exited ? -1 : w->pidfd, POLLIN, 0},
                              {w->out_open ? w->out : -1, POLLIN, 0},
                              {w->err_open ? w->err : -1, POLLIN, 0},
                              {w->report_open ? w->report : -1, POLLIN, 0}};
        double deadline = w->started ? w->start + l->wall_s : w->spawned + START_LIMIT_S;
        double now = clock_mono(), left = deadline - now;
        if (run_ended(w)) {   /* every writer is dead: the pipes end at once */
            if (!grace_end)
                grace_end = now + 1.0;
            left = grace_end - now;
            if (left <= 0)
                break;
        } else if (left <= 0) {
            out_of_time(s, w, res);
            left = 0.05;
        }
        double wait_s = left < CPU_TICK_S ? left : CPU_TICK_S;
        int n = poll(p, 4, (int)ceil(wait_s * 1000));
        if (n < 0 && errno != EINTR)
            break;
        if (p[1].revents && !launcher_drain_stream(w->out, &res->out, cap, &res->output_exceeded))
            w->out_open = false;
        if (p[2].revents && !launcher_drain_stream(w->err, &res->err, cap, &res->output_exceeded))
            w->err_open = false;
        if (p[3].revents)
            read_report(s, w);
        if (res->output_exceeded)
            kill_run(w);
        if (p[0].revents && !w->exited) {
            w->exited = true;
            if (!w->end)
                w->end = clock_mono();
        }
        check_cpu(s, w, l, res);
        check_memory_use(s, w, l);
    }
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Makes sure no process is in the slot's cgroup but those in EXCEPT
 * (0-terminated). */
static int drain_cgroup(struct sandbox_launcher *s, const pid_t *except, struct err *e)
{
    double until = clock_mono() + DRAIN_WAIT_S;
    while (!s->cg->ops->is_empty(s->cg, except)) {
        s->cg->ops->kill_all(s->cg, except);
        if (clock_mono() > until)
            return err_set(e, "processes of the run are still in %s after it ended",
                           s->cg->path);
        usleep(1000);
    }
    return 0;
}

/* Between runs: what stays charged to the slot must be small, or a
 * later run would pay for an earlier one (pages of files a run left, of
 * shared memory).  The keeper gives back a charge past the residue after
 * each run, so this is usually one read; else the launcher reclaims and
 * waits.  The charge read stays, for the run's own peak (judge). */
static int check_memory(struct sandbox_launcher *s, struct err *e)
{
    long long *left = &s->charged_before;
    if (s->cg->ops->charged(s->cg, left, e) < 0)
        return -1;
    if (*left <= (long long)SLOT_RESIDUE_MB << 20)
        return 0;
    /* some pages are freed a moment after the run's last process: a
     * finished run's IPC namespace, and its shared memory with it, is torn
     * down by a kernel worker, so the charge is read again for a while */
    double until = clock_mono() + RESIDUE_WAIT_S;
    for (;;) {
        if (s->cg->ops->reclaim(s->cg, left, e) < 0)
            return -1;
        if (*left <= (long long)SLOT_RESIDUE_MB << 20 || clock_mono() > until)
            break;
        usleep(20000);
    }
    if (*left > (long long)SLOT_RESIDUE_MB << 20)
        return err_set(e, "%lld MB stay charged to %s after reclaiming (at most %d MB may): "
                       "pages an earlier run left behind", *left >> 20, s->cg->path,
                       SLOT_RESIDUE_MB);
    return 0;
}

static int out_of_service(struct sandbox_launcher *s, struct err *e)
{
    return err_prefix(e, "sandbox slot %d (%s, uid %d) is out of service", s->base.slot,
                      s->work, (int)s->uid);
}

/* Before a grading: no process, file or memory charge of an earlier one
 * (a grader killed mid-run leaves its work directory and its pages), and
 * a keeper to be born from (a dead one is replaced). */
static int sb_clean(struct launcher *self, struct err *e)
{
    struct sandbox_launcher *s = (struct sandbox_launcher *)self;
    /* what a slot between runs may hold: the keeper and the PID 1s it
     * made (one held ready, one being made right now, one whose run
     * ended and that it has not reaped yet), told by their parent, so
     * nothing is asked of a keeper that may be busy or stopped.  A
     * student's process is never a child of the keeper: it lives in a
     * PID 1's namespace, and an orphan there goes to that PID 1. */
    if (keeper_revive(&s->keeper, s->cg, &s->kslot, e) < 0 ||
        drain_cgroup(s, (pid_t[]){s->keeper.pid, -s->keeper.pid, 0}, e) < 0 ||
        fs_empty_dir(s->work, e) < 0 || check_memory(s, e) < 0)
        return out_of_service(s, e);
    return 0;
}

/* After a failed run: was the work area full?  Its tmpfs is the run's
 * disk, and a full disk is why the run failed, whatever it printed. */
static void check_disk(const struct sandbox_launcher *s, struct run_result *res)
{
    struct statvfs v;
    res->disk_mb = SANDBOX_WORK_MB;
    bool failed = !res->exited || res->exit_code != 0;
    if (failed && statvfs(s->work, &v) == 0 &&
        (unsigned long long)v.f_bavail * v.f_frsize < (unsigned long long)WORK_FULL_KB << 10)
        res->disk_exceeded = true;
}

/* Whether the run ran out of memory: its own pages went past the limit
 * (check_memory_use), or the kernel's OOM killer acted in its cgroup.
 * The counters are read once every process of the run is gone, so an
 * OOM kill is counted whatever order the kill, the wall limit and PID 1's
 * report came in; and it decides the verdict even when the clock ran out
 * too (a machine short of CPU slows the kill down, it does not make the
 * run fit).  A command killed by a SIGKILL that the launcher did not
 * send, in a run that hit its memory limit, was the OOM killer's too.
 * The program's own words (MemoryError) count only when no other limit
 * explains the failure. */
static bool ran_out_of_memory(const struct watch *w, const struct cgroup_usage *u,
                              const struct run_limits *l, const struct run_result *res)
{
    bool failed = !res->exited || res->exit_code != 0;
    if (w->over_memory || u->oom_kills > 0)
        return true;   /* the launcher's own check, or the kernel's */
    /* A peak too short for the check's ticks: what the run's processes
     * held at the high-water mark is at least the peak less what stays
     * charged once they are gone (its files, page cache); over the limit,
     * the run used more memory than it may, however briefly. */
    if (u->end_kb > 0 && u->peak_kb - u->end_kb > l->memory_mb * 1024L)
        return true;
    if (!w->killed && res->term_signal == SIGKILL && u->limit_hits > 0 && !res->cpu_exceeded)
        return true;   /* not RLIMIT_CPU's SIGKILL either */
    return failed && launcher_says_out_of_memory(res) && !res->wall_exceeded &&
           !res->cpu_exceeded;
}

/* Turns what PID 1 said and what the cgroup counted into RES. */
static int judge(struct sandbox_launcher *s, const struct watch *w, const struct cgroup_usage *u,
                 const struct run_limits *l, struct run_result *res, struct err *e)
{
    res->cpu_s = u->cpu_s;
    /* the peak counts what the slot held before the run too (the residue) */
    long before_kb = (long)(s->charged_before / 1024);
    res->max_rss_kb = u->peak_kb > before_kb ? u->peak_kb - before_kb : 0;
    if (w->have_report && w->rep.kind == PID1_SETUP_FAILED)
        return err_set(e, "the sandbox could not set up the run: %.240s", w->rep.msg);
    if (!w->started && w->start_overdue)
        return err_set(e, "the sandbox did not start the command within %g s (the worker "
                       "is overloaded or its sandbox is stuck)", START_LIMIT_S);
    if (w->have_report)
        launcher_note_status(res, w->rep.status);
    else if (w->killed || u->oom_kills > 0)
        res->term_signal = SIGKILL;   /* PID 1 went, and the command with it */
    else if (!keeper_alive(&s->keeper))
        return err_set(e, "the sandbox keeper (pid %d) is gone, and the run with it",
                       (int)s->keeper.pid);
    else
        return err_set(e, "the sandbox's PID 1 ended without a report");
    bool failed = !res->exited || res->exit_code != 0;
    if (res->term_signal == SIGXCPU || (failed && res->cpu_s >= l->cpu_s))
        res->cpu_exceeded = true;
    res->memory_exceeded = ran_out_of_memory(w, u, l, res);
    launcher_note_file_limit(res);
    if (w->wait_known && w->wait_now > w->wait_base)
        res->cpu_wait_s = w->wait_now - w->wait_base;
    launcher_note_starved(res);
    return 0;
}

/* After a run: the keeper reaps its PID 1 and makes the next run's,
 * while the grader reads this one's results. */
static void ask_for_next(struct sandbox_launcher *s, const struct run_spec *spec)
{
    struct err e;   /* a keeper that cannot be reached fails the next run, or clean revives it */
    if (!s->cold)
        keeper_next(&s->keeper, spec->rootfs, &e);
}

static int check_binds(const struct run_spec *spec, struct err *e)
{
    for (int i = 0; i < spec->n_binds; i++) {
        const char *t = spec->binds[i].target;
        if (t[0] != '/' || strstr(t, "/../") || strstr(t, "/./") || !strcmp(t, "/"))
            return err_set(e, "a bind's target must be an absolute path below /, not \"%s\"", t);
    }
    return 0;
}

static int sb_run(struct launcher *self, const struct run_spec *spec, struct run_result *res,
                  struct err *e)
{
    struct sandbox_launcher *s = (struct sandbox_launcher *)self;
    int out[2] = {-1, -1}, errp[2] = {-1, -1}, rep[2] = {-1, -1};
    /* tmpfs pages are charged to the memory cgroup of whoever writes
     * them: the work area's files must not count against the memory
     * limit, so the cgroup's limit is the memory limit plus the work
     * area (which its own size bounds) */
    struct run_limits cg_limits = spec->limits;
    cg_limits.memory_mb += SANDBOX_WORK_MB;
    if (check_binds(spec, e) < 0)
        return -1;
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0) {
        err_sys(e, "cannot create a pipe");
        goto fail;
    }
    struct sandbox_job job = {
        .workdir = spec->workdir, .command = spec->command, .env = spec->env,
        .binds = spec->binds, .n_binds = spec->n_binds, .rootfs = spec->rootfs,
        .limits = spec->limits, .stdin_fd = spec->stdin_fd, .out_fd = out[1],
        .err_fd = errp[1], .report_fd = rep[1],
    };
    double spawned = clock_mono();
    pid_t pid;
    int pidfd = -1;
    if (keeper_run(&s->keeper, &job, &pidfd, &pid, e) < 0)
        goto fail;
    /* while PID 1 adds the run's directories and pivots: the slot's
     * memory checked, the run's limits set and counters zeroed; then it
     * may start the command */
    if (check_memory(s, e) < 0 ? out_of_service(s, e) < 0
                               : s->cg->ops->prepare(s->cg, &cg_limits, e) < 0 ||
                                     keeper_go(&s->keeper, e) < 0) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        close(pidfd);
        goto fail;
    }
    close_fd(&out[1]);
    close_fd(&errp[1]);
    close_fd(&rep[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    fcntl(rep[0], F_SETFL, O_NONBLOCK);
    struct watch w = {.pidfd = pidfd, .out = out[0], .err = errp[0], .report = rep[0],
                      .out_open = true, .err_open = true, .report_open = true,
                      .spawned = spawned};
    watch_run(s, &w, &spec->limits, res);
    if (!run_ended(&w))
        kill_run(&w);   /* the pipes were held past the run's end */
    if (w.started)
        res->wall_s = (w.end ? w.end : clock_mono()) - w.start;
    close(pidfd);
    struct cgroup_usage u;
    pid_t except[] = {s->keeper.pid, pid, 0};   /* the next PID 1 is made after this */
    int rc = drain_cgroup(s, except, e);
    if (rc == 0)
        rc = s->cg->ops->usage(s->cg, &u, e);
    if (rc == 0)
        rc = judge(s, &w, &u, &spec->limits, res, e);
    if (rc == 0)
        check_disk(s, res);
    ask_for_next(s, spec);
    close_fd(&out[0]);
    close_fd(&errp[0]);
    close_fd(&rep[0]);
    return rc;
fail:
    for (int i = 0; i < 2; i++) {
        close_fd(&out[i]);
        close_fd(&errp[i]);
        close_fd(&rep[i]);
    }
    return -1;
}

static int sb_adopt_dir(struct launcher *self, const char *dir, struct err *e)
{
    struct sandbox_launcher *s = (struct sandbox_launcher *)self;
    if (chown(dir, s->uid, (gid_t)s->uid) < 0)
        return err_sys(e, "cannot hand %s to uid %d", dir, (int)s->uid);
    return 0;
}

/* A directory of the slot that cannot be removed is named and left. */
static void remove_slot_dir(const char *dir)
{
    if (rmdir(dir) < 0 && errno != ENOENT)
        log_msg(LOG_WARN, NULL, "cannot remove the sandbox slot's directory %s: %s; it stays "
                "until it is removed by hand (rmdir) or the machine restarts", dir,
                strerror(errno));
}

/* Lets the slot's directories go, the lease still held: the work tmpfs is
 * detached (lazily: a process that still has a file open there keeps its
 * file, not the host's mount table) and the directories removed.  The
 * installation's run directory stays: the other slots, and a local
 * worker's directory, are in it, and another process's launcher may be
 * making its slot there right now. */
static void release_slot_dirs(const struct sandbox_launcher *s)
{
    if (!s->work[0])
        return;   /* leased, but nothing made yet */
    /* EINVAL: not mounted; ENOENT: not even made */
    if (umount2(s->work, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        log_msg(LOG_WARN, NULL, "cannot unmount the sandbox slot's work tmpfs %s: %s; the "
                "slot's next grading empties it", s->work, strerror(errno));
    remove_slot_dir(s->work);
    remove_slot_dir(s->root_mnt);
    remove_slot_dir(s->dir);
}

static void sb_destroy(struct launcher *self)
{
    struct sandbox_launcher *s = (struct sandbox_launcher *)self;
    keeper_stop(&s->keeper);
    if (s->cg) {   /* the slot's lease is still held: no other launcher is in its cgroup */
        s->cg->ops->kill_all(s->cg, NULL);
        s->cg->ops->remove(s->cg);
        s->cg->ops->close(s->cg);
    }
    if (!s->base.keep_work)
        release_slot_dirs(s);
    sandbox_filter_free(&s->filter);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    free(s);
}

static struct launcher *sandbox_create(const struct sandbox_site *site, struct err *e)
{
    if (sandbox_host_check(e) < 0)
        return NULL;
    struct sandbox_launcher *s = calloc(1, sizeof *s);
    if (!s) {
        err_set(e, "out of memory");
        return NULL;
    }
    s->base.name = launcher_namespace.name;
    s->base.adopt_dir = sb_adopt_dir;
    s->base.clean = sb_clean;
    s->base.run = sb_run;
    s->base.destroy = sb_destroy;
    s->lock_fd = -1;
    s->keeper.sock = s->keeper.runs = -1;
    launcher_site_copy(&s->site, site);
    if (launcher_lease_uid(&s->site, &s->uid, &s->lock_fd, e) < 0) {
        free(s);
        return NULL;
    }
    s->base.slot = (int)(s->uid - s->site.uid_base);
    s->base.work_base = s->work;
    s->kslot = (struct keeper_slot){.uid = s->uid, .root_mnt = s->root_mnt, .work_base = s->work,
                                    .filter = &s->filter};
    if (make_slot_dirs(s, s->base.slot, e) < 0 || open_cgroup(s, s->base.slot, e) < 0 ||
        sandbox_filter_build(&s->filter, e) < 0 || keeper_start(&s->keeper, s->cg, &s->kslot, e) < 0) {
        sb_destroy(&s->base);
        return NULL;
    }
    return &s->base;
}

void sandbox_namespace_cold(struct launcher *l)
{
    ((struct sandbox_launcher *)l)->cold = true;
}

/* Cloning a keeper into the slot's cgroups, mounting its work tmpfs and
 * compiling the seccomp filter take milliseconds: a worker daemon makes
 * one per slot and shares it with the graders it forks. */
const struct launcher_type launcher_namespace = {
    .name = "namespace",
    .host_check = sandbox_host_check,
    .create = sandbox_create,
    .create_for_slot = sandbox_create,
};
