/*
 * cmd_results.c - `assay results`: one job's result, or a whole
 * assignment's gradebook.
 *
 *   assay results --job ID [--view student|instructor] [--json]
 *   assay results --course C --assignment A [--student U] [--json]
 *
 * A job's result is found through jobs/ID (written at submit time).  The
 * assignment view lists each student's latest graded version, or every
 * version of one student, with what a late penalty took off and the
 * points still awaiting manual grading.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "cli/commands.h"
#include "spool/job.h"
#include "spool/queue.h"
#include "spool/record.h"
#include "spool/scan.h"
#include "contract/late.h"
#include "contract/results.h"

static const char usage[] =
    "Usage: assay results --job ID [--view student|instructor] [--json] [--spool S]\n"
    "       assay results --course C --assignment A [--student U] [--json] [--spool S]\n"
    "\n"
    "With --job: that job's result (a table, or results.json with --json; the\n"
    "instructor's view unless --view student). With --course and --assignment: one\n"
    "line per student (their latest graded version), or with --student every\n"
    "version of that student.\n";

struct results_opts {
    const char *spool, *job, *course, *assignment, *student;
    bool json, student_view;
};

static int show_job(const struct spool *s, const struct results_opts *o)
{
    char *index = job_index_rel(o->job), *ipath = index ? spool_path(s, "%s", index) : NULL;
    char *rel = job_result_rel_from_index(ipath);
    int rc = EXIT_FAILED;
    if (!ipath) {
        fprintf(stderr, "assay results: out of memory\n");
    } else if (!rel) {
        cli_printf(stderr, "assay results: no job %s in this spool\n", o->job);
    } else {
        json_t *r = record_read(s, rel);
        if (!r || strcmp(jsonutil_str(json_object_get(r, "assay"), "job_id", ""), o->job)) {
            char *state = queue_locate(s, o->job);
            cli_printf(stderr, "assay results: job %s has no result yet (it is in %s/)\n", o->job,
                       state ? state : "no queue state; it may have been superseded by a regrade");
            free(state);
        } else {
            if (o->student_view) {
                json_t *v = results_student_view(r, clock_wall());
                json_decref(r);
                r = v;
            }
            if (!r) {
                fprintf(stderr, "assay results: out of memory\n");
            } else if (o->json) {
                cli_print_json(stdout, r, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
            } else {
                results_print_table(stdout, r);
            }
            rc = r ? EXIT_OK : EXIT_FAILED;
        }
        json_decref(r);
    }
    free(rel);
    free(index);
    free(ipath);
    return rc;
}

/* The row's "late": what the penalty took off (late_describe's words
 * and numbers), a broken extensions file's warning, or null. */
static json_t *late_cell(const json_t *late)
{
    struct buf text = BUF_INIT;
    int said = late_describe(late, &text);
    json_t *cell = NULL;
    if (said > 0)
        cell = json_pack("{s:f, s:s, s:f, s:f, s:s}", "days", jsonutil_num(late, "days", 0),
                         "unit", jsonutil_str(late, "unit", "day"), "penalty_percent",
                         jsonutil_num(late, "penalty_percent", 0), "score_before",
                         jsonutil_num(late, "score_before", 0), "text", buf_str(&text));
    if (cell && json_object_get(late, "error"))
        json_object_set(cell, "error", json_object_get(late, "error"));
    buf_free(&text);
    return cell ? cell : json_null();
}

/* -1 if memory ran out: the row is missing. */
static int add_row(json_t *rows, const char *student, const char *version, const json_t *r)
{
    const json_t *a = json_object_get(r, "assay");
    struct manual_tally t;
    struct buf total = BUF_INIT;
    results_manual_tally(r, &t);
    json_t *row = results_total_phrase(r, &total) < 0 ? NULL
                  : json_pack("{s:s, s:f, s:I}", "total", buf_str(&total), "manual_pending_points",
                              t.pending_points, "manual_pending_answers", (json_int_t)t.pending);
    buf_free(&total);
    if (!row)
        return -1;
    return json_array_append_new(rows, json_pack("{s:s, s:s, s:f, s:f, s:s, s:s, s:s, s:o, s:o}",
                                          "student", student,
                                          "version", version, "score", jsonutil_num(r, "score", 0),
                                          "max_score", jsonutil_num(r, "max_score", 0),
                                          "status", jsonutil_str(a, "status", "?"),
                                          "finished_at", jsonutil_str(a, "finished_at", ""),
                                          "job", jsonutil_str(a, "job_id", ""),
                                          "late", late_cell(json_object_get(a, "late")),
                                          "manual", row));
}

