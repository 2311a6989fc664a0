/* test_shipper.c - unit tests for a job's trip through a shipper
 * (shipper/ship.c) on a fake transport and a simulated clock: a graded
 * result is recorded once, a failed attempt is deferred with the
 * backoff, the third failure fails the job with a reason and an error
 * result for the student, a job recorded before a crash is not sent
 * again, results of no current attempt are dropped from the worker, a
 * result refused by the check is deferred, never recorded, and so is a
 * result whose error is the worker's own, until its attempts are spent;
 * a worker that stops answering while a job waits has the job deferred
 * at once, what the worker says while a job waits keeps its health up to
 * date, and a job handed to a worker just called down goes back
 * unattempted.  Each attempt is counted for /metrics by how it ended, and
 * each stale result dropped (spool/counters.c). */
#define _GNU_SOURCE
#include "tests/unit/testutil.h"

#include <sys/mman.h>

#include "common/archive.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "shipper/shipper.h"
#include "spool/counters.h"
#include "spool/health.h"
#include "spool/job.h"
#include "spool/queue.h"

#define T0 1800000000.0

/* The fake worker: what the test lets each call do, and what it saw. */
struct fake {
    struct transport base;
    bool push_fails;            /* push: "connection refused" */
    bool never_ready;           /* wait: the result does not come */
    const char *wait_error;     /* wait: the worker stops answering, for this reason */
    double heard_free_mb;       /* wait: the worker says it has this much disk (0: silent) */
    char *result_dir;           /* pull: this directory, packed as the result */
    int pushes;
    char forgotten[8][256];
    bool finished[8];           /* forget() was told a result was seen */
    int n_forgotten;
    const char *listed[4];      /* results(): these names */
    struct transport_needs needs;   /* push: what the shipper said the job needs */
    bool heard_pool;            /* wait: the worker's info holds a batch system's pool */
};

static int fake_push(struct transport *t, int fd, const char *name, struct err *e)
{
    struct fake *f = (struct fake *)t;
    (void)fd;
    (void)name;
    f->pushes++;
    f->needs = t->needs;
    return f->push_fails ? err_set(e, "connection refused") : 0;
}

static int fake_wait(struct transport *t, const char *name, double timeout_s,
                     const struct transport_listener *listener, struct err *e)
{
    struct fake *f = (struct fake *)t;
    (void)name;
    (void)timeout_s;
    if (f->heard_free_mb > 0 && listener) {
        json_t *info = json_pack("{s:f, s:{s:i, s:b, s:f}}", "free_mb", f->heard_free_mb,
                                 "daemon", "pid", 42, "running", 1, "age_s", 0.5);
        if (f->heard_pool)
            json_object_set_new(info, "pool", json_pack("{s:s, s:s, s:i, s:i}", "partition",
                                                        "assay", "state", "UP", "pending", 2,
                                                        "running", 5));
        listener->heard(listener->ctx, info);
        json_decref(info);
    }
    if (f->wait_error)
        return err_set(e, "%s", f->wait_error);
    return f->never_ready ? 0 : 1;
}

static int fake_pull(struct transport *t, const char *name, int *fd, struct err *e)
{
    struct fake *f = (struct fake *)t;
    *fd = memfd_create(name, MFD_CLOEXEC);
    struct archive_part part = {.dir = f->result_dir, .prefix = ""};
    if (archive_create_fd(*fd, name, &part, 1, e) < 0)
        return -1;
    lseek(*fd, 0, SEEK_SET);
    return 0;
}

static void fake_forget(struct transport *t, const char *name, bool finished)
{
    struct fake *f = (struct fake *)t;
    if (f->n_forgotten < 8) {
        f->finished[f->n_forgotten] = finished;
        snprintf(f->forgotten[f->n_forgotten++], 256, "%s", name);
    }
}

static char **fake_results(struct transport *t)
{
    struct fake *f = (struct fake *)t;
    char **names = calloc(5, sizeof *names);
    for (int i = 0; i < 4 && f->listed[i]; i++)
        names[i] = strdup(f->listed[i]);
    return names;
}

