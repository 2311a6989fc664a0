/*
 * workers.c - reads workers.json, the list of worker machines.
 *
 * Each worker has a name, a transport (local: a directory on this
 * machine; ssh: issue 4), a number of slots (jobs graded at once), the
 * capabilities it offers ("python", "notebook", "gpu", ...) and whether
 * it is enabled.  The scheduler reloads it on SIGHUP; `assay status`
 * reads it to say which jobs no enabled worker can take.
 */
#define _GNU_SOURCE
#include "spool/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/check.h"

static const char *const worker_keys[] = {"name", "transport", "dir", "host", "port", "user",
                                          "key", "known_hosts", "remote_dir", "slots",
                                          "capabilities", "enabled", "timeout_margin_s",
                                          "worker_command", "min_free_mb", "prefetch", "sandbox",
                                          NULL};
static const char *const transports[] = {"local", "ssh", NULL};
static const char *const sandboxes[] = {"namespace", "rlimit", NULL};

static void parse_worker(const struct spool *s, struct worker_cfg *w, const json_t *o,
                         const char *path, struct problems *p)
{
    if (!json_is_object(o)) {
        problems_add(p, path, "must be an object");
        return;
    }
    check_known_keys(o, path, worker_keys, NULL, p);
    w->name = check_string(o, path, "name", true, p);
    if (w->name && !spool_name_is_valid(w->name))
        problems_add(p, path, "name \"%s\" may hold only letters, digits, - _ . @", w->name);
    int t = check_enum(o, path, "transport", transports, p);
    w->transport = t < 0 ? "local" : transports[t];
    w->slots = (int)check_number(o, path, "slots", 1, 1, 256, p);
    w->prefetch = (int)check_number(o, path, "prefetch", 0, 0, 16, p);
    w->port = (int)check_number(o, path, "port", 22, 1, 65535, p);
    w->timeout_margin_s = check_number(o, path, "timeout_margin_s", 10, 0, 86400, p);
    const json_t *en = json_object_get(o, "enabled");
    w->enabled = !en || json_is_true(en);
    w->available = true;
    if (en && !json_is_boolean(en))
        problems_add(p, path, "\"enabled\" must be true or false");
    w->n_capabilities = check_string_list(o, path, "capabilities", true, p);
    w->capabilities = calloc(w->n_capabilities + 1, sizeof *w->capabilities);
    for (size_t i = 0; i < w->n_capabilities; i++)
        w->capabilities[i] = json_string_value(json_array_get(json_object_get(o, "capabilities"), i));
    w->host = check_string(o, path, "host", t == 1, p);
    w->user = check_string(o, path, "user", false, p);
    w->key = check_string(o, path, "key", false, p);
    w->known_hosts = check_string(o, path, "known_hosts", false, p);
    w->remote_dir = check_string(o, path, "remote_dir", false, p);
    w->worker_command = check_string(o, path, "worker_command", false, p);
    w->min_free_mb = check_number(o, path, "min_free_mb", 100, 0, 1e9, p);
    int sb = check_enum(o, path, "sandbox", sandboxes, p);
    w->sandbox = sb < 0 ? "namespace" : sandboxes[sb];
    if (t == 1 && json_object_get(o, "sandbox"))
        problems_add(p, path, "\"sandbox\" applies to local workers only: an ssh worker's "
                     "assay-worker is started on its host (see docs/DEPLOY.md)");
    if (t == 1 && (!w->key || !w->known_hosts))
        problems_add(p, path, "an ssh worker needs \"key\" (a private key file) and "
                     "\"known_hosts\" (its host key); see docs/DEPLOY.md");
    const char *dir = check_string(o, path, "dir", t == 0, p);
    if (dir)
        w->dir = dir[0] == '/' ? strdup(dir) : fs_join(s->root, dir);
}

int workers_load(const struct spool *s, struct workers *w, struct problems *p)
{
    memset(w, 0, sizeof *w);
    char *path = spool_path(s, "workers.json");
    struct err e;
    w->json = jsonutil_load_file(path, 1u << 20, &e);
    free(path);
    if (!w->json) {
        problems_add(p, "workers.json", "%s", e.msg);
        return -1;
    }
    const json_t *list = json_object_get(w->json, "workers");
    if (!json_is_array(list)) {
        problems_add(p, "$.workers", "must be a list of workers");
        return -1;
    }
    w->n = json_array_size(list);
    w->v = calloc(w->n + 1, sizeof *w->v);
    for (size_t i = 0; i < w->n; i++) {
        char where[64];
        snprintf(where, sizeof where, "$.workers[%zu]", i);
        parse_worker(s, &w->v[i], json_array_get(list, i), where, p);
        for (size_t j = 0; j < i && w->v[i].name; j++)
            if (w->v[j].name && !strcmp(w->v[j].name, w->v[i].name))
                problems_add(p, where, "the name \"%s\" is used twice", w->v[i].name);
    }
    return p->count ? -1 : 0;
}

void workers_free(struct workers *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].dir);
        free(w->v[i].capabilities);
    }
    free(w->v);
    json_decref(w->json);
    memset(w, 0, sizeof *w);
}

int worker_shippers(const struct worker_cfg *w)
{
    return w->slots + w->prefetch;
}

bool worker_offers(const struct worker_cfg *w, const char *capability)
{
    for (size_t i = 0; i < w->n_capabilities; i++)
        if (w->capabilities[i] && !strcmp(w->capabilities[i], capability))
            return true;
    return false;
}

const struct worker_cfg *workers_find(const struct workers *w, const char *name)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].name && !strcmp(w->v[i].name, name))
            return &w->v[i];
    return NULL;
}

bool workers_can_take(const struct workers *w, const char *capability)
{
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].enabled && worker_offers(&w->v[i], capability))
            return true;
    return false;
}
