/*
 * sandbox_overhead.c - what the sandbox costs per run.
 *
 *   make bench && build/bench/sandbox_overhead [RUNS]     (as root)
 *
 * For `/bin/true` and `python3 -c pass` it times RUNS runs of each way of
 * starting the command, interleaved so machine noise hits all alike:
 * bare fork/exec (posix_spawn + waitpid), the rlimit launcher, the
 * namespace sandbox (launcher.h's run(): namespaces, new root, cgroup
 * limits and accounting, seccomp, output capture; the next run's PID 1
 * made ahead while the caller goes on), the same sandbox isolate-style
 * (each run's namespaces, root and PID 1 made when the run comes, on its
 * critical path, as isolate does), and bubblewrap (Debian's bwrap, if
 * installed) with equivalent binds and namespaces.
 * It prints the median, the 90th percentile and the median overhead over
 * bare for each.  Not a test: figures go to docs/PERFORMANCE.md.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/percentile.h"
#include "common/clock.h"
#include "common/fs.h"
#include "sandbox/launcher.h"
#include "sandbox/namespace.h"

#define BWRAP "/usr/bin/bwrap"

static char *bench_env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};

static double spawn_and_wait(const char *dir, char *const argv[])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = clock_mono();
    pid_t pid;
    int status = 1;
    if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, bench_env) == 0)
        waitpid(pid, &status, 0);
    double t = clock_mono() - t0;
    posix_spawn_file_actions_destroy(&fa);
    if (status != 0) {
        fprintf(stderr, "%s failed (status %d)\n", argv[0], status);
        exit(1);
    }
    return t;
}

static double launch(struct launcher *l, const char *dir, const char *command)
{
    struct run_limits lim = {.wall_s = 10, .cpu_s = 5, .memory_mb = 256, .processes = 32,
                             .file_mb = 8, .output_kb = 64};
    struct run_spec spec = {.workdir = dir, .command = command, .stdin_fd = -1,
                            .env = bench_env, .limits = lim};
    struct run_result res;
    struct err e;
    memset(&res, 0, sizeof res);
    double t0 = clock_mono();
    int rc = l->run(l, &spec, &res, &e);
    double t = clock_mono() - t0;
    if (rc < 0 || !res.exited || res.exit_code != 0) {
        fprintf(stderr, "%s launcher: %s failed: %s%s\n", l->name, command,
                rc < 0 ? e.msg : "", buf_str(&res.err));
        exit(1);
    }
    run_result_free(&res);
    return t;
}

/* Each launcher runs in a process of its own (the rlimit launcher kills
 * every child of its process after a run, the sandbox's keeper among
 * them): the process times each run it is asked for. */
struct remote {
    pid_t pid;
    int to, from;
    char dir[256];
};

/* MODE: a launcher's name, or "namespace-cold" for the isolate-style way */
static _Noreturn void remote_main(const char *mode, int in, int out, const char *dir_base)
{
    struct err e;
    bool cold = !strcmp(mode, "namespace-cold");
    struct launcher *l = launcher_new(cold ? "namespace" : mode, NULL, &e);
    if (l && cold)
        sandbox_namespace_cold(l);
    char *dir = NULL;
    if (!l || fs_mkdtemp(dir_base ? dir_base : l->work_base, "assay-bench", &dir, &e) < 0) {
        fprintf(stderr, "sandbox_overhead: %s\n", e.msg);
        _exit(1);
    }
    chmod(dir, 0755);
    l->adopt_dir(l, dir, &e);
    char command[256];
    FILE *f = fdopen(in, "r");
    while (fgets(command, sizeof command, f)) {
        command[strcspn(command, "\n")] = '\0';
        double t = launch(l, dir, command);
        if (write(out, &t, sizeof t) != sizeof t)
            break;
    }
    fs_remove_tree(dir, &e);
    l->destroy(l);
    _exit(0);
}

static void remote_start(struct remote *r, const char *mode, const char *dir_base)
{
    int a[2], b[2];
    if (pipe(a) < 0 || pipe(b) < 0)
        exit(1);
    r->pid = fork();
    if (r->pid == 0) {
        /* keep only this remote's ends: another's must see EOF when closed */
        for (int fd = 3; fd < 1024; fd++)
            if (fd != a[0] && fd != b[1])
                close(fd);
        remote_main(mode, a[0], b[1], dir_base);
    }
    close(a[0]);
    close(b[1]);
    r->to = a[1];
    r->from = b[0];
}

static double remote_time(struct remote *r, const char *command)
{
    double t;
    if (dprintf(r->to, "%s\n", command) < 0 || read(r->from, &t, sizeof t) != sizeof t) {
        fprintf(stderr, "sandbox_overhead: a launcher process failed\n");
        exit(1);
    }
    return t;
}