static int fake_probe(struct transport *t, json_t **info, struct err *e)
{
    (void)t;
    (void)e;
    *info = json_pack("{s:s, s:f}", "version", "test", "free_mb", 1e6);
    return 0;
}

static void fake_destroy(struct transport *t)
{
    (void)t;
}

static const struct transport_ops fake_ops = {
    .name = "fake", .push = fake_push, .wait = fake_wait, .pull = fake_pull,
    .forget = fake_forget, .results = fake_results, .probe = fake_probe,
    .destroy = fake_destroy,
};

static double sim_now(void *ctx)
{
    return *(double *)ctx;
}

/* A spool with one assignment, one submission and a shipper for slot w1.1. */
struct rig {
    char *dir;
    struct shipper sh;
    struct fake fake;
    double now;
    char id[64];
};

static void rig_job(struct rig *r)
{
    json_t *job = job_new("c", "a", "u", 1, false, "python");
    struct err e;
    snprintf(r->id, sizeof r->id, "%s", json_string_value(json_object_get(job, "id")));
    assert_int_equal(queue_enqueue(&r->sh.spool, job, &e), 0);
    json_decref(job);
    assert_int_equal(queue_hand_to_slot(&r->sh.spool, r->id, r->sh.slot_dir, &e), 0);
}

static int rig_setup(void **state)
{
    struct rig *r = calloc(1, sizeof *r);
    r->dir = tu_mkdtemp();
    char *root = tu_path(r->dir, "spool");
    struct err e;
    assert_int_equal(spool_init(root, NULL, &e), 0);
    assert_int_equal(spool_open(&r->sh.spool, root, &e), 0);
    free(root);
    tu_write_at(r->dir, "spool/workers.json",
                "{\"workers\": [{\"name\": \"w1\", \"transport\": \"local\", \"dir\": \"wdir\","
                " \"slots\": 1, \"capabilities\": [\"python\"]}]}");
    tu_mkdir_at(r->dir, "spool/courses/c");
    tu_mkdir_at(r->dir, "spool/courses/c/a");
    tu_write_at(r->dir, "spool/courses/c/a/assignment.json",
                "{\"assay\": 1, \"title\": \"A\", \"tests\": [{\"name\": \"t\", \"kind\": \"command\","
                " \"command\": \"true\"}]}");
    const char *parts[] = {"c", "c/a", "c/a/u", "c/a/u/1"};
    for (int i = 0; i < 4; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "spool/submissions/%s", parts[i]);
        tu_mkdir_at(r->dir, rel);
    }
    tu_write_at(r->dir, "spool/submissions/c/a/u/1/hello.py", "print('hi')\n");
    tu_mkdir_at(r->dir, "result");
    tu_write_at(r->dir, "result/results.json",
                "{\"score\": 1, \"max_score\": 1, \"tests\": [], \"assay\": {\"status\": \"graded\"}}");
    tu_mkdir_at(r->dir, "spool/shippers/w1.1");
    struct problems p = {0};
    assert_int_equal(workers_load(&r->sh.spool, &r->sh.workers, &p), 0);
    r->sh.worker = &r->sh.workers.v[0];
    r->sh.slot = 1;
    snprintf(r->sh.slot_name, sizeof r->sh.slot_name, "w1.1");
    r->sh.slot_dir = strdup("shippers/w1.1");
    r->fake.base.ops = &fake_ops;
    r->fake.base.worker = r->sh.worker;
    r->fake.result_dir = tu_path(r->dir, "result");
    r->sh.transport = &r->fake.base;
    r->now = T0;
    r->sh.now = sim_now;
    r->sh.now_ctx = &r->now;
    char *log = tu_path(r->dir, "spool/logs/assay.log");
    log_open("test", log);
    free(log);
    rig_job(r);
    *state = r;
    return 0;
}

