/*
 * io.c - the "io" test kind: run a command, feed it standard input,
 * compare its standard output with the expected.
 *
 * Input comes from an inline string or an instructor file, copied into
 * a memfd by the engine, so the run never sees where it came from.
 * The expected output stays outside the run; comparison and the diff
 * shown to the student happen here, after the run has ended.
 *
 * Programming-contest "file I/O" tasks read a file and write one: with
 * "input_file" the instructor's file is put in the work directory under
 * "input_name" (its own name by default) before the run, and with
 * "output_file" the file the program wrote there is compared with
 * "expected_output" / "expected_output_file" instead of its standard
 * output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/check.h"
#include "engine/compare.h"
#include "engine/diff.h"
#include "engine/kind.h"

#define EXPECTED_MAX_BYTES (64u << 20)
#define DIFF_MAX_LINES 30

static const char *const io_keys[] = {"command", "stdin", "stdin_file", "expected_stdout",
                                      "expected_stdout_file", "compare", "tolerance",
                                      "exit_code", "input_file", "input_name", "output_file",
                                      "expected_output", "expected_output_file", NULL};
#define OUTPUT_FILE_MAX_BYTES (64u << 20)

/* A plain file name in the work directory (no folder, not hidden). */
static bool plain_name(const char *name)
{
    return *name && *name != '.' && !strchr(name, '/') && strlen(name) < 200;
}

/* The file I/O keys: an input file put in the work directory, an output
 * file compared instead of standard output. */
static void validate_files(const char *dir, const json_t *t, const char *path,
                           struct problems *p)
{
    char where[300];
    const char *in = check_string(t, path, "input_file", false, p);
    const char *as = check_string(t, path, "input_name", false, p);
    const char *out = check_string(t, path, "output_file", false, p);
    snprintf(where, sizeof where, "%s.input_file", path);
    if (in)
        check_instructor_file(dir, in, where, p);
    if (as && !in)
        problems_add(p, path, "\"input_name\" names the copy of \"input_file\", which is missing");
    const char *names[] = {"input_name", "output_file"}, *values[] = {as, out};
    for (int i = 0; i < 2; i++) {
        snprintf(where, sizeof where, "%s.%s", path, names[i]);
        if (values[i] && !plain_name(values[i]))
            problems_add(p, where, "\"%s\" must be a plain file name in the work directory, "
                         "such as \"problem.%s\"", values[i], i ? "out" : "in");
    }
    check_string(t, path, "expected_output", false, p);
    const char *exp = check_string(t, path, "expected_output_file", false, p);
    snprintf(where, sizeof where, "%s.expected_output_file", path);
    if (exp)
        check_instructor_file(dir, exp, where, p);
    if (out) {
        check_one_of(t, path, "expected_output", "expected_output_file", true, p);
        if (json_object_get(t, "expected_stdout") || json_object_get(t, "expected_stdout_file"))
            problems_add(p, path, "with \"output_file\" the file is compared, not standard "
                         "output: give \"expected_output\" or \"expected_output_file\" "
                         "instead of \"expected_stdout\"");
    } else if (json_object_get(t, "expected_output") || exp) {
        problems_add(p, path, "\"expected_output\" is what \"output_file\" should hold; "
                     "name the file the program writes in \"output_file\"");
    }
}
static const char *const compare_names[] = {"exact", "trimmed", "contains", "regex",
                                            "numeric", "stripped", NULL};

