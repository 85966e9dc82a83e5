/*
 * column.c — decoding one column chunk: its pages (an optional dictionary
 * page, then data pages v1), decompressed and decoded into row-aligned arrays
 * (struct pq_column_buf). Reads PLAIN, PLAIN_DICTIONARY / RLE_DICTIONARY,
 * DELTA_BINARY_PACKED (integers), BYTE_STREAM_SPLIT (8-byte types) and RLE
 * (booleans) values, with definition levels for OPTIONAL columns. Data pages
 * v2 are refused (the writer never emits them); index pages are skipped.
 *
 * Strings point into decompressed page buffers that the column buffer keeps
 * (its blobs); a dictionary-encoded string column therefore costs one copy
 * of the dictionary, not one per row.
 */
#include "parquet/pq_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

struct dec {
    const struct pq_chunk_ctx *x;
    struct pq_column_buf *out;
    size_t esize;
    size_t used_mem;
    size_t done; /* rows decoded */
    /* dictionary: strings or 8-byte values */
    struct pq_str *dstr;
    uint64_t *dval;
    size_t ndict;
    int have_dict;
    /* scratch */
    uint32_t *lv;
    size_t lv_cap;
    uint64_t *tmp;
    size_t tmp_cap;
    struct pq_str *tstr;
    size_t tstr_cap;
    uint8_t *page;
    size_t page_cap;
};

static int derr(struct dec *d, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int derr(struct dec *d, int rc, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->x->err && d->x->errlen)
        snprintf(d->x->err, d->x->errlen, "column '%s': %s", d->x->name, msg);
    return rc;
}

void pq_column_buf_release(struct pq_column_buf *b)
{
    if (!b) return;
    sl_free(b->values);
    sl_free(b->valid);
    for (size_t i = 0; i < b->nblobs_; i++)
        sl_free(b->blobs_[i]);
    sl_free(b->blobs_);
    memset(b, 0, sizeof *b);
}

static int charge(struct dec *d, size_t n)
{
    if (n > d->x->mem_limit || d->used_mem > d->x->mem_limit - n)
        return derr(d, SL_ETOOBIG, "decoded data exceeds the memory limit");
    d->used_mem += n;
    return 0;
}

/* Makes the page buffer a blob owned by out (strings point into it). */
static int keep_page(struct dec *d)
{
    struct pq_column_buf *o = d->out;
    void **b = sl_grow(o->blobs_, &o->blobs_cap_, o->nblobs_ + 1, sizeof *b);
    if (!b) return SL_ENOMEM;
    o->blobs_ = b;
    o->blobs_[o->nblobs_++] = d->page;
    d->page = NULL;
    d->page_cap = 0;
    return 0;
}

static int scratch(struct dec *d, size_t n)
{
    if (n > d->lv_cap) {
        uint32_t *p = sl_grow(d->lv, &d->lv_cap, n, sizeof *p);
        if (!p) return SL_ENOMEM;
        d->lv = p;
    }
    if (n > d->tmp_cap) {
        uint64_t *p = sl_grow(d->tmp, &d->tmp_cap, n, sizeof *p);
        if (!p) return SL_ENOMEM;
        d->tmp = p;
    }
    if (d->x->type == PQ_STRING && n > d->tstr_cap) {
        struct pq_str *p = sl_grow(d->tstr, &d->tstr_cap, n, sizeof *p);
        if (!p) return SL_ENOMEM;
        d->tstr = p;
    }
    return 0;
}

/* PLAIN strings: k values from [p, p+len) into dst. */
static int plain_strings(struct dec *d, const uint8_t *p, size_t len, struct pq_str *dst, size_t k)
{
    size_t off = 0;
    for (size_t i = 0; i < k; i++) {
        if (len - off < 4) return derr(d, SL_ECORRUPT, "string values truncated");
        uint32_t n = pq_get_le32(p + off);
        off += 4;
        if (n > len - off || n > PQ_MAX_STRING)
            return derr(d, SL_ECORRUPT, "string length %u out of range", n);
        dst[i].ptr = n ? (const char *)p + off : "";
        dst[i].len = n;
        off += n;
    }
    return 0;
}

static int read_dict_page(struct dec *d, const struct pm_page_header *h, size_t len)
{
    int rc;
    if (d->have_dict || d->done) return derr(d, SL_ECORRUPT, "misplaced dictionary page");
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return derr(d, SL_ECORRUPT, "dictionary encoding %d", (int)h->encoding);
    if (h->num_values < 0) return derr(d, SL_ECORRUPT, "negative dictionary size");
    size_t n = (size_t)h->num_values;
    d->have_dict = 1;
    d->ndict = n;
    if (d->x->type == PQ_STRING) {
        if (n > len / 4) return derr(d, SL_ECORRUPT, "dictionary larger than its page");
        if ((rc = charge(d, n * sizeof *d->dstr)) < 0) return rc;
        d->dstr = sl_calloc(n ? n : 1, sizeof *d->dstr);
        if (!d->dstr) return SL_ENOMEM;
        if ((rc = plain_strings(d, d->page, len, d->dstr, n)) < 0) return rc;
        return keep_page(d);
    }
    if (d->x->type == PQ_BOOL) return derr(d, SL_ECORRUPT, "dictionary for booleans");
    if (n > len / 8) return derr(d, SL_ECORRUPT, "dictionary larger than its page");
    d->dval = sl_calloc(n ? n : 1, sizeof *d->dval);
    if (!d->dval) return SL_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d->dval[i] = pq_get_le64(d->page + i * 8);
    return 0;
}

