/* test_sandbox_cgroup.c - unit tests for the sandbox's cgroup code
 * (sandbox/cgroup*.c): both versions against fake cgroup trees of
 * plain files (what each writes for the limits and the CPU shares, how
 * it turns counters into one run's usage, emptiness, the time a run
 * waited for a CPU), and, as root on a host with a cgroup2
 * mount, a real run of the sandbox born by clone3(CLONE_INTO_CGROUP) in
 * a v2 slot - the v2 birth path, which the launcher only takes on hosts
 * whose cgroup2 mount has the memory, pids and cpu controllers. */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <mntent.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/fs.h"
#include "sandbox/launcher_common.h"
#include "sandbox/cgroup.h"
#include "sandbox/namespace.h"

static char *slurp(const char *dir, const char *rel)
{
    char *p = tu_path(dir, rel);
    size_t n;
    char *text = tu_read(p, &n);
    free(p);
    return text;
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
    char *got = slurp(dir, rel);
    assert_string_equal(got, want);
    free(got);
}

static const struct run_limits limits = {.wall_s = 5, .cpu_s = 2, .memory_mb = 64,
                                         .processes = 10, .file_mb = 8, .output_kb = 64};

/* ---- v1 ---- */

static void mkdir_p_at(const char *root, const char *rel)
{
    struct err e;
    char *p = tu_path(root, rel);
    assert_int_equal(fs_mkdir_p(p, 0755, &e), 0);
    free(p);
}

