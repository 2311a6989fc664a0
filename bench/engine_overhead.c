/*
 * engine_overhead.c - what the grading engine costs per test.
 *
 *   make bench && [ASSAY_SANDBOX=namespace|rlimit] build/bench/engine_overhead [RUNS]
 *
 * For two tests - `python3 -c pass` (a command test) and a pytest file
 * with one test - it times, RUNS times each and interleaved so machine
 * noise hits both alike: (a) the bare command, forked and waited for in a
 * directory holding the same files, and (b) engine_grade() of an
 * assignment holding just that test, through the same launcher a worker
 * uses (work directory, copies, limits, output capture, report reading,
 * results.json).  It prints medians and the overhead (b - a).  Not a
 * test: figures go to docs/PERFORMANCE.md.
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
#include "engine/assignment.h"
#include "engine/engine.h"

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = fs_join(dir, name);
    struct err e;
    if (fs_write_atomic(path, text, strlen(text), &e) < 0) {
        fprintf(stderr, "%s\n", e.msg);
        exit(1);
    }
    free(path);
}

static double run_bare(const char *dir, char *const argv[])
{
    static char *env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, dir);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    double t0 = clock_mono();
    pid_t pid;
    if (posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, env) != 0)
        exit(1);
    waitpid(pid, NULL, 0);
    posix_spawn_file_actions_destroy(&fa);
    return clock_mono() - t0;
}

static double run_engine(const struct assignment *a, const char *sub, struct launcher *l)
{
    struct engine_options o = {.launcher = l};
    double t0 = clock_mono();
    json_t *r = engine_grade(a, sub, &o);
    double t = clock_mono() - t0;
    if (strcmp(json_string_value(json_object_get(json_object_get(r, "assay"), "status")), "graded") ||
        json_number_value(json_object_get(r, "score")) != 1) {
        fprintf(stderr, "the benchmark's test did not pass:\n%s\n", json_dumps(r, JSON_INDENT(2)));
        exit(1);
    }
    json_decref(r);
    return t;
}

static void measure(const char *label, const char *adir, const char *sub, char *const argv[],
                    int runs, struct launcher *l)
{
    struct assignment a;
    struct problems p = {0};
    if (assignment_load(adir, &a, &p) < 0) {
        fprintf(stderr, "%s\n", p.items[0]);
        exit(1);
    }
    double *bare = calloc((size_t)runs, sizeof *bare), *eng = calloc((size_t)runs, sizeof *eng);
    run_bare(sub, argv);              /* warm the page cache */
    run_engine(&a, sub, l);
    for (int i = 0; i < runs; i++) {
        bare[i] = run_bare(sub, argv);
        eng[i] = run_engine(&a, sub, l);
    }
    double mb = percentile(bare, runs, 0.5), me = percentile(eng, runs, 0.5);
    printf("%-22s bare median %7.2f ms   engine median %7.2f ms   overhead %6.2f ms"
           "   (p90 bare %.2f, engine %.2f; %d runs)\n", label, mb * 1e3, me * 1e3,
           (me - mb) * 1e3, percentile(bare, runs, 0.9) * 1e3, percentile(eng, runs, 0.9) * 1e3,
           runs);
    free(bare);
    free(eng);
    assignment_free(&a);
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 25;
    struct err e;
    char *root;
    if (fs_mkdtemp("/tmp", "assay-bench", &root, &e) < 0)
        return 1;
    char *cmd = fs_join(root, "cmd"), *py = fs_join(root, "py"), *sub = fs_join(root, "sub");
    fs_mkdir_p(cmd, 0755, &e);
    fs_mkdir_p(py, 0755, &e);
    char *pytests = fs_join(py, "tests");
    fs_mkdir_p(pytests, 0755, &e);
    fs_mkdir_p(sub, 0755, &e);
    chmod(root, 0755);
    chmod(sub, 0755);
    write_file(cmd, "assignment.json",
               "{\"assay\": 1, \"title\": \"bench\", \"tests\": [{\"name\": \"pass\", "
               "\"kind\": \"command\", \"command\": \"python3 -c pass\"}]}");
    write_file(py, "assignment.json",
               "{\"assay\": 1, \"title\": \"bench\", \"tests\": [{\"name\": \"one\", "
               "\"kind\": \"pytest\", \"files\": [\"tests/test_one.py\"]}]}");
    write_file(pytests, "test_one.py", "from solution import f\n\ndef test_f():\n    assert f() == 1\n");
    write_file(sub, "solution.py", "def f():\n    return 1\n");
    char *subtests = fs_join(sub, "tests");
    fs_mkdir_p(subtests, 0755, &e);
    write_file(subtests, "test_one.py", "from solution import f\n\ndef test_f():\n    assert f() == 1\n");

    struct launcher *l = launcher_new(getenv("ASSAY_SANDBOX"), NULL, &e);
    if (!l) {
        fprintf(stderr, "%s\n", e.msg);
        return 1;
    }
    char *pass_argv[] = {"python3", "-c", "pass", NULL};
    char *pytest_argv[] = {"python3", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/test_one.py", NULL};
    measure("python3 -c pass", cmd, sub, pass_argv, runs, l);
    /* the bare run needs the test file beside the solution; the engine copies it */
    measure("pytest, one test", py, sub, pytest_argv, runs, l);
    l->destroy(l);
    fs_remove_tree(root, &e);
    return 0;
}
