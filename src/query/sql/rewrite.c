/*
 * rewrite.c — the tokenizer and the rewriting pass that turns the SQL
 * spellings of InfluxDB 3 (DataFusion) into SQLite (see sql_int.h for the
 * list of rewrites).
 *
 * Why a rewriting pass: SQLite's grammar has no INTERVAL literal and no
 * `::` cast, and compares an INTEGER column with a TEXT literal by storage
 * class (every integer is less than every string), so `time >= '2024-...'`
 * would silently select nothing. The pass works on tokens (strings, quoted
 * identifiers and comments are single tokens, so nothing inside them is ever
 * touched) and replaces only the exact shapes listed; everything else reaches
 * SQLite unchanged, so its error messages name the real problem.
 *
 * Timestamps are int64 nanoseconds inside SQLite; an interval becomes the
 * integer number of nanoseconds, so `now() - INTERVAL '1 hour'` is integer
 * arithmetic and comparisons with `time` are exact.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "query/sql/sql_int.h"

static int is_ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

int sql_tokenize(const char *q, size_t len, struct sql_token **out, char *err, size_t errlen)
{
    size_t cap = 64, n = 0, i = 0;
    struct sql_token *t = sl_malloc(cap * sizeof(*t));
    if (!t) return SL_ENOMEM;
    while (i < len) {
        if (n == cap) {
            if (cap >= SQL_MAX_TOKENS) {
                snprintf(err, errlen, "query has more than %u tokens", SQL_MAX_TOKENS);
                sl_free(t);
                return SL_ETOOBIG;
            }
            struct sql_token *nt = sl_realloc(t, cap * 2 * sizeof(*t));
            if (!nt) {
                sl_free(t);
                return SL_ENOMEM;
            }
            t = nt;
            cap *= 2;
        }
        size_t s = i;
        unsigned char c = (unsigned char)q[i];
        enum sql_tok type;
        if (isspace(c)) {
            while (i < len && isspace((unsigned char)q[i]))
                i++;
            type = SQLT_SPACE;
        } else if (c == '-' && i + 1 < len && q[i + 1] == '-') {
            while (i < len && q[i] != '\n')
                i++;
            type = SQLT_SPACE;
        } else if (c == '/' && i + 1 < len && q[i + 1] == '*') {
            const char *e = NULL;
            for (size_t k = i + 2; k + 1 < len; k++)
                if (q[k] == '*' && q[k + 1] == '/') {
                    e = q + k;
                    break;
                }
            if (!e) {
                snprintf(err, errlen, "unterminated comment at offset %zu", s);
                sl_free(t);
                return SL_EINVAL;
            }
            i = (size_t)(e - q) + 2;
            type = SQLT_SPACE;
        } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
            char close = c == '[' ? ']' : (char)c;
            i++;
            for (;;) {
                if (i >= len) {
                    snprintf(err, errlen, "unterminated %s starting at offset %zu",
                             c == '\'' ? "string" : "quoted identifier", s);
                    sl_free(t);
                    return SL_EINVAL;
                }
                if (q[i] == close) {
                    if (close != ']' && i + 1 < len && q[i + 1] == close) {
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                i++;
            }
            type = c == '\'' ? SQLT_STRING : SQLT_QIDENT;
        } else if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char)q[i + 1]))) {
            if (c == '0' && i + 1 < len && (q[i + 1] == 'x' || q[i + 1] == 'X')) {
                i += 2;
                while (i < len && isxdigit((unsigned char)q[i]))
                    i++;
            } else {
                while (i < len && (isdigit((unsigned char)q[i]) || q[i] == '.'))
                    i++;
                if (i < len && (q[i] == 'e' || q[i] == 'E')) {
                    size_t k = i + 1;
                    if (k < len && (q[k] == '+' || q[k] == '-')) k++;
                    if (k < len && isdigit((unsigned char)q[k])) {
                        i = k;
                        while (i < len && isdigit((unsigned char)q[i]))
                            i++;
                    }
                }
            }
            type = SQLT_NUMBER;
        } else if ((c == '$' || c == ':' || c == '@' || c == '?') && i + 1 < len &&
                   (is_ident_char((unsigned char)q[i + 1])) && !(c == ':' && q[i + 1] == ':')) {
            i++;
            while (i < len && is_ident_char((unsigned char)q[i]))
                i++;
            type = SQLT_PARAM;
        } else if (is_ident_start(c)) {
            while (i < len && is_ident_char((unsigned char)q[i]))
                i++;
            type = SQLT_IDENT;
        } else {
            static const char *const ops[] = {
                "->>", "<=", ">=", "<>", "!=", "==", "||", "::", "<<", ">>", "->"};
            size_t m = 1;
            for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
                size_t ol = strlen(ops[k]);
                if (i + ol <= len && !memcmp(q + i, ops[k], ol)) {
                    m = ol;
                    break;
                }
            }
            i += m;
            type = SQLT_OP;
        }
        t[n++] = (struct sql_token){type, q + s, i - s};
    }
    *out = t;
    return (int)n;
}

static int tok_is(const struct sql_token *t, const char *word)
{
    size_t wl = strlen(word);
    if (t->type == SQLT_OP) return t->n == wl && !memcmp(t->p, word, wl);
    return t->type == SQLT_IDENT && t->n == wl && !strncasecmp(t->p, word, wl);
}

/* The token names a column called time (time, "time", t.time). */
static int tok_is_time(const struct sql_token *t)
{
    if (t->type == SQLT_IDENT) return t->n == 4 && !strncasecmp(t->p, "time", 4);
    if (t->type == SQLT_QIDENT) return t->n == 6 && !memcmp(t->p + 1, "time", 4);
    return 0;
}

