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
 *
 * Page mode (struct pq_pdec) decodes single pages for the reader's selective
 * calls with the same checks: one dictionary per chunk, data pages decoded
 * to page-local arrays, and string filters matched on dictionary indices.
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
    int refs; /* the last data page's strings point into page */
    /* page mode (struct pq_pdec) */
    uint8_t *dmatch; /* per dictionary entry: equals a wanted value */
    size_t *pos;     /* row of each present value of a page */
    size_t pos_cap;
    void *pvals;
    uint8_t *pvalid;
    size_t pv_cap;
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

/* Decodes k non-NULL values of a data page from [p, p+len) into out (8-byte
 * and bool values as uint64_t; d->tmp or the destination itself) or sout
 * (strings; d->tstr or the destination). */
static int decode_values(struct dec *d, int enc, const uint8_t *p, size_t len, size_t k, int *keep,
                         uint64_t *out, struct pq_str *sout)
{
    int rc;
    enum pq_ctype t = d->x->type;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (t == PQ_STRING) {
            *keep = 1;
            return plain_strings(d, p, len, sout, k);
        }
        if (t == PQ_BOOL) {
            if ((k + 7) / 8 > len) return derr(d, SL_ECORRUPT, "boolean values truncated");
            for (size_t i = 0; i < k; i++)
                out[i] = (p[i / 8] >> (i % 8)) & 1;
            return 0;
        }
        if (k > len / 8) return derr(d, SL_ECORRUPT, "values truncated");
        for (size_t i = 0; i < k; i++)
            out[i] = pq_get_le64(p + i * 8);
        return 0;
    case PQ_ENC_RLE:
        if (t != PQ_BOOL) return derr(d, SL_ECORRUPT, "RLE values for a non-boolean");
        if (len < 4 || pq_get_le32(p) > len - 4)
            return derr(d, SL_ECORRUPT, "RLE boolean length out of range");
        if ((rc = pq_hybrid_decode(p + 4, pq_get_le32(p), 1, d->lv, k, NULL)) < 0)
            return derr(d, rc, "bad RLE booleans");
        for (size_t i = 0; i < k; i++)
            out[i] = d->lv[i];
        return 0;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (!d->have_dict) return derr(d, SL_ECORRUPT, "dictionary page missing");
        if (k == 0) return 0;
        if (len < 1) return derr(d, SL_ECORRUPT, "dictionary indices truncated");
        if ((rc = pq_hybrid_decode(p + 1, len - 1, p[0], d->lv, k, NULL)) < 0)
            return derr(d, rc, "bad dictionary indices");
        uint32_t bad = 0;
        if (t == PQ_STRING) {
            for (size_t i = 0; i < k; i++) {
                uint32_t ix = d->lv[i];
                bad |= ix >= d->ndict;
                sout[i] = d->dstr[ix < d->ndict ? ix : 0];
            }
        } else {
            for (size_t i = 0; i < k; i++) {
                uint32_t ix = d->lv[i];
                bad |= ix >= d->ndict;
                out[i] = d->dval[ix < d->ndict ? ix : 0];
            }
        }
        if (bad) {
            for (size_t i = 0; i < k; i++)
                if (d->lv[i] >= d->ndict)
                    return derr(d, SL_ECORRUPT, "dictionary index %u out of range", d->lv[i]);
        }
        return 0;
    }
    case PQ_ENC_DELTA_BINARY_PACKED:
        if (t != PQ_TIME_NS && t != PQ_INT64 && t != PQ_UINT64)
            return derr(d, SL_ECORRUPT, "delta encoding for a non-integer");
        if ((rc = pq_delta_decode(p, len, (int64_t *)out, k, NULL)) < 0)
            return derr(d, rc, "bad DELTA_BINARY_PACKED data");
        return 0;
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (t == PQ_BOOL || t == PQ_STRING)
            return derr(d, SL_ECORRUPT, "byte stream split for a variable-width type");
        if ((rc = pq_bss_decode(p, len, out, k)) < 0)
            return derr(d, rc, "bad BYTE_STREAM_SPLIT data");
        return 0;
    }
    return derr(d, SL_EINVAL, "unsupported encoding %d", enc);
}

