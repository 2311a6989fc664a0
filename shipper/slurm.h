/* slurm.h - how the slurm transport (transport_slurm.c) talks to Slurm:
 * a small interface with one file per way, chosen by the worker's "api"
 * in workers.json: slurm_rest.c (slurmrestd's REST API v0.0.38, libcurl;
 * the default) and slurm_cmd.c (the sbatch, squeue, sinfo, scontrol and
 * scancel commands, for sites without slurmrestd).  Each reads and checks
 * its own keys and keeps its own state. */
#ifndef ASSAY_SLURM_H
#define ASSAY_SLURM_H

#include <jansson.h>

#include "common/err.h"

/* One batch job to submit. */
struct slurm_submit {
    const char *name;          /* Slurm's job name */
    const char *script;        /* the batch script's text ... */
    const char *script_path;   /* ... and the file holding it */
    const char *workdir;       /* its working directory */
    const char *output;        /* its standard output and error */
    const char *partition;
    const char *constraint, *account, *qos;   /* NULL: none */
    int time_min;              /* time limit, in minutes */
    long memory_mb;            /* memory per node */
};

/* A job as Slurm reports it. */
struct slurm_job {
    char state[32];            /* PENDING, RUNNING, COMPLETED, FAILED, NODE_FAIL, ... */
    char node[64];             /* where it runs or ran; "" before it starts */
    char reason[128];          /* Slurm's reason for the state ("None" when none) */
    int restarts;              /* times Slurm requeued it itself (0 when not known) */
};

/* A partition and this pool's jobs in it. */
struct slurm_pool {
    char version[32];          /* Slurm's */
    char state[16];            /* the partition's: UP, DOWN, DRAIN, INACTIVE */
    int idle, allocated, mixed, down, drained, other;   /* its nodes */
    int pending, running;      /* jobs named with the pool's prefix */
};

struct slurm_api {
    const struct slurm_api_ops *ops;
};

struct slurm_api_ops {
    /* Submits S; *ID is Slurm's job id. */
    int (*submit)(struct slurm_api *a, const struct slurm_submit *s, long *id, struct err *e);
    /* Job ID's state into *J: 0; 1 when Slurm no longer knows the job;
     * -1 with *e when Slurm could not be asked. */
    int (*job)(struct slurm_api *a, long id, struct slurm_job *j, struct err *e);
    /* Cancels job ID (one that already ended is not an error). */
    int (*cancel)(struct slurm_api *a, long id, struct err *e);
    /* The controller answers; PARTITION's state and nodes; the jobs whose
     * name starts with PREFIX.  -1 with *e saying why Slurm cannot be
     * used: unreachable, the credentials refused, no such partition. */
    int (*pool)(struct slurm_api *a, const char *partition, const char *prefix,
                struct slurm_pool *p, struct err *e);
    void (*destroy)(struct slurm_api *a);
};

/* A way of talking to Slurm, found by the name workers.json's "api" gives. */
struct slurm_api_kind {
    const char *name;
    const char *const *keys;   /* its own keys in the worker's entry */
    /* Adds every problem with its keys in ENTRY (at PATH) to *P. */
    void (*check)(const json_t *entry, const char *path, struct problems *p);
    struct slurm_api *(*open)(const json_t *entry, const char *worker, struct err *e);
};

extern const struct slurm_api_kind slurm_api_rest, slurm_api_commands;

/* By name (NULL: the default, "rest"); NULL if there is no such way. */
const struct slurm_api_kind *slurm_api_find(const char *name);

/* Slurm's text S (a state, a node's name, a reason) as it may be shown
 * on a terminal (text_visible), into OUT (N bytes). */
void slurm_copy_shown(char *out, size_t n, const char *s);

/* True for the states in which a job will not run any more. */
int slurm_state_ended(const char *state);

#endif
