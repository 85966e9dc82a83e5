/*
 * lp_parse.c — the streaming line-protocol parser (see lp.h for the
 * contract).
 *
 * Grammar (one point per line):
 *
 *   line        = ws* measurement ("," tag)* " "+ field ("," field)* (" "+ timestamp)? " "*
 *   tag         = key "=" key          ; non-empty key and value
 *   field       = key "=" value
 *   value       = float | int "i" | uint "u" | string | bool
 *   float       = "-"? (digits ("." digits?)? | "." digits) ([eE] [+-]? digits)?
 *   string      = '"' (any byte but '"' and '\', or '\' any byte)* '"'
 *   bool        = t | T | true | True | TRUE | f | F | false | False | FALSE
 *   timestamp   = "-"? digits
 *
 * Escapes: in the measurement "\," "\ " and "\\"; in tag keys, tag values and
 * field keys "\," "\=" "\ " and "\\"; in string values '\"' and "\\". Any
 * other backslash pair is kept literally (both bytes), and an element that
 * ends in a lone backslash is an error. Treating "\\" as one backslash
 * everywhere (as InfluxDB 3 does) makes every byte string representable,
 * which the serializer relies on for parse(serialize(p)) == p.
 *
 * Line ends: a line ends at the first LF that is not inside a quoted string
 * value; a CR right before that LF is dropped (CRLF input). Lines whose first
 * non-blank byte is '#' are comments and end at the next LF whatever it
 * holds; blank lines (spaces and tabs only) are skipped.
 *
 * Finding the end first (memchr for LF, then memchr for '"' to see whether
 * the quote-aware scan is needed) bounds every later scan by the line, so an
 * error anywhere in a line resumes at the next line.
 *
 * Strings in a point point into the input, or into p->scratch when the
 * element had escapes; scratch is sized to the line before the first copy so
 * earlier copies never move.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "common/err.h"
#include "common/mem.h"
#include "lp/lp.h"
#include "lp/lp_int.h"

/* Bytes that end (or need care in) an element. */
enum { C_COMMA = 1, C_SPACE = 2, C_EQ = 4, C_BSL = 8 };
#define MEAS_STOP (C_COMMA | C_SPACE | C_BSL)
#define KEY_STOP  (C_COMMA | C_SPACE | C_EQ | C_BSL)
#define VAL_STOP  (C_COMMA | C_SPACE)

static const unsigned char k_class[256] = {
    [','] = C_COMMA,
    [' '] = C_SPACE,
    ['='] = C_EQ,
    ['\\'] = C_BSL,
};

const char *lp_type_name(enum lp_type t)
{
    switch (t) {
    case LP_FLOAT: return "float";
    case LP_INTEGER: return "integer";
    case LP_UNSIGNED: return "unsigned";
    case LP_STRING: return "string";
    case LP_BOOLEAN: return "boolean";
    }
    return "unknown";
}

int lp_precision_parse(const char *s, enum lp_precision *out)
{
    static const struct {
        const char *name;
        enum lp_precision p;
    } names[] = {
        {"n", LP_PREC_NS},
        {"ns", LP_PREC_NS},
        {"nanosecond", LP_PREC_NS},
        {"u", LP_PREC_US},
        {"us", LP_PREC_US},
        {"\xc2\xb5s", LP_PREC_US},
        {"microsecond", LP_PREC_US},
        {"ms", LP_PREC_MS},
        {"millisecond", LP_PREC_MS},
        {"s", LP_PREC_S},
        {"second", LP_PREC_S},
        {"m", LP_PREC_M},
        {"h", LP_PREC_H},
        {"auto", LP_PREC_AUTO},
    };
    if (!s) return SL_EINVAL;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(s, names[i].name)) {
            *out = names[i].p;
            return 0;
        }
    }
    return SL_EINVAL;
}

int64_t lp_precision_ns(enum lp_precision p)
{
    switch (p) {
    case LP_PREC_US: return 1000LL;
    case LP_PREC_MS: return 1000000LL;
    case LP_PREC_S: return 1000000000LL;
    case LP_PREC_M: return 60LL * 1000000000LL;
    case LP_PREC_H: return 3600LL * 1000000000LL;
    default: return 1;
    }
}