static int tok_is_cmp(const struct sql_token *t)
{
    static const char *const cmp[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">="};
    for (size_t i = 0; i < sizeof(cmp) / sizeof(cmp[0]); i++)
        if (tok_is(t, cmp[i])) return 1;
    return 0;
}

/* Unquotes a string or quoted identifier token into out. */
static int tok_unquote(const struct sql_token *t, struct sl_buf *out)
{
    sl_buf_reset(out);
    if (t->type != SQLT_STRING && t->type != SQLT_QIDENT) return sl_buf_add(out, t->p, t->n);
    char q = t->p[0] == '[' ? ']' : t->p[0];
    for (size_t i = 1; i + 1 < t->n; i++) {
        if (t->p[i] == q && q != ']') i++;
        int rc = sl_buf_addc(out, t->p[i]);
        if (rc < 0) return rc;
    }
    return 0;
}

struct unit {
    const char *name;
    int64_t ns;
};

static const struct unit units[] = {
    {"nanoseconds", 1},
    {"nanosecond", 1},
    {"nsec", 1},
    {"ns", 1},
    {"microseconds", 1000},
    {"microsecond", 1000},
    {"usec", 1000},
    {"us", 1000},
    {"µs", 1000},
    {"milliseconds", 1000000},
    {"millisecond", 1000000},
    {"msecs", 1000000},
    {"msec", 1000000},
    {"ms", 1000000},
    {"seconds", SL_NS_PER_S},
    {"second", SL_NS_PER_S},
    {"secs", SL_NS_PER_S},
    {"sec", SL_NS_PER_S},
    {"s", SL_NS_PER_S},
    {"minutes", 60 * SL_NS_PER_S},
    {"minute", 60 * SL_NS_PER_S},
    {"mins", 60 * SL_NS_PER_S},
    {"min", 60 * SL_NS_PER_S},
    {"m", 60 * SL_NS_PER_S},
    {"hours", 3600 * SL_NS_PER_S},
    {"hour", 3600 * SL_NS_PER_S},
    {"hrs", 3600 * SL_NS_PER_S},
    {"hr", 3600 * SL_NS_PER_S},
    {"h", 3600 * SL_NS_PER_S},
    {"days", 86400 * SL_NS_PER_S},
    {"day", 86400 * SL_NS_PER_S},
    {"d", 86400 * SL_NS_PER_S},
    {"weeks", 604800 * SL_NS_PER_S},
    {"week", 604800 * SL_NS_PER_S},
    {"w", 604800 * SL_NS_PER_S},
};

