/*
 * launcher_rlimit.c - runs a test's command under rlimits.
 *
 * The simplest launcher behind the launcher interface (launcher.h): the
 * command runs in its own process group with rlimits on CPU, address
 * space, file size, processes and core dumps, its output read through
 * pipes with a cap, and a wall-clock limit enforced with a pidfd and
 * poll(2), counted from the command's spawn (its clone and exec are the
 * student's, as in a bare run; the launcher's own set-up is not).  At
 * the wall limit the command's run-queue wait is read before it is
 * killed, so a run starved of CPU is told from a slow one
 * (launcher_note_starved; its main process only: the others are not
 * tracked in this mode).  When Assay runs as root, the command runs as
 * an unprivileged uid of its own, leased from its installation's range
 * (launcher.h, struct sandbox_site), so RLIMIT_NPROC is enforced and
 * every process of that uid can be killed at the end.  The process that
 * calls run() is made a child subreaper, so a daemonised grandchild that
 * left the process group is still found and killed: no process outlives
 * its test.  The namespace sandbox (launcher_namespace.c) is the default;
 * this is the development mode, the registry's "rlimit" type
 * (launcher_rlimit, at the end), chosen only by name (--sandbox rlimit),
 * and the results say so.  Test kinds do not change with the launcher.
 */
#define _GNU_SOURCE
#include "sandbox/launcher.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "sandbox/launcher_common.h"

struct rlimit_launcher {
    struct launcher base;
    bool drop_privileges;
    uid_t uid;
    gid_t gid;
    int lock_fd;                /* holds the uid lease */
};

extern const struct launcher_type launcher_rlimit;   /* at the end */

static int rl_adopt_dir(struct launcher *self, const char *dir, struct err *e)
{
    struct rlimit_launcher *rl = (struct rlimit_launcher *)self;
    if (!rl->drop_privileges)
        return 0;
    if (chown(dir, rl->uid, rl->gid) < 0)
        return err_sys(e, "cannot hand %s to uid %d", dir, (int)rl->uid);
    return 0;
}

/* ---- in the child, between fork and exec ---- */

static void set_limit(int resource, rlim_t value)
{
    struct rlimit r = {value, value};
    setrlimit(resource, &r);
}

static void child_apply_limits(const struct rlimit_launcher *rl, const struct run_limits *l)
{
    rlim_t cpu = (rlim_t)ceil(l->cpu_s);
    struct rlimit r = {cpu, cpu + 1};   /* SIGXCPU first, SIGKILL a second later */
    setrlimit(RLIMIT_CPU, &r);
    set_limit(RLIMIT_AS, (rlim_t)l->memory_mb << 20);
    set_limit(RLIMIT_FSIZE, (rlim_t)l->file_mb << 20);
    set_limit(RLIMIT_CORE, 0);
    if (rl->drop_privileges)   /* as root, NPROC would count root's processes */
        set_limit(RLIMIT_NPROC, (rlim_t)l->processes);
}

/* Takes on UID and GID with no supplementary groups: this task only (the
 * raw system calls; see launcher_spawn). */
static int become(uid_t uid, gid_t gid)
{
    if (syscall(SYS_setgroups, 0, NULL) < 0 || syscall(SYS_setresgid, gid, gid, gid) < 0)
        return -1;
    return (int)syscall(SYS_setresuid, uid, uid, uid);
}

struct child_args {
    const struct rlimit_launcher *rl;
    const struct run_spec *spec;
    const struct exec_plan *x;
    int out_fd, err_fd;
};

