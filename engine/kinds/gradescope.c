/*
 * gradescope.c - the "gradescope" test kind: an unchanged Gradescope
 * autograder directory run against the submission.
 *
 *   {"kind": "gradescope", "autograder": "autograder/", "points": 10}
 *
 * Gradescope's contract: the autograder's files are in /autograder/source,
 * the student's in /autograder/submission, /autograder/run_autograder is
 * run and leaves /autograder/results/results.json (score, tests with
 * score/max_score/output/visibility).  This kind builds that tree in the
 * work directory (.assay/autograder/) and asks the launcher to show it
 * at /autograder (run_spec.binds), which only the namespace sandbox can
 * do; the rlimit launcher refuses with a clear error.  setup.sh is not
 * run here: it installs software system-wide, once per worker, with
 * `assay gradescope setup` (docs/ASSIGNMENTS.md); grading checks that
 * it was.  "points" is the autograder's total, as set on Gradescope.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/check.h"
#include "engine/gradescope_setup.h"
#include "engine/kind.h"

#define TREE ".assay/autograder"
#define RESULTS TREE "/results/results.json"
#define RESULTS_MAX_BYTES (4u << 20)
#define COMMAND "cd /autograder && exec /bin/sh -c ./run_autograder"
#define OUTPUT_MAX 4000

static const char *const gradescope_keys[] = {"autograder", NULL};

static void gradescope_validate(const char *dir, const json_t *t, const char *path,
                                struct problems *p)
{
    const char *ag = check_string(t, path, "autograder", true, p);
    if (!json_object_get(t, "points"))
        problems_add(p, path, "give \"points\": the autograder's total, as set on Gradescope");
    if (!ag)
        return;
    char where[300];
    snprintf(where, sizeof where, "%s.autograder", path);
    char *root = fs_join(dir, ag), *run = fs_join(root, "run_autograder");
    struct stat st;
    if (!fs_relpath_is_safe(ag) && strcmp(ag, "."))
        problems_add(p, where, "\"%s\" must be a folder inside the assignment directory", ag);
    else if (!fs_is_dir(root))
        problems_add(p, where, "\"%s\" is not a folder in %s", ag, dir);
    else if (lstat(run, &st) < 0 || !S_ISREG(st.st_mode))
        problems_add(p, where, "\"%s\" has no run_autograder file (Gradescope runs it to grade)", ag);
    free(run);
    free(root);
}

static void gradescope_instructor_files(const json_t *t, json_t *files)
{
    (void)t;       /* the autograder is copied into its own tree in grade() */
    (void)files;
}

/* ---- the /autograder tree ---- */

static json_t *submission_metadata(const struct test_run *run)
{
    char now[32], due[32];
    clock_iso8601(clock_wall(), now);
    if (run->asg->sum.has_due)
        clock_iso8601(run->asg->sum.due, due);
    return json_pack("{s:i, s:s, s:{s:s, s:o, s:f}, s:[{s:s, s:n, s:n}], s:[], s:s}",
                     "id", 0, "created_at", now, "assignment", "title", run->asg->sum.title,
                     "due_date", run->asg->sum.has_due ? json_string(due) : json_null(),
                     "total_points", run->test->points, "users", "name", "student", "email",
                     "id", "previous_submissions", "submission_method", "upload");
}

struct copy_sub {
    const char *workdir, *dest;
    struct err *e;
};

/* Copies a submission file (everything in the work directory but .assay/). */
static int copy_submission_file(const char *rel, off_t size, void *arg)
{
    (void)size;
    struct copy_sub *c = arg;
    if (!strncmp(rel, ".assay/", 7))
        return 0;
    char *src = fs_join(c->workdir, rel), *dst = fs_join(c->dest, rel);
    char *slash = dst ? strrchr(dst, '/') : NULL;
    if (slash)
        *slash = '\0';
    int rc = slash ? fs_mkdir_p(dst, 0755, c->e) : err_set(c->e, "out of memory");
    if (slash)
        *slash = '/';
    if (rc == 0)
        rc = fs_copy_file(src, dst, 0644, c->e);
    free(src);
    free(dst);
    return rc;
}

static int build_tree(struct test_run *run, char **tree, struct err *e)
{
    *tree = fs_join(run->workdir, TREE);
    char *source = fs_join(*tree, "source"), *sub = fs_join(*tree, "submission");
    char *results = fs_join(*tree, "results"), *meta = fs_join(*tree, "submission_metadata.json");
    char *ag = fs_join(run->asg->sum.dir, jsonutil_str(run->test->spec, "autograder", "."));
    char *src_run = fs_join(source, "run_autograder"), *dst_run = fs_join(*tree, "run_autograder");
    struct copy_sub c = {run->workdir, sub, e};
    json_t *m = submission_metadata(run);
    int rc = fs_mkdir_p(results, 0777, e);
    if (rc == 0 && fs_copy_tree(ag, source, e) < 0)
        rc = -1;
    if (rc == 0 && (rc = fs_mkdir_p(sub, 0777, e)) == 0)
        rc = fs_walk_files(run->workdir, copy_submission_file, &c, e);
    if (rc == 0)
        rc = fs_copy_file(src_run, dst_run, 0755, e);
    if (rc == 0)
        rc = jsonutil_write_scratch(meta, m, false, e);
    /* the run's uid writes results/, and autograders often write beside their files */
    const char *writable[] = {*tree, results, source, sub};
    for (size_t i = 0; rc == 0 && i < 4; i++)
        rc = run->launcher->adopt_dir(run->launcher, writable[i], e);
    json_decref(m);
    free(source), free(sub), free(results), free(meta), free(ag), free(src_run), free(dst_run);
    return rc;
}

