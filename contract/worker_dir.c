/*
 * worker_dir.c - the folders of a worker directory, with modes that keep
 * student code out.
 *
 * Runs execute as unprivileged uids and need to reach their own work
 * directory under tmp/; nothing else in the worker directory may be
 * readable to them: queued jobs hold other students' submissions and the
 * assignments' hidden tests.  Used by assay-worker at start-up and by the
 * local transport.
 */
#include "contract/worker_dir.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

/* In a folder anyone may write to (/dev/shm, where `assay init` may put a
 * local worker), someone else may have made DIR first: use it only if it
 * is ours or root's. */
static int check_not_planted(const char *dir, struct err *e)
{
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s/..", dir);
    struct stat st, up;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
        return err_set(e, "worker directory %s is not a directory", dir);
    if (stat(parent, &up) == 0 && (up.st_mode & S_IWOTH) && st.st_uid != geteuid() &&
        st.st_uid != 0)
        return err_set(e, "worker directory %s belongs to uid %u, in a folder anyone may "
                       "write to: remove it, or name another \"dir\" in workers.json", dir,
                       (unsigned)st.st_uid);
    return 0;
}

int worker_layout_create(const char *dir, struct err *e)
{
    static const struct { const char *name; mode_t mode; } parts[] = {
        {"inbox", 0700}, {"active", 0700}, {"outbox", 0700}, {"tmp", 0711}, {"logs", 0700},
    };
    if (fs_mkdir_p(dir, 0711, e) < 0)
        return -1;
    if (check_not_planted(dir, e) < 0)
        return -1;
    chmod(dir, 0711);
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        char *p = fs_join(dir, parts[i].name);
        int rc = fs_mkdir_p(p, parts[i].mode, e);
        if (rc == 0)
            chmod(p, parts[i].mode);   /* repair what an older version made */
        free(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int worker_layout_reachable(const char *dir, struct err *e)
{
    char path[PATH_MAX];
    if (!realpath(dir, path))
        return err_sys(e, "cannot resolve %s", dir);
    for (char *slash = path; slash; slash = strchr(slash + 1, '/')) {
        char keep = slash[1];
        slash[1] = '\0';   /* the prefix up to and including this '/' */
        struct stat st;
        int ok = stat(path, &st) == 0 && (st.st_mode & S_IXOTH);
        if (!ok)
            err_set(e, "%s does not let other users pass (mode %04o), so graded programs, "
                    "which run as unprivileged uids, cannot reach %s/tmp: move the worker "
                    "directory (or the spool) elsewhere, or run chmod o+x %s", path,
                    (unsigned)(st.st_mode & 07777), dir, path);
        slash[1] = keep;
        if (!ok)
            return -1;
    }
    return 0;
}