static void make_v1_files(const char *root)
{
    mkdir_p_at(root, "memory/assay/slot-3");
    mkdir_p_at(root, "pids/assay/slot-3");
    mkdir_p_at(root, "cpuacct/assay/slot-3");
    mkdir_p_at(root, "cpu/assay/slot-3");
    const char *files[][2] = {
        {"memory/assay/slot-3/memory.limit_in_bytes", "9223372036854771712\n"},
        {"memory/assay/slot-3/memory.memsw.limit_in_bytes", "9223372036854771712\n"},
        {"memory/assay/slot-3/memory.max_usage_in_bytes", "99999999\n"},
        {"memory/assay/slot-3/memory.failcnt", "7\n"},
        {"memory/assay/slot-3/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"},
        {"memory/assay/slot-3/cgroup.procs", ""},
        {"pids/assay/slot-3/pids.max", "max\n"},
        {"pids/assay/slot-3/pids.events", "max 5\n"},
        {"pids/assay/slot-3/cgroup.procs", ""},
        {"cpuacct/assay/slot-3/cpuacct.usage", "1500000000\n"},
        {"cpuacct/assay/slot-3/cgroup.procs", ""},
        {"cpu/assay/slot-3/cpu.shares", "2\n"},
        {"cpu/assay/slot-3/cgroup.procs", ""},
        {"cpu/assay/slot-3/tasks", ""},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        tu_write_at(root, files[i][0], files[i][1]);
}

static void test_v1_prepare_writes_limits_and_zeroes_counters(void **state)
{
    const char *root = *state;
    make_v1_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay", 3, CG_ALL, &e);
    assert_non_null(cg);
    assert_string_equal(cg->ops->name, "v1");
    assert_int_equal(cg->ops->clone_fd(cg), -1);   /* v1 runs are born from the keeper */
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    assert_file(root, "memory/assay/slot-3/memory.limit_in_bytes", "67108864");
    assert_file(root, "memory/assay/slot-3/memory.memsw.limit_in_bytes", "67108864");   /* no swap */
    assert_file(root, "memory/assay/slot-3/memory.max_usage_in_bytes", "0");
    assert_file(root, "memory/assay/slot-3/memory.failcnt", "0");
    assert_file(root, "pids/assay/slot-3/pids.max", "12");   /* + PID 1 and the keeper */
    assert_file(root, "cpuacct/assay/slot-3/cpuacct.usage", "0");
    /* every slot the same weight, whatever it had: equal CPU shares */
    assert_file(root, "cpu/assay/slot-3/cpu.shares", "1024");
    cg->ops->close(cg);
}

static void test_v1_usage_is_counted_from_prepare(void **state)
{
    const char *root = *state;
    make_v1_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay", 3, CG_ALL, &e);
    assert_non_null(cg);
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    /* the run: 2.5 s of CPU, 32 MiB peak, one OOM kill, four refused forks */
    tu_write_at(root, "cpuacct/assay/slot-3/cpuacct.usage", "2500000000\n");
    tu_write_at(root, "memory/assay/slot-3/memory.max_usage_in_bytes", "33554432\n");
    tu_write_at(root, "memory/assay/slot-3/memory.oom_control",
                "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
    tu_write_at(root, "pids/assay/slot-3/pids.events", "max 9\n");
    tu_write_at(root, "memory/assay/slot-3/memory.failcnt", "5\n");
    double cpu;
    assert_int_equal(cg->ops->cpu_used(cg, &cpu), 0);
    assert_true(cpu > 2.49 && cpu < 2.51);
    struct cgroup_usage u;
    assert_int_equal(cg->ops->usage(cg, &u, &e), 0);
    assert_int_equal(u.peak_kb, 32768);
    assert_int_equal(u.oom_kills, 1);
    assert_int_equal(u.limit_hits, 5);
    assert_int_equal(u.pids_refused, 4);
    cg->ops->close(cg);
}

static void test_v1_emptiness_ignores_the_keeper_and_its_pid1s(void **state)
{
    const char *root = *state;
    make_v1_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay", 3, CG_ALL, &e);
    assert_non_null(cg);
    assert_true(cg->ops->is_empty(cg, NULL));
    tu_write_at(root, "pids/assay/slot-3/cgroup.procs", "123\n");
    assert_false(cg->ops->is_empty(cg, NULL));
    assert_true(cg->ops->is_empty(cg, (pid_t[]){123, 0}));
    tu_write_at(root, "pids/assay/slot-3/cgroup.procs", "123\n456\n");
    assert_false(cg->ops->is_empty(cg, (pid_t[]){123, 0}));
    /* the keeper and the PID 1 of the run that just ended, or made for the next */
    assert_true(cg->ops->is_empty(cg, (pid_t[]){123, 456, 0}));
    /* -P: every child of P (the PID 1s a keeper made, one perhaps being
     * made as the list is read), and nothing else */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    char procs[64];
    snprintf(procs, sizeof procs, "%d\n%d\n", (int)getpid(), (int)child);
    tu_write_at(root, "pids/assay/slot-3/cgroup.procs", procs);
    assert_false(cg->ops->is_empty(cg, (pid_t[]){getpid(), 0}));
    assert_true(cg->ops->is_empty(cg, (pid_t[]){getpid(), -getpid(), 0}));
    snprintf(procs, sizeof procs, "%d\n%d\n1\n", (int)getpid(), (int)child);
    tu_write_at(root, "pids/assay/slot-3/cgroup.procs", procs);
    assert_false(cg->ops->is_empty(cg, (pid_t[]){getpid(), -getpid(), 0}));
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cg->ops->close(cg);
}

static void test_v1_open_creates_the_slot(void **state)
{
    const char *root = *state;
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay", 7, CG_ALL, &e);
    assert_non_null(cg);
    char *p = tu_path(root, "pids/assay/slot-7");
    assert_true(fs_is_dir(p));
    free(p);
    cg->ops->close(cg);
}

/* ---- v2 ---- */

/* A fake slot 2 of GROUP ("assay" or "assay/NAME") with its files. */
static void make_v2_slot(const char *root, const char *group)
{
    char dir[128], ctl[160];
    snprintf(dir, sizeof dir, "%s/slot-2", group);
    snprintf(ctl, sizeof ctl, "%s/cgroup.subtree_control", group);
    tu_write_at(root, "cgroup.subtree_control", "");
    mkdir_p_at(root, dir);
    tu_write_at(root, "assay/cgroup.subtree_control", "");
    tu_write_at(root, ctl, "");
    const char *files[][2] = {
        {"memory.max", "max\n"}, {"memory.swap.max", "max\n"}, {"pids.max", "max\n"},
        {"memory.peak", "5000000\n"},
        {"memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n"},
        {"pids.events", "max 0\n"},
        {"cpu.stat", "usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n"},
        {"cgroup.events", "populated 0\nfrozen 0\n"}, {"cgroup.procs", ""}, {"cgroup.kill", ""},
        {"cpu.weight", "1\n"}, {"cgroup.threads", ""},
        {"cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1000000\n"
                         "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char rel[192];
        snprintf(rel, sizeof rel, "%s/%s", dir, files[i][0]);
        tu_write_at(root, rel, files[i][1]);
    }
}

static void make_v2_files(const char *root)
{
    make_v2_slot(root, "assay");
}

static void test_v2_open_enables_controllers_and_prepare_sets_limits(void **state)
{
    const char *root = *state;
    make_v2_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v2_open(root, "assay", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_string_equal(cg->ops->name, "v2");
    assert_true(cg->ops->clone_fd(cg) >= 0);   /* runs are born inside by clone3 */
    assert_file(root, "cgroup.subtree_control", "+memory +pids +cpu");
    assert_file(root, "assay/cgroup.subtree_control", "+memory +pids +cpu");
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    assert_file(root, "assay/slot-2/memory.max", "67108864");
    assert_file(root, "assay/slot-2/memory.swap.max", "0");
    assert_file(root, "assay/slot-2/pids.max", "12");
    assert_file(root, "assay/slot-2/cpu.weight", "100");   /* every slot the same */
    cg->ops->close(cg);
}

static void test_v2_usage_is_counted_from_prepare(void **state)
{
    const char *root = *state;
    make_v2_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v2_open(root, "assay", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    tu_write_at(root, "assay/slot-2/cpu.stat", "usage_usec 2005000\nuser_usec 2000000\n");
    tu_write_at(root, "assay/slot-2/memory.events", "low 0\nhigh 0\nmax 9\noom 3\noom_kill 3\n");
    tu_write_at(root, "assay/slot-2/pids.events", "max 4\n");
    tu_write_at(root, "assay/slot-2/memory.peak", "2097152\n");
    struct cgroup_usage u;
    assert_int_equal(cg->ops->usage(cg, &u, &e), 0);
    assert_true(u.cpu_s > 1.99 && u.cpu_s < 2.01);
    assert_int_equal(u.peak_kb, 2048);
    assert_int_equal(u.oom_kills, 2);
    assert_int_equal(u.limit_hits, 5);
    assert_int_equal(u.pids_refused, 4);
    cg->ops->close(cg);
}

static void test_v2_emptiness_reads_cgroup_events(void **state)
{
    const char *root = *state;
    make_v2_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v2_open(root, "assay", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_true(cg->ops->is_empty(cg, NULL));
    tu_write_at(root, "assay/slot-2/cgroup.events", "populated 1\nfrozen 0\n");
    assert_false(cg->ops->is_empty(cg, NULL));
    cg->ops->kill_all(cg, NULL);
    assert_file(root, "assay/slot-2/cgroup.kill", "1");
    cg->ops->close(cg);
}

/* A named installation's slots sit one level deeper, in assay/NAME, and
 * every level on the way delegates the controllers to the next. */
static void test_v2_named_installation_has_its_own_group(void **state)
{
    const char *root = *state;
    make_v2_files(root);
    make_v2_slot(root, "assay/inst-a");
    struct err e;
    struct cgroup *cg = cgroup_v2_open(root, "assay/inst-a", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_file(root, "assay/cgroup.subtree_control", "+memory +pids +cpu");
    assert_file(root, "assay/inst-a/cgroup.subtree_control", "+memory +pids +cpu");
    assert_true(tu_contains(cg->path, "/assay/inst-a/slot-2"));
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    assert_file(root, "assay/inst-a/slot-2/memory.max", "67108864");
    assert_file(root, "assay/slot-2/memory.max", "max\n");   /* the unnamed one's, untouched */
    cg->ops->close(cg);
}

static void test_v1_named_installation_has_its_own_group(void **state)
{
    const char *root = *state;
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay/inst-b", 4, CG_ALL, &e);
    assert_non_null(cg);
    char *d = tu_path(root, "pids/assay/inst-b/slot-4");
    assert_true(fs_exists(d));
    assert_true(tu_contains(cg->path, "memory/assay/inst-b/slot-4"));
    free(d);
    cg->ops->close(cg);
}

/* ---- waiting for a CPU ---- */

/* v1 sums its tasks' own run-queue waits: a listed task counts from its
 * birth at its first sample and by what it added at the next; the keeper
 * (EXCEPT) and tasks that are gone count nothing. */
static void test_v1_cpu_wait_sums_the_tasks_counts(void **state)
{
    const char *root = *state;
    make_v1_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v1_open(root, "assay", 3, CG_ALL, &e);
    assert_non_null(cg);
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    pid_t me = getpid();
    char list[64];
    /* 2147483646: a task id that is not in use */
    snprintf(list, sizeof list, "%d\n2147483646\n", (int)me);
    tu_write_at(root, "cpu/assay/slot-3/tasks", list);
    long long before = launcher_task_cpu_wait_ns(me);
    assert_true(before >= 0);
    double w1, w2, w3;
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w1), 0);
    long long after = launcher_task_cpu_wait_ns(me);
    assert_true(w1 * 1e9 >= (double)before - 1 && w1 * 1e9 <= (double)after + 1);
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w2), 0);
    assert_true(w2 >= w1 && w2 * 1e9 <= (double)launcher_task_cpu_wait_ns(me) + 1);
    assert_int_equal(cg->ops->cpu_wait(cg, me, &w3), 0);   /* the keeper's own: not the run's */
    assert_true(w3 == w2);
    /* prepare starts the next run from zero */
    tu_write_at(root, "cpu/assay/slot-3/tasks", "");
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w1), 0);
    assert_true(w1 == 0);
    cg->ops->close(cg);
}

/* v2 reads the cgroup's CPU pressure ("some" total, microseconds) from
 * prepare on; without PSI it sums its tasks' counts as v1 does. */
static void test_v2_cpu_wait_reads_the_pressure(void **state)
{
    const char *root = *state;
    make_v2_files(root);
    struct err e;
    struct cgroup *cg = cgroup_v2_open(root, "assay", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    tu_write_at(root, "assay/slot-2/cpu.pressure",
                "some avg10=9.00 avg60=1.00 avg300=0.50 total=3500000\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    double w;
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w), 0);
    assert_true(w > 2.49 && w < 2.51);
    cg->ops->close(cg);
    char *pressure = tu_path(root, "assay/slot-2/cpu.pressure");
    assert_int_equal(unlink(pressure), 0);
    free(pressure);
    cg = cgroup_v2_open(root, "assay", 2, CG_ALL, &e);
    assert_non_null(cg);
    assert_int_equal(cg->ops->prepare(cg, &limits, &e), 0);
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w), 0);
    assert_true(w == 0);   /* no thread listed */
    char list[32];
    snprintf(list, sizeof list, "%d\n", (int)getpid());
    tu_write_at(root, "assay/slot-2/cgroup.threads", list);
    long long before = launcher_task_cpu_wait_ns(getpid());
    assert_int_equal(cg->ops->cpu_wait(cg, 0, &w), 0);
    assert_true(w * 1e9 >= (double)before - 1);
    cg->ops->close(cg);
}