/* ---- reading results.json ---- */

static const char *effective_visibility(const json_t *test, const char *dflt)
{
    const char *v = jsonutil_str(test, "visibility", dflt);
    /* Assay has no "publish" step: after_published is treated as hidden */
    return !strcmp(v, "after_published") ? "hidden" : v;
}

/* Adds autograder test T, called NAME, as a case; true if it passed. */
static bool add_gs_case(struct test_outcome *out, const json_t *t, const char *name,
                        const char *vis)
{
    const char *status = jsonutil_str(t, "status", NULL);
    double score = jsonutil_num(t, "score", 0), max = jsonutil_num(t, "max_score", 0);
    bool passed = status ? !strcmp(status, "passed") : score >= max;
    const char *output = jsonutil_str(t, "output", "");
    char *msg = text_first_bytes(output, strlen(output), OUTPUT_MAX);
    size_t before = json_array_size(out->cases);
    kind_add_case(out, name, passed, score, max, msg);
    json_t *c = json_array_size(out->cases) > before ? json_array_get(out->cases, before) : NULL;
    /* never another case's: a hidden one would be shown */
    if (c && json_object_set_new(c, "visibility", json_string(vis)) < 0) {
        json_array_remove(out->cases, before);   /* shown by default: better not at all */
        if (!out->infra_error)
            out->infra_error = strdup("out of memory listing the test's cases");
    }
    free(msg);
    return passed;
}

/* Gradescope's rule: a top-level "score" wins over the tests' sum. */
static void read_results(const json_t *r, struct test_run *run, struct test_outcome *out)
{
    const char *dflt = effective_visibility(r, "visible");
    double sum = 0;
    size_t i, hidden = 0, failed = 0;
    const json_t *t;
    json_array_foreach(json_object_get(r, "tests"), i, t) {
        const char *vis = effective_visibility(t, dflt);
        char fallback[32];
        snprintf(fallback, sizeof fallback, "test %zu", i + 1);
        const char *name = jsonutil_str(t, "name", fallback);
        bool ok = add_gs_case(out, t, name, vis);
        sum += jsonutil_num(t, "score", 0);
        failed += !ok;
        bool due_passed = run->asg->sum.has_due && clock_wall() >= run->asg->sum.due;
        if (strcmp(vis, "visible") && !(due_passed && !strcmp(vis, "after_due_date"))) {
            hidden++;
            continue;
        }
        buf_printf(&out->feedback, "%s %s: %g / %g\n", ok ? "✓" : "✗", name,
                   jsonutil_num(t, "score", 0), jsonutil_num(t, "max_score", 0));
        const char *o = jsonutil_str(t, "output", "");
        if (*o) {
            char *cut = text_first_bytes(o, strlen(o), OUTPUT_MAX);
            buf_printf(&out->feedback, "  %s\n", cut ? cut : "(output not shown: out of memory)");
            free(cut);
        }
    }
    if (hidden)
        buf_printf(&out->feedback, "(%zu hidden test%s not shown)\n", hidden, hidden == 1 ? "" : "s");
    const char *output = jsonutil_str(r, "output", "");
    if (*output) {
        char *cut = text_first_bytes(output, strlen(output), OUTPUT_MAX);
        buf_printf(&out->feedback, "%s\n", cut ? cut : "(output not shown: out of memory)");
        free(cut);
    }
    double score = json_is_number(json_object_get(r, "score")) ? jsonutil_num(r, "score", 0) : sum;
    out->score = isfinite(score) && score > 0 ? score : 0;
    out->max_score = run->test->points;
    out->verdict = failed == 0 && out->score >= out->max_score ? VERDICT_PASSED : VERDICT_FAILED;
}

static void explain_missing_results(struct test_run *run, struct run_result *res,
                                    struct test_outcome *out, const char *why)
{
    out->score = 0;
    if (kind_judge_limits(run, res, out))
        return;
    out->verdict = VERDICT_RUNTIME_ERROR;
    buf_printf(&out->feedback, "The autograder left no usable results/results.json (%s).\n", why);
    kind_describe_crash(res, &out->feedback);
}

static void gradescope_grade(struct test_run *run, struct test_outcome *out)
{
    struct err e;
    char *tree = NULL;
    const char *ag = jsonutil_str(run->test->spec, "autograder", ".");
    char *agdir = fs_join(run->asg->sum.dir, ag);
    if (gradescope_setup_check(agdir, &e) < 0 || build_tree(run, &tree, &e) < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "Assay could not prepare the autograder: %s\n", e.msg);
        free(agdir);
        free(tree);
        return;
    }
    struct run_bind bind = {tree, "/autograder", true};
    struct run_result res;
    if (kind_run_bound(run, COMMAND, -1, &bind, 1, &res, out) == 0) {
        struct buf b = BUF_INIT;
        json_t *r = NULL;
        if (fs_read_beneath(run->workdir_fd, RESULTS, RESULTS_MAX_BYTES, &b, &e) == 0)
            r = jsonutil_load_text(buf_str(&b), b.len, "results/results.json", &e);
        if (json_is_object(r))
            read_results(r, run, out);
        else
            explain_missing_results(run, &res, out, r ? "it is not a JSON object" : e.msg);
        json_decref(r);
        buf_free(&b);
    }
    run_result_free(&res);
    free(agdir);
    free(tree);
}

const struct test_kind kind_gradescope = {
    .name = "gradescope",
    .keys = gradescope_keys,
    .validate = gradescope_validate,
    .instructor_files = gradescope_instructor_files,
    .planned_points = NULL,
    .grade = gradescope_grade,
};
