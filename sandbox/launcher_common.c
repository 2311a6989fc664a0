/*
 * launcher_common.c - the pieces every launcher needs.
 *
 * launcher_rlimit.c and the namespace sandbox (launcher_namespace.c) both
 * lease a run uid from the same pool, exec a test's command line the same
 * way, read its output with the same cap, describe how it ended with the
 * same flags, and tell a run starved of CPU from one that used its time
 * (the scheduler's per-task run-queue wait, and the rule that weighs it);
 * this file holds those parts.  Picking a launcher by
 * name is the registry's (launcher.c).
 */
#define _GNU_SOURCE
#include "sandbox/launcher_common.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fs.h"

void run_result_free(struct run_result *r)
{
    buf_free(&r->out);
    buf_free(&r->err);
}

void launcher_site_copy(struct sandbox_site *dst, const struct sandbox_site *src)
{
    if (src)
        *dst = *src;
    else
        sandbox_site_of(dst, NULL);
}

int launcher_lease_uid(const struct sandbox_site *site, uid_t *uid, int *lock_fd,
                       struct err *e)
{
    if (fs_mkdir_p(site->lock_dir, 0755, e) < 0)
        return err_prefix(e, "cannot make the directory of the sandbox's uid leases");
    for (unsigned i = 0; i < site->uid_count; i++) {
        char path[192];
        unsigned u = (unsigned)site->uid_base + i;
        snprintf(path, sizeof path, "%s/uid-%u", site->lock_dir, u);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return err_sys(e, "cannot open %s", path);
        if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
            *lock_fd = fd;
            *uid = (uid_t)u;
            return 0;
        }
        close(fd);
    }
    return err_set(e, "all %u sandbox uids of this installation (%u-%u, leases in %s) are in use",
                   site->uid_count, (unsigned)site->uid_base,
                   (unsigned)site->uid_base + site->uid_count - 1, site->lock_dir);
}

static bool command_is_simple(const char *cmd)
{
    return strpbrk(cmd, "|&;<>()$`\\\"'*?[]#~=%{}!\n\t") == NULL;
}

