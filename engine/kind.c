/*
 * kind.c - the registry of test kinds and the helpers they share.
 *
 * A test kind (io, command, pytest, doctest, ...) is a struct test_kind
 * in a file of its own under engine/kinds/; adding one means writing
 * that file and one line in the table below.  Kinds never start
 * processes themselves: kind_run_command goes through the launcher, so
 * the sandbox can change without touching them.
 */
#define _GNU_SOURCE
#include "engine/kind.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"

extern const struct test_kind kind_io, kind_command, kind_pytest, kind_doctest, kind_notebook,
    kind_gradescope, kind_property;

static const struct test_kind *const kinds[] = {
    &kind_io, &kind_command, &kind_pytest, &kind_doctest, &kind_notebook, &kind_gradescope,
    &kind_property,
};

#define N_KINDS (sizeof kinds / sizeof *kinds)
#define REPORT_MAX_BYTES (8u << 20)
#define TRACEBACK_LINES 12

const struct test_kind *kind_find(const char *name)
{
    for (size_t i = 0; i < N_KINDS; i++)
        if (!strcmp(kinds[i]->name, name))
            return kinds[i];
    return NULL;
}

const char *kind_names(void)
{
    static char names[256];
    if (!names[0])
        for (size_t i = 0; i < N_KINDS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i ? ", " : "", kinds[i]->name);
    return names;
}

int kind_run_command(struct test_run *run, const char *command, int stdin_fd,
                     struct run_result *res, struct test_outcome *out)
{
    return kind_run_bound(run, command, stdin_fd, NULL, 0, res, out);
}

/* Whether a program named NAME is in a directory of the run's PATH (in
 * ENV), below its root file system (ROOTFS, or the host's, which the
 * sandbox shows the run read-only). */
static bool on_run_path(char *const *env, const char *rootfs, const char *name)
{
    const char *path = "/usr/local/bin:/usr/bin:/bin";
    for (int i = 0; env && env[i]; i++)
        if (!strncmp(env[i], "PATH=", 5))
            path = env[i] + 5;
    while (*path) {
        size_t len = strcspn(path, ":");
        char *file = NULL;
        bool found = asprintf(&file, "%s%.*s/%s", rootfs ? rootfs : "", (int)len, path, name) >= 0 &&
                     access(file, X_OK) == 0;
        free(file);
        if (found)
            return true;
        path += len + (path[len] == ':');
    }
    return false;
}

/* Whether LINE (LEN bytes) ends with TAIL; *END gets where TAIL starts. */
static bool ends_with(const char *line, size_t len, const char *tail, size_t *end)
{
    size_t tl = strlen(tail);
    *end = len - tl;
    return len > tl && !memcmp(line + len - tl, tail, tl);
}

/* The program that could not be found, in a line of a run's error output:
 * the launcher's own "assay: cannot run "python3": No such file or
 * directory" (a simple command is run without a shell, sandbox/
 * launcher_common.c) or the shell's "sh: 1: python3: not found", into
 * NAME; false if LINE is no such line or names a path ("./a.out": a file
 * the submission should have made). */
static bool not_found_name(const char *line, size_t len, char *name, size_t n)
{
    static const char launcher[] = "assay: cannot run \"";
    size_t start, end;
    if (len > sizeof launcher - 1 && !memcmp(line, launcher, sizeof launcher - 1) &&
        ends_with(line, len, "\": No such file or directory", &end)) {
        start = sizeof launcher - 1;
    } else if (ends_with(line, len, ": command not found", &end) ||
               ends_with(line, len, ": not found", &end)) {
        for (start = end; start > 0 && line[start - 1] != ' '; start--) {
        }
    } else {
        return false;
    }
    size_t w = end > start ? end - start : 0;
    if (w == 0 || w >= n || memchr(line + start, '/', w))
        return false;
    memcpy(name, line + start, w);
    name[w] = '\0';
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") == w;
}

/* Whether NAME is the first word of COMMAND: the program the test's
 * author (or Assay, for a runner) chose, not one the submission runs. */
static bool first_word_is(const char *command, const char *name)
{
    command += strspn(command, " \t");
    size_t n = strlen(name);
    return !strncmp(command, name, n) && (command[n] == ' ' || command[n] == '\t' ||
                                          command[n] == '\0');
}

