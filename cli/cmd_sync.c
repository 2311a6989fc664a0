/*
 * cmd_sync.c - `assay sync status|retry|resend` and `assay canvas roster`:
 * what staff see and do about the grades sent to Canvas.
 *
 *   sync status --course C [--assignment A] [--student U]
 *       per course: how many students' grades are delivered, waiting,
 *       not synced; each student waiting or not synced, and why
 *   sync retry  ...   dead deliveries back to pending/, fresh attempts
 *   sync resend ...   each student's grade queued again (their newest result;
 *                     also for students whose grade was never queued)
 *   canvas roster --course C
 *       the course's students from Canvas into courses/C/roster.json
 *       (assay-deliver --roster does it: assay links no HTTP client)
 *
 * A student's state is that of their newest delivery for an assignment
 * and destination (a newer grade delivered makes an older failure moot).
 * Everything here only reads and moves delivery files through
 * spool/delivery.c; assay-deliver does the sending.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/run.h"
#include "common/ids.h"
#include "spool/delivery.h"
#include "spool/record.h"
#include "spool/scan.h"

static const char usage[] =
    "Usage: assay sync status|retry|resend --course C [--assignment A] [--student U] [--spool S]\n"
    "       assay canvas roster --course C [--spool S]\n"
    "\n"
    "  sync status    each student's grade: delivered, waiting (and why), not synced (and why)\n"
    "  sync retry     send again what was given up on (after fixing the cause)\n"
    "  sync resend    send each student's latest grade again, whatever was sent before\n"
    "  canvas roster  import the course's students from Canvas (courses/C/roster.json)\n";

struct filter {
    const char *course, *assignment, *student;
    const json_t *jobs;             /* when set: only these job ids (an object's keys) */
};

/* The newest delivery of each student, assignment and destination. */
struct latest {
    struct delivery *v;
    const char **state;
    size_t n;
};

static bool matches(const struct filter *f, const struct delivery *d)
{
    if (f->jobs)
        return json_object_get(f->jobs, d->job_id) != NULL;
    return !strcmp(d->course, f->course) &&
           (!f->assignment || !strcmp(d->assignment, f->assignment)) &&
           (!f->student || !strcmp(d->student, f->student));
}

static bool same_target(const struct delivery *a, const struct delivery *b)
{
    return !strcmp(a->student, b->student) && !strcmp(a->assignment, b->assignment) &&
           !strcmp(a->dest, b->dest);
}

static const char *queued_at(const struct delivery *d)
{
    return jsonutil_str(d->json, "queued_at", "");
}

/* Adds D (taken over) unless a newer one for the same target is there. */
static int keep_newest(struct latest *l, struct delivery *d, const char *state)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!same_target(&l->v[i], d))
            continue;
        if (strcmp(queued_at(d), queued_at(&l->v[i])) > 0) {
            delivery_free(&l->v[i]);
            l->v[i] = *d;
            l->state[i] = state;
        } else {
            delivery_free(d);
        }
        return 0;
    }
    struct delivery *v = realloc(l->v, (l->n + 1) * sizeof *v);
    const char **s = v ? realloc(l->state, (l->n + 1) * sizeof *s) : NULL;
    if (v)
        l->v = v;
    if (!s) {
        delivery_free(d);
        return -1;
    }
    l->state = s;
    l->v[l->n] = *d;
    l->state[l->n++] = state;
    return 0;
}

/* Reads every delivery file matching F; unreadable ones are said. */
static int load_latest(const struct spool *s, const struct filter *f, struct latest *l)
{
    const char *states[] = {DELIVERY_PENDING, DELIVERY_SENDING, DELIVERY_DONE, DELIVERY_DEAD};
    int rc = 0;
    for (int k = 0; k < 4 && rc == 0; k++) {
        struct fs_list names;
        rc = delivery_list(s, states[k], &names);
        for (size_t i = 0; i < names.n && rc == 0; i++) {
            struct delivery d;
            struct err e;
            if (delivery_load(s, states[k], names.names[i], &d, &e) < 0)
                cli_printf(stderr, "assay sync: %s/%s.json cannot be read: %s\n", states[k],
                           names.names[i], e.msg);
            else if (!matches(f, &d))
                delivery_free(&d);
            else
                rc = keep_newest(l, &d, states[k]);
        }
        fs_list_free(&names);
    }
    if (rc < 0)
        fprintf(stderr, "assay sync: out of memory\n");
    return rc;
}

static void latest_free(struct latest *l)
{
    for (size_t i = 0; i < l->n; i++)
        delivery_free(&l->v[i]);
    free(l->v);
    free(l->state);
}

