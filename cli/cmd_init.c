/*
 * cmd_init.c - `assay init SPOOL [--name NAME] [--uids FIRST-LAST]`:
 * creates a spool with one local worker, as an installation of its own.
 *
 * With the layout in place, `assay-scheduler --spool SPOOL` is a whole
 * single-machine installation: the scheduler starts the local worker
 * named in workers.json itself.  The installation's name and uid range
 * (contract/installation.h) go into workers.json ("installation"); they
 * are chosen, or checked, against the machine's registry of
 * installations (spool/installs.c) while its lock is held, so no other
 * installation on the machine leases the same uids or makes the same
 * directories and cgroups.  Run again on an existing spool, it registers
 * the installation its workers.json names.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/fs.h"
#include "common/ids.h"
#include "common/jsonutil.h"
#include "spool/installs.h"
#include "spool/spool.h"
#include "spool/workers.h"

static const char usage[] =
    "Usage: assay init SPOOL [--name NAME] [--uids FIRST-LAST]\n"
    "\n"
    "Creates the spool directory tree at SPOOL (existing parts are kept) and a\n"
    "workers.json with one local worker of two slots offering \"python\".\n"
    "Then put assignments in SPOOL/courses/COURSE/ASSIGNMENT/ and start\n"
    "`assay-scheduler --spool SPOOL`.\n"
    "\n"
    "The spool is an installation of its own: its tests run as uids no other\n"
    "installation on this machine uses, and its sandbox's locks, directories and\n"
    "cgroups carry its name (/run/lock/assay/NAME, /run/assay/NAME, assay/NAME).\n"
    "  --name NAME        the installation's name (default: random, 8 hex digits)\n"
    "  --uids FIRST-LAST  the uids its tests run as (default: the first free block\n"
    "                     of 1000 from 62000)\n"
    "Both are checked against the machine's other installations, registered in\n"
    INSTALLS_DIR "/ (as root). On an existing spool, the installation its\n"
    "workers.json names is registered again.\n";

struct init_opts {
    const char *root, *name, *uids;
};

static int parse_opts(int argc, char **argv, struct init_opts *o)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'}, {"uids", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': o->name = optarg; break;
        case 'u': o->uids = optarg; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    if (argc - optind != 1)
        return -1;
    o->root = argv[optind];
    return 0;
}

/* ROOT as an absolute path, for the registry: resolved if it exists. */
static int absolute(const char *root, char *out, size_t n, struct err *e)
{
    char cwd[PATH_MAX], real[PATH_MAX];
    if (realpath(root, real))
        return snprintf(out, n, "%s", real) < (int)n ? 0 : err_set(e, "%s: path too long", root);
    if (root[0] == '/')
        return snprintf(out, n, "%s", root) < (int)n ? 0 : err_set(e, "%s: path too long", root);
    if (!getcwd(cwd, sizeof cwd))
        return err_sys(e, "cannot find the current directory");
    return snprintf(out, n, "%s/%s", cwd, root) < (int)n ? 0
                                                          : err_set(e, "%s: path too long", root);
}

/* The installation ROOT's workers.json names; 1 if there is none yet. */
static int existing(const char *root, struct installation *in, struct err *e)
{
    char *path = fs_join(root, "workers.json");
    if (!path)
        return err_set(e, "out of memory");
    bool there = fs_exists(path);
    json_t *doc = there ? jsonutil_load_file(path, 1u << 20, e) : NULL;
    int rc = !there ? 1 : doc ? 0 : -1;
    if (doc) {
        struct problems p = {0};
        workers_installation(doc, in, &p);
        if (p.count)
            rc = err_set(e, "%s: %s", path, p.items[0]);
        problems_free(&p);
        json_decref(doc);
    }
    free(path);
    return rc;
}

/* Which installation the spool is: the one its workers.json names, or a
 * new one from the options.  *PICK: its uids are still to be chosen. */
static int choose(const struct init_opts *o, struct installation *in, bool *pick,
                  struct err *e)
{
    int rc = existing(o->root, in, e);
    if (rc < 0)
        return -1;
    *pick = false;
    if (rc == 0) {
        if (o->name || o->uids)
            return err_set(e, "%s/workers.json already names the spool's installation "
                           "(\"installation\"): change it there, not with --name or --uids, "
                           "and run `assay init %s` again", o->root, o->root);
        return 0;
    }
    char id[9];
    ids_random_hex(id, 4);
    *pick = !o->uids;
    return installation_set(in, o->name ? o->name : id, o->uids, e);
}

/* Registers IN for ABS in the machine's registry, then makes the spool,
 * with the registry locked all along. */
static int make(const struct init_opts *o, const char *abs, struct installation *in, bool pick,
                struct err *e)
{
    struct installs r;
    if (geteuid() != 0) {
        if (pick)
            in->uid_base = INSTALLS_FIRST_UID;
        fprintf(stderr, "assay init: warning: only root can register the installation in "
                INSTALLS_DIR "; run `assay init %s` again as root before grading there\n",
                o->root);
        return spool_init(o->root, in, e);
    }
    if (installs_open(&r, e) < 0)
        return -1;
    int rc = installs_claim(&r, abs, in, pick, e);
    if (rc == 0)
        rc = spool_init(o->root, in, e);
    installs_close(&r);
    return rc;
}

int cmd_init(int argc, char **argv)
{
    struct init_opts o = {0};
    if (parse_opts(argc, argv, &o) < 0) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct err e;
    struct installation in;
    char abs[PATH_MAX], uids[32], run[160];
    bool pick;
    if (absolute(o.root, abs, sizeof abs, &e) < 0 || choose(&o, &in, &pick, &e) < 0 ||
        make(&o, abs, &in, pick, &e) < 0) {
        cli_printf(stderr, "assay init: %s\n", e.msg);
        return EXIT_FAILED;
    }
    installation_format_uids(&in, uids, sizeof uids);
    installation_run_dir(&in, run, sizeof run);
    cli_printf(stdout, "Spool ready at %s (workers in %s/workers.json).\n"
               "Installation %s%s%s: tests run as uids %s, its sandbox slots are in %s.\n"
               "Add assignments under %s/courses/COURSE/ASSIGNMENT/, then run:\n"
               "  assay-scheduler --spool %s\n", o.root, o.root, in.name[0] ? "\"" : "(unnamed",
               in.name, in.name[0] ? "\"" : ")", uids, run, o.root, o.root);
    return EXIT_OK;
}