int sql_interval_parse(const char *s, size_t n, int64_t *ns)
{
    size_t i = 0;
    int64_t total = 0;
    int parts = 0;
    for (;;) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i >= n) break;
        int neg = 0;
        if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
        size_t ds = i;
        int64_t ip = 0;
        while (i < n && isdigit((unsigned char)s[i])) {
            if (ip > (INT64_MAX - 9) / 10) return SL_ERANGE;
            ip = ip * 10 + (s[i++] - '0');
        }
        double frac = 0, scale = 0.1;
        if (i < n && s[i] == '.') {
            i++;
            while (i < n && isdigit((unsigned char)s[i])) {
                frac += (s[i++] - '0') * scale;
                scale /= 10;
            }
        }
        if (i == ds) return SL_EINVAL;
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        size_t us = i;
        while (i < n && !isspace((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
               s[i] != '-' && s[i] != '+')
            i++;
        int64_t mult = SL_NS_PER_S; /* a bare number is seconds, as in PostgreSQL */
        if (i > us) {
            mult = 0;
            for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
                if (strlen(units[k].name) == i - us &&
                    !strncasecmp(units[k].name, s + us, i - us)) {
                    mult = units[k].ns;
                    break;
                }
            if (!mult) return SL_EINVAL;
        }
        if (ip > INT64_MAX / mult) return SL_ERANGE;
        int64_t v = ip * mult + (int64_t)llround(frac * (double)mult);
        if (neg) v = -v;
        if ((v > 0 && total > INT64_MAX - v) || (v < 0 && total < INT64_MIN - v)) return SL_ERANGE;
        total += v;
        parts++;
    }
    if (!parts) return SL_EINVAL;
    *ns = total;
    return 0;
}

/* Whether a string token holds a timestamp; sets *ns. */
static int tok_timestamp(const struct sql_token *t, struct sl_buf *tmp, int64_t *ns)
{
    if (t->type != SQLT_STRING || t->n < 12 || !isdigit((unsigned char)t->p[1]) ||
        !isdigit((unsigned char)t->p[4]) || t->p[5] != '-')
        return 0;
    if (tok_unquote(t, tmp) < 0) return 0;
    return sl_time_parse_rfc3339(tmp->ptr, tmp->len, ns) == 0;
}

static const char *const unit_words[] = {
    "NANOSECOND",  "MICROSECOND",  "MILLISECOND",  "SECOND",  "MINUTE",  "HOUR",  "DAY",  "WEEK",
    "NANOSECONDS", "MICROSECONDS", "MILLISECONDS", "SECONDS", "MINUTES", "HOURS", "DAYS", "WEEKS"};

static int is_unit_word(const struct sql_token *t)
{
    for (size_t i = 0; i < sizeof(unit_words) / sizeof(unit_words[0]); i++)
        if (tok_is(t, unit_words[i])) return 1;
    return 0;
}

static int is_varying_unit(const struct sl_buf *body)
{
    static const char *const words[] = {"month",  "mon",     "year",   "yr",
                                        "decade", "century", "quarter"};
    for (size_t i = 0; i < body->len; i++)
        for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
            if (!strncasecmp(body->ptr + i, words[k], strlen(words[k]))) return 1;
    return 0;
}

static int add_time_name(struct sql_rewrite *rw, const char *p, size_t n)
{
    if (rw->ntime_names >= SQL_MAX_TIME_NAMES) return 0;
    char *s = sl_strndup(p, n);
    if (!s) return SL_ENOMEM;
    rw->time_names[rw->ntime_names++] = s;
    return 0;
}

static const char *const time_funcs[] = {"date_bin",
                                         "date_trunc",
                                         "now",
                                         "to_timestamp",
                                         "to_timestamp_seconds",
                                         "to_timestamp_millis",
                                         "to_timestamp_micros",
                                         "to_timestamp_nanos",
                                         "datetrunc"};

/* Finds the outer SELECT list of the rewritten text and records the result
 * names of items that compute timestamps. */
