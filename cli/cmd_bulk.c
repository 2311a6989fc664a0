/*
 * cmd_bulk.c - grading a whole assignment at once, for a teacher:
 *
 *   assay grade-all --course C --assignment A [--no-wait] [--timeout S]
 *   assay export --course C --assignment A --csv [--out FILE]
 *
 * grade-all queues the latest version of every student as batch jobs
 * (regrade_queue_all, cmd_queue.c), so the scheduler spreads them over
 * every worker slot, then follows them: a progress bar (done/total,
 * rate, ETA) on a terminal, a plain line every few seconds otherwise,
 * and at the end a summary: a histogram of the scores and every failure
 * with its reason, those that are not the students' (infrastructure)
 * apart from errors in the submission or the assignment, and results
 * whose late penalty a broken extensions file may have made wrong.
 * `assay regrade --wait` shows the same.  export writes each student's
 * latest graded result as CSV for any gradebook, with the late penalty's
 * columns.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "contract/results.h"
#include "spool/manual.h"
#include "spool/export.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "spool/scan.h"

#define TICK_S 0.1
#define PLAIN_EVERY_S 5.0
#define STALL_HINT_S 30.0
#define QUEUE_CHECK_S 2.0
#define HIST_BINS 10
#define BAR_WIDTH 30

/* ---- following the jobs ---- */

struct follow {
    const struct spool *s;
    const json_t *queued;
    json_t *done;              /* job id -> {"student", "result"} or {"student", "failed"} */
    double started, last_line, last_progress, last_queue_check;
    bool tty, hinted;
};

/* Why job ID is in failed/ (the dead letter's .reason), or NULL. */
static char *failed_reason(const struct spool *s, const char *id)
{
    char *state = queue_locate(s, id), *reason = NULL;
    if (state && !strcmp(state, SPOOL_FAILED)) {
        struct err e;
        if (!(reason = queue_failed_reason(s, id, &e)) &&
            asprintf(&reason, "the job failed (%s)", e.msg) < 0)
            reason = NULL;
        if (!reason)   /* out of memory: counted as failed all the same */
            reason = strdup("the job failed");
    }
    free(state);
    return reason;
}

static void check_jobs(struct follow *f)
{
    bool look_at_queue = clock_mono() - f->last_queue_check >= QUEUE_CHECK_S;
    if (look_at_queue)
        f->last_queue_check = clock_mono();
    size_t i;
    const json_t *q;
    json_array_foreach(f->queued, i, q) {
        const char *id = jsonutil_str(q, "id", ""), *student = jsonutil_str(q, "student", "");
        if (json_object_get(f->done, id))
            continue;
        char *dir = spool_path(f->s, "%s", jsonutil_str(q, "rel", ""));
        json_t *r = cli_result_if_job(dir, id);
        free(dir);
        char *reason = r || !look_at_queue ? NULL : failed_reason(f->s, id);
        if (r)
            json_object_set_new(f->done, id, json_pack("{s:s, s:o}", "student", student, "result", r));
        else if (reason)
            json_object_set_new(f->done, id, json_pack("{s:s, s:s}", "student", student, "failed", reason));
        else
            continue;
        f->last_progress = clock_mono();
        free(reason);
    }
}

static void format_eta(double s, char *out, size_t n)
{
    if (!isfinite(s) || s < 0)
        snprintf(out, n, "--:--");
    else if (s >= 3600)
        snprintf(out, n, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(out, n, "%d:%02d", (int)s / 60, (int)s % 60);
}

static void show_progress(struct follow *f, bool final)
{
    size_t total = json_array_size(f->queued), done = json_object_size(f->done);
    double elapsed = clock_mono() - f->started, rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32];
    format_eta(rate > 0 ? (double)(total - done) / rate : NAN, eta, sizeof eta);
    if (f->tty) {
        int filled = total ? (int)(BAR_WIDTH * done / total) : BAR_WIDTH;
        printf("\r[%.*s%.*s] %zu/%zu  %.1f/s  ETA %s ", filled,
               "##############################", BAR_WIDTH - filled,
               "..............................", done, total, rate, eta);
        if (final)
            putchar('\n');
    } else if (final || clock_mono() - f->last_line >= PLAIN_EVERY_S) {
        cli_printf(stdout, "graded %zu/%zu (%.1f/s, ETA %s)\n", done, total, rate, eta);
        f->last_line = clock_mono();
    }
    fflush(stdout);
}

