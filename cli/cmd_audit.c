/*
 * cmd_audit.c - `assay audit ASSIGNMENT_DIR REFERENCE`: how strong an
 * assignment's tests are, measured by the wrong solutions they catch.
 *
 * engine/python/mutate.py (run with the system's python3; it only parses
 * the reference, never runs it) writes mutants of the instructor's
 * correct submission REFERENCE, each one small change: an operator, a
 * constant, a comparison or boundary, a statement removed, two arguments
 * swapped.  Each mutant is graded like a submission, in the sandbox, by
 * --jobs grader processes at once (each with a launcher, and so a sandbox
 * slot, of its own; they take the mutants' numbers from one pipe).  A
 * mutant is killed when it scores less than REFERENCE does; the mutation
 * score is the share killed.  Each survivor is printed as a diff with the
 * tests that should have caught it (those that name its function, else
 * its file).  --suggest proposes a `property` test per function with
 * survivors (arguments from its annotations) and prints it only when it
 * kills some of them, checked by grading them against it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/run.h"
#include "engine/assets.h"
#include "engine/assignment.h"
#include "engine/engine.h"
#include "engine/kind.h"
#include "sandbox/launcher.h"

#define PYTHON "/usr/bin/python3"
#define MUTANTS_MAX_BYTES (64u << 20)

static const char usage[] =
    "Usage: assay audit ASSIGNMENT_DIR REFERENCE [OPTIONS]\n"
    "\n"
    "Measures how many wrong solutions the assignment's tests catch: grades mutants\n"
    "of REFERENCE (a correct submission: a folder or one .py file), each with one\n"
    "small change (an operator, a constant, a comparison or boundary, a statement\n"
    "removed, two arguments swapped), and prints the mutation score and every\n"
    "mutant that scored as much as REFERENCE, as a diff with the tests that should\n"
    "have caught it.\n"
    "\n"
    "Options:\n"
    "  --jobs N               grade N mutants at once (default: the processors)\n"
    "  --max-mutants N        at most N mutants, spread over the code (default 500)\n"
    "  --suggest              propose property tests that kill surviving mutants\n"
    "                         (each one checked against them)\n"
    "  --sandbox namespace|rlimit, --installation NAME, --uids FIRST-LAST\n"
    "                         as for `assay grade`\n"
    "  -h, --help             show this help\n"
    "\n"
    "Exit status: 0 when the audit ran; 1 if it could not (REFERENCE not scoring\n"
    "full marks, say); 2 for a usage error; 3 when assignment.json is invalid.\n";

struct audit_opts {
    long jobs, max_mutants;
    bool suggest;
    const char *sandbox, *installation, *uids;
};

struct audit {
    struct audit_opts o;
    struct assignment a;
    const char *reference;
    char *scratch;              /* private: mutate.py, the mutants, their results */
    json_t *mutants, *functions;
    double ref_score, ref_max;
    struct sandbox_site site;
    const struct launcher_type *type;
};

