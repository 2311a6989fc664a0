/*
 * strmap.c - a chained hash table keyed by strings.
 *
 * The scheduler keeps one small record per course, student and
 * assignment it has seen; with 100,000 queued jobs a list search per
 * lookup would make start-up quadratic.  The table doubles when it holds
 * more entries than buckets, so a lookup stays O(1) on average.
 */
#include "scheduler/strmap.h"

#include <stdlib.h>
#include <string.h>

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603u;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

static void grow(struct strmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 64;
    struct strmap_entry **b = calloc(nb, sizeof *b);
    if (!b)
        return;   /* keep the old table: slower, still correct */
    for (size_t i = 0; i < m->nb; i++)
        while (m->b[i]) {
            struct strmap_entry *e = m->b[i];
            m->b[i] = e->next;
            size_t k = hash_str(e->key) & (nb - 1);
            e->next = b[k];
            b[k] = e;
        }
    free(m->b);
    m->b = b;
    m->nb = nb;
}

struct strmap_entry *strmap_get(struct strmap *m, const char *key, bool create)
{
    if (m->nb) {
        for (struct strmap_entry *e = m->b[hash_str(key) & (m->nb - 1)]; e; e = e->next)
            if (!strcmp(e->key, key))
                return e;
    }
    if (!create)
        return NULL;
    if (m->n >= m->nb)
        grow(m);
    if (!m->nb)
        return NULL;
    size_t len = strlen(key) + 1;
    struct strmap_entry *e = malloc(sizeof *e + len);
    if (!e)
        return NULL;
    memcpy(e->key, key, len);
    e->value = NULL;
    size_t k = hash_str(key) & (m->nb - 1);
    e->next = m->b[k];
    m->b[k] = e;
    m->n++;
    return e;
}

const char *strmap_intern(struct strmap *m, const char *str)
{
    struct strmap_entry *e = strmap_get(m, str, true);
    return e ? e->key : "?";
}

void strmap_del(struct strmap *m, const char *key)
{
    if (!m->nb)
        return;
    struct strmap_entry **p = &m->b[hash_str(key) & (m->nb - 1)];
    while (*p && strcmp((*p)->key, key))
        p = &(*p)->next;
    if (*p) {
        struct strmap_entry *e = *p;
        *p = e->next;
        free(e);
        m->n--;
    }
}

void strmap_free(struct strmap *m, void (*fn)(void *value))
{
    for (size_t i = 0; i < m->nb; i++)
        while (m->b[i]) {
            struct strmap_entry *e = m->b[i];
            m->b[i] = e->next;
            if (fn)
                fn(e->value);
            free(e);
        }
    free(m->b);
    m->b = NULL;
    m->nb = m->n = 0;
}
