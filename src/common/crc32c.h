/* crc32c.h — CRC-32C (Castagnoli), the checksum of WAL records and disk buffers. */
#ifndef SL_COMMON_CRC32C_H
#define SL_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (start with 0) over p[0..n). */
uint32_t sl_crc32c(uint32_t crc, const void *p, size_t n);

#endif