void lp_parser_init(struct lp_parser *p, const char *buf, size_t len,
                    const struct lp_parser_opts *opts)
{
    memset(p, 0, sizeof(*p));
    p->buf = p->cur = buf;
    p->end = buf + len;
    if (opts) p->opts = *opts;
    if (!p->opts.max_name) p->opts.max_name = LP_MAX_NAME_DEFAULT;
    if (!p->opts.max_string) p->opts.max_string = LP_MAX_STRING_DEFAULT;
}

void lp_parser_release(struct lp_parser *p)
{
    sl_free(p->tags);
    sl_free(p->fields);
    sl_free(p->scratch);
    sl_free(p->order);
    p->tags = NULL;
    p->fields = NULL;
    p->scratch = NULL;
    p->order = NULL;
    p->tags_cap = p->fields_cap = p->scratch_cap = p->scratch_len = p->order_cap = 0;
}

/*
 * Returns the first byte in [q, e) whose class is in `stop` (a constant at
 * every call site, so the unused compares fold away), or e. SSE2 checks 16
 * bytes at a time; names and values are mostly 3 to 20 bytes long.
 */
static inline __attribute__((always_inline)) const char *find_stop(const char *q, const char *e,
                                                                   unsigned stop)
{
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), space = _mm_set1_epi8(' ');
    const __m128i eq = _mm_set1_epi8('='), bsl = _mm_set1_epi8('\\');
    while (e - q >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)q);
        __m128i m = _mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, space));
        if (stop & C_EQ) m = _mm_or_si128(m, _mm_cmpeq_epi8(v, eq));
        if (stop & C_BSL) m = _mm_or_si128(m, _mm_cmpeq_epi8(v, bsl));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask) return q + __builtin_ctz(mask);
        q += 16;
    }
#endif
    while (q < e && !(k_class[(unsigned char)*q] & stop))
        q++;
    return q;
}

/* ---- per-line state ---- */

struct line {
    struct lp_parser *p;
    const char *start; /* first byte of the line */
    const char *end;   /* line end (CR of a CRLF excluded) */
    const char *eol;   /* the LF ending the line, or the end of input */
    size_t extra;      /* LFs inside quoted strings of this line */
    struct lp_error *err;
    int nomem;
};

static const char *find_eol(const char *s, const char *e, size_t *nl);

__attribute__((format(printf, 3, 4))) static int fail(struct line *l, const char *at,
                                                      const char *fmt, ...)
{
    struct lp_error *e = l->err;
    e->column = (size_t)(at - l->start) + 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof(e->message), fmt, ap);
    va_end(ap);
    return -1;
}

/* Writes a quoted, shortened, printable copy of s into out (for messages). */
static const char *excerpt(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0, max = cap - 5;
    for (size_t i = 0; i < n && o < max; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
    }
    if (o < n && o == max) {
        out[o++] = '.', out[o++] = '.', out[o++] = '.';
    }
    out[o] = 0;
    return out;
}
#define EXC(s, n) excerpt((s), (n), (char[48]){0}, 48)

/* Sizes scratch for every unescaped copy of the current line before the
 * first one, so copies never move. The line may continue past l->end when a
 * later string holds an LF: find_eol() gives its true end. */
static int ensure_scratch(struct line *l)
{
    struct lp_parser *p = l->p;
    if (p->scratch_len != 0) return 0;
    size_t nl = 0;
    size_t need = (size_t)(find_eol(l->start, p->end, &nl) - l->start) + 1;
    if (p->scratch_cap >= need) return 0;
    char *s = sl_realloc(p->scratch, need);
    if (!s) {
        l->nomem = 1;
        return -1;
    }
    p->scratch = s;
    p->scratch_cap = need;
    return 0;
}

/* Whether n more bytes fit in scratch (always true when the parser and
 * find_eol agree on the line end; checked so that no input can overflow). */
static inline int scratch_room(const struct lp_parser *p, const char *d, size_t n)
{
    return (size_t)(d - p->scratch) + n <= p->scratch_cap;
}

