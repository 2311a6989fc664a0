/* result.c - libFuzzer target for a worker's results.json as the primary
 * reads it from a pulled result archive (the archive itself is the
 * "archive" target): loaded with the recorder's bound (spool/record.c),
 * then, as recording does, the late policy applied (contract/late.c) and
 * the student's view made (contract/results.c) before, at and long after
 * the due date.  The validator of contract/results_check.c runs first,
 * and a result it refuses goes no further, as in the recorder.
 *   build-fuzz/fuzz/result tests/fuzz/corpus/result   (make fuzz runs it) */
#include "common/jsonutil.h"
#include "contract/late.h"
#include "contract/results.h"
#include "contract/results_check.h"
#include "tests/fuzz/fuzz.h"

/* What recording does to R, at a submission SUBMITTED seconds after a
 * due date at 0 (a penalty of 10 % a day, nothing after 3 days). */
static void record_at(const json_t *r, double submitted)
{
    struct late_policy lp = {.has_due = true, .due = 0, .penalised = true, .percent = 10,
                             .unit_s = 86400, .unit = "day", .has_max = true,
                             .max_late_days = 3};
    json_t *copy = json_deep_copy(r);
    if (!copy)
        fuzz_die("out of memory", NULL);
    late_apply(copy, &lp, 0, false, submitted);
    json_decref(results_student_view(copy, submitted));
    json_decref(results_student_view(copy, 30 * 86400.0));
    json_decref(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len > RESULT_JSON_MAX_BYTES)
        return 0;   /* the recorder reads no more */
    struct err e;
    json_t *r = jsonutil_load_text((const char *)data, len, "results.json", &e);
    if (r && results_check(r, &e) == 0) {
        record_at(r, -60);
        record_at(r, 1.5 * 86400);
        record_at(r, 5 * 86400);
    }
    json_decref(r);
    return 0;
}
