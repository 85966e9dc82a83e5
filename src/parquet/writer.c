/*
 * writer.c — the Parquet writer (API and encoding choices in parquet.h, file
 * layout in docs/parquet.md).
 *
 * Rows are buffered column-major until a row group is full (row_group_rows);
 * the group is then encoded column by column. For one column chunk the data
 * pages are encoded and compressed into memory first, because the dictionary
 * page has to precede them in the file and is only complete after the last
 * page. Pages end after page_rows rows or ~1 MiB of string bytes, so one page
 * never gets near the 2 GiB limit of the i32 page sizes.
 *
 * Dictionary fallback: a dictionary column keeps one dictionary per chunk.
 * When adding a page's values would take the dictionary past dict_max_bytes,
 * that page and every later page of the chunk are written PLAIN (the page's
 * additions are dropped from the dictionary); the chunk then lists both
 * encodings. This is what other writers do, and every reader supports it.
 *
 * Statistics: min_value/max_value in the column's sort order (signed for
 * INT64, unsigned for UINT64, IEEE order without NaN for DOUBLE, unsigned
 * bytewise for strings) and null_count, per column chunk. String min/max
 * longer than PQ_STATS_MAX_STRING bytes are left out rather than truncated.
 *
 * Page index: while a chunk's pages are encoded, each data page's location
 * and min/max/null count are recorded; the chunk's OffsetIndex and
 * ColumnIndex are encoded into two blobs that are written after the last row
 * group (ColumnIndexes first), their offsets fixed up before the footer.
 */
#include "parquet/pq_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/hash.h"
#include "common/mem.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Parquet writer assumes a little-endian host"
#endif

#define PQ_STATS_MAX_STRING 4096
#define PAGE_STRING_BYTES   ((size_t)1 << 20)

/* A buffered string: its bytes live in wcol.sbuf. */
struct sref {
    uint64_t off;
    uint32_t len;
};

struct wcol {
    char *name;
    enum pq_ctype type;
    int nullable, dictionary;
    size_t esize;
    void *vals;
    size_t vcap;
    uint8_t *valid;
    size_t valid_cap;
    struct sl_buf sbuf;
};

/* Per-chunk dictionary: entries point into the column's sbuf. */
struct dict {
    struct sref *ents;
    size_t n, cap;
    uint32_t *slots; /* index + 1, 0 = empty */
    size_t nslots;
    size_t bytes; /* PLAIN size of the dictionary page */
};

struct pq_writer {
    int fd;
    char *path;
    struct sl_buf *mem;
    uint64_t pos;
    struct wcol *cols;
    size_t ncols;
    enum pq_codec codec;
    int zstd_level;
    size_t rg_rows, page_rows, dict_max;
    int no_fsync, time_utc, no_page_index;
    struct pm_kv *kv;
    size_t nkv;
    struct pm_sort_col *sort;
    size_t nsort;
    size_t rows;
    uint64_t total_rows;
    struct pm_row_group *rgs;
    size_t nrgs, rgs_cap;
    struct sl_buf body, comp, chunk, hdr;
    uint64_t *scratch;
    size_t scratch_cap;
    uint32_t *idx;
    size_t idx_cap;
    struct dict dict;
    /* page index of the chunk being written, and the encoded indexes of all
     * chunks so far (written after the last row group) */
    struct pm_page_loc *plocs;
    struct pm_page_stat *pstats;
    size_t npages, pages_cap, pstats_cap;
    struct sl_buf pmm; /* page min/max bytes (pstats point here once complete) */
    size_t *pmm_off;   /* per page: offset of min in pmm (max follows) */
    size_t pmm_cap;
    struct sl_buf ci_blob, oi_blob;
    int failed;
};

static size_t elem_size(enum pq_ctype t)
{
    switch (t) {
    case PQ_BOOL: return 1;
    case PQ_STRING: return sizeof(struct sref);
    default: return 8;
    }
}

/* ---- lifecycle ---- */

static void writer_free(struct pq_writer *w)
{
    if (!w) return;
    for (size_t i = 0; i < w->ncols; i++) {
        sl_free(w->cols[i].name);
        sl_free(w->cols[i].vals);
        sl_free(w->cols[i].valid);
        sl_buf_release(&w->cols[i].sbuf);
    }
    sl_free(w->cols);
    for (size_t i = 0; i < w->nkv; i++) {
        sl_free((void *)w->kv[i].key);
        sl_free((void *)w->kv[i].value);
    }
    sl_free(w->kv);
    sl_free(w->sort);
    for (size_t g = 0; g < w->nrgs; g++) {
        for (size_t c = 0; c < w->rgs[g].ncols; c++) {
            sl_free((void *)w->rgs[g].cols[c].stats.min_value);
            sl_free((void *)w->rgs[g].cols[c].stats.max_value);
        }
        sl_free(w->rgs[g].cols);
    }
    sl_free(w->rgs);
    sl_buf_release(&w->body);
    sl_buf_release(&w->comp);
    sl_buf_release(&w->chunk);
    sl_buf_release(&w->hdr);
    sl_free(w->scratch);
    sl_free(w->idx);
    sl_free(w->dict.ents);
    sl_free(w->dict.slots);
    sl_free(w->plocs);
    sl_free(w->pstats);
    sl_free(w->pmm_off);
    sl_buf_release(&w->pmm);
    sl_buf_release(&w->ci_blob);
    sl_buf_release(&w->oi_blob);
    if (w->fd >= 0) close(w->fd);
    sl_free(w->path);
    sl_free(w);
}