/* Decodes k non-NULL values of a data page from [p, p+len) into d->tmp (8-byte
 * and bool values) or d->tstr (strings). */
static int decode_values(struct dec *d, int enc, const uint8_t *p, size_t len, size_t k, int *keep)
{
    int rc;
    enum pq_ctype t = d->x->type;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (t == PQ_STRING) {
            *keep = 1;
            return plain_strings(d, p, len, d->tstr, k);
        }
        if (t == PQ_BOOL) {
            if ((k + 7) / 8 > len) return derr(d, SL_ECORRUPT, "boolean values truncated");
            for (size_t i = 0; i < k; i++)
                d->tmp[i] = (p[i / 8] >> (i % 8)) & 1;
            return 0;
        }
        if (k > len / 8) return derr(d, SL_ECORRUPT, "values truncated");
        for (size_t i = 0; i < k; i++)
            d->tmp[i] = pq_get_le64(p + i * 8);
        return 0;
    case PQ_ENC_RLE:
        if (t != PQ_BOOL) return derr(d, SL_ECORRUPT, "RLE values for a non-boolean");
        if (len < 4 || pq_get_le32(p) > len - 4)
            return derr(d, SL_ECORRUPT, "RLE boolean length out of range");
        if ((rc = pq_hybrid_decode(p + 4, pq_get_le32(p), 1, d->lv, k, NULL)) < 0)
            return derr(d, rc, "bad RLE booleans");
        for (size_t i = 0; i < k; i++)
            d->tmp[i] = d->lv[i];
        return 0;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (!d->have_dict) return derr(d, SL_ECORRUPT, "dictionary page missing");
        if (k == 0) return 0;
        if (len < 1) return derr(d, SL_ECORRUPT, "dictionary indices truncated");
        if ((rc = pq_hybrid_decode(p + 1, len - 1, p[0], d->lv, k, NULL)) < 0)
            return derr(d, rc, "bad dictionary indices");
        for (size_t i = 0; i < k; i++) {
            if (d->lv[i] >= d->ndict)
                return derr(d, SL_ECORRUPT, "dictionary index %u out of range", d->lv[i]);
            if (t == PQ_STRING)
                d->tstr[i] = d->dstr[d->lv[i]];
            else
                d->tmp[i] = d->dval[d->lv[i]];
        }
        return 0;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (t != PQ_TIME_NS && t != PQ_INT64 && t != PQ_UINT64)
            return derr(d, SL_ECORRUPT, "delta encoding for a non-integer");
        if ((rc = pq_delta_decode(p, len, (int64_t *)d->tmp, k, NULL)) < 0)
            return derr(d, rc, "bad DELTA_BINARY_PACKED data");
        return 0;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (t == PQ_BOOL || t == PQ_STRING)
            return derr(d, SL_ECORRUPT, "byte stream split for a variable-width type");
        if ((rc = pq_bss_decode(p, len, d->tmp, k)) < 0)
            return derr(d, rc, "bad BYTE_STREAM_SPLIT data");
        return 0;
    }
    return derr(d, SL_EINVAL, "unsupported encoding %d", enc);
}

static int read_data_page(struct dec *d, const struct pm_page_header *h, size_t len)
{
    int rc;
    if (h->num_values < 0 || (size_t)h->num_values > d->x->nrows - d->done)
        return derr(d, SL_ECORRUPT, "page holds more rows than its row group");
    size_t n = (size_t)h->num_values;
    if ((rc = scratch(d, n)) < 0) return rc;
    const uint8_t *p = d->page;
    size_t k = n;
    uint8_t *valid = d->out->valid ? d->out->valid + d->done : NULL;
    if (d->x->nullable) {
        if (h->def_encoding != PQ_ENC_RLE)
            return derr(d, SL_EINVAL, "definition level encoding %d", (int)h->def_encoding);
        if (len < 4 || pq_get_le32(p) > len - 4)
            return derr(d, SL_ECORRUPT, "definition levels out of range");
        size_t llen = pq_get_le32(p);
        if ((rc = pq_hybrid_decode(p + 4, llen, 1, d->lv, n, NULL)) < 0)
            return derr(d, rc, "bad definition levels");
        k = 0;
        for (size_t i = 0; i < n; i++) {
            valid[i] = (uint8_t)d->lv[i];
            k += d->lv[i];
        }
        p += 4 + llen;
        len -= 4 + llen;
    }
    int keep = 0;
    if ((rc = decode_values(d, h->encoding, p, len, k, &keep)) < 0) return rc;
    /* Scatter the k present values to their rows. */
    size_t j = 0;
    if (d->x->type == PQ_STRING) {
        struct pq_str *dst = (struct pq_str *)d->out->values + d->done;
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i]) {
                dst[i].ptr = "";
                dst[i].len = 0;
            } else {
                dst[i] = d->tstr[j++];
            }
        }
    } else if (d->x->type == PQ_BOOL) {
        uint8_t *dst = (uint8_t *)d->out->values + d->done;
        for (size_t i = 0; i < n; i++)
            dst[i] = (valid && !valid[i]) ? 0 : (uint8_t)d->tmp[j++];
    } else {
        uint64_t *dst = (uint64_t *)d->out->values + d->done;
        for (size_t i = 0; i < n; i++)
            dst[i] = (valid && !valid[i]) ? 0 : d->tmp[j++];
    }
    d->out->null_count += n - k;
    d->done += n;
    if (keep) return keep_page(d);
    return 0;
}

