/*
 * encoding.c — Parquet value encodings (Encodings.md of the format):
 *
 *   bit packing  values of bw bits packed from the least significant bit of
 *                the first byte upwards.
 *   RLE/bit-packed hybrid  a sequence of runs, each led by a ULEB128 header:
 *                header & 1 == 0: RLE run of (header >> 1) copies of one value
 *                stored in ceil(bw / 8) little-endian bytes; header & 1 == 1:
 *                (header >> 1) groups of 8 bit-packed values. Used for
 *                definition levels (bw 1, behind a 4-byte length in data
 *                pages v1) and dictionary indices (behind a 1-byte bw).
 *                The encoder emits an RLE run for every repeat of 8 or more
 *                that starts on a group boundary, literals otherwise; the last
 *                group is zero-padded (readers stop at the value count).
 *   DELTA_BINARY_PACKED  header <block size 128> <4 miniblocks> <value count>
 *                <zigzag first value>, then per block of 128 deltas:
 *                <zigzag min delta> <4 bit-width bytes> <miniblocks of 32
 *                values of (delta - min delta), bit-packed>. Miniblocks past
 *                the last value are not written (their width byte is 0).
 *                Arithmetic wraps modulo 2^64 on both sides.
 *   BYTE_STREAM_SPLIT  byte k of every value goes to stream k; the streams
 *                are concatenated (for doubles: 8 streams of n bytes).
 */
#include "parquet/pq_int.h"

#include <string.h>

#include "common/err.h"
#include "common/mem.h"

void pq_put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint32_t pq_get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pq_put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t pq_get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int pq_bit_width(uint64_t v)
{
    int w = 0;
    while (v) {
        w++;
        v >>= 1;
    }
    return w;
}

static uint64_t mask_bits(int bw)
{
    return bw >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bw) - 1);
}

/* ---- bit writer / reader ---- */

struct bitw {
    struct sl_buf *out;
    uint64_t acc;
    int nbits;
    int err;
};

static void bitw_flush8(struct bitw *w)
{
    uint8_t tmp[8];
    pq_put_le64(tmp, w->acc);
    int rc = sl_buf_add(w->out, tmp, 8);
    if (rc < 0) w->err = rc;
}

static void bitw_put(struct bitw *w, uint64_t v, int bw)
{
    if (bw == 0) return;
    v &= mask_bits(bw);
    w->acc |= v << w->nbits;
    if (w->nbits + bw >= 64) {
        bitw_flush8(w);
        int used = 64 - w->nbits;
        w->acc = used >= 64 ? 0 : v >> used;
        w->nbits = w->nbits + bw - 64;
    } else {
        w->nbits += bw;
    }
}

static void bitw_finish(struct bitw *w)
{
    uint8_t tmp[8];
    int n = (w->nbits + 7) / 8;
    pq_put_le64(tmp, w->acc);
    if (n) {
        int rc = sl_buf_add(w->out, tmp, (size_t)n);
        if (rc < 0) w->err = rc;
    }
    w->acc = 0;
    w->nbits = 0;
}

/* Reads value i of bw bits from p; the caller has checked that the packed
 * data (len bytes) covers it. */