static void maybe_hint(struct follow *f)
{
    if (f->hinted || clock_mono() - f->last_progress < STALL_HINT_S)
        return;
    f->hinted = true;
    cli_printf(stderr, "%sno job finished in %.0f s: is assay-scheduler running? (see `assay "
               "status`)\n", f->tty ? "\n" : "", STALL_HINT_S);
}

/* ---- the summary ---- */

/* How many of the GRADED results in DONE still have answers awaiting
 * manual grading: their scores above are not final. */
static void print_manual_pending(const json_t *done, size_t graded)
{
    size_t waiting = 0;
    double points = 0;
    const char *id;
    const json_t *d;
    json_object_foreach((json_t *)done, id, d) {
        struct manual_tally t;
        results_manual_tally(json_object_get(d, "result"), &t);
        waiting += t.pending > 0;
        points += t.pending_points;
    }
    if (waiting)
        cli_printf(stdout, "%zu of the %zu graded have answers awaiting manual grading (%g points "
                   "in all; `assay manual list` shows them).\n", waiting, graded, points);
}

static void print_histogram(const json_t *done)
{
    size_t counts[HIST_BINS] = {0}, graded = 0, most = 0;
    double max = 0;
    const char *id;
    const json_t *d;
    json_object_foreach((json_t *)done, id, d) {
        const json_t *r = json_object_get(d, "result");
        if (r && jsonutil_num(r, "max_score", 0) > max)
            max = jsonutil_num(r, "max_score", 0);
    }
    json_object_foreach((json_t *)done, id, d) {
        const json_t *r = json_object_get(d, "result");
        if (!r || strcmp(jsonutil_str(json_object_get(r, "assay"), "status", ""), "graded"))
            continue;
        double frac = max > 0 ? jsonutil_num(r, "score", 0) / max : 1;
        int bin = (int)(frac * HIST_BINS);
        bin = bin < 0 ? 0 : bin >= HIST_BINS ? HIST_BINS - 1 : bin;
        if (++counts[bin] > most)
            most = counts[bin];
        graded++;
    }
    cli_printf(stdout, "Scores of %zu graded submission%s (out of %g):\n", graded, graded == 1 ? "" : "s", max);
    for (int b = 0; b < HIST_BINS; b++) {
        double lo = max * b / HIST_BINS, hi = max * (b + 1) / HIST_BINS;
        int width = most ? (int)((40 * counts[b] + most - 1) / most) : 0;
        cli_printf(stdout, "  %6.4g - %-6.4g %c %5zu %.*s\n", lo, hi, b == HIST_BINS - 1 ? ']' : ')',
               counts[b], width, "########################################");
    }
    print_manual_pending(done, graded);
}

/* Which kind of failure DONE (a job's entry) is: "infrastructure" (not
 * the student's: attempts spent on the workers' failures), "submission"
 * or "assignment" (the result's error), "late" (graded, but with a
 * penalty counted from a date a broken extensions file may have moved),
 * or NULL when it was graded cleanly. */
static const char *failure_kind(const json_t *d)
{
    if (json_object_get(d, "failed"))
        return "infrastructure";
    const json_t *a = json_object_get(json_object_get(d, "result"), "assay");
    const json_t *err = json_object_get(a, "error");
    if (json_is_object(err))
        return jsonutil_str(err, "category", "infrastructure");
    return jsonutil_str(json_object_get(a, "late"), "error", NULL) ? "late" : NULL;
}

/* What to say of DONE, a failure of KIND. */
static const char *failure_text(const json_t *d, const char *kind)
{
    const json_t *a = json_object_get(json_object_get(d, "result"), "assay");
    if (json_object_get(d, "failed"))
        return jsonutil_str(d, "failed", "");
    if (!strcmp(kind, "late"))
        return jsonutil_str(json_object_get(a, "late"), "error", "");
    return jsonutil_str(json_object_get(a, "error"), "message", "");
}

/* The submissions of one KIND of failure, each with its reason, under
 * TITLE; returns how many. */
static size_t print_kind(const json_t *done, const char *kind, const char *title)
{
    size_t n = 0;
    const char *id;
    const json_t *d;
    json_object_foreach((json_t *)done, id, d) {
        const char *k = failure_kind(d);
        if (!k || strcmp(k, kind))
            continue;
        if (n++ == 0)
            cli_printf(stdout, "%s\n", title);
        cli_printf(stdout, "  %s (job %s): %s\n", jsonutil_str(d, "student", "?"), id,
                   failure_text(d, kind));
    }
    return n;
}

