/*
 * engine.c - the grading engine: one submission, one assignment, one
 * results.json.
 *
 * engine_grade stages the submission (submission.c), checks required
 * files, then for every test builds a private work directory holding the
 * submission and only the instructor files that test needs, hands it to
 * the test's kind, and turns the outcome into a results.json entry.  The
 * worker daemon calls it once per job in a process of its own; `assay
 * grade` calls it directly; the scheduler calls it for assignments
 * without tests, where it needs no launcher.  A submission's file that
 * has the name of an instructor file, or a name the harness reserves
 * (conftest.py, ...), is not copied, and the result says so.  A test
 * whose run was stopped at its wall limit for want of a processor (the
 * launcher's starved) is run again from a fresh work directory; starved
 * STARVED_RUNS times, it is an infrastructure error, never a score.
 */
#define _GNU_SOURCE
#include "engine/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "engine/kind.h"
#include "engine/submission.h"

/* Runs of a test that may be starved of CPU (stopped at the wall limit
 * while waiting for a processor, run_result's starved) before the test
 * is called Assay's failure: a load that lasts three runs is no spike. */
#define STARVED_RUNS 3

/* Names that would let a submission reconfigure the test harness. */
static const char *const reserved_names[] = {
    "conftest.py", "sitecustomize.py", "usercustomize.py", "pytest.ini", NULL,
};

struct grading {
    const struct assignment *a;
    const struct engine_options *o;
    char *base;                 /* this grading's private directory */
    char *staged;               /* base/submission */
    json_t *warnings;           /* strings, each once */
    json_t *tests;              /* results.json entries */
    bool unclean;               /* a test's work directory could not be removed */
    const char *error_category;
    char *error_message;
};

/* Warnings and errors name the student's files, whose names may not be
 * UTF-8: such bytes are shown as U+FFFD, since JSON can hold only text. */
static void add_warning(struct grading *g, const char *raw)
{
    char *text = text_utf8_clean(raw, strlen(raw));
    if (!text)
        return;   /* out of memory: the warning is lost, the grading is not */
    bool seen = false;
    size_t i;
    json_t *w;
    json_array_foreach(g->warnings, i, w)
        seen = seen || !strcmp(json_string_value(w), text);
    if (!seen)
        json_array_append_new(g->warnings, json_string(text));   /* as above if it fails */
    free(text);
}

static void set_error(struct grading *g, const char *category, const char *message)
{
    if (g->error_category)
        return;   /* the first error is the one to act on */
    g->error_category = category;
    g->error_message = text_utf8_clean(message, strlen(message));
}

static double planned_points(const struct grading *g, const struct test_def *t)
{
    return t->kind->planned_points ? t->kind->planned_points(g->a->sum.dir, t) : t->points;
}

/* ---- building a test's work directory ---- */

static int copy_into(const char *src, const char *workdir, const char *rel, struct err *e)
{
    char *dst = fs_join(workdir, rel);
    if (!dst)
        return err_set(e, "out of memory");
    char *slash = strrchr(dst, '/');
    int rc = 0;
    *slash = '\0';
    rc = fs_mkdir_p(dst, 0755, e);
    *slash = '/';
    if (rc == 0)
        rc = fs_copy_file(src, dst, 0644, e);
    free(dst);
    return rc;
}

struct copy_ctx {
    struct grading *g;
    const char *workdir;
    struct err *e;
};

static bool is_reserved(const char *rel)
{
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    for (int i = 0; reserved_names[i]; i++)
        if (!strcmp(base, reserved_names[i]))
            return true;
    return !strncmp(rel, ".assay/", 7);
}

static int copy_submission_file(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct copy_ctx *c = arg;
    char *dst = fs_join(c->workdir, rel), msg[1200];
    if (!dst)
        return err_set(c->e, "out of memory");
    bool clash = fs_exists(dst);
    free(dst);
    if (is_reserved(rel) || clash) {
        snprintf(msg, sizeof msg, "Your file %s was not used: %s.", rel,
                 clash ? "a file of the same name comes with the assignment's tests"
                       : "that name is reserved for the test harness");
        add_warning(c->g, msg);
        return 0;
    }
    char *src = fs_join(c->g->staged, rel);
    int rc = copy_into(src, c->workdir, rel, c->e);
    free(src);
    return rc;
}