/* Escape sets: which byte after a backslash is an escape in an element. */
enum esc_kind { ESC_MEAS, ESC_KEY };
static inline int is_escapable(enum esc_kind k, char c)
{
    if (c == ',' || c == ' ' || c == '\\') return 1;
    return k == ESC_KEY && c == '=';
}

/*
 * Scans a name (measurement, tag key/value, field key) starting at s. Stops
 * at a byte of class `stop` (other than a backslash) or at the line end.
 * Sets *out and *out_len to the unescaped name. Returns the stop position or
 * NULL after fail().
 */
static const char *scan_name_slow(struct line *l, const char *s, const char *q, unsigned stop,
                                  enum esc_kind ek, const char *what, const char **out,
                                  size_t *out_len);

static inline __attribute__((always_inline)) const char *
scan_name(struct line *l, const char *s, unsigned stop, enum esc_kind ek, const char *what,
          const char **out, size_t *out_len)
{
    const char *e = l->end, *q;
    if (stop == KEY_STOP)
        q = find_stop(s, e, KEY_STOP);
    else
        q = find_stop(s, e, MEAS_STOP);
    if (__builtin_expect(q < e && *q == '\\', 0))
        return scan_name_slow(l, s, q, stop, ek, what, out, out_len);
    *out = s;
    *out_len = (size_t)(q - s);
    if (__builtin_expect(*out_len > l->p->opts.max_name, 0))
        return fail(l, s, "%s is %zu bytes long, over the limit of %zu bytes", what, *out_len,
                    l->p->opts.max_name),
               NULL;
    return q;
}

/* scan_name() for a name with escapes: unescapes into scratch from q, the
 * first backslash. */
static __attribute__((noinline)) const char *scan_name_slow(struct line *l, const char *s,
                                                            const char *q, unsigned stop,
                                                            enum esc_kind ek, const char *what,
                                                            const char **out, size_t *out_len)
{
    const char *e = l->end;
    if (ensure_scratch(l) < 0) return NULL;
    struct lp_parser *p = l->p;
    char *d0 = p->scratch + p->scratch_len, *d = d0;
    memcpy(d, s, (size_t)(q - s));
    d += q - s;
    while (q < e) {
        char c = *q;
        if (!scratch_room(p, d, 2)) return fail(l, s, "%s cannot be parsed", what), NULL;
        if (c == '\\') {
            if (q + 1 == e)
                return fail(l, q, "%s ends with a lone backslash; write \\\\ for a backslash",
                            what),
                       NULL;
            if (is_escapable(ek, q[1])) {
                *d++ = q[1];
            } else {
                *d++ = '\\';
                *d++ = q[1];
            }
            q += 2;
            continue;
        }
        if (k_class[(unsigned char)c] & stop) break;
        *d++ = c;
        q++;
    }
    *out = d0;
    *out_len = (size_t)(d - d0);
    p->scratch_len += *out_len;
    if (*out_len > p->opts.max_name)
        return fail(l, s, "%s is %zu bytes long, over the limit of %zu bytes", what, *out_len,
                    p->opts.max_name),
               NULL;
    return q;
}

static int grow_tags(struct lp_parser *p, size_t need)
{
    if (need <= p->tags_cap) return 0;
    void *n = sl_grow(p->tags, &p->tags_cap, need, sizeof(*p->tags));
    if (!n) return -1;
    p->tags = n;
    return 0;
}

static int grow_fields(struct lp_parser *p, size_t need)
{
    if (need <= p->fields_cap) return 0;
    void *n = sl_grow(p->fields, &p->fields_cap, need, sizeof(*p->fields));
    if (!n) return -1;
    p->fields = n;
    return 0;
}

static inline int name_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    /* most keys differ in their first byte: decide without calling memcmp */
    if (an && bn && a[0] != b[0]) return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
    size_t n = an < bn ? an : bn;
    int c = memcmp(a, b, n);
    if (c) return c;
    return an < bn ? -1 : an > bn;
}

static int tag_cmp(const void *a, const void *b)
{
    const struct lp_tag *x = a, *y = b;
    return name_cmp(x->key, x->key_len, y->key, y->key_len);
}

