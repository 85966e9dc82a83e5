/*
 * prometheus.c — the Prometheus text exposition format (0.0.4), mapped to
 * metrics as Telegraf's prometheus parser does with metric_version = 1.
 *
 * The format, line by line:
 *   # HELP <name> <text>            ignored
 *   # TYPE <name> counter|gauge|histogram|summary|untyped
 *   # anything else                 a comment
 *   <name>[{l="v",...}] <value> [<timestamp ms>]
 * Label values escape \\, \" and \n; values are Go floats including NaN,
 * +Inf, -Inf. A family's samples are consecutive. A histogram <h> owns the
 * samples <h>_bucket (with label le), <h>_sum and <h>_count; a summary <s>
 * owns <s> (with label quantile), <s>_sum and <s>_count. Samples without a
 * TYPE are untyped.
 *
 * Mapping (v1): measurement = family name, labels → tags (without le and
 * quantile); counter → field "counter", gauge → "gauge", untyped → "value";
 * a histogram or summary gives one metric per label set with fields
 * "count", "sum" and one per bucket bound / quantile named by Go's %v of the
 * number ("0.5", "1e-05", "+Inf"). NaN sample values are skipped, as in
 * Telegraf. The first malformed line stops parsing with its line number.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/parsers/parsers.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"

#define PROM_MAX_LABELS 128
#define PROM_MAX_TYPES  100000

enum prom_type { T_UNTYPED, T_COUNTER, T_GAUGE, T_HISTOGRAM, T_SUMMARY };

struct prom_typedef {
    char *name;
    enum prom_type type;
};

/* Metrics of the histogram/summary family being read, by label set. */
struct group {
    struct metric **v;
    uint64_t *hash;
    size_t n, cap;
};

struct label {
    char *key, *val;
};

struct prom_state {
    struct prom_typedef *types;
    size_t ntypes, types_cap;
    struct group g;
    char *gname; /* family of the group */
    struct metric_list *out;
};

static enum prom_type type_of(struct prom_state *s, const char *name, size_t n)
{
    for (size_t i = s->ntypes; i-- > 0;)
        if (strlen(s->types[i].name) == n && !memcmp(s->types[i].name, name, n))
            return s->types[i].type;
    return T_UNTYPED;
}

static int type_known(struct prom_state *s, const char *name, size_t n, enum prom_type t)
{
    for (size_t i = s->ntypes; i-- > 0;)
        if (strlen(s->types[i].name) == n && !memcmp(s->types[i].name, name, n))
            return s->types[i].type == t;
    return 0;
}

static void group_flush(struct prom_state *s)
{
    for (size_t i = 0; i < s->g.n; i++) {
        if (s->g.v[i]->nfields)
            metric_list_push(s->out, s->g.v[i]);
        else
            metric_free(s->g.v[i]);
    }
    s->g.n = 0;
    sl_free(s->gname);
    s->gname = NULL;
}

static void state_release(struct prom_state *s)
{
    group_flush(s);
    sl_free(s->g.v);
    sl_free(s->g.hash);
    for (size_t i = 0; i < s->ntypes; i++)
        sl_free(s->types[i].name);
    sl_free(s->types);
}

static int is_name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

static size_t skip_ws(const char *p, size_t i, size_t n)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i;
}

static int parse_value(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) return SL_EINVAL;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "Inf")) {
        *out = INFINITY;
        return 0;
    }
    if (!strcmp(tmp, "-Inf")) {
        *out = -INFINITY;
        return 0;
    }
    if (!strcmp(tmp, "NaN")) {
        *out = NAN;
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789+-.eE", tmp[i])) return SL_EINVAL;
    char *end;
    *out = strtod(tmp, &end);
    return *end ? SL_EINVAL : 0;
}

static int handle_comment(struct prom_state *s, const char *p, size_t n, char *err, size_t cap,
                          size_t line)
{
    size_t i = skip_ws(p, 1, n);
    if (n - i < 5 || strncmp(p + i, "TYPE", 4) || (p[i + 4] != ' ' && p[i + 4] != '\t')) return 0;
    i = skip_ws(p, i + 4, n);
    size_t ns = i;
    while (i < n && is_name_char((unsigned char)p[i]))
        i++;
    size_t nl = i - ns;
    i = skip_ws(p, i, n);
    size_t ts = i;
    while (i < n && !isspace((unsigned char)p[i]))
        i++;
    static const char *const names[] = {"untyped", "counter", "gauge", "histogram", "summary"};
    enum prom_type t = T_UNTYPED;
    size_t k;
    for (k = 0; k < 5; k++)
        if (i - ts == strlen(names[k]) && !strncmp(p + ts, names[k], i - ts)) break;
    if (nl == 0 || k == 5) {
        snprintf(err, cap, "line %zu: malformed TYPE line", line);
        return SL_EINVAL;
    }
    t = (enum prom_type)k;
    if (s->ntypes >= PROM_MAX_TYPES) {
        snprintf(err, cap, "line %zu: too many TYPE lines", line);
        return SL_ETOOBIG;
    }
    struct prom_typedef *nt = sl_grow(s->types, &s->types_cap, s->ntypes + 1, sizeof(*s->types));
    if (!nt) return SL_ENOMEM;
    s->types = nt;
    if (!(s->types[s->ntypes].name = sl_strndup(p + ns, nl))) return SL_ENOMEM;
    s->types[s->ntypes++].type = t;
    return 0;
}