static int rig_teardown(void **state)
{
    struct rig *r = *state;
    log_close();
    workers_free(&r->sh.workers);
    spool_close(&r->sh.spool);
    free(r->sh.slot_dir);
    free(r->fake.result_dir);
    tu_rm_rf(r->dir);
    free(r->dir);
    free(r);
    return 0;
}

static json_t *load(struct rig *r, const char *rel)
{
    char *path = tu_path(r->dir, rel);
    struct err e;
    json_t *j = fs_exists(path) ? jsonutil_load_file(path, 1u << 20, &e) : NULL;
    free(path);
    return j;
}

static json_t *job_in(struct rig *r, const char *state)
{
    char rel[200];
    snprintf(rel, sizeof rel, "spool/%s/%s.json", state, r->id);
    return load(r, rel);
}

static char *ship(struct rig *r)
{
    char name[80];
    snprintf(name, sizeof name, "%s.json", r->id);
    shipper_ship_job(&r->sh, name);
    char *log = tu_path(r->dir, "spool/logs/assay.log");
    char *text = tu_read(log, NULL);
    free(log);
    return text;
}

/* What the spool's counters hold for NAME{LABELS} (0 when nothing). */
static double counted(struct rig *r, const char *name, const char *labels)
{
    struct err e;
    json_t *all = counters_load(&r->sh.spool, &e);
    assert_non_null(all);
    double v = jsonutil_num(json_object_get(json_object_get(all, "counters"), name), labels, 0);
    json_decref(all);
    return v;
}

static void test_graded_result_is_recorded_once(void **state)
{
    struct rig *r = *state;
    char *log = ship(r);
    json_t *res = load(r, "spool/results/c/a/u/1/results.json");
    assert_non_null(res);
    const json_t *a = json_object_get(res, "assay");
    assert_string_equal(jsonutil_str(a, "job_id", ""), r->id);
    assert_int_equal(json_integer_value(json_object_get(a, "attempts")), 1);
    assert_string_equal(jsonutil_str(json_object_get(a, "graded_by"), "worker", ""), "w1");
    char t0[32];
    clock_iso8601(T0, t0);
    assert_string_equal(jsonutil_str(a, "started_at", ""), t0);
    assert_null(job_in(r, "shippers/w1.1"));
    assert_int_equal(r->fake.pushes, 1);
    assert_int_equal(r->fake.n_forgotten, 1);
    char name[200];
    snprintf(name, sizeof name, "%s.%s.zip", r->id, jsonutil_str(a, "attempt_token", ""));
    assert_string_equal(r->fake.forgotten[0], name);
    assert_true(r->fake.finished[0]);   /* nothing of it is left to cancel */
    assert_true(tu_contains(log, "result recorded (attempt 1, 0.000 s)"));
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"graded\"") == 1);
    assert_true(counted(r, "assay_jobs_completed_total", "course=\"c\",outcome=\"graded\"") == 1);
    json_decref(res);
    free(log);
}