/* ---- a real run born in a v2 cgroup ---- */

static bool cgroup2_mount(char *out, size_t n)
{
    FILE *f = setmntent("/proc/self/mounts", "re");
    struct mntent *m;
    bool found = false;
    while (f && !found && (m = getmntent(f)))
        if (!strcmp(m->mnt_type, "cgroup2")) {
            snprintf(out, n, "%s", m->mnt_dir);
            found = true;
        }
    if (f)
        endmntent(f);
    return found;
}

/* As root: sandbox_spawn with a v2 slot's fd runs PID 1 inside that
 * cgroup from birth (its process is listed there while the command
 * sleeps), the command runs in the sandbox and its status comes back on
 * the report pipe.  No controllers are needed for that, so this runs on
 * hybrid hosts too. */
static void test_v2_run_is_born_in_the_slot(void **state)
{
    const char *tmp = *state;
    char mnt[256];
    if (geteuid() != 0 || !cgroup2_mount(mnt, sizeof mnt)) {
        skip();
    }
    struct err e;
    uid_t uid;
    int lock = -1;
    struct sandbox_site site;
    sandbox_site_of(&site, NULL);
    assert_int_equal(launcher_lease_uid(&site, &uid, &lock, &e), 0);
    struct cgroup *cg = cgroup_v2_open(mnt, "assay", 900 + (int)(uid - site.uid_base), 0, &e);
    if (!cg) {
        close(lock);
        skip();   /* a cgroup2 mount we may not write to */
    }
    struct sock_fprog filter;
    assert_int_equal(sandbox_filter_build(&filter, &e), 0);
    char *root = tu_path(tmp, "root"), *work = tu_path(tmp, "work");
    assert_int_equal(mkdir(root, 0755), 0);
    assert_int_equal(mkdir(work, 0755), 0);
    assert_int_equal(chmod(tmp, 0755), 0);
    assert_int_equal(chown(work, uid, uid), 0);
    int out[2], rep[2];
    assert_int_equal(pipe2(out, O_CLOEXEC), 0);
    assert_int_equal(pipe2(rep, O_CLOEXEC), 0);
    char *env[] = {"PATH=/usr/bin:/bin", NULL};
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    struct sandbox_birth birth = {.uid = uid, .root_mnt = root, .sock = sv[1], .filter = &filter};
    pid_t pid;
    int pidfd;
    assert_int_equal(sandbox_spawn(&birth, cg->ops->clone_fd(cg), &pid, &pidfd, &e), 0);
    close(sv[1]);
    /* PID 1 waits, set up, for its run: the job and its pipes, then the word to go */
    struct sandbox_job job = {
        .workdir = work, .command = "sh -c 'cat /proc/self/cgroup; sleep 0.5; exit 3'", .env = env,
        .limits = limits, .stdin_fd = -1, .out_fd = out[1], .err_fd = out[1], .report_fd = rep[1],
    };
    struct buf msg = BUF_INIT;
    int fds[JOB_MAX_FDS];
    assert_int_equal(job_encode(&job, &msg, &e), 0);
    assert_true(wire_send(sv[0], msg.data, msg.len, fds, job_fds(&job, fds)) > 0);
    buf_free(&msg);
    assert_int_equal(wire_send(sv[0], "g", 1, NULL, 0), 1);   /* the slot's limits are set: go */
    close(sv[0]);
    close(out[1]);
    close(rep[1]);
    char text[1024] = "";
    ssize_t n = read(out[0], text, sizeof text - 1);   /* the command is running now */
    assert_true(n > 0);
    text[n] = '\0';
    /* its own cgroup namespace, rooted at the slot (v1 lines come first on hybrid hosts) */
    assert_true(!strncmp(text, "0::/\n", 5) || tu_contains(text, "\n0::/\n"));
    assert_false(cg->ops->is_empty(cg, NULL));
    double cpu;
    assert_int_equal(cg->ops->cpu_used(cg, &cpu), 0);
    struct pid1_report r;
    /* first the moment the command was exec'd (the wall clock's start)... */
    assert_int_equal(read(rep[0], &r, sizeof r), (ssize_t)sizeof r);
    assert_int_equal(r.kind, PID1_STARTED);
    assert_true(r.started > 0 && r.started <= clock_mono());
    /* ...then how it ended */
    assert_int_equal(read(rep[0], &r, sizeof r), (ssize_t)sizeof r);
    assert_int_equal(r.kind, PID1_EXITED);
    assert_true(WIFEXITED(r.status));
    assert_int_equal(WEXITSTATUS(r.status), 3);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    assert_true(cg->ops->is_empty(cg, NULL));
    close(pidfd);
    close(out[0]);
    close(rep[0]);
    cg->ops->close(cg);
    char slot[512], assay[300];
    snprintf(assay, sizeof assay, "%s/assay", mnt);
    snprintf(slot, sizeof slot, "%s/slot-%d", assay, 900 + (int)(uid - site.uid_base));
    rmdir(slot);
    rmdir(assay);   /* only if no other slot is there */
    sandbox_filter_free(&filter);
    close(lock);
    free(root);
    free(work);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_v1_prepare_writes_limits_and_zeroes_counters,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v1_usage_is_counted_from_prepare, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v1_emptiness_ignores_the_keeper_and_its_pid1s, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v1_open_creates_the_slot, tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_open_enables_controllers_and_prepare_sets_limits,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_usage_is_counted_from_prepare, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_emptiness_reads_cgroup_events, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_named_installation_has_its_own_group,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v1_named_installation_has_its_own_group,
                                        tu_setup_dir, tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v1_cpu_wait_sums_the_tasks_counts, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_cpu_wait_reads_the_pressure, tu_setup_dir,
                                        tu_teardown_dir),
        cmocka_unit_test_setup_teardown(test_v2_run_is_born_in_the_slot, tu_setup_dir, tu_teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
