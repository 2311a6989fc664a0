/*
 * installation.c - an installation's names (installation.h): checking a
 * name and a uid range, and deriving the directories and cgroup every
 * process of the installation uses from them.
 *
 * The spool reads an installation from workers.json, `assay init`
 * chooses one, assay-worker and `assay grade` take one on their command
 * lines, and the sandbox turns it into its slots' names; all of them go
 * through here, so a name means the same directories everywhere.
 */
#include "contract/installation.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void installation_default(struct installation *in)
{
    in->name[0] = '\0';
    in->uid_base = INSTALLATION_UID_BASE;
    in->uid_count = INSTALLATION_UID_COUNT;
}

int installation_check_name(const char *name, struct err *e)
{
    size_t n = strlen(name);
    bool ok = n >= 1 && n <= INSTALLATION_NAME_MAX && strspn(name,
              "abcdefghijklmnopqrstuvwxyz0123456789-_") == n && name[0] != '-' && name[0] != '_';
    if (!ok)
        return err_set(e, "the installation name \"%.64s\" must be 1 to %d lower-case letters, "
                       "digits, '-' or '_', starting with a letter or digit", name,
                       INSTALLATION_NAME_MAX);
    if (!strncmp(name, "slot-", 5) || !strncmp(name, "local-", 6))
        return err_set(e, "the installation name \"%s\" may not start with \"slot-\" or "
                       "\"local-\" (those are directories of the unnamed installation)", name);
    return 0;
}

static bool parse_uid(const char *s, char **end, unsigned long *v)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    *v = strtoul(s, end, 10);
    return errno == 0 && *v <= INSTALLATION_UID_LAST;
}

int installation_parse_uids(const char *text, unsigned *base, unsigned *count, struct err *e)
{
    unsigned long first, last;
    char *end;
    if (!parse_uid(text, &end, &first) || *end != '-' || !parse_uid(end + 1, &end, &last) ||
        *end)
        return err_set(e, "the uid range \"%.64s\" must be FIRST-LAST, e.g. \"62000-62999\"",
                       text);
    if (first < INSTALLATION_UID_MIN || last < first || last - first >= INSTALLATION_COUNT_MAX)
        return err_set(e, "the uid range \"%s\" must start at %d or above and hold 1 to %d "
                       "uids (FIRST <= LAST)", text, INSTALLATION_UID_MIN,
                       INSTALLATION_COUNT_MAX);
    *base = (unsigned)first;
    *count = (unsigned)(last - first + 1);
    return 0;
}

void installation_format_uids(const struct installation *in, char *out, size_t n)
{
    snprintf(out, n, "%u-%u", in->uid_base, in->uid_base + in->uid_count - 1);
}

int installation_set(struct installation *in, const char *name, const char *uids,
                     struct err *e)
{
    installation_default(in);
    if (name && *name) {
        if (installation_check_name(name, e) < 0)
            return -1;
        snprintf(in->name, sizeof in->name, "%s", name);
    }
    return uids ? installation_parse_uids(uids, &in->uid_base, &in->uid_count, e) : 0;
}

bool installation_equal(const struct installation *a, const struct installation *b)
{
    return !strcmp(a->name, b->name) && a->uid_base == b->uid_base &&
           a->uid_count == b->uid_count;
}

bool installation_uids_overlap(const struct installation *a, const struct installation *b)
{
    return a->uid_base < b->uid_base + b->uid_count && b->uid_base < a->uid_base + a->uid_count;
}

/* ROOT, or ROOT/NAME for a named installation. */
static void below(const char *root, const struct installation *in, char *out, size_t n)
{
    snprintf(out, n, "%s%s%s", root, in->name[0] ? "/" : "", in->name);
}

void installation_run_dir(const struct installation *in, char *out, size_t n)
{
    below(INSTALLATION_RUN_ROOT, in, out, n);
}

void installation_lock_dir(const struct installation *in, char *out, size_t n)
{
    below(INSTALLATION_LOCK_ROOT, in, out, n);
}

void installation_cgroup(const struct installation *in, char *out, size_t n)
{
    below(INSTALLATION_CGROUP_ROOT, in, out, n);
}