static int sink_write(struct pq_writer *w, const void *p, size_t n)
{
    int rc = w->mem ? sl_buf_add(w->mem, p, n) : sl_write_full(w->fd, p, n);
    if (rc < 0) return rc;
    w->pos += n;
    return 0;
}

static int writer_init(struct pq_writer *w, const struct pq_column_spec *cols, size_t ncols,
                       const struct pq_writer_opts *o)
{
    struct pq_writer_opts def = {0};
    if (!o) o = &def;
    if (ncols == 0 || ncols > PQ_MAX_COLUMNS || !cols) return SL_EINVAL;
    if (o->codec != PQ_CODEC_ZSTD && o->codec != PQ_CODEC_SNAPPY && o->codec != PQ_CODEC_NONE)
        return SL_EINVAL;
    w->codec = o->codec;
    w->zstd_level = o->zstd_level ? o->zstd_level : 3;
    w->rg_rows = o->row_group_rows ? o->row_group_rows : ((size_t)1 << 20);
    w->page_rows = o->page_rows ? o->page_rows : 65536;
    if (w->rg_rows > ((size_t)1 << 31) || w->page_rows > ((size_t)1 << 24)) return SL_EINVAL;
    w->dict_max = o->dict_max_bytes ? o->dict_max_bytes : ((size_t)1 << 20);
    w->no_fsync = o->no_fsync;
    w->time_utc = o->time_adjusted_utc != 0;
    w->no_page_index = o->no_page_index != 0;
    w->cols = sl_calloc(ncols, sizeof *w->cols);
    if (!w->cols) return SL_ENOMEM;
    for (size_t i = 0; i < ncols; i++) {
        if (!cols[i].name || !cols[i].name[0] || (unsigned)cols[i].type > PQ_STRING)
            return SL_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[i].name, cols[j].name) == 0) return SL_EINVAL;
        struct wcol *c = &w->cols[i];
        c->name = sl_strdup(cols[i].name);
        if (!c->name) return SL_ENOMEM;
        w->ncols = i + 1;
        c->type = cols[i].type;
        c->nullable = cols[i].nullable != 0;
        c->dictionary = cols[i].dictionary != 0 && c->type == PQ_STRING;
        c->esize = elem_size(c->type);
        sl_buf_init(&c->sbuf, 0);
    }
    if (o->nkv) {
        w->kv = sl_calloc(o->nkv, sizeof *w->kv);
        if (!w->kv) return SL_ENOMEM;
        for (size_t i = 0; i < o->nkv; i++) {
            if (!o->kv[i].key) return SL_EINVAL;
            w->nkv = i + 1;
            size_t kl = strlen(o->kv[i].key);
            w->kv[i].key = (const uint8_t *)sl_strdup(o->kv[i].key);
            w->kv[i].key_len = (uint32_t)kl;
            if (!w->kv[i].key) return SL_ENOMEM;
            if (o->kv[i].value) {
                w->kv[i].value = (const uint8_t *)sl_strdup(o->kv[i].value);
                if (!w->kv[i].value) return SL_ENOMEM;
                w->kv[i].value_len = (uint32_t)strlen(o->kv[i].value);
                w->kv[i].has_value = 1;
            }
        }
    }
    if (o->nsort) {
        w->sort = sl_calloc(o->nsort, sizeof *w->sort);
        if (!w->sort) return SL_ENOMEM;
        for (size_t i = 0; i < o->nsort; i++) {
            if (o->sort_cols[i] >= ncols) return SL_EINVAL;
            w->sort[i].column_idx = (int32_t)o->sort_cols[i];
        }
        w->nsort = o->nsort;
    }
    sl_buf_init(&w->body, 0);
    sl_buf_init(&w->comp, 0);
    sl_buf_init(&w->chunk, 0);
    sl_buf_init(&w->hdr, 0);
    sl_buf_init(&w->pmm, 0);
    sl_buf_init(&w->ci_blob, 0);
    sl_buf_init(&w->oi_blob, 0);
    return sink_write(w, "PAR1", 4);
}

int pq_writer_open(const char *path, const struct pq_column_spec *cols, size_t ncols,
                   const struct pq_writer_opts *o, struct pq_writer **out)
{
    *out = NULL;
    struct pq_writer *w = sl_calloc(1, sizeof *w);
    if (!w) return SL_ENOMEM;
    w->fd = -1;
    int rc;
    w->path = sl_strdup(path);
    if (!w->path) {
        rc = SL_ENOMEM;
        goto fail;
    }
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        rc = errno == ENOENT ? SL_ENOENT : SL_EIO;
        goto fail;
    }
    if ((rc = writer_init(w, cols, ncols, o)) < 0) {
        unlink(path);
        goto fail;
    }
    *out = w;
    return 0;
fail:
    writer_free(w);
    return rc;
}

