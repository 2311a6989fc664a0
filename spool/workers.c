/*
 * workers.c - reads workers.json, the list of worker machines.
 *
 * Each worker has a name, a transport, a number of slots (jobs graded at
 * once), the capabilities it offers ("python", "notebook", "gpu", ...)
 * and whether it is enabled: the keys read here.  A transport's own keys
 * (an SSH worker's host and key files, ...) are its own to read and check
 * (shipper/transport_*.c), except a local worker's directory and sandbox,
 * which the scheduler needs to start its assay-worker.  The scheduler
 * reloads the file on SIGHUP; `assay status` reads it to say which jobs
 * no enabled worker can take.  Its top-level "installation" names the
 * uids, directories and cgroups the spool's local workers use
 * (contract/installation.h); `assay init` writes it.
 */
#define _GNU_SOURCE
#include "spool/workers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/fs.h"
#include "common/jsonutil.h"
#include "common/check.h"
#include "common/run.h"

const char *const worker_common_keys[] = {"name", "transport", "slots", "prefetch",
                                          "capabilities", "enabled", "timeout_margin_s",
                                          "min_free_mb", NULL};
const char *const worker_local_keys[] = {"dir", "sandbox", NULL};

/* A local worker's directory, and the sandbox its assay-worker uses (the
 * name is assay-worker's to check: it knows its launchers). */
static void read_local(const struct spool *s, struct worker_cfg *w, const json_t *o,
                       const char *path, struct problems *p)
{
    w->sandbox = check_string(o, path, "sandbox", false, p);
    const char *dir = check_string(o, path, "dir", true, p);
    if (dir && !(w->dir = dir[0] == '/' ? strdup(dir) : fs_join(s->root, dir)))
        problems_add(p, path, "out of memory");
}

static void parse_worker(const struct spool *s, struct worker_cfg *w, const json_t *o,
                         const char *path, struct problems *p)
{
    if (!json_is_object(o)) {
        problems_add(p, path, "must be an object");
        return;
    }
    w->entry = o;
    w->name = check_string(o, path, "name", true, p);
    if (w->name && !spool_name_is_valid(w->name))
        problems_add(p, path, "name \"%s\" may hold only letters, digits, - _ . @", w->name);
    w->transport = check_string(o, path, "transport", false, p);
    if (!w->transport)
        w->transport = WORKER_LOCAL;
    w->local = !strcmp(w->transport, WORKER_LOCAL);
    w->slots = (int)check_number(o, path, "slots", 1, 1, 256, p);
    w->prefetch = (int)check_number(o, path, "prefetch", 0, 0, 16, p);
    w->timeout_margin_s = check_number(o, path, "timeout_margin_s", 10, 0, 86400, p);
    const json_t *en = json_object_get(o, "enabled");
    w->enabled = !en || json_is_true(en);
    w->available = true;
    if (en && !json_is_boolean(en))
        problems_add(p, path, "\"enabled\" must be true or false");
    w->n_capabilities = check_string_list(o, path, "capabilities", true, p);
    w->capabilities = calloc(w->n_capabilities + 1, sizeof *w->capabilities);
    if (!w->capabilities) {
        problems_add(p, path, "out of memory");
        w->n_capabilities = 0;
    }
    for (size_t i = 0; i < w->n_capabilities; i++)
        w->capabilities[i] = json_string_value(json_array_get(json_object_get(o, "capabilities"), i));
    w->min_free_mb = check_number(o, path, "min_free_mb", 100, 0, 1e9, p);
    if (w->local)
        read_local(s, w, o, path, p);
}

void workers_installation(const json_t *doc, struct installation *in, struct problems *p)
{
    static const char *const keys[] = {"name", "uids", NULL};
    installation_default(in);
    const json_t *o = json_object_get(doc, "installation");
    if (!o)
        return;
    if (!json_is_object(o)) {
        problems_add(p, "$.installation", "must be an object: {\"name\": ..., \"uids\": "
                     "\"FIRST-LAST\"}");
        return;
    }
    check_known_keys(o, "$.installation", keys, NULL, p);
    const char *name = check_string(o, "$.installation", "name", true, p);
    const char *uids = check_string(o, "$.installation", "uids", true, p);
    struct err e;
    if (name && installation_check_name(name, &e) < 0)
        problems_add(p, "$.installation.name", "%s", e.msg);
    else if (name)
        snprintf(in->name, sizeof in->name, "%s", name);
    if (uids && installation_parse_uids(uids, &in->uid_base, &in->uid_count, &e) < 0)
        problems_add(p, "$.installation.uids", "%s", e.msg);
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
    workers_installation(w->json, &w->installation, p);
    const json_t *list = json_object_get(w->json, "workers");
    if (!json_is_array(list)) {
        problems_add(p, "$.workers", "must be a list of workers");
        return -1;
    }
    w->n = json_array_size(list);
    if (!(w->v = calloc(w->n + 1, sizeof *w->v))) {
        w->n = 0;
        problems_add(p, "workers.json", "out of memory");
        return -1;
    }
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

int workers_check_transports(const struct spool *s, const char *bindir, struct problems *p)
{
    char *exe = fs_join(bindir, "assay-shipper");
    char *argv[] = {exe, "--spool", s->root, "--check-config", NULL};
    struct buf out = BUF_INIT;
    struct err e;
    int rc = exe ? run_capture(argv, 1u << 20, &out, &e) : err_set(&e, "out of memory");
    if (rc < 0 || rc > 1) {
        problems_add(p, "workers.json", "cannot have the transports check their keys: %s",
                     rc < 0 ? e.msg : "assay-shipper --check-config failed");
        rc = -1;
    } else {
        char *save = NULL, *line = out.len ? strtok_r(out.data, "\n", &save) : NULL;
        for (; line; line = strtok_r(NULL, "\n", &save)) {
            char *sep = strstr(line, ": ");   /* each line is "WHERE: WHAT" */
            if (sep)
                *sep = '\0';
            problems_add(p, line, "%s", sep ? sep + 2 : "(no reason given)");
        }
        rc = 0;
    }
    buf_free(&out);
    free(exe);
    return rc;
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
