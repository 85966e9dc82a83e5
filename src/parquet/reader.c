/*
 * reader.c — the Parquet reader (API in parquet.h, layout in docs/parquet.md).
 *
 * Trust model: the file is hostile until proven otherwise.
 *   - open: magic at both ends; footer length within the file and below
 *     PQ_MAX_FOOTER; the Thrift decoder bounds every count by the bytes left;
 *     the schema must be flat with known types; every column chunk's byte range
 *     [first page, first page + total_compressed_size) must lie between the
 *     leading magic and the footer; row counts must add up.
 *   - read_column: page sizes must fit in the chunk and below
 *     PQ_MAX_PAGE_BYTES; decompression must yield exactly the declared size;
 *     value counts must fit the row group; every decoder checks its input
 *     length before reading; dictionary indices are range-checked; the decoded
 *     chunk may not exceed the reader's memory limit. Any failure is
 *     SL_ECORRUPT (or SL_ETOOBIG for the memory limit) with a message.
 *   - selective reads: the OffsetIndex must describe ordered, non-overlapping
 *     pages inside the chunk with first rows rising from 0 within the row
 *     group; the ColumnIndex must list as many pages; every page read through
 *     them must be exactly one page whose header agrees (type, row count).
 *     Files without an OffsetIndex get their page list by walking the chunk's
 *     page headers once.
 * Nothing is allocated from a length that was not first checked against the
 * bytes that hold it or a hard cap.
 */
#include "parquet/pq_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

#define DEFAULT_MEM_LIMIT ((size_t)1 << 30)

struct rcol {
    char *name;
    enum pq_ctype type;
    int nullable;
    int32_t ptype;
};

/* Page index of one column chunk: where each data page is and (when the
 * file has a ColumnIndex) its min/max; from the file's OffsetIndex or, when
 * the file has none, from walking the page headers. */
struct pidx {
    size_t npages;
    struct pm_page_loc *locs; /* absolute offsets, sizes incl. header */
    int64_t dict_off;         /* -1: no dictionary page */
    size_t dict_size;
    struct pm_page_stat *st; /* NULL: no ColumnIndex; points into ci_bytes */
    uint8_t *ci_bytes;
    int has_null_counts;
};

struct pq_reader {
    int fd;
    const uint8_t *mem;
    uint64_t size;
    uint8_t *footer_copy;
    struct pm_file meta;
    struct rcol *cols;
    size_t ncols;
    struct pq_column_info *info;
    char **kv_key, **kv_val;
    size_t nkv;
    size_t mem_limit;
    struct pidx **pidx; /* nrgs * ncols, loaded on first use */
    uint8_t *io;        /* page bytes read from the file */
    size_t io_cap;
    uint8_t *hit; /* per row of a page: passes a filter */
    size_t hit_cap;
    uint64_t data_end; /* where the footer starts */
    char err[256];
};

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define RFAIL(r, rc, ...) fail((r)->err, sizeof(r)->err, rc, __VA_ARGS__)

static int read_at(struct pq_reader *r, uint64_t off, size_t n, uint8_t *dst)
{
    if (off > r->size || n > r->size - off) return SL_ECORRUPT;
    if (r->mem) {
        if (n) memcpy(dst, r->mem + off, n);
        return 0;
    }
    return sl_pread_full(r->fd, dst, n, (off_t)off);
}

static void pidx_free(struct pidx *p)
{
    if (!p) return;
    sl_free(p->locs);
    sl_free(p->st);
    sl_free(p->ci_bytes);
    sl_free(p);
}

int pq_reader_fstat(const struct pq_reader *r, struct stat *st)
{
    if (r->fd < 0) return SL_EINVAL;
    return fstat(r->fd, st) == 0 ? 0 : SL_EIO;
}

void pq_reader_trim(struct pq_reader *r)
{
    sl_free(r->io);
    sl_free(r->hit);
    r->io = r->hit = NULL;
    r->io_cap = r->hit_cap = 0;
    r->err[0] = 0;
}

void pq_reader_close(struct pq_reader *r)
{
    if (!r) return;
    if (r->pidx) {
        for (size_t i = 0; i < r->meta.nrgs * r->ncols; i++)
            pidx_free(r->pidx[i]);
        sl_free(r->pidx);
    }
    sl_free(r->io);
    sl_free(r->hit);
    pm_file_release(&r->meta);
    for (size_t i = 0; i < r->ncols; i++)
        sl_free(r->cols[i].name);
    sl_free(r->cols);
    sl_free(r->info);
    for (size_t i = 0; i < r->nkv; i++) {
        sl_free(r->kv_key[i]);
        sl_free(r->kv_val[i]);
    }
    sl_free(r->kv_key);
    sl_free(r->kv_val);
    sl_free(r->footer_copy);
    if (r->fd >= 0) close(r->fd);
    sl_free(r);
}

