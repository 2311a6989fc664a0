/* strmap.h - a hash table from strings to pointers; also interns names. */
#ifndef ASSAY_STRMAP_H
#define ASSAY_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

struct strmap_entry {
    struct strmap_entry *next;
    void *value;
    char key[];
};

struct strmap {
    struct strmap_entry **b;
    size_t nb, n;
};

/* The entry for KEY; with CREATE a new one (value NULL) if there is none.
 * NULL when absent (or out of memory).  Entries never move. */
struct strmap_entry *strmap_get(struct strmap *m, const char *key, bool create);
/* One stable copy of STR per map: equal strings give the same pointer. */
const char *strmap_intern(struct strmap *m, const char *str);
void strmap_del(struct strmap *m, const char *key);
/* Calls FN on every value (may be NULL) and frees the table. */
void strmap_free(struct strmap *m, void (*fn)(void *value));

#endif
