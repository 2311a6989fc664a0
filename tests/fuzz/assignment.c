/* assignment.c - libFuzzer target for an assignment.json as an
 * instructor writes it: engine/assignment.c (the tests, each checked by
 * its kind) over contract/assignment.c (the summary every process reads,
 * with its late policy), and the late policy's extensions.json as the
 * recorder reads it (spool/extensions.c over contract/late.c).  The
 * input is ASSIGNMENT.JSON, and after a NUL byte (JSON holds no raw NUL)
 * an optional EXTENSIONS.JSON; both are written into the assignment
 * directory courses/C/A of a scratch directory taken for a spool, and
 * loaded from there, as the engine and the recorder load them.  The
 * student looked up in the extensions is "alice".
 *   build-fuzz/fuzz/assignment tests/fuzz/corpus/assignment   (make fuzz runs it) */
#include <stdlib.h>
#include <string.h>

#include "engine/assignment.h"
#include "spool/extensions.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct spool s = {(char *)fuzz_scratch()};
    char *dir = spool_path(&s, "courses/C/A");
    struct err e;
    if (fs_mkdir_p(dir, 0700, &e) < 0)
        fuzz_die("cannot make the assignment directory", &e);
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
        extensions_due_for(&s, "C", "A", "alice", &a.sum.late, &due, &extended, &p);
    }
    problems_free(&p);
    assignment_free(&a);
    free(dir);
    return 0;
}