struct failures {
    size_t infrastructure, submission, assignment, late;
};

/* Each submission that did not grade cleanly, with its reason: the
 * failures that are not the students' apart from those that are. */
static struct failures print_failures(const json_t *done)
{
    struct failures f;
    f.infrastructure = print_kind(done, "infrastructure", "Not graded because of infrastructure "
                                  "failures (not the students'; `assay requeue` once fixed):");
    f.submission = print_kind(done, "submission", "Errors in the submission (the student's "
                              "to fix):");
    f.assignment = print_kind(done, "assignment", "Errors in the assignment (the "
                              "instructor's to fix):");
    f.late = print_kind(done, "late", "Graded, but the late penalty may be wrong (fix the "
                        "extensions file and regrade):");
    return f;
}

/* Of the jobs not finished, those waiting to be retried after an
 * infrastructure failure (in deferred/). */
static size_t count_retrying(const struct spool *s, const json_t *queued, const json_t *done)
{
    size_t n = 0, i;
    const json_t *q;
    json_array_foreach(queued, i, q) {
        const char *id = jsonutil_str(q, "id", "");
        if (json_object_get(done, id))
            continue;
        char *state = queue_locate(s, id);
        n += state && !strcmp(state, SPOOL_DEFERRED);
        free(state);
    }
    return n;
}

/* How long the summary waits for the grades' deliveries (Canvas) to settle. */
#define SYNC_WAIT_S 30.0

int bulk_wait_and_summarize(const struct spool *s, const json_t *queued, double timeout_s)
{
    struct follow f = {.s = s, .queued = queued, .done = json_object(), .tty = isatty(1)};
    if (!f.done) {
        fprintf(stderr, "assay: out of memory following the jobs (they are queued)\n");
        return EXIT_FAILED;
    }
    f.started = f.last_progress = clock_mono();
    f.last_line = f.started - PLAIN_EVERY_S;
    size_t total = json_array_size(queued);
    while (json_object_size(f.done) < total) {
        check_jobs(&f);
        show_progress(&f, false);
        maybe_hint(&f);
        if (timeout_s > 0 && clock_mono() - f.started > timeout_s)
            break;
        if (json_object_size(f.done) < total)
            nanosleep(&(struct timespec){0, (long)(TICK_S * 1e9)}, NULL);
    }
    show_progress(&f, true);
    size_t done = json_object_size(f.done);
    printf("\n");
    print_histogram(f.done);
    struct failures fl = print_failures(f.done);
    size_t failures = fl.infrastructure + fl.submission + fl.assignment;
    size_t retrying = done < total ? count_retrying(s, queued, f.done) : 0;
    if (done < total)
        printf("%zu of %zu submissions were not graded within %g s (%zu of them waiting to be "
               "retried after an infrastructure failure); `assay status` shows where they "
               "are.\n", total - done, total, timeout_s, retrying);
    if (fl.late)
        printf("%zu graded with a late penalty that may be wrong (above).\n", fl.late);
    printf("%zu graded, %zu with an error in the submission, %zu with an error in the "
           "assignment, %zu not graded because of infrastructure failures, %zu not finished, "
           "in %.1f s.\n", done - failures, fl.submission,
           fl.assignment, fl.infrastructure, total - done, clock_mono() - f.started);
    sync_report_jobs(s, queued, SYNC_WAIT_S);
    json_decref(f.done);
    return done == total && failures == 0 && fl.late == 0 ? EXIT_OK : EXIT_FAILED;
}

/* ---- assay grade-all ---- */

static const char grade_all_usage[] =
    "Usage: assay grade-all --course C --assignment A [--no-wait] [--timeout S] [--spool S]\n"
    "\n"
    "Grades the latest version of every student's submission to assignment A of\n"
    "course C: queues them as batch jobs (the scheduler spreads them over every\n"
    "worker slot), shows progress (done/total, rate, ETA), then a summary: a\n"
    "histogram of the scores and every failure with its reason, those that are not\n"
    "the students' (infrastructure) apart from errors in the submission or the\n"
    "assignment.\n"
    "\n"
    "  --no-wait     only queue the jobs\n"
    "  --timeout S   stop following after S seconds (the jobs go on)\n"
    "\n"
    "Exit status: 0 all graded; 1 some failed or did not finish; 2 usage error.\n";

struct bulk_opts {
    const char *spool, *course, *asg, *out;
    bool no_wait, csv;
    double timeout;
};

