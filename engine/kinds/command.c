/*
 * command.c - the "command" test kind: passes when the command exits 0.
 *
 * For checks such as "it compiles" (python3 -m py_compile hello.py) or an
 * instructor's own checking script given in support_files.
 */
#include <stdlib.h>

#include "common/jsonutil.h"
#include "common/check.h"
#include "engine/kind.h"

static const char *const command_keys[] = {"command", NULL};

static void command_validate(const char *dir, const json_t *t, const char *path,
                             struct problems *p)
{
    (void)dir;
    check_string(t, path, "command", true, p);
}

static void command_instructor_files(const json_t *t, json_t *files)
{
    (void)t;
    (void)files;
}

static void command_grade(struct test_run *run, struct test_outcome *out)
{
    struct run_result res;
    const char *command = jsonutil_str(run->test->spec, "command", "");
    if (kind_run_command(run, command, -1, &res, out) < 0)
        return;
    if (!kind_judge_limits(run, &res, out)) {
        if (res.exited && res.exit_code == 0) {
            out->verdict = VERDICT_PASSED;
        } else {
            out->verdict = res.exited ? VERDICT_FAILED : VERDICT_RUNTIME_ERROR;
            buf_printf(&out->feedback, "\"%s\" failed.\n", command);
            kind_describe_crash(&res, &out->feedback);
            if (res.err.len == 0 && res.out.len > 0) {
                char *tail = text_last_lines(res.out.data, res.out.len, 12, 2000);
                buf_printf(&out->feedback, "%s\n", tail ? tail : "(its output is not shown: out of memory)");
                free(tail);
            }
        }
    }
    out->score = out->verdict == VERDICT_PASSED ? run->test->points : 0;
    run_result_free(&res);
}

const struct test_kind kind_command = {
    .name = "command",
    .keys = command_keys,
    .validate = command_validate,
    .instructor_files = command_instructor_files,
    .grade = command_grade,
};