/* Parses `{l="v",...}` at p[*i]; fills labels (owned strings). */
static int parse_labels(const char *p, size_t n, size_t *i, struct label *labels, size_t *nlabels,
                        struct sl_buf *tmp)
{
    size_t k = *i + 1;
    for (;;) {
        k = skip_ws(p, k, n);
        if (k < n && p[k] == '}') {
            k++;
            break;
        }
        if (k >= n || !is_name_start((unsigned char)p[k])) return SL_EINVAL;
        size_t ks = k;
        while (k < n && is_name_char((unsigned char)p[k]))
            k++;
        size_t kl = k - ks;
        k = skip_ws(p, k, n);
        if (k >= n || p[k] != '=') return SL_EINVAL;
        k = skip_ws(p, k + 1, n);
        if (k >= n || p[k] != '"') return SL_EINVAL;
        k++;
        sl_buf_reset(tmp);
        for (;;) {
            if (k >= n) return SL_EINVAL;
            char c = p[k++];
            if (c == '"') break;
            if (c == '\\') {
                if (k >= n) return SL_EINVAL;
                c = p[k++];
                if (c == 'n')
                    c = '\n';
                else if (c != '\\' && c != '"')
                    return SL_EINVAL;
            }
            if (sl_buf_addc(tmp, c) < 0) return SL_ETOOBIG;
        }
        if (*nlabels >= PROM_MAX_LABELS) return SL_ETOOBIG;
        struct label *l = &labels[(*nlabels)++];
        l->key = sl_strndup(p + ks, kl);
        l->val = sl_strndup(tmp->ptr ? tmp->ptr : "", tmp->len);
        if (!l->key || !l->val) return SL_ENOMEM;
        k = skip_ws(p, k, n);
        if (k < n && p[k] == ',') {
            k++;
            continue;
        }
        if (k < n && p[k] == '}') {
            k++;
            break;
        }
        return SL_EINVAL;
    }
    *i = k;
    return 0;
}

static int ends_with(const char *s, size_t n, const char *suf, size_t *base)
{
    size_t l = strlen(suf);
    if (n <= l || memcmp(s + n - l, suf, l)) return 0;
    *base = n - l;
    return 1;
}

/* The group metric of the current histogram/summary for this label set. */
static struct metric *group_get(struct prom_state *s, const char *fam, struct label *labels,
                                size_t nl, int64_t t)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < nl; i++) {
        if (!strcmp(labels[i].key, "le") || !strcmp(labels[i].key, "quantile")) continue;
        h ^= sl_hash64(labels[i].key, strlen(labels[i].key), h);
        h ^= sl_hash64(labels[i].val, strlen(labels[i].val), h + 1);
    }
    for (size_t i = 0; i < s->g.n; i++) {
        if (s->g.hash[i] != h) continue;
        struct metric *m = s->g.v[i];
        size_t cnt = 0;
        int same = 1;
        for (size_t k = 0; k < nl && same; k++) {
            if (!strcmp(labels[k].key, "le") || !strcmp(labels[k].key, "quantile")) continue;
            const char *v = metric_get_tag(m, labels[k].key);
            same = v && !strcmp(v, labels[k].val);
            cnt++;
        }
        if (same && cnt == m->ntags) return m;
    }
    struct metric *m = metric_new(fam, t);
    if (!m) return NULL;
    for (size_t k = 0; k < nl; k++) {
        if (!strcmp(labels[k].key, "le") || !strcmp(labels[k].key, "quantile")) continue;
        if (metric_add_tag(m, labels[k].key, labels[k].val) < 0) goto fail;
    }
    size_t cap = s->g.cap;
    struct metric **nv = sl_grow(s->g.v, &cap, s->g.n + 1, sizeof(*nv));
    if (!nv) goto fail;
    s->g.v = nv;
    size_t hcap = s->g.cap;
    uint64_t *nh = sl_grow(s->g.hash, &hcap, s->g.n + 1, sizeof(*nh));
    if (!nh) goto fail;
    s->g.hash = nh;
    s->g.cap = cap < hcap ? cap : hcap;
    s->g.v[s->g.n] = m;
    s->g.hash[s->g.n++] = h;
    return m;
fail:
    metric_free(m);
    return NULL;
}