int pq_writer_open_buf(struct sl_buf *out_buf, const struct pq_column_spec *cols, size_t ncols,
                       const struct pq_writer_opts *o, struct pq_writer **out)
{
    *out = NULL;
    struct pq_writer *w = sl_calloc(1, sizeof *w);
    if (!w) return SL_ENOMEM;
    w->fd = -1;
    w->mem = out_buf;
    int rc = writer_init(w, cols, ncols, o);
    if (rc < 0) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void pq_writer_abort(struct pq_writer *w)
{
    if (!w) return;
    if (w->path) unlink(w->path);
    writer_free(w);
}

uint64_t pq_writer_rows(const struct pq_writer *w)
{
    return w->total_rows;
}

/* ---- statistics ---- */

static int set_stat(const uint8_t **dst, uint32_t *dlen, const void *p, size_t n)
{
    uint8_t *m = sl_malloc(n ? n : 1);
    if (!m) return SL_ENOMEM;
    if (n) memcpy(m, p, n);
    *dst = m;
    *dlen = (uint32_t)n;
    return 0;
}

/* The bytes of a buffered string (never NULL, also for empty strings). */
static const char *sptr(const struct wcol *c, const struct sref *s)
{
    return s->len ? c->sbuf.ptr + s->off : "";
}

static int strref_cmp(const struct wcol *c, const struct sref *a, const struct sref *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int r = n ? memcmp(sptr(c, a), sptr(c, b), n) : 0;
    if (r) return r;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Min/max/null count of rows [lo, hi) of c. *nan is set when a double is
 * NaN (left out of min/max). The min/max bytes (Statistics encoding) go to
 * a[]/b[] for fixed-width types, or are pointed to for strings. Returns
 * whether some non-NULL, non-NaN value exists. */
struct range_st {
    size_t nulls;
    int nan;
    const uint8_t *min, *max;
    uint32_t min_len, max_len;
    uint8_t a[8], b[8];
};

static int range_stats(const struct wcol *c, size_t lo, size_t hi, struct range_st *st)
{
    size_t nulls = 0;
    size_t imin = 0, imax = 0;
    int have = 0;
    double dmin = 0, dmax = 0;
    st->nan = 0;
    for (size_t i = lo; i < hi; i++) {
        if (c->valid && !c->valid[i]) {
            nulls++;
            continue;
        }
        switch (c->type) {
        case PQ_TIME_NS:
        case PQ_INT64: {
            const int64_t *v = c->vals;
            if (!have || v[i] < v[imin]) imin = i;
            if (!have || v[i] > v[imax]) imax = i;
            have = 1;
            break;
        }
        case PQ_UINT64: {
            const uint64_t *v = c->vals;
            if (!have || v[i] < v[imin]) imin = i;
            if (!have || v[i] > v[imax]) imax = i;
            have = 1;
            break;
        }
        case PQ_BOOL: {
            const uint8_t *v = c->vals;
            if (!have || v[i] < v[imin]) imin = i;
            if (!have || v[i] > v[imax]) imax = i;
            have = 1;
            break;
        }
        case PQ_DOUBLE: {
            double d = ((const double *)c->vals)[i];
            if (isnan(d)) {
                st->nan = 1;
                break;
            }
            if (!have || d < dmin) dmin = d;
            if (!have || d > dmax) dmax = d;
            have = 1;
            break;
        }
        case PQ_STRING: {
            const struct sref *v = c->vals;
            if (!have || strref_cmp(c, &v[i], &v[imin]) < 0) imin = i;
            if (!have || strref_cmp(c, &v[i], &v[imax]) > 0) imax = i;
            have = 1;
            break;
        }
        }
    }
    st->nulls = nulls;
    if (!have) return 0;
    st->min = st->a;
    st->max = st->b;
    st->min_len = st->max_len = c->type == PQ_BOOL ? 1 : 8;
    switch (c->type) {
    case PQ_TIME_NS:
    case PQ_INT64:
    case PQ_UINT64:
        pq_put_le64(st->a, ((const uint64_t *)c->vals)[imin]);
        pq_put_le64(st->b, ((const uint64_t *)c->vals)[imax]);
        break;
    case PQ_DOUBLE: {
        /* Zero bounds are written as -0.0 (min) and +0.0 (max), so readers
         * comparing either zero stay correct. */
        if (dmin == 0) dmin = -0.0;
        if (dmax == 0) dmax = 0.0;
        uint64_t u;
        memcpy(&u, &dmin, 8);
        pq_put_le64(st->a, u);
        memcpy(&u, &dmax, 8);
        pq_put_le64(st->b, u);
        break;
    }
    case PQ_BOOL:
        st->a[0] = ((const uint8_t *)c->vals)[imin];
        st->b[0] = ((const uint8_t *)c->vals)[imax];
        break;
    case PQ_STRING: {
        const struct sref *v = c->vals;
        st->min = (const uint8_t *)sptr(c, &v[imin]);
        st->min_len = v[imin].len;
        st->max = (const uint8_t *)sptr(c, &v[imax]);
        st->max_len = v[imax].len;
        break;
    }
    }
    return 1;
}

static int chunk_stats(const struct wcol *c, size_t rows, struct pm_stats *s)
{
    struct range_st st;
    int have = range_stats(c, 0, rows, &st);
    s->has_null_count = 1;
    s->null_count = (int64_t)st.nulls;
    if (!have) return 0;
    if (st.min_len > PQ_STATS_MAX_STRING || st.max_len > PQ_STATS_MAX_STRING) return 0;
    int rc = set_stat(&s->min_value, &s->min_len, st.min, st.min_len);
    if (rc < 0) return rc;
    return set_stat(&s->max_value, &s->max_len, st.max, st.max_len);
}

/* ---- page index ---- */

/* Order of two Statistics-encoded values of c's type (signed INT64, unsigned
 * UINT64, IEEE doubles without NaN, bytewise strings). */
static int stat_cmp(enum pq_ctype t, const uint8_t *a, uint32_t al, const uint8_t *b, uint32_t bl)
{
    switch (t) {
    case PQ_TIME_NS:
    case PQ_INT64: {
        int64_t x = (int64_t)pq_get_le64(a), y = (int64_t)pq_get_le64(b);
        return x < y ? -1 : x > y;
    }
    case PQ_UINT64: {
        uint64_t x = pq_get_le64(a), y = pq_get_le64(b);
        return x < y ? -1 : x > y;
    }
    case PQ_DOUBLE: {
        uint64_t ux = pq_get_le64(a), uy = pq_get_le64(b);
        double x, y;
        memcpy(&x, &ux, 8);
        memcpy(&y, &uy, 8);
        return x < y ? -1 : x > y;
    }
    case PQ_BOOL: return a[0] < b[0] ? -1 : a[0] > b[0];
    case PQ_STRING: {
        uint32_t n = al < bl ? al : bl;
        int r = n ? memcmp(a, b, n) : 0;
        if (r) return r;
        return al < bl ? -1 : al > bl;
    }
    }
    return 0;
}

/* Records data page [lo, hi) of c at chunk offset off, size bytes. *ci_ok
 * is cleared when the page's min/max cannot be expressed (NaN, long
 * strings). */
static int page_record(struct pq_writer *w, const struct wcol *c, size_t lo, size_t hi, size_t off,
                       size_t size, int *ci_ok)
{
    size_t i = w->npages;
    struct pm_page_loc *pl = sl_grow(w->plocs, &w->pages_cap, i + 1, sizeof *pl);
    if (!pl) return SL_ENOMEM;
    w->plocs = pl;
    struct pm_page_stat *ps = sl_grow(w->pstats, &w->pstats_cap, i + 1, sizeof *ps);
    if (!ps) return SL_ENOMEM;
    w->pstats = ps;
    size_t *po = sl_grow(w->pmm_off, &w->pmm_cap, i + 1, sizeof *po);
    if (!po) return SL_ENOMEM;
    w->pmm_off = po;
    pl[i].offset = (int64_t)off; /* relative to the data pages until written */
    pl[i].size = (int32_t)size;
    pl[i].first_row = (int64_t)lo;
    struct range_st st;
    int have = range_stats(c, lo, hi, &st);
    memset(&ps[i], 0, sizeof ps[i]);
    ps[i].null_count = (int64_t)st.nulls;
    ps[i].null_page = st.nulls == hi - lo;
    po[i] = w->pmm.len;
    w->npages = i + 1;
    if (st.nan || (!have && !ps[i].null_page) ||
        (have && (st.min_len > PQ_STATS_MAX_STRING || st.max_len > PQ_STATS_MAX_STRING))) {
        *ci_ok = 0;
        return 0;
    }
    if (!have || !*ci_ok) return 0;
    ps[i].min_len = st.min_len;
    ps[i].max_len = st.max_len;
    int rc = sl_buf_add(&w->pmm, st.min_len ? (const char *)st.min : "", st.min_len);
    if (rc == 0) rc = sl_buf_add(&w->pmm, st.max_len ? (const char *)st.max : "", st.max_len);
    return rc;
}

/* Appends the OffsetIndex (and, if ci_ok, the ColumnIndex) of the chunk just
 * written (data pages at data_off) to the index blobs; m gets their offsets
 * within the blobs, made absolute when the blobs are written. */
static int chunk_index(struct pq_writer *w, enum pq_ctype t, int64_t data_off, int ci_ok,
                       struct pm_column *m)
{
    int rc;
    size_t n = w->npages;
    for (size_t i = 0; i < n; i++)
        w->plocs[i].offset += data_off;
    size_t start = w->oi_blob.len;
    if ((rc = pm_offset_index_encode(w->plocs, n, &w->oi_blob)) < 0) return rc;
    if (w->oi_blob.len - start > (size_t)INT32_MAX) return SL_ETOOBIG;
    m->oi_offset = (int64_t)start;
    m->oi_length = (int32_t)(w->oi_blob.len - start);
    m->ci_offset = -1;
    m->ci_length = 0;
    if (!ci_ok) return 0;
    /* Boundary order over the non-null pages. */
    int asc = 1, desc = 1;
    const struct pm_page_stat *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        struct pm_page_stat *p = &w->pstats[i];
        const uint8_t *base = (const uint8_t *)w->pmm.ptr + w->pmm_off[i];
        p->min = base;
        p->max = base + p->min_len;
        if (p->null_page) continue;
        if (prev) {
            int cmin = stat_cmp(t, prev->min, prev->min_len, p->min, p->min_len);
            int cmax = stat_cmp(t, prev->max, prev->max_len, p->max, p->max_len);
            if (cmin > 0 || cmax > 0) asc = 0;
            if (cmin < 0 || cmax < 0) desc = 0;
        }
        prev = p;
    }
    int bo = asc ? BO_ASCENDING : desc ? BO_DESCENDING : BO_UNORDERED;
    start = w->ci_blob.len;
    if ((rc = pm_column_index_encode(w->pstats, n, bo, &w->ci_blob)) < 0) return rc;
    if (w->ci_blob.len - start > (size_t)INT32_MAX) return SL_ETOOBIG;
    m->ci_offset = (int64_t)start;
    m->ci_length = (int32_t)(w->ci_blob.len - start);
    return 0;
}

/* ---- dictionary ---- */

static void dict_reset(struct dict *d)
{
    d->n = 0;
    d->bytes = 0;
    if (d->slots) memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static uint64_t sref_hash(const struct wcol *c, const struct sref *s)
{
    return sl_hash64(sptr(c, s), s->len, 0x9e3779b97f4a7c15ull);
}

static int dict_rehash(struct dict *d, const struct wcol *c, size_t nslots)
{
    uint32_t *slots = sl_calloc(nslots, sizeof *slots);
    if (!slots) return SL_ENOMEM;
    for (size_t i = 0; i < d->n; i++) {
        size_t h = (size_t)sref_hash(c, &d->ents[i]) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)i + 1;
    }
    sl_free(d->slots);
    d->slots = slots;
    d->nslots = nslots;
    return 0;
}

/* Finds or adds s; *idx = its index. */
static int dict_add(struct dict *d, const struct wcol *c, const struct sref *s, uint32_t *idx)
{
    int rc;
    if ((d->n + 1) * 2 > d->nslots) {
        if ((rc = dict_rehash(d, c, d->nslots ? d->nslots * 2 : 1024)) < 0) return rc;
    }
    size_t h = (size_t)sref_hash(c, s) & (d->nslots - 1);
    while (d->slots[h]) {
        const struct sref *e = &d->ents[d->slots[h] - 1];
        if (e->len == s->len && (s->len == 0 || memcmp(sptr(c, e), sptr(c, s), s->len) == 0)) {
            *idx = d->slots[h] - 1;
            return 0;
        }
        h = (h + 1) & (d->nslots - 1);
    }
    struct sref *ne = sl_grow(d->ents, &d->cap, d->n + 1, sizeof *d->ents);
    if (!ne) return SL_ENOMEM;
    d->ents = ne;
    d->ents[d->n] = *s;
    d->slots[h] = (uint32_t)d->n + 1;
    *idx = (uint32_t)d->n++;
    d->bytes += 4 + (size_t)s->len;
    return 0;
}

/* Drops the entries from n on (after a fallback); the hash is not used again
 * for this chunk, so it is simply rebuilt. */
static int dict_truncate(struct dict *d, const struct wcol *c, size_t n)
{
    for (size_t i = n; i < d->n; i++)
        d->bytes -= 4 + (size_t)d->ents[i].len;
    d->n = n;
    return dict_rehash(d, c, d->nslots ? d->nslots : 1024);
}

/* ---- pages ---- */

static int grow_scratch(struct pq_writer *w, size_t n)
{
    if (n <= w->scratch_cap && n <= w->idx_cap) return 0;
    uint64_t *s = sl_grow(w->scratch, &w->scratch_cap, n, sizeof *s);
    if (!s) return SL_ENOMEM;
    w->scratch = s;
    uint32_t *x = sl_grow(w->idx, &w->idx_cap, n, sizeof *x);
    if (!x) return SL_ENOMEM;
    w->idx = x;
    return 0;
}

static int add_plain_strings(struct sl_buf *b, const struct wcol *c, const struct sref *v,
                             const uint8_t *valid, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (valid && !valid[i]) continue;
        uint8_t l[4];
        pq_put_le32(l, v[i].len);
        int rc = sl_buf_add(b, l, 4);
        if (rc == 0 && v[i].len) rc = sl_buf_add(b, sptr(c, &v[i]), v[i].len);
        if (rc < 0) return rc;
    }
    return 0;
}

