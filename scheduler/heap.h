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
    size_t *(*pos)(void *item);     /* where ITEM keeps its index in this heap */
};

#define HEAP_INIT(less_fn, pos_fn) {NULL, 0, 0, (less_fn), (pos_fn)}

/* 0, or -1 when memory ran out (the heap is unchanged). */
int heap_push(struct heap *h, void *item);
void *heap_top(const struct heap *h);
void heap_remove(struct heap *h, void *item);
/* Restores the order after ITEM's key changed. */
void heap_fix(struct heap *h, void *item);
void heap_free(struct heap *h);

#endif