/* The run's child (launcher_spawn): set up, limited, unprivileged, exec. */
static int child_main(void *arg)
{
    const struct child_args *a = arg;
    const struct rlimit_launcher *rl = a->rl;
    const struct run_spec *spec = a->spec;
    setpgid(0, 0);
    launcher_default_signals();
    launcher_child_setup(spec->stdin_fd, a->out_fd, a->err_fd, spec->workdir);
    child_apply_limits(rl, &spec->limits);
    if (rl->drop_privileges && become(rl->uid, rl->gid) < 0) {
        dprintf(2, "assay: cannot drop privileges: %s\n", strerror(errno));
        _exit(126);
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* after setuid, which clears it */
    if (getppid() == 1)
        _exit(126);
    exec_plan_run(a->x, spec->env);
}

/* ---- in the parent ---- */

struct killer_args {
    uid_t uid;
    gid_t gid;
};

/* As the run's uid, kill(-1) reaches exactly that uid's processes. */
static int killer_entry(void *arg)
{
    const struct killer_args *a = arg;
    if (become(a->uid, a->gid) == 0)
        syscall(SYS_kill, -1, SIGKILL);
    return 0;
}

static void kill_uid(uid_t uid, gid_t gid)
{
    struct killer_args a = {uid, gid};
    pid_t p = launcher_spawn(killer_entry, &a);
    if (p > 0)
        waitpid(p, NULL, 0);
}

/* Kills every child of this process (orphans re-parented to us as the
 * subreaper included) and reaps them, until none is left. */
static void kill_and_reap_children(void)
{
    for (int round = 0; round < 200; round++) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            char path[288], list[4096];
            snprintf(path, sizeof path, "/proc/self/task/%s/children", de->d_name);
            FILE *f = fopen(path, "re");
            if (!f)
                continue;
            size_t n = fread(list, 1, sizeof list - 1, f);
            fclose(f);
            list[n] = '\0';
            for (char *s = list, *end; *s; s = end) {
                long pid = strtol(s, &end, 10);
                if (end == s)
                    break;
                if (pid > 0)
                    kill((pid_t)pid, SIGKILL);
            }
        }
        if (d)
            closedir(d);
        pid_t got;
        while ((got = waitpid(-1, NULL, WNOHANG)) > 0) {
        }
        if (got < 0 && errno == ECHILD)
            return;
        usleep(1000);
    }
}

struct watch {
    int pidfd, out, err;
    bool out_open, err_open, exited;
};

static void stop_group(pid_t pid)
{
    kill(-pid, SIGKILL);
}

/* Waits for the command to exit or the wall clock to run out, reading its
 * output meanwhile. */
static void watch_run(struct watch *w, pid_t pid, const struct run_limits *l,
                      struct run_result *res, double start)
{
    size_t cap = (size_t)l->output_kb * 1024;
    double deadline = start + l->wall_s;
    while (!w->exited || w->out_open || w->err_open) {
        struct pollfd p[3] = {{w->pidfd, w->exited ? 0 : POLLIN, 0},
                              {w->out_open ? w->out : -1, POLLIN, 0},
                              {w->err_open ? w->err : -1, POLLIN, 0}};
        double left = deadline - clock_mono();
        if (w->exited)   /* orphans may hold the pipes: grace, then kill */
            left = left < 0.05 ? left : 0.05;
        if (left <= 0 || poll(p, 3, (int)ceil(left * 1000)) == 0) {
            if (!w->exited) {
                long long ns = launcher_task_cpu_wait_ns(pid);
                res->cpu_wait_s = ns > 0 ? (double)ns / 1e9 : 0;
                res->wall_exceeded = true;
            }
            stop_group(pid);
            break;
        }
        if (p[1].revents && !launcher_drain_stream(w->out, &res->out, cap, &res->output_exceeded))
            w->out_open = false;
        if (p[2].revents && !launcher_drain_stream(w->err, &res->err, cap, &res->output_exceeded))
            w->err_open = false;
        if (res->output_exceeded)
            stop_group(pid);
        if (p[0].revents)
            w->exited = true;
    }
}

