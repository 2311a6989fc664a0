/*
 * cmd_users.c - `assay users`: the web console's local accounts.
 *
 *   assay users add NAME [--admin]       (the password is read from standard input)
 *   assay users remove NAME
 *   assay users passwd NAME
 *   assay users list [--json]
 *   assay users token NAME               (prints a new API token, once)
 *   assay users import --course C FILE.csv
 *
 * Accounts live in the spool's users.json (spool/accounts.c): Argon2id
 * hashes, hashed tokens, mode 0600.  A password is read from standard
 * input (one line; on a terminal without echo), never from the command
 * line, where other users could read it in ps.  Every change is logged
 * with who made it, and never with a password or token.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "common/log.h"
#include "cli/commands.h"
#include "spool/accounts.h"

static const char usage[] =
    "Usage: assay users add NAME [--admin]\n"
    "       assay users remove NAME\n"
    "       assay users passwd NAME\n"
    "       assay users list [--json]\n"
    "       assay users token NAME\n"
    "       assay users import --course C FILE.csv\n"
    "       (each takes --spool S)\n"
    "\n"
    "The accounts of the web console (assay-web), kept in the spool's users.json\n"
    "(passwords as Argon2id hashes).  add and passwd read the password from standard\n"
    "input (at least 8 characters; add --no-password makes an account for single\n"
    "sign-on only).  token prints a new API token for scripts (sent as\n"
    "\"Authorization: Bearer TOKEN\"); only its hash is kept, so it is shown once.\n"
    "import reads a roster CSV whose header names a \"username\" column (and\n"
    "optionally \"password\"), creates the missing accounts and enrols them all as\n"
    "students of course C.  Staff are named in courses/C/course.json (\"instructors\",\n"
    "\"tas\"); admins with add --admin.\n";

struct users_opts {
    const char *spool, *course;
    bool admin, json, no_password;
};

static int parse(int argc, char **argv, struct users_opts *o)
{
    static const struct option longopts[] = {
        {"spool", required_argument, NULL, 's'}, {"course", required_argument, NULL, 'c'},
        {"admin", no_argument, NULL, 'a'},       {"json", no_argument, NULL, 'j'},
        {"no-password", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->spool = optarg; break;
        case 'c': o->course = optarg; break;
        case 'a': o->admin = true; break;
        case 'j': o->json = true; break;
        case 'n': o->no_password = true; break;
        case 'h': fputs(usage, stdout); exit(EXIT_OK);
        default: return -1;
        }
    }
    return 0;
}

/* One line of standard input (echo off on a terminal), malloc'd. */
static char *read_password(const char *prompt)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* Who runs this command, for the log. */
static void invoker(char *out, size_t n)
{
    struct passwd *pw = getpwuid(getuid());
    snprintf(out, n, "%s", pw ? pw->pw_name : "?");
}

static void log_change(const struct spool *s, const char *fmt, const char *name)
{
    char *logpath = spool_path(s, "logs/assay.log"), who[64];
    invoker(who, sizeof who);
    if (log_open("assay", logpath) == 0 && logpath) {
        log_msg(LOG_INFO, NULL, "users: %s %s (by %s)", fmt, name, who);
        log_close();
    }   /* else: the change is made and printed; a spool without its log is said by others */
    free(logpath);
}

static int users_list(const struct spool *s, bool json)
{
    struct err e;
    json_t *users = accounts_load(s, &e);
    if (!users) {
        cli_printf(stderr, "assay users list: %s\n", e.msg);
        return EXIT_FAILED;
    }
    json_t *rows = json_array();
    const char *name;
    json_t *u;
    json_object_foreach(users, name, u) {
        json_t *row = json_pack("{s:s, s:b, s:b, s:I}", "name", name, "admin",
                                json_is_true(json_object_get(u, "admin")), "password",
                                json_is_string(json_object_get(u, "password")), "tokens",
                                (json_int_t)json_array_size(json_object_get(u, "tokens")));
        json_array_append_new(rows, row);
        if (!json)
            cli_printf(stdout, "%-24s %-6s %-12s %zu token%s\n", name,
                       accounts_is_admin(users, name) ? "admin" : "-",
                       json_is_string(json_object_get(u, "password")) ? "password" : "no password",
                       json_array_size(json_object_get(u, "tokens")),
                       json_array_size(json_object_get(u, "tokens")) == 1 ? "" : "s");
    }
    if (json)
        cli_print_json(stdout, rows, JSON_INDENT(2));
    else if (!json_object_size(users))
        printf("no accounts (add one with `assay users add NAME`)\n");
    json_decref(rows);
    json_decref(users);
    return EXIT_OK;
}

