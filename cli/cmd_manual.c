/*
 * cmd_manual.c - `assay manual list|grade`: grading by hand the answers
 * a test leaves to a person (nbgrader's manually graded cells and tasks).
 *
 *   assay manual list  --course C --assignment A [--student U] [--json]
 *   assay manual grade --course C --assignment A --student U --cell ID
 *                      --points P [--comment TEXT] [--version V]
 *
 * list shows, for each student's latest result, every such answer with
 * its points and whether it awaits grading; with --student it also
 * prints the answers themselves, to be read before grading.  grade
 * records a grade with who gave it and when (spool/manual.c keeps it
 * beside the results, so regrading keeps it), updates the recorded
 * result at once, and logs the change in the central log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonutil.h"
#include "common/log.h"
#include "cli/commands.h"
#include "contract/results.h"
#include "spool/manual.h"
#include "spool/record.h"
#include "spool/scan.h"

static const char usage[] =
    "Usage: assay manual list  --course C --assignment A [--student U] [--json]\n"
    "       assay manual grade --course C --assignment A --student U --cell ID\n"
    "                          --points P [--comment TEXT] [--version V]\n"
    "       (each takes --spool S)\n"
    "\n"
    "Answers that a person grades (an nbgrader notebook's manually graded cells\n"
    "and tasks).  list shows each student's latest result with those answers, their\n"
    "points and status (pending, no_response, graded); with --student also the\n"
    "answers' text.  grade gives answer ID (its grade_id) of the student's latest\n"
    "graded version (or --version V) P points, between 0 and the answer's points;\n"
    "the result's score changes at once, the grade is logged with who gave it, and\n"
    "a regrade of that version keeps it.\n";

struct manual_opts {
    const char *spool, *course, *asg, *student, *cell, *comment, *points_text;
    double points;
    long long version;
    bool json;
};

static int parse(int argc, char **argv, struct manual_opts *o)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},      {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"student", required_argument, NULL, 'u'},
        {"cell", required_argument, NULL, 'i'},       {"points", required_argument, NULL, 'p'},
        {"comment", required_argument, NULL, 'm'},    {"version", required_argument, NULL, 'v'},
        {"json", no_argument, NULL, 'j'},             {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    struct err e;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->asg = optarg; break;
        case 'u': o->student = optarg; break;
        case 'i': o->cell = optarg; break;
        case 'm': o->comment = optarg; break;
        case 'j': o->json = true; break;
        case 'p':
            o->points_text = optarg;
            if (manual_parse_points(optarg, &o->points, &e) < 0) {
                cli_printf(stderr, "assay manual grade: %s\n", e.msg);
                return -1;
            }
            break;
        case 'v':
            o->version = strtoll(optarg, &end, 10);
            if (*end || o->version < 1) {
                cli_printf(stderr, "assay manual grade: --version \"%s\" must be a version "
                           "number (1, 2, ...)\n", optarg);
                return -1;
            }
            break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

/* -1 (said) unless the options suit CMD. */
static int check_opts(const char *cmd, const struct manual_opts *o)
{
    bool grade = !strcmp(cmd, "grade");
    const char *names[] = {o->course, o->asg, o->student};
    const char *what[] = {"--course", "--assignment", "--student"};
    for (int i = 0; i < 3; i++) {
        if (!names[i] && (i < 2 || grade)) {
            cli_printf(stderr, "assay manual %s: %s is required\n", cmd, what[i]);
            return -1;
        }
        if (names[i] && !spool_name_is_valid(names[i])) {
            cli_printf(stderr, "assay manual %s: %s \"%s\" may hold only letters, digits, "
                       "- _ . @ (at most 64)\n", cmd, what[i], names[i]);
            return -1;
        }
    }
    if (grade && (!o->cell || !o->points_text)) {
        cli_printf(stderr, "assay manual grade: --cell ID and --points P are required (assay "
                   "manual list shows the answers and their points)\n");
        return -1;
    }
    if (!grade && (o->cell || o->points_text || o->comment || o->version)) {
        cli_printf(stderr, "assay manual list: --cell, --points, --comment and --version are "
                   "for grade\n");
        return -1;
    }
    return 0;
}

/* ---- list ---- */

/* One line per answer of RESULTS (and, with SHOW, its text). */
static void print_answers(const char *student, long long version, const json_t *r, bool show)
{
    struct buf total = BUF_INIT;
    results_total_phrase(r, &total);   /* out of memory: an empty total, the answers still listed */
    cli_printf(stdout, "%s (version %lld): %s\n", student, version, buf_str(&total));
    buf_free(&total);
    size_t i, j;
    const json_t *test, *it;
    json_array_foreach(json_object_get(r, "tests"), i, test)
        json_array_foreach(json_object_get(test, "needs_manual_grading"), j, it) {
            const char *status = jsonutil_str(it, "status", "pending");
            char score[40] = "-";
            if (strcmp(status, "pending"))
                snprintf(score, sizeof score, "%g", jsonutil_num(it, "score", 0));
            cli_printf(stdout, "  %-24s %-9s %6s / %-6g %-12s %s%s%s\n",
                       jsonutil_str(it, "grade_id", "?"), jsonutil_str(it, "cell_type", ""),
                       score, jsonutil_num(it, "points", 0), status,
                       jsonutil_str(it, "graded_by", jsonutil_str(it, "message", "")),
                       json_object_get(it, "graded_at") ? " at " : "",
                       jsonutil_str(it, "graded_at", ""));
            if (json_object_get(it, "comment"))
                cli_printf(stdout, "      comment: %s\n", jsonutil_str(it, "comment", ""));
            if (show && json_object_get(it, "answer")) {
                cli_printf(stdout, "      ---- answer ----\n");
                const char *a = jsonutil_str(it, "answer", "");
                while (*a) {
                    size_t len = strcspn(a, "\n");
                    cli_printf(stdout, "      | %.*s\n", (int)len, a);
                    a += len + (a[len] == '\n');
                }
            }
        }
}