static inline uint64_t bit_get(const uint8_t *p, size_t len, uint64_t bitpos, int bw)
{
    if (bw == 0) return 0;
    size_t idx = (size_t)(bitpos >> 3);
    int shift = (int)(bitpos & 7);
    uint64_t lo = 0;
    size_t avail = len - idx;
    if (avail >= 8) { /* one unaligned little-endian load */
        memcpy(&lo, p + idx, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap64(lo);
#endif
    } else {
        for (size_t i = 0; i < avail; i++)
            lo |= (uint64_t)p[idx + i] << (8 * i);
    }
    uint64_t v = lo >> shift;
    if (shift + bw > 64 && avail > 8) v |= (uint64_t)p[idx + 8] << (64 - shift);
    return v & mask_bits(bw);
}

/* Unpacks values 0..take-1 of bw bits (1..64) from p into out; len bytes
 * may be read from p (at least the packed values, possibly more of the same
 * buffer): one unaligned 8-byte load per value while 8 bytes remain (bw <=
 * 56 fits one load at any shift), bit_get for the tail. */
static void unpack_u64(const uint8_t *p, size_t len, int bw, size_t take, uint64_t *out)
{
    size_t k = 0;
    if (bw <= 56 && len >= 8) {
        uint64_t mask = mask_bits(bw);
        /* value k's load starts at byte k*bw/8, which must be <= len - 8 */
        size_t fast = ((len - 8) * 8) / (size_t)bw + 1;
        if (fast > take) fast = take;
        uint64_t bitpos = 0;
        for (; k < fast; k++, bitpos += (uint64_t)bw) {
            uint64_t lo;
            memcpy(&lo, p + (bitpos >> 3), 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            lo = __builtin_bswap64(lo);
#endif
            out[k] = (lo >> (bitpos & 7)) & mask;
        }
    }
    for (; k < take; k++)
        out[k] = bit_get(p, len, (uint64_t)k * (uint64_t)bw, bw);
}

/* As unpack_u64 into 32-bit values (bw <= 32; 0 gives zeros), a block at a
 * time through a small buffer. */
static void unpack_u32(const uint8_t *p, size_t len, int bw, size_t take, uint32_t *out)
{
    if (bw == 0) {
        memset(out, 0, take * sizeof *out);
        return;
    }
    uint64_t tmp[256];
    for (size_t done = 0; done < take;) {
        size_t k = take - done < 256 ? take - done : 256;
        /* block starts are multiples of 8 values: whole bytes */
        size_t off = done * (size_t)bw / 8;
        unpack_u64(p + off, len - off, bw, k, tmp);
        for (size_t i = 0; i < k; i++)
            out[done + i] = (uint32_t)tmp[i];
        done += k;
    }
}

int pq_bitpack(struct sl_buf *out, const uint64_t *v, size_t n, int bw)
{
    struct bitw w = {out, 0, 0, 0};
    for (size_t i = 0; i < n; i++)
        bitw_put(&w, v[i], bw);
    bitw_finish(&w);
    return w.err;
}

/* ---- RLE / bit-packed hybrid ---- */

static int put_uvarint(struct sl_buf *out, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        tmp[n++] = c | (v ? 0x80 : 0);
    } while (v);
    return sl_buf_add(out, tmp, n);
}

static int get_uvarint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return SL_ECORRUPT;
        uint8_t c = *(*p)++;
        if (shift == 63 && (c & 0x7e)) return SL_ECORRUPT;
        r |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return SL_ECORRUPT;
}

static int hybrid_literals(struct sl_buf *out, const uint32_t *v, size_t n, int bw)
{
    if (n == 0) return 0;
    size_t groups = (n + 7) / 8;
    int rc = put_uvarint(out, (uint64_t)groups << 1 | 1);
    if (rc < 0) return rc;
    struct bitw w = {out, 0, 0, 0};
    for (size_t i = 0; i < groups * 8; i++)
        bitw_put(&w, i < n ? v[i] : 0, bw);
    bitw_finish(&w);
    return w.err;
}

static int hybrid_run(struct sl_buf *out, uint32_t value, size_t count, int bw)
{
    int rc = put_uvarint(out, (uint64_t)count << 1);
    if (rc < 0) return rc;
    uint8_t tmp[4];
    pq_put_le32(tmp, value);
    return sl_buf_add(out, tmp, (size_t)(bw + 7) / 8);
}

int pq_hybrid_encode(struct sl_buf *out, const uint32_t *v, size_t n, int bw)
{
    size_t lit = 0, i = 0;
    int rc;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && v[j] == v[i])
            j++;
        size_t run = j - i;
        if (run >= 8) {
            /* Literal groups hold multiples of 8: lend the run the values
             * needed to complete the pending group. */
            size_t pad = (8 - (i - lit) % 8) % 8;
            if (run - pad >= 8) {
                i += pad;
                if ((rc = hybrid_literals(out, v + lit, i - lit, bw)) < 0) return rc;
                if ((rc = hybrid_run(out, v[i], j - i, bw)) < 0) return rc;
                lit = j;
            }
        }
        i = j;
    }
    return hybrid_literals(out, v + lit, n - lit, bw);
}