/* Decodes the definition levels (bit width 1) of n rows from [p, p+len)
 * into valid[0..n) as 0/1 bytes: RLE runs are filled whole. *k = the number
 * of present values. */
static int def_levels(struct dec *d, const uint8_t *p, size_t len, size_t n, uint8_t *valid,
                      size_t *k)
{
    struct pq_hyb it = {p, p + len, 1, n};
    size_t got = 0, ones = 0, cnt;
    int rle, rc;
    uint32_t val;
    while ((rc = pq_hyb_next(&it, d->lv, &cnt, &rle, &val)) > 0) {
        if (rle) {
            memset(valid + got, (int)val, cnt);
            ones += val ? cnt : 0;
        } else {
            for (size_t i = 0; i < cnt; i++) {
                valid[got + i] = (uint8_t)d->lv[i];
                ones += d->lv[i];
            }
        }
        got += cnt;
    }
    if (rc < 0 || got != n) return SL_ECORRUPT;
    *k = ones;
    return 0;
}

/* Decodes the data page in d->page (len bytes, rows rows; in chunk mode at
 * most the rows left) into dst_values / dst_valid (row-aligned). Sets
 * d->refs when strings point into d->page (PLAIN), which must then be kept.
 * A page without NULLs of an 8-byte or string type decodes straight into
 * the destination; otherwise into scratch, then scattered to the rows. */
static int read_data_page(struct dec *d, const struct pm_page_header *h, size_t len,
                          size_t rows_left, void *dst_values, uint8_t *dst_valid, size_t *nulls)
{
    int rc;
    if (h->num_values < 0 || (size_t)h->num_values > rows_left)
        return derr(d, SL_ECORRUPT, "page holds more rows than its row group");
    size_t n = (size_t)h->num_values;
    if ((rc = scratch(d, n)) < 0) return rc;
    const uint8_t *p = d->page;
    size_t k = n;
    uint8_t *valid = dst_valid;
    d->refs = 0;
    if (d->x->nullable) {
        if (h->def_encoding != PQ_ENC_RLE)
            return derr(d, SL_EINVAL, "definition level encoding %d", (int)h->def_encoding);
        if (len < 4 || pq_get_le32(p) > len - 4)
            return derr(d, SL_ECORRUPT, "definition levels out of range");
        size_t llen = pq_get_le32(p);
        if ((rc = def_levels(d, p + 4, llen, n, valid, &k)) < 0)
            return derr(d, rc, "bad definition levels");
        p += 4 + llen;
        len -= 4 + llen;
    }
    int keep = 0;
    enum pq_ctype t = d->x->type;
    if (k == n && t != PQ_BOOL) {
        rc = decode_values(d, h->encoding, p, len, k, &keep, dst_values, dst_values);
        if (rc < 0) return rc;
        d->refs = keep;
        return 0;
    }
    if ((rc = decode_values(d, h->encoding, p, len, k, &keep, d->tmp, d->tstr)) < 0) return rc;
    /* Scatter the k present values to their rows. */
    size_t j = 0;
    if (t == PQ_STRING) {
        struct pq_str *dst = dst_values;
        for (size_t i = 0; i < n; i++) {
            if (valid && !valid[i]) {
                dst[i].ptr = "";
                dst[i].len = 0;
            } else {
                dst[i] = d->tstr[j++];
            }
        }
    } else if (t == PQ_BOOL) {
        uint8_t *dst = dst_values;
        for (size_t i = 0; i < n; i++)
            dst[i] = (valid && !valid[i]) ? 0 : (uint8_t)d->tmp[j++];
    } else {
        uint64_t *dst = dst_values;
        for (size_t i = 0; i < n; i++)
            dst[i] = (valid && !valid[i]) ? 0 : d->tmp[j++];
    }
    *nulls += n - k;
    d->refs = keep;
    return 0;
}

/* Reads the page header at [*p, end), checks its sizes, and decompresses its
 * body into d->page (charged to the memory limit). *skip is set for index
 * pages (nothing decoded). */
