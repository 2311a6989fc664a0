/*
 * limits.c - reads the "limits" of assignment.json and of its tests.
 *
 * One reader for both levels: a test's limits start from the
 * assignment's and replace what the test gives.  The ranges are what a
 * sandbox can enforce and a worker can afford; a value outside them is a
 * problem with its JSON path, never silently clipped.
 */
#include "contract/limits.h"

#include <stdio.h>

#include "common/check.h"

const struct run_limits assignment_default_limits = {
    .wall_s = 10, .cpu_s = 5, .memory_mb = 256, .processes = 32,
    .file_mb = 8, .output_kb = 256,
};

static const char *const limit_keys[] = {"wall_s", "cpu_s", "memory_mb", "processes",
                                         "file_mb", "output_kb", NULL};

struct run_limits limits_read(const json_t *obj, const char *path, struct run_limits base,
                              struct problems *p)
{
    const json_t *l = json_object_get(obj, "limits");
    if (!l)
        return base;
    char where[256];
    snprintf(where, sizeof where, "%s.limits", path);
    if (!json_is_object(l)) {
        problems_add(p, where, "must be an object");
        return base;
    }
    check_known_keys(l, where, limit_keys, NULL, p);
    base.wall_s = check_number(l, where, "wall_s", base.wall_s, 0.01, 3600, p);
    base.cpu_s = check_number(l, where, "cpu_s", base.cpu_s, 0.01, 3600, p);
    base.memory_mb = (long)check_number(l, where, "memory_mb", (double)base.memory_mb, 16, 65536, p);
    base.processes = (long)check_number(l, where, "processes", (double)base.processes, 1, 4096, p);
    base.file_mb = (long)check_number(l, where, "file_mb", (double)base.file_mb, 1, 65536, p);
    base.output_kb = (long)check_number(l, where, "output_kb", (double)base.output_kb, 1, 1048576, p);
    return base;
}
