/*
 * installs.c - the machine's registry of installations, which `assay
 * init` consults and extends (installs.h).
 *
 * Two installations on one machine must not share a uid range or a name
 * (the name makes their lock, run and cgroup directories).  The registry
 * is a directory of small files, one per installation, each naming its
 * spool; an entry whose spool is gone, or whose workers.json now names
 * another installation, is stale and removed, so spools made and deleted
 * (the test suite's) leave nothing held.  The registry's lock is held
 * from the first read to the spool's workers.json being written, so two
 * `assay init` at once cannot choose the same range, and an entry is
 * never judged stale before its spool names it.
 */
#define _GNU_SOURCE
#include "spool/installs.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "spool/workers.h"

/* An entry of the registry that still holds its installation. */
struct held {
    struct installation in;
    char spool[1024];
};

struct holders {
    struct held *v;
    size_t n;
};

int installs_open(struct installs *r, struct err *e)
{
    r->lock_fd = -1;
    if (fs_mkdir_p(INSTALLS_DIR, 0755, e) < 0)
        return -1;
    int fd = open(INSTALLS_DIR "/.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return err_sys(e, "cannot open %s/.lock", INSTALLS_DIR);
    while (flock(fd, LOCK_EX) < 0)
        if (errno != EINTR) {
            close(fd);
            return err_sys(e, "cannot lock %s/.lock", INSTALLS_DIR);
        }
    r->lock_fd = fd;
    return 0;
}

void installs_close(struct installs *r)
{
    if (r->lock_fd >= 0)
        close(r->lock_fd);
    r->lock_fd = -1;
}

static bool is_entry(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 5 && !strcmp(name + n - 5, ".json");
}

/* Whether the spool at SPOOL still names IN in its workers.json. */
static bool spool_names(const char *spool, const struct installation *in)
{
    char *path = fs_join(spool, "workers.json");
    struct err e;
    json_t *doc = path ? jsonutil_load_file(path, 1u << 20, &e) : NULL;
    free(path);
    if (!doc)
        return false;
    struct problems p = {0};
    struct installation now;
    workers_installation(doc, &now, &p);
    json_decref(doc);
    bool same = p.count == 0 && installation_equal(&now, in);
    problems_free(&p);
    return same;
}

/* Reads entry FILE into *H; false (with *E) if it is not an entry. */
static bool read_entry(const char *file, struct held *h, struct err *e)
{
    json_t *doc = jsonutil_load_file(file, 1u << 16, e);
    const char *spool = json_string_value(json_object_get(doc, "spool"));
    const char *name = json_string_value(json_object_get(doc, "name"));
    const char *uids = json_string_value(json_object_get(doc, "uids"));
    bool ok = doc && spool && spool[0] == '/' && name && uids &&
              installation_set(&h->in, name, uids, e) == 0;
    if (ok)
        snprintf(h->spool, sizeof h->spool, "%s", spool);
    else if (doc)
        err_set(e, "it must hold {\"spool\": an absolute path, \"name\", \"uids\": "
                "\"FIRST-LAST\"}");
    json_decref(doc);
    return ok;
}

/* The entries that still hold their installation; stale ones, and ROOT's
 * own earlier one, are removed. */
static int load_holders(const char *root, struct holders *hs, struct err *e)
{
    struct fs_list l;
    if (fs_list(INSTALLS_DIR, is_entry, fs_cmp_names, &l) < 0)
        return err_sys(e, "cannot list %s", INSTALLS_DIR);
    hs->v = calloc(l.n + 1, sizeof *hs->v);
    hs->n = 0;
    int rc = hs->v ? 0 : err_set(e, "out of memory");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        char *file = fs_join(INSTALLS_DIR, l.names[i]);
        struct held *h = &hs->v[hs->n];
        if (!file)
            rc = err_set(e, "out of memory");
        else if (!read_entry(file, h, e))
            rc = err_prefix(e, "%s is not an installation entry; fix or remove it", file);
        else if (strcmp(h->spool, root) && spool_names(h->spool, &h->in))
            hs->n++;
        else if (unlink(file) < 0 && errno != ENOENT)
            rc = err_sys(e, "cannot remove the stale entry %s", file);
        free(file);
    }
    fs_list_free(&l);
    return rc;
}

