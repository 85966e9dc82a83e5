/*
 * arena.h — bump allocator for per-request memory (nginx pools): many small
 * allocations, one free. Blocks are capped in total (max) so a request can
 * never take unbounded memory.
 */
#ifndef SL_COMMON_ARENA_H
#define SL_COMMON_ARENA_H

#include <stddef.h>

struct sl_arena_block;
struct sl_arena {
    struct sl_arena_block *head;
    size_t used_total; /* bytes handed out or reserved in blocks */
    size_t max;        /* cap on used_total; 0 = unlimited */
};

void sl_arena_init(struct sl_arena *a, size_t max);
/* 16-byte aligned; NULL when out of memory or over the cap. */
void *sl_arena_alloc(struct sl_arena *a, size_t n);
char *sl_arena_strndup(struct sl_arena *a, const char *s, size_t n);
/* Frees all blocks but the first, keeping it for reuse. */
void sl_arena_reset(struct sl_arena *a);
void sl_arena_release(struct sl_arena *a);

#endif
