/* job.c - libFuzzer target for spool/job.c: a job file as the scheduler,
 * the shippers and `assay` read it from the spool, and as a worker reads
 * the job.json of an archive a shipper sent.  The input is written to a
 * scratch file and read back by job_load, then by
 * job_result_rel_from_index (the id index, which old spools hold as one
 * line of text); a job that loads has its result path made.
 *   build-fuzz/fuzz/job tests/fuzz/corpus/job   (make fuzz runs it) */
#include "spool/job.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *dir = fuzz_scratch();
    fuzz_put(dir, "job.json", data, len);
    char *path = fs_join(dir, "job.json");
    if (!path)
        fuzz_die("out of memory", NULL);
    struct job job;
    struct err e;
    if (job_load(path, &job, &e) == 0) {
        free(job_result_rel(&job));
        free(job_index_rel(job.id));
        job_free(&job);
    }
    free(job_result_rel_from_index(path));
    free(path);
    return 0;
}