static const struct held *overlapping(const struct holders *hs, const struct installation *in)
{
    for (size_t i = 0; i < hs->n; i++)
        if (installation_uids_overlap(&hs->v[i].in, in))
            return &hs->v[i];
    return NULL;
}

/* An account whose uid is in IN's range, or NULL; *UID is its uid. */
static char *account_in(const struct installation *in, uid_t *uid)
{
    char *found = NULL;
    setpwent();
    for (struct passwd *pw; !found && (pw = getpwent());)
        if (pw->pw_uid >= in->uid_base && pw->pw_uid - in->uid_base < in->uid_count) {
            found = strdup(pw->pw_name);
            *uid = pw->pw_uid;
        }
    endpwent();
    return found;
}

/* The first free block of IN->uid_count uids from INSTALLS_FIRST_UID. */
static int pick_range(const struct holders *hs, struct installation *in, struct err *e)
{
    uid_t uid;
    for (unsigned long base = INSTALLS_FIRST_UID;
         base + in->uid_count - 1 <= INSTALLATION_UID_LAST; base += in->uid_count) {
        in->uid_base = (unsigned)base;
        char *account = overlapping(hs, in) ? NULL : account_in(in, &uid);
        if (!overlapping(hs, in) && !account)
            return 0;
        free(account);
    }
    return err_set(e, "no free range of %u uids is left for a new installation", in->uid_count);
}

static int refuse(const char *root, const struct installation *in, const struct held *h,
                  const struct holders *hs, struct err *e)
{
    char mine[32], theirs[32], free_uids[32] = "";
    struct installation spare = *in;
    installation_format_uids(in, mine, sizeof mine);
    installation_format_uids(&h->in, theirs, sizeof theirs);
    if (pick_range(hs, &spare, e) == 0)
        installation_format_uids(&spare, free_uids, sizeof free_uids);
    char who[64];
    if (h->in.name[0])
        snprintf(who, sizeof who, "installation \"%s\"", h->in.name);
    else
        snprintf(who, sizeof who, "the unnamed installation");
    return err_set(e, "the uids %s overlap those of %s (uids %s, spool %s): choose another "
                   "range with `assay init %s --uids FIRST-LAST`%s%s", mine, who, theirs,
                   h->spool, root, free_uids[0] ? ", e.g. --uids " : "", free_uids);
}

static int check_free(const char *root, const struct installation *in, const struct holders *hs,
                      struct err *e)
{
    for (size_t i = 0; i < hs->n; i++)
        if (!strcmp(hs->v[i].in.name, in->name))
            return err_set(e, "the installation name \"%s\" is taken by the spool %s: choose "
                           "another with `assay init %s --name NAME` (or, for an existing "
                           "spool, in its workers.json's \"installation\")", in->name,
                           hs->v[i].spool, root);
    const struct held *h = overlapping(hs, in);
    if (h)
        return refuse(root, in, h, hs, e);
    uid_t uid;
    char *account = account_in(in, &uid);
    if (account) {
        char mine[32];
        installation_format_uids(in, mine, sizeof mine);
        err_set(e, "the uids %s include the account %s (uid %u): choose another range with "
                "`assay init %s --uids FIRST-LAST`", mine, account, (unsigned)uid, root);
        free(account);
        return -1;
    }
    return 0;
}

static int record(const char *root, const struct installation *in, struct err *e)
{
    char uids[32], file[256];
    installation_format_uids(in, uids, sizeof uids);
    snprintf(file, sizeof file, "%s/%s.json", INSTALLS_DIR, in->name[0] ? in->name : "_unnamed");
    json_t *doc = json_pack("{s:s, s:s, s:s}", "spool", root, "name", in->name, "uids", uids);
    int rc = doc ? jsonutil_save_file(file, doc, e) : err_set(e, "out of memory");
    json_decref(doc);
    return rc;
}

int installs_claim(struct installs *r, const char *root, struct installation *in,
                   bool pick_uids, struct err *e)
{
    (void)r;   /* holding it is the point: the caller opened it */
    struct holders hs = {0};
    int rc = load_holders(root, &hs, e);
    if (rc == 0 && pick_uids)
        rc = pick_range(&hs, in, e);
    if (rc == 0)
        rc = check_free(root, in, &hs, e);
    if (rc == 0)
        rc = record(root, in, e);
    free(hs.v);
    return rc;
}
