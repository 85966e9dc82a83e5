/*
 * codec.c — page compression: ZSTD (libzstd, one frame per page) and SNAPPY
 * (libsnappy's C API, the raw block format Parquet uses, not the framing
 * format). Decompression must produce exactly the page's declared
 * uncompressed size, or the page is corrupt.
 *
 * Each thread keeps one ZSTD compression and one decompression context
 * (freed when the thread exits): ZSTD_compress / ZSTD_decompress would
 * allocate and initialise a fresh one, a mmap'd block, for every page.
 */
#include "parquet/pq_int.h"

#include <pthread.h>
#include <snappy-c.h>
#include <stdlib.h>
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

struct zctx {
    ZSTD_CCtx *c;
    ZSTD_DCtx *d;
};

static pthread_key_t zkey;
static pthread_once_t zonce = PTHREAD_ONCE_INIT;
static int zkey_ok;

static void zctx_free(void *p)
{
    struct zctx *z = p;
    ZSTD_freeCCtx(z->c);
    ZSTD_freeDCtx(z->d);
    free(z);
}

static void zkey_init(void)
{
    zkey_ok = pthread_key_create(&zkey, zctx_free) == 0;
}

/* This thread's contexts (NULL members until first use); NULL when out of
 * memory, and the callers then use the one-shot calls. */
static struct zctx *zctx_get(void)
{
    pthread_once(&zonce, zkey_init);
    if (!zkey_ok) return NULL;
    struct zctx *z = pthread_getspecific(zkey);
    if (z) return z;
    z = calloc(1, sizeof *z);
    if (!z) return NULL;
    if (pthread_setspecific(zkey, z) != 0) {
        free(z);
        return NULL;
    }
    return z;
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
        struct zctx *z = zctx_get();
        if (z && !z->c) z->c = ZSTD_createCCtx();
        size_t r = z && z->c ? ZSTD_compressCCtx(z->c, out->ptr, bound, p, n, level ? level : 3)
                             : ZSTD_compress(out->ptr, bound, p, n, level ? level : 3);
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
        struct zctx *z = zctx_get();
        if (z && !z->d) z->d = ZSTD_createDCtx();
        size_t r = z && z->d ? ZSTD_decompressDCtx(z->d, dst, dst_len, p, n)
                             : ZSTD_decompress(dst, dst_len, p, n);
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
