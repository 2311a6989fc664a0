/* assignment.c - libFuzzer target for an assignment.json as an
 * instructor writes it: engine/assignment.c (the tests, each checked by
 * its kind) over contract/assignment.c (the summary every process reads,
 * with its late policy), and the late policy's extensions.json
 * (contract/late.c).  The input is ASSIGNMENT.JSON, and after a NUL byte
 * (JSON holds no raw NUL) an optional EXTENSIONS.JSON; both are written
 * into an empty scratch directory and loaded from there, as `assay
 * check` and the engine load them.  The student looked up in the
 * extensions is "alice".
 *   build-fuzz/fuzz/assignment tests/fuzz/corpus/assignment   (make fuzz runs it) */
#include <string.h>

#include "contract/late.h"
#include "engine/assignment.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *dir = fuzz_scratch();
    const uint8_t *nul = memchr(data, 0, len);
    size_t asg_len = nul ? (size_t)(nul - data) : len;
    fuzz_put(dir, "assignment.json", data, asg_len);
    if (nul)
        fuzz_put(dir, "extensions.json", nul + 1, len - asg_len - 1);

    struct assignment a;
    struct problems p = {0};
    assignment_load(dir, &a, &p);   /* its problems are the outcome; both paths are fuzzed */
    if (a.sum.late.penalised && a.sum.late_ok) {
        double due;
        bool extended;
        late_due_for(dir, "alice", &a.sum.late, &due, &extended, &p);
    }
    problems_free(&p);
    assignment_free(&a);
    return 0;
}
