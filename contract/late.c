/*
 * late.c - what a late submission costs.
 *
 * assignment.json may say
 *     "due": "2026-11-30T23:59:00Z",
 *     "late": {"penalty_per_day": 10, "max_late_days": 3}
 * (or "penalty_per_hour"): each started day (hour) after the due date
 * takes that percentage of the maximum score off the score, and a
 * submission more than max_late_days late scores 0 - it is still graded
 * and recorded, so the instructor sees the work and can waive it.  A
 * student's own due date can be moved in the assignment directory's
 * extensions.json.
 *
 * The penalty is applied by spool/record.c when a result is recorded on
 * the primary, against the time the student submitted (the job's
 * submitted_at, which a regrade keeps), never the time of grading.
 * assignment.c validates the keys with late_policy_read.
 */
#define _GNU_SOURCE
#include "contract/late.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/jsonutil.h"
#include "common/check.h"
#include "contract/results.h"

static const char *const late_keys[] = {"penalty_per_day", "penalty_per_hour", "max_late_days",
                                        NULL};

void late_policy_read(const json_t *assignment, struct late_policy *lp, struct problems *p)
{
    memset(lp, 0, sizeof *lp);
    const char *due = jsonutil_str(assignment, "due", NULL);
    lp->has_due = due && clock_parse_iso8601(due, &lp->due);
    const json_t *late = json_object_get(assignment, "late");
    if (!late)
        return;
    if (!json_is_object(late)) {
        problems_add(p, "$.late", "must be an object such as {\"penalty_per_day\": 10, "
                     "\"max_late_days\": 3}");
        return;
    }
    check_known_keys(late, "$.late", late_keys, NULL, p);
    check_one_of(late, "$.late", "penalty_per_day", "penalty_per_hour", true, p);
    bool hourly = json_object_get(late, "penalty_per_hour") != NULL;
    lp->unit = hourly ? "hour" : "day";
    lp->unit_s = hourly ? 3600 : 86400;
    lp->percent = check_number(late, "$.late", hourly ? "penalty_per_hour" : "penalty_per_day",
                               0, 0, 100, p);
    lp->has_max = json_object_get(late, "max_late_days") != NULL;
    lp->max_late_days = check_number(late, "$.late", "max_late_days", 0, 0, 365, p);
    if (!json_object_get(assignment, "due"))
        problems_add(p, "$.late", "a late policy needs the assignment's \"due\"");
    lp->penalised = true;
}

int late_extension_read(const json_t *entry, const char *where, const struct late_policy *lp,
                        double *due, struct problems *p)
{
    if (!json_is_object(entry)) {
        problems_add(p, where, "must be an object, not %s: {\"due\": \"2026-12-02T23:59:00Z\"} "
                     "or {\"days\": 2}", check_type_name(entry));
        return -1;
    }
    const json_t *d = json_object_get(entry, "due"), *days = json_object_get(entry, "days");
    size_t before = p->count;
    check_one_of(entry, where, "due", "days", true, p);
    check_known_keys(entry, where, (const char *const[]){"due", "days", NULL}, NULL, p);
    char at[300];
    snprintf(at, sizeof at, "%s.due", where);
    if (d && !json_is_string(d))
        problems_add(p, at, "must be a string, not %s: an ISO 8601 time such as "
                     "2026-12-02T23:59:00Z", check_type_name(d));
    else if (d && !clock_parse_iso8601(json_string_value(d), due))
        problems_add(p, at, "\"%.100s\" is not an ISO 8601 time such as 2026-12-02T23:59:00Z "
                     "(or with +01:00 for a time zone)", json_string_value(d));
    if (days) {
        double n = check_number(entry, where, "days", NAN, 0, 365, p);
        if (isfinite(n))
            *due = lp->due + n * 86400;
    }
    return p->count > before ? -1 : 0;
}

/* "1 day 2 h 5 min" */
static void say_duration(struct buf *b, double s)
{
    long long m = (long long)ceil(s / 60), d = m / 1440, h = m / 60 % 24;
    m %= 60;
    bool any = false;
    if (d) {
        buf_printf(b, "%lld day%s", d, d == 1 ? "" : "s");
        any = true;
    }
    if (h) {
        buf_printf(b, "%s%lld h", any ? " " : "", h);
        any = true;
    }
    if (m || !any)
        buf_printf(b, "%s%lld min", any ? " " : "", m);
}

int late_score_line(const json_t *results, struct buf *b)
{
    const json_t *late = json_object_get(json_object_get(results, "assay"), "late");
    int rc = buf_puts(b, "Score: ");
    if (rc == 0)
        rc = results_total_phrase(results, b);
    struct buf why = BUF_INIT;
    int said = rc == 0 ? late_describe(late, &why) : 0;
    if (said > 0)
        rc = buf_printf(b, " (%s)", buf_str(&why));
    buf_free(&why);
    return rc < 0 || said < 0 || buf_puts(b, "\n") < 0 ? -1 : 0;
}

/* Puts the score line and LINE (the penalty in a sentence) at the top of
 * RESULTS' output, in place of its "Score: ..." line. */