static int map_type(const struct pm_schema_el *e, enum pq_ctype *t)
{
    switch (e->type) {
    case PT_INT64:
        if (e->lt_kind == LT_TIMESTAMP) {
            if (e->lt_unit != TU_NANOS) return SL_EINVAL;
            *t = PQ_TIME_NS;
        } else if (e->lt_kind == LT_INTEGER) {
            if (e->lt_bits != 64) return SL_EINVAL;
            *t = e->lt_signed ? PQ_INT64 : PQ_UINT64;
        } else if (e->converted == CT_UINT_64) {
            *t = PQ_UINT64;
        } else if (e->converted == CT_TIMESTAMP_MICROS || e->converted == CT_TIMESTAMP_MILLIS) {
            return SL_EINVAL;
        } else {
            *t = PQ_INT64;
        }
        return 0;
    case PT_DOUBLE: *t = PQ_DOUBLE; return 0;
    case PT_BOOLEAN: *t = PQ_BOOL; return 0;
    case PT_BYTE_ARRAY: *t = PQ_STRING; return 0;
    }
    return SL_EINVAL;
}

static int check_layout(struct pq_reader *r, uint64_t data_end, char *err, size_t errlen)
{
    const struct pm_file *f = &r->meta;
    int64_t total = 0;
    for (size_t g = 0; g < f->nrgs; g++) {
        const struct pm_row_group *rg = &f->rgs[g];
        if (rg->ncols != r->ncols)
            return fail(err, errlen, SL_ECORRUPT, "row group %zu has %zu columns, schema has %zu",
                        g, rg->ncols, r->ncols);
        if (rg->num_rows < 0 || rg->num_rows > INT64_MAX - total)
            return fail(err, errlen, SL_ECORRUPT, "row group %zu: bad row count", g);
        total += rg->num_rows;
        for (size_t c = 0; c < rg->ncols; c++) {
            const struct pm_column *m = &rg->cols[c];
            const struct rcol *rc = &r->cols[c];
            if (m->type != rc->ptype || m->path_len != 1 || m->path0_len != strlen(rc->name) ||
                (m->path0_len && memcmp(m->path0, rc->name, m->path0_len) != 0))
                return fail(err, errlen, SL_ECORRUPT,
                            "row group %zu column %zu does not match the schema", g, c);
            if (pq_codec_from_thrift(m->codec) < 0)
                return fail(err, errlen, SL_EINVAL, "column '%s': unsupported codec %d", rc->name,
                            (int)m->codec);
            if (m->num_values != rg->num_rows)
                return fail(err, errlen, SL_ECORRUPT, "column '%s': %lld values in %lld rows",
                            rc->name, (long long)m->num_values, (long long)rg->num_rows);
            int64_t start = m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;
            if (m->dict_page_offset >= 0 && m->dict_page_offset >= m->data_page_offset)
                return fail(err, errlen, SL_ECORRUPT, "column '%s': dictionary after data",
                            rc->name);
            if (start < 4 || (uint64_t)start > data_end || m->total_compressed <= 0 ||
                (uint64_t)m->total_compressed > data_end - (uint64_t)start ||
                m->data_page_offset >= start + m->total_compressed)
                return fail(err, errlen, SL_ECORRUPT,
                            "column '%s': chunk range outside the file's data", rc->name);
        }
    }
    if (total != f->num_rows)
        return fail(err, errlen, SL_ECORRUPT, "row groups hold %lld rows, footer says %lld",
                    (long long)total, (long long)f->num_rows);
    return 0;
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
    return sl_strndup(n ? (const char *)p : "", n);
}