/* A run of COMMAND that ended with status 127 because no program of the
 * command's first word was found (the test's interpreter, python3
 * say) on a worker whose PATH indeed has none: the worker lacks what the
 * test needs, which is never the student's fault.  (A program the
 * submission's own script names, misspelt or not, stays the student's.)
 * True with *E naming the program. */
static bool program_missing(const struct test_run *run, const char *command,
                            const struct run_result *res, struct err *e)
{
    if (!res->exited || res->exit_code != 127 || !res->err.data)
        return false;
    const char *p = res->err.data, *end = p + res->err.len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        char name[128];
        if (not_found_name(p, len, name, sizeof name) && first_word_is(command, name) &&
            !on_run_path(run->env, run->asg->sum.rootfs, name)) {
            err_set(e, "the program %s that this test runs is not installed on this worker%s%s "
                    "(install it there)", name, run->asg->sum.rootfs ? " in the root file system " : "",
                    run->asg->sum.rootfs ? run->asg->sum.rootfs : "");
            return true;
        }
        p += len + 1;
    }
    return false;
}

int kind_run_bound(struct test_run *run, const char *command, int stdin_fd,
                   const struct run_bind *binds, int n_binds, struct run_result *res,
                   struct test_outcome *out)
{
    struct run_spec spec = {
        .workdir = run->workdir,
        .command = command,
        .stdin_fd = stdin_fd,
        .env = run->env,
        .limits = run->test->limits,
        .binds = binds,
        .n_binds = n_binds,
        .rootfs = run->asg->sum.rootfs,
    };
    struct err e = {{0}};
    memset(res, 0, sizeof *res);
    if (!command)
        err_set(&e, "out of memory");
    if (!command || run->launcher->run(run->launcher, &spec, res, &e) < 0 ||
        program_missing(run, command, res, &e)) {
        out->infra_error = strdup(e.msg);
        out->verdict = VERDICT_SETUP_ERROR;
        buf_printf(&out->feedback, "Assay could not run this test: %s\n", e.msg);
        run_result_free(res);   /* what a run said that showed a program missing */
        return -1;
    }
    out->cpu_s += res->cpu_s;
    out->wall_s += res->wall_s;
    out->cpu_wait_s += res->cpu_wait_s;
    out->starved |= res->starved;
    if (res->max_rss_kb > out->max_rss_kb)
        out->max_rss_kb = res->max_rss_kb;
    return 0;
}

/* What a run starved of CPU got and waited, for the student. */
static void describe_starved(const struct run_result *res, const struct run_limits *l,
                             struct buf *feedback)
{
    buf_printf(feedback, "Not judged: the worker's processors were too busy. In its %g s "
               "time limit the program got %.2f s of CPU time and waited %.2f s for a "
               "processor. This is not a problem with your work.\n", l->wall_s, res->cpu_s,
               res->cpu_wait_s);
}

bool kind_judge_limits(const struct test_run *run, const struct run_result *res,
                       struct test_outcome *out)
{
    const struct run_limits *l = &run->test->limits;
    /* memory first: an OOM kill is what ended the run even when the
     * clock ran out as well (the launcher sets it only then, or alone) */
    if (res->memory_exceeded) {
        out->verdict = VERDICT_MEMORY_LIMIT;
        buf_printf(&out->feedback, "Ran out of memory (the limit is %ld MB): look for a "
                   "list or string that keeps growing.\n", l->memory_mb);
    } else if (res->starved) {
        out->verdict = VERDICT_SETUP_ERROR;
        describe_starved(res, l, &out->feedback);
    } else if (res->wall_exceeded) {
        out->verdict = VERDICT_TIMEOUT;
        buf_printf(&out->feedback, "Stopped after %g s, the time limit: look for an "
                   "infinite loop, or for input() reading more lines than are given.\n",
                   l->wall_s);
    } else if (res->cpu_exceeded) {
        out->verdict = VERDICT_TIMEOUT;
        buf_printf(&out->feedback, "Stopped after using %g s of CPU time, the limit: "
                   "look for an infinite loop or a much slower algorithm than needed.\n",
                   l->cpu_s);
    } else if (res->output_exceeded) {
        out->verdict = VERDICT_OUTPUT_LIMIT;
        buf_printf(&out->feedback, "Printed more than %ld KB, the output limit, and was "
                   "stopped: look for a print inside an endless loop.\n", l->output_kb);
    } else if (res->file_exceeded) {
        out->verdict = VERDICT_OUTPUT_LIMIT;
        buf_printf(&out->feedback, "Tried to write a file larger than %ld MB, the "
                   "limit, and was stopped.\n", l->file_mb);
    } else if (res->disk_exceeded) {
        out->verdict = VERDICT_DISK_LIMIT;
        buf_printf(&out->feedback, "Wrote more than %ld MB of files, the size of the work "
                   "area, and failed: look for a file written in an endless loop, or write "
                   "less.\n", res->disk_mb);
    } else {
        return false;
    }
    return true;
}