/* Adds STUDENT's latest result to ROWS (JSON) or prints it: 1 if it has
 * answers graded by hand, 0 if not, -1 if out of memory. */
static int list_student(const struct spool *s, const struct manual_opts *o, const char *student,
                        json_t *rows)
{
    long long version = 0;
    json_t *r = record_latest(s, o->course, o->asg, student, &version);
    struct manual_tally t;
    results_manual_tally(r, &t);
    int rc = r && t.items > 0;
    if (rc) {
        if (!o->json) {
            print_answers(student, version, r, o->student != NULL);
        } else {
            json_t *items = json_array();
            size_t i;
            const json_t *test;
            json_array_foreach(json_object_get(r, "tests"), i, test)
                json_array_extend(items, json_object_get(test, "needs_manual_grading"));
            rc = json_array_append_new(rows, json_pack("{s:s, s:I, s:f, s:f, s:f, s:o}",
                                       "student", student, "version", (json_int_t)version,
                                       "score", jsonutil_num(r, "score", 0), "max_score",
                                       jsonutil_num(r, "max_score", 0), "pending_points",
                                       t.pending_points, "answers", items)) < 0 ? -1 : 1;
        }
    }
    json_decref(r);
    return rc;
}

static int list(const struct spool *s, const struct manual_opts *o)
{
    json_t *rows = json_array();
    struct fs_list students = {0};
    int rc = rows ? 0 : -1, shown = 0;
    if (o->student) {
        int got = list_student(s, o, o->student, rows);
        rc |= got < 0 ? -1 : 0;
        shown += got > 0;
    } else {
        char rel[200];
        snprintf(rel, sizeof rel, "results/%s/%s", o->course, o->asg);
        rc |= scan_spool(s, rel, SCAN_NAMES, &students);
        for (size_t i = 0; i < students.n; i++) {
            int got = list_student(s, o, students.names[i], rows);
            rc |= got < 0 ? -1 : 0;
            shown += got > 0;
        }
        fs_list_free(&students);
    }
    if (o->json)
        cli_print_json(stdout, rows, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
    else if (shown == 0)
        cli_printf(stdout, "No result of %s/%s%s%s has answers graded by hand.\n", o->course,
                   o->asg, o->student ? " by " : "", o->student ? o->student : "");
    if (rc < 0)
        fprintf(stderr, "assay manual list: out of memory: some answers are not shown\n");
    json_decref(rows);
    return rc < 0 ? EXIT_FAILED : EXIT_OK;
}

/* ---- grade ---- */

static int grade(const struct spool *s, const struct manual_opts *o)
{
    char who[200];
    cli_invoking_user(who, sizeof who);
    char *logpath = spool_path(s, "logs/assay.log");
    /* every grade is logged with who gave it, or not given */
    if (!logpath || log_open("assay", logpath) < 0) {
        cli_printf(stderr, "assay manual grade: cannot open %s to log the grade: %s; nothing "
                   "was changed\n", logpath ? logpath : "the central log",
                   logpath ? strerror(errno) : "out of memory");
        free(logpath);
        return EXIT_FAILED;
    }
    free(logpath);
    struct err e;
    long long version = 0;
    json_t *before = NULL;
    if (manual_grade(s, o->course, o->asg, o->student, o->version, o->cell, o->points,
                     o->comment, who, &version, &before, &e) < 0) {
        cli_printf(stderr, "assay manual grade: %s\n", e.msg);
        return EXIT_FAILED;
    }
    char was[64] = "none";
    if (before)
        snprintf(was, sizeof was, "%g", jsonutil_num(before, "points", 0));
    json_decref(before);
    log_msg(LOG_INFO, NULL, "manual grade of %s's answer %s for %s/%s version %lld: %g points, "
            "given by %s (was: %s)", o->student, o->cell, o->course, o->asg, version, o->points,
            who, was);
    char rel[600];
    snprintf(rel, sizeof rel, "results/%s/%s/%s/%lld", o->course, o->asg, o->student, version);
    json_t *r = record_read(s, rel);
    struct buf total = BUF_INIT;
    if (r)
        results_total_phrase(r, &total);   /* out of memory: the line says less */
    cli_printf(stdout, "%s: answer %s of %s/%s version %lld graded %g (was: %s); total now %s\n",
               o->student, o->cell, o->course, o->asg, version, o->points, was,
               r ? buf_str(&total) : "unknown (the result cannot be read)");
    buf_free(&total);
    json_decref(r);
    return EXIT_OK;
}

int cmd_manual(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "list") && strcmp(argv[1], "grade"))) {
        if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
            fputs(usage, stdout);
            return EXIT_OK;
        }
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    struct manual_opts o = {0};
    if (parse(argc - 1, argv + 1, &o) < 0 || check_opts(cmd, &o) < 0 || optind != argc - 1) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "manual", !strcmp(cmd, "grade")) < 0)
        return EXIT_FAILED;
    int rc = !strcmp(cmd, "grade") ? grade(&s, &o) : list(&s, &o);
    spool_close(&s);
    return rc;
}