static void record_status(struct run_result *res, int status, const struct rusage *ru,
                          const struct run_limits *l)
{
    res->cpu_s = (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
                 (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
    res->max_rss_kb = ru->ru_maxrss;
    launcher_note_status(res, status);
    if (res->term_signal == SIGXCPU ||
        (res->term_signal == SIGKILL && res->cpu_s >= l->cpu_s - 0.05))
        res->cpu_exceeded = true;
    launcher_note_file_limit(res);
    bool failed = !res->exited || res->exit_code != 0;
    bool near_limit = res->max_rss_kb >= l->memory_mb * 1024L * 8 / 10;
    if (failed && !res->wall_exceeded && !res->cpu_exceeded &&
        (launcher_says_out_of_memory(res) || (res->term_signal && near_limit)))
        res->memory_exceeded = true;
    launcher_note_starved(res);
}

static int rl_run(struct launcher *self, const struct run_spec *spec,
                  struct run_result *res, struct err *e)
{
    struct rlimit_launcher *rl = (struct rlimit_launcher *)self;
    if (spec->n_binds > 0)
        return err_set(e, "the rlimit launcher cannot show %s at %s; this test needs the namespace sandbox",
                       spec->binds[0].source, spec->binds[0].target);
    if (spec->rootfs)   /* silently running on the worker's own system would mislead */
        return err_set(e, "the rlimit launcher cannot run the test in the root file system %s; "
                       "this assignment needs the namespace sandbox", spec->rootfs);
    int out[2], errp[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return err_sys(e, "cannot create a pipe");
    if (pipe2(errp, O_CLOEXEC) < 0) {
        close(out[0]);
        close(out[1]);
        return err_sys(e, "cannot create a pipe");
    }
    struct exec_plan plan;
    exec_plan_make(&plan, spec->command);
    struct child_args args = {rl, spec, &plan, out[1], errp[1]};
    /* the student's time starts with the child's clone and exec, as in a
     * bare run; read before, so a launcher that waits for a core after
     * the exec cannot shorten it */
    double start = clock_mono();
    pid_t pid = launcher_spawn(child_main, &args);
    exec_plan_free(&plan);
    close(out[1]);
    close(errp[1]);
    int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
    if (pid < 0 || pidfd < 0) {
        err_sys(e, "cannot start the command");
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
        }
        close(out[0]);
        close(errp[0]);
        return -1;
    }
    setpgid(pid, pid);   /* also in the child: whichever runs first */
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(errp[0], F_SETFL, O_NONBLOCK);
    struct watch w = {pidfd, out[0], errp[0], true, true, false};
    watch_run(&w, pid, &spec->limits, res, start);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    stop_group(pid);
    wait4(pid, &status, 0, &ru);
    res->wall_s = clock_mono() - start;
    if (rl->drop_privileges)
        kill_uid(rl->uid, rl->gid);
    kill_and_reap_children();
    close(pidfd);
    close(out[0]);
    close(errp[0]);
    record_status(res, status, &ru, &spec->limits);
    return 0;
}

static void rl_destroy(struct launcher *self)
{
    struct rlimit_launcher *rl = (struct rlimit_launcher *)self;
    if (rl->lock_fd >= 0)
        close(rl->lock_fd);
    free(self);
}

/* rlimits, a process group and a wall clock.  When started as root, the
 * command runs as an unprivileged uid of its own, leased (by a lock held
 * until destroy) from SITE's range so that concurrent graders never share
 * one. */
static struct launcher *rlimit_create(const struct sandbox_site *site, struct err *e)
{
    struct sandbox_site own;
    launcher_site_copy(&own, site);
    struct rlimit_launcher *rl = calloc(1, sizeof *rl);
    if (!rl) {
        err_set(e, "out of memory");
        return NULL;
    }
    rl->base.name = launcher_rlimit.name;
    rl->base.slot = -1;
    rl->base.adopt_dir = rl_adopt_dir;
    rl->base.run = rl_run;
    rl->base.destroy = rl_destroy;
    rl->drop_privileges = geteuid() == 0;
    rl->lock_fd = -1;
    if (rl->drop_privileges && launcher_lease_uid(&own, &rl->uid, &rl->lock_fd, e) < 0) {
        free(rl);
        return NULL;
    }
    rl->gid = (gid_t)rl->uid;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
        err_sys(e, "cannot become a child subreaper");
        free(rl);
        return NULL;
    }
    return &rl->base;
}

/* Any host can run it (without root it runs the command as the caller),
 * and it is cheap to make: each grader makes its own. */
const struct launcher_type launcher_rlimit = {
    .name = "rlimit",
    .host_check = NULL,
    .create = rlimit_create,
    .create_for_slot = NULL,
};
