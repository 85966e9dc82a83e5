/*
 * codec.c — page compression: ZSTD (libzstd, one frame per page) and SNAPPY
 * (libsnappy's C API, the raw block format Parquet uses, not the framing
 * format). Decompression must produce exactly the page's declared
 * uncompressed size, or the page is corrupt.
 */
#include "parquet/pq_int.h"

#include <snappy-c.h>
#include <string.h>
#include <zstd.h>

#include "common/err.h"

int pq_codec_to_thrift(enum pq_codec c)
{
    switch (c) {
    case PQ_CODEC_ZSTD: return CODEC_ZSTD;
    case PQ_CODEC_SNAPPY: return CODEC_SNAPPY;
    case PQ_CODEC_NONE: return CODEC_UNCOMPRESSED;
    }
    return -1;
}

int pq_codec_from_thrift(int32_t c)
{
    switch (c) {
    case CODEC_ZSTD: return PQ_CODEC_ZSTD;
    case CODEC_SNAPPY: return PQ_CODEC_SNAPPY;
    case CODEC_UNCOMPRESSED: return PQ_CODEC_NONE;
    }
    return -1;
}

int pq_compress(int codec, int level, const void *p, size_t n, struct sl_buf *out)
{
    sl_buf_reset(out);
    int rc;
    switch (codec) {
    case PQ_CODEC_NONE: return sl_buf_add(out, p, n);
    case PQ_CODEC_ZSTD: {
        size_t bound = ZSTD_compressBound(n);
        if ((rc = sl_buf_reserve(out, bound)) < 0) return rc;
        size_t r = ZSTD_compress(out->ptr, bound, p, n, level ? level : 3);
        if (ZSTD_isError(r)) return SL_EIO;
        out->len = r;
        out->ptr[r] = 0;
        return 0;
    }
    case PQ_CODEC_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        if ((rc = sl_buf_reserve(out, bound)) < 0) return rc;
        size_t clen = bound;
        if (snappy_compress(p, n, out->ptr, &clen) != SNAPPY_OK) return SL_EIO;
        out->len = clen;
        out->ptr[clen] = 0;
        return 0;
    }
    }
    return SL_EINVAL;
}

int pq_decompress(int codec, const void *p, size_t n, void *dst, size_t dst_len)
{
    switch (codec) {
    case PQ_CODEC_NONE:
        if (n != dst_len) return SL_ECORRUPT;
        if (n) memcpy(dst, p, n);
        return 0;
    case PQ_CODEC_ZSTD: {
        unsigned long long fs = ZSTD_getFrameContentSize(p, n);
        if (fs != ZSTD_CONTENTSIZE_UNKNOWN && fs != dst_len) return SL_ECORRUPT;
        size_t r = ZSTD_decompress(dst, dst_len, p, n);
        if (ZSTD_isError(r) || r != dst_len) return SL_ECORRUPT;
        return 0;
    }
    case PQ_CODEC_SNAPPY: {
        size_t ulen;
        if (snappy_uncompressed_length(p, n, &ulen) != SNAPPY_OK || ulen != dst_len)
            return SL_ECORRUPT;
        size_t out_len = dst_len;
        if (snappy_uncompress(p, n, dst, &out_len) != SNAPPY_OK || out_len != dst_len)
            return SL_ECORRUPT;
        return 0;
    }
    }
    return SL_ECORRUPT;
}