static int load_page(struct dec *d, const uint8_t **pp, const uint8_t *end,
                     struct pm_page_header *h, int *skip)
{
    int rc;
    const uint8_t *start = *pp;
    *skip = 0;
    if (pm_page_header_decode(pp, end, h) < 0)
        return derr(d, SL_ECORRUPT, "malformed page header at chunk byte %zu",
                    (size_t)(*pp - start));
    if (h->compressed_size < 0 || (size_t)h->compressed_size > (size_t)(end - *pp) ||
        h->uncompressed_size < 0 || (size_t)h->uncompressed_size > PQ_MAX_PAGE_BYTES)
        return derr(d, SL_ECORRUPT, "page sizes out of range");
    const uint8_t *cp = *pp;
    *pp += h->compressed_size;
    if (h->type == PAGE_INDEX) {
        *skip = 1;
        return 0;
    }
    if (h->type == PAGE_DATA_V2) return derr(d, SL_EINVAL, "data page v2 is not supported");
    if ((h->type == PAGE_DATA && !h->has_data) || (h->type == PAGE_DICTIONARY && !h->has_dict) ||
        (h->type != PAGE_DATA && h->type != PAGE_DICTIONARY))
        return derr(d, SL_ECORRUPT, "page type %d without its header", (int)h->type);
    size_t ulen = (size_t)h->uncompressed_size;
    if ((rc = charge(d, ulen)) < 0) return rc;
    if (!d->page || d->page_cap < ulen + 1) {
        sl_free(d->page);
        d->page_cap = 0;
        d->page = sl_malloc(ulen + 1);
        if (!d->page) return SL_ENOMEM;
        d->page_cap = ulen + 1;
    }
    if ((rc = pq_decompress(d->x->codec, cp, (size_t)h->compressed_size, d->page, ulen)) < 0)
        return derr(d, SL_ECORRUPT, "page does not decompress to its declared size");
    return 0;
}

static void dec_free(struct dec *d)
{
    sl_free(d->dstr);
    sl_free(d->dval);
    sl_free(d->lv);
    sl_free(d->tmp);
    sl_free(d->tstr);
    sl_free(d->page);
    sl_free(d->dmatch);
    sl_free(d->pos);
    sl_free(d->pvals);
    sl_free(d->pvalid);
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
    uint8_t *vals, *valid;
    if (x->dst_values) {
        vals = x->dst_values;
        valid = x->nullable ? x->dst_valid : NULL;
    } else {
        if ((rc = charge(&d, x->nrows * (d.esize + 1))) < 0) goto out;
        out->values = sl_calloc(x->nrows ? x->nrows : 1, d.esize);
        if (x->nullable) out->valid = sl_calloc(x->nrows ? x->nrows : 1, 1);
        if (!out->values || (x->nullable && !out->valid)) {
            rc = SL_ENOMEM;
            goto out;
        }
        vals = out->values;
        valid = out->valid;
    }
    const uint8_t *p = chunk, *end = chunk + len;
    while (d.done < x->nrows) {
        if (p >= end) {
            rc = derr(&d, SL_ECORRUPT, "chunk ends after %zu of %zu rows", d.done, x->nrows);
            goto out;
        }
        struct pm_page_header h;
        int skip;
        if ((rc = load_page(&d, &p, end, &h, &skip)) < 0) goto out;
        if (skip) continue;
        size_t ulen = (size_t)h.uncompressed_size;
        if (h.type == PAGE_DICTIONARY) {
            rc = read_dict_page(&d, &h, ulen);
        } else {
            rc = read_data_page(&d, &h, ulen, x->nrows - d.done, vals + d.done * d.esize,
                                valid ? valid + d.done : NULL, &out->null_count);
            if (rc == 0) {
                d.done += (size_t)h.num_values;
                if (d.refs) rc = keep_page(&d);
            }
        }
        if (rc < 0) goto out;
        /* A page that was not kept only used its memory transiently. */
        if (d.page) d.used_mem -= ulen;
    }
    out->nrows = x->nrows;
    rc = 0;
out:
    dec_free(&d);
    return rc;
}

/* ---- page mode ---- */

struct pq_pdec {
    struct dec d;
    struct pq_chunk_ctx x;
};

int pq_pdec_new(const struct pq_chunk_ctx *x, struct pq_column_buf *owner, struct pq_pdec **out)
{
    struct pq_pdec *pd = sl_calloc(1, sizeof *pd);
    *out = NULL;
    if (!pd) return SL_ENOMEM;
    pd->x = *x;
    pd->d.x = &pd->x;
    pd->d.out = owner;
    enum pq_ctype t = x->type;
    pd->d.esize = t == PQ_BOOL ? 1 : t == PQ_STRING ? sizeof(struct pq_str) : 8;
    *out = pd;
    return 0;
}