static void remote_stop(struct remote *r)
{
    close(r->to);
    close(r->from);
    waitpid(r->pid, NULL, 0);
}

/* bwrap with what the namespace sandbox sets up: all namespaces, the
 * system directories read-only, fresh /proc, minimal /dev, tmpfs /tmp,
 * the work directory writable, an unprivileged uid, no capabilities. */
static double bwrap(const char *dir, char *const cmd[])
{
    char *argv[64] = {BWRAP, "--unshare-all", "--die-with-parent", "--new-session",
                      "--uid", "1000", "--gid", "1000", "--cap-drop", "ALL",
                      "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                      "--symlink", "usr/sbin", "/sbin", "--symlink", "usr/lib", "/lib",
                      "--symlink", "usr/lib64", "/lib64", "--ro-bind", "/etc/ld.so.cache",
                      "/etc/ld.so.cache", "--ro-bind", "/etc/alternatives", "/etc/alternatives",
                      "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
                      "--bind", (char *)dir, (char *)dir, "--chdir", (char *)dir};
    int n = 0;
    while (argv[n])
        n++;
    for (int i = 0; cmd[i] && n < 63; i++)
        argv[n++] = cmd[i];
    argv[n] = NULL;
    return spawn_and_wait(dir, argv);
}

/* The ways measured; those from RLIMIT to COLD run in a remote each. */
enum { BARE, RLIMIT, SANDBOX, COLD, BWRAP_, N_WAYS };
static const char *const way_names[N_WAYS] = {"bare fork/exec", "rlimit launcher",
                                              "namespace sandbox", "isolate-style",
                                              "bubblewrap"};

static double time_way(int w, const char *command, char *const argv[], struct remote *remotes,
                       const char *dir)
{
    if (w == BARE)
        return spawn_and_wait(dir, argv);
    if (w == BWRAP_)
        return bwrap(dir, argv);
    return remote_time(&remotes[w - RLIMIT], command);
}

static void measure(const char *command, char *const argv[], int runs, struct remote *remotes,
                    const char *dir, bool have_bwrap)
{
    double *t[N_WAYS];
    int ways = have_bwrap ? N_WAYS : BWRAP_;
    for (int w = 0; w < N_WAYS; w++)
        t[w] = calloc((size_t)runs, sizeof(double));
    /* one of each first: page cache and slot set-up */
    for (int w = 0; w < ways; w++)
        time_way(w, command, argv, remotes, dir);
    for (int i = 0; i < runs; i++)
        for (int w = 0; w < ways; w++)
            t[w][i] = time_way(w, command, argv, remotes, dir);
    double bare = percentile(t[BARE], runs, 0.5);
    printf("%s (%d runs each, interleaved)\n", command, runs);
    for (int w = 0; w < N_WAYS; w++) {
        if (w == BWRAP_ && !have_bwrap) {
            printf("  %-18s not installed (apt-get install bubblewrap)\n", way_names[w]);
            continue;
        }
        double med = percentile(t[w], runs, 0.5), p90 = percentile(t[w], runs, 0.9);
        printf("  %-18s median %7.2f ms   p90 %7.2f ms   over bare %+6.2f ms\n", way_names[w],
               med * 1e3, p90 * 1e3, (med - bare) * 1e3);
        free(t[w]);
    }
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    struct err e;
    /* measured by name, like --sandbox: both must be in the registry */
    const struct launcher_type *sandbox = launcher_lookup("namespace", &e);
    if (!sandbox || !launcher_lookup("rlimit", &e) ||
        (sandbox->host_check && sandbox->host_check(&e) < 0)) {
        fprintf(stderr, "sandbox_overhead: %s\n", e.msg);
        return 1;
    }
    char *dir;
    if (fs_mkdtemp("/tmp", "assay-bench", &dir, &e) < 0) {
        fprintf(stderr, "sandbox_overhead: %s\n", e.msg);
        return 1;
    }
    chmod(dir, 0755);
    struct remote remotes[COLD - RLIMIT + 1];
    remote_start(&remotes[RLIMIT - RLIMIT], "rlimit", "/tmp");
    remote_start(&remotes[SANDBOX - RLIMIT], "namespace", NULL);
    remote_start(&remotes[COLD - RLIMIT], "namespace-cold", NULL);
    bool have_bwrap = access(BWRAP, X_OK) == 0;
    char *true_argv[] = {"/bin/true", NULL}, *py_argv[] = {"/usr/bin/python3", "-c", "pass", NULL};
    measure("/bin/true", true_argv, runs, remotes, dir, have_bwrap);
    measure("/usr/bin/python3 -c pass", py_argv, runs, remotes, dir, have_bwrap);
    for (int r = 0; r <= COLD - RLIMIT; r++)
        remote_stop(&remotes[r]);
    fs_remove_tree(dir, &e);
    free(dir);
    return 0;
}