void lp_sort_tags(struct lp_tag *tags, size_t n)
{
    size_t i = 1;
    while (i < n && tag_cmp(&tags[i - 1], &tags[i]) <= 0)
        i++;
    if (i >= n) return; /* already sorted: the common case */
    if (n > 24) {
        qsort(tags, n, sizeof(*tags), tag_cmp);
        return;
    }
    for (; i < n; i++) {
        struct lp_tag t = tags[i];
        size_t j = i;
        while (j > 0 && tag_cmp(&tags[j - 1], &t) > 0) {
            tags[j] = tags[j - 1];
            j--;
        }
        tags[j] = t;
    }
}

static int is_time_key(const char *k, size_t n)
{
    return n == 4 && !memcmp(k, "time", 4);
}

/* ---- field values ---- */

/* A string ran past the current line end (it holds an LF): the line goes on
 * to the LF after the closing quote q. */
static void extend_line(struct line *l, const char *q)
{
    const char *E = l->p->end;
    for (const char *x = l->end; x < q; x++) {
        x = memchr(x, '\n', (size_t)(q - x));
        if (!x) break;
        l->extra++;
    }
    const char *lf = q + 1 < E ? memchr(q + 1, '\n', (size_t)(E - q - 1)) : NULL;
    l->eol = lf ? lf : E;
    l->end = l->eol;
    if (l->end > q + 1 && l->end[-1] == '\r') l->end--;
}

static const char *parse_string(struct line *l, const char *s, struct lp_field *f)
{
    /* s points at the opening quote; a string may run across LFs, so the
     * bound is the end of input, not of the line */
    const char *E = l->p->end, *q = s + 1, *b = q;
    for (;;) {
        const char *hit = q;
        while (hit < E && *hit != '"' && *hit != '\\')
            hit++;
        if (hit == E)
            return fail(l, s, "unterminated string value for field \"%s\": missing closing quote",
                        EXC(f->key, f->key_len)),
                   NULL;
        if (*hit == '"') {
            q = hit;
            break;
        }
        if (hit + 1 == E)
            return fail(l, hit,
                        "unterminated string value for field \"%s\": it ends with a backslash",
                        EXC(f->key, f->key_len)),
                   NULL;
        goto escaped;
    }
    f->v.s.ptr = b;
    f->v.s.len = (size_t)(q - b);
    goto done;
escaped:
    /* slow path: copy with unescaping */
    if (ensure_scratch(l) < 0) return NULL;
    {
        struct lp_parser *p = l->p;
        char *d0 = p->scratch + p->scratch_len, *d = d0;
        q = b;
        while (q < E && *q != '"') {
            if (!scratch_room(p, d, 2))
                return fail(l, s, "string value of field \"%s\" cannot be parsed",
                            EXC(f->key, f->key_len)),
                       NULL;
            if (*q == '\\') {
                if (q + 1 == E) break;
                if (q[1] == '"' || q[1] == '\\') {
                    *d++ = q[1];
                } else {
                    *d++ = '\\';
                    *d++ = q[1];
                }
                q += 2;
                continue;
            }
            *d++ = *q++;
        }
        if (q >= E || *q != '"')
            return fail(l, s, "unterminated string value for field \"%s\": missing closing quote",
                        EXC(f->key, f->key_len)),
                   NULL;
        f->v.s.ptr = d0;
        f->v.s.len = (size_t)(d - d0);
        p->scratch_len += f->v.s.len;
    }
done:
    if (q >= l->end) extend_line(l, q);
    if (f->v.s.len > l->p->opts.max_string)
        return fail(l, s,
                    "string value of field \"%s\" is %zu bytes long, over the limit of %zu bytes",
                    EXC(f->key, f->key_len), f->v.s.len, l->p->opts.max_string),
               NULL;
    f->type = LP_STRING;
    q++; /* closing quote */
    const char *e = l->end;
    if (q < e && *q != ',' && *q != ' ')
        return fail(l, q,
                    "unexpected '%c' after the string value of field \"%s\"; expected ',' or a "
                    "space",
                    *q, EXC(f->key, f->key_len)),
               NULL;
    return q;
}