void pq_pdec_free(struct pq_pdec *pd)
{
    if (!pd) return;
    dec_free(&pd->d);
    sl_free(pd);
}

int pq_pdec_page_type(const uint8_t *p, size_t len)
{
    struct pm_page_header h;
    if (pm_page_header_decode(&p, p + len, &h) < 0) return SL_ECORRUPT;
    return h.type;
}

/* Loads the page at [p, p+len), which must be exactly one page of the
 * expected type. */
static int pd_load(struct pq_pdec *pd, const uint8_t *p, size_t len, int type,
                   struct pm_page_header *h)
{
    struct dec *d = &pd->d;
    const uint8_t *q = p, *end = p + len;
    int skip, rc;
    if ((rc = load_page(d, &q, end, h, &skip)) < 0) return rc;
    /* A data page fills its index entry; a dictionary page may be followed by
     * other (index) pages before the first data page. */
    if (skip || h->type != type || (type == PAGE_DATA && q != end))
        return derr(d, SL_ECORRUPT, "page index does not match the pages");
    return 0;
}

int pq_pdec_dict(struct pq_pdec *pd, const uint8_t *p, size_t len)
{
    struct pm_page_header h;
    int rc = pd_load(pd, p, len, PAGE_DICTIONARY, &h);
    if (rc == 0) rc = read_dict_page(&pd->d, &h, (size_t)h.uncompressed_size);
    if (pd->d.page) pd->d.used_mem -= (size_t)h.uncompressed_size;
    return rc;
}

static int pd_rows(struct pq_pdec *pd, size_t rows)
{
    struct dec *d = &pd->d;
    if (rows > d->x->mem_limit / (d->esize + 1 + 12 + sizeof(size_t)))
        return derr(d, SL_ETOOBIG, "%zu rows exceed the memory limit", rows);
    if (rows > d->pv_cap) {
        sl_free(d->pvals);
        sl_free(d->pvalid);
        sl_free(d->pos);
        d->pv_cap = 0;
        d->pvals = sl_malloc(rows * d->esize);
        d->pvalid = sl_malloc(rows);
        d->pos = sl_malloc(rows * sizeof *d->pos);
        if (!d->pvals || !d->pvalid || !d->pos) return SL_ENOMEM;
        d->pv_cap = rows;
    }
    return scratch(d, rows);
}

int pq_pdec_data(struct pq_pdec *pd, const uint8_t *p, size_t len, size_t rows, int keep,
                 const void **values, const uint8_t **valid)
{
    struct dec *d = &pd->d;
    struct pm_page_header h;
    int rc;
    size_t nulls = 0;
    if ((rc = pd_rows(pd, rows)) < 0) return rc;
    if ((rc = pd_load(pd, p, len, PAGE_DATA, &h)) < 0) return rc;
    size_t ulen = (size_t)h.uncompressed_size;
    if (h.num_values < 0 || (size_t)h.num_values != rows) {
        rc =
            derr(d, SL_ECORRUPT, "page holds %d rows, its index says %zu", (int)h.num_values, rows);
    } else {
        rc = read_data_page(d, &h, ulen, rows, d->pvals, d->x->nullable ? d->pvalid : NULL, &nulls);
    }
    if (rc == 0 && keep && d->refs) rc = keep_page(d);
    if (d->page) d->used_mem -= ulen;
    if (rc < 0) return rc;
    *values = d->pvals;
    *valid = d->x->nullable ? d->pvalid : NULL;
    return 0;
}

static int str_eq_any(const struct pq_str *s, const struct pq_str *vals, size_t nvals)
{
    for (size_t v = 0; v < nvals; v++)
        if (vals[v].len == s->len && (s->len == 0 || memcmp(vals[v].ptr, s->ptr, s->len) == 0))
            return 1;
    return 0;
}