static void test_failures_defer_with_backoff_then_fail(void **state)
{
    struct rig *r = *state;
    r->fake.push_fails = true;
    struct err e;
    for (int attempt = 1; attempt <= 2; attempt++) {
        char *log = ship(r);
        json_t *j = job_in(r, "deferred");
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "attempt")), attempt);
        /* 1 s after the first failure, 2 s after the second */
        assert_true(jsonutil_num(j, "not_before", 0) == r->now + (attempt == 1 ? 1 : 2));
        assert_true(tu_contains(jsonutil_str(j, "last_error", ""), "connection refused"));
        assert_int_equal(json_array_size(json_object_get(j, "failed_on")), (size_t)attempt);
        assert_string_equal(json_string_value(json_array_get(json_object_get(j, "failed_on"), 0)),
                            "w1");
        char line[80];
        snprintf(line, sizeof line, "attempt %d deferred for %d s", attempt, attempt == 1 ? 1 : 2);
        assert_true(tu_contains(log, line));
        json_decref(j);
        free(log);
        r->now += 100;
        assert_int_equal(queue_retry(&r->sh.spool, r->id, &e), 0);
        assert_int_equal(queue_hand_to_slot(&r->sh.spool, r->id, r->sh.slot_dir, &e), 0);
    }
    char *log = ship(r);
    json_t *j = job_in(r, "failed");
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 3);
    char reason_rel[200];
    snprintf(reason_rel, sizeof reason_rel, "spool/failed/%s.reason", r->id);
    char *reason_path = tu_path(r->dir, reason_rel), *reason = tu_read(reason_path, NULL);
    assert_non_null(reason);
    assert_true(tu_contains(reason, "connection refused") && reason[strlen(reason) - 1] == '\n');
    json_t *res = load(r, "spool/results/c/a/u/1/results.json");
    const json_t *err = json_object_get(json_object_get(res, "assay"), "error");
    assert_string_equal(jsonutil_str(json_object_get(res, "assay"), "status", ""), "error");
    assert_string_equal(jsonutil_str(err, "category", ""), "infrastructure");
    assert_true(tu_contains(jsonutil_str(err, "message", ""), "after 3 attempts"));
    assert_true(tu_contains(log, "failed after 3 attempts"));
    assert_int_equal(r->fake.pushes, 3);
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"unreachable\"") == 3);
    assert_true(counted(r, "assay_jobs_completed_total",
                        "course=\"c\",outcome=\"infrastructure\"") == 1);
    json_decref(res);
    json_decref(j);
    free(reason);
    free(reason_path);
    free(log);
}

static void test_silent_worker_defers(void **state)
{
    struct rig *r = *state;
    r->fake.never_ready = true;
    free(ship(r));
    json_t *j = job_in(r, "deferred");
    assert_non_null(j);
    assert_true(tu_contains(jsonutil_str(j, "last_error", ""), "did not return a result within"));
    assert_int_equal(r->fake.n_forgotten, 1);   /* what the worker holds of it is dropped */
    assert_false(r->fake.finished[0]);          /* and stopped if it still runs */
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"timeout\"") == 1);
    json_decref(j);
}

/* The shipper recorded the result and was killed before it removed the
 * job file: started again, it must not send the job again. */
static void test_recorded_before_a_crash_is_not_sent_again(void **state)
{
    struct rig *r = *state;
    char keep_rel[200], *slot_path, *keep;
    snprintf(keep_rel, sizeof keep_rel, "spool/shippers/w1.1/%s.json", r->id);
    slot_path = tu_path(r->dir, keep_rel);
    keep = tu_path(r->dir, "kept.json");
    struct err e;
    free(ship(r));
    json_t *res = load(r, "spool/results/c/a/u/1/results.json");
    assert_non_null(res);
    /* rebuild the job file as it was at recording: same id and token */
    json_t *j = job_in(r, "shippers/w1.1");
    assert_null(j);
    char index_rel[200];
    snprintf(index_rel, sizeof index_rel, "spool/jobs/%s", r->id);
    j = load(r, index_rel);
    const json_t *a = json_object_get(res, "assay");
    json_object_set_new(j, "attempt", json_integer(1));
    json_object_set(j, "token", json_object_get(a, "attempt_token"));
    json_object_set_new(j, "slot", json_string("w1.1"));
    assert_int_equal(jsonutil_write_scratch(keep, j, false, &e), 0);
    assert_int_equal(rename(keep, slot_path), 0);
    struct stat before, after;
    char *rpath = tu_path(r->dir, "spool/results/c/a/u/1/results.json");
    assert_int_equal(stat(rpath, &before), 0);
    char *log = ship(r);
    assert_int_equal(stat(rpath, &after), 0);
    assert_int_equal(r->fake.pushes, 1);
    assert_true(before.st_ino == after.st_ino && before.st_mtime == after.st_mtime);
    assert_null(job_in(r, "shippers/w1.1"));
    assert_true(tu_contains(log, "result was already recorded"));
    json_decref(j);
    json_decref(res);
    free(rpath);
    free(log);
    free(slot_path);
    free(keep);
}

