/*
 * accounts.c - local accounts of the web console and course rosters.
 *
 *   users.json   {"users": {"alice": {"password": "$argon2id$...", "admin": false,
 *                                      "tokens": ["<hash>", ...]}}}       mode 0600
 *   courses/C/roster.json   {"students": ["alice", "bob"]}
 *
 * Written by `assay users` (and its roster import), read by assay-web.
 * Passwords are kept only as libsodium's Argon2id strings (interactive
 * limits), API tokens only as their BLAKE2b hash: a token is 256 random
 * bits, so a fast hash is as good as a slow one, and checking it costs
 * a script nothing.  Changes are read-modify-write under users.lock
 * (flock), so two admins adding users at once lose neither.
 */
#define _GNU_SOURCE
#include "spool/accounts.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/course.h"

#define ACCOUNTS_MAX_BYTES (64u << 20)
#define ROSTER_MAX_BYTES (16u << 20)   /* the CSV */
#define TOKEN_PREFIX "assay_"

/* ---- reading ---- */

json_t *accounts_load(const struct spool *s, struct err *e)
{
    char *path = spool_path(s, ACCOUNTS_FILE);
    e->msg[0] = '\0';
    if (!path)
        return err_set(e, "out of memory"), NULL;
    json_t *users = NULL;
    if (!fs_exists(path)) {
        users = json_object();
    } else {
        json_t *j = jsonutil_load_file(path, ACCOUNTS_MAX_BYTES, e);
        users = json_object_get(j, "users");
        if (j && !json_is_object(users))
            err_set(e, "%s: \"users\" must be an object of accounts (fix: restore the file, or "
                    "remove it and add the accounts again with `assay users add`)", path);
        users = json_is_object(users) ? json_incref(users) : NULL;
        json_decref(j);
    }
    free(path);
    if (!users && !e->msg[0])
        err_set(e, "out of memory");
    return users;
}

const char *accounts_password_problem(const char *password)
{
    size_t n = password ? strlen(password) : 0;
    if (n < ACCOUNT_PASSWORD_MIN)
        return "a password needs at least 8 characters";
    if (n > ACCOUNT_PASSWORD_MAX)
        return "a password may have at most 1024 characters";
    return NULL;
}

