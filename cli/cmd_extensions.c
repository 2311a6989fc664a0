/*
 * cmd_extensions.c - `assay extensions`: students' own due dates.
 *
 *   assay extensions list   --course C --assignment A [--student U] [--json]
 *   assay extensions grant  --course C --assignment A --student U (--days N | --until TIME)
 *   assay extensions revoke --course C --assignment A --student U
 *
 * The extensions live in courses/C/A/extensions.json (spool/extensions.c),
 * which the recorder reads when it applies the late policy.  grant and
 * revoke change it under a lock, check the whole file as it would be
 * (so a change never writes a broken file, and a broken entry can be
 * mended by granting or revoking it), write it in one rename and log the
 * change in the central log with who made it.  list shows each entry
 * with the due date it gives, and every problem of a broken file, with
 * the field and the fix.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/log.h"
#include "cli/commands.h"
#include "contract/assignment.h"
#include "spool/extensions.h"

static const char usage[] =
    "Usage: assay extensions list   --course C --assignment A [--student U] [--json]\n"
    "       assay extensions grant  --course C --assignment A --student U\n"
    "                               (--days N | --until TIME) [--new-student]\n"
    "       assay extensions revoke --course C --assignment A --student U\n"
    "       (each takes --spool S)\n"
    "\n"
    "Students' own due dates for assignment A of course C, kept in\n"
    "courses/C/A/extensions.json.  grant gives student U N more days after the\n"
    "assignment's due date (fractions allowed, 0 to 365) or a due date of their own\n"
    "(--until, ISO 8601 such as 2026-12-02T23:59:00Z); revoke takes it back; list\n"
    "shows every extension with the due date it gives, and checks the file.  A\n"
    "change is checked before the file is replaced, and logged with who made it.\n"
    "It applies from the student's next submission or regrade (assay regrade).\n"
    "\n"
    "  --new-student   grant to a student who has submitted nothing to the course yet\n"
    "                  (refused otherwise, in case the name is misspelt)\n";

struct ext_opts {
    const char *spool, *course, *asg, *student, *until;
    double days;                /* NAN: not given */
    bool json, new_student;
};

