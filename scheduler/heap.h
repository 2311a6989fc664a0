/* heap.h - a binary min-heap of pointers that knows where each item sits,
 * so any item can be removed or re-ordered in O(log n). */
#ifndef ASSAY_HEAP_H
#define ASSAY_HEAP_H

#include <stdbool.h>
#include <stddef.h>

struct heap {
    void **v;
    size_t n, cap;
    bool (*less)(const void *a, const void *b);
    size_t pos_offset;              /* where an item keeps its index in this
                                       heap: a size_t at this byte offset */
};

/* A heap of TYPEs (the policy's own nodes, say) ordered by LESS_FN, each
 * keeping its index in its size_t MEMBER (which may be "pos[1]"). */
#define HEAP_INIT(less_fn, type, member) {NULL, 0, 0, (less_fn), offsetof(type, member)}

/* 0, or -1 when memory ran out (the heap is unchanged). */
int heap_push(struct heap *h, void *item);
void *heap_top(const struct heap *h);
void heap_remove(struct heap *h, void *item);
/* Restores the order after ITEM's key changed. */
void heap_fix(struct heap *h, void *item);
void heap_free(struct heap *h);

#endif