static int build_workdir(struct grading *g, const struct test_def *t, const char *workdir,
                         struct err *e)
{
    /* 0700, handed to the run's uid: the submission and the test's files
     * are no one else's to read (the parents only let it pass) */
    if (mkdir(workdir, 0700) < 0)
        return err_sys(e, "cannot create %s", workdir);
    if (g->o->launcher->adopt_dir(g->o->launcher, workdir, e) < 0)
        return -1;
    json_t *files = json_array();
    if (!files)   /* else the test would run without its files */
        return err_set(e, "out of memory");
    json_array_extend(files, json_object_get(t->spec, "support_files"));
    t->kind->instructor_files(t->spec, files);
    size_t i;
    json_t *f;
    int rc = 0;
    json_array_foreach(files, i, f) {
        const char *rel = json_string_value(f);
        char *src = fs_join(g->a->sum.dir, rel), *dst = fs_join(workdir, rel);
        if (!dst)
            rc = err_set(e, "out of memory");
        else if (!fs_exists(dst))   /* a file may be listed twice */
            rc = copy_into(src, workdir, rel, e);
        free(src);
        free(dst);
        if (rc < 0)
            break;
    }
    json_decref(files);
    if (rc < 0)
        return err_prefix(e, "cannot copy the test's files");
    struct copy_ctx c = {g, workdir, e};
    return fs_walk_files(g->staged, copy_submission_file, &c, e);
}

/* ---- running one test ---- */

static void free_env(char **env)
{
    for (int i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

static bool env_add(char **env, int *n, const char *name, const char *value)
{
    char *v = NULL;
    if (asprintf(&v, "%s=%s", name, value) < 0)
        return false;
    env[(*n)++] = v;
    return true;
}

/* Adds the variables of VARS (an "env" of assignment.json, checked when
 * it was loaded) that SKIP (the test's own) does not set; false if out
 * of memory. */
static bool env_add_all(char **env, int *n, const json_t *vars, const json_t *skip)
{
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)vars, name, v)
        if (!json_object_get(skip, name) && !env_add(env, n, name, json_string_value(v)))
            return false;
    return true;
}

/* The run's environment: Assay's own, then the test's "env" and the
 * assignment's; NULL if out of memory (never one missing a variable). */
static char **build_env(const char *workdir, const json_t *asg_env, const json_t *test_env)
{
    char **env = calloc(10 + json_object_size(asg_env) + json_object_size(test_env), sizeof *env);
    int n = 0;
    bool ok = env && env_add(env, &n, "PATH", "/usr/local/bin:/usr/bin:/bin") &&
              env_add(env, &n, "HOME", workdir) && env_add(env, &n, "TMPDIR", workdir) &&
              env_add(env, &n, "LANG", "C.UTF-8") && env_add(env, &n, "LC_ALL", "C.UTF-8") &&
              env_add(env, &n, "PYTHONDONTWRITEBYTECODE", "1") &&
              env_add(env, &n, "MPLBACKEND", "Agg") && env_add(env, &n, "TERM", "dumb") &&
              env_add_all(env, &n, test_env, NULL) && env_add_all(env, &n, asg_env, test_env);
    if (!ok) {
        free_env(env);
        return NULL;
    }
    return env;
}

/* Student-facing text should say "hello.py", not "/tmp/assay-x/test-1/hello.py". */
static char *strip_workdir(const char *text, const char *workdir)
{
    if (!workdir || !*workdir)   /* no test ran: there is no work directory */
        return strdup(text);
    struct buf out = BUF_INIT;
    size_t wl = strlen(workdir);
    int rc = buf_append(&out, "", 0);
    for (const char *p = text; rc == 0 && *p;) {
        const char *hit = strstr(p, workdir);
        if (!hit) {
            rc = buf_puts(&out, p);
            break;
        }
        rc = buf_append(&out, p, (size_t)(hit - p));
        p = hit + wl;
        if (*p == '/')
            p++;
    }
    if (rc < 0) {
        buf_free(&out);
        return NULL;   /* out of memory */
    }
    return buf_steal(&out);
}