static int reader_init(struct pq_reader *r, char *err, size_t errlen)
{
    int rc;
    uint8_t tail[8], head[4];
    if (r->size < 12) return fail(err, errlen, SL_ECORRUPT, "file too short for parquet");
    if ((rc = read_at(r, 0, 4, head)) < 0 || (rc = read_at(r, r->size - 8, 8, tail)) < 0)
        return fail(err, errlen, rc, "cannot read file ends");
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return fail(err, errlen, SL_ECORRUPT, "not a parquet file (magic missing)");
    uint32_t flen = pq_get_le32(tail);
    if (flen == 0 || flen > r->size - 12 || flen > PQ_MAX_FOOTER)
        return fail(err, errlen, SL_ECORRUPT, "footer length %u out of range", flen);
    uint64_t foff = r->size - 8 - flen;
    const uint8_t *foot;
    if (r->mem) {
        foot = r->mem + foff;
    } else {
        r->footer_copy = sl_malloc(flen);
        if (!r->footer_copy) return SL_ENOMEM;
        if ((rc = read_at(r, foff, flen, r->footer_copy)) < 0)
            return fail(err, errlen, rc, "cannot read footer");
        foot = r->footer_copy;
    }
    if ((rc = pm_file_decode(foot, flen, &r->meta)) < 0)
        return fail(err, errlen, rc, "footer: %s",
                    rc == SL_ECORRUPT ? "malformed thrift metadata" : sl_strerror(rc));
    const struct pm_file *f = &r->meta;
    if (f->nschema < 1 || f->schema[0].num_children < 0 ||
        (size_t)f->schema[0].num_children != f->nschema - 1 || f->schema[0].has_type)
        return fail(err, errlen, SL_EINVAL, "schema is not a flat list of columns");
    if (f->nschema - 1 > PQ_MAX_COLUMNS)
        return fail(err, errlen, SL_EINVAL, "too many columns (%zu)", f->nschema - 1);
    size_t ncols = f->nschema - 1;
    r->cols = sl_calloc(ncols ? ncols : 1, sizeof *r->cols);
    r->info = sl_calloc(ncols ? ncols : 1, sizeof *r->info);
    if (!r->cols || !r->info) return SL_ENOMEM;
    r->ncols = ncols;
    for (size_t i = 0; i < r->ncols; i++) {
        const struct pm_schema_el *e = &f->schema[i + 1];
        struct rcol *c = &r->cols[i];
        c->name = dup_bytes(e->name, e->name_len);
        if (!c->name) return SL_ENOMEM;
        if (strlen(c->name) != e->name_len)
            return fail(err, errlen, SL_ECORRUPT, "column %zu: NUL in name", i);
        if (e->num_children > 0 || !e->has_type || (e->has_rep && e->rep == REP_REPEATED))
            return fail(err, errlen, SL_EINVAL,
                        "column '%s': nested or repeated columns "
                        "are not supported",
                        c->name);
        if (map_type(e, &c->type) < 0)
            return fail(err, errlen, SL_EINVAL, "column '%s': unsupported type", c->name);
        c->ptype = e->type;
        c->nullable = !e->has_rep || e->rep == REP_OPTIONAL;
        r->info[i].name = c->name;
        r->info[i].type = c->type;
        r->info[i].nullable = c->nullable;
    }
    if ((rc = check_layout(r, foff, err, errlen)) < 0) return rc;
    r->data_end = foff;
    if (f->nkv) {
        r->kv_key = sl_calloc(f->nkv, sizeof *r->kv_key);
        r->kv_val = sl_calloc(f->nkv, sizeof *r->kv_val);
        if (!r->kv_key || !r->kv_val) return SL_ENOMEM;
        for (size_t i = 0; i < f->nkv; i++) {
            r->nkv = i + 1;
            r->kv_key[i] = dup_bytes(f->kv[i].key, f->kv[i].key_len);
            r->kv_val[i] = dup_bytes(f->kv[i].value, f->kv[i].value_len);
            if (!r->kv_key[i] || !r->kv_val[i]) return SL_ENOMEM;
        }
    }
    return 0;
}