static int parse_opts(int argc, char **argv, struct audit_opts *o)
{
    static const struct option longopts[] = {
        {"jobs", required_argument, NULL, 'j'}, {"max-mutants", required_argument, NULL, 'm'},
        {"suggest", no_argument, NULL, 'S'}, {"sandbox", required_argument, NULL, 's'},
        {"installation", required_argument, NULL, 'I'}, {"uids", required_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j':
        case 'm': {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 10000) {
                fprintf(stderr, "assay audit: --%s must be a number from 1 to 10000\n",
                        c == 'j' ? "jobs" : "max-mutants");
                return -1;
            }
            *(c == 'j' ? &o->jobs : &o->max_mutants) = v;
            break;
        }
        case 'S': o->suggest = true; break;
        case 's': o->sandbox = optarg; break;
        case 'I': o->installation = optarg; break;
        case 'U': o->uids = optarg; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

static struct launcher *make_launcher(const struct audit *au, struct err *e)
{
    return au->type->create(&au->site, e);
}

/* Grades SUBMISSION against A with a launcher of its own; NULL with E set. */
static json_t *grade_one(const struct audit *au, const struct assignment *a,
                         const char *submission, struct err *e)
{
    struct launcher *l = make_launcher(au, e);
    if (!l)
        return NULL;
    struct engine_options eo = {.launcher = l};
    json_t *r = engine_grade(a, submission, &eo);
    l->destroy(l);
    if (!r)
        err_set(e, "out of memory grading %s", submission);
    return r;
}

/* ---- mutants ---- */

static int make_mutants(struct audit *au, struct err *e)
{
    char *script = fs_join(au->scratch, "mutate.py"), *out = fs_join(au->scratch, "mutants");
    char *list = fs_join(au->scratch, "mutants/mutants.json"), max[32];
    snprintf(max, sizeof max, "%ld", au->o.max_mutants);
    int rc = script && out && list ? 0 : err_set(e, "out of memory");
    if (rc == 0)
        rc = fs_write_file(script, asset_mutate, strlen(asset_mutate), false, e);
    if (rc == 0 && mkdir(out, 0755) < 0)
        rc = err_sys(e, "cannot create %s", out);
    struct buf ignored = BUF_INIT;   /* mutate.py prints nothing on success; errors go to stderr */
    char *argv[] = {PYTHON, "-I", script, (char *)au->reference, out, max, NULL};
    int status = rc == 0 ? run_capture(argv, 4096, &ignored, e) : -1;
    buf_free(&ignored);
    if (rc == 0 && status != 0)
        rc = status < 0 ? -1 : err_set(e, "could not make mutants of %s (see above)", au->reference);
    json_t *doc = rc == 0 ? jsonutil_load_file(list, MUTANTS_MAX_BYTES, e) : NULL;
    if (rc == 0 && !doc)
        rc = -1;
    if (doc) {
        au->mutants = json_incref(json_object_get(doc, "mutants"));
        au->functions = json_incref(json_object_get(doc, "functions"));
        json_decref(doc);
        if (!json_is_array(au->mutants) || !json_is_array(au->functions))
            rc = err_set(e, "%s is not what mutate.py writes", list);
    }
    free(script);
    free(out);
    free(list);
    return rc;
}

/* ---- grading mutants in parallel ---- */

static char *result_path(const struct audit *au, long id)
{
    char name[64], *p = NULL;
    snprintf(name, sizeof name, "results/%04ld.json", id);
    p = fs_join(au->scratch, name);
    return p;
}

/* One grader process: takes mutant numbers from FD until it is empty.
 * What it records per mutant: score, max_score, the error's category. */
static int grader_child(struct audit *au, int fd)
{
    struct err e;
    struct launcher *l = make_launcher(au, &e);
    if (!l) {
        cli_printf(stderr, "assay audit: %s\n", e.msg);
        return 1;
    }
    int32_t id;
    while (read(fd, &id, sizeof id) == (ssize_t)sizeof id) {
        json_t *m = json_array_get(au->mutants, (size_t)id);
        struct engine_options eo = {.launcher = l};
        json_t *r = engine_grade(&au->a, jsonutil_str(m, "dir", ""), &eo);
        const json_t *error = json_object_get(json_object_get(r, "assay"), "error");
        json_t *small = r ? json_pack("{s:O, s:O, s:s}", "score", json_object_get(r, "score"),
                                      "max_score", json_object_get(r, "max_score"), "error",
                                      jsonutil_str(error, "category", "")) : NULL;
        char *path = result_path(au, id);
        /* a result not written leaves the mutant "not judged", which the report says */
        if (!small || !path || jsonutil_save_file(path, small, &e) < 0)
            cli_printf(stderr, "assay audit: mutant %d: %s\n", (int)id,
                       small && path ? e.msg : "out of memory");
        free(path);
        json_decref(small);
        json_decref(r);
    }
    l->destroy(l);
    return 0;
}

static int grade_mutants(struct audit *au, struct err *e)
{
    char *dir = fs_join(au->scratch, "results");
    if (!dir || mkdir(dir, 0700) < 0) {
        free(dir);
        return err_sys(e, "cannot create the results folder");
    }
    free(dir);
    int p[2];
    if (pipe(p) < 0)
        return err_sys(e, "pipe");
    size_t n = json_array_size(au->mutants);
    for (int32_t i = 0; i < (int32_t)n; i++)   /* 4 bytes each: 500 mutants fit in a pipe */
        if (write(p[1], &i, sizeof i) != (ssize_t)sizeof i) {
            close(p[0]);
            close(p[1]);
            return err_sys(e, "cannot hand out the mutants");
        }
    close(p[1]);
    fflush(NULL);
    long started = 0;
    for (long k = 0; k < au->o.jobs && (size_t)k < n; k++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(grader_child(au, p[0]));
        started += pid > 0;
    }
    close(p[0]);
    int status;
    while (started > 0 && wait(&status) > 0)
        started--;
    return 0;
}

/* ---- the report ---- */

/* Whether WORD occurs in TEXT as a whole identifier. */
static bool has_word(const char *text, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(text, word); n && p; p = strstr(p + 1, word)) {
        bool before = p == text || !(isalnum((unsigned char)p[-1]) || p[-1] == '_');
        bool after = !(isalnum((unsigned char)p[n]) || p[n] == '_');
        if (before && after)
            return true;
    }
    return false;
}

/* The test's object and the instructor files in its work directory, as
 * one text: what a test "names". */
static char *test_text(const struct assignment *a, const struct test_def *t)
{
    struct buf b = BUF_INIT;
    char *spec = json_dumps(t->spec, JSON_COMPACT);
    buf_puts(&b, spec ? spec : "");
    free(spec);
    json_t *files = json_array();
    json_array_extend(files, json_object_get(t->spec, "support_files"));
    if (files)
        t->kind->instructor_files(t->spec, files);
    size_t i;
    const json_t *f;
    json_array_foreach(files, i, f) {
        char *path = fs_join(a->sum.dir, json_string_value(f));
        struct err ignored;   /* an unreadable file names nothing */
        if (path)
            fs_read_file(path, 4u << 20, &b, &ignored);
        buf_puts(&b, "\n");
        free(path);
    }
    json_decref(files);
    return buf_steal(&b);
}

/* "the tests that name FUNCTION: "a", "b"", else those naming its file. */
static void print_catchers(const struct audit *au, const json_t *m)
{
    const char *function = jsonutil_str(m, "function", NULL);
    const char *file = jsonutil_str(m, "file", "?");
    char module[256];
    snprintf(module, sizeof module, "%s", file);
    char *dot = strrchr(module, '.');
    if (dot)
        *dot = '\0';
    for (int pass = 0; pass < 2; pass++) {
        const char *word = pass == 0 ? function : (strrchr(module, '/') ? strrchr(module, '/') + 1 : module);
        if (!word)
            continue;
        struct buf names = BUF_INIT;
        for (size_t i = 0; i < au->a.sum.n_tests; i++) {
            char *text = test_text(&au->a, &au->a.tests[i]);
            if (text && has_word(text, word))
                buf_printf(&names, "%s\"%s\"", names.len ? ", " : "", au->a.tests[i].name);
            free(text);
        }
        if (names.len) {
            cli_printf(stdout, "   Should have been caught by the tests that use %s: %s\n",
                       pass == 0 ? function : file, buf_str(&names));
            buf_free(&names);
            return;
        }
        buf_free(&names);
    }
    cli_printf(stdout, "   No test uses %s: add one (see --suggest).\n", function ? function : file);
}

static void print_diff(const char *diff)
{
    for (const char *p = diff; *p;) {
        size_t len = strcspn(p, "\n");
        cli_printf(stdout, "   %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
}

/* Reads each mutant's result: "killed", "survived" or "not judged" into
 * its "fate". */
static void judge_mutants(struct audit *au, long *killed, long *survived, long *unjudged)
{
    size_t i;
    json_t *m;
    json_array_foreach(au->mutants, i, m) {
        char *path = result_path(au, (long)i);
        struct err e;
        json_t *r = path ? jsonutil_load_file(path, 1 << 20, &e) : NULL;
        const char *category = jsonutil_str(r, "error", "");
        const char *fate;
        if (!r || !strcmp(category, "infrastructure") || !strcmp(category, "assignment"))
            fate = "not judged";
        else if (jsonutil_num(r, "score", 0) < au->ref_score - 1e-9)
            fate = "killed";
        else
            fate = "survived";
        *killed += !strcmp(fate, "killed");
        *survived += !strcmp(fate, "survived");
        *unjudged += !strcmp(fate, "not judged");
        json_object_set_new(m, "fate", json_string(fate));   /* lost: reported as not judged */
        json_decref(r);
        free(path);
    }
}

static void print_report(struct audit *au, double seconds)
{
    long killed = 0, survived = 0, unjudged = 0;
    judge_mutants(au, &killed, &survived, &unjudged);
    long judged = killed + survived;
    size_t n = json_array_size(au->mutants);
    cli_printf(stdout, "Mutation score: %ld of %ld mutants killed (%.0f%%)", killed, judged,
               judged ? 100.0 * (double)killed / (double)judged : 0.0);
    if (unjudged)
        printf(", %ld not judged (their grading failed for a reason that is not their code: "
               "an overloaded machine, say)", unjudged);
    printf("\nGraded %zu mutants of %s in %.1f s over %ld slot%s (%.2f mutants per second).\n",
           n, au->reference, seconds, au->o.jobs, au->o.jobs == 1 ? "" : "s",
           seconds > 0 ? (double)n / seconds : 0.0);
    if (survived == 0)
        return;
    printf("\nSurviving mutants (the tests give them full marks):\n");
    size_t i;
    json_t *m;
    long k = 0;
    json_array_foreach(au->mutants, i, m) {
        if (strcmp(jsonutil_str(m, "fate", ""), "survived"))
            continue;
        const char *function = jsonutil_str(m, "function", NULL);
        cli_printf(stdout, "\n%ld. %s:%g%s%s: %s (%s)\n", ++k, jsonutil_str(m, "file", "?"),
                   jsonutil_num(m, "line", 0), function ? " in " : "", function ? function : "",
                   jsonutil_str(m, "description", ""), jsonutil_str(m, "operator", ""));
        print_diff(jsonutil_str(m, "diff", ""));
        print_catchers(au, m);
    }
}

/* ---- --suggest ---- */

static const json_t *function_info(const struct audit *au, const char *file, const char *name)
{
    size_t i;
    const json_t *f;
    json_array_foreach(au->functions, i, f)
        if (!strcmp(jsonutil_str(f, "file", ""), file) && !strcmp(jsonutil_str(f, "name", ""), name))
            return f;
    return NULL;
}

/* What an argument without an annotation is tried as, in turn. */
static const char *const guesses[] = {
    "{\"type\": \"int\", \"min\": -100, \"max\": 100}",
    "{\"type\": \"list\", \"of\": {\"type\": \"int\", \"min\": -100, \"max\": 100}, "
    "\"min_size\": 1, \"max_size\": 10}",
    "{\"type\": \"str\", \"min_size\": 1}",
    NULL,
};

/* The property test proposed for function NAME of FILE, its arguments
 * from the annotations (INFO), the others as GUESS; its reference is
 * REFERENCE_REL in the assignment it is tried in. */
static json_t *proposed_test(const json_t *info, const char *file, const char *name,
                             const char *guess, const char *reference_rel)
{
    json_t *args = json_array();
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(info, "arguments"), i, a)
        json_array_append_new(args, json_is_object(a) ? json_deep_copy(a)
                                    : json_loads(guess, 0, NULL));
    char test_name[300];
    snprintf(test_name, sizeof test_name, "%s matches the reference", name);
    return json_pack("{s:s, s:s, s:i, s:s, s:s, s:s, s:o}", "name", test_name, "kind",
                     "property", "points", 1, "module", file, "function", name, "reference",
                     reference_rel, "arguments", args);
}

/* A one-test assignment in DIR holding TEST, with the reference's FILE
 * copied in as reference/FILE and the audited assignment's limits. */
static int write_trial(const struct audit *au, const char *dir, const json_t *test,
                       const char *file, struct err *e)
{
    char *src = fs_is_dir(au->reference) ? fs_join(au->reference, file) : strdup(au->reference);
    char *rel = NULL, *dst = NULL, *doc_path = fs_join(dir, "assignment.json");
    int rc = src && doc_path && asprintf(&rel, "reference/%s", file) >= 0 &&
             (dst = fs_join(dir, rel)) ? 0 : err_set(e, "out of memory");
    char *slash = dst ? strrchr(dst, '/') : NULL;
    if (rc == 0) {
        *slash = '\0';
        rc = fs_mkdir_p(dst, 0755, e);
        *slash = '/';
    }
    if (rc == 0)
        rc = fs_copy_file(src, dst, 0644, e);
    const struct run_limits *l = &au->a.tests[0].limits;
    json_t *doc = json_pack("{s:i, s:s, s:{s:f, s:f, s:I}, s:[O]}", "assay", 1, "title", "trial",
                            "limits", "wall_s", l->wall_s, "cpu_s", l->cpu_s, "memory_mb",
                            (json_int_t)l->memory_mb, "tests", test);
    if (rc == 0)
        rc = doc ? jsonutil_save_file(doc_path, doc, e) : err_set(e, "out of memory");
    chmod(dir, 0755);   /* the runs' uid reads nothing of it, but passes */
    json_decref(doc);
    free(src);
    free(rel);
    free(dst);
    free(doc_path);
    return rc;
}

/* How many of FUNCTION's survivors TEST kills (graded in an assignment of
 * its own in DIR); -1 if the reference itself does not pass it. */
static long try_suggestion(const struct audit *au, const char *dir, const json_t *test,
                           const char *file, const char *function, struct err *e)
{
    struct assignment trial;
    struct problems p = {0};
    if (write_trial(au, dir, test, file, e) < 0)
        return -1;
    if (assignment_load(dir, &trial, &p) < 0) {
        err_set(e, "%s", p.count ? p.items[0] : "invalid");
        problems_free(&p);
        assignment_free(&trial);
        return -1;
    }
    json_t *r = grade_one(au, &trial, au->reference, e);
    long kills = r && jsonutil_num(r, "score", 0) == jsonutil_num(r, "max_score", -1) ? 0 : -1;
    json_decref(r);
    size_t i;
    const json_t *m;
    json_array_foreach(au->mutants, i, m) {
        if (kills < 0 || strcmp(jsonutil_str(m, "fate", ""), "survived") ||
            strcmp(jsonutil_str(m, "file", ""), file) ||
            strcmp(jsonutil_str(m, "function", ""), function))
            continue;
        json_t *mr = grade_one(au, &trial, jsonutil_str(m, "dir", ""), e);
        kills += mr && jsonutil_num(mr, "score", 0) < jsonutil_num(mr, "max_score", 0);
        json_decref(mr);
    }
    assignment_free(&trial);
    return kills;
}

/* The first proposal for FUNCTION of FILE that the reference passes and
 * that kills some of its survivors (*KILLS of them), or NULL. */
static json_t *find_suggestion(const struct audit *au, const char *file, const char *function,
                               size_t n, long *kills)
{
    const json_t *info = function_info(au, file, function);
    bool annotated = json_is_true(json_object_get(info, "guessed"));
    char *rel = NULL;
    if (asprintf(&rel, "reference/%s", file) < 0)
        return NULL;   /* out of memory: no suggestion */
    json_t *found = NULL;
    for (int g = 0; !found && guesses[g] && (g == 0 || !annotated); g++) {
        char dir_name[64];
        snprintf(dir_name, sizeof dir_name, "suggest-%zu-%d", n, g);
        char *dir = fs_join(au->scratch, dir_name);
        json_t *test = dir ? proposed_test(info, file, function, guesses[g], rel) : NULL;
        struct err e;
        *kills = test ? try_suggestion(au, dir, test, file, function, &e) : -1;
        if (*kills > 0)
            found = json_incref(test);
        json_decref(test);
        free(dir);
    }
    free(rel);
    return found;
}

static void suggest(struct audit *au)
{
    json_t *done = json_object();
    size_t i;
    const json_t *m;
    printf("\nSuggested property tests:\n");
    json_array_foreach(au->mutants, i, m) {
        const char *file = jsonutil_str(m, "file", ""), *function = jsonutil_str(m, "function", NULL);
        char key[600];
        snprintf(key, sizeof key, "%s:%s", file, function ? function : "");
        if (!function || strcmp(jsonutil_str(m, "fate", ""), "survived") || json_object_get(done, key))
            continue;
        json_object_set_new(done, key, json_true());   /* lost: the function is tried again */
        long kills = 0;
        json_t *test = find_suggestion(au, file, function, i, &kills);
        char *text = test ? json_dumps(test, JSON_COMPACT) : NULL;
        if (text)
            cli_printf(stdout, "\n%s: kills %ld surviving mutant%s. Copy the reference's %s to "
                       "%s in the assignment folder and add to \"tests\" (check the "
                       "arguments' ranges):\n  %s\n", function, kills, kills == 1 ? "" : "s",
                       file, jsonutil_str(test, "reference", "?"), text);
        else
            cli_printf(stdout, "\n%s: no property test with simple arguments kills its "
                       "surviving mutants (describe its arguments yourself, or they may be "
                       "equivalent to the reference)\n", function);
        free(text);
        json_decref(test);
    }
    if (json_object_size(done) == 0)
        printf("  none: no mutant survived inside a function.\n");
    json_decref(done);
}

/* ---- the command ---- */

static int setup(struct audit *au, struct err *e)
{
    struct installation in;
    if (installation_set(&in, au->o.installation, au->o.uids, e) < 0)
        return -1;
    sandbox_site_of(&au->site, &in);
    au->type = launcher_lookup(au->o.sandbox, e);
    if (!au->type)
        return -1;
    const char *tmp = getenv("TMPDIR");
    if (fs_mkdtemp(tmp && *tmp ? tmp : "/tmp", "assay-audit-", &au->scratch, e) < 0)
        return -1;
    chmod(au->scratch, 0755);   /* the runs' uids read the mutants below it */
    return 0;
}

/* Grades REFERENCE, which must get full marks with no error. */
static int baseline(struct audit *au, struct err *e)
{
    json_t *r = grade_one(au, &au->a, au->reference, e);
    if (!r)
        return -1;
    au->ref_score = jsonutil_num(r, "score", 0);
    au->ref_max = jsonutil_num(r, "max_score", 0);
    const json_t *error = json_object_get(json_object_get(r, "assay"), "error");
    int rc = 0;
    if (json_is_object(error))
        rc = err_set(e, "%s could not be graded (%s): %s", au->reference,
                     jsonutil_str(error, "category", "?"), jsonutil_str(error, "message", ""));
    else if (au->ref_score < au->ref_max || au->ref_max <= 0)
        rc = err_set(e, "%s scores %g / %g: mutants can only be judged against a reference "
                     "that earns every point (run `assay grade %s %s` to see why)",
                     au->reference, au->ref_score, au->ref_max, au->a.sum.dir, au->reference);
    json_decref(r);
    return rc;
}

static int load(const char *dir, struct assignment *a)
{
    struct problems p = {0};
    if (assignment_load(dir, a, &p) == 0)
        return 0;
    cli_printf(stderr, "assay audit: %s/assignment.json is invalid (%zu problem%s):\n", dir,
               p.count, p.count == 1 ? "" : "s");
    for (size_t i = 0; i < p.count; i++)
        cli_printf(stderr, "  %s\n", p.items[i]);
    problems_free(&p);
    return -1;
}

static int audit_run(struct audit *au)
{
    struct err e;
    if (setup(au, &e) < 0 || baseline(au, &e) < 0 || make_mutants(au, &e) < 0) {
        cli_printf(stderr, "assay audit: %s\n", e.msg);
        return EXIT_FAILED;
    }
    if (json_array_size(au->mutants) == 0) {
        cli_printf(stdout, "No mutants: %s has no code to change.\n", au->reference);
        return EXIT_OK;
    }
    double t0 = clock_mono();
    if (grade_mutants(au, &e) < 0) {
        cli_printf(stderr, "assay audit: %s\n", e.msg);
        return EXIT_FAILED;
    }
    print_report(au, clock_mono() - t0);
    if (au->o.suggest)
        suggest(au);
    return EXIT_OK;
}

int cmd_audit(int argc, char **argv)
{
    struct audit au = {.o = {.jobs = sysconf(_SC_NPROCESSORS_ONLN), .max_mutants = 500}};
    if (au.o.jobs < 1)
        au.o.jobs = 1;
    if (parse_opts(argc, argv, &au.o) < 0 || argc - optind != 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    au.reference = argv[optind + 1];
    if (!fs_exists(au.reference)) {
        cli_printf(stderr, "assay audit: %s: no such file or directory\n", au.reference);
        return EXIT_USAGE;
    }
    if (load(argv[optind], &au.a) < 0) {
        assignment_free(&au.a);
        return EXIT_INVALID_ASSIGNMENT;
    }
    int rc = audit_run(&au);
    struct err e;
    if (au.scratch && fs_remove_tree(au.scratch, &e) < 0)
        cli_printf(stderr, "assay audit: %s\n", e.msg);
    free(au.scratch);
    json_decref(au.mutants);
    json_decref(au.functions);
    assignment_free(&au.a);
    return rc;
}
