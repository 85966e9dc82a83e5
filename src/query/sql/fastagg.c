/*
 * fastagg.c — the vectorised path of the SQL engine for aggregates by time
 * bucket and tag (docs/sql.md, "Fast aggregation path").
 *
 * run_statement (exec.c) prepares every statement with SQLite first (so the
 * query is known to be valid, and the result column names and kinds are
 * SQLite's own) and then offers it here. A statement of the shape
 *
 *   SELECT [date_bin(stride, time[, origin]) [AS b],] [tag, ...] agg(col) [AS x], ...
 *   FROM t [WHERE time bounds AND tag = 's' AND tag IN ('a', ...) ...]
 *   GROUP BY <bucket and tags, by alias, position or expression>
 *   [ORDER BY <every group key> [ASC|DESC], ...] [LIMIT n [OFFSET m]]
 *
 * with agg one of count(*), count(c), sum, avg, total, min, max — or the
 * "last point" shape, one min()/max() plus bare columns, which SQLite fills
 * from the row holding the extreme — is run here in C: chunk by chunk over
 * storage_scan_iter with the same pushdown the virtual table would get, in
 * segments of consecutive rows with the same tags and bucket (rows come
 * sorted by series then time), one group lookup per segment and a tight
 * loop per aggregate. Anything else is declined (SQL_FASTAGG_DECLINED) and
 * runs through SQLite. Cases whose SQLite result depends on row order or
 * raises an error (a tie of the extreme when bare columns are read, a group
 * of only NULLs with several rows feeding bare columns, integer overflow in
 * sum, a uint64 above INT64_MAX, date_bin out of range) are found during the
 * scan, before anything is written, and the statement then falls back too.
 *
 * The arithmetic is SQLite 3.40's: sum() keeps an exact int64 sum until a
 * real appears and a plain double sum beside it; avg() is that double over
 * the count; min/max compare strictly, so the first extreme stays; NaN reads
 * as NULL (as sqlite3_result_double makes it). Later SQLite versions changed
 * the float summation (Kahan-Babuska-Neumaier from 3.43), so sum/avg/total
 * of reals decline when the linked SQLite is 3.43 or newer.
 *
 * Output order: with ORDER BY (which must name every group key) that order;
 * without, SQLite's GROUP BY order — ascending by the keys in GROUP BY order,
 * NULL first, text compared bytewise (BINARY).
 *
 * Switches: SLUICE_SQL_FASTAGG=0 in the environment (read once) turns the
 * path off; a comment containing no_fastagg anywhere in the query (say
 * "-- no_fastagg") turns it off for that query (the differential tests use it).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/catalog.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/sql/sql_int.h"
#include "storage/engine.h"
#include "storage/scan.h"

#include "query/sql/fastagg_int.h"

/* ---- switches and counters ---- */

static atomic_uint_fast64_t n_taken, n_declined, n_fellback;
static int fa_enabled = 1;
static pthread_once_t fa_once = PTHREAD_ONCE_INIT;

static void read_env(void)
{
    const char *s = getenv("SLUICE_SQL_FASTAGG");
    if (s && (!strcmp(s, "0") || !strcasecmp(s, "off") || !strcasecmp(s, "false"))) fa_enabled = 0;
}

void sql_fastagg_counters(uint64_t *taken, uint64_t *declined, uint64_t *fellback)
{
    if (taken) *taken = atomic_load(&n_taken);
    if (declined) *declined = atomic_load(&n_declined);
    if (fellback) *fellback = atomic_load(&n_fellback);
}

/* ---- execution ---- */

struct fa_st {
    int64_t cnt;
    int64_t isum; /* sum; min/max of integers */
    double rsum;  /* sum; min/max of reals */
    uint8_t approx, overflow, has;
};

struct fa_val {
    enum fa_cls cls;
    int64_t i;
    double f;
    char *s;
    size_t n;
};

struct fa_group {
    uint32_t tuple;
    int64_t bucket;
    /* bare-column bookkeeping */
    int64_t bare_row; /* row of the current chunk to load, -1 none */
    uint64_t bare_gen;
    int64_t null_loads; /* rows loaded while the extreme was still NULL */
    uint8_t tie;
};