static int parse_bool(const char *s, size_t n, int *out)
{
    switch (n) {
    case 1:
        if (*s == 't' || *s == 'T') return *out = 1, 1;
        if (*s == 'f' || *s == 'F') return *out = 0, 1;
        return 0;
    case 4:
        if (!memcmp(s, "true", 4) || !memcmp(s, "True", 4) || !memcmp(s, "TRUE", 4))
            return *out = 1, 1;
        return 0;
    case 5:
        if (!memcmp(s, "false", 5) || !memcmp(s, "False", 5) || !memcmp(s, "FALSE", 5))
            return *out = 0, 1;
        return 0;
    }
    return 0;
}

static const char k_value_help[] =
    "expected a number, integer (12i), unsigned (12u), string (\"...\") or boolean";

static const char *parse_value(struct line *l, const char *s, struct lp_field *f)
{
    const char *e = l->end;
    if (s == e || *s == ' ' || *s == ',')
        return fail(l, s, "missing value for field \"%s\"; %s", EXC(f->key, f->key_len),
                    k_value_help),
               NULL;
    if (*s == '"') return parse_string(l, s, f);
    const char *q = find_stop(s, e, VAL_STOP);
    size_t n = (size_t)(q - s);
    char last = q[-1];
    enum lp_num_rc rc;
    if (*s == 't' || *s == 'T' || *s == 'f' || *s == 'F') {
        if (!parse_bool(s, n, &f->v.b)) goto bad;
        f->type = LP_BOOLEAN;
        return q;
    }
    if (last == 'i') {
        rc = lp_parse_int(s, n - 1, &f->v.i);
        if (rc == LP_NUM_RANGE)
            return fail(l, s,
                        "integer value %s for field \"%s\" is out of range "
                        "(-9223372036854775808i to 9223372036854775807i)",
                        EXC(s, n), EXC(f->key, f->key_len)),
                   NULL;
        if (rc != LP_NUM_OK) goto bad;
        f->type = LP_INTEGER;
        return q;
    }
    if (last == 'u') {
        rc = lp_parse_uint(s, n - 1, &f->v.u);
        if (rc == LP_NUM_RANGE)
            return fail(l, s,
                        "unsigned value %s for field \"%s\" is out of range (0u to "
                        "18446744073709551615u)",
                        EXC(s, n), EXC(f->key, f->key_len)),
                   NULL;
        if (rc != LP_NUM_OK) {
            if (*s == '-' && n > 2 && lp_parse_uint(s + 1, n - 2, &f->v.u) != LP_NUM_SYNTAX)
                return fail(l, s,
                            "unsigned value %s for field \"%s\" is negative; use an integer "
                            "(%.*si) instead",
                            EXC(s, n), EXC(f->key, f->key_len), (int)(n - 1), s),
                       NULL;
            goto bad;
        }
        f->type = LP_UNSIGNED;
        return q;
    }
    rc = lp_parse_float(s, n, &f->v.f);
    if (rc == LP_NUM_OK) {
        f->type = LP_FLOAT;
        return q;
    }
    if (rc == LP_NUM_NOMEM) {
        l->nomem = 1;
        return NULL;
    }
    if (rc == LP_NUM_RANGE)
        return fail(l, s, "float value %s for field \"%s\" is out of range (beyond +-1.8e308)",
                    EXC(s, n), EXC(f->key, f->key_len)),
               NULL;
bad:
    return fail(l, s, "invalid field value \"%s\" for field \"%s\": %s", EXC(s, n),
                EXC(f->key, f->key_len), k_value_help),
           NULL;
}

/* ---- duplicate field keys ---- */

