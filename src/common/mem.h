/*
 * mem.h — the single allocation wrapper.
 *
 * All heap allocation in sluice goes through these functions so that tests can
 * inject failures (sl_mem_fail_after) and so that library code never aborts on
 * out-of-memory: callers get NULL and return SL_ENOMEM.
 */
#ifndef SL_COMMON_MEM_H
#define SL_COMMON_MEM_H

#include <stddef.h>

void *sl_malloc(size_t n);
void *sl_calloc(size_t count, size_t size);
void *sl_realloc(void *p, size_t n);
/* Grows an array: returns a buffer for at least `need` elements of `size`
 * bytes (doubling), updating *cap; NULL on overflow or allocation failure, in
 * which case the old buffer is untouched. */
void *sl_grow(void *p, size_t *cap, size_t need, size_t size);
char *sl_strdup(const char *s);
char *sl_strndup(const char *s, size_t n);
void sl_free(void *p);

/* Test hook: the n-th allocation from now fails (and every one after it when
 * sticky is non-zero). n < 0 disables injection. */
void sl_mem_fail_after(long n, int sticky);

#endif