int pq_hybrid_decode(const uint8_t *p, size_t len, int bw, uint32_t *v, size_t n, size_t *used)
{
    const uint8_t *s = p, *end = p + len;
    size_t got = 0;
    if (bw < 0 || bw > 32) return SL_ECORRUPT;
    size_t vbytes = (size_t)(bw + 7) / 8;
    while (got < n) {
        uint64_t h;
        if (get_uvarint(&s, end, &h) < 0) return SL_ECORRUPT;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > (uint64_t)(end - s)) return SL_ECORRUPT;
            uint64_t count = groups * 8;
            size_t bytes = (size_t)groups * (size_t)bw; /* groups*8*bw/8 */
            if (bytes > (size_t)(end - s)) return SL_ECORRUPT;
            size_t take = count < n - got ? (size_t)count : n - got;
            unpack_u32(s, (size_t)(end - s), bw, take, v + got);
            got += take;
            s += bytes;
        } else {
            uint64_t count = h >> 1;
            if (count == 0 || vbytes > (size_t)(end - s)) return SL_ECORRUPT;
            uint32_t val = 0;
            for (size_t k = 0; k < vbytes; k++)
                val |= (uint32_t)s[k] << (8 * k);
            s += vbytes;
            if (bw < 32 && (val >> bw)) return SL_ECORRUPT;
            size_t take = count < n - got ? (size_t)count : n - got;
            for (size_t k = 0; k < take; k++)
                v[got + k] = val;
            got += take;
        }
    }
    if (used) *used = (size_t)(s - p);
    return 0;
}

int pq_hyb_next(struct pq_hyb *it, uint32_t *buf, size_t *count, int *rle, uint32_t *val)
{
    if (it->left == 0) return 0;
    if (it->bw < 0 || it->bw > 32) return SL_ECORRUPT;
    uint64_t h;
    if (get_uvarint(&it->s, it->end, &h) < 0) return SL_ECORRUPT;
    int bw = it->bw;
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (groups == 0 || groups > (uint64_t)(it->end - it->s)) return SL_ECORRUPT;
        size_t bytes = (size_t)groups * (size_t)bw;
        if (bytes > (size_t)(it->end - it->s)) return SL_ECORRUPT;
        size_t take = groups * 8 < it->left ? (size_t)groups * 8 : it->left;
        unpack_u32(it->s, (size_t)(it->end - it->s), bw, take, buf);
        it->s += bytes;
        it->left -= take;
        *count = take;
        *rle = 0;
        return 1;
    }
    uint64_t cnt = h >> 1;
    size_t vbytes = (size_t)(bw + 7) / 8;
    if (cnt == 0 || vbytes > (size_t)(it->end - it->s)) return SL_ECORRUPT;
    uint32_t v = 0;
    for (size_t k = 0; k < vbytes; k++)
        v |= (uint32_t)it->s[k] << (8 * k);
    it->s += vbytes;
    if (bw < 32 && (v >> bw)) return SL_ECORRUPT;
    size_t take = cnt < it->left ? (size_t)cnt : it->left;
    it->left -= take;
    *count = take;
    *rle = 1;
    *val = v;
    return 1;
}

/* ---- DELTA_BINARY_PACKED ---- */

#define DELTA_BLOCK     128
#define DELTA_MINIBLOCK 4
#define DELTA_MB_VALUES (DELTA_BLOCK / DELTA_MINIBLOCK)

static uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzz(uint64_t z)
{
    return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
}

int pq_delta_encode(struct sl_buf *out, const int64_t *v, size_t n)
{
    int rc;
    if ((rc = put_uvarint(out, DELTA_BLOCK)) < 0 || (rc = put_uvarint(out, DELTA_MINIBLOCK)) < 0 ||
        (rc = put_uvarint(out, n)) < 0 || (rc = put_uvarint(out, zz(n ? v[0] : 0))) < 0)
        return rc;
    uint64_t d[DELTA_BLOCK];
    for (size_t i = 1; i < n; i += DELTA_BLOCK) {
        size_t cnt = n - i < DELTA_BLOCK ? n - i : DELTA_BLOCK;
        int64_t min = INT64_MAX;
        for (size_t k = 0; k < cnt; k++) {
            int64_t delta = (int64_t)((uint64_t)v[i + k] - (uint64_t)v[i + k - 1]);
            d[k] = (uint64_t)delta;
            if (delta < min) min = delta;
        }
        uint8_t widths[DELTA_MINIBLOCK];
        for (int m = 0; m < DELTA_MINIBLOCK; m++) {
            uint64_t mx = 0;
            size_t lo = (size_t)m * DELTA_MB_VALUES;
            for (size_t k = lo; k < lo + DELTA_MB_VALUES && k < cnt; k++) {
                d[k] -= (uint64_t)min;
                if (d[k] > mx) mx = d[k];
            }
            widths[m] = lo < cnt ? (uint8_t)pq_bit_width(mx) : 0;
        }
        if ((rc = put_uvarint(out, zz(min))) < 0) return rc;
        if ((rc = sl_buf_add(out, widths, sizeof widths)) < 0) return rc;
        struct bitw w = {out, 0, 0, 0};
        for (int m = 0; m < DELTA_MINIBLOCK; m++) {
            size_t lo = (size_t)m * DELTA_MB_VALUES;
            if (lo >= cnt) break;
            for (size_t k = lo; k < lo + DELTA_MB_VALUES; k++)
                bitw_put(&w, k < cnt ? d[k] : 0, widths[m]);
            bitw_finish(&w); /* 32 values: always whole bytes */
        }
        if (w.err) return w.err;
    }
    return 0;
}