static void rewrite_output(json_t *results, const char *line)
{
    const char *old = jsonutil_str(results, "output", "");
    if (!strncmp(old, "Score: ", 7))
        old = strchr(old, '\n') ? strchr(old, '\n') + 1 : "";
    struct buf b = BUF_INIT;
    if (late_score_line(results, &b) == 0 && buf_printf(&b, "%s\n%s", line, old) == 0)
        json_object_set_new(results, "output", json_string(buf_str(&b)));
    buf_free(&b);   /* out of memory: the old output stays, assay.late says it all */
}

void late_apply(json_t *results, const struct late_policy *lp, double due, bool extended,
                double submitted_at)
{
    json_t *assay = json_object_get(results, "assay");
    double late_s = submitted_at - due;
    if (!lp->penalised || !lp->has_due || late_s <= 0 || !json_is_object(assay) ||
        strcmp(jsonutil_str(assay, "status", ""), "graded"))
        return;
    double score = jsonutil_num(results, "score", 0), max = jsonutil_num(results, "max_score", 0);
    double units = ceil(late_s / lp->unit_s);
    bool beyond = lp->has_max && late_s > lp->max_late_days * 86400;
    double percent = beyond ? 100 : fmin(100, units * lp->percent);
    double points = fmin(score, max * percent / 100);
    char due_s[32], sub_s[32];
    clock_iso8601(due, due_s);
    clock_iso8601(submitted_at, sub_s);
    struct buf line = BUF_INIT;
    buf_printf(&line, "Late: submitted ");
    say_duration(&line, late_s);
    buf_printf(&line, " after the due date %s%s; ", due_s, extended ? " (your extension)" : "");
    if (beyond)
        buf_printf(&line, "that is more than the %g late day%s allowed, so the score is 0",
                   lp->max_late_days, lp->max_late_days == 1 ? "" : "s");
    else
        buf_printf(&line, "%g %s%s at %g%% each: -%g%% of %g points", units, lp->unit,
                   units == 1 ? "" : "s", lp->percent, percent, max);
    buf_printf(&line, " (score %g before the penalty).", score);
    json_object_set_new(results, "score", json_real(score - points));
    json_t *rec = json_pack(
        "{s:s, s:s, s:b, s:f, s:f, s:f, s:s, s:f, s:f, s:f, s:b, s:s}",
        "submitted_at", sub_s, "due", due_s, "extension", extended, "late_s", late_s,
        "days", ceil(late_s / 86400), "hours", ceil(late_s / 3600), "unit", lp->unit,
        "penalty_percent", percent, "penalty_points", points, "score_before", score,
        "beyond_max", beyond, "message", buf_str(&line));
    if (rec && lp->has_max)
        json_object_set_new(rec, "max_late_days", json_real(lp->max_late_days));
    json_object_set_new(assay, "late", rec);
    rewrite_output(results, buf_str(&line));
    buf_free(&line);
}

void late_undo(json_t *results)
{
    json_t *assay = json_object_get(results, "assay");
    const json_t *late = json_object_get(assay, "late");
    if (!json_is_number(json_object_get(late, "score_before")))
        return;   /* no penalty was taken (or only an extensions file's error): nothing to undo */
    json_object_set_new(results, "score", json_real(jsonutil_num(late, "score_before", 0)));
    const char *msg = jsonutil_str(late, "message", ""), *out = jsonutil_str(results, "output", "");
    const char *second = strchr(out, '\n');
    size_t n = strlen(msg);
    if (second && n && !strncmp(second + 1, msg, n) && second[1 + n] == '\n') {
        struct buf b = BUF_INIT;   /* out of memory: the line stays, said twice at worst */
        if (buf_append(&b, out, (size_t)(second + 1 - out)) == 0 &&
            buf_puts(&b, second + 2 + n) == 0)
            json_object_set_new(results, "output", json_string(buf_str(&b)));
        buf_free(&b);
    }
    json_object_del(assay, "late");
}

int late_describe(const json_t *late, struct buf *b)
{
    const json_t *pct = json_object_get(late, "penalty_percent");
    if (!json_is_number(pct))
        return 0;   /* on time, or only the error of a broken extensions file */
    bool hourly = !strcmp(jsonutil_str(late, "unit", "day"), "hour");
    double n = jsonutil_num(late, hourly ? "hours" : "days", 0);
    int rc = buf_printf(b, "%g before a late penalty of %g %%: %g %s%s late",
                        jsonutil_num(late, "score_before", 0), json_number_value(pct), n,
                        hourly ? "hour" : "day", n == 1 ? "" : "s");
    if (rc == 0 && json_is_true(json_object_get(late, "beyond_max")))
        rc = buf_printf(b, ", more than the %g day%s allowed",
                        jsonutil_num(late, "max_late_days", 0),
                        jsonutil_num(late, "max_late_days", 0) == 1 ? "" : "s");
    if (rc == 0 && json_is_true(json_object_get(late, "extension")))
        rc = buf_printf(b, " (after an extension)");
    return rc < 0 ? -1 : 1;
}
