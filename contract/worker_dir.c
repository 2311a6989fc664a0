/*
 * worker_dir.c - a worker directory: the names in it (worker_dir.h) and
 * its folders, made with modes that keep student code out.
 *
 * Job and result archives are named "<id>.<token>.zip": the name alone
 * says which attempt a result belongs to, so a shipper can tell a
 * current result from a stale one without opening it.
 *
 * Runs execute as unprivileged uids and need to reach their own work
 * directory under tmp/; nothing else in the worker directory may be
 * readable to them: queued jobs hold other students' submissions and the
 * assignments' hidden tests.  Used by assay-worker at start-up and by the
 * local transport.
 */
#define _GNU_SOURCE
#include "contract/worker_dir.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fs.h"

/* In a folder anyone may write to (/dev/shm, where `assay init` may put a
 * local worker), someone else may have made DIR first: use it only if it
 * is ours or root's. */
char *worker_path(const char *dir, const char *folder, const char *name)
{
    char *p = NULL;
    int n = name ? asprintf(&p, "%s/%s/%s", dir, folder, name) : asprintf(&p, "%s/%s", dir, folder);
    return n < 0 ? NULL : p;
}

char *worker_part_path(const char *dir, const char *folder, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s/.%s.part", dir, folder, name) < 0 ? NULL : p;
}

bool worker_is_part(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' && n > 6 && !strcmp(name + n - 5, ".part");
}

int worker_archive_name(char *out, size_t n, const char *id, const char *token)
{
    int len = snprintf(out, n, "%s.%s.zip", id, token);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

bool worker_archive_parse(const char *name, char *id, char *token, size_t n)
{
    size_t len = strlen(name);
    if (len < 7 || strcmp(name + len - 4, ".zip") || name[0] == '.')
        return false;
    const char *dot = memrchr(name, '.', len - 4);   /* between id and token */
    if (!dot || dot == name || (size_t)(dot - name) >= n || (size_t)(name + len - 4 - dot) > n)
        return false;
    snprintf(id, n, "%.*s", (int)(dot - name), name);
    snprintf(token, n, "%.*s", (int)(name + len - 4 - dot - 1), dot + 1);
    return token[0] != '\0';
}

bool worker_daemon_running(const char *dir)
{
    char *lock = fs_join(dir, WORKER_LOCK);
    int fd = lock ? open(lock, O_RDWR | O_CLOEXEC) : -1;
    free(lock);
    /* out of memory: taken as not running, which the caller reports */
    bool running = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0;
    if (fd >= 0)
        close(fd);
    return running;
}

bool worker_is_archive(const char *name)
{
    size_t n = strlen(name);
    return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".zip");
}

char *worker_trace_path(const char *dir, const char *name)
{
    char *p = NULL;
    return asprintf(&p, "%s/%s/%s.trace", dir, WORKER_ACTIVE, name) < 0 ? NULL : p;
}

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
        {WORKER_INBOX, 0700}, {WORKER_ACTIVE, 0700}, {WORKER_OUTBOX, 0700}, {WORKER_TMP, 0711},
        {WORKER_LOGS, 0700},
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