int pq_delta_decode(const uint8_t *p, size_t len, int64_t *v, size_t n, size_t *used)
{
    const uint8_t *s = p, *end = p + len;
    uint64_t block, nmb, total, first;
    if (get_uvarint(&s, end, &block) < 0 || get_uvarint(&s, end, &nmb) < 0 ||
        get_uvarint(&s, end, &total) < 0 || get_uvarint(&s, end, &first) < 0)
        return SL_ECORRUPT;
    if (block == 0 || block % 128 || block > (1u << 16) || nmb == 0 || block % nmb ||
        (block / nmb) % 32 || total != n)
        return SL_ECORRUPT;
    size_t mbv = (size_t)(block / nmb);
    if (n == 0) goto done;
    int64_t cur = unzz(first);
    v[0] = cur;
    size_t got = 1;
    while (got < n) {
        uint64_t zmin;
        if (get_uvarint(&s, end, &zmin) < 0) return SL_ECORRUPT;
        uint64_t min = (uint64_t)unzz(zmin);
        if ((uint64_t)(end - s) < nmb) return SL_ECORRUPT;
        const uint8_t *widths = s;
        s += nmb;
        for (size_t m = 0; m < nmb && got < n; m++) {
            int bw = widths[m];
            if (bw > 64) return SL_ECORRUPT;
            size_t bytes = mbv / 8 * (size_t)bw;
            if (bytes > (size_t)(end - s)) return SL_ECORRUPT;
            size_t take = n - got < mbv ? n - got : mbv;
            uint64_t *dst = (uint64_t *)v + got;
            uint64_t c = (uint64_t)cur;
            if (bw == 0) {
                for (size_t k = 0; k < take; k++)
                    dst[k] = c += min;
            } else {
                unpack_u64(s, (size_t)(end - s), bw, take, dst);
                for (size_t k = 0; k < take; k++)
                    dst[k] = c += min + dst[k];
            }
            cur = (int64_t)c;
            got += take;
            s += bytes;
        }
    }
done:
    if (used) *used = (size_t)(s - p);
    return 0;
}

/* ---- BYTE_STREAM_SPLIT ---- */

int pq_bss_encode(struct sl_buf *out, const void *v, size_t n)
{
    if (n > SIZE_MAX / 8) return SL_ETOOBIG;
    int rc = sl_buf_reserve(out, n * 8);
    if (rc < 0) return rc;
    const uint8_t *src = v;
    uint8_t *dst = (uint8_t *)out->ptr + out->len;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < 8; k++)
            dst[k * n + i] = src[i * 8 + k];
    out->len += n * 8;
    out->ptr[out->len] = 0;
    return 0;
}

int pq_bss_decode(const uint8_t *p, size_t len, void *v, size_t n)
{
    if (n > SIZE_MAX / 8 || len != n * 8) return SL_ECORRUPT;
    uint64_t *dst = v;
    const uint8_t *s0 = p, *s1 = p + n, *s2 = p + 2 * n, *s3 = p + 3 * n, *s4 = p + 4 * n,
                  *s5 = p + 5 * n, *s6 = p + 6 * n, *s7 = p + 7 * n;
    for (size_t i = 0; i < n; i++)
        dst[i] = (uint64_t)s0[i] | (uint64_t)s1[i] << 8 | (uint64_t)s2[i] << 16 |
                 (uint64_t)s3[i] << 24 | (uint64_t)s4[i] << 32 | (uint64_t)s5[i] << 40 |
                 (uint64_t)s6[i] << 48 | (uint64_t)s7[i] << 56;
    return 0;
}
