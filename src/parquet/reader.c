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

void pq_reader_close(struct pq_reader *r)
{
    if (!r) return;
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

int pq_reader_read_column(struct pq_reader *r, size_t rg, size_t col, struct pq_column_buf *out)
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
                             sizeof r->err};
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