void kind_describe_crash(const struct run_result *res, struct buf *feedback)
{
    if (res->exited)
        buf_printf(feedback, "The program exited with code %d.\n", res->exit_code);
    else
        buf_printf(feedback, "The program was killed by signal %d (%s).\n",
                   res->term_signal, strsignal(res->term_signal));
    if (res->err.len > 0) {
        char *tail = text_last_lines(res->err.data, res->err.len, TRACEBACK_LINES, 2000);
        buf_printf(feedback, "%s\n", tail ? tail : "(its error output is not shown: out of memory)");
        free(tail);
    }
}

void kind_add_case(struct test_outcome *out, const char *name, bool passed,
                   double score, double max_score, const char *message)
{
    if (!out->cases)
        out->cases = json_array();
    json_t *c = json_pack("{s:o, s:s, s:f, s:f}", "name", jsonutil_text(name, strlen(name)),
                          "status", passed ? "passed" : "failed", "score", score,
                          "max_score", max_score);
    if (c && message && *message &&
        json_object_set_new(c, "message", jsonutil_text(message, strlen(message))) < 0) {
        json_decref(c);
        c = NULL;
    }
    /* a case missing from the list would misstate the test: say so */
    if (json_array_append_new(out->cases, c) < 0 && !out->infra_error)
        out->infra_error = strdup("out of memory listing the test's cases");
}

int kind_install_helper(struct test_run *run, const char *name, const char *content,
                        struct err *e)
{
    char *dir = fs_join(run->workdir, ".assay");
    if (!dir)
        return err_set(e, "out of memory");
    if (mkdir(dir, 0755) < 0 && !fs_is_dir(dir)) {
        err_sys(e, "cannot create %s", dir);
        free(dir);
        return -1;
    }
    int rc = run->launcher->adopt_dir(run->launcher, dir, e);
    char *path = fs_join(dir, name);
    if (rc == 0 && (!path || !content))
        rc = err_set(e, "out of memory");
    int fd = rc < 0 ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    size_t len = rc < 0 ? 0 : strlen(content);
    if (rc == 0 && (fd < 0 || write(fd, content, len) != (ssize_t)len))
        rc = err_sys(e, "cannot write %s", path);
    if (fd >= 0)
        close(fd);
    free(path);
    free(dir);
    return rc;
}

