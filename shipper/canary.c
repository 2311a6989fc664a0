/*
 * canary.c - the canary gradings of one worker, through its real
 * transport (`assay-shipper --spool S --worker W --canary`, which
 * `assay workers check` runs).
 *
 * Every canary of contract/canary.h (one per test kind), and one more
 * for each Gradescope autograder with a setup.sh among the spool's
 * assignments of a capability W offers (that exact setup.sh in the
 * gradescope canary: it tells whether `assay gradescope setup` ran for
 * it on W), is packed in memory and pushed to W's inbox like a job; the
 * worker grades them in its sandbox as it grades students' jobs.  Each
 * result is awaited as long as a job's lease (1.5 × the canary's wall
 * limits plus the worker's timeout_margin_s), pulled, checked as any
 * result is (contract/results_check.c) and judged (canary_judge).  After
 * one goes unanswered the others are looked for once more, not waited
 * for again.  Nothing of this touches the queue: canaries are no jobs,
 * their results are never recorded nor counted in statistics, and
 * whatever is left of them on the worker is removed (shippers tidying
 * the outbox leave a fresh canary's result alone: canary_archive_fresh).
 */
#define _GNU_SOURCE
#include "shipper/shipper.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/archive.h"
#include "common/buf.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "contract/assignment.h"
#include "contract/canary.h"
#include "contract/results_check.h"
#include "spool/scan.h"

#define SETUP_MAX_BYTES (1u << 20)   /* as engine/gradescope_setup.c reads it */
#define LAST_LOOK_S 0.5              /* for a result after another went unanswered */

/* One canary grading on its way. */
struct trip {
    const struct canary *c;
    char label[300];               /* "notebook", "gradescope cs101/hw3" */
    struct buf setup;              /* a Gradescope autograder's setup.sh, or empty */
    char name[200];                /* its archive name */
    bool pushed;
    char why[sizeof(struct err)];   /* why it could not be pushed */
};

struct trips {
    struct trip *v;
    size_t n, cap;
};

static struct trip *add_trip(struct trips *t, const struct canary *c, const char *label)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        struct trip *v = realloc(t->v, cap * sizeof *v);
        if (!v)
            return NULL;
        t->v = v;
        t->cap = cap;
    }
    struct trip *x = &t->v[t->n++];
    memset(x, 0, sizeof *x);
    x->c = c;
    x->setup = (struct buf)BUF_INIT;
    snprintf(x->label, sizeof x->label, "%s", label);
    return x;
}

static void free_trips(struct trips *t)
{
    for (size_t i = 0; i < t->n; i++)
        buf_free(&t->v[i].setup);
    free(t->v);
}

/* ---- which canaries ---- */

/* A canary for the setup.sh of each gradescope test of assignment
 * COURSE/ASG, when W offers its capability. */
static int add_setup_trips(struct shipper *sh, const char *course, const char *asg,
                           struct trips *t)
{
    char *dir = spool_path(&sh->spool, "courses/%s/%s", course, asg);
    struct assignment_summary sum;
    struct problems ignored = {0};   /* an invalid assignment is its instructor's to fix */
    int rc = dir ? 0 : -1;
    if (dir)
        assignment_summary_load(dir, &sum, &ignored);
    size_t i;
    const json_t *test;
    json_array_foreach(dir && worker_offers(sh->worker, sum.capability) ? sum.tests : NULL, i,
                       test) {
        const char *ag = jsonutil_str(test, "autograder", NULL);
        if (strcmp(jsonutil_str(test, "kind", ""), "gradescope") || !ag ||
            (!fs_relpath_is_safe(ag) && strcmp(ag, ".")))
            continue;   /* an unsafe folder is the assignment's error, reported at grading */
        char *setup = spool_path(&sh->spool, "courses/%s/%s/%s/setup.sh", course, asg, ag);
        struct trip *x = NULL;
        struct err e;
        if (setup && fs_exists(setup)) {
            char label[300];
            bool several = sum.n_tests > 1;   /* then the test names which */
            snprintf(label, sizeof label, "gradescope %s/%s%s%s", course, asg,
                     several ? " test " : "", several ? jsonutil_str(test, "name", "?") : "");
            if (!(x = add_trip(t, canary_find("gradescope"), label)))
                rc = -1;
            else if (fs_read_file(setup, SETUP_MAX_BYTES, &x->setup, &e) < 0)
                snprintf(x->why, sizeof x->why, "cannot read its setup.sh on the primary: %.900s",
                         e.msg);
        }
        free(setup);
    }
    if (dir)
        assignment_summary_free(&sum);
    problems_free(&ignored);
    free(dir);
    return rc;
}