/* Appends a page (header + compressed body of w->body) to w->chunk. */
static int emit_page(struct pq_writer *w, int type, int32_t num_values, int encoding, int64_t *unc,
                     int64_t *comp)
{
    int rc;
    if (w->body.len > (size_t)INT32_MAX) return SL_ETOOBIG;
    if ((rc = pq_compress(w->codec, w->zstd_level, w->body.ptr, w->body.len, &w->comp)) < 0)
        return rc;
    if (w->comp.len > (size_t)INT32_MAX) return SL_ETOOBIG;
    struct pm_page_header h = {0};
    h.type = type;
    h.uncompressed_size = (int32_t)w->body.len;
    h.compressed_size = (int32_t)w->comp.len;
    h.num_values = num_values;
    h.encoding = encoding;
    if (type == PAGE_DATA) {
        h.has_data = 1;
        h.def_encoding = PQ_ENC_RLE;
        h.rep_encoding = PQ_ENC_RLE;
    } else {
        h.has_dict = 1;
    }
    sl_buf_reset(&w->hdr);
    if ((rc = pm_page_header_encode(&h, &w->hdr)) < 0) return rc;
    if ((rc = sl_buf_add(&w->chunk, w->hdr.ptr, w->hdr.len)) < 0) return rc;
    if ((rc = sl_buf_add(&w->chunk, w->comp.ptr, w->comp.len)) < 0) return rc;
    *unc += (int64_t)(w->hdr.len + w->body.len);
    *comp += (int64_t)(w->hdr.len + w->comp.len);
    return 0;
}

