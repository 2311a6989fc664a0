/* commands.h - the subcommands of the assay command-line tool. */
#ifndef ASSAY_COMMANDS_H
#define ASSAY_COMMANDS_H

#include <jansson.h>
#include <stdio.h>

/* Exit codes shared by every subcommand. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_INVALID_ASSIGNMENT = 3 };

int cmd_grade(int argc, char **argv);

/* Prints results.json as a table with feedback under it (results_table.c). */
void results_print_table(FILE *out, const json_t *results);

#endif
