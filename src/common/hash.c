/*
 * hash.c — 64-bit hash over bytes: 8 bytes at a time with a multiply-xorshift
 * mix (in the spirit of wyhash/xxh3's short-input path). Quality is enough for
 * open addressing; it is not collision-resistant against adversaries, so
 * tables that take keys from the network bound their probe lengths.
 */
#include "common/hash.h"

#include <string.h>

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

uint64_t sl_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    const uint64_t k0 = 0xa0761d6478bd642fULL, k1 = 0xe7037ed1a0b428dbULL;
    uint64_t h = seed ^ mix(seed ^ k0, (uint64_t)n ^ k1);
    while (n >= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + 8, 8);
        h = mix(a ^ k0 ^ h, b ^ k1);
        s += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = x;
        b = y;
    } else if (n > 0) {
        a = ((uint64_t)s[0] << 16) | ((uint64_t)s[n >> 1] << 8) | s[n - 1];
    }
    return mix(h ^ a ^ k1, b ^ k0 ^ n);
}
