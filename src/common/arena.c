/* arena.c — bump allocator with a total cap. */
#include "common/arena.h"

#include <stdint.h>
#include <string.h>

#include "common/mem.h"

struct sl_arena_block {
    struct sl_arena_block *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
};

void sl_arena_init(struct sl_arena *a, size_t max)
{
    a->head = NULL;
    a->used_total = 0;
    a->max = max;
}

void *sl_arena_alloc(struct sl_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct sl_arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 32768 ? n : 32768;
        if (a->max && a->used_total + cap > a->max) return NULL;
        b = sl_malloc(sizeof(*b) + cap);
        if (!b) return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = a->head;
        a->head = b;
        a->used_total += cap;
    }
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n)
{
    char *d = sl_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

void sl_arena_reset(struct sl_arena *a)
{
    struct sl_arena_block *b = a->head;
    if (!b) return;
    while (b->next) {
        struct sl_arena_block *n = b->next;
        b->next = n->next;
        a->used_total -= n->cap;
        sl_free(n);
    }
    b->used = 0;
}

void sl_arena_release(struct sl_arena *a)
{
    struct sl_arena_block *b = a->head;
    while (b) {
        struct sl_arena_block *n = b->next;
        sl_free(b);
        b = n;
    }
    a->head = NULL;
    a->used_total = 0;
}