/* Every built-in canary, then the spool's Gradescope setup.sh files. */
static int plan(struct shipper *sh, struct trips *t)
{
    size_t n;
    const struct canary *all = canary_all(&n);
    for (size_t i = 0; i < n; i++)
        if (!add_trip(t, &all[i], all[i].kind))
            return -1;
    struct fs_list courses;
    int rc = scan_spool(&sh->spool, "courses", SCAN_NAMES, &courses);
    for (size_t i = 0; rc == 0 && i < courses.n; i++) {
        char rel[300];
        struct fs_list asgs;
        snprintf(rel, sizeof rel, "courses/%s", courses.names[i]);
        rc = scan_spool(&sh->spool, rel, SCAN_NAMES, &asgs);
        for (size_t j = 0; rc == 0 && j < asgs.n; j++)
            rc = add_setup_trips(sh, courses.names[i], asgs.names[j], t);
        fs_list_free(&asgs);
    }
    fs_list_free(&courses);
    return rc;
}

/* ---- one trip ---- */

static void push(struct shipper *sh, struct trip *x)
{
    struct transport *t = sh->transport;
    struct err e = {{0}};
    char id[200];
    if (x->why[0])
        return;   /* its setup.sh could not be read: nothing to send */
    if (canary_archive_name(x->name, sizeof x->name, x->c->kind, clock_wall()) < 0) {
        snprintf(x->why, sizeof x->why, "its archive name is too long");
        return;
    }
    snprintf(id, sizeof id, "%.*s", (int)(strlen(x->name) - 4), x->name);   /* no ".zip" */
    *strrchr(id, '.') = '\0';                                                /* no token */
    int fd = memfd_create(x->name, MFD_CLOEXEC);
    int rc = fd < 0 ? err_sys(&e, "cannot make room for the archive") : 0;
    if (rc == 0)
        rc = canary_pack(x->c, fd, x->name, id, x->setup.len ? buf_str(&x->setup) : NULL,
                         x->setup.len, &e);
    if (rc == 0 && (rc = t->ops->push(t, fd, x->name, &e)) < 0)
        err_prefix(&e, "cannot deliver it to worker %s", sh->worker->name);
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        snprintf(x->why, sizeof x->why, "%s", e.msg);
    x->pushed = rc == 0;
}

/* The result archive NAME, pulled and checked as any result is: its
 * results.json, or NULL with why in *E. */
static json_t *take(struct shipper *sh, const char *name, struct err *e)
{
    struct transport *t = sh->transport;
    struct archive_limits lim = {RESULT_ARCHIVE_MAX_BYTES, RESULT_FILE_MAX_BYTES, RESULT_MAX_FILES};
    char *resdir = spool_tmpdir(&sh->spool, "canary", e), *path = NULL;
    int fd = -1;
    json_t *r = NULL;
    if (resdir && t->ops->pull(t, name, &fd, e) == 0) {
        if (archive_extract_fd(fd, name, resdir, &lim, e) < 0)
            err_prefix(e, "the result archive from worker %s is broken", sh->worker->name);
        else if (results_check_dir(resdir, e) < 0)
            err_prefix(e, "the result from worker %s is refused", sh->worker->name);
        else if (!(path = fs_join(resdir, "results.json")))
            err_set(e, "out of memory");
        else
            r = jsonutil_load_file(path, RESULT_JSON_MAX_BYTES, e);
    }
    if (fd >= 0)
        close(fd);
    struct err ignored;   /* a leftover in tmp/ is only untidy */
    if (resdir)
        fs_remove_tree(resdir, &ignored);
    free(resdir);
    free(path);
    return r;
}

/* Waits for X's result (at most TIMEOUT s) and judges it. */
static json_t *finish(struct shipper *sh, struct trip *x, double timeout, bool *answered)
{
    struct transport *t = sh->transport;
    struct err e = {{0}};
    json_t *r = NULL;
    double t0 = clock_mono();
    int ready = x->pushed ? t->ops->wait(t, x->name, timeout, NULL, &e) : -1;
    *answered = ready != 0;
    if (ready > 0)
        r = take(sh, x->name, &e);
    else if (ready == 0)
        err_set(&e, "worker %s returned no result within %.0f s: is its assay-worker daemon "
                "running (systemctl status assay-worker there), or is it busy with a long queue?",
                sh->worker->name, timeout);
    else if (!x->pushed)
        snprintf(e.msg, sizeof e.msg, "%s", x->why);
    if (x->pushed)
        t->ops->forget(t, x->name, false);   /* never left to be graded or kept */
    json_t *o = canary_judge(x->c, x->label, r, e.msg, clock_mono() - t0);
    json_decref(r);
    return o;
}

json_t *shipper_canaries(struct shipper *sh, struct err *e)
{
    struct trips t = {0};
    json_t *out = json_array();
    if (!out || plan(sh, &t) < 0) {
        free_trips(&t);
        json_decref(out);
        err_set(e, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < t.n; i++)
        push(sh, &t.v[i]);
    bool all_answered = true;
    for (size_t i = 0; i < t.n; i++) {
        double lease = sh->worker->timeout_margin_s + 1.5 * canary_wall_s(t.v[i].c);
        bool answered;
        json_t *o = finish(sh, &t.v[i], all_answered ? lease : LAST_LOOK_S, &answered);
        all_answered &= answered;
        if (!o || json_array_append_new(out, o) < 0) {
            json_decref(out);
            out = NULL;
            err_set(e, "out of memory");
        }
    }
    free_trips(&t);
    return out;
}