static int field_cmp_idx(const void *a, const void *b, void *ctx)
{
    const struct lp_field *f = ctx;
    const struct lp_field *x = &f[*(const size_t *)a], *y = &f[*(const size_t *)b];
    int c = name_cmp(x->key, x->key_len, y->key, y->key_len);
    if (c) return c;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Returns the index of the second occurrence of a duplicated key, or -1
 * (-2 on allocation failure). */
static long find_dup_field(struct lp_parser *p, size_t n)
{
    struct lp_field *f = p->fields;
    if (n <= 32) {
        /* pairwise on a signature (length, first and last byte), memcmp on a match */
        uint32_t sig[32];
        for (size_t i = 0; i < n; i++) {
            size_t kl = f[i].key_len;
            sig[i] = kl ? (uint32_t)kl << 16 | (uint32_t)(unsigned char)f[i].key[0] << 8 |
                              (unsigned char)f[i].key[kl - 1]
                        : 0;
        }
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (sig[i] == sig[j] && f[i].key_len == f[j].key_len &&
                    !memcmp(f[i].key, f[j].key, f[i].key_len))
                    return (long)i;
        return -1;
    }
    if (n > p->order_cap) {
        void *o = sl_grow(p->order, &p->order_cap, n, sizeof(*p->order));
        if (!o) return -2;
        p->order = o;
    }
    for (size_t i = 0; i < n; i++)
        p->order[i] = i;
    qsort_r(p->order, n, sizeof(*p->order), field_cmp_idx, f);
    long best = -1;
    for (size_t i = 1; i < n; i++) {
        const struct lp_field *x = &f[p->order[i - 1]], *y = &f[p->order[i]];
        if (x->key_len == y->key_len && !memcmp(x->key, y->key, x->key_len))
            if (best < 0 || (long)p->order[i] < best) best = (long)p->order[i];
    }
    return best;
}

/* ---- timestamps ---- */

static const char *unit_guess(uint64_t mag)
{
    /* what unit a timestamp of this magnitude most likely is (dates 2001..2286) */
    if (mag >= 1000000000ULL && mag < 10000000000ULL) return "s";
    if (mag >= 1000000000000ULL && mag < 10000000000000ULL) return "ms";
    if (mag >= 1000000000000000ULL && mag < 10000000000000000ULL) return "us";
    if (mag >= 1000000000000000000ULL) return "ns";
    return NULL;
}

static int parse_time(struct line *l, const char *s, const char *q, int64_t *out)
{
    static const char *prec_names[] = {"ns", "us", "ms", "s", "m", "h", "auto"};
    size_t n = (size_t)(q - s);
    int64_t raw;
    enum lp_num_rc rc = lp_parse_int(s, n, &raw);
    if (rc == LP_NUM_SYNTAX)
        return fail(l, s,
                    "invalid timestamp \"%s\": expected an integer (nanoseconds since the "
                    "epoch unless a precision is given)",
                    EXC(s, n));
    if (rc == LP_NUM_RANGE)
        return fail(l, s, "timestamp %s is out of range (more than 64 bits)", EXC(s, n));
    enum lp_precision prec = l->p->opts.precision;
    int64_t mult;
    if (prec == LP_PREC_AUTO) {
        uint64_t mag = raw < 0 ? (uint64_t)0 - (uint64_t)raw : (uint64_t)raw;
        if (mag < 5000000000ULL)
            mult = 1000000000LL;
        else if (mag < 5000000000000ULL)
            mult = 1000000LL;
        else if (mag < 5000000000000000ULL)
            mult = 1000LL;
        else
            mult = 1;
    } else {
        mult = lp_precision_ns(prec);
    }
    int64_t ns;
    if (__builtin_mul_overflow(raw, mult, &ns) || ns < LP_TIME_MIN || ns > LP_TIME_MAX) {
        uint64_t mag = raw < 0 ? (uint64_t)0 - (uint64_t)raw : (uint64_t)raw;
        const char *g = unit_guess(mag);
        const char *pn = (unsigned)prec < 7 ? prec_names[prec] : "?";
        if (g && strcmp(g, pn))
            return fail(l, s,
                        "timestamp %s is out of range at precision %s (it looks like %s; use "
                        "precision %s)",
                        EXC(s, n), pn, g, g);
        return fail(l, s,
                    "timestamp %s is out of range at precision %s (allowed: "
                    "-9223372036854775806 to 9223372036854775806 nanoseconds)",
                    EXC(s, n), pn);
    }
    *out = ns;
    return 0;
}

/* ---- lines ---- */

/*
 * Finds the end of the line starting at s (which is not a comment): the
 * first LF outside a quoted field value, or the end of input. Counts the LFs
 * inside quoted values into *nl.
 */
static const char *find_eol(const char *s, const char *e, size_t *nl)
{
    const char *lf = memchr(s, '\n', (size_t)(e - s));
    if (!lf) lf = e;
    if (!memchr(s, '"', (size_t)(lf - s))) return lf;
    const char *q = s;
    while (q < e && (*q == ' ' || *q == '\t'))
        q++; /* as parse_line does */
    /* measurement and tags: up to the first unescaped space */
    while (q < e) {
        char c = *q;
        if (c == '\n') return q;
        if (c == '\\' && q + 1 < e && q[1] != '\n') {
            q += 2;
            continue;
        }
        if (c == ' ') break;
        q++;
    }
    /* fields and timestamp: a '"' right after '=' opens a string */
    while (q < e) {
        char c = *q;
        if (c == '\n') return q;
        if (c == '\\' && q + 1 < e && q[1] != '\n') {
            q += 2;
            continue;
        }
        if (c == '=' && q + 1 < e && q[1] == '"') {
            q += 2;
            while (q < e && *q != '"') {
                if (*q == '\\' && q + 1 < e) {
                    if (q[1] == '\n') ++*nl;
                    q += 2;
                    continue;
                }
                if (*q == '\n') ++*nl;
                q++;
            }
            if (q < e) q++;
            continue;
        }
        q++;
    }
    return e;
}

static int parse_line(struct line *l, struct lp_point *pt)
{
    struct lp_parser *p = l->p;
    const char *s = l->start, *e = l->end;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;

    /* measurement */
    const char *q =
        scan_name(l, s, MEAS_STOP, ESC_MEAS, "measurement", &pt->measurement, &pt->measurement_len);
    if (!q) return -1;
    if (pt->measurement_len == 0)
        return fail(l, s, "%s",
                    q < e && *q == ',' ? "missing measurement name before ','"
                                       : "missing measurement name");

    /* tags */
    size_t nt = 0;
    while (q < e && *q == ',') {
        const char *ks = q + 1, *k, *v;
        size_t kn, vn;
        q = scan_name(l, ks, KEY_STOP, ESC_KEY, "tag key", &k, &kn);
        if (!q) return -1;
        if (kn == 0) {
            if (q == e || *q == ' ')
                return fail(l, ks - 1, "trailing ',' after the tags: remove it or add a tag");
            return fail(l, ks, "missing tag key");
        }
        if (q == e || *q != '=')
            return fail(l, q, "missing '=' after tag key \"%s\" (write key=value)", EXC(k, kn));
        const char *vs = q + 1;
        q = scan_name(l, vs, KEY_STOP, ESC_KEY, "tag value", &v, &vn);
        if (!q) return -1;
        if (q < e && *q == '=')
            return fail(l, q,
                        "unexpected '=' in the value of tag \"%s\"; escape it as \\=", EXC(k, kn));
        if (vn == 0)
            return fail(l, vs,
                        "missing value for tag \"%s\" (empty tag values are not allowed; "
                        "omit the tag instead)",
                        EXC(k, kn));
        if (is_time_key(k, kn)) return fail(l, ks, "tag key \"time\" is reserved; rename the tag");
        if (nt == p->tags_cap && grow_tags(p, nt + 1) < 0) return l->nomem = 1, -1;
        p->tags[nt++] = (struct lp_tag){k, kn, v, vn};
    }

    /* fields */
    if (q == e)
        return fail(l, q,
                    "missing fields: a point needs at least one field, e.g. "
                    "\"%s value=1\"",
                    EXC(l->start, (size_t)(e - l->start)));
    const char *fstart = q;
    while (q < e && *q == ' ')
        q++;
    if (q == e)
        return fail(l, fstart,
                    "missing fields: a point needs at least one field after the "
                    "space, e.g. value=1");
    size_t nf = 0;
    for (;;) {
        const char *ks = q, *k;
        size_t kn;
        q = scan_name(l, ks, KEY_STOP, ESC_KEY, "field key", &k, &kn);
        if (!q) return -1;
        if (q == e || *q != '=') {
            if (kn == 0) return fail(l, ks, "missing field key");
            if (nf == 0) {
                /* "m 0.85 123": a value without a key */
                return fail(l, ks,
                            "missing field key: \"%s\" has no '='; every field needs a name, "
                            "e.g. value=%s",
                            EXC(k, kn), EXC(k, kn));
            }
            return fail(l, q == e ? ks : q, "missing '=' after field key \"%s\" (write key=value)",
                        EXC(k, kn));
        }
        if (kn == 0) return fail(l, ks, "missing field key before '='");
        if (is_time_key(k, kn))
            return fail(l, ks, "field key \"time\" is reserved; rename the field");
        if (nf == p->fields_cap && grow_fields(p, nf + 1) < 0) return l->nomem = 1, -1;
        struct lp_field *f = &p->fields[nf];
        f->key = k;
        f->key_len = kn;
        q = parse_value(l, q + 1, f);
        if (!q) return -1;
        e = l->end; /* a string holding an LF extends the line */
        nf++;
        if (q < e && *q == ',') {
            q++;
            if (q == e || *q == ' ')
                return fail(l, q - 1, "trailing ',' after the fields: remove it or add a field");
            continue;
        }
        break;
    }

    /* timestamp */
    while (q < e && *q == ' ')
        q++;
    pt->has_time = 0;
    pt->time = 0;
    if (q < e) {
        const char *ts = q;
        while (q < e && *q != ' ')
            q++;
        if (parse_time(l, ts, q, &pt->time) < 0) return -1;
        pt->has_time = 1;
        while (q < e && *q == ' ')
            q++;
        if (q < e)
            return fail(l, q, "trailing content \"%s\" after the timestamp",
                        EXC(q, (size_t)(e - q)));
    }

    /* checks that need the whole point */
    long dup = find_dup_field(p, nf);
    if (dup == -2) return l->nomem = 1, -1;
    if (dup >= 0) {
        const struct lp_field *f = &p->fields[dup];
        return fail(l, f->key >= l->start && f->key < e ? f->key : fstart,
                    "duplicate field key \"%s\": each field may appear once per line",
                    EXC(f->key, f->key_len));
    }
    lp_sort_tags(p->tags, nt);
    for (size_t i = 1; i < nt; i++) {
        if (p->tags[i].key_len == p->tags[i - 1].key_len &&
            !memcmp(p->tags[i].key, p->tags[i - 1].key, p->tags[i].key_len)) {
            const char *at = p->tags[i].key;
            if (!(at >= l->start && at < e)) at = s;
            return fail(l, at, "duplicate tag key \"%s\": each tag may appear once per line",
                        EXC(p->tags[i].key, p->tags[i].key_len));
        }
    }
    pt->tags = p->tags;
    pt->ntags = nt;
    pt->fields = p->fields;
    pt->nfields = nf;
    return 0;
}

int lp_parser_next(struct lp_parser *p, struct lp_point *pt, struct lp_error *err)
{
    const char *e = p->end;
    for (;;) {
        const char *s = p->cur;
        if (s >= e) return LP_END;
        p->line++;
        /* skip blank and comment lines */
        const char *q = s;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q == e) {
            p->cur = e;
            return LP_END;
        }
        if (*q == '\n' || *q == '#' || (*q == '\r' && (q + 1 == e || q[1] == '\n'))) {
            const char *lf = memchr(q, '\n', (size_t)(e - q));
            p->cur = lf ? lf + 1 : e;
            continue;
        }
        const char *eol = memchr(s, '\n', (size_t)(e - s));
        if (!eol) eol = e;
        const char *le = eol;
        if (le > s && le[-1] == '\r') le--;
        size_t line = p->line;
        p->scratch_len = 0;

        struct line l = {p, s, le, eol, 0, err, 0};
        if (parse_line(&l, pt) == 0) {
            p->cur = l.eol < e ? l.eol + 1 : e;
            p->line += l.extra;
            pt->line = line;
            pt->raw = s;
            pt->raw_len = (size_t)(l.end - s);
            return LP_POINT;
        }
        if (l.nomem) return SL_ENOMEM;
        /* resume after the whole line, LFs in its quoted strings included */
        size_t extra = 0;
        eol = find_eol(s, e, &extra);
        le = eol;
        if (le > s && le[-1] == '\r') le--;
        p->cur = eol < e ? eol + 1 : e;
        p->line += extra;
        err->line = line;
        err->raw = s;
        err->raw_len = (size_t)(le - s);
        return LP_ERROR;
    }
}
