/* hash.h — fast non-cryptographic 64-bit hashing for hash tables (not for secrets). */
#ifndef SL_COMMON_HASH_H
#define SL_COMMON_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t sl_hash64(const void *p, size_t n, uint64_t seed);

#endif