struct fa_run {
    struct fa_plan *p;
    /* tag tuples: ntk strings each */
    struct scan_str *tstr; /* ptr NULL = NULL value */
    size_t ntuples, tcap;
    uint32_t *thash; /* open addressing: tuple + 1 */
    size_t thcap;
    /* groups */
    struct fa_group *g;
    struct fa_st *st;  /* ngroups * naggs */
    struct fa_val *bv; /* ngroups * nbare */
    size_t ngroups, gcap;
    uint32_t *ghash; /* group + 1 */
    size_t ghcap;
    uint32_t *touched;
    size_t ntouched, tcap2;
    uint64_t gen;
    int bail; /* SQLite's answer would depend on order or be an error */
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t str_hash(const char *p, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 0x100000001b3ULL;
    return mix64(h ^ n);
}

/* The tag value of key column j at row r (ptr NULL = NULL). */
static inline struct scan_str tag_at(const struct buf_col *c, size_t r)
{
    struct scan_str s = {NULL, 0};
    if (c && c->present && c->valid[r]) {
        s.ptr = c->v.s[r].ptr;
        s.len = c->v.s[r].len;
    }
    return s;
}

static inline int str_eq(struct scan_str a, struct scan_str b)
{
    if (!a.ptr || !b.ptr) return a.ptr == b.ptr;
    return a.len == b.len && (a.ptr == b.ptr || !memcmp(a.ptr, b.ptr, a.len));
}

static int tuple_intern(struct fa_run *R, const struct buf_col *const *tc, size_t r, uint32_t *out)
{
    size_t ntk = R->p->ntk;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    struct scan_str v[FA_MAX_KEYS];
    for (size_t j = 0; j < ntk; j++) {
        v[j] = tag_at(tc[j], r);
        h = v[j].ptr ? str_hash(v[j].ptr, v[j].len, h) : mix64(h + 1);
    }
    if (R->ntuples * 2 >= R->thcap) {
        size_t cap = R->thcap ? R->thcap * 2 : 1024;
        uint32_t *nh = sl_calloc(cap, sizeof(*nh));
        if (!nh) return SL_ENOMEM;
        for (size_t i = 0; i < R->thcap; i++)
            if (R->thash[i]) {
                uint32_t t = R->thash[i] - 1;
                uint64_t hh = 0x9e3779b97f4a7c15ULL;
                for (size_t j = 0; j < ntk; j++) {
                    struct scan_str s = R->tstr[(size_t)t * ntk + j];
                    hh = s.ptr ? str_hash(s.ptr, s.len, hh) : mix64(hh + 1);
                }
                size_t at = hh & (cap - 1);
                while (nh[at])
                    at = (at + 1) & (cap - 1);
                nh[at] = t + 1;
            }
        sl_free(R->thash);
        R->thash = nh;
        R->thcap = cap;
    }
    size_t at = h & (R->thcap - 1);
    while (R->thash[at]) {
        uint32_t t = R->thash[at] - 1;
        size_t j = 0;
        for (; j < ntk; j++)
            if (!str_eq(R->tstr[(size_t)t * ntk + j], v[j])) break;
        if (j == ntk) {
            *out = t;
            return 0;
        }
        at = (at + 1) & (R->thcap - 1);
    }
    if (R->ntuples >= UINT32_MAX - 1) return SL_ETOOBIG;
    if ((R->ntuples + 1) * ntk > R->tcap) {
        size_t cap = R->tcap ? R->tcap * 2 : 256 * ntk;
        struct scan_str *ns = sl_realloc(R->tstr, cap * sizeof(*ns));
        if (!ns) return SL_ENOMEM;
        R->tstr = ns;
        R->tcap = cap;
    }
    for (size_t j = 0; j < ntk; j++) {
        struct scan_str *d = &R->tstr[R->ntuples * ntk + j];
        d->len = v[j].len;
        d->ptr = NULL;
        if (v[j].ptr) {
            char *c = sl_malloc(v[j].len + 1);
            if (!c) return SL_ENOMEM;
            memcpy(c, v[j].ptr, v[j].len);
            c[v[j].len] = '\0';
            d->ptr = c;
        }
    }
    R->thash[at] = (uint32_t)R->ntuples + 1;
    *out = (uint32_t)R->ntuples++;
    return 0;
}

static int group_get(struct fa_run *R, uint32_t tuple, int64_t bucket, size_t *out)
{
    struct fa_plan *p = R->p;
    if (R->ngroups * 2 >= R->ghcap) {
        size_t cap = R->ghcap ? R->ghcap * 2 : 1024;
        uint32_t *nh = sl_calloc(cap, sizeof(*nh));
        if (!nh) return SL_ENOMEM;
        for (size_t i = 0; i < R->ngroups; i++) {
            size_t at = mix64(((uint64_t)R->g[i].tuple << 32) ^ mix64((uint64_t)R->g[i].bucket)) &
                        (cap - 1);
            while (nh[at])
                at = (at + 1) & (cap - 1);
            nh[at] = (uint32_t)i + 1;
        }
        sl_free(R->ghash);
        R->ghash = nh;
        R->ghcap = cap;
    }
    size_t at = mix64(((uint64_t)tuple << 32) ^ mix64((uint64_t)bucket)) & (R->ghcap - 1);
    while (R->ghash[at]) {
        size_t gi = R->ghash[at] - 1;
        if (R->g[gi].tuple == tuple && R->g[gi].bucket == bucket) {
            *out = gi;
            return 0;
        }
        at = (at + 1) & (R->ghcap - 1);
    }
    if (R->ngroups >= UINT32_MAX - 1) return SL_ETOOBIG;
    if (R->ngroups == R->gcap) {
        size_t cap = R->gcap ? R->gcap * 2 : 256;
        struct fa_group *ng = sl_realloc(R->g, cap * sizeof(*ng));
        if (!ng) return SL_ENOMEM;
        R->g = ng;
        struct fa_st *ns = sl_realloc(R->st, cap * (p->naggs ? p->naggs : 1) * sizeof(*ns));
        if (!ns) return SL_ENOMEM;
        R->st = ns;
        if (p->nbare) {
            struct fa_val *nb = sl_realloc(R->bv, cap * p->nbare * sizeof(*nb));
            if (!nb) return SL_ENOMEM;
            R->bv = nb;
        }
        R->gcap = cap;
    }
    size_t gi = R->ngroups++;
    R->g[gi] = (struct fa_group){.tuple = tuple, .bucket = bucket, .bare_row = -1};
    memset(&R->st[gi * p->naggs], 0, p->naggs * sizeof(*R->st));
    if (p->nbare) memset(&R->bv[gi * p->nbare], 0, p->nbare * sizeof(*R->bv));
    R->ghash[at] = (uint32_t)gi + 1;
    *out = gi;
    return 0;
}

/* Notes that group gi must load its bare columns from row r of this chunk. */
static int bare_load(struct fa_run *R, size_t gi, size_t r)
{
    struct fa_group *g = &R->g[gi];
    g->bare_row = (int64_t)r;
    if (g->bare_gen != R->gen) {
        g->bare_gen = R->gen;
        if (R->ntouched == R->tcap2) {
            size_t cap = R->tcap2 ? R->tcap2 * 2 : 256;
            uint32_t *nt = sl_realloc(R->touched, cap * sizeof(*nt));
            if (!nt) return SL_ENOMEM;
            R->touched = nt;
            R->tcap2 = cap;
        }
        R->touched[R->ntouched++] = (uint32_t)gi;
    }
    return 0;
}

/* Copies the bare columns of the touched groups out of the chunk. */
static int bare_flush(struct fa_run *R, const struct scan_chunk *ch)
{
    struct fa_plan *p = R->p;
    for (size_t i = 0; i < R->ntouched; i++) {
        struct fa_group *g = &R->g[R->touched[i]];
        size_t r = (size_t)g->bare_row;
        for (size_t b = 0; b < p->nbare; b++) {
            struct fa_val *v = &R->bv[(size_t)R->touched[i] * p->nbare + b];
            uint32_t col = p->bare[b];
            sl_free(v->s);
            memset(v, 0, sizeof(*v));
            if (col == 0) {
                v->cls = FC_INT;
                v->i = ch->time[r];
                continue;
            }
            const struct buf_col *c = col < ch->ncols ? &ch->cols[col] : NULL;
            if (!c || !c->present || !c->valid[r]) continue;
            switch (c->type) {
            case LP_FLOAT:
                if (!isnan(c->v.f[r])) {
                    v->cls = FC_REAL;
                    v->f = c->v.f[r];
                }
                break;
            case LP_INTEGER:
                v->cls = FC_INT;
                v->i = c->v.i[r];
                break;
            case LP_UNSIGNED:
                if (c->v.u[r] <= (uint64_t)INT64_MAX) {
                    v->cls = FC_INT;
                    v->i = (int64_t)c->v.u[r];
                } else {
                    v->cls = FC_REAL;
                    v->f = (double)c->v.u[r];
                }
                break;
            case LP_BOOLEAN:
                v->cls = FC_INT;
                v->i = c->v.b[r] ? 1 : 0;
                break;
            case LP_STRING:
                v->s = sl_malloc(c->v.s[r].len + 1);
                if (!v->s) return SL_ENOMEM;
                memcpy(v->s, c->v.s[r].ptr, c->v.s[r].len);
                v->s[c->v.s[r].len] = '\0';
                v->n = c->v.s[r].len;
                v->cls = FC_TEXT;
                break;
            }
        }
        g->bare_row = -1;
    }
    R->ntouched = 0;
    return 0;
}

/* Aggregates rows [r0, r1) of column c into st. Returns 0, or 1 to bail. */
static int agg_segment(struct fa_run *R, const struct fa_agg *a, struct fa_st *st,
                       const struct scan_chunk *ch, size_t r0, size_t r1, size_t gi, int bare)
{
    if (a->fn == FN_COUNT_STAR || (a->fn == FN_COUNT && a->col == 0)) {
        st->cnt += (int64_t)(r1 - r0);
        return 0;
    }
    const struct buf_col *c = NULL;
    if (a->col != 0) {
        c = a->col < ch->ncols ? &ch->cols[a->col] : NULL;
        if (c && c->present) {
            enum lp_type want = a->ct == CT_REAL   ? LP_FLOAT
                                : a->ct == CT_INT  ? LP_INTEGER
                                : a->ct == CT_UINT ? LP_UNSIGNED
                                : a->ct == CT_BOOL ? LP_BOOLEAN
                                                   : LP_STRING;
            if (c->type != want) return 1;
        } else
            c = NULL;
    }
    if (!c && a->col != 0) { /* all NULL */
        if (bare && !st->has)
            for (size_t r = r0; r < r1; r++) {
                R->g[gi].null_loads++;
                if (bare_load(R, gi, r) < 0) return -1;
            }
        return 0;
    }
    const uint8_t *valid = c ? c->valid : NULL;
    if (a->fn == FN_COUNT) {
        int64_t n = 0;
        if (a->ct == CT_REAL)
            for (size_t r = r0; r < r1; r++)
                n += valid[r] && !isnan(c->v.f[r]);
        else
            for (size_t r = r0; r < r1; r++)
                n += valid[r];
        st->cnt += n;
        return 0;
    }
    int ismax = a->fn == FN_MAX;
    if (a->ct == CT_REAL) {
        const double *v = c->v.f;
        if (a->fn == FN_MIN || a->fn == FN_MAX) {
            for (size_t r = r0; r < r1; r++) {
                if (!valid[r] || isnan(v[r])) {
                    if (bare && !st->has) {
                        R->g[gi].null_loads++;
                        if (bare_load(R, gi, r) < 0) return -1;
                    }
                    continue;
                }
                if (!st->has || (ismax ? v[r] > st->rsum : v[r] < st->rsum)) {
                    st->rsum = v[r];
                    st->has = 1;
                    R->g[gi].tie = 0;
                    if (bare && bare_load(R, gi, r) < 0) return -1;
                } else if (bare && v[r] == st->rsum)
                    R->g[gi].tie = 1;
            }
            return 0;
        }
        int64_t n = 0;
        double s = st->rsum;
        for (size_t r = r0; r < r1; r++)
            if (valid[r] && !isnan(v[r])) {
                s += v[r];
                n++;
            }
        st->rsum = s;
        if (n) st->approx = 1;
        st->cnt += n;
        return 0;
    }
    /* integers: time, int, uint (up to INT64_MAX), bool */
    for (size_t r = r0; r < r1; r++) {
        int64_t x;
        switch (a->ct) {
        case CT_TIME: x = ch->time[r]; break;
        case CT_INT:
            if (!valid[r]) goto null;
            x = c->v.i[r];
            break;
        case CT_UINT:
            if (!valid[r]) goto null;
            if (c->v.u[r] > (uint64_t)INT64_MAX) return 1;
            x = (int64_t)c->v.u[r];
            break;
        case CT_BOOL:
            if (!valid[r]) goto null;
            x = c->v.b[r] ? 1 : 0;
            break;
        default: return 1;
        }
        if (a->fn == FN_MIN || a->fn == FN_MAX) {
            if (!st->has || (ismax ? x > st->isum : x < st->isum)) {
                st->isum = x;
                st->has = 1;
                R->g[gi].tie = 0;
                if (bare && bare_load(R, gi, r) < 0) return -1;
            } else if (bare && x == st->isum)
                R->g[gi].tie = 1;
        } else {
            st->cnt++;
            st->rsum += (double)x;
            if (!(st->approx | st->overflow) && __builtin_add_overflow(st->isum, x, &st->isum))
                st->approx = st->overflow = 1;
        }
        continue;
    null:
        if (bare && !st->has) {
            R->g[gi].null_loads++;
            if (bare_load(R, gi, r) < 0) return -1;
        }
    }
    return 0;
}

/* Bucket of t: [*start, *last]; returns -1 when out of range (SQLite errors). */
static int bucket_of(const struct fa_key *k, int64_t t, int64_t *start, int64_t *last)
{
    __int128 d = (__int128)t - k->origin;
    __int128 q = d / k->stride;
    if (d % k->stride != 0 && d < 0) q--;
    __int128 s = (__int128)k->origin + q * k->stride;
    if (s < INT64_MIN || s > INT64_MAX) return -1;
    __int128 l = s + k->stride - 1;
    *start = (int64_t)s;
    *last = l > INT64_MAX ? INT64_MAX : (int64_t)l;
    return 0;
}

static int process_chunk(struct fa_run *R, const struct scan_chunk *ch)
{
    struct fa_plan *p = R->p;
    const struct buf_col *tc[FA_MAX_KEYS];
    for (size_t j = 0; j < p->ntk; j++) {
        uint32_t col = p->tagcols[j];
        tc[j] = col < ch->ncols && ch->cols[col].present ? &ch->cols[col] : NULL;
        if (tc[j] && tc[j]->type != LP_STRING) return 1;
    }
    const struct fa_key *bk = p->bucket_key >= 0 ? &p->keys[p->bucket_key] : NULL;
    const int64_t *time = ch->time;
    size_t n = ch->nrows, r = 0, ref = 0;
    uint32_t tuple = 0;
    int have_tuple = 0;
    int64_t last_b = 0;
    uint32_t last_t = 0;
    size_t last_g = (size_t)-1;
    R->gen++;
    while (r < n) {
        if (p->ntk) {
            int same = have_tuple;
            for (size_t j = 0; j < p->ntk && same; j++)
                same = str_eq(tag_at(tc[j], r), tag_at(tc[j], ref));
            if (!same) {
                int rc = tuple_intern(R, tc, r, &tuple);
                if (rc < 0) return rc;
                ref = r;
                have_tuple = 1;
            }
        }
        int64_t bs = INT64_MIN, bl = INT64_MAX;
        if (bk && bucket_of(bk, time[r], &bs, &bl) < 0) return 1;
        size_t e = r + 1;
        if (p->ntk == 0)
            while (e < n && time[e] >= bs && time[e] <= bl)
                e++;
        else
            for (; e < n && time[e] >= bs && time[e] <= bl; e++) {
                int same = 1;
                for (size_t j = 0; j < p->ntk && same; j++) {
                    const struct buf_col *c = tc[j];
                    if (!c) continue;
                    if (c->valid[e] != c->valid[ref]) {
                        same = 0;
                        break;
                    }
                    if (!c->valid[e]) continue;
                    const struct buf_str *x = &c->v.s[e], *y = &c->v.s[ref];
                    same =
                        x->ptr == y->ptr || (x->len == y->len && !memcmp(x->ptr, y->ptr, x->len));
                }
                if (!same) break;
            }
        size_t gi;
        if (last_g != (size_t)-1 && last_t == tuple && last_b == bs)
            gi = last_g;
        else {
            int rc = group_get(R, tuple, bs, &gi);
            if (rc < 0) return rc;
            last_g = gi;
            last_t = tuple;
            last_b = bs;
        }
        for (size_t a = 0; a < p->naggs; a++) {
            int rc = agg_segment(R, &p->aggs[a], &R->st[gi * p->naggs + a], ch, r, e, gi,
                                 p->nbare && (int)a == p->minmax);
            if (rc) return rc;
        }
        r = e;
    }
    return p->nbare ? bare_flush(R, ch) : 0;
}

static void run_release(struct fa_run *R)
{
    if (R->tstr)
        for (size_t i = 0; i < R->ntuples * R->p->ntk; i++)
            sl_free((char *)R->tstr[i].ptr);
    if (R->bv)
        for (size_t i = 0; i < R->ngroups * R->p->nbare; i++)
            sl_free(R->bv[i].s);
    sl_free(R->tstr);
    sl_free(R->thash);
    sl_free(R->g);
    sl_free(R->st);
    sl_free(R->bv);
    sl_free(R->ghash);
    sl_free(R->touched);
}

/* ---- output ---- */

static _Thread_local struct fa_run *sort_run;

static int cmp_str(struct scan_str a, struct scan_str b)
{
    if (!a.ptr || !b.ptr) return !a.ptr ? (b.ptr ? -1 : 0) : 1;
    size_t m = a.len < b.len ? a.len : b.len;
    int c = memcmp(a.ptr, b.ptr, m);
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

static int group_cmp(const void *x, const void *y)
{
    const struct fa_run *R = sort_run;
    const struct fa_plan *p = R->p;
    const struct fa_group *a = &R->g[*(const uint32_t *)x], *b = &R->g[*(const uint32_t *)y];
    for (size_t i = 0; i < p->norder; i++) {
        const struct fa_key *k = &p->keys[p->order[i].key];
        int c;
        if (k->bucket)
            c = a->bucket < b->bucket ? -1 : a->bucket > b->bucket;
        else
            c = cmp_str(R->tstr[(size_t)a->tuple * p->ntk + k->tagi],
                        R->tstr[(size_t)b->tuple * p->ntk + k->tagi]);
        if (c) return p->order[i].desc ? -c : c;
    }
    return 0;
}

static void put_value(struct qout_value *v, uint8_t kind, enum fa_cls cls, int64_t i, double f,
                      const char *s, size_t n)
{
    if (cls == FC_REAL && isnan(f)) cls = FC_NULL;
    switch (cls) {
    case FC_INT:
        v->v.i = i;
        v->type = kind == 1 ? QOUT_TIME : QOUT_INT;
        if (kind == 2) {
            v->type = QOUT_BOOL;
            v->v.b = i != 0;
        }
        break;
    case FC_REAL:
        v->type = QOUT_FLOAT;
        v->v.f = f;
        break;
    case FC_TEXT:
        v->type = QOUT_STRING;
        v->v.s.ptr = s;
        v->v.s.len = n;
        break;
    default: v->type = QOUT_NULL;
    }
}

/* The value of aggregate a of group gi; returns 1 when SQLite would fail. */
static int agg_value(const struct fa_run *R, size_t gi, size_t a, uint8_t kind,
                     struct qout_value *v)
{
    const struct fa_agg *ag = &R->p->aggs[a];
    const struct fa_st *st = &R->st[gi * R->p->naggs + a];
    switch (ag->fn) {
    case FN_COUNT_STAR:
    case FN_COUNT: put_value(v, kind, FC_INT, st->cnt, 0, NULL, 0); break;
    case FN_SUM:
        if (!st->cnt)
            put_value(v, kind, FC_NULL, 0, 0, NULL, 0);
        else if (st->overflow)
            return 1;
        else if (st->approx)
            put_value(v, kind, FC_REAL, 0, st->rsum, NULL, 0);
        else
            put_value(v, kind, FC_INT, st->isum, 0, NULL, 0);
        break;
    case FN_AVG:
        put_value(v, kind, st->cnt ? FC_REAL : FC_NULL, 0, st->cnt ? st->rsum / (double)st->cnt : 0,
                  NULL, 0);
        break;
    case FN_TOTAL: put_value(v, kind, FC_REAL, 0, st->rsum, NULL, 0); break;
    case FN_MIN:
    case FN_MAX:
        if (!st->has)
            put_value(v, kind, FC_NULL, 0, 0, NULL, 0);
        else if (ag->ct == CT_REAL)
            put_value(v, kind, FC_REAL, 0, st->rsum, NULL, 0);
        else
            put_value(v, kind, FC_INT, st->isum, 0, NULL, 0);
        break;
    }
    return 0;
}

/* ---- entry ---- */

/* A statement's tokens (the plan's aliases point into them) and plan. */
struct fa_prep {
    struct sql_token *all, *tk;
    struct fa_plan *p;
};

static void fa_prep_release(struct fa_prep *x)
{
    if (x->p) {
        sl_free(x->p->vals);
        sl_buf_release(&x->p->strs);
    }
    sl_free(x->p);
    sl_free(x->tk);
    sl_free(x->all);
    memset(x, 0, sizeof(*x));
}

/* Recognises the statement: 0 with x->p the plan, SQL_FASTAGG_DECLINED
 * (*why says why) or SL_ENOMEM. x is released by the caller either way. */
static int fa_prepare(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                      sqlite3_stmt *stmt, struct fa_prep *x, const char **why)
{
    pthread_once(&fa_once, read_env);
    *why = "the statement's shape is not one it handles";
    if (!fa_enabled) {
        *why = "switched off (SLUICE_SQL_FASTAGG)";
        return SQL_FASTAGG_DECLINED;
    }
    if (sqlite3_bind_parameter_count(stmt) > 0) {
        *why = "the statement has parameters";
        return SQL_FASTAGG_DECLINED;
    }
    char terr[64];
    int nt = sql_tokenize(rw->sql.ptr, rw->sql.len, &x->all, terr, sizeof(terr));
    if (nt < 0) return SQL_FASTAGG_DECLINED;
    x->tk = sl_malloc(((size_t)nt + 1) * sizeof(*x->tk));
    x->p = sl_calloc(1, sizeof(*x->p));
    if (!x->tk || !x->p) return SL_ENOMEM;
    struct fa_plan *p = x->p;
    struct sql_token *tk = x->tk;
    sl_buf_init(&p->strs, 0);
    size_t ns = 0;
    for (int i = 0; i < nt; i++) {
        if (x->all[i].type == SQLT_SPACE) {
            /* the per-query switch: a comment holding no_fastagg */
            for (size_t k = 0; k + 10 <= x->all[i].n; k++)
                if (!strncasecmp(x->all[i].p + k, "no_fastagg", 10)) {
                    *why = "switched off by a no_fastagg comment";
                    return SQL_FASTAGG_DECLINED;
                }
            continue;
        }
        tk[ns++] = x->all[i];
    }
    /* the table, found as create_tables finds it */
    size_t from = 0;
    for (size_t k = 0; k < ns; k++)
        if (fa_is_kw(&tk[k], "FROM")) {
            from = k;
            break;
        }
    if (!from || from + 1 >= ns) return SQL_FASTAGG_DECLINED;
    char name[256];
    if (fa_ident_text(&tk[from + 1], name, sizeof(name)) < 0) return SQL_FASTAGG_DECLINED;
    struct cat_table *tb = NULL;
    int nci = 0;
    for (size_t k = 0; k < ctx->db->ntables; k++) {
        struct cat_table *ct = ctx->db->tables[k];
        if (ct->deleted) continue;
        if (!strcasecmp(ct->name, name)) {
            nci++;
            tb = ct;
        }
    }
    if (nci != 1) return SQL_FASTAGG_DECLINED;
    p->t = tb;
    p->min_time = INT64_MIN;
    p->max_time = INT64_MAX;
    struct fa_parse ps = {.t = tk, .n = ns, .p = p, .db = db};
    if (fa_parse_plan(&ps) < 0) return SQL_FASTAGG_DECLINED;
    if ((size_t)sqlite3_column_count(stmt) != p->nitems) return SQL_FASTAGG_DECLINED;
    /* SQLite 3.43 changed how sum() adds reals */
    if (sqlite3_libversion_number() >= 3043000)
        for (size_t a = 0; a < p->naggs; a++)
            if (p->aggs[a].ct == CT_REAL &&
                (p->aggs[a].fn == FN_SUM || p->aggs[a].fn == FN_AVG || p->aggs[a].fn == FN_TOTAL)) {
                *why = "sum/avg of floats: SQLite's own summation decides the digits";
                return SQL_FASTAGG_DECLINED;
            }
    return 0;
}

int sql_fastagg_explain(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                        sqlite3_stmt *stmt, struct sl_buf *desc)
{
    static const char *const fn_name[] = {"count(*)", "count", "sum", "avg", "total", "min", "max"};
    struct fa_prep x = {0};
    const char *why;
    int rc = fa_prepare(db, ctx, rw, stmt, &x, &why);
    if (rc == SQL_FASTAGG_DECLINED) {
        rc = sl_buf_addf(desc, "none: SQLite runs the statement (vectorised aggregation: %s)", why);
        goto out;
    }
    if (rc < 0) goto out;
    const struct fa_plan *p = x.p;
    const struct cat_table *t = p->t;
    sl_buf_addf(desc, "vectorised aggregation over %s", t->name);
    char ts[48];
    if (p->empty)
        sl_buf_adds(desc, "; time range empty");
    else {
        if (p->min_time != INT64_MIN) {
            sl_time_format_rfc3339(p->min_time, ts);
            sl_buf_addf(desc, "; time >= %s", ts);
        }
        if (p->max_time != INT64_MAX) {
            sl_time_format_rfc3339(p->max_time, ts);
            sl_buf_addf(desc, "; time <= %s", ts);
        }
    }
    for (size_t k = 0; k < p->ntagf; k++)
        sl_buf_addf(desc, "; %s IN (%zu value%s)", t->cols[p->tagf[k].col].name, p->tagf[k].nvals,
                    p->tagf[k].nvals == 1 ? "" : "s");
    if (p->nkeys) sl_buf_adds(desc, "; groups by ");
    for (size_t k = 0; k < p->nkeys; k++) {
        if (k) sl_buf_adds(desc, ", ");
        if (p->keys[k].bucket)
            sl_buf_addf(desc, "date_bin(%lld ns)", (long long)p->keys[k].stride);
        else
            sl_buf_adds(desc, t->cols[p->keys[k].col].name);
    }
    if (p->naggs) sl_buf_adds(desc, "; aggregates ");
    for (size_t a = 0; a < p->naggs; a++) {
        if (a) sl_buf_adds(desc, ", ");
        if (p->aggs[a].fn == FN_COUNT_STAR)
            sl_buf_adds(desc, fn_name[FN_COUNT_STAR]);
        else
            sl_buf_addf(desc, "%s(%s)", fn_name[p->aggs[a].fn], t->cols[p->aggs[a].col].name);
    }
    if (p->nbare)
        sl_buf_addf(desc, "; %zu column%s of the extreme row", p->nbare, p->nbare == 1 ? "" : "s");
    if (p->limit >= 0) sl_buf_addf(desc, "; limit %lld", (long long)p->limit);
    rc = sl_buf_adds(desc, " (SQLite's plan is used if the data needs it)");
out:
    fa_prep_release(&x);
    return rc == SQL_FASTAGG_DECLINED ? 0 : rc;
}

int sql_fastagg_run(sqlite3 *db, struct sql_ctx *ctx, const struct sql_rewrite *rw,
                    sqlite3_stmt *stmt, const char *const *names, const uint8_t *kind,
                    enum qout_format f, int64_t deadline, struct sl_buf *out, char *err,
                    size_t errlen)
{
    struct fa_prep x = {0};
    struct fa_run R = {0};
    struct scan_iter *it = NULL;
    uint8_t *need = NULL;
    uint32_t *order = NULL;
    struct qout *o = NULL;
    struct qout_value *vals = NULL;
    const char *why;
    int rc = fa_prepare(db, ctx, rw, stmt, &x, &why);
    if (rc == SL_ENOMEM) goto nomem;
    if (rc != 0) goto out;
    rc = SQL_FASTAGG_DECLINED;
    struct fa_plan *p = x.p;
    struct cat_table *tb = p->t;

    /* scan */
    need = sl_calloc(tb->ncols ? tb->ncols : 1, 1);
    if (!need) goto nomem;
    need[0] = 1;
    for (size_t j = 0; j < p->ntk; j++)
        need[p->tagcols[j]] = 1;
    for (size_t a = 0; a < p->naggs; a++)
        need[p->aggs[a].col] = 1;
    for (size_t b = 0; b < p->nbare; b++)
        need[p->bare[b]] = 1;
    R.p = p;
    if (!p->empty) {
        struct scan_opts so;
        scan_opts_init(&so);
        so.min_time = p->min_time;
        so.max_time = p->max_time;
        so.need = need;
        so.nneed = tb->ncols;
        so.tags = p->tagf;
        so.ntags = p->ntagf;
        so.no_keys = 1;
        if (storage_scan_iter_open(ctx->e, ctx->db, tb, &so, &it) < 0) goto nomem;
        const struct scan_chunk *ch;
        int s;
        while ((s = storage_scan_iter_next(it, &ch)) > 0) {
            if (sl_mono_ns() > deadline) {
                snprintf(err, errlen, "query timed out");
                rc = SL_EBUSY;
                goto out;
            }
            int r = process_chunk(&R, ch);
            if (r < 0) {
                rc = r;
                snprintf(err, errlen, "%s", sl_strerror(r));
                goto out;
            }
            if (r > 0) {
                R.bail = 1;
                break;
            }
        }
        if (s < 0) {
            snprintf(err, errlen, "reading table \"%s\" failed: %s", tb->name, sl_strerror(s));
            rc = SL_EIO;
            goto out;
        }
    }
    for (size_t gi = 0; gi < R.ngroups && !R.bail && p->nbare; gi++) {
        const struct fa_group *g = &R.g[gi];
        if (g->tie || (!R.st[gi * p->naggs + p->minmax].has && g->null_loads > 1)) R.bail = 1;
    }
    for (size_t gi = 0; gi < R.ngroups && !R.bail; gi++)
        for (size_t a = 0; a < p->naggs; a++)
            if (p->aggs[a].fn == FN_SUM && R.st[gi * p->naggs + a].overflow) R.bail = 1;
    if (R.bail) {
        atomic_fetch_add(&n_fellback, 1);
        rc = SQL_FASTAGG_DECLINED;
        goto done;
    }

    /* sort and encode */
    order = sl_malloc((R.ngroups ? R.ngroups : 1) * sizeof(*order));
    vals = sl_calloc(p->nitems + 1, sizeof(*vals));
    if (!order || !vals) goto nomem;
    for (size_t i = 0; i < R.ngroups; i++)
        order[i] = (uint32_t)i;
    sort_run = &R;
    qsort(order, R.ngroups, sizeof(*order), group_cmp);
    sort_run = NULL;
    if ((rc = qout_open(f, out, names, p->nitems, &o)) < 0) {
        atomic_fetch_add(&n_taken, 1);
        goto done;
    }
    size_t first = (size_t)p->offset < R.ngroups ? (size_t)p->offset : R.ngroups;
    size_t last = R.ngroups;
    if (p->limit >= 0 && (size_t)p->limit < last - first) last = first + (size_t)p->limit;
    for (size_t i = first; i < last; i++) {
        size_t gi = order[i];
        const struct fa_group *g = &R.g[gi];
        for (size_t c = 0; c < p->nitems; c++) {
            const struct fa_item *itm = &p->items[c];
            if (itm->kind == IT_KEY) {
                const struct fa_key *k = &p->keys[itm->idx];
                if (k->bucket)
                    put_value(&vals[c], kind[c], FC_INT, g->bucket, 0, NULL, 0);
                else {
                    struct scan_str s = R.tstr[(size_t)g->tuple * p->ntk + k->tagi];
                    put_value(&vals[c], kind[c], s.ptr ? FC_TEXT : FC_NULL, 0, 0, s.ptr, s.len);
                }
            } else if (itm->kind == IT_AGG)
                agg_value(&R, gi, (size_t)itm->idx, kind[c], &vals[c]);
            else {
                const struct fa_val *bv = &R.bv[gi * p->nbare + (size_t)itm->idx];
                put_value(&vals[c], kind[c], bv->cls, bv->i, bv->f, bv->s, bv->n);
            }
        }
        if ((rc = qout_row(o, vals)) < 0) {
            snprintf(err, errlen, "the result is too large: %s", sl_strerror(rc));
            atomic_fetch_add(&n_taken, 1);
            goto done;
        }
    }
    rc = qout_finish(o);
    if (rc < 0) snprintf(err, errlen, "cannot encode the result: %s", sl_strerror(rc));
    atomic_fetch_add(&n_taken, 1); /* answered, even if the encoder failed */
    goto done;
nomem:
    rc = SL_ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto done;
out:
    if (rc == SQL_FASTAGG_DECLINED) atomic_fetch_add(&n_declined, 1);
done:
    qout_free(o);
    storage_scan_iter_close(it);
    if (x.p) run_release(&R);
    fa_prep_release(&x);
    sl_free(need);
    sl_free(order);
    sl_free(vals);
    return rc;
}