static int handle_sample(struct prom_state *s, const char *p, size_t n, int64_t now_ns,
                         struct sl_buf *tmp)
{
    struct label labels[PROM_MAX_LABELS];
    size_t nl = 0;
    int rc = 0;
    size_t i = 0;
    if (!is_name_start((unsigned char)p[0])) return SL_EINVAL;
    while (i < n && is_name_char((unsigned char)p[i]))
        i++;
    size_t name_len = i;
    i = skip_ws(p, i, n);
    if (i < n && p[i] == '{' && (rc = parse_labels(p, n, &i, labels, &nl, tmp)) < 0) goto out;
    i = skip_ws(p, i, n);
    size_t vs = i;
    while (i < n && !isspace((unsigned char)p[i]))
        i++;
    double v;
    if ((rc = parse_value(p + vs, i - vs, &v)) < 0) goto out;
    i = skip_ws(p, i, n);
    int64_t t = now_ns;
    if (i < n) {
        char *end;
        char num[32];
        size_t tl = n - i;
        while (tl && isspace((unsigned char)p[i + tl - 1]))
            tl--;
        if (tl == 0 || tl >= sizeof(num)) {
            rc = SL_EINVAL;
            goto out;
        }
        memcpy(num, p + i, tl);
        num[tl] = '\0';
        long long ms = strtoll(num, &end, 10);
        if (*end || ms > 9223372036854LL || ms < -9223372036854LL) {
            rc = SL_EINVAL;
            goto out;
        }
        if (ms > 0) t = ms * 1000000LL;
    }
    /* which family? */
    size_t base;
    enum prom_type ft = type_of(s, p, name_len);
    const char *field = NULL;
    char fname[64];
    size_t fam_len = name_len;
    if (ft == T_SUMMARY) {
        field = "quantile";
    } else if (ends_with(p, name_len, "_bucket", &base) && type_known(s, p, base, T_HISTOGRAM)) {
        ft = T_HISTOGRAM, fam_len = base, field = "le";
    } else if ((ends_with(p, name_len, "_sum", &base) || ends_with(p, name_len, "_count", &base)) &&
               (type_known(s, p, base, T_HISTOGRAM) || type_known(s, p, base, T_SUMMARY))) {
        ft = type_of(s, p, base), fam_len = base;
        field = p[name_len - 1] == 'm' ? "sum" : "count";
    }
    if ((ft == T_HISTOGRAM || ft == T_SUMMARY) && !field) {
        rc = SL_EINVAL; /* e.g. a bare "h 1" for a histogram h */
        goto out;
    }
    char *fam = sl_strndup(p, fam_len);
    if (!fam) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (ft != T_HISTOGRAM && ft != T_SUMMARY) {
        group_flush(s);
        struct metric *m = NULL;
        if (!isnan(v)) {
            m = metric_new(fam, t);
            for (size_t k = 0; m && k < nl && rc == 0; k++)
                rc = metric_add_tag(m, labels[k].key, labels[k].val);
            const char *f = ft == T_COUNTER ? "counter" : ft == T_GAUGE ? "gauge" : "value";
            if (!m || rc < 0 || metric_add_float(m, f, v) < 0)
                rc = SL_ENOMEM;
            else
                rc = metric_list_push(s->out, m), m = NULL;
            metric_free(m);
        }
        sl_free(fam);
        goto out;
    }
    if (!s->gname || strcmp(s->gname, fam)) {
        group_flush(s);
        s->gname = fam;
    } else {
        sl_free(fam);
    }
    struct metric *m = group_get(s, s->gname, labels, nl, t);
    if (!m) {
        rc = SL_ENOMEM;
        goto out;
    }
    if (!strcmp(field, "sum") || !strcmp(field, "count")) {
        rc = metric_add_float(m, field, v);
    } else {
        const char *bound = NULL;
        for (size_t k = 0; k < nl; k++)
            if (!strcmp(labels[k].key, field)) bound = labels[k].val;
        double b;
        if (!bound || parse_value(bound, strlen(bound), &b) < 0) {
            rc = SL_EINVAL;
            goto out;
        }
        parser_go_float_v(b, fname, sizeof(fname));
        if (!isnan(v)) rc = metric_add_float(m, fname, v);
    }
out:
    for (size_t k = 0; k < nl; k++) {
        sl_free(labels[k].key);
        sl_free(labels[k].val);
    }
    return rc;
}

int parser_prom_parse(const char *buf, size_t len, int64_t now_ns, struct metric_list *out,
                      char *err, size_t errcap)
{
    struct prom_state s = {.out = out};
    struct sl_buf tmp;
    sl_buf_init(&tmp, 1 << 20);
    int rc = 0;
    size_t line = 0;
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        const char *p = buf + pos;
        size_t n = end - pos;
        line++;
        pos = end + 1;
        size_t i = skip_ws(p, 0, n);
        p += i, n -= i;
        while (n && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 0) continue;
        if (p[0] == '#') {
            rc = handle_comment(&s, p, n, err, errcap, line);
            continue;
        }
        rc = handle_sample(&s, p, n, now_ns, &tmp);
        if (rc == SL_EINVAL || rc == SL_ETOOBIG)
            snprintf(err, errcap, "line %zu: malformed sample: %.*s", line, (int)(n > 80 ? 80 : n),
                     p);
    }
    state_release(&s);
    sl_buf_release(&tmp);
    return rc;
}