static int parse_bulk(int argc, char **argv, struct bulk_opts *o, const char *usage)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},    {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"no-wait", no_argument, NULL, 'n'},
        {"timeout", required_argument, NULL, 't'},  {"csv", no_argument, NULL, 'v'},
        {"out", required_argument, NULL, 'o'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->asg = optarg; break;
        case 'n': o->no_wait = true; break;
        case 't': o->timeout = atof(optarg); break;
        case 'v': o->csv = true; break;
        case 'o': o->out = optarg; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    if (!o->course || !o->asg || optind != argc || !spool_name_is_valid(o->course) ||
        !spool_name_is_valid(o->asg))
        return -1;
    return 0;
}

int cmd_grade_all(int argc, char **argv)
{
    struct bulk_opts o = {0};
    if (parse_bulk(argc, argv, &o, grade_all_usage) < 0 || o.csv || o.out) {
        fputs(grade_all_usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "grade-all", true) < 0)
        return EXIT_FAILED;
    char *apath = spool_path(&s, "courses/%s/%s/assignment.json", o.course, o.asg);
    bool known = fs_exists(apath);
    free(apath);
    json_t *queued = json_array();
    int rc = EXIT_FAILED;
    if (!known)
        cli_printf(stderr, "assay grade-all: there is no assignment %s/%s in this spool "
                   "(courses/%s/%s/assignment.json)\n", o.course, o.asg, o.course, o.asg);
    else if (regrade_queue_all(&s, o.course, o.asg, queued, "grade-all") == 0 ||
             json_array_size(queued) > 0) {
        size_t n = json_array_size(queued);
        cli_printf(stdout, "queued %zu submission%s of %s/%s (batch priority)\n", n, n == 1 ? "" : "s",
                   o.course, o.asg);
        fflush(stdout);
        rc = o.no_wait || n == 0 ? EXIT_OK : bulk_wait_and_summarize(&s, queued, o.timeout);
    }
    json_decref(queued);
    spool_close(&s);
    return rc;
}

/* ---- assay export ---- */

#define CSV_HEADER EXPORT_CSV_HEADER

static const char export_usage[] =
    "Usage: assay export --course C --assignment A --csv [--out FILE] [--spool S]\n"
    "\n"
    "Writes each student's latest graded result of assignment A of course C as CSV\n"
    "for any gradebook or LMS, with the header\n"
    "  " CSV_HEADER "\n"
    "score is after any late penalty: late_days is how many (started) days late the\n"
    "submission was (0 on time), late_penalty_percent the percentage of max taken\n"
    "off, score_before_penalty the score the tests gave.  score includes the grades\n"
    "given by hand (assay manual grade); manual_pending_points and\n"
    "manual_pending_answers say what still awaits one (its points are in max, not in\n"
    "score).  Students who submitted but have no result yet appear with status\n"
    "\"pending\" and the rest empty.\n";

/* -1 (said) if a student may be missing: out of memory. */
static int write_csv(FILE *out, const struct spool *s, const struct bulk_opts *o)
{
    struct buf csv = BUF_INIT;
    struct err e;
    int rc = export_csv(s, o->course, o->asg, &csv, &e);
    if (rc < 0)
        cli_printf(stderr, "assay export: %s\n", e.msg);
    else
        fwrite(csv.data, 1, csv.len, out);
    buf_free(&csv);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    struct bulk_opts o = {0};
    if (parse_bulk(argc, argv, &o, export_usage) < 0 || !o.csv || o.no_wait) {
        fputs(export_usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "export", false) < 0)
        return EXIT_FAILED;
    int rc = EXIT_OK;
    if (!o.out) {
        rc = write_csv(stdout, &s, &o) < 0 ? EXIT_FAILED : EXIT_OK;
    } else {
        char *text = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&text, &len);
        struct err e;
        int failed = mem ? 0 : err_sys(&e, "cannot keep the export in memory");
        if (mem) {
            int written = write_csv(mem, &s, &o);
            if (fclose(mem) != 0 || written < 0)   /* a gradebook short of a student: none */
                failed = err_set(&e, "out of memory; %s is not written", o.out);
            else
                failed = fs_write_atomic(o.out, text, len, &e);
        }
        if (failed < 0) {
            cli_printf(stderr, "assay export: %s\n", e.msg);
            rc = EXIT_FAILED;
        }
        free(text);
    }
    spool_close(&s);
    return rc;
}