static int users_import(const struct spool *s, const struct users_opts *o, const char *file)
{
    struct err e;
    struct roster_report r;
    if (!o->course || !spool_name_is_valid(o->course)) {
        fprintf(stderr, "assay users import: --course C is required\n");
        return EXIT_USAGE;
    }
    if (accounts_import_roster(s, o->course, file, &r, &e) < 0) {
        cli_printf(stderr, "assay users import: %s; nothing was changed\n", e.msg);
        return EXIT_FAILED;
    }
    cli_printf(stdout, "%zu account%s created, %zu existed; %zu newly enrolled in %s\n", r.created,
               r.created == 1 ? "" : "s", r.existing, r.enrolled, o->course);
    log_change(s, "roster imported into", o->course);
    return EXIT_OK;
}

/* add, passwd: with a password read from standard input. */
static int users_set(const struct spool *s, const char *cmd, const char *name,
                     const struct users_opts *o)
{
    struct err e;
    char *pw = o->no_password && !strcmp(cmd, "add") ? NULL : read_password("Password: ");
    if (!pw && !(o->no_password && !strcmp(cmd, "add"))) {
        fprintf(stderr, "assay users %s: no password on standard input (fix: echo it in, or "
                "use --no-password with add for single sign-on)\n", cmd);
        return EXIT_FAILED;
    }
    int rc = !strcmp(cmd, "add") ? accounts_add(s, name, pw, o->admin, &e)
                                 : accounts_passwd(s, name, pw, &e);
    if (pw)
        sodium_memzero(pw, strlen(pw));
    free(pw);
    if (rc < 0) {
        cli_printf(stderr, "assay users %s: %s\n", cmd, e.msg);
        return EXIT_FAILED;
    }
    cli_printf(stdout, "%s: %s\n", name, !strcmp(cmd, "add") ? "added" : "password changed");
    log_change(s, !strcmp(cmd, "add") ? (o->admin ? "added admin" : "added")
                                      : "changed the password of", name);
    return EXIT_OK;
}

static int users_named(const struct spool *s, const char *cmd, const char *name,
                       const struct users_opts *o)
{
    struct err e;
    if (!strcmp(cmd, "add") || !strcmp(cmd, "passwd"))
        return users_set(s, cmd, name, o);
    if (!strcmp(cmd, "remove")) {
        if (accounts_remove(s, name, &e) < 0)
            return cli_printf(stderr, "assay users remove: %s\n", e.msg), EXIT_FAILED;
        cli_printf(stdout, "%s: removed\n", name);
        log_change(s, "removed", name);
        return EXIT_OK;
    }
    char token[ACCOUNT_TOKEN_LEN + 1];
    if (accounts_token_new(s, name, token, &e) < 0)
        return cli_printf(stderr, "assay users token: %s\n", e.msg), EXIT_FAILED;
    printf("%s\n", token);
    sodium_memzero(token, sizeof token);
    log_change(s, "new API token for", name);
    return EXIT_OK;
}

int cmd_users(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    static const char *const cmds[] = {"add", "remove", "passwd", "list", "token", "import", NULL};
    bool known = false;
    for (int i = 0; cmds[i]; i++)
        known |= !strcmp(cmd, cmds[i]);
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help"))
        return fputs(usage, stdout), EXIT_OK;
    struct users_opts o = {0};
    if (!known || parse(argc - 1, argv + 1, &o) < 0)
        return fputs(usage, stderr), EXIT_USAGE;
    int rest = argc - 1 - optind;
    const char *arg = rest == 1 ? argv[optind + 1] : NULL;
    if (!strcmp(cmd, "list") ? rest != 0 : rest != 1)
        return fputs(usage, stderr), EXIT_USAGE;
    if (sodium_init() < 0)
        return fprintf(stderr, "assay users: libsodium cannot start\n"), EXIT_FAILED;
    struct spool s;
    if (cli_open_spool(o.spool, &s, "users", strcmp(cmd, "list") != 0) < 0)
        return EXIT_FAILED;
    int rc = !strcmp(cmd, "list") ? users_list(&s, o.json)
           : !strcmp(cmd, "import") ? users_import(&s, &o, arg)
           : users_named(&s, cmd, arg, &o);
    spool_close(&s);
    return rc;
}