static void io_validate(const char *dir, const json_t *t, const char *path, struct problems *p)
{
    check_string(t, path, "command", true, p);
    check_string(t, path, "stdin", false, p);
    check_string(t, path, "expected_stdout", false, p);
    check_one_of(t, path, "stdin", "stdin_file", false, p);
    bool to_file = json_object_get(t, "output_file") != NULL;
    if (!to_file)
        check_one_of(t, path, "expected_stdout", "expected_stdout_file", true, p);
    validate_files(dir, t, path, p);
    char where[300];
    const char *files[] = {"stdin_file", "expected_stdout_file"};
    for (int i = 0; i < 2; i++) {
        const char *f = check_string(t, path, files[i], false, p);
        snprintf(where, sizeof where, "%s.%s", path, files[i]);
        if (f)
            check_instructor_file(dir, f, where, p);
    }
    int mode = check_enum(t, path, "compare", compare_names, p);
    check_number(t, path, "tolerance", 0, 0, 1e300, p);
    if (json_object_get(t, "tolerance") && mode != CMP_NUMERIC)
        problems_add(p, path, "\"tolerance\" applies only to compare \"numeric\"");
    const char *expected = json_string_value(json_object_get(t, to_file ? "expected_output"
                                                                         : "expected_stdout"));
    char why[256];
    if (mode == CMP_REGEX && expected && compare_regex_check(expected, why, sizeof why) < 0) {
        snprintf(where, sizeof where, "%s.%s", path, to_file ? "expected_output" : "expected_stdout");
        problems_add(p, where, "not a valid regular expression: %s", why);
    }
    long long code;
    if (check_integer(t, path, "exit_code", &code, p) && (code < 0 || code > 255)) {
        snprintf(where, sizeof where, "%s.exit_code", path);
        problems_add(p, where, "must be between 0 and 255");
    }
}

static void io_instructor_files(const json_t *t, json_t *files)
{
    (void)t;
    (void)files;   /* stdin and expected output never enter the work dir */
}

/* Opens the test's standard input: a memfd holding the inline text or a
 * copy of the instructor's file, or -1 for none. */
static int open_stdin(const struct test_run *run, struct err *e)
{
    const json_t *t = run->test->spec;
    const char *text = json_string_value(json_object_get(t, "stdin"));
    const char *file = json_string_value(json_object_get(t, "stdin_file"));
    if (text)
        return kind_stdin_text(text, strlen(text), e);
    if (file) {
        char *path = fs_join(run->asg->sum.dir, file);
        int fd = path ? kind_stdin_file(path, e) : err_set(e, "out of memory");
        free(path);
        return fd;
    }
    return -1;
}

static int load_expected(const struct test_run *run, struct buf *out, struct err *e)
{
    const json_t *t = run->test->spec;
    bool to_file = json_object_get(t, "output_file") != NULL;
    const char *text = json_string_value(json_object_get(t, to_file ? "expected_output"
                                                                    : "expected_stdout"));
    if (text)
        return buf_puts(out, text);
    char *path = fs_join(run->asg->sum.dir, json_string_value(json_object_get(
        t, to_file ? "expected_output_file" : "expected_stdout_file")));
    int rc = fs_read_file(path, EXPECTED_MAX_BYTES, out, e);
    free(path);
    return rc;
}

/* Puts the instructor's "input_file" into the work directory as
 * "input_name" (a submission's file of that name is replaced: staged
 * submissions hold only regular files, never links). */
static int place_input(const struct test_run *run, struct err *e)
{
    const json_t *t = run->test->spec;
    const char *in = json_string_value(json_object_get(t, "input_file"));
    if (!in)
        return 0;
    const char *base = strrchr(in, '/') ? strrchr(in, '/') + 1 : in;
    const char *as = jsonutil_str(t, "input_name", base);
    char *src = fs_join(run->asg->sum.dir, in), *dst = fs_join(run->workdir, as);
    int rc = src && dst ? 0 : err_set(e, "out of memory");
    if (rc == 0 && unlinkat(run->workdir_fd, as, 0) < 0 && errno != ENOENT)
        rc = err_sys(e, "cannot replace %s", dst);
    if (rc == 0)
        rc = fs_copy_file(src, dst, 0644, e);
    free(src);
    free(dst);
    return rc;
}

/* The file the program was to write ("output_file"), into OUT; false
 * with the feedback saying so when it did not. */
static bool read_output_file(const struct test_run *run, struct buf *out,
                             struct test_outcome *outcome)
{
    const char *name = jsonutil_str(run->test->spec, "output_file", "");
    struct err e;
    if (fs_read_beneath(run->workdir_fd, name, OUTPUT_FILE_MAX_BYTES, out, &e) == 0)
        return true;
    outcome->verdict = VERDICT_FAILED;
    buf_printf(&outcome->feedback, "The program did not write the file %s, where its answer "
               "should go (%s).\n", name, e.msg);
    return false;
}

