/*
 * assay.c - the `assay` command: entry point and subcommand dispatch.
 *
 * Each subcommand lives in its own cmd_*.c file and parses its own
 * options.  Exit codes are the same everywhere (commands.h): 0 done,
 * 2 usage error, 3 invalid assignment.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"

#ifndef ASSAY_VERSION
#define ASSAY_VERSION "dev"
#endif

static const char usage[] =
    "Usage: assay COMMAND [OPTIONS]\n"
    "\n"
    "Assay grades programming assignments: it runs an instructor's tests against\n"
    "a student's submission in a sandbox and reports a score with feedback.\n"
    "\n"
    "Commands:\n"
    "  grade ASSIGNMENT_DIR SUBMISSION [--json] [--view student|instructor] [--out DIR]\n"
    "                                    grade one submission (no spool needed)\n"
    "  init SPOOL                        create a spool with one local worker\n"
    "  submit --course C --assignment A --student U PATH...\n"
    "                                    queue a submission for grading\n"
    "  status                            the queue, the worker slots, stuck jobs\n"
    "  results --job ID | --course C --assignment A [--student U]\n"
    "                                    show results\n"
    "  hold|release|requeue JOB          pause, resume or retry a queued job\n"
    "  regrade --course C --assignment A queue every student's latest version again\n"
    "  logs [--job ID] [--worker W] [--errors] [--since D] [--follow]\n"
    "                                    the central log and stack traces\n"
    "  workers [check [WORKER...]]       the worker machines: status, or test them now\n"
    "  grade-all --course C --assignment A [--no-wait]\n"
    "                                    grade every student's latest version, with progress\n"
    "  export --course C --assignment A --csv\n"
    "                                    the gradebook as CSV (score, status, late penalty)\n"
    "  extensions list|grant|revoke --course C --assignment A [--student U]\n"
    "                                    students' own due dates (--days N | --until TIME)\n"
    "  sync status|retry|resend --course C [--assignment A] [--student U]\n"
    "                                    grades sent to Canvas: delivered, waiting, not synced\n"
    "  canvas roster --course C          import the course's students from Canvas\n"
    "  manual list|grade --course C --assignment A [--student U --cell ID --points P]\n"
    "                                    grade by hand the answers a notebook leaves to a person\n"
    "  notebook release SOURCE.ipynb OUT.ipynb\n"
    "                                    the student version of an nbgrader notebook\n"
    "  gradescope setup ASSIGNMENT_DIR   run a Gradescope autograder's setup.sh on this machine\n"
    "  kit ASSIGNMENT_DIR OUT.zip        the public tests as a self-check kit for students\n"
    "  audit ASSIGNMENT_DIR REFERENCE [--suggest]\n"
    "                                    how many mutants of the reference the tests catch\n"
    "  users add|remove|passwd|list|token|import\n"
    "                                    the web console's accounts and course rosters\n"
    "  import classroom REPO_DIR [--course C] [--assignment A]\n"
    "                                    a GitHub Classroom assignment (autograding.json)\n"
    "\n"
    "Spool commands take --spool S (default $ASSAY_SPOOL or /var/spool/assay).\n"
    "\n"
    "Options:\n"
    "  -h, --help      show this help (or `assay COMMAND --help` for a command)\n"
    "  --version       print the version\n";

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"grade", cmd_grade},
    {"init", cmd_init},
    {"submit", cmd_submit},
    {"status", cmd_status},
    {"results", cmd_results},
    {"hold", cmd_queue},
    {"release", cmd_queue},
    {"requeue", cmd_queue},
    {"regrade", cmd_regrade},
    {"logs", cmd_logs},
    {"workers", cmd_workers},
    {"notebook", cmd_notebook},
    {"gradescope", cmd_gradescope},
    {"grade-all", cmd_grade_all},
    {"export", cmd_export},
    {"extensions", cmd_extensions},
    {"import", cmd_import},
    {"sync", cmd_sync},
    {"canvas", cmd_canvas},
    {"manual", cmd_manual},
    {"kit", cmd_kit},
    {"audit", cmd_audit},
    {"users", cmd_users},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(usage, stdout);
        return EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        cli_printf(stdout, "assay %s\n", ASSAY_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].run(argc - 1, argv + 1);
            /* output lost to a full disk would otherwise pass for done */
            if (fflush(stdout) != 0 || ferror(stdout)) {
                cli_printf(stderr, "assay %s: cannot write the output: %s\n", argv[1], strerror(errno));
                return EXIT_FAILED;
            }
            return rc;
        }
    cli_printf(stderr, "assay: unknown command \"%s\"\n\n%s", argv[1], usage);
    return EXIT_USAGE;
}