int pq_reader_open_mem(const void *data, size_t len, struct pq_reader **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    struct pq_reader *r = sl_calloc(1, sizeof *r);
    if (!r) return SL_ENOMEM;
    r->fd = -1;
    r->mem = data ? data : (const uint8_t *)"";
    r->size = len;
    r->mem_limit = DEFAULT_MEM_LIMIT;
    int rc = reader_init(r, err, errlen);
    if (rc < 0) {
        pq_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int pq_reader_open(const char *path, struct pq_reader **out, char *err, size_t errlen)
{
    *out = NULL;
    if (err && errlen) err[0] = 0;
    struct pq_reader *r = sl_calloc(1, sizeof *r);
    if (!r) return SL_ENOMEM;
    r->mem_limit = DEFAULT_MEM_LIMIT;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    int rc;
    if (r->fd < 0) {
        rc = fail(err, errlen, errno == ENOENT ? SL_ENOENT : SL_EIO, "cannot open '%s': %s", path,
                  strerror(errno));
        goto out;
    }
    struct stat st;
    if (fstat(r->fd, &st) < 0) {
        rc = fail(err, errlen, SL_EIO, "cannot stat '%s'", path);
        goto out;
    }
    r->size = (uint64_t)st.st_size;
    rc = reader_init(r, err, errlen);
out:
    if (rc < 0) {
        pq_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

size_t pq_reader_num_columns(const struct pq_reader *r)
{
    return r->ncols;
}

size_t pq_reader_num_row_groups(const struct pq_reader *r)
{
    return r->meta.nrgs;
}

int64_t pq_reader_num_rows(const struct pq_reader *r)
{
    return r->meta.num_rows;
}

int64_t pq_reader_row_group_rows(const struct pq_reader *r, size_t rg)
{
    return rg < r->meta.nrgs ? r->meta.rgs[rg].num_rows : 0;
}

const struct pq_column_info *pq_reader_column(const struct pq_reader *r, size_t col)
{
    return col < r->ncols ? &r->info[col] : NULL;
}

long pq_reader_find_column(const struct pq_reader *r, const char *name)
{
    for (size_t i = 0; i < r->ncols; i++)
        if (strcmp(r->cols[i].name, name) == 0) return (long)i;
    return -1;
}

const char *pq_reader_kv(const struct pq_reader *r, const char *key)
{
    for (size_t i = 0; i < r->nkv; i++)
        if (strcmp(r->kv_key[i], key) == 0) return r->kv_val[i];
    return NULL;
}

size_t pq_reader_num_kv(const struct pq_reader *r)
{
    return r->nkv;
}

int pq_reader_kv_at(const struct pq_reader *r, size_t i, const char **key, const char **value)
{
    if (i >= r->nkv) return SL_ERANGE;
    *key = r->kv_key[i];
    *value = r->kv_val[i];
    return 0;
}

void pq_reader_set_mem_limit(struct pq_reader *r, size_t bytes)
{
    r->mem_limit = bytes;
}

const char *pq_reader_errmsg(const struct pq_reader *r)
{
    return r->err;
}

int pq_reader_stats(const struct pq_reader *r, size_t rg, size_t col, struct pq_stats *out)
{
    memset(out, 0, sizeof *out);
    if (rg >= r->meta.nrgs || col >= r->ncols) return SL_ERANGE;
    const struct pm_stats *s = &r->meta.rgs[rg].cols[col].stats;
    out->has_null_count = s->has_null_count;
    out->null_count = s->null_count;
    if (!s->min_value || !s->max_value) return 0;
    enum pq_ctype t = r->cols[col].type;
    if (t == PQ_STRING) {
        out->min.s.ptr = s->min_len ? (const char *)s->min_value : "";
        out->min.s.len = s->min_len;
        out->max.s.ptr = s->max_len ? (const char *)s->max_value : "";
        out->max.s.len = s->max_len;
    } else if (t == PQ_BOOL) {
        if (s->min_len != 1 || s->max_len != 1) return 0;
        out->min.b = s->min_value[0] != 0;
        out->max.b = s->max_value[0] != 0;
    } else {
        if (s->min_len != 8 || s->max_len != 8) return 0;
        uint64_t a = pq_get_le64(s->min_value), b = pq_get_le64(s->max_value);
        if (t == PQ_DOUBLE) {
            memcpy(&out->min.d, &a, 8);
            memcpy(&out->max.d, &b, 8);
        } else {
            out->min.u = a;
            out->max.u = b;
        }
    }
    out->has_minmax = 1;
    return 0;
}

int pq_reader_chunk_info(const struct pq_reader *r, size_t rg, size_t col,
                         struct pq_chunk_info *out)
{
    memset(out, 0, sizeof *out);
    if (rg >= r->meta.nrgs || col >= r->ncols) return SL_ERANGE;
    const struct pm_column *m = &r->meta.rgs[rg].cols[col];
    out->codec = (enum pq_codec)pq_codec_from_thrift(m->codec);
    out->encodings = m->encodings;
    out->num_values = m->num_values;
    out->compressed_bytes = m->total_compressed;
    out->uncompressed_bytes = m->total_uncompressed;
    return 0;
}

static void chunk_ctx(struct pq_reader *r, size_t rg, size_t col, struct pq_chunk_ctx *x)
{
    const struct pm_column *m = &r->meta.rgs[rg].cols[col];
    const struct rcol *c = &r->cols[col];
    *x = (struct pq_chunk_ctx){c->name,
                               c->type,
                               c->nullable,
                               pq_codec_from_thrift(m->codec),
                               (size_t)r->meta.rgs[rg].num_rows,
                               r->mem_limit,
                               r->err,
                               sizeof r->err,
                               NULL,
                               NULL};
}

static int read_column(struct pq_reader *r, size_t rg, size_t col, void *values, uint8_t *valid,
                       struct pq_column_buf *out);

int pq_reader_read_column(struct pq_reader *r, size_t rg, size_t col, struct pq_column_buf *out)
{
    return read_column(r, rg, col, NULL, NULL, out);
}

int pq_reader_read_column_into(struct pq_reader *r, size_t rg, size_t col, void *values,
                               uint8_t *valid, struct pq_column_buf *owner)
{
    int rc = read_column(r, rg, col, values, valid, owner);
    if (rc == 0 && !r->cols[col].nullable) memset(valid, 1, (size_t)r->meta.rgs[rg].num_rows);
    return rc;
}

static int read_column(struct pq_reader *r, size_t rg, size_t col, void *values, uint8_t *valid,
                       struct pq_column_buf *out)
{
    memset(out, 0, sizeof *out);
    r->err[0] = 0;
    if (rg >= r->meta.nrgs || col >= r->ncols)
        return RFAIL(r, SL_ERANGE, "no column %zu in row group %zu", col, rg);
    const struct pm_column *m = &r->meta.rgs[rg].cols[col];
    const struct rcol *c = &r->cols[col];
    int64_t start = m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;
    size_t len = (size_t)m->total_compressed; /* checked against the file at open */
    struct pq_chunk_ctx x = {c->name,
                             c->type,
                             c->nullable,
                             pq_codec_from_thrift(m->codec),
                             (size_t)r->meta.rgs[rg].num_rows,
                             r->mem_limit,
                             r->err,
                             sizeof r->err,
                             values,
                             valid};
    const uint8_t *chunk;
    uint8_t *copy = NULL;
    int rc;
    if (r->mem) {
        chunk = r->mem + start;
    } else {
        if (len > r->mem_limit)
            return RFAIL(r, SL_ETOOBIG, "column '%s': chunk exceeds the memory limit", c->name);
        copy = sl_malloc(len);
        if (!copy) return SL_ENOMEM;
        if ((rc = read_at(r, (uint64_t)start, len, copy)) < 0) {
            sl_free(copy);
            return RFAIL(r, rc, "column '%s': read failed", c->name);
        }
        chunk = copy;
    }
    rc = pq_decode_chunk(&x, chunk, len, out);
    sl_free(copy);
    if (rc < 0) pq_column_buf_release(out);
    return rc;
}

const char *pq_ctype_name(enum pq_ctype t)
{
    static const char *names[] = {"time_ns", "int64", "uint64", "double", "bool", "string"};
    return (unsigned)t <= PQ_STRING ? names[t] : "?";
}

const char *pq_codec_name(enum pq_codec c)
{
    switch (c) {
    case PQ_CODEC_ZSTD: return "zstd";
    case PQ_CODEC_SNAPPY: return "snappy";
    case PQ_CODEC_NONE: return "none";
    }
    return "?";
}

const char *pq_encoding_name(int enc)
{
    switch (enc) {
    case PQ_ENC_PLAIN: return "PLAIN";
    case PQ_ENC_PLAIN_DICTIONARY: return "PLAIN_DICTIONARY";
    case PQ_ENC_RLE: return "RLE";
    case 4: return "BIT_PACKED";
    case PQ_ENC_DELTA_BINARY_PACKED: return "DELTA_BINARY_PACKED";
    case 6: return "DELTA_LENGTH_BYTE_ARRAY";
    case 7: return "DELTA_BYTE_ARRAY";
    case PQ_ENC_RLE_DICTIONARY: return "RLE_DICTIONARY";
    case PQ_ENC_BYTE_STREAM_SPLIT: return "BYTE_STREAM_SPLIT";
    }
    return "?";
}

/* ---- page index and selective reads ---- */

/* Bytes [off, off+n) of the file's data area: a pointer into the mapped
 * data, or into r->io (valid until the next fetch). */
static int fetch(struct pq_reader *r, uint64_t off, size_t n, const uint8_t **out)
{
    if (off > r->data_end || n > r->data_end - off) return SL_ECORRUPT;
    if (r->mem) {
        *out = r->mem + off;
        return 0;
    }
    if (n > r->mem_limit) return SL_ETOOBIG;
    if (n > r->io_cap) {
        uint8_t *p = sl_malloc(n ? n : 1);
        if (!p) return SL_ENOMEM;
        sl_free(r->io);
        r->io = p;
        r->io_cap = n;
    }
    int rc = read_at(r, off, n, r->io);
    if (rc < 0) return rc;
    *out = r->io;
    return 0;
}

/* Finds the data pages of a chunk by walking its page headers (files
 * without an OffsetIndex). */
static int pidx_walk(struct pq_reader *r, const struct pm_column *m, size_t nrows, int64_t start,
                     struct pidx *p)
{
    const uint8_t *base;
    size_t len = (size_t)m->total_compressed;
    int rc = fetch(r, (uint64_t)start, len, &base);
    if (rc < 0) return rc;
    const uint8_t *q = base, *end = base + len;
    size_t rows = 0, cap = 0;
    while (rows < nrows) {
        struct pm_page_header h;
        const uint8_t *at = q;
        if (q >= end || pm_page_header_decode(&q, end, &h) < 0 || h.compressed_size < 0 ||
            (size_t)h.compressed_size > (size_t)(end - q))
            return SL_ECORRUPT;
        q += h.compressed_size;
        size_t size = (size_t)(q - at);
        if (size > (size_t)INT32_MAX) return SL_ECORRUPT;
        if (h.type == PAGE_DICTIONARY) {
            if (p->npages || p->dict_off >= 0 || !h.has_dict) return SL_ECORRUPT;
            p->dict_off = start + (at - base);
            p->dict_size = size;
        } else if (h.type == PAGE_DATA) {
            if (!h.has_data || h.num_values < 0 || (size_t)h.num_values > nrows - rows)
                return SL_ECORRUPT;
            if (h.num_values == 0) continue;
            struct pm_page_loc *l = sl_grow(p->locs, &cap, p->npages + 1, sizeof *l);
            if (!l) return SL_ENOMEM;
            p->locs = l;
            l[p->npages].offset = start + (at - base);
            l[p->npages].size = (int32_t)size;
            l[p->npages].first_row = (int64_t)rows;
            p->npages++;
            rows += (size_t)h.num_values;
        } else if (h.type == PAGE_DATA_V2) {
            return SL_EINVAL;
        } else if (h.type != PAGE_INDEX) {
            return SL_ECORRUPT;
        }
    }
    return 0;
}

/* Checks an OffsetIndex against the chunk it describes. */
static int pidx_check(const struct pidx *p, size_t nrows, int64_t start, int64_t end)
{
    if ((nrows && p->npages == 0) || p->npages > nrows) return SL_ECORRUPT;
    for (size_t i = 0; i < p->npages; i++) {
        const struct pm_page_loc *l = &p->locs[i];
        if (l->offset < start || l->size <= 0 || l->offset > end || l->size > end - l->offset)
            return SL_ECORRUPT;
        if (i == 0 ? l->first_row != 0 : l->first_row <= l[-1].first_row) return SL_ECORRUPT;
        if (l->first_row < 0 || (uint64_t)l->first_row >= nrows) return SL_ECORRUPT;
        if (i && l->offset < l[-1].offset + l[-1].size) return SL_ECORRUPT;
    }
    return 0;
}

static int load_pidx(struct pq_reader *r, size_t rg, size_t col, struct pidx **out)
{
    size_t slot = rg * r->ncols + col;
    if (!r->pidx) {
        size_t n = r->meta.nrgs * r->ncols;
        r->pidx = sl_calloc(n ? n : 1, sizeof *r->pidx);
        if (!r->pidx) return SL_ENOMEM;
    }
    if (r->pidx[slot]) {
        *out = r->pidx[slot];
        return 0;
    }
    const struct pm_column *m = &r->meta.rgs[rg].cols[col];
    size_t nrows = (size_t)r->meta.rgs[rg].num_rows;
    int64_t start = m->dict_page_offset >= 0 ? m->dict_page_offset : m->data_page_offset;
    int64_t end = start + m->total_compressed; /* checked at open */
    struct pidx *p = sl_calloc(1, sizeof *p);
    if (!p) return SL_ENOMEM;
    p->dict_off = -1;
    int rc;
    if (m->oi_offset >= 0 && m->oi_length > 0) {
        const uint8_t *b;
        if (m->oi_offset < 4) {
            rc = SL_ECORRUPT;
        } else if ((rc = fetch(r, (uint64_t)m->oi_offset, (size_t)m->oi_length, &b)) == 0 &&
                   (rc = pm_offset_index_decode(b, (size_t)m->oi_length, &p->locs, &p->npages)) ==
                       0) {
            rc = pidx_check(p, nrows, start, end);
        }
        if (rc == 0 && p->npages && p->locs[0].offset > start) {
            p->dict_off = start; /* a dictionary page, if it is one */
            p->dict_size = (size_t)(p->locs[0].offset - start);
        }
    } else {
        rc = pidx_walk(r, m, nrows, start, p);
    }
    if (rc < 0) {
        pidx_free(p);
        return RFAIL(r, rc, "column '%s': bad page index", r->cols[col].name);
    }
    r->pidx[slot] = p;
    *out = p;
    return 0;
}

/* Loads the ColumnIndex of a chunk if it has a usable one (else p->st stays
 * NULL: every page must then be read). */
static int load_ci(struct pq_reader *r, const struct pm_column *m, size_t col, struct pidx *p)
{
    if (p->st || p->ci_bytes || m->ci_offset < 4 || m->ci_length <= 0) return 0;
    const uint8_t *b;
    size_t len = (size_t)m->ci_length;
    int rc = fetch(r, (uint64_t)m->ci_offset, len, &b);
    if (rc < 0) return RFAIL(r, rc, "column '%s': bad column index", r->cols[col].name);
    p->ci_bytes = sl_malloc(len);
    if (!p->ci_bytes) return SL_ENOMEM;
    memcpy(p->ci_bytes, b, len);
    struct pm_page_stat *st;
    size_t n;
    int bo;
    rc = pm_column_index_decode(p->ci_bytes, len, &st, &n, &bo, &p->has_null_counts);
    if (rc == SL_ENOMEM) return rc;
    if (rc < 0 || n != p->npages) {
        if (rc == 0) sl_free(st);
        return RFAIL(r, SL_ECORRUPT, "column '%s': bad column index", r->cols[col].name);
    }
    p->st = st;
    return 0;
}

static size_t page_end(const struct pidx *p, size_t i, size_t nrows)
{
    return i + 1 < p->npages ? (size_t)p->locs[i + 1].first_row : nrows;
}

static int check_sel(struct pq_reader *r, const uint32_t *sel, size_t m, size_t nrows)
{
    for (size_t j = 0; j < m; j++)
        if (sel[j] >= nrows || (j && sel[j] <= sel[j - 1]))
            return RFAIL(r, SL_EINVAL, "selection not ascending within the row group");
    return 0;
}

static int check_args(struct pq_reader *r, size_t rg, size_t col)
{
    r->err[0] = 0;
    if (rg >= r->meta.nrgs || col >= r->ncols)
        return RFAIL(r, SL_ERANGE, "no column %zu in row group %zu", col, rg);
    return 0;
}

/* Loads the dictionary page of a chunk into pd once (if there is one). */
static int pd_dict(struct pq_reader *r, const struct pidx *p, struct pq_pdec *pd, int *done)
{
    if (*done || p->dict_off < 0) return 0;
    *done = 1;
    const uint8_t *b;
    int rc = fetch(r, (uint64_t)p->dict_off, p->dict_size, &b);
    if (rc < 0) return RFAIL(r, rc, "dictionary page out of range");
    int t = pq_pdec_page_type(b, p->dict_size);
    if (t != PAGE_DICTIONARY) return 0; /* e.g. an index page */
    return pq_pdec_dict(pd, b, p->dict_size);
}

static int page_rows_ok(struct pq_reader *r, size_t rows)
{
    if (rows > r->mem_limit / 64) return RFAIL(r, SL_ETOOBIG, "page exceeds the memory limit");
    if (rows > r->hit_cap) {
        uint8_t *h = sl_malloc(rows);
        if (!h) return SL_ENOMEM;
        sl_free(r->hit);
        r->hit = h;
        r->hit_cap = rows;
    }
    return 0;
}

int pq_reader_read_rows(struct pq_reader *r, size_t rg, size_t col, const uint32_t *sel, size_t m,
                        struct pq_column_buf *out)
{
    int rc;
    memset(out, 0, sizeof *out);
    if ((rc = check_args(r, rg, col)) < 0) return rc;
    size_t nrows = (size_t)r->meta.rgs[rg].num_rows;
    if (m > nrows) return RFAIL(r, SL_EINVAL, "selection longer than the row group");
    if ((rc = check_sel(r, sel, m, nrows)) < 0) return rc;
    if (m == nrows) return pq_reader_read_column(r, rg, col, out);
    struct pq_chunk_ctx x;
    chunk_ctx(r, rg, col, &x);
    size_t esize = x.type == PQ_BOOL ? 1 : x.type == PQ_STRING ? sizeof(struct pq_str) : 8;
    out->type = x.type;
    struct pidx *p;
    struct pq_pdec *pd = NULL;
    if ((rc = load_pidx(r, rg, col, &p)) < 0) return rc;
    if (m > r->mem_limit / (esize + 1)) return RFAIL(r, SL_ETOOBIG, "selection too large");
    out->values = sl_calloc(m ? m : 1, esize);
    if (x.nullable) out->valid = sl_calloc(m ? m : 1, 1);
    if (!out->values || (x.nullable && !out->valid)) {
        rc = SL_ENOMEM;
        goto fail;
    }
    if ((rc = pq_pdec_new(&x, out, &pd)) < 0) goto fail;
    int dict_done = 0;
    size_t j = 0;
    for (size_t i = 0; i < p->npages && j < m; i++) {
        size_t lo = (size_t)p->locs[i].first_row, hi = page_end(p, i, nrows);
        if (sel[j] >= hi) continue;
        const void *vals;
        const uint8_t *valid, *b;
        if ((rc = pd_dict(r, p, pd, &dict_done)) < 0) goto fail;
        if ((rc = fetch(r, (uint64_t)p->locs[i].offset, (size_t)p->locs[i].size, &b)) < 0) {
            RFAIL(r, rc, "column '%s': page out of range", x.name);
            goto fail;
        }
        if ((rc = pq_pdec_data(pd, b, (size_t)p->locs[i].size, hi - lo, 1, &vals, &valid)) < 0)
            goto fail;
        for (; j < m && sel[j] < hi; j++) {
            size_t k = sel[j] - lo;
            if (valid && !valid[k]) {
                out->null_count++;
                if (x.type == PQ_STRING) ((struct pq_str *)out->values)[j].ptr = "";
                continue;
            }
            if (out->valid) out->valid[j] = 1;
            memcpy((uint8_t *)out->values + j * esize, (const uint8_t *)vals + k * esize, esize);
        }
    }
    if (j != m) {
        rc = RFAIL(r, SL_ECORRUPT, "column '%s': pages do not cover the row group", x.name);
        goto fail;
    }
    pq_pdec_free(pd);
    out->nrows = m;
    return 0;
fail:
    pq_pdec_free(pd);
    pq_column_buf_release(out);
    return rc;
}

/* The input rows in[*a..*b) that lie in [lo, hi), *a advanced past rows
 * before lo (in == NULL: all rows). */
static void in_range(const uint32_t *in, size_t nin, size_t lo, size_t hi, size_t *a, size_t *b)
{
    if (!in) return;
    while (*a < nin && in[*a] < lo)
        (*a)++;
    *b = *a;
    while (*b < nin && in[*b] < hi)
        (*b)++;
}

static int str_between(const struct pq_str *v, const struct pm_page_stat *s)
{
    size_t n = v->len < s->min_len ? v->len : s->min_len;
    int c = n ? memcmp(v->ptr, s->min, n) : 0;
    if (c < 0 || (c == 0 && v->len < s->min_len)) return 0;
    n = v->len < s->max_len ? v->len : s->max_len;
    c = n ? memcmp(v->ptr, s->max, n) : 0;
    return !(c > 0 || (c == 0 && v->len > s->max_len));
}

int pq_reader_filter_str(struct pq_reader *r, size_t rg, size_t col, const struct pq_str *vals,
                         size_t nvals, const uint32_t *in, size_t nin, uint32_t *out, size_t *nout)
{
    int rc;
    *nout = 0;
    if ((rc = check_args(r, rg, col)) < 0) return rc;
    if (r->cols[col].type != PQ_STRING)
        return RFAIL(r, SL_EINVAL, "column '%s' is not a string column", r->cols[col].name);
    size_t nrows = (size_t)r->meta.rgs[rg].num_rows;
    if (in && (rc = check_sel(r, in, nin, nrows)) < 0) return rc;
    if ((in && nin == 0) || nvals == 0 || nrows == 0) return 0;
    struct pidx *p;
    if ((rc = load_pidx(r, rg, col, &p)) < 0) return rc;
    if ((rc = load_ci(r, &r->meta.rgs[rg].cols[col], col, p)) < 0) return rc;
    struct pq_chunk_ctx x;
    chunk_ctx(r, rg, col, &x);
    struct pq_column_buf owner = PQ_COLUMN_BUF_INIT;
    struct pq_pdec *pd = NULL;
    if ((rc = pq_pdec_new(&x, &owner, &pd)) < 0) return rc;
    int dict_done = 0;
    size_t a = 0, b = 0, n = 0;
    for (size_t i = 0; i < p->npages; i++) {
        size_t lo = (size_t)p->locs[i].first_row, hi = page_end(p, i, nrows);
        in_range(in, nin, lo, hi, &a, &b);
        if (in && a == b) continue;
        if (p->st) {
            const struct pm_page_stat *s = &p->st[i];
            if (s->null_page) continue;
            int any = 0;
            for (size_t v = 0; v < nvals && !any; v++)
                any = str_between(&vals[v], s);
            if (!any) continue;
        }
        const uint8_t *pg;
        if ((rc = page_rows_ok(r, hi - lo)) < 0 || (rc = pd_dict(r, p, pd, &dict_done)) < 0) break;
        if ((rc = fetch(r, (uint64_t)p->locs[i].offset, (size_t)p->locs[i].size, &pg)) < 0) {
            RFAIL(r, rc, "column '%s': page out of range", x.name);
            break;
        }
        rc = pq_pdec_match_str(pd, pg, (size_t)p->locs[i].size, hi - lo, vals, nvals, r->hit);
        if (rc < 0) break;
        if (in) {
            for (size_t t = a; t < b; t++)
                if (r->hit[in[t] - lo]) out[n++] = in[t];
        } else {
            for (size_t k = 0; k < hi - lo; k++)
                if (r->hit[k]) out[n++] = (uint32_t)(lo + k);
        }
    }
    pq_pdec_free(pd);
    pq_column_buf_release(&owner);
    if (rc < 0) return rc;
    *nout = n;
    return 0;
}

int pq_reader_filter_i64(struct pq_reader *r, size_t rg, size_t col, int64_t lo_v, int64_t hi_v,
                         const uint32_t *in, size_t nin, uint32_t *out, size_t *nout)
{
    int rc;
    *nout = 0;
    if ((rc = check_args(r, rg, col)) < 0) return rc;
    if (r->cols[col].type != PQ_INT64 && r->cols[col].type != PQ_TIME_NS)
        return RFAIL(r, SL_EINVAL, "column '%s' is not an INT64 column", r->cols[col].name);
    size_t nrows = (size_t)r->meta.rgs[rg].num_rows;
    if (in && (rc = check_sel(r, in, nin, nrows)) < 0) return rc;
    if ((in && nin == 0) || lo_v > hi_v || nrows == 0) return 0;
    struct pidx *p;
    if ((rc = load_pidx(r, rg, col, &p)) < 0) return rc;
    if ((rc = load_ci(r, &r->meta.rgs[rg].cols[col], col, p)) < 0) return rc;
    struct pq_chunk_ctx x;
    chunk_ctx(r, rg, col, &x);
    struct pq_column_buf owner = PQ_COLUMN_BUF_INIT;
    struct pq_pdec *pd = NULL;
    if ((rc = pq_pdec_new(&x, &owner, &pd)) < 0) return rc;
    int dict_done = 0;
    size_t a = 0, b = 0, n = 0;
    for (size_t i = 0; i < p->npages; i++) {
        size_t lo = (size_t)p->locs[i].first_row, hi = page_end(p, i, nrows);
        in_range(in, nin, lo, hi, &a, &b);
        if (in && a == b) continue;
        if (p->st) {
            const struct pm_page_stat *s = &p->st[i];
            if (s->null_page) continue;
            if (s->min_len == 8 && s->max_len == 8) {
                int64_t mn = (int64_t)pq_get_le64(s->min), mx = (int64_t)pq_get_le64(s->max);
                if (mx < lo_v || mn > hi_v) continue;
                int no_nulls = !x.nullable || (p->has_null_counts && s->null_count == 0);
                if (mn >= lo_v && mx <= hi_v && no_nulls) {
                    /* every row of the page is in range */
                    if (in) {
                        for (size_t t = a; t < b; t++)
                            out[n++] = in[t];
                    } else {
                        for (size_t k = lo; k < hi; k++)
                            out[n++] = (uint32_t)k;
                    }
                    continue;
                }
            }
        }
        const uint8_t *pg, *valid;
        const void *vv;
        if ((rc = pd_dict(r, p, pd, &dict_done)) < 0) break;
        if ((rc = fetch(r, (uint64_t)p->locs[i].offset, (size_t)p->locs[i].size, &pg)) < 0) {
            RFAIL(r, rc, "column '%s': page out of range", x.name);
            break;
        }
        rc = pq_pdec_data(pd, pg, (size_t)p->locs[i].size, hi - lo, 0, &vv, &valid);
        if (rc < 0) break;
        const int64_t *v = vv;
        if (in) {
            for (size_t t = a; t < b; t++) {
                size_t k = in[t] - lo;
                if ((!valid || valid[k]) && v[k] >= lo_v && v[k] <= hi_v) out[n++] = in[t];
            }
        } else {
            for (size_t k = 0; k < hi - lo; k++)
                if ((!valid || valid[k]) && v[k] >= lo_v && v[k] <= hi_v)
                    out[n++] = (uint32_t)(lo + k);
        }
    }
    pq_pdec_free(pd);
    pq_column_buf_release(&owner);
    if (rc < 0) return rc;
    *nout = n;
    return 0;
}