int pq_decode_chunk(const struct pq_chunk_ctx *x, const uint8_t *chunk, size_t len,
                    struct pq_column_buf *out)
{
    struct dec d = {0};
    d.x = x;
    d.out = out;
    int rc;
    enum pq_ctype t = x->type;
    d.esize = t == PQ_BOOL ? 1 : t == PQ_STRING ? sizeof(struct pq_str) : 8;
    memset(out, 0, sizeof *out);
    out->type = t;
    if (x->nrows > x->mem_limit / (d.esize + 1 + 12)) {
        rc = derr(&d, SL_ETOOBIG, "%zu rows exceed the memory limit", x->nrows);
        goto out;
    }
    if ((rc = charge(&d, x->nrows * (d.esize + 1))) < 0) goto out;
    out->values = sl_calloc(x->nrows ? x->nrows : 1, d.esize);
    if (x->nullable) out->valid = sl_calloc(x->nrows ? x->nrows : 1, 1);
    if (!out->values || (x->nullable && !out->valid)) {
        rc = SL_ENOMEM;
        goto out;
    }
    const uint8_t *p = chunk, *end = chunk + len;
    while (d.done < x->nrows) {
        if (p >= end) {
            rc = derr(&d, SL_ECORRUPT, "chunk ends after %zu of %zu rows", d.done, x->nrows);
            goto out;
        }
        struct pm_page_header h;
        if ((rc = pm_page_header_decode(&p, end, &h)) < 0) {
            rc = derr(&d, SL_ECORRUPT, "malformed page header at chunk byte %zu",
                      (size_t)(p - chunk));
            goto out;
        }
        if (h.compressed_size < 0 || (size_t)h.compressed_size > (size_t)(end - p) ||
            h.uncompressed_size < 0 || (size_t)h.uncompressed_size > PQ_MAX_PAGE_BYTES) {
            rc = derr(&d, SL_ECORRUPT, "page sizes out of range");
            goto out;
        }
        const uint8_t *cp = p;
        p += h.compressed_size;
        if (h.type == PAGE_INDEX) continue;
        if (h.type == PAGE_DATA_V2) {
            rc = derr(&d, SL_EINVAL, "data page v2 is not supported");
            goto out;
        }
        if ((h.type == PAGE_DATA && !h.has_data) || (h.type == PAGE_DICTIONARY && !h.has_dict) ||
            (h.type != PAGE_DATA && h.type != PAGE_DICTIONARY)) {
            rc = derr(&d, SL_ECORRUPT, "page type %d without its header", (int)h.type);
            goto out;
        }
        size_t ulen = (size_t)h.uncompressed_size;
        if ((rc = charge(&d, ulen)) < 0) goto out;
        if (!d.page || d.page_cap < ulen + 1) {
            sl_free(d.page);
            d.page_cap = 0;
            d.page = sl_malloc(ulen + 1);
            if (!d.page) {
                rc = SL_ENOMEM;
                goto out;
            }
            d.page_cap = ulen + 1;
        }
        if ((rc = pq_decompress(x->codec, cp, (size_t)h.compressed_size, d.page, ulen)) < 0) {
            rc = derr(&d, SL_ECORRUPT, "page does not decompress to its declared size");
            goto out;
        }
        rc =
            h.type == PAGE_DICTIONARY ? read_dict_page(&d, &h, ulen) : read_data_page(&d, &h, ulen);
        if (rc < 0) goto out;
        /* A page that was not kept only used its memory transiently. */
        if (d.page) d.used_mem -= ulen;
    }
    out->nrows = x->nrows;
    rc = 0;
out:
    sl_free(d.dstr);
    sl_free(d.dval);
    sl_free(d.lv);
    sl_free(d.tmp);
    sl_free(d.tstr);
    sl_free(d.page);
    return rc;
}