/* The test's results.json entry; NULL if out of memory (add_entry says so). */
static json_t *entry_from_outcome(const struct test_def *t, struct test_outcome *o,
                                  const char *workdir)
{
    char *feedback = strip_workdir(buf_str(&o->feedback), workdir);
    if (!feedback)
        return NULL;
    json_t *e = json_object();
    int rc = 0;   /* one statement each: the keys keep their order */
    rc |= json_object_set_new(e, "name", json_string(t->name));
    rc |= json_object_set_new(e, "score", json_real(o->score));
    rc |= json_object_set_new(e, "max_score", json_real(o->max_score));
    rc |= json_object_set_new(e, "status",
                              json_string(o->verdict == VERDICT_PASSED ? "passed" : "failed"));
    rc |= json_object_set_new(e, "output", jsonutil_text(feedback, strlen(feedback)));
    rc |= json_object_set_new(e, "visibility", json_string(visibility_name(t->visibility)));
    rc |= json_object_set_new(e, "kind", json_string(t->kind->name));
    rc |= json_object_set_new(e, "verdict", json_string(verdict_name(o->verdict)));
    rc |= json_object_set_new(e, "cpu_s", json_real(o->cpu_s));
    rc |= json_object_set_new(e, "wall_s", json_real(o->wall_s));
    rc |= json_object_set_new(e, "cpu_wait_s", json_real(o->cpu_wait_s));
    rc |= json_object_set_new(e, "max_rss_kb", json_integer(o->max_rss_kb));
    if (o->cases)
        rc |= json_object_set(e, "cases", o->cases);
    if (json_is_object(o->extra))
        rc |= json_object_update(e, o->extra);
    free(feedback);
    if (rc < 0) {
        json_decref(e);
        return NULL;
    }
    return e;
}

/* Adds a test's results.json entry; a lost one would take its points
 * out of the total unseen, so losing it is an error of the whole. */
static void add_entry(struct grading *g, json_t *entry)
{
    if (json_array_append_new(g->tests, entry) < 0)
        set_error(g, "infrastructure", "Assay ran out of memory recording a test's result.");
}

/* One run of test T in WORKDIR (made here, from nothing); its outcome
 * in *OUT. */
