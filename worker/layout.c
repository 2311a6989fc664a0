/*
 * layout.c - the folders of a worker directory, with modes that keep
 * student code out.
 *
 * Runs execute as unprivileged uids and need to reach their own work
 * directory under tmp/; nothing else in the worker directory may be
 * readable to them: queued jobs hold other students' submissions and the
 * assignments' hidden tests.  Used by assay-worker at start-up and by the
 * local transport.
 */
#include "worker/layout.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "common/fs.h"

int worker_layout_create(const char *dir, struct err *e)
{
    static const struct { const char *name; mode_t mode; } parts[] = {
        {"inbox", 0700}, {"active", 0700}, {"outbox", 0700}, {"tmp", 0711}, {"logs", 0700},
    };
    if (fs_mkdir_p(dir, 0711, e) < 0)
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