/* Encodes rows [lo, hi) of c into w->body as one data page; *enc = encoding
 * used. *dict_mode is cleared when the dictionary overflows. */
static int encode_page(struct pq_writer *w, struct wcol *c, size_t lo, size_t hi, int *dict_mode,
                       int *enc)
{
    size_t n = hi - lo;
    int rc;
    sl_buf_reset(&w->body);
    const uint8_t *valid = c->valid ? c->valid + lo : NULL;
    if ((rc = grow_scratch(w, n)) < 0) return rc;
    if (c->nullable) {
        for (size_t i = 0; i < n; i++)
            w->idx[i] = valid[i];
        uint8_t len4[4] = {0};
        if ((rc = sl_buf_add(&w->body, len4, 4)) < 0) return rc;
        if ((rc = pq_hybrid_encode(&w->body, w->idx, n, 1)) < 0) return rc;
        pq_put_le32((uint8_t *)w->body.ptr, (uint32_t)(w->body.len - 4));
    }
    size_t k = 0;
    switch (c->type) {
    case PQ_TIME_NS:
    case PQ_INT64:
    case PQ_UINT64: {
        const uint64_t *v = (const uint64_t *)c->vals + lo;
        for (size_t i = 0; i < n; i++)
            if (!valid || valid[i]) w->scratch[k++] = v[i];
        *enc = PQ_ENC_DELTA_BINARY_PACKED;
        return pq_delta_encode(&w->body, (const int64_t *)w->scratch, k);
    }
    case PQ_DOUBLE: {
        const uint64_t *v = (const uint64_t *)c->vals + lo;
        for (size_t i = 0; i < n; i++)
            if (!valid || valid[i]) w->scratch[k++] = v[i];
        *enc = PQ_ENC_BYTE_STREAM_SPLIT;
        return pq_bss_encode(&w->body, w->scratch, k);
    }
    case PQ_BOOL: {
        const uint8_t *v = (const uint8_t *)c->vals + lo;
        for (size_t i = 0; i < n; i++)
            if (!valid || valid[i]) w->scratch[k++] = v[i];
        *enc = PQ_ENC_PLAIN;
        return pq_bitpack(&w->body, w->scratch, k, 1);
    }
    case PQ_STRING: {
        const struct sref *v = (const struct sref *)c->vals + lo;
        if (*dict_mode) {
            size_t before = w->dict.n;
            for (size_t i = 0; i < n; i++) {
                if (valid && !valid[i]) continue;
                if ((rc = dict_add(&w->dict, c, &v[i], &w->idx[k++])) < 0) return rc;
                if (w->dict.bytes > w->dict_max) break;
            }
            if (w->dict.bytes > w->dict_max) {
                *dict_mode = 0;
                if ((rc = dict_truncate(&w->dict, c, before)) < 0) return rc;
            } else {
                int bw = pq_bit_width(w->dict.n ? w->dict.n - 1 : 0);
                if (bw == 0) bw = 1;
                uint8_t b = (uint8_t)bw;
                if ((rc = sl_buf_add(&w->body, &b, 1)) < 0) return rc;
                *enc = PQ_ENC_RLE_DICTIONARY;
                return pq_hybrid_encode(&w->body, w->idx, k, bw);
            }
        }
        *enc = PQ_ENC_PLAIN;
        return add_plain_strings(&w->body, c, v, valid, n);
    }
    }
    return SL_EINVAL;
}