/* The category of a dead delivery in words. */
static const char *category_words(const char *c)
{
    static const char *const names[][2] = {
        {"unknown_student", "unknown student"}, {"token", "token refused"},
        {"unpublished", "course not published"}, {"refused", "refused"},
        {"config", "configuration"}, {"attempts", "attempts used up"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (c && !strcmp(c, names[i][0]))
            return names[i][1];
    return "not sent";
}

static void print_waiting(const struct delivery *d, const char *state, double now)
{
    const char *why = jsonutil_str(d->json, "last_error", NULL);
    if (!strcmp(state, DELIVERY_SENDING))
        cli_printf(stdout, "  %s (%s, version %lld): being sent\n", d->student, d->assignment,
                   d->version);
    else if (why)
        cli_printf(stdout, "  %s (%s, version %lld): %d attempt%s failed, next in %.0f s: %s\n",
                   d->student, d->assignment, d->version, d->tries, d->tries == 1 ? "" : "s",
                   d->not_before > now ? d->not_before - now : 0, why);
    else
        cli_printf(stdout, "  %s (%s, version %lld): queued\n", d->student, d->assignment,
                   d->version);
}

/* Prints L: the counts after HEAD, then each student waiting or not
 * synced and why.  Returns how many are not synced. */
static size_t print_latest(const struct latest *l, const char *head)
{
    size_t done = 0, waiting = 0, dead = 0;
    for (size_t i = 0; i < l->n; i++) {
        done += !strcmp(l->state[i], DELIVERY_DONE);
        dead += !strcmp(l->state[i], DELIVERY_DEAD);
    }
    waiting = l->n - done - dead;
    cli_printf(stdout, "%s: %zu delivered, %zu waiting, %zu not synced\n", head, done,
               waiting, dead);
    double now = clock_wall();
    if (waiting)
        printf("Waiting:\n");
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->state[i], DELIVERY_PENDING) || !strcmp(l->state[i], DELIVERY_SENDING))
            print_waiting(&l->v[i], l->state[i], now);
    if (dead)
        printf("Not synced:\n");
    for (size_t i = 0; i < l->n; i++) {
        const struct delivery *d = &l->v[i];
        if (strcmp(l->state[i], DELIVERY_DEAD))
            continue;
        const char *cat = jsonutil_str(d->json, "category", NULL);
        cli_printf(stdout, "  %s (%s, version %lld): %s: %s\n", d->student, d->assignment,
                   d->version, category_words(cat), jsonutil_str(d->json, "reason", "?"));
    }
    return dead;
}

static int sync_status(const struct spool *s, const struct filter *f)
{
    struct latest l = {0};
    if (load_latest(s, f, &l) < 0) {
        latest_free(&l);
        return EXIT_FAILED;
    }
    size_t dead = print_latest(&l, f->course);
    if (dead)
        printf("To send them once the cause is fixed: assay sync retry --course %s\n", f->course);
    latest_free(&l);
    return dead ? EXIT_FAILED : EXIT_OK;
}

/* True while some of L is still pending or being sent. */
static bool unsettled(const struct latest *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->state[i], DELIVERY_PENDING) || !strcmp(l->state[i], DELIVERY_SENDING))
            return true;
    return false;
}

void sync_report_jobs(const struct spool *s, const json_t *queued, double wait_s)
{
    struct filter f = {.jobs = json_object()};
    size_t i;
    const json_t *q;
    json_array_foreach(queued, i, q)
        json_object_set_new((json_t *)f.jobs, jsonutil_str(q, "id", ""), json_true());
    struct latest l = {0};
    double start = clock_mono();
    for (;;) {
        if (!f.jobs || load_latest(s, &f, &l) < 0 || !l.n || !unsettled(&l) ||
            clock_mono() - start > wait_s)
            break;
        latest_free(&l);
        memset(&l, 0, sizeof l);
        nanosleep(&(struct timespec){0, 200000000L}, NULL);   /* deliveries take a while */
    }
    if (l.n && print_latest(&l, "Sent to the course's destinations"))
        printf("To send them once the cause is fixed: assay sync retry --course COURSE "
               "(`assay sync status` has the details)\n");
    latest_free(&l);
    json_decref((json_t *)f.jobs);
}

/* retry: each student's dead delivery back to pending/. */
static int sync_retry(const struct spool *s, const struct filter *f)
{
    struct latest l = {0};
    if (load_latest(s, f, &l) < 0) {
        latest_free(&l);
        return EXIT_FAILED;
    }
    size_t n = 0, failed = 0;
    for (size_t i = 0; i < l.n; i++) {
        if (strcmp(l.state[i], DELIVERY_DEAD))
            continue;
        struct err e;
        int rc = delivery_retry(s, l.v[i].key, &e);
        if (rc < 0) {
            cli_printf(stderr, "assay sync: %s (%s): %s\n", l.v[i].student, l.v[i].key, e.msg);
            failed++;
        }
        n += rc == 0;
    }
    cli_printf(stdout, "%zu deliver%s of %s queued again\n", n, n == 1 ? "y" : "ies", f->course);
    latest_free(&l);
    return failed ? EXIT_FAILED : EXIT_OK;
}

