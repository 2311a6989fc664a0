/* accounts.h - the web console's local accounts, users.json (mode 0600):
 * Argon2id password hashes, admin flags, hashed API tokens; and course
 * rosters (docs/SPOOL.md, "Accounts"). */
#ifndef ASSAY_ACCOUNTS_H
#define ASSAY_ACCOUNTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"
#include "spool/spool.h"

#define ACCOUNTS_FILE "users.json"
#define ACCOUNT_PASSWORD_MIN 8
#define ACCOUNT_PASSWORD_MAX 1024
/* "assay_" and 64 hex digits. */
#define ACCOUNT_TOKEN_LEN 70

/* The "users" object of users.json (a new reference; {} when there is no
 * file), or NULL with *E naming the file and what is wrong. */
json_t *accounts_load(const struct spool *s, struct err *e);

/* Changes, each under the file's lock, each -1 with *E saying why (the
 * name, the rule it broke).  PASSWORD NULL: an account with no local
 * password (single sign-on only, or set later with passwd). */
int accounts_add(const struct spool *s, const char *name, const char *password, bool admin,
                 struct err *e);
int accounts_remove(const struct spool *s, const char *name, struct err *e);
int accounts_passwd(const struct spool *s, const char *name, const char *password, struct err *e);
/* A new API token for NAME into TOKEN (shown once; only its hash is kept). */
int accounts_token_new(const struct spool *s, const char *name, char token[ACCOUNT_TOKEN_LEN + 1],
                       struct err *e);

/* Whether PASSWORD is NAME's.  An unknown NAME, or one without a local
 * password, is checked against a dummy hash, so that it takes as long
 * as a wrong password and cannot be told apart by time. */
bool accounts_verify(const json_t *users, const char *name, const char *password);
/* The same in two steps, for checking on another thread: NAME's hash
 * (malloc'd; NULL when unknown or without a local password), then the
 * check, which reads nothing shared but the dummy hash; make that first
 * on the main thread (accounts_dummy_hash). */
char *accounts_password_hash(const json_t *users, const char *name);
bool accounts_verify_hash(const char *hash, const char *password);
const char *accounts_dummy_hash(void);
/* The user TOKEN belongs to, or NULL. */
const char *accounts_token_user(const json_t *users, const char *token);
bool accounts_is_admin(const json_t *users, const char *name);
/* NULL when PASSWORD is acceptable, else why not. */
const char *accounts_password_problem(const char *password);

/* What a roster import did. */
struct roster_report {
    size_t created, existing, enrolled;
};
/* Reads a roster CSV (a header line naming a "username" column, and
 * optionally "password"; other columns ignored), creates the accounts
 * that do not exist and enrols every user as a student of COURSE
 * (courses/COURSE/roster.json).  Nothing changes when any line is
 * wrong: -1 with *E naming the file, the line and the fix.  Needs
 * sodium_init() first. */
int accounts_import_roster(const struct spool *s, const char *course, const char *csv_path,
                           struct roster_report *r, struct err *e);

#endif
