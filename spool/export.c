/*
 * export.c - an assignment's gradebook as CSV, the one writer for `assay
 * export --csv` and the web console's CSV download: each student's latest
 * result (record_latest) with the late policy's columns and the points
 * still awaiting manual grading, so any gradebook
 * or LMS can import it.  Fields that need it are quoted as RFC 4180 says.
 */
#include "spool/export.h"

#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/manual.h"
#include "spool/record.h"
#include "spool/scan.h"

static int csv_field(struct buf *out, const char *s)
{
    if (!strpbrk(s, ",\"\n\r"))
        return buf_puts(out, s);
    int rc = buf_puts(out, "\"");
    for (; *s; s++)
        rc |= buf_append(out, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
    return rc | buf_puts(out, "\"");
}

/* The late columns of result R: days late, the penalty's percentage and
 * the score before it (0, 0 and the score when on time; empty with no
 * result). */
static int csv_late(struct buf *out, const json_t *r)
{
    const json_t *late = json_object_get(json_object_get(r, "assay"), "late");
    if (!r)
        return buf_puts(out, ",,,");
    if (json_is_number(json_object_get(late, "penalty_percent")))
        return buf_printf(out, ",%g,%g,%g", jsonutil_num(late, "days", 0),
                          jsonutil_num(late, "penalty_percent", 0),
                          jsonutil_num(late, "score_before", 0));
    return buf_printf(out, ",0,0,%g", jsonutil_num(r, "score", 0));
}

/* The manual grading columns of result R: the points and answers still
 * awaiting a person (0 and 0 when none; empty with no result). */
static int csv_manual(struct buf *out, const json_t *r)
{
    struct manual_score m;
    if (!r)
        return buf_puts(out, ",,");
    manual_score_of(r, &m);
    return buf_printf(out, ",%g,%zu", m.pending_points, m.pending_answers);
}

/* Adds the students listed in spool directory REL to SET; -1 if memory
 * ran out and one may be missing. */
static int add_names(const struct spool *s, json_t *set, const char *rel)
{
    struct fs_list sc;
    int rc = scan_spool(s, rel, SCAN_NAMES, &sc);
    for (size_t i = 0; i < sc.n; i++)
        if (json_object_set_new(set, sc.names[i], json_true()) < 0)
            rc = -1;
    fs_list_free(&sc);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int csv_line(const struct spool *s, const char *course, const char *asg,
                    const char *name, struct buf *out)
{
    json_t *r = record_latest(s, course, asg, name, NULL);
    const json_t *a = json_object_get(r, "assay");
    int rc = csv_field(out, name);
    if (r)
        rc |= buf_printf(out, ",%g,%g,", jsonutil_num(r, "score", 0), jsonutil_num(r, "max_score", 0));
    else
        rc |= buf_puts(out, ",,,");
    rc |= csv_field(out, r ? jsonutil_str(a, "status", "graded") : "pending");
    rc |= buf_puts(out, ",");
    rc |= csv_field(out, r ? jsonutil_str(a, "finished_at", "") : "");
    rc |= csv_late(out, r);
    rc |= csv_manual(out, r);
    rc |= buf_puts(out, "\n");
    json_decref(r);
    return rc;
}

int export_csv(const struct spool *s, const char *course, const char *asg, struct buf *out,
               struct err *e)
{
    json_t *students = json_object();
    char sub[200], res[200];
    snprintf(sub, sizeof sub, "submissions/%s/%s", course, asg);
    snprintf(res, sizeof res, "results/%s/%s", course, asg);
    int rc = students ? add_names(s, students, sub) | add_names(s, students, res) : -1;
    size_t n = json_object_size(students), i = 0;
    const char **names = calloc(n + 1, sizeof *names);
    if (!names)
        rc = -1;
    const char *name;
    json_t *v;
    json_object_foreach(students, name, v)
        if (names)
            names[i++] = name;
    if (names)
        qsort(names, n, sizeof *names, cmp_str);
    rc |= buf_puts(out, EXPORT_CSV_HEADER "\n");
    for (i = 0; rc == 0 && i < n; i++)
        rc |= csv_line(s, course, asg, names[i], out);
    free(names);
    json_decref(students);
    return rc < 0 ? err_set(e, "out of memory listing the students of %s/%s", course, asg) : 0;
}