void exec_plan_make(struct exec_plan *x, const char *cmd)
{
    memset(x, 0, sizeof *x);
    x->words = strdup(cmd);   /* NULL: run through sh -c below, to the same effect */
    if (x->words && command_is_simple(cmd)) {
        int argc = 0;
        char *save = NULL;
        for (char *w = strtok_r(x->words, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
            x->argv[argc++] = w;
        if (argc > 0)
            return;
    }
    x->argv[0] = "sh";
    x->argv[1] = "-c";
    x->argv[2] = (char *)cmd;
    x->argv[3] = NULL;
}

void exec_plan_free(struct exec_plan *x)
{
    free(x->words);
    x->words = NULL;
}

/* execvp(3) with the PATH of ENV, not ours: the child may share our
 * memory (launcher_spawn), so it must not set environ. */
static void exec_searching(char *const argv[], char *const *env)
{
    const char *name = argv[0], *path = "/usr/local/bin:/usr/bin:/bin";
    if (strchr(name, '/')) {
        execve(name, argv, env);
        return;
    }
    for (char *const *v = env; v && *v; v++)
        if (!strncmp(*v, "PATH=", 5))
            path = *v + 5;
    int why = ENOENT;
    for (const char *p = path;; p++) {
        const char *end = strchrnul(p, ':');
        char full[4096];
        int n = snprintf(full, sizeof full, "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "",
                         name);
        if (n > 0 && (size_t)n < sizeof full) {
            execve(full, argv, env);
            if (errno == EACCES)
                why = EACCES;   /* as execvp: reported if nothing else runs */
        }
        if (!*end)
            break;
        p = end;
    }
    errno = why;
}

_Noreturn void exec_plan_run(const struct exec_plan *x, char *const *env)
{
    if (strcmp(x->argv[0], "sh") == 0 && x->argv[1] && strcmp(x->argv[1], "-c") == 0)
        execve("/bin/sh", x->argv, env);
    else
        exec_searching(x->argv, env);
    dprintf(STDERR_FILENO, "assay: cannot run \"%s\": %s\n", x->argv[0], strerror(errno));
    _exit(127);
}

pid_t launcher_spawn(int (*fn)(void *), void *arg)
{
#ifdef __SANITIZE_ADDRESS__
    /* AddressSanitizer cannot follow a child onto a stack of our own, so
     * the sanitizer build copies the process instead (the raw system call:
     * no atfork handlers). */
    pid_t pid = (pid_t)syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
    if (pid == 0)
        _exit(fn(arg));
    return pid;
#else
    /* One child at a time uses it: we are suspended until it execs. */
    static char stack[256 << 10] __attribute__((aligned(16)));
    return clone(fn, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
#endif
}

void launcher_default_signals(void)
{
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

void launcher_child_setup(int stdin_fd, int out_fd, int err_fd, const char *workdir)
{
    int in_fd = stdin_fd >= 0 ? stdin_fd : open("/dev/null", O_RDONLY);
    if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(126);
    syscall(SYS_close_range, 3, ~0U, 0);
    if (chdir(workdir) < 0) {
        dprintf(2, "assay: cannot enter the work directory: %s\n", strerror(errno));
        _exit(126);
    }
}

bool launcher_drain_stream(int fd, struct buf *out, size_t cap, bool *over)
{
    char chunk[65536];
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    size_t room = out->len < cap ? cap - out->len : 0;
    if ((size_t)n > room)
        *over = true;
    buf_append(out, chunk, (size_t)n < room ? (size_t)n : room);
    return true;
}

void launcher_note_status(struct run_result *res, int status)
{
    if (WIFEXITED(status)) {
        res->exited = true;
        res->exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->term_signal = WTERMSIG(status);
    }
}

void launcher_note_file_limit(struct run_result *res)
{
    if (res->term_signal == SIGXFSZ || strstr(buf_str(&res->err), "File too large"))
        res->file_exceeded = !res->exited || res->exit_code != 0;
}

bool launcher_says_out_of_memory(const struct run_result *res)
{
    return strstr(buf_str(&res->err), "MemoryError") ||
           strstr(buf_str(&res->err), "Cannot allocate memory");
}

int launcher_read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t got = fd < 0 ? -1 : read(fd, out, n - 1);
    if (fd >= 0)
        close(fd);
    if (got < 0)
        return -1;
    out[got] = '\0';
    return (int)got;
}

int launcher_proc_stat(pid_t pid, char *state, pid_t *parent)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (launcher_read_small(path, stat, sizeof stat) <= 0)
        return -1;
    const char *paren = strrchr(stat, ')');   /* the name may hold anything */
    long ppid;
    if (!paren || sscanf(paren + 1, " %c %ld", state, &ppid) != 2)
        return -1;
    *parent = (pid_t)ppid;
    return 0;
}

long long launcher_task_cpu_wait_ns(pid_t tid)
{
    char path[64], text[128];
    snprintf(path, sizeof path, "/proc/%d/schedstat", (int)tid);
    unsigned long long on_cpu, waiting;
    if (launcher_read_small(path, text, sizeof text) <= 0)
        return -1;
    /* "time on a CPU, time waiting on a run queue, timeslices", in ns */
    if (sscanf(text, "%llu %llu", &on_cpu, &waiting) != 2)
        return -1;
    return (long long)waiting;
}

/* Below this share of its wall time on a CPU, a run stopped at the wall
 * limit may have been starved... */
#define STARVED_CPU_SHARE 0.5
/* ...and it was, if it waited for a CPU at least this share of the time
 * it was not on one (the rest it slept or waited for input itself). */
#define STARVED_WAIT_SHARE 0.5

void launcher_note_starved(struct run_result *res)
{
    res->starved = false;
    if (!res->wall_exceeded || res->cpu_exceeded || res->memory_exceeded ||
        res->output_exceeded || res->file_exceeded)
        return;
    double off_cpu = res->wall_s - res->cpu_s;
    res->starved = res->cpu_s < res->wall_s * STARVED_CPU_SHARE &&
                   res->cpu_wait_s >= off_cpu * STARVED_WAIT_SHARE;
}