static void test_results_of_no_current_attempt_are_dropped(void **state)
{
    struct rig *r = *state;
    struct err e;
    char *path = spool_path(&r->sh.spool, "%s/%s.json", r->sh.slot_dir, r->id);
    struct job job;
    assert_int_equal(job_load(path, &job, &e), 0);
    assert_int_equal(queue_claim(&r->sh.spool, &job, r->sh.slot_dir, "w1.1", r->now, &e), 0);
    char current[200], stale[200];
    snprintf(current, sizeof current, "%s.%s.zip", r->id, job.token);
    snprintf(stale, sizeof stale, "%s.0123456789abcdef.zip", r->id);
    r->fake.listed[0] = current;
    r->fake.listed[1] = stale;
    r->fake.listed[2] = "not-an-archive";
    shipper_drop_stale(&r->sh);
    assert_int_equal(r->fake.n_forgotten, 2);
    assert_string_equal(r->fake.forgotten[0], stale);
    assert_string_equal(r->fake.forgotten[1], "not-an-archive");
    assert_true(r->fake.finished[0] && r->fake.finished[1]);   /* results: tidied, never cancelled */
    assert_true(counted(r, "assay_stale_results_total", "") == 2);
    job_free(&job);
    free(path);
}

/* A result the worker had no business sending (a score of 100 out of 1)
 * is the attempt's failure: deferred with the reason, dropped from the
 * worker, nothing recorded; its log lines still come, as data. */
static void test_refused_result_is_deferred_never_recorded(void **state)
{
    struct rig *r = *state;
    tu_write_at(r->dir, "result/results.json",
                "{\"score\": 100, \"max_score\": 1, \"tests\": [], \"assay\": {\"status\": \"graded\"}}");
    tu_write_at(r->dir, "result/worker.log", "T assay-shipper[1] w1 J info result recorded\x1b[2J\n");
    char *log = ship(r);
    json_t *j = job_in(r, "deferred");
    assert_non_null(j);
    assert_string_equal(jsonutil_str(j, "last_error", ""),
                        "the result from worker w1 is refused: results.json: $.score: 100 is out "
                        "of range (0 to 1)");
    assert_null(load(r, "spool/results/c/a/u/1/results.json"));
    assert_int_equal(r->fake.n_forgotten, 1);
    char line[300];
    snprintf(line, sizeof line, " %s info worker: T assay-shipper[1] w1 J info result "
             "recorded\\x1b[2J\n", r->id);
    assert_true(tu_contains(log, line));
    assert_null(strchr(log, 0x1b));
    snprintf(line, sizeof line, " %s info result recorded", r->id);
    assert_false(tu_contains(log, line));
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"refused\"") == 1);
    json_decref(j);
    free(log);
}

/* The transport gives up while the job waits (the worker's grading
 * daemon stopped answering): the job is deferred at once, with that
 * reason, and what the worker holds of it is dropped. */
static void test_worker_that_stops_answering_defers_the_job_at_once(void **state)
{
    struct rig *r = *state;
    r->fake.wait_error = "the grading daemon of worker w1 is not answering (assay-worker pid 42 "
                         "has not touched its heartbeat for over 5 s; sshd answers)";
    char *log = ship(r);
    json_t *j = job_in(r, "deferred");
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 1);
    assert_string_equal(jsonutil_str(j, "last_error", ""), r->fake.wait_error);
    assert_true(jsonutil_num(j, "not_before", 0) == r->now + 1);
    char line[400];
    snprintf(line, sizeof line, " %s warning attempt 1 deferred for 1 s: the grading daemon of "
             "worker w1 is not answering", r->id);
    assert_true(tu_contains(log, line));
    assert_int_equal(r->fake.n_forgotten, 1);
    assert_null(load(r, "spool/results/c/a/u/1/results.json"));
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"unreachable\"") == 1);
    json_decref(j);
    free(log);
}