static int collect_time_names(struct sql_rewrite *rw)
{
    struct sql_token *all;
    char err[128];
    int n = sql_tokenize(rw->sql.ptr, rw->sql.len, &all, err, sizeof(err));
    if (n < 0) return 0; /* SQLite will report it */
    size_t ns = 0;
    struct sql_token *t = sl_malloc(((size_t)n + 1) * sizeof(*t));
    int rc = 0;
    struct sl_buf tmp = SL_BUF_INIT;
    if (!t) {
        sl_free(all);
        return SL_ENOMEM;
    }
    for (int i = 0; i < n; i++)
        if (all[i].type != SQLT_SPACE) t[ns++] = all[i];
    size_t k = 0;
    int depth = 0;
    while (k < ns && !(depth == 0 && tok_is(&t[k], "SELECT"))) {
        if (tok_is(&t[k], "(")) depth++;
        if (tok_is(&t[k], ")")) depth--;
        k++;
    }
    if (k >= ns) goto out;
    k++;
    if (k < ns && (tok_is(&t[k], "DISTINCT") || tok_is(&t[k], "ALL"))) k++;
    while (k < ns) {
        size_t b = k;
        depth = 0;
        while (k < ns) {
            if (tok_is(&t[k], "("))
                depth++;
            else if (tok_is(&t[k], ")"))
                depth--;
            else if (depth == 0 && (tok_is(&t[k], ",") || tok_is(&t[k], "FROM")))
                break;
            k++;
        }
        size_t e = k; /* item is t[b..e) */
        if (e > b) {
            size_t ee = e;
            const struct sql_token *alias = NULL;
            if (e - b >= 3 && tok_is(&t[e - 2], "AS")) {
                alias = &t[e - 1];
                ee = e - 2;
            } else if (e - b >= 2 &&
                       (t[e - 1].type == SQLT_IDENT || t[e - 1].type == SQLT_QIDENT) &&
                       (tok_is(&t[e - 2], ")") || t[e - 2].type == SQLT_IDENT ||
                        t[e - 2].type == SQLT_QIDENT) &&
                       !tok_is(&t[e - 2], ".")) {
                alias = &t[e - 1];
                ee = e - 1;
            }
            int temporal = 0;
            if (ee - b >= 2 && t[b].type == SQLT_IDENT && tok_is(&t[b + 1], "("))
                for (size_t f = 0; f < sizeof(time_funcs) / sizeof(time_funcs[0]); f++)
                    if (tok_is(&t[b], time_funcs[f])) temporal = 1;
            if (ee - b == 4 && (tok_is(&t[b], "min") || tok_is(&t[b], "max")) &&
                tok_is_time(&t[b + 2]))
                temporal = 1;
            if (temporal) {
                if (alias) {
                    if ((rc = tok_unquote(alias, &tmp)) < 0) goto out;
                    rc = add_time_name(rw, tmp.ptr, tmp.len);
                } else {
                    const char *p = t[b].p;
                    rc = add_time_name(rw, p, (size_t)(t[ee - 1].p + t[ee - 1].n - p));
                }
                if (rc < 0) goto out;
            }
        }
        if (k >= ns || tok_is(&t[k], "FROM")) break;
        k++; /* ',' */
    }
out:
    sl_buf_release(&tmp);
    sl_free(t);
    sl_free(all);
    return rc;
}

static int emit_str_literal(struct sl_buf *o, const char *p, size_t n)
{
    int rc = sl_buf_addc(o, '\'');
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (p[i] == '\'') rc = sl_buf_addc(o, '\'');
        if (rc == 0) rc = sl_buf_addc(o, p[i]);
    }
    return rc < 0 ? rc : sl_buf_addc(o, '\'');
}

/* SHOW TABLES / SHOW COLUMNS FROM t. Returns 1 when handled. */
static int rewrite_show(const struct sql_token *t, size_t ns, struct sql_rewrite *rw,
                        struct sl_buf *tmp, char *err, size_t errlen)
{
    if (ns && tok_is(&t[ns - 1], ";")) ns--;
    if (ns < 2 || !tok_is(&t[0], "SHOW")) return 0;
    rw->needs_schema = 1;
    if (ns == 2 && tok_is(&t[1], "TABLES")) {
        if (sl_buf_adds(&rw->sql, "SELECT table_catalog, table_schema, table_name, table_type "
                                  "FROM information_schema.tables ORDER BY table_schema, "
                                  "table_name") < 0)
            return SL_ENOMEM;
        return 1;
    }
    if (ns >= 4 && tok_is(&t[1], "COLUMNS") && (tok_is(&t[2], "FROM") || tok_is(&t[2], "IN"))) {
        /* the name may be a bare name with dashes: join the raw text */
        const char *p = t[3].p;
        size_t n = (size_t)(t[ns - 1].p + t[ns - 1].n - p);
        if (ns == 4 && (t[3].type == SQLT_QIDENT || t[3].type == SQLT_STRING)) {
            if (tok_unquote(&t[3], tmp) < 0) return SL_ENOMEM;
            p = tmp->ptr;
            n = tmp->len;
        }
        if (sl_buf_adds(&rw->sql, "SELECT table_catalog, table_schema, table_name, column_name, "
                                  "data_type, is_nullable FROM information_schema.columns WHERE "
                                  "table_name = ") < 0 ||
            emit_str_literal(&rw->sql, p, n) < 0 ||
            sl_buf_adds(&rw->sql, " ORDER BY ordinal_position") < 0)
            return SL_ENOMEM;
        return 1;
    }
    snprintf(err, errlen,
             "unsupported SHOW statement: use SHOW TABLES or SHOW COLUMNS FROM <table>");
    return SL_EINVAL;
}