/* Encodes and writes column c of the buffered row group; fills *m. */
static int write_chunk(struct pq_writer *w, struct wcol *c, struct pm_column *m)
{
    int rc;
    size_t rows = w->rows;
    int64_t unc = 0, comp = 0, dunc = 0, dcomp = 0;
    int dict_mode = c->dictionary, used_dict = 0;
    uint32_t encs = 0;
    sl_buf_reset(&w->chunk);
    dict_reset(&w->dict);
    w->npages = 0;
    sl_buf_reset(&w->pmm);
    int ci_ok = 1;
    if ((rc = chunk_stats(c, rows, &m->stats)) < 0) return rc;
    for (size_t lo = 0; lo < rows;) {
        size_t hi = lo + w->page_rows < rows ? lo + w->page_rows : rows;
        if (c->type == PQ_STRING) {
            const struct sref *v = c->vals;
            size_t bytes = 0;
            for (size_t i = lo; i < hi; i++) {
                bytes += v[i].len;
                if (bytes >= PAGE_STRING_BYTES) {
                    hi = i + 1;
                    break;
                }
            }
        }
        int enc = PQ_ENC_PLAIN;
        if ((rc = encode_page(w, c, lo, hi, &dict_mode, &enc)) < 0) return rc;
        if (enc == PQ_ENC_RLE_DICTIONARY) used_dict = 1;
        encs |= 1u << enc;
        size_t off = w->chunk.len;
        if ((rc = emit_page(w, PAGE_DATA, (int32_t)(hi - lo), enc, &unc, &comp)) < 0) return rc;
        if ((rc = page_record(w, c, lo, hi, off, w->chunk.len - off, &ci_ok)) < 0) return rc;
        lo = hi;
    }
    encs |= 1u << PQ_ENC_RLE; /* level encoding named in every data page */
    m->dict_page_offset = -1;
    if (used_dict) {
        /* The dictionary page goes first; move the data pages aside. */
        struct sl_buf pages = w->chunk;
        sl_buf_init(&w->chunk, 0);
        sl_buf_reset(&w->body);
        rc = add_plain_strings(&w->body, c, w->dict.ents, NULL, w->dict.n);
        if (rc == 0)
            rc = emit_page(w, PAGE_DICTIONARY, (int32_t)w->dict.n, PQ_ENC_PLAIN, &dunc, &dcomp);
        if (rc == 0) {
            m->dict_page_offset = (int64_t)w->pos;
            rc = sink_write(w, w->chunk.ptr, w->chunk.len);
        }
        sl_buf_release(&w->chunk);
        w->chunk = pages;
        if (rc < 0) return rc;
        encs |= 1u << PQ_ENC_PLAIN;
    }
    m->data_page_offset = (int64_t)w->pos;
    if ((rc = sink_write(w, w->chunk.ptr, w->chunk.len)) < 0) return rc;
    m->oi_offset = m->ci_offset = -1;
    if (!w->no_page_index && (rc = chunk_index(w, c->type, m->data_page_offset, ci_ok, m)) < 0)
        return rc;
    static const int32_t ptype[] = {PT_INT64,  PT_INT64,   PT_INT64,
                                    PT_DOUBLE, PT_BOOLEAN, PT_BYTE_ARRAY};
    m->type = ptype[c->type];
    m->codec = pq_codec_to_thrift(w->codec);
    m->encodings = encs;
    m->path0 = (const uint8_t *)c->name;
    m->path0_len = (uint32_t)strlen(c->name);
    m->path_len = 1;
    m->num_values = (int64_t)rows;
    m->total_uncompressed = unc + dunc;
    m->total_compressed = comp + dcomp;
    m->has_meta = 1;
    return 0;
}

