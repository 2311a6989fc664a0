/*
 * launcher.c - the registry of launchers: the ways Assay can run student
 * code, found by name.
 *
 * A launcher (the namespace sandbox, the rlimit development mode, ...) is
 * a struct launcher_type defined in the file of its implementation
 * (launcher_*.c); adding one means writing that file and one line in the
 * table below.  The programs that pick one by name - `assay grade
 * --sandbox`, `assay-worker --sandbox`, the benchmarks - look it up here
 * and use its hooks (host check, constructors), so none of them knows
 * which launchers exist.  Each constructor takes the installation's
 * names (struct sandbox_site, made here from contract/installation.h),
 * so launchers of two installations lease different uids and make
 * different directories and cgroups.
 */
#include "sandbox/launcher.h"

#include <stdio.h>
#include <string.h>

extern const struct launcher_type launcher_namespace, launcher_rlimit;

static const struct launcher_type *const types[] = {
    &launcher_namespace, &launcher_rlimit,
};

#define N_TYPES (sizeof types / sizeof *types)

/* Student code is contained unless someone asks for less. */
static const struct launcher_type *const default_type = &launcher_namespace;

const struct launcher_type *launcher_find(const char *name)
{
    if (!name)
        return default_type;
    for (size_t i = 0; i < N_TYPES; i++)
        if (!strcmp(types[i]->name, name))
            return types[i];
    return NULL;
}

const char *launcher_names(void)
{
    static char names[256];
    if (!names[0])
        for (size_t i = 0; i < N_TYPES; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i ? ", " : "", types[i]->name);
    return names;
}

const struct launcher_type *launcher_lookup(const char *name, struct err *e)
{
    const struct launcher_type *t = launcher_find(name);
    if (!t)
        err_set(e, "\"%s\" is not a sandbox Assay knows (%s)", name, launcher_names());
    return t;
}

struct launcher *launcher_new(const char *name, const struct sandbox_site *site, struct err *e)
{
    const struct launcher_type *t = launcher_lookup(name, e);
    return t ? t->create(site, e) : NULL;
}

void sandbox_site_of(struct sandbox_site *site, const struct installation *in)
{
    struct installation unnamed;
    if (!in) {
        installation_default(&unnamed);
        in = &unnamed;
    }
    site->uid_base = (uid_t)in->uid_base;
    site->uid_count = in->uid_count;
    installation_lock_dir(in, site->lock_dir, sizeof site->lock_dir);
    installation_run_dir(in, site->run_dir, sizeof site->run_dir);
    installation_cgroup(in, site->cgroup_name, sizeof site->cgroup_name);
}
