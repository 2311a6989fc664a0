/*
 * cmd_init.c - `assay init SPOOL`: creates a spool with one local worker.
 *
 * With the layout in place, `assay-scheduler --spool SPOOL` is a whole
 * single-machine installation: the scheduler starts the local worker
 * named in workers.json itself.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "spool/spool.h"

static const char usage[] =
    "Usage: assay init SPOOL\n"
    "\n"
    "Creates the spool directory tree at SPOOL (existing parts are kept) and a\n"
    "workers.json with one local worker of two slots offering \"python\".\n"
    "Then put assignments in SPOOL/courses/COURSE/ASSIGNMENT/ and start\n"
    "`assay-scheduler --spool SPOOL`.\n";

int cmd_init(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (argc != 2 || argv[1][0] == '-') {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    struct err e;
    if (spool_init(argv[1], &e) < 0) {
        cli_printf(stderr, "assay init: %s\n", e.msg);
        return EXIT_FAILED;
    }
    cli_printf(stdout, "Spool ready at %s (workers in %s/workers.json).\n"
               "Add assignments under %s/courses/COURSE/ASSIGNMENT/, then run:\n"
               "  assay-scheduler --spool %s\n", argv[1], argv[1], argv[1], argv[1]);
    return EXIT_OK;
}