/* What the worker says while a job waits keeps its health record up to
 * date: a disk that filled makes it refusing at once, and the job in
 * flight still gets its result. */
static void test_worker_heard_while_a_job_waits_updates_its_health(void **state)
{
    struct rig *r = *state;
    r->fake.heard_free_mb = 5;
    char *log = ship(r);
    json_t *h = load(r, "spool/health/w1.json");
    assert_non_null(h);
    assert_string_equal(jsonutil_str(h, "status", ""), "refusing");
    assert_string_equal(jsonutil_str(h, "reason", ""), "only 5 MB of disk free (at least 100 MB "
                        "needed); free some space on the worker");
    assert_true(jsonutil_num(h, "free_mb", 0) == 5);
    assert_true(jsonutil_str(h, "last_contact", "")[0]);
    assert_true(tu_contains(log, " error worker w1 is refusing: only 5 MB of disk free"));
    json_t *res = load(r, "spool/results/c/a/u/1/results.json");
    assert_non_null(res);
    json_decref(res);
    json_decref(h);
    free(log);
}

/* A transport that reserves resources per job (slurm) is told before the
 * push the job's timeout (the worker's margin, 10 s by default, plus its
 * tests' wall limits one and a half times) and its largest memory limit,
 * a test's own included. */
static void test_transport_is_told_what_the_job_needs(void **state)
{
    struct rig *r = *state;
    tu_write_at(r->dir, "spool/courses/c/a/assignment.json",
                "{\"assay\": 1, \"title\": \"A\", \"limits\": {\"wall_s\": 4, \"memory_mb\": 300},"
                " \"tests\": [{\"name\": \"t\", \"kind\": \"command\", \"command\": \"true\","
                " \"limits\": {\"memory_mb\": 500}}]}");
    free(ship(r));
    assert_int_equal(r->fake.pushes, 1);
    assert_true(r->fake.needs.seconds == 10 + 1.5 * 4);
    assert_int_equal(r->fake.needs.memory_mb, 500);
}

/* A batch system's pool heard while a job waits (the slurm transport's
 * partition, nodes and jobs) is kept in the worker's health record, for
 * `assay workers` and `assay status`. */
static void test_a_pool_heard_while_a_job_waits_is_kept_in_health(void **state)
{
    struct rig *r = *state;
    r->fake.heard_free_mb = 5000;
    r->fake.heard_pool = true;
    free(ship(r));
    json_t *h = load(r, "spool/health/w1.json");
    const json_t *pool = json_object_get(h, "pool");
    assert_string_equal(jsonutil_str(pool, "state", ""), "UP");
    assert_true(jsonutil_num(pool, "pending", 0) == 2 && jsonutil_num(pool, "running", 0) == 5);
    json_decref(h);
}

/* The scheduler handed the job over just as a sibling shipper called the
 * worker down: the job goes back to incoming/ with no attempt spent and
 * nothing sent. */
static void test_job_for_a_worker_called_down_goes_back_unattempted(void **state)
{
    struct rig *r = *state;
    struct err e;
    assert_int_equal(health_record(&r->sh.spool, "w1", "down", "lost the link to worker w1",
                                   NULL, &e), 1);
    char *log = ship(r);
    json_t *j = job_in(r, "incoming");
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "attempt")), 0);
    assert_null(json_object_get(j, "started_at"));
    assert_null(job_in(r, "shippers/w1.1"));
    assert_int_equal(r->fake.pushes, 0);
    char line[300];
    snprintf(line, sizeof line, " %s warning handed back to the queue without an attempt: worker "
             "w1 is down (lost the link to worker w1)", r->id);
    assert_true(tu_contains(log, line));
    json_decref(j);
    free(log);
}

/* A result whose error is the worker's own (category infrastructure: a
 * grader killed, a runtime missing there) is that attempt's failure:
 * logged as an error naming the worker, deferred, never recorded; after
 * the last attempt the job fails with a result saying what failed where,
 * which the student sees only as "grading could not run". */