int sql_rewrite_query(const char *q, size_t len, struct sql_rewrite *rw, char *err, size_t errlen)
{
    memset(rw, 0, sizeof(*rw));
    sl_buf_init(&rw->sql, SQL_MAX_QUERY * 2);
    struct sl_buf tmp = SL_BUF_INIT;
    struct sql_token *all = NULL, *t = NULL;
    size_t *at = NULL; /* significant token -> index in all */
    int rc;
    if (len > SQL_MAX_QUERY) {
        snprintf(err, errlen, "query is longer than %u bytes", SQL_MAX_QUERY);
        return SL_ETOOBIG;
    }
    int n = sql_tokenize(q, len, &all, err, errlen);
    if (n < 0) return n;
    t = sl_malloc(((size_t)n + 1) * sizeof(*t));
    at = sl_malloc(((size_t)n + 1) * sizeof(*at));
    if (!t || !at) {
        rc = SL_ENOMEM;
        goto out;
    }
    size_t ns = 0;
    for (int i = 0; i < n; i++)
        if (all[i].type != SQLT_SPACE) {
            at[ns] = (size_t)i;
            t[ns++] = all[i];
        }
    if (ns == 0) {
        snprintf(err, errlen, "empty query");
        rc = SL_EINVAL;
        goto out;
    }
    size_t k = 0;
    if (tok_is(&t[0], "EXPLAIN") && !(ns > 1 && tok_is(&t[1], "QUERY"))) {
        rw->explain = 1;
        k = 1;
        while (k < ns && (tok_is(&t[k], "ANALYZE") || tok_is(&t[k], "VERBOSE")))
            k++;
    }
    if ((rc = rewrite_show(t + k, ns - k, rw, &tmp, err, errlen)) != 0) {
        if (rc > 0) rc = 0;
        goto out;
    }
    const char *pos = k == 0 ? q : k < ns ? t[k].p : q + len; /* text before pos is emitted */
    int between = 0; /* literals still to convert in `time BETWEEN a AND b` */
    int in_list = 0; /* inside `time IN (...)` */
    for (; k < ns; k++) {
        const struct sql_token *c = &t[k];
        const char *repl_end = NULL;
        char num[48];
        int64_t v;
        if ((c->type == SQLT_IDENT || c->type == SQLT_QIDENT) && c->n >= 18 &&
            !strncasecmp(c->p + (c->type == SQLT_QIDENT), "information_schema", 18))
            rw->needs_schema = 1;
        /* INTERVAL '5 minutes' | INTERVAL '5' MINUTE */
        if (tok_is(c, "INTERVAL") && k + 1 < ns && t[k + 1].type == SQLT_STRING) {
            if ((rc = tok_unquote(&t[k + 1], &tmp)) < 0) goto out;
            size_t last = k + 1;
            if (k + 2 < ns && is_unit_word(&t[k + 2])) {
                last = k + 2;
                if ((rc = sl_buf_addc(&tmp, ' ')) < 0 ||
                    (rc = sl_buf_add(&tmp, t[k + 2].p, t[k + 2].n)) < 0)
                    goto out;
            }
            if (is_varying_unit(&tmp)) {
                snprintf(err, errlen,
                         "INTERVAL '%.100s': months and years are not supported (their length "
                         "varies); use days or weeks",
                         tmp.ptr);
                rc = SL_EINVAL;
                goto out;
            }
            if ((rc = sql_interval_parse(tmp.ptr, tmp.len, &v)) < 0) {
                snprintf(err, errlen,
                         "invalid INTERVAL '%.100s': expected e.g. '5 minutes', '1 hour 30 "
                         "minutes' or '2 days'",
                         tmp.ptr);
                rc = SL_EINVAL;
                goto out;
            }
            snprintf(num, sizeof(num), "(%lld)", (long long)v);
            repl_end = t[last].p + t[last].n;
            k = last;
        }
        /* '2024-...'::timestamp */
        else if (c->type == SQLT_STRING && k + 2 < ns && tok_is(&t[k + 1], "::") &&
                 (tok_is(&t[k + 2], "timestamp") || tok_is(&t[k + 2], "timestamptz"))) {
            if (!tok_timestamp(c, &tmp, &v)) {
                snprintf(err, errlen, "cannot cast %.*s to a timestamp",
                         (int)(c->n > 80 ? 80 : c->n), c->p);
                rc = SL_EINVAL;
                goto out;
            }
            snprintf(num, sizeof(num), "%lld", (long long)v);
            repl_end = t[k + 2].p + t[k + 2].n;
            k += 2;
        }
        /* CAST('2024-...' AS TIMESTAMP) */
        else if (tok_is(c, "CAST") && k + 5 < ns && tok_is(&t[k + 1], "(") &&
                 tok_is(&t[k + 3], "AS") && tok_is(&t[k + 4], "TIMESTAMP") &&
                 tok_is(&t[k + 5], ")") && tok_timestamp(&t[k + 2], &tmp, &v)) {
            snprintf(num, sizeof(num), "%lld", (long long)v);
            repl_end = t[k + 5].p + t[k + 5].n;
            k += 5;
        }
        /* time compared with a timestamp string */
        else if (c->type == SQLT_STRING && tok_timestamp(c, &tmp, &v) &&
                 (between > 0 || in_list ||
                  (k >= 2 && tok_is_cmp(&t[k - 1]) && tok_is_time(&t[k - 2])) ||
                  (k + 2 < ns && tok_is_cmp(&t[k + 1]) && tok_is_time(&t[k + 2])))) {
            snprintf(num, sizeof(num), "%lld", (long long)v);
            repl_end = c->p + c->n;
            if (between > 0) between--;
        }
        /* FROM my-bucket */
        else if ((tok_is(c, "FROM") || tok_is(c, "JOIN")) && k + 2 < ns &&
                 t[k + 1].type == SQLT_IDENT && tok_is(&t[k + 2], "-") &&
                 t[k + 2].p == t[k + 1].p + t[k + 1].n) {
            size_t e = k + 1;
            while (e + 2 < ns && tok_is(&t[e + 1], "-") && t[e + 1].p == t[e].p + t[e].n &&
                   (t[e + 2].type == SQLT_IDENT || t[e + 2].type == SQLT_NUMBER) &&
                   t[e + 2].p == t[e + 1].p + 1)
                e += 2;
            if (e > k + 1) {
                if ((rc = sl_buf_add(&rw->sql, pos, (size_t)(t[k + 1].p - pos))) < 0) goto out;
                if ((rc = sl_buf_addc(&rw->sql, '"')) < 0 ||
                    (rc = sl_buf_add(&rw->sql, t[k + 1].p,
                                     (size_t)(t[e].p + t[e].n - t[k + 1].p))) < 0 ||
                    (rc = sl_buf_addc(&rw->sql, '"')) < 0)
                    goto out;
                pos = t[e].p + t[e].n;
                k = e;
                continue;
            }
        }
        if (tok_is_time(c) && k + 1 < ns) {
            size_t j = k + 1;
            if (tok_is(&t[j], "NOT") && j + 1 < ns) j++;
            if (tok_is(&t[j], "BETWEEN")) between = 2;
            if (tok_is(&t[j], "IN") && j + 1 < ns && tok_is(&t[j + 1], "(")) in_list = 1;
        }
        if (in_list && tok_is(c, ")")) in_list = 0;
        if (repl_end) {
            if ((rc = sl_buf_add(&rw->sql, pos, (size_t)(c->p - pos))) < 0 ||
                (rc = sl_buf_adds(&rw->sql, num)) < 0)
                goto out;
            pos = repl_end;
        }
    }
    if ((rc = sl_buf_add(&rw->sql, pos, (size_t)(q + len - pos))) < 0) goto out;
    rc = collect_time_names(rw);
out:
    (void)at;
    if (rc == SL_ENOMEM) snprintf(err, errlen, "out of memory rewriting the query");
    if (rc < 0) sql_rewrite_release(rw);
    sl_buf_release(&tmp);
    sl_free(at);
    sl_free(t);
    sl_free(all);
    return rc;
}

void sql_rewrite_release(struct sql_rewrite *rw)
{
    sl_buf_release(&rw->sql);
    for (size_t i = 0; i < rw->ntime_names; i++)
        sl_free(rw->time_names[i]);
    rw->ntime_names = 0;
}
