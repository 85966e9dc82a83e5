/* mem.c — allocation wrapper with failure injection for tests. */
#include "common/mem.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown = -1;
static atomic_int fail_sticky;

static int should_fail(void)
{
    long n = atomic_load_explicit(&fail_countdown, memory_order_relaxed);
    if (n < 0) return 0;
    if (n == 0) {
        if (!atomic_load(&fail_sticky)) atomic_store(&fail_countdown, -1);
        return 1;
    }
    atomic_fetch_sub(&fail_countdown, 1);
    return 0;
}

void sl_mem_fail_after(long n, int sticky)
{
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_countdown, n);
}

void *sl_malloc(size_t n)
{
    if (should_fail()) return NULL;
    return malloc(n ? n : 1);
}

void *sl_calloc(size_t count, size_t size)
{
    if (should_fail()) return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *sl_realloc(void *p, size_t n)
{
    if (should_fail()) return NULL;
    return realloc(p, n ? n : 1);
}

void *sl_grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return p;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return NULL;
        ncap *= 2;
    }
    if (size && ncap > SIZE_MAX / size) return NULL;
    void *np = sl_realloc(p, ncap * size);
    if (!np) return NULL;
    *cap = ncap;
    return np;
}

char *sl_strndup(const char *s, size_t n)
{
    char *d = sl_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sl_strdup(const char *s)
{
    return sl_strndup(s, strlen(s));
}

void sl_free(void *p)
{
    free(p);
}