static void run_test(struct grading *g, const struct test_def *t, const char *workdir,
                     struct test_outcome *out)
{
    struct err e = {{0}};
    char **env = NULL;
    int fd = -1;
    if (!workdir)
        err_set(&e, "out of memory");
    else if (build_workdir(g, t, workdir, &e) == 0 &&
             !(env = build_env(workdir, json_object_get(g->a->sum.json, "env"),
                               json_object_get(t->spec, "env"))))
        err_set(&e, "out of memory");
    else if (env && (fd = open(workdir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
        err_sys(&e, "cannot open %s", workdir);
    if (fd < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not prepare this test: %s\n", e.msg);
    } else {
        struct test_run run = {g->a, t, workdir, fd, g->o->launcher, env, g->o->files_dir};
        t->kind->grade(&run, out);
        close(fd);
    }
    free_env(env);
}

static void outcome_free(struct test_outcome *out)
{
    free(out->infra_error);
    free(out->submission_error);
    free(out->assignment_error);
    json_decref(out->extra);
    json_decref(out->cases);
    buf_free(&out->feedback);
}

/* Removes what a test's runs wrote.  What a run wrote must not reach the
 * next run: if it cannot all go, the slot is unfit and the grading is
 * Assay's failure (false). */
static bool remove_workdir(struct grading *g, const char *workdir)
{
    struct err e;
    if (!workdir || fs_remove_tree(workdir, &e) == 0)
        return true;
    log_msg(LOG_ERROR, NULL, "%s", e.msg);
    set_error(g, "infrastructure", "Assay could not remove what a test left behind; the "
              "worker's sandbox slot is taken out of service. This is not a problem with "
              "your work.");
    g->unclean = true;
    return false;
}

/* Whether to run test T again after a run starved of CPU (the STARVED-th). */
static bool run_again(const struct test_def *t, const struct test_outcome *out, int starved)
{
    if (!out->starved || out->infra_error || out->submission_error || out->assignment_error)
        return false;
    bool again = starved < STARVED_RUNS;
    log_msg(LOG_WARN, NULL, "test \"%s\" got %.2f s of CPU time in %.2f s and waited %.2f s "
            "for a processor: the worker is too busy; %s (starved run %d of at most %d)",
            t->name, out->cpu_s, out->wall_s, out->cpu_wait_s,
            again ? "running it again" : "not judged", starved, STARVED_RUNS);
    return again;
}

/* Test T's last run, the RUNS-th, could not get a processor: that says
 * nothing of the submission, so no score of it is kept, and the grading
 * is Assay's failure (infrastructure), never the student's. */
static void starved_outcome(const struct test_def *t, struct test_outcome *out, int runs)
{
    char why[400];
    snprintf(why, sizeof why, "test \"%.100s\" could not get a processor in %d run%s (the "
             "last got %.2f s of CPU time in %.2f s and waited %.2f s for one): the worker "
             "is overloaded", t->name, runs, runs == 1 ? "" : "s", out->cpu_s, out->wall_s,
             out->cpu_wait_s);
    out->verdict = VERDICT_SETUP_ERROR;
    out->score = 0;
    json_decref(out->cases);
    out->cases = NULL;
    buf_reset(&out->feedback);
    buf_printf(&out->feedback, "Not judged: the worker's processors were too busy to run "
               "this test (%d tr%s). This is not a problem with your work.\n", runs,
               runs == 1 ? "y" : "ies");
    free(out->infra_error);
    out->infra_error = strdup(why);   /* NULL: the result still says infrastructure, below */
}

/* Grades test I: runs it, and again in a fresh work directory while its
 * runs are starved of CPU (STARVED_RUNS in all), then records it. */
static void grade_test(struct grading *g, size_t i)
{
    const struct test_def *t = &g->a->tests[i];
    char name[32];
    snprintf(name, sizeof name, "test-%zu", i + 1);
    char *workdir = fs_join(g->base, name);
    struct test_outcome out;
    int starved = 0;
    for (;;) {
        out = (struct test_outcome){.max_score = planned_points(g, t)};
        run_test(g, t, workdir, &out);
        starved += out.starved;
        if (!run_again(t, &out, starved) || !remove_workdir(g, workdir))
            break;
        outcome_free(&out);
    }
    if (out.starved && !out.infra_error && !out.submission_error) {
        starved_outcome(t, &out, starved);
        if (!out.infra_error)   /* out of memory for the details */
            set_error(g, "infrastructure", "a test could not get a processor: the worker "
                      "is overloaded");
    }
    if (out.infra_error)
        set_error(g, "infrastructure", out.infra_error);
    if (out.submission_error)
        set_error(g, "submission", out.submission_error);
    if (out.assignment_error)
        set_error(g, "assignment", out.assignment_error);
    json_t *entry = entry_from_outcome(t, &out, workdir);
    if (entry && starved > 0)   /* how often the worker was too busy (lost if out of memory) */
        json_object_set_new(entry, "starved_runs", json_integer(starved));
    add_entry(g, entry);
    if (!g->o->keep_workdirs && !g->unclean)
        remove_workdir(g, workdir);
    free(workdir);
    outcome_free(&out);
}

/* Test I scored 0 for REASON: it could not run. */
static void fail_one_test(struct grading *g, size_t i, const char *reason)
{
    const struct test_def *t = &g->a->tests[i];
    struct test_outcome out = {.max_score = planned_points(g, t), .verdict = VERDICT_SETUP_ERROR};
    buf_printf(&out.feedback, "Not run: %s\n", reason);
    add_entry(g, entry_from_outcome(t, &out, g->base));
    buf_free(&out.feedback);
}

/* Every test scored 0 with the same reason (nothing could run). */
static void fail_all_tests(struct grading *g, const char *reason)
{
    for (size_t i = 0; i < g->a->sum.n_tests; i++)
        fail_one_test(g, i, reason);
}

/* Whether test I, just graded, has "stop_if_failed" (a check step such
 * as py_compile) and did not pass: the tests after it would only repeat
 * its error.  A test Assay itself could not run stops nothing (that is
 * an infrastructure error, graded again elsewhere). */
static bool stops_the_rest(const struct grading *g, size_t i)
{
    const json_t *entry = json_array_get(g->tests, json_array_size(g->tests) - 1);
    return json_is_true(json_object_get(g->a->tests[i].spec, "stop_if_failed")) &&
           strcmp(jsonutil_str(entry, "verdict", ""), "passed") &&
           !(g->error_category && !strcmp(g->error_category, "infrastructure"));
}

/* Grades every test.  Only a program that can run none passes no
 * launcher (the scheduler, for assignments without tests); tests meeting
 * one there are Assay's fault, reported as such rather than a crash. */
static void grade_tests(struct grading *g)
{
    if (!g->o->launcher && g->a->sum.n_tests > 0) {
        set_error(g, "infrastructure", "Assay was given no launcher to run this assignment's "
                  "tests (only an assignment without tests can be graded without one).");
        fail_all_tests(g, "Assay had no launcher to run it (see the error above).");
        return;
    }
    size_t i = 0;
    const struct test_def *stopped_by = NULL;
    for (; i < g->a->sum.n_tests && !g->unclean && !stopped_by; i++) {
        grade_test(g, i);
        if (stops_the_rest(g, i))
            stopped_by = &g->a->tests[i];
    }
    for (; i < g->a->sum.n_tests; i++) {
        char why[300];
        if (stopped_by)
            snprintf(why, sizeof why, "the test \"%.200s\" did not pass, and the tests after "
                     "it run only when it does (see its feedback above).", stopped_by->name);
        fail_one_test(g, i, stopped_by ? why : "Assay could not clean up after the previous "
                      "test (see the error above).");
    }
}

/* ---- the submission as a whole ---- */

static int count_file(const char *rel, off_t size, void *arg)
{
    (void)rel;
    (void)size;
    (*(int *)arg)++;
    return 0;
}

static int collect_name(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct buf *b = arg;
    if (b->len < 300)
        buf_printf(b, "%s%s", b->len ? ", " : "", rel);
    return 0;
}

struct pattern_match {
    const char *pattern;
    bool found;
};

static int match_file(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct pattern_match *m = arg;
    m->found |= fnmatch(m->pattern, rel, FNM_PATHNAME | FNM_PERIOD) == 0;
    return 0;
}

/* Whether the staged submission holds REQ: a file of that name, or one
 * matching it when it is a glob pattern such as "*.py". */
static bool has_required(const struct grading *g, const char *req)
{
    if (strpbrk(req, "*?[")) {
        struct pattern_match m = {req, false};
        struct err e;   /* a walk cut short finds less: the file is then reported missing */
        fs_walk_files(g->staged, match_file, &m, &e);
        return m.found;
    }
    char *p = fs_join(g->staged, req);
    struct stat st;
    bool ok = p && lstat(p, &st) == 0 && S_ISREG(st.st_mode);
    free(p);
    return ok;
}

static const char *first_missing(const struct grading *g)
{
    for (size_t i = 0; i < g->a->sum.n_required; i++)
        if (!has_required(g, g->a->sum.required_files[i]))
            return g->a->sum.required_files[i];
    return NULL;
}

/* Checks the staged submission; returns false (with the error set) when
 * no test can run. */
static bool check_submission(struct grading *g)
{
    struct err e;
    int files = 0;
    if (fs_walk_files(g->staged, count_file, &files, &e) < 0) {   /* Assay staged it: our fault */
        set_error(g, "infrastructure", e.msg);
        return false;
    }
    if (files == 0) {
        set_error(g, "submission", "The submission is empty: it holds no files. Hand in "
                  "the files the assignment asks for.");
        return false;
    }
    if (first_missing(g))
        submission_unwrap(g->staged);
    const char *missing = first_missing(g);
    if (!missing)
        return true;
    struct buf found = BUF_INIT, msg = BUF_INIT;
    struct err partial;   /* the list only illustrates the message; cut short, it still does */
    fs_walk_files(g->staged, collect_name, &found, &partial);
    buf_printf(&msg, "The submission has no file %s %s, which the assignment requires "
               "(it holds: %s). File names are case-sensitive; rename or add the file "
               "and submit again.", strpbrk(missing, "*?[") ? "matching" : "named", missing,
               buf_str(&found));
    set_error(g, "submission", buf_str(&msg));
    buf_free(&found);
    buf_free(&msg);
    return false;
}

/* Whether the last failed call failed for want of the machine's
 * resources (disk, memory, descriptors) or because its disk failed: the
 * worker's trouble, whatever the submission holds. */
static bool machine_failed(int err)
{
    return err == ENOSPC || err == EDQUOT || err == EIO || err == ENOMEM || err == EMFILE ||
           err == ENFILE || err == EROFS;
}

/* Stages the submission at PATH.  A submission that cannot be read is
 * the student's to fix; one that could not be written out because the
 * worker's disk is full (or failing) is the worker's, and is graded again
 * elsewhere. */
static int stage(struct grading *g, const char *path, struct err *e)
{
    errno = 0;
    if (submission_stage(path, g->staged, e) == 0)
        return 0;
    int why = errno;
    if (machine_failed(why)) {
        log_msg(LOG_ERROR, NULL, "cannot stage the submission: %s", e->msg);
        set_error(g, "infrastructure", e->msg);
    } else {
        set_error(g, "submission", e->msg);
    }
    return -1;
}

/* What results.json calls the launcher: its name, or "none" without one
 * (what the scheduler's stand-in launcher for assignments without tests
 * always recorded, so consumers see no difference). */
static const char *launcher_name(const struct grading *g)
{
    return g->o->launcher ? g->o->launcher->name : "none";
}

static json_t *compose_result(struct grading *g, double started, double t0)
{
    double score = 0, max = 0;
    size_t i;
    json_t *t;
    json_array_foreach(g->tests, i, t) {
        score += json_number_value(json_object_get(t, "score"));
        max += json_number_value(json_object_get(t, "max_score"));
    }
    char start_s[32], end_s[32];
    clock_iso8601(started, start_s);
    clock_iso8601(clock_wall(), end_s);
    struct buf summary = BUF_INIT;
    buf_printf(&summary, "Score: %g / %g\n", score, max);
    if (g->error_message)
        buf_printf(&summary, "%s\n", g->error_message);
    json_array_foreach(g->warnings, i, t)
        buf_printf(&summary, "%s\n", json_string_value(t));
    json_t *error = g->error_category
                        ? json_pack("{s:s, s:s}", "category", g->error_category, "message",
                                    g->error_message)
                        : json_null();
    json_t *assay = json_pack("{s:s, s:s, s:s, s:s, s:f, s:o, s:O, s:s}",
                              "status", g->error_category ? "error" : "graded",
                              "title", g->a->sum.title, "started_at", start_s, "finished_at", end_s,
                              "grading_s", clock_mono() - t0, "error", error,
                              "warnings", g->warnings, "launcher", launcher_name(g));
    if (g->a->sum.has_due) {
        char due[32];
        clock_iso8601(g->a->sum.due, due);
        json_object_set_new(assay, "due", json_string(due));
    }
    /* which sandbox graded: "namespace", "rlimit" (development only) or "none" */
    json_object_set_new(assay, "sandbox", json_string(launcher_name(g)));
    if (g->o->launcher && g->o->launcher->slot >= 0)
        json_object_set_new(assay, "sandbox_slot", json_integer(g->o->launcher->slot));
    json_t *r = json_pack("{s:f, s:f, s:f, s:s, s:O, s:o}", "score", score, "max_score", max,
                          "execution_time", clock_mono() - t0, "output", buf_str(&summary),
                          "tests", g->tests, "assay", assay);
    buf_free(&summary);
    /* "Score: 5 of 7 points, 2 awaiting manual grading" when answers wait
     * for a person; out of memory leaves the plain line, which is true too */
    if (r)
        results_refresh_score_line(r);
    return r;
}

/* Where this grading's directory goes: a sandbox may need the work
 * directories on its own (size-limited) file system. */
static const char *work_root(const struct engine_options *o)
{
    const char *dir = o->launcher && o->launcher->work_base ? o->launcher->work_base
                      : o->work_base                        ? o->work_base
                                                            : getenv("TMPDIR");
    return dir && *dir ? dir : "/tmp";
}

json_t *engine_grade(const struct assignment *a, const char *path,
                     const struct engine_options *o)
{
    double started = clock_wall(), t0 = clock_mono();
    struct grading g = {.a = a, .o = o, .warnings = json_array(), .tests = json_array()};
    struct err e;
    if (a->sum.rootfs && !fs_is_dir(a->sum.rootfs)) {
        char msg[700];
        snprintf(msg, sizeof msg, "The assignment's root file system %.500s is not a directory "
                 "on this worker; install it there or fix \"rootfs\" in assignment.json.",
                 a->sum.rootfs);
        set_error(&g, "assignment", msg);
        fail_all_tests(&g, "the assignment's root file system is missing on the worker.");
        goto done;
    }
    if (o->launcher && o->launcher->clean && !o->slot_cleaned &&
        o->launcher->clean(o->launcher, &e) < 0) {
        log_msg(LOG_ERROR, NULL, "%s", e.msg);
        char msg[1200];
        snprintf(msg, sizeof msg, "The worker's sandbox slot is out of service (what an earlier "
                 "grading left could not be removed: %s). This is not a problem with your work.",
                 e.msg);
        set_error(&g, "infrastructure", msg);
        fail_all_tests(&g, "the sandbox slot is out of service.");
        goto done;
    }
    /* 128 random bits in the name: even a name shown somewhere is no
     * guide to another grading's */
    char prefix[48] = "assay-";
    ids_random_hex(prefix + 6, 16);
    if (fs_mkdtemp(work_root(o), prefix, &g.base, &e) < 0) {
        set_error(&g, "infrastructure", e.msg);
        fail_all_tests(&g, "Assay could not create a work directory.");
        goto done;
    }
    chmod(g.base, 0711);   /* the run's uid may pass through to its own directory */
    g.staged = fs_join(g.base, "submission");
    if (!g.staged || mkdir(g.staged, 0700) < 0) {
        err_sys(&e, "cannot create a directory in %s", g.base);
        set_error(&g, "infrastructure", e.msg);
        fail_all_tests(&g, "Assay could not create a work directory.");
    } else if (stage(&g, path, &e) < 0) {
        fail_all_tests(&g, "the submission could not be read (see the error above).");
    } else if (!check_submission(&g)) {
        fail_all_tests(&g, "the submission is not complete (see the error above).");
    } else {
        grade_tests(&g);
    }
done:;
    json_t *r = compose_result(&g, started, t0);
    if (g.base && o->keep_workdirs) {
        if (o->launcher)   /* so that letting the slot go leaves them */
            o->launcher->keep_work = true;
        log_msg(LOG_INFO, NULL, "the work directories are kept in %s", g.base);
    }
    else if (g.base && fs_remove_tree(g.base, &e) < 0)
        log_msg(LOG_WARN, NULL, "%s (a submission and the tests' files stay there)", e.msg);
    free(g.base);
    free(g.staged);
    free(g.error_message);
    json_decref(g.warnings);
    json_decref(g.tests);
    return r;
}