int pq_pdec_match_str(struct pq_pdec *pd, const uint8_t *p, size_t len, size_t rows,
                      const struct pq_str *vals, size_t nvals, uint8_t *hit)
{
    struct dec *d = &pd->d;
    struct pm_page_header h;
    int rc;
    if (d->x->type != PQ_STRING) return derr(d, SL_EINVAL, "not a string column");
    if ((rc = pd_rows(pd, rows)) < 0) return rc;
    if ((rc = pd_load(pd, p, len, PAGE_DATA, &h)) < 0) return rc;
    size_t ulen = (size_t)h.uncompressed_size;
    memset(hit, 0, rows);
    if (h.num_values < 0 || (size_t)h.num_values != rows) {
        rc =
            derr(d, SL_ECORRUPT, "page holds %d rows, its index says %zu", (int)h.num_values, rows);
        goto out;
    }
    if (h.encoding != PQ_ENC_RLE_DICTIONARY && h.encoding != PQ_ENC_PLAIN_DICTIONARY) {
        /* PLAIN (fallback) pages: decode and compare. */
        size_t nulls = 0;
        rc = read_data_page(d, &h, ulen, rows, d->pvals, d->x->nullable ? d->pvalid : NULL, &nulls);
        if (rc < 0) goto out;
        const struct pq_str *sv = d->pvals;
        for (size_t i = 0; i < rows; i++)
            hit[i] = (!d->x->nullable || d->pvalid[i]) && str_eq_any(&sv[i], vals, nvals);
        goto out;
    }
    if (!d->have_dict) {
        rc = derr(d, SL_ECORRUPT, "dictionary page missing");
        goto out;
    }
    if (!d->dmatch) {
        d->dmatch = sl_malloc(d->ndict ? d->ndict : 1);
        if (!d->dmatch) {
            rc = SL_ENOMEM;
            goto out;
        }
        for (size_t i = 0; i < d->ndict; i++)
            d->dmatch[i] = (uint8_t)str_eq_any(&d->dstr[i], vals, nvals);
    }
    const uint8_t *q = d->page;
    size_t qlen = ulen, k = rows;
    int dense = 1; /* value j is row j */
    if (d->x->nullable) {
        if (h.def_encoding != PQ_ENC_RLE) {
            rc = derr(d, SL_EINVAL, "definition level encoding %d", (int)h.def_encoding);
            goto out;
        }
        if (qlen < 4 || pq_get_le32(q) > qlen - 4) {
            rc = derr(d, SL_ECORRUPT, "definition levels out of range");
            goto out;
        }
        size_t llen = pq_get_le32(q);
        if ((rc = pq_hybrid_decode(q + 4, llen, 1, d->lv, rows, NULL)) < 0) {
            rc = derr(d, rc, "bad definition levels");
            goto out;
        }
        k = 0;
        for (size_t i = 0; i < rows; i++)
            if (d->lv[i]) d->pos[k++] = i;
        dense = k == rows;
        q += 4 + llen;
        qlen -= 4 + llen;
    }
    if (k == 0) goto out;
    if (qlen < 1) {
        rc = derr(d, SL_ECORRUPT, "dictionary indices truncated");
        goto out;
    }
    struct pq_hyb it = {q + 1, q + qlen, q[0], k};
    size_t j = 0, cnt;
    int rle;
    uint32_t val;
    while ((rc = pq_hyb_next(&it, d->lv, &cnt, &rle, &val)) > 0) {
        if (rle) {
            if (val >= d->ndict) break;
            if (d->dmatch[val]) {
                if (dense) {
                    memset(hit + j, 1, cnt);
                } else {
                    for (size_t t = 0; t < cnt; t++)
                        hit[d->pos[j + t]] = 1;
                }
            }
        } else {
            size_t t = 0;
            for (; t < cnt; t++) {
                if (d->lv[t] >= d->ndict) break;
                if (d->dmatch[d->lv[t]]) hit[dense ? j + t : d->pos[j + t]] = 1;
            }
            if (t < cnt) {
                val = d->lv[t];
                break;
            }
        }
        j += cnt;
    }
    if (rc > 0) {
        rc = derr(d, SL_ECORRUPT, "dictionary index %u out of range", val);
        goto out;
    }
    if (rc < 0) rc = derr(d, rc, "bad dictionary indices");
out:
    if (d->page) d->used_mem -= ulen;
    return rc;
}
