/*
 * heap.c - the binary min-heap the scheduling policies order jobs,
 * students and courses with.
 *
 * Each item stores its own index (the heap's pos_offset says where), so
 * removing a job whose file vanished, or re-ordering a course whose tag
 * moved, is O(log n) instead of a search.  An item may sit in several
 * heaps at once through different index fields.  The items are whatever
 * the policy orders (its per-job nodes, its student and course queues);
 * an offset rather than a callback finds the index, since every step of
 * a sift writes one.
 */
#include "scheduler/heap.h"

#include <stdlib.h>

static size_t *pos_of(const struct heap *h, void *item)
{
    return (size_t *)((char *)item + h->pos_offset);
}

static void place(struct heap *h, size_t i, void *item)
{
    h->v[i] = item;
    *pos_of(h, item) = i;
}

static void sift_up(struct heap *h, size_t i)
{
    void *item = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->less(item, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, item);
}

static void sift_down(struct heap *h, size_t i)
{
    void *item = h->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && h->less(h->v[child + 1], h->v[child]))
            child++;
        if (!h->less(h->v[child], item))
            break;
        place(h, i, h->v[child]);
        i = child;
    }
    place(h, i, item);
}

int heap_push(struct heap *h, void *item)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 8;
        void **grown = realloc(h->v, cap * sizeof *grown);
        if (!grown)
            return -1;
        h->v = grown;
        h->cap = cap;
    }
    h->v[h->n] = item;
    sift_up(h, h->n++);
    return 0;
}

void *heap_top(const struct heap *h)
{
    return h->n ? h->v[0] : NULL;
}

void heap_fix(struct heap *h, void *item)
{
    size_t i = *pos_of(h, item);
    sift_up(h, i);
    sift_down(h, *pos_of(h, item));
}

void heap_remove(struct heap *h, void *item)
{
    size_t i = *pos_of(h, item);
    void *last = h->v[--h->n];
    if (i == h->n)
        return;
    place(h, i, last);
    heap_fix(h, last);
}

void heap_free(struct heap *h)
{
    free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}