static int parse(int argc, char **argv, struct ext_opts *o)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'},   {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"student", required_argument, NULL, 'u'},
        {"days", required_argument, NULL, 'd'},    {"until", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},          {"new-student", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    o->days = NAN;
    char *end;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->asg = optarg; break;
        case 'u': o->student = optarg; break;
        case 't': o->until = optarg; break;
        case 'j': o->json = true; break;
        case 'n': o->new_student = true; break;
        case 'd':
            o->days = strtod(optarg, &end);
            if (*end || !*optarg || !(o->days >= 0 && o->days <= 365)) {
                cli_printf(stderr, "assay extensions: --days \"%s\" must be a number of days "
                           "from 0 to 365 (fractions allowed: 1.5)\n", optarg);
                return -1;
            }
            break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

/* -1 (said) unless the options suit the subcommand CMD. */
static int check_opts(const char *cmd, const struct ext_opts *o, int rest)
{
    bool grant = !strcmp(cmd, "grant"), list = !strcmp(cmd, "list");
    const char *names[] = {o->course, o->asg, o->student}, *what[] = {"--course", "--assignment",
                                                                       "--student"};
    for (int i = 0; i < 3; i++) {
        if (!names[i] && (i < 2 || !list)) {
            cli_printf(stderr, "assay extensions %s: %s is required\n", cmd, what[i]);
            return -1;
        }
        if (names[i] && !spool_name_is_valid(names[i])) {
            cli_printf(stderr, "assay extensions %s: %s \"%s\" may hold only letters, digits, "
                       "- _ . @ (at most 64)\n", cmd, what[i], names[i]);
            return -1;
        }
    }
    double due;
    if (grant && isnan(o->days) == !o->until) {
        cli_printf(stderr, "assay extensions grant: give either --days N or --until TIME\n");
        return -1;
    }
    if (grant && o->until && !clock_parse_iso8601(o->until, &due)) {
        cli_printf(stderr, "assay extensions grant: --until \"%s\" is not an ISO 8601 time such "
                   "as 2026-12-02T23:59:00Z (or with +01:00 for a time zone)\n", o->until);
        return -1;
    }
    if (!grant && (o->until || !isnan(o->days) || o->new_student)) {
        cli_printf(stderr, "assay extensions %s: --days, --until and --new-student are for "
                   "grant\n", cmd);
        return -1;
    }
    if (rest) {
        cli_printf(stderr, "assay extensions %s: unexpected argument\n", cmd);
        return -1;
    }
    return 0;
}

/* "2 days" or "until 2026-12-02T23:59:00Z", what ENTRY grants. */
static void given(const json_t *entry, char *out, size_t n)
{
    const json_t *days = json_object_get(entry, "days");
    const char *due = jsonutil_str(entry, "due", NULL);
    if (json_is_number(days))
        snprintf(out, n, "%g day%s", json_number_value(days),
                 json_number_value(days) == 1 ? "" : "s");
    else if (due)
        snprintf(out, n, "until %.64s", due);
    else
        snprintf(out, n, "-");   /* a broken entry: the problems say what is wrong */
}

/* Prints every problem of the file and the fix, as assay extensions CMD. */
static void say_problems(const char *cmd, const char *course, const char *asg,
                         const struct problems *p, const char *then)
{
    cli_printf(stderr, "assay extensions %s: courses/%s/%s/extensions.json is broken (%zu "
               "problem%s)%s:\n", cmd, course, asg, p->count, p->count == 1 ? "" : "s", then);
    for (size_t i = 0; i < p->count; i++)
        cli_printf(stderr, "  %s\n", p->items[i]);
    cli_printf(stderr, "To fix: %s.\n", EXTENSIONS_FIX);
}

/* ---- list ---- */

static json_t *list_row(const struct spool *s, const struct ext_opts *o,
                        const struct late_policy *lp, const char *student, const json_t *entry)
{
    struct problems ignored = {0};   /* listed with the file's problems */
    double due = lp->due;
    char where[128], due_s[32], what[128];
    snprintf(where, sizeof where, "$.%.80s", student);
    bool ok = late_extension_read(entry, where, lp, &due, &ignored) == 0;
    problems_free(&ignored);
    clock_iso8601(due, due_s);
    given(entry, what, sizeof what);
    return json_pack("{s:s, s:s, s:o, s:b}", "student", student, "given", what, "due",
                     ok && lp->has_due ? json_string(due_s) : json_null(), "submitted",
                     extensions_student_known(s, o->course, student));
}

static void print_list(const struct ext_opts *o, const struct late_policy *lp, const json_t *rows)
{
    char due_s[32];
    clock_iso8601(lp->due, due_s);
    cli_printf(stdout, "Extensions of %s/%s (due %s):\n", o->course, o->asg,
               lp->has_due ? due_s : "no due date");
    if (!json_array_size(rows))
        cli_printf(stdout, "  none\n");
    size_t i;
    const json_t *r;
    json_array_foreach(rows, i, r)
        cli_printf(stdout, "  %-20s %-32s due %s%s\n", jsonutil_str(r, "student", "?"),
                   jsonutil_str(r, "given", "?"),
                   jsonutil_str(r, "due", lp->has_due ? "? (broken entry)" : "-"),
                   json_is_true(json_object_get(r, "submitted")) ? ""
                       : "  (no submission to the course yet)");
}

static int run_list(const struct spool *s, const struct ext_opts *o, const struct late_policy *lp)
{
    struct problems p = {0};
    json_t *ext = extensions_load(s, o->course, o->asg, lp, &p), *rows = json_array();
    const char *student;
    json_t *entry;
    json_object_foreach(ext, student, entry)
        if (!o->student || !strcmp(student, o->student))
            json_array_append_new(rows, list_row(s, o, lp, student, entry));
    if (o->json) {
        json_t *probs = json_array();
        for (size_t i = 0; i < p.count; i++)
            json_array_append_new(probs, json_string(p.items[i]));
        char due_s[32];
        clock_iso8601(lp->due, due_s);
        json_t *out = json_pack("{s:s, s:s, s:o, s:O, s:o}", "course", o->course, "assignment",
                                o->asg, "due", lp->has_due ? json_string(due_s) : json_null(),
                                "extensions", rows, "problems", probs);
        if (out)
            cli_print_json(stdout, out, JSON_INDENT(2));
        json_decref(out);
    } else {
        print_list(o, lp, rows);
    }
    if (p.count)
        say_problems("list", o->course, o->asg, &p, "");
    int rc = p.count || !rows ? EXIT_FAILED : EXIT_OK;
    json_decref(rows);
    json_decref(ext);
    problems_free(&p);
    return rc;
}

/* ---- grant, revoke ---- */

/* The entry CMD writes for the student (NULL: revoke); -1 (said) when
 * it may not be made. */
static int new_entry(const char *cmd, const struct spool *s, const struct ext_opts *o,
                     json_t **entry)
{
    *entry = NULL;
    if (!strcmp(cmd, "revoke"))
        return 0;
    if (!o->new_student && !extensions_student_known(s, o->course, o->student)) {
        cli_printf(stderr, "assay extensions grant: %s has submitted nothing to course %s: "
                   "check the spelling, or pass --new-student to grant it all the same\n",
                   o->student, o->course);
        return -1;
    }
    /* whole days as an integer: the file is also read and written by people */
    json_t *days = o->until ? NULL : o->days == floor(o->days) ? json_integer((json_int_t)o->days)
                                                               : json_real(o->days);
    *entry = o->until ? json_pack("{s:s}", "due", o->until) : json_pack("{s:o}", "days", days);
    if (!*entry) {
        fprintf(stderr, "assay extensions grant: out of memory\n");
        return -1;
    }
    return 0;
}

/* The log line and the line printed for the change made: BEFORE and
 * AFTER are the student's entry (NULL: none). */
static void tell(const struct ext_opts *o, const struct late_policy *lp,
                 const json_t *before, const json_t *after)
{
    char who[200], was[128] = "none", now[128] = "", due_s[32] = "";
    cli_invoking_user(who, sizeof who);
    if (before)
        given(before, was, sizeof was);
    if (after) {
        struct problems ignored = {0};   /* checked before it was written */
        double due = lp->due;
        late_extension_read(after, "$", lp, &due, &ignored);
        problems_free(&ignored);
        given(after, now, sizeof now);
        clock_iso8601(due, due_s);
        log_msg(LOG_INFO, NULL, "extension of %s for %s/%s granted by %s: %s, due %s (was: %s)",
                o->student, o->course, o->asg, who, now, due_s, was);
        cli_printf(stdout, "%s: %s/%s due %s (%s)\n", o->student, o->course, o->asg, due_s, now);
    } else {
        log_msg(LOG_INFO, NULL, "extension of %s for %s/%s revoked by %s (was: %s)", o->student,
                o->course, o->asg, who, was);
        cli_printf(stdout, "%s: the extension for %s/%s is revoked (it was %s)\n", o->student,
                   o->course, o->asg, was);
    }
    cli_printf(stdout, "It applies from %s's next submission or regrade (assay regrade --course "
               "%s --assignment %s).\n", o->student, o->course, o->asg);
}

/* Changes, checks and writes the file, under its lock (extensions_set,
 * which the web console's form uses too). */
static int change_file(const char *cmd, const struct spool *s, const struct ext_opts *o,
                       const struct late_policy *lp)
{
    json_t *entry, *before = NULL;
    if (new_entry(cmd, s, o, &entry) < 0)
        return EXIT_FAILED;
    json_t *after = json_incref(entry);
    struct problems p = {0};
    struct err e;
    int rc = EXIT_FAILED;
    if (extensions_set(s, o->course, o->asg, o->student, entry, lp, &before, &p, &e) == 0)
        rc = EXIT_OK;
    else if (p.count)
        say_problems(cmd, o->course, o->asg, &p, ", so nothing was changed");
    else
        cli_printf(stderr, "assay extensions %s: %s; nothing was changed\n", cmd, e.msg);
    if (rc == EXIT_OK)
        tell(o, lp, before, after);
    problems_free(&p);
    json_decref(before);
    json_decref(after);
    return rc;
}

static int run_change(const char *cmd, const struct spool *s, const struct ext_opts *o,
                      const struct late_policy *lp)
{
    char *logpath = spool_path(s, "logs/assay.log");
    /* every change is logged with who made it, or not made */
    if (log_open("assay", logpath) < 0 || !logpath) {
        cli_printf(stderr, "assay extensions %s: cannot open %s to log the change: %s; nothing "
                   "was changed\n", cmd, logpath ? logpath : "the central log",
                   logpath ? strerror(errno) : "out of memory");
        free(logpath);
        return EXIT_FAILED;
    }
    free(logpath);
    int rc = change_file(cmd, s, o, lp);
    log_close();
    return rc;
}

int cmd_extensions(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    struct ext_opts o = {0};
    if ((strcmp(cmd, "list") && strcmp(cmd, "grant") && strcmp(cmd, "revoke")) ||
        parse(argc - 1, argv + 1, &o) < 0 || check_opts(cmd, &o, optind != argc - 1) < 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(o.spool, &s, "extensions", strcmp(cmd, "list") != 0) < 0)
        return EXIT_FAILED;
    char *dir = spool_path(&s, "courses/%s/%s", o.course, o.asg);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* the assignment's own problems are reported by grading */
    int rc = EXIT_FAILED;
    if (assignment_summary_load(dir, &sum, &ignored) < 0 && !sum.json)
        cli_printf(stderr, "assay extensions %s: there is no assignment %s/%s in this spool "
                   "(courses/%s/%s/assignment.json)\n", cmd, o.course, o.asg, o.course, o.asg);
    else if (!strcmp(cmd, "grant") && !sum.late.has_due)
        cli_printf(stderr, "assay extensions grant: %s/%s has no due date (\"due\" in its "
                   "assignment.json), so an extension would change nothing\n", o.course, o.asg);
    else
        rc = !strcmp(cmd, "list") ? run_list(&s, &o, &sum.late)
                                  : run_change(cmd, &s, &o, &sum.late);
    problems_free(&ignored);
    assignment_summary_free(&sum);
    free(dir);
    spool_close(&s);
    return rc;
}