/* Queues STUDENT's grade for ASG (their newest recorded version) again;
 * 1 when queued, 0 when there is nothing to send, -1 (said) on error. */
static int resend_one(const struct spool *s, const char *course, const char *asg,
                      const char *student)
{
    long long version = 0;
    json_t *r = record_latest(s, course, asg, student, &version);
    if (!r)
        return 0;
    char id[40], change[80];
    ids_job_id(id);
    snprintf(change, sizeof change, "%s.resend", id);
    struct delivery_target t = {course, asg, student, version,
                                jsonutil_str(json_object_get(r, "assay"), "job_id", id), 0, false,
                                NULL};
    struct err e;
    int rc = delivery_queue_change(s, &t, change, &e);
    json_decref(r);
    if (rc < 0)
        cli_printf(stderr, "assay sync resend: %s (%s): %s\n", student, asg, e.msg);
    return rc < 0 ? -1 : rc > 0;
}

/* resend: every student's grade (with a recorded result) queued again. */
static int sync_resend(const struct spool *s, const struct filter *f)
{
    struct fs_list asgs, students;
    char *dir = spool_path(s, "results/%s", f->course);
    scan_dir(dir, SCAN_NAMES, &asgs);
    free(dir);
    size_t n = 0, failed = 0;
    for (size_t i = 0; i < asgs.n; i++) {
        if (f->assignment && strcmp(f->assignment, asgs.names[i]))
            continue;
        dir = spool_path(s, "results/%s/%s", f->course, asgs.names[i]);
        scan_dir(dir, SCAN_NAMES, &students);
        free(dir);
        for (size_t k = 0; k < students.n; k++) {
            if (f->student && strcmp(f->student, students.names[k]))
                continue;
            int rc = resend_one(s, f->course, asgs.names[i], students.names[k]);
            failed += rc < 0;
            n += rc > 0;
        }
        fs_list_free(&students);
    }
    fs_list_free(&asgs);
    cli_printf(stdout, "%zu grade%s of %s queued to be sent again\n", n, n == 1 ? "" : "s",
               f->course);
    return failed ? EXIT_FAILED : EXIT_OK;
}

/* Parses --course/--assignment/--student/--spool from ARGV (after the
 * subcommand); -1 on a usage error. */
static int parse(int argc, char **argv, struct filter *f, const char **spool)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"course", required_argument, NULL, 'c'},
        {"assignment", required_argument, NULL, 'a'}, {"student", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': *spool = optarg; break;
        case 'c': f->course = optarg; break;
        case 'a': f->assignment = optarg; break;
        case 'u': f->student = optarg; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    if (optind != argc || !f->course)
        return -1;
    const char *names[][2] = {{"--course", f->course}, {"--assignment", f->assignment},
                              {"--student", f->student}};
    for (int i = 0; i < 3; i++)
        if (names[i][1] && !spool_name_is_valid(names[i][1])) {
            cli_printf(stderr, "assay: %s \"%s\" is not a name Assay uses (letters, digits, "
                       "'-', '_', '.', '@', at most 64, not starting with '.')\n", names[i][0],
                       names[i][1]);
            return -1;
        }
    return 0;
}

int cmd_sync(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "", *spool = NULL;
    struct filter f = {0};
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    bool known = !strcmp(sub, "status") || !strcmp(sub, "retry") || !strcmp(sub, "resend");
    if (!known || parse(argc - 1, argv + 1, &f, &spool) < 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "sync", strcmp(sub, "status") != 0) < 0)
        return EXIT_FAILED;
    int rc = !strcmp(sub, "status") ? sync_status(&s, &f)
             : !strcmp(sub, "retry") ? sync_retry(&s, &f) : sync_resend(&s, &f);
    spool_close(&s);
    return rc;
}

int cmd_canvas(int argc, char **argv)
{
    const char *spool = NULL;
    struct filter f = {0};
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "roster") || parse(argc - 1, argv + 1, &f, &spool) < 0 ||
        f.assignment || f.student) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct spool s;
    if (cli_open_spool(spool, &s, "canvas roster", true) < 0)
        return EXIT_FAILED;
    char *dir = fs_program_dir(), *exe = dir ? fs_join(dir, "assay-deliver") : NULL;
    char *const args[] = {exe, "--spool", s.root, "--roster", (char *)f.course, NULL};
    struct buf out = BUF_INIT;
    struct err e;
    int rc = exe ? run_capture(args, 1u << 20, &out, &e) : err_set(&e, "out of memory");
    if (rc < 0)
        cli_printf(stderr, "assay canvas roster: cannot run %s: %s\n", exe ? exe : "assay-deliver",
                   e.msg);
    else
        cli_printf(stdout, "%s", buf_str(&out));
    buf_free(&out);
    free(exe);
    free(dir);
    spool_close(&s);
    return rc < 0 ? EXIT_FAILED : rc;
}