static void judge_output(const struct test_run *run, const struct run_result *res,
                         const struct buf *expected, struct test_outcome *out)
{
    const json_t *t = run->test->spec;
    struct buf written = BUF_INIT;
    const struct buf *actual = &res->out;
    if (json_object_get(t, "output_file")) {
        if (!read_output_file(run, &written, out)) {
            buf_free(&written);
            return;
        }
        actual = &written;
    }
    enum compare_mode mode = CMP_TRIMMED;
    compare_mode_parse(jsonutil_str(t, "compare", "trimmed"), &mode);
    double tolerance = jsonutil_num(t, "tolerance", 1e-6);
    char *why = NULL;
    int passed = compare_output(mode, buf_str(expected), expected->len, buf_str(actual),
                                actual->len, tolerance, &why);
    if (passed > 0) {
        out->verdict = VERDICT_PASSED;
        buf_free(&written);
        return;
    }
    if (passed < 0) {   /* no verdict: Assay's failure, not the student's */
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup("out of memory comparing the output");
        buf_puts(&out->feedback, "Assay could not compare the output: out of memory.\n");
        buf_free(&written);
        return;
    }
    out->verdict = VERDICT_FAILED;
    if (actual == &written)
        buf_printf(&out->feedback, "In the file %s:\n", jsonutil_str(t, "output_file", ""));
    if (why) {
        buf_printf(&out->feedback, "The output is wrong: %s.\n", why);
    } else if (mode == CMP_CONTAINS || mode == CMP_REGEX) {
        char *text = text_first_bytes(buf_str(expected), expected->len, 500);
        buf_printf(&out->feedback, "The output should %s:\n%s\n",
                   mode == CMP_CONTAINS ? "contain" : "match the pattern",
                   text ? text : "(not shown: out of memory)");
        free(text);
    } else {
        char *d = diff_lines(buf_str(expected), expected->len, buf_str(actual),
                             actual->len, DIFF_MAX_LINES);
        buf_printf(&out->feedback, "The output is wrong.\n%s",
                   d ? d : "(The differences cannot be shown: out of memory.)\n");
        free(d);
    }
    free(why);
    buf_free(&written);
}

static void io_grade(struct test_run *run, struct test_outcome *out)
{
    const json_t *t = run->test->spec;
    struct err e;
    struct buf expected = BUF_INIT;
    int in = open_stdin(run, &e);
    if ((in < 0 && (json_object_get(t, "stdin") || json_object_get(t, "stdin_file"))) ||
        load_expected(run, &expected, &e) < 0 || place_input(run, &e) < 0) {
        out->verdict = VERDICT_SETUP_ERROR;
        out->infra_error = strdup(e.msg);
        buf_printf(&out->feedback, "The test could not be prepared: %s\n", e.msg);
        goto done;
    }
    struct run_result res;
    if (kind_run_command(run, jsonutil_str(t, "command", ""), in, &res, out) < 0)
        goto done;
    json_int_t want = json_integer_value(json_object_get(t, "exit_code"));
    bool check_code = json_object_get(t, "exit_code") != NULL;
    if (kind_judge_limits(run, &res, out)) {
    } else if (!res.exited || (!check_code && res.exit_code != 0)) {
        out->verdict = VERDICT_RUNTIME_ERROR;
        kind_describe_crash(&res, &out->feedback);
    } else if (check_code && res.exit_code != want) {
        out->verdict = VERDICT_FAILED;
        buf_printf(&out->feedback, "The program exited with code %d; expected %d.\n",
                   res.exit_code, (int)want);
    } else {
        judge_output(run, &res, &expected, out);
    }
    out->score = out->verdict == VERDICT_PASSED ? run->test->points : 0;
    run_result_free(&res);
done:
    if (in >= 0)
        close(in);
    buf_free(&expected);
}

const struct test_kind kind_io = {
    .name = "io",
    .keys = io_keys,
    .validate = io_validate,
    .instructor_files = io_instructor_files,
    .grade = io_grade,
};