static int flush_row_group(struct pq_writer *w)
{
    int rc;
    struct pm_row_group *g = sl_grow(w->rgs, &w->rgs_cap, w->nrgs + 1, sizeof *w->rgs);
    if (!g) return SL_ENOMEM;
    w->rgs = g;
    g = &w->rgs[w->nrgs];
    memset(g, 0, sizeof *g);
    g->cols = sl_calloc(w->ncols, sizeof *g->cols);
    if (!g->cols) return SL_ENOMEM;
    g->ncols = w->ncols;
    w->nrgs++;
    g->file_offset = (int64_t)w->pos;
    g->num_rows = (int64_t)w->rows;
    g->sort = w->sort;
    g->nsort = w->nsort;
    for (size_t i = 0; i < w->ncols; i++) {
        if ((rc = write_chunk(w, &w->cols[i], &g->cols[i])) < 0) return rc;
        g->total_byte_size += g->cols[i].total_uncompressed;
    }
    g->total_compressed_size = (int64_t)w->pos - g->file_offset;
    for (size_t i = 0; i < w->ncols; i++)
        sl_buf_reset(&w->cols[i].sbuf);
    w->rows = 0;
    return 0;
}

/* ---- writing rows ---- */

static int check_batch(const struct pq_writer *w, const struct pq_column_data *cols, size_t nrows)
{
    for (size_t i = 0; i < w->ncols; i++) {
        const struct wcol *c = &w->cols[i];
        if (!cols[i].values && nrows) return SL_EINVAL;
        if (cols[i].valid && !c->nullable) {
            for (size_t r = 0; r < nrows; r++)
                if (!cols[i].valid[r]) return SL_EINVAL; /* NULL in a REQUIRED column */
        }
        if (c->type == PQ_STRING) {
            const struct pq_str *s = cols[i].values;
            for (size_t r = 0; r < nrows; r++) {
                if (cols[i].valid && !cols[i].valid[r]) continue;
                if (s[r].len > PQ_MAX_STRING) return SL_ETOOBIG;
                if (s[r].len && !s[r].ptr) return SL_EINVAL;
            }
        }
    }
    return 0;
}

static int append_slice(struct pq_writer *w, const struct pq_column_data *cols, size_t off,
                        size_t n)
{
    size_t need = w->rows + n;
    for (size_t i = 0; i < w->ncols; i++) {
        struct wcol *c = &w->cols[i];
        const uint8_t *valid = cols[i].valid ? cols[i].valid + off : NULL;
        if (need > c->vcap) {
            void *p = sl_grow(c->vals, &c->vcap, need, c->esize);
            if (!p) return SL_ENOMEM;
            c->vals = p;
        }
        if (c->nullable && need > c->valid_cap) {
            uint8_t *p = sl_grow(c->valid, &c->valid_cap, need, 1);
            if (!p) return SL_ENOMEM;
            c->valid = p;
        }
        if (c->nullable) {
            for (size_t r = 0; r < n; r++)
                c->valid[w->rows + r] = valid ? valid[r] != 0 : 1;
        }
        uint8_t *dst = (uint8_t *)c->vals + w->rows * c->esize;
        switch (c->type) {
        case PQ_STRING: {
            const struct pq_str *s = (const struct pq_str *)cols[i].values + off;
            struct sref *d = (struct sref *)(void *)dst;
            for (size_t r = 0; r < n; r++) {
                d[r].off = c->sbuf.len;
                d[r].len = 0;
                if (valid && !valid[r]) continue;
                int rc = sl_buf_add(&c->sbuf, s[r].ptr, s[r].len);
                if (rc < 0) return rc;
                d[r].len = s[r].len;
            }
            break;
        }
        case PQ_BOOL: {
            const uint8_t *s = (const uint8_t *)cols[i].values + off;
            for (size_t r = 0; r < n; r++)
                dst[r] = (valid && !valid[r]) ? 0 : s[r] != 0;
            break;
        }
        default: {
            memcpy(dst, (const uint8_t *)cols[i].values + off * 8, n * 8);
            if (valid)
                for (size_t r = 0; r < n; r++)
                    if (!valid[r]) memset(dst + r * 8, 0, 8);
            break;
        }
        }
    }
    w->rows += n;
    w->total_rows += n;
    return 0;
}

int pq_writer_write(struct pq_writer *w, const struct pq_column_data *cols, size_t nrows)
{
    if (w->failed) return SL_ESTATE;
    int rc = check_batch(w, cols, nrows);
    if (rc < 0) return rc;
    for (size_t done = 0; done < nrows;) {
        size_t take = w->rg_rows - w->rows;
        if (take > nrows - done) take = nrows - done;
        if ((rc = append_slice(w, cols, done, take)) < 0) goto fail;
        done += take;
        if (w->rows == w->rg_rows && (rc = flush_row_group(w)) < 0) goto fail;
    }
    return 0;
fail:
    w->failed = 1;
    return rc;
}