int kind_stdin_text(const char *text, size_t len, struct err *e)
{
    int fd = memfd_create("assay-stdin", MFD_CLOEXEC);
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    if (fd < 0 || done < len || lseek(fd, 0, SEEK_SET) < 0) {
        err_sys(e, "cannot prepare standard input");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int kind_stdin_file(const char *path, struct err *e)
{
    int in = open(path, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return err_sys(e, "cannot open %s", path);
    int fd = memfd_create("assay-stdin", MFD_CLOEXEC);
    ssize_t n = 1;
    while (fd >= 0 && n > 0)
        n = sendfile(fd, in, NULL, 1 << 20);
    if (fd < 0 || n < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        err_sys(e, "cannot copy %s to standard input", path);
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    close(in);
    return fd;
}

/* The JSON objects of TEXT, one a line (TEXT is cut into lines); NULL
 * if memory ran out. */
static json_t *parse_events(char *text)
{
    json_t *events = json_array();
    char *save = NULL;
    for (char *line = text && events ? strtok_r(text, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save)) {
        json_t *ev = json_loads(line, 0, NULL);
        if (!json_is_object(ev)) {
            json_decref(ev);   /* not an event: a line cut mid-write */
        } else if (json_array_append_new(events, ev) < 0) {
            json_decref(events);   /* an event lost would change the score */
            return NULL;
        }
    }
    return events;
}

static json_t *read_report(struct test_run *run, const char *rel, struct run_result *res)
{
    if (!rel) {
        struct buf copy = BUF_INIT;
        json_t *events = buf_append(&copy, res->out.data ? res->out.data : "", res->out.len) == 0
                             ? parse_events(copy.data) : NULL;
        buf_free(&copy);
        return events;
    }
    struct buf b = BUF_INIT;
    struct err e;   /* no report (the run died first) or an unreadable one: the kind explains */
    json_t *events = fs_read_beneath(run->workdir_fd, rel, REPORT_MAX_BYTES, &b, &e) == 0
                         ? parse_events(b.data) : json_array();
    buf_free(&b);
    return events;
}

/* The first line of a runner's standard output is {"event": "ready"}
 * once its interpreter and its own modules (pytest, IPython) are loaded,
 * before any of the submission's code runs, or {"event": "unavailable",
 * "reason"} when they cannot be.  (Standard output, not the report file:
 * code of the submission, which runs later, can replace a file in the
 * work directory but not unsay what a pipe already carried.)  A run that
 * never got that far, unless a limit stopped it, could not start on this
 * worker (an interpreter or a Python package missing, say): the worker's
 * failure, never the student's.  True with OUT marked as such. */
static bool runner_never_started(const char *name, const struct run_result *res,
                                 struct test_outcome *out)
{
    const char *text = res->out.data ? res->out.data : "";
    size_t first = strcspn(text, "\n");
    json_t *ev = json_loadb(text, first, 0, NULL);
    const char *kind = jsonutil_str(ev, "event", "");
    if (!strcmp(kind, "ready")) {
        json_decref(ev);
        return false;
    }
    bool unavailable = !strcmp(kind, "unavailable");
    if (!unavailable && (res->wall_exceeded || res->cpu_exceeded || res->memory_exceeded ||
                         res->output_exceeded || res->file_exceeded || res->disk_exceeded)) {
        json_decref(ev);
        return false;   /* stopped by the test's limits: the kind says which */
    }
    char *tail = unavailable ? NULL : text_last_lines(res->err.data ? res->err.data : "",
                                                      res->err.len, 3, 600);
    struct buf msg = BUF_INIT;
    buf_printf(&msg, "Assay's %s could not start on this worker (is an interpreter or a Python "
               "package missing there?): %s", name,
               unavailable ? jsonutil_str(ev, "reason", "") : tail && *tail ? tail
               : res->exited ? "it exited without a word" : "it was killed");
    if (!res->exited && !unavailable)
        buf_printf(&msg, " by signal %d", res->term_signal);
    else if (!unavailable)
        buf_printf(&msg, " (exit status %d)", res->exit_code);
    out->verdict = VERDICT_SETUP_ERROR;
    out->infra_error = buf_steal(&msg);
    if (!out->infra_error)
        out->infra_error = strdup("out of memory");
    buf_printf(&out->feedback, "Assay could not run this test: %s\n", out->infra_error);
    free(tail);
    json_decref(ev);
    return true;
}

json_t *kind_run_reporter(struct test_run *run, const char *name, const char *script,
                          const char *command, int stdin_fd, const char *report,
                          struct run_result *res, struct test_outcome *out)
{
    struct err e;
    if (kind_install_helper(run, name, script, &e) < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not prepare this test: %s\n", e.msg);
        return NULL;
    }
    if (kind_run_command(run, command, stdin_fd, res, out) < 0)
        return NULL;
    json_t *events = read_report(run, report, res);
    if (!events) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup("out of memory reading the test's report");
        buf_puts(&out->feedback, "Assay could not read this test's report: out of memory.\n");
        run_result_free(res);
    } else if (runner_never_started(name, res, out)) {
        json_decref(events);
        run_result_free(res);
        events = NULL;
    }
    return events;
}

char *kind_shell_quote(const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./+,:@") == strlen(s))
        return strdup(s);
    struct buf b = BUF_INIT;
    int rc = buf_puts(&b, "'");
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '\'' ? buf_puts(&b, "'\\''") : buf_append(&b, p, 1);
    if (rc < 0 || buf_puts(&b, "'") < 0) {
        buf_free(&b);
        return NULL;   /* out of memory: never half a word for the shell */
    }
    return buf_steal(&b);
}