static void test_infrastructure_result_is_retried_then_failed(void **state)
{
    struct rig *r = *state;
    tu_write_at(r->dir, "result/results.json",
                "{\"score\": 0, \"max_score\": 0, \"tests\": [], \"assay\": {\"status\": \"error\","
                " \"error\": {\"category\": \"infrastructure\", \"message\": \"The grader on "
                "worker w1 was killed by signal 9 (Killed)\\u001b[2J\"}}}");
    struct err e;
    for (int attempt = 1; attempt <= 2; attempt++) {
        char *log = ship(r);
        json_t *j = job_in(r, "deferred");
        assert_non_null(j);
        assert_string_equal(jsonutil_str(j, "last_error", ""), "worker w1 could not grade it: The "
                            "grader on worker w1 was killed by signal 9 (Killed)\\x1b[2J");
        char line[300];
        snprintf(line, sizeof line, " %s error attempt %d: infrastructure failure on worker w1: "
                 "The grader on worker w1 was killed by signal 9 (Killed)\\x1b[2J\n", r->id, attempt);
        assert_true(tu_contains(log, line));
        assert_null(strchr(log, 0x1b));
        assert_null(load(r, "spool/results/c/a/u/1/results.json"));
        json_decref(j);
        free(log);
        r->now += 100;
        assert_int_equal(queue_retry(&r->sh.spool, r->id, &e), 0);
        assert_int_equal(queue_hand_to_slot(&r->sh.spool, r->id, r->sh.slot_dir, &e), 0);
    }
    char *log = ship(r);
    json_t *failed = job_in(r, "failed");
    assert_non_null(failed);
    json_decref(failed);
    json_t *res = load(r, "spool/results/c/a/u/1/results.json");
    const json_t *a = json_object_get(res, "assay"), *err = json_object_get(a, "error");
    assert_string_equal(jsonutil_str(a, "status", ""), "error");
    assert_string_equal(jsonutil_str(err, "category", ""), "infrastructure");
    const char *msg = jsonutil_str(err, "message", "");
    assert_true(tu_contains(msg, "after 3 attempts, for reasons that are not the student's (on "
                            "worker w1, then w1, then w1; the last: worker w1 could not grade "
                            "it: The grader on worker w1 was killed by signal 9"));
    assert_true(tu_contains(msg, "`assay requeue "));
    json_t *student = load(r, "spool/results/c/a/u/1/results.student.json");
    const char *told = jsonutil_str(json_object_get(json_object_get(student, "assay"), "error"),
                                    "message", "");
    assert_true(tu_contains(told, "could not be graded because of a problem in the grading "
                            "system, not in your work"));
    assert_true(tu_contains(told, "you do not need to submit again"));
    assert_false(tu_contains(told, "signal"));
    assert_true(tu_contains(log, " error failed after 3 attempts: worker w1 could not grade it"));
    assert_true(counted(r, "assay_job_attempts_total", "reason=\"worker_failure\"") == 3);
    assert_true(counted(r, "assay_jobs_completed_total",
                        "course=\"c\",outcome=\"infrastructure\"") == 1);
    json_decref(student);
    json_decref(res);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_graded_result_is_recorded_once, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_failures_defer_with_backoff_then_fail, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_silent_worker_defers, rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_recorded_before_a_crash_is_not_sent_again, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_results_of_no_current_attempt_are_dropped, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_refused_result_is_deferred_never_recorded, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_worker_that_stops_answering_defers_the_job_at_once,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_worker_heard_while_a_job_waits_updates_its_health,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_job_for_a_worker_called_down_goes_back_unattempted,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_transport_is_told_what_the_job_needs, rig_setup,
                                        rig_teardown),
        cmocka_unit_test_setup_teardown(test_a_pool_heard_while_a_job_waits_is_kept_in_health,
                                        rig_setup, rig_teardown),
        cmocka_unit_test_setup_teardown(test_infrastructure_result_is_retried_then_failed,
                                        rig_setup, rig_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