/* ---- footer ---- */

static void schema_for(const struct wcol *c, int time_utc, struct pm_schema_el *e)
{
    memset(e, 0, sizeof *e);
    e->name = (const uint8_t *)c->name;
    e->name_len = (uint32_t)strlen(c->name);
    e->has_type = 1;
    e->has_rep = 1;
    e->rep = c->nullable ? REP_OPTIONAL : REP_REQUIRED;
    e->num_children = -1;
    e->converted = -1;
    switch (c->type) {
    case PQ_TIME_NS:
        e->type = PT_INT64;
        e->lt_kind = LT_TIMESTAMP;
        e->lt_utc = time_utc;
        e->lt_unit = TU_NANOS;
        break;
    case PQ_INT64:
    case PQ_UINT64:
        e->type = PT_INT64;
        e->lt_kind = LT_INTEGER;
        e->lt_bits = 64;
        e->lt_signed = c->type == PQ_INT64;
        e->converted = c->type == PQ_INT64 ? CT_INT_64 : CT_UINT_64;
        break;
    case PQ_DOUBLE: e->type = PT_DOUBLE; break;
    case PQ_BOOL: e->type = PT_BOOLEAN; break;
    case PQ_STRING:
        e->type = PT_BYTE_ARRAY;
        e->lt_kind = LT_STRING;
        e->converted = CT_UTF8;
        break;
    }
}

/* Writes the ColumnIndexes, then the OffsetIndexes, of every chunk, and
 * makes their offsets absolute. */
static int write_page_index(struct pq_writer *w)
{
    int rc;
    uint64_t ci_base = w->pos;
    if ((rc = sink_write(w, w->ci_blob.ptr, w->ci_blob.len)) < 0) return rc;
    uint64_t oi_base = w->pos;
    if ((rc = sink_write(w, w->oi_blob.ptr, w->oi_blob.len)) < 0) return rc;
    for (size_t g = 0; g < w->nrgs; g++) {
        for (size_t c = 0; c < w->rgs[g].ncols; c++) {
            struct pm_column *m = &w->rgs[g].cols[c];
            if (m->ci_offset >= 0) m->ci_offset += (int64_t)ci_base;
            if (m->oi_offset >= 0) m->oi_offset += (int64_t)oi_base;
        }
    }
    return 0;
}

static int write_footer(struct pq_writer *w)
{
    int rc;
    if ((rc = write_page_index(w)) < 0) return rc;
    struct pm_file f = {0};
    struct sl_buf foot;
    sl_buf_init(&foot, PQ_MAX_FOOTER);
    char created_by[64];
    snprintf(created_by, sizeof created_by, "sluice version %s", SLUICE_VERSION);
    f.version = 1;
    f.num_rows = (int64_t)w->total_rows;
    f.nschema = w->ncols + 1;
    f.schema = sl_calloc(f.nschema, sizeof *f.schema);
    if (!f.schema) return SL_ENOMEM;
    f.schema[0].name = (const uint8_t *)"schema";
    f.schema[0].name_len = 6;
    f.schema[0].num_children = (int32_t)w->ncols;
    f.schema[0].converted = -1;
    for (size_t i = 0; i < w->ncols; i++)
        schema_for(&w->cols[i], w->time_utc, &f.schema[i + 1]);
    f.rgs = w->rgs;
    f.nrgs = w->nrgs;
    f.kv = w->kv;
    f.nkv = w->nkv;
    f.created_by = (const uint8_t *)created_by;
    f.created_by_len = (uint32_t)strlen(created_by);
    f.ncolumn_orders = w->ncols;
    rc = pm_file_encode(&f, &foot);
    sl_free(f.schema);
    if (rc < 0) goto out;
    uint8_t tail[8];
    pq_put_le32(tail, (uint32_t)foot.len);
    memcpy(tail + 4, "PAR1", 4);
    if ((rc = sink_write(w, foot.ptr, foot.len)) < 0) goto out;
    rc = sink_write(w, tail, 8);
out:
    sl_buf_release(&foot);
    return rc;
}

static int writer_finish(struct pq_writer *w, const char *final_path)
{
    int rc = SL_ESTATE;
    if (w->failed) goto fail;
    if (w->rows && (rc = flush_row_group(w)) < 0) goto fail;
    if ((rc = write_footer(w)) < 0) goto fail;
    if (w->fd >= 0) {
        if (!w->no_fsync && (rc = sl_fsync(w->fd)) < 0) goto fail;
        int fd = w->fd;
        w->fd = -1;
        if (close(fd) < 0) {
            rc = SL_EIO;
            goto fail;
        }
        if (final_path) {
            if (rename(w->path, final_path) < 0) {
                rc = SL_EIO;
                goto fail;
            }
            if (!w->no_fsync && (rc = sl_fsync_dir(final_path)) < 0) {
                writer_free(w);
                return rc; /* renamed, but the directory entry may not be durable */
            }
        }
    }
    writer_free(w);
    return 0;
fail:
    pq_writer_abort(w);
    return rc;
}

int pq_writer_close(struct pq_writer *w)
{
    return writer_finish(w, NULL);
}

int pq_writer_commit(struct pq_writer *w, const char *final_path)
{
    if (!w->path) {
        pq_writer_abort(w);
        return SL_EINVAL;
    }
    return writer_finish(w, final_path);
}
