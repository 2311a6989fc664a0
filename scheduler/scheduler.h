/* scheduler.h - assay-scheduler's state, shared by its files. */
#ifndef ASSAY_SCHEDULER_H
#define ASSAY_SCHEDULER_H

#include <stdbool.h>
#include <uv.h>

#include "scheduler/policy.h"
#include "scheduler/strmap.h"
#include "spool/spool.h"
#include "spool/workers.h"

#define SCHED_JOB_BUCKETS 65536
#define SCHED_RESCAN_MS 30000      /* safety net; inotify does the real work */

struct sched;

/* A process the scheduler keeps running: restarted with backoff if it dies. */
struct child {
    struct sched *s;
    char label[200];               /* "shipper lab1.2", "worker lab1" */
    char worker[64];               /* the worker it serves, for log lines */
    char **argv;
    uv_process_t *proc;            /* NULL when not running */
    uv_timer_t *restart;
    double started_at;
    int failures;                  /* deaths in a row, for the restart backoff */
    bool wanted;                   /* false once we stop it on purpose */
    bool restarting;               /* stopped to start again with new argv */
    void (*release)(void *owner);  /* set once retired: frees the owner at exit */
    void *owner;
};

struct slot {
    struct sched *s;
    char name[160];                /* "WORKER.SLOT" */
    char rel[180];                 /* its state directory, "shippers/WORKER.SLOT" */
    char *dir;                     /* the same, absolute */
    const struct worker_cfg *worker;
    json_t *config;                /* the worker's workers.json entry */
    int index;
    char job[64];                  /* job id in the slot, "" when idle */
    uv_fs_event_t *watch;
    struct child shipper;
};

struct daemon_proc {               /* a local worker's assay-worker */
    char name[64];
    json_t *config;                /* the worker's workers.json entry */
    struct installation installation;   /* the names it was started with */
    struct child child;
};

struct sched {
    uv_loop_t *loop;
    struct spool spool;
    struct workers workers;
    struct policy *policy;
    char *bindir;                  /* where assay-shipper and assay-worker are */
    struct slot **slots;
    size_t n_slots;
    struct daemon_proc **daemons;
    size_t n_daemons;
    struct child deliverer;        /* assay-deliver, once a course configures a destination */
    struct child intake;           /* assay-intake, once the spool has forges.json */
    struct child web;              /* assay-web, when web.json says "start": true */
    struct sched_job **table;      /* pending jobs by id */
    size_t n_pending;
    unsigned scan_mark;            /* pending_scan: jobs seen by this scan */
    struct strmap names;           /* interned capabilities, courses, assignments, students */
    struct strmap newest;          /* "C/A/U" -> its newest queued job (superseding) */
    struct strmap course_info;     /* catalog.c: course -> struct course_info */
    struct strmap assignment_info; /* catalog.c: "C/A" -> struct assignment_info */
    uv_fs_event_t incoming_watch, deferred_watch, health_watch;
    uv_timer_t deferred_timer, rescan_timer, stop_timer, snapshot_timer;
    bool snapshot_written;      /* scheduler.json exists (snapshot.c) */
    uv_signal_t sigterm, sigint, sighup;
    bool stopping;
    int children_running;
    int lock_fd;                   /* scheduler.lock, held while it runs (spool/scheduler_lock.c) */
};

/* snapshot.c: scheduler.json, what assay status reads of the queue */
void snapshot_init(struct sched *s);
void snapshot_changed(struct sched *s);
void snapshot_remove(struct sched *s);

/* pending.c: the jobs waiting in incoming/ */
void pending_scan(struct sched *s);
void pending_on_event(struct sched *s, const char *name);
struct sched_job *pending_find(struct sched *s, const char *id);
void pending_drop(struct sched *s, struct sched_job *j);
void pending_free_all(struct sched *s);
void deferred_scan(struct sched *s);

/* catalog.c: what the scheduler knows of courses and assignments, re-read
 * from the spool every CATALOG_TTL_S */
#define CATALOG_TTL_S 10.0
struct course_info {
    double weight;                 /* course.json, default 1 */
    bool supersede;
    double checked_at;             /* clock_mono */
    char *problem;                 /* what is wrong with course.json, logged once */
};
struct assignment_info {
    bool exists;                   /* assignment.json holds an object with "tests" */
    bool no_tests;                 /* "tests": [] - recorded without a worker */
    double cost;                   /* moving-average grading time, or the time limit */
    bool learnt;                   /* cost comes from history */
    double checked_at;
};
const struct course_info *catalog_course(struct sched *s, const char *course);
const struct assignment_info *catalog_assignment(struct sched *s, const char *course,
                                                 const char *assignment);
void catalog_free(struct sched *s);

/* bypass.c: jobs settled without a worker slot */
struct job;
/* Records JOB (in incoming/) at once if its assignment has no tests;
 * true when done (the file is gone). */
bool bypass_no_tests(struct sched *s, const struct job *job);
/* Records OLDER as superseded by NEWER and removes it from the queue. */
void bypass_supersede(struct sched *s, struct sched_job *older, const struct sched_job *newer);

/* slots.c: worker slots and dispatch */
void workers_health_refresh(struct sched *s);
int slots_configure(struct sched *s, struct err *e);   /* from s->workers */
void slots_refresh(struct slot *slot);
void dispatch(struct sched *s);
void slots_stop_all(struct sched *s);

/* deliverer.c: assay-deliver, started once some course configures a destination */
void deliverer_refresh(struct sched *s);
/* intake.c: assay-intake, started once the spool has forges.json */
void intake_refresh(struct sched *s);
/* True when the spool has forges.json (GitHub or GitLab set up). */
bool sched_has_forges(struct sched *s);
/* web.c: assay-web, started (or restarted, or stopped) as web.json says */
void web_configure(struct sched *s);

/* supervise.c: child processes */
void child_start(struct child *c);
void child_stop(struct child *c);
/* Frees what the child holds; only for a child that is not running. */
void child_free(struct child *c);
/* Starts it again with ARGV (taken over): now, or once the running one exits. */
void child_restart(struct child *c, char **argv);
/* Stops the child for good; RELEASE(OWNER) frees the struct holding it as
 * soon as its process has exited (at once if it is not running). */
void child_retire(struct child *c, void (*release)(void *owner), void *owner);
/* A NULL-terminated copy of FIRST and the arguments after it, up to a
 * NULL; NULL if memory ran out (or FIRST is NULL: a path not made). */
char **child_argv(const char *first, ...);
void child_argv_free(char **argv);
/* A uv_close callback for handles allocated with malloc. */
void sched_free_handle(uv_handle_t *h);

#endif