const char *accounts_dummy_hash(void)
{
    static char hash[crypto_pwhash_STRBYTES];
    if (!hash[0]) {
        char pw[33];
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(pw, sizeof pw, raw, sizeof raw);
        if (crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                              crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
            hash[0] = '\0';   /* out of memory: every check against it then fails at once */
    }
    return hash;
}

char *accounts_password_hash(const json_t *users, const char *name)
{
    const char *hash = json_string_value(json_object_get(json_object_get(users, name ? name : ""),
                                                         "password"));
    return hash ? strdup(hash) : NULL;
}

bool accounts_verify_hash(const char *hash, const char *password)
{
    bool known = hash != NULL;
    if (!known)
        hash = accounts_dummy_hash();
    if (!password || !hash[0] || strlen(password) > ACCOUNT_PASSWORD_MAX)
        return false;
    bool ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
    return ok && known;
}

bool accounts_verify(const json_t *users, const char *name, const char *password)
{
    const json_t *u = json_object_get(users, name ? name : "");
    return accounts_verify_hash(json_string_value(json_object_get(u, "password")), password);
}

static void token_hash(const char *token, char out[65])
{
    unsigned char h[32];
    crypto_generichash(h, sizeof h, (const unsigned char *)token, strlen(token), NULL, 0);
    sodium_bin2hex(out, 65, h, sizeof h);
}

const char *accounts_token_user(const json_t *users, const char *token)
{
    if (!token || strlen(token) != ACCOUNT_TOKEN_LEN || strncmp(token, TOKEN_PREFIX, 6))
        return NULL;
    char want[65];
    token_hash(token, want);
    const char *name;
    const json_t *u;
    json_object_foreach((json_t *)users, name, u) {
        size_t i;
        const json_t *t;
        json_array_foreach(json_object_get(u, "tokens"), i, t) {
            const char *have = json_string_value(t);
            if (have && strlen(have) == 64 && sodium_memcmp(have, want, 64) == 0)
                return name;
        }
    }
    return NULL;
}

bool accounts_is_admin(const json_t *users, const char *name)
{
    return json_is_true(json_object_get(json_object_get(users, name), "admin"));
}

/* ---- changing, under the lock ---- */

static int lock_take(const struct spool *s, struct err *e)
{
    char *path = spool_path(s, "users.lock");
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
    if (fd < 0)
        err_sys(e, "cannot open %s", path ? path : "users.lock");
    else if (flock(fd, LOCK_EX) < 0)
        err_sys(e, "cannot lock %s", path), close(fd), fd = -1;
    free(path);
    return fd;
}

static int save(const struct spool *s, json_t *users, struct err *e)
{
    json_t *doc = json_pack("{s:O}", "users", users);
    char *text = doc ? jsonutil_dump_file(doc) : NULL;
    json_decref(doc);
    if (!text)
        return err_set(e, "out of memory");
    int rc = spool_write_private(s, ACCOUNTS_FILE, text, strlen(text), e);
    free(text);
    return rc;
}

/* Loads users.json under the lock, lets CHANGE edit it, saves it. */
static int change(const struct spool *s, int (*fn)(json_t *users, void *arg, struct err *e),
                  void *arg, struct err *e)
{
    int fd = lock_take(s, e);
    if (fd < 0)
        return -1;
    json_t *users = accounts_load(s, e);
    int rc = users && fn(users, arg, e) == 0 ? save(s, users, e) : -1;
    json_decref(users);
    close(fd);
    return rc;
}

static char *hash_password(const char *password, struct err *e)
{
    const char *why = accounts_password_problem(password);
    if (why)
        return err_set(e, "%s", why), NULL;
    char *hash = malloc(crypto_pwhash_STRBYTES);
    if (!hash)
        return err_set(e, "out of memory"), NULL;
    if (crypto_pwhash_str(hash, password, strlen(password), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
        free(hash);
        return err_set(e, "cannot hash the password (out of memory)"), NULL;
    }
    return hash;
}

struct add_args {
    const char *name, *password;
    bool admin, exist_ok;
};

static int add_fn(json_t *users, void *arg, struct err *e)
{
    struct add_args *a = arg;
    if (!spool_name_is_valid(a->name))
        return err_set(e, "\"%s\" is not a valid user name (letters, digits, '-', '_', '.', "
                       "'@'; at most 64; not starting with '.')", a->name);
    if (json_object_get(users, a->name))
        return a->exist_ok ? 0 : err_set(e, "user %s exists already (fix: `assay users passwd "
                                         "%s` to change the password)", a->name, a->name);
    char *hash = a->password ? hash_password(a->password, e) : NULL;
    if (a->password && !hash)
        return -1;
    json_t *u = json_pack("{s:o, s:b, s:[]}", "password", hash ? json_string(hash) : json_null(),
                          "admin", a->admin, "tokens");
    free(hash);
    if (!u || json_object_set_new(users, a->name, u) < 0)
        return err_set(e, "out of memory");
    return 0;
}

int accounts_add(const struct spool *s, const char *name, const char *password, bool admin,
                 struct err *e)
{
    struct add_args a = {name, password, admin, false};
    return change(s, add_fn, &a, e);
}

static int remove_fn(json_t *users, void *arg, struct err *e)
{
    const char *name = arg;
    if (json_object_del(users, name) < 0)
        return err_set(e, "no user %s (see `assay users list`)", name);
    return 0;
}

int accounts_remove(const struct spool *s, const char *name, struct err *e)
{
    return change(s, remove_fn, (void *)name, e);
}

static int passwd_fn(json_t *users, void *arg, struct err *e)
{
    const char *const *a = arg;
    json_t *u = json_object_get(users, a[0]);
    if (!u)
        return err_set(e, "no user %s (fix: `assay users add %s` first)", a[0], a[0]);
    char *hash = hash_password(a[1], e);
    if (!hash)
        return -1;
    int rc = json_object_set_new(u, "password", json_string(hash));
    free(hash);
    return rc < 0 ? err_set(e, "out of memory") : 0;
}

int accounts_passwd(const struct spool *s, const char *name, const char *password, struct err *e)
{
    const char *a[2] = {name, password};
    return change(s, passwd_fn, a, e);
}

struct token_args {
    const char *name;
    char *token;
};

static int token_fn(json_t *users, void *arg, struct err *e)
{
    struct token_args *a = arg;
    json_t *u = json_object_get(users, a->name);
    if (!u)
        return err_set(e, "no user %s (fix: `assay users add %s` first)", a->name, a->name);
    unsigned char raw[32];
    randombytes_buf(raw, sizeof raw);
    memcpy(a->token, TOKEN_PREFIX, 6);
    sodium_bin2hex(a->token + 6, 65, raw, sizeof raw);
    char hash[65];
    token_hash(a->token, hash);
    json_t *list = json_object_get(u, "tokens");
    if (!json_is_array(list) && json_object_set_new(u, "tokens", list = json_array()) < 0)
        return err_set(e, "out of memory");
    return json_array_append_new(list, json_string(hash)) < 0 ? err_set(e, "out of memory") : 0;
}

int accounts_token_new(const struct spool *s, const char *name, char token[ACCOUNT_TOKEN_LEN + 1],
                       struct err *e)
{
    struct token_args a = {name, token};
    return change(s, token_fn, &a, e);
}

/* ---- roster import ---- */

/* The index of column NAME in the header line HDR (split in place), -1. */
static int csv_column(char *hdr, const char *name)
{
    int i = 0;
    char *save = NULL;
    for (char *f = strtok_r(hdr, ",", &save); f; f = strtok_r(NULL, ",", &save), i++) {
        f += strspn(f, " \"");
        size_t n = strcspn(f, " \"\r");
        if (n == strlen(name) && !strncasecmp(f, name, n))
            return i;
    }
    return -1;
}

/* Field COL of LINE (no quoting beyond a pair of quotes around a field),
 * copied into OUT. */
static void csv_field(const char *line, int col, char *out, size_t n)
{
    const char *p = line;
    for (int i = 0; i < col && p; i++)
        p = (p = strchr(p, ',')) ? p + 1 : NULL;
    out[0] = '\0';
    if (!p)
        return;
    p += strspn(p, " \"");
    size_t len = strcspn(p, ",\"\r\n");
    while (len && p[len - 1] == ' ')
        len--;
    snprintf(out, n, "%.*s", (int)len, p);
}

static int roster_parse(const char *path, const char *text, json_t *rows, struct err *e)
{
    char *copy = strdup(text), *save = NULL;
    if (!copy)
        return err_set(e, "out of memory");
    char *line = strtok_r(copy, "\n", &save);
    char *hdr = line ? strdup(line) : NULL, *hdr2 = line ? strdup(line) : NULL;
    int ucol = hdr ? csv_column(hdr, "username") : -1, pcol = hdr2 ? csv_column(hdr2, "password") : -1;
    free(hdr);
    free(hdr2);
    int rc = 0, lineno = 1;
    if (ucol < 0)
        rc = err_set(e, "%s: line 1 must be a header naming a \"username\" column (and "
                     "optionally \"password\")", path);
    while (rc == 0 && (line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        char name[256], pw[ACCOUNT_PASSWORD_MAX + 2];
        if (!line[strspn(line, " \r,")])
            continue;
        csv_field(line, ucol, name, sizeof name);
        csv_field(line, pcol, pw, sizeof pw);
        if (!spool_name_is_valid(name))
            rc = err_set(e, "%s: line %d: username \"%s\" is not a valid name (letters, digits, "
                         "'-', '_', '.', '@'; at most 64)", path, lineno, name);
        else if (pcol >= 0 && pw[0] && accounts_password_problem(pw))
            rc = err_set(e, "%s: line %d: password of %s: %s", path, lineno, name,
                         accounts_password_problem(pw));
        else if (json_array_append_new(rows, json_pack("[s, s?]", name, pcol >= 0 && pw[0] ? pw : NULL)) < 0)
            rc = err_set(e, "out of memory");
    }
    free(copy);
    return rc;
}

struct import_args {
    json_t *rows;
    struct roster_report *r;
};

static int import_fn(json_t *users, void *arg, struct err *e)
{
    struct import_args *a = arg;
    size_t i;
    const json_t *row;
    json_array_foreach(a->rows, i, row) {
        const char *name = json_string_value(json_array_get(row, 0));
        const char *pw = json_string_value(json_array_get(row, 1));
        bool existed = json_object_get(users, name) != NULL;
        struct add_args add = {name, pw, false, true};
        if (add_fn(users, &add, e) < 0)
            return err_prefix(e, "user %s", name);
        existed ? a->r->existing++ : a->r->created++;
    }
    return 0;
}

int accounts_import_roster(const struct spool *s, const char *course, const char *csv_path,
                           struct roster_report *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    char *dir = spool_path(s, "courses/%s", course);
    bool exists = dir && spool_name_is_valid(course) && fs_is_dir(dir);
    free(dir);
    if (!exists)
        return err_set(e, "no course %s in this spool (courses/%s/ does not exist)", course, course);
    struct buf text = BUF_INIT;
    if (fs_read_file(csv_path, ROSTER_MAX_BYTES, &text, e) < 0)
        return -1;
    json_t *rows = json_array();
    int rc = rows ? roster_parse(csv_path, buf_str(&text), rows, e) : err_set(e, "out of memory");
    buf_free(&text);
    struct import_args a = {rows, r};
    if (rc == 0)
        rc = change(s, import_fn, &a, e);
    if (rc == 0)
        rc = course_roster_enrol(s, course, rows, &r->enrolled, e);
    json_decref(rows);
    return rc;
}