/* -1 if a row is missing for want of memory. */
static int student_rows(const struct spool *s, const struct results_opts *o, const char *student,
                        bool all, json_t *rows)
{
    int rc = 0;
    if (!all) {
        long long v = 0;
        json_t *r = record_latest(s, o->course, o->assignment, student, &v);
        char version[24];
        snprintf(version, sizeof version, "%lld", v);
        if (r)
            rc = add_row(rows, student, version, r);
        json_decref(r);
        return rc;
    }
    size_t n;
    long long *v = spool_versions(s, "results", o->course, o->assignment, student, &n);
    for (size_t i = n; i-- > 0;) {
        char rel[400], version[24];
        snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", o->course, o->assignment, student, v[i]);
        snprintf(version, sizeof version, "%lld", v[i]);
        json_t *r = record_read(s, rel);
        if (r)
            rc |= add_row(rows, student, version, r);
        json_decref(r);
    }
    free(v);
    return rc;
}

static int show_assignment(const struct spool *s, const struct results_opts *o)
{
    json_t *rows = json_array();
    if (!rows) {
        fprintf(stderr, "assay results: out of memory\n");
        return EXIT_FAILED;
    }
    int lost = 0;
    if (o->student) {
        lost = student_rows(s, o, o->student, true, rows);
    } else {
        char rel[200];
        snprintf(rel, sizeof rel, "results/%s/%s", o->course, o->assignment);
        struct fs_list students;
        if (scan_spool(s, rel, SCAN_NAMES, &students) < 0)
            fprintf(stderr, "assay results: out of memory listing %s; showing those listed\n", rel);
        for (size_t i = 0; i < students.n; i++)
            lost |= student_rows(s, o, students.names[i], false, rows);
        fs_list_free(&students);
    }
    if (lost < 0)
        fprintf(stderr, "assay results: out of memory: some results are not shown\n");
    if (o->json) {
        cli_print_json(stdout, rows, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    } else {
        cli_printf(stdout, "%-20s %7s %13s  %-7s %-24s %-28s %s\n", "STUDENT", "VERSION", "SCORE",
                   "STATUS", "GRADED AT", "JOB", "LATE PENALTY");
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r) {
            char score[120];   /* "5 / 7", or "5 of 7 points, 2 awaiting manual grading" */
            snprintf(score, sizeof score, "%s", jsonutil_str(json_object_get(r, "manual"), "total", ""));
            const json_t *late = json_object_get(r, "late");
            cli_printf(stdout, "%-20s %7s %13s  %-7s %-24s %-28s %s%s\n", jsonutil_str(r, "student", ""),
                       jsonutil_str(r, "version", ""), score, jsonutil_str(r, "status", ""),
                       jsonutil_str(r, "finished_at", ""), jsonutil_str(r, "job", ""),
                       jsonutil_str(late, "text", "-"),
                       json_object_get(late, "error") ? " [may be wrong: extensions.json is broken]"
                                                      : "");
        }
        cli_printf(stdout, "%zu result%s\n", json_array_size(rows), json_array_size(rows) == 1 ? "" : "s");
    }
    json_decref(rows);
    return lost < 0 ? EXIT_FAILED : EXIT_OK;
}

int cmd_results(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"job", required_argument, NULL, 'j'},
        {"course", required_argument, NULL, 'c'}, {"assignment", required_argument, NULL, 'a'},
        {"student", required_argument, NULL, 'u'}, {"json", no_argument, NULL, 'J'},
        {"view", required_argument, NULL, 'v'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct results_opts o = {0};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o.spool = optarg; break;
        case 'j': o.job = optarg; break;
        case 'c': o.course = optarg; break;
        case 'a': o.assignment = optarg; break;
        case 'u': o.student = optarg; break;
        case 'J': o.json = true; break;
        case 'v': o.student_view = !strcmp(optarg, "student"); break;
        case 'h': fputs(usage, stdout); return EXIT_OK;
        default: fputs(usage, stderr); return EXIT_USAGE;
        }
    }
    bool by_job = o.job && !o.course && !o.assignment;
    bool by_asg = !o.job && o.course && o.assignment && spool_name_is_valid(o.course) &&
                  spool_name_is_valid(o.assignment) && (!o.student || spool_name_is_valid(o.student));
    if ((!by_job && !by_asg) || optind != argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "results", false) < 0)
        return EXIT_FAILED;
    int rc = by_job ? show_job(&s, &o) : show_assignment(&s, &o);
    spool_close(&s);
    return rc;
}
