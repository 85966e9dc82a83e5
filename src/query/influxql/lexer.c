/*
 * lexer.c — InfluxQL scanner.
 *
 * Tokens (InfluxDB 1.x):
 *   identifiers   [A-Za-z_][A-Za-z0-9_]* or "double quoted" (escapes \" \\ \' \n);
 *                 unquoted ones matching a keyword are keywords (case-insensitive)
 *   parameters    $name or $"quoted name"
 *   strings       'single quoted' with the same escapes; no raw newline
 *   integers      [0-9]+          numbers  [0-9]*.[0-9]+ (no exponent)
 *   durations     ([0-9]+ unit)+  units ns u µ (us µs) ms s m h d w
 *   regexes       /.../ with \/ for a slash — only where the parser asks for
 *                 one (iql_lex_regex), since '/' is also division
 *   operators     + - * / % & | ^ = != <> < <= > >= =~ !~ ( ) , : :: ; .
 *   comments      -- to end of line, block comments between slash-star and star-slash
 * A NUL byte is never valid. Decoded text goes into the lexer's arena.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "query/influxql/iql_int.h"

static const char *const kw_names[] = {
    "ALL",         "ALTER",       "ANALYZE",      "AND",          "ANY",
    "AS",          "ASC",         "BEGIN",        "BY",           "CARDINALITY",
    "CONTINUOUS",  "CREATE",      "DATABASE",     "DATABASES",    "DEFAULT",
    "DELETE",      "DESC",        "DESTINATIONS", "DIAGNOSTICS",  "DISTINCT",
    "DROP",        "DURATION",    "END",          "EVERY",        "EXACT",
    "EXPLAIN",     "FIELD",       "FOR",          "FROM",         "GRANT",
    "GRANTS",      "GROUP",       "GROUPS",       "IN",           "INF",
    "INSERT",      "INTO",        "KEY",          "KEYS",         "KILL",
    "LIMIT",       "MEASUREMENT", "MEASUREMENTS", "NAME",         "OFFSET",
    "ON",          "OR",          "ORDER",        "PASSWORD",     "POLICIES",
    "POLICY",      "PRIVILEGES",  "QUERIES",      "QUERY",        "READ",
    "REPLICATION", "RESAMPLE",    "RETENTION",    "REVOKE",       "SELECT",
    "SERIES",      "SET",         "SHARD",        "SHARDS",       "SHOW",
    "SLIMIT",      "SOFFSET",     "STATS",        "SUBSCRIPTION", "SUBSCRIPTIONS",
    "TAG",         "TO",          "USER",         "USERS",        "VALUES",
    "WHERE",       "WITH",        "WRITE",
};

_Static_assert(sizeof(kw_names) / sizeof(kw_names[0]) == TK_KW_END - TK_KW_FIRST,
               "keyword table out of sync with enum iql_tok");

enum iql_tok iql_keyword_lookup(const char *s, size_t n)
{
    if (n == 4 && strncasecmp(s, "true", 4) == 0) return TK_TRUE;
    if (n == 5 && strncasecmp(s, "false", 5) == 0) return TK_FALSE;
    size_t lo = 0, hi = sizeof(kw_names) / sizeof(kw_names[0]);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = kw_names[mid];
        size_t kl = strlen(k);
        int c = strncasecmp(s, k, n < kl ? n : kl);
        if (c == 0) c = (n > kl) - (n < kl);
        if (c == 0) return (enum iql_tok)(TK_KW_FIRST + mid);
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return TK_IDENT;
}

bool iql_is_keyword(const char *s)
{
    enum iql_tok t = iql_keyword_lookup(s, strlen(s));
    return t != TK_IDENT;
}

const char *iql_tok_name(enum iql_tok t)
{
    if (t >= TK_KW_FIRST && t < TK_KW_END) return kw_names[t - TK_KW_FIRST];
    switch (t) {
    case TK_EOF: return "EOF";
    case TK_ILLEGAL: return "ILLEGAL";
    case TK_IDENT: return "identifier";
    case TK_PARAM: return "bound parameter";
    case TK_NUMBER: return "number";
    case TK_INTEGER: return "integer";
    case TK_DURATION: return "duration";
    case TK_STRING: return "string";
    case TK_REGEX: return "regex";
    case TK_TRUE: return "TRUE";
    case TK_FALSE: return "FALSE";
    case TK_ADD: return "+";
    case TK_SUB: return "-";
    case TK_MUL: return "*";
    case TK_DIV: return "/";
    case TK_MOD: return "%";
    case TK_BITAND: return "&";
    case TK_BITOR: return "|";
    case TK_BITXOR: return "^";
    case TK_EQ: return "=";
    case TK_NEQ: return "!=";
    case TK_EQREGEX: return "=~";
    case TK_NEQREGEX: return "!~";
    case TK_LT: return "<";
    case TK_LTE: return "<=";
    case TK_GT: return ">";
    case TK_GTE: return ">=";
    case TK_LPAREN: return "(";
    case TK_RPAREN: return ")";
    case TK_COMMA: return ",";
    case TK_COLON: return ":";
    case TK_DCOLON: return "::";
    case TK_SEMI: return ";";
    case TK_DOT: return ".";
    default: return "?";
    }
}

static bool is_ident_start(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static void set_illegal(struct iql_token *t, char *msg, size_t msgcap, const char *why)
{
    t->kind = TK_ILLEGAL;
    if (msg && msgcap) snprintf(msg, msgcap, "%s", why);
}

/*
 * Scans a quoted string/identifier body; lx->pos is just after the opening
 * quote. Decodes into the arena. Returns false (with msg) on a bad string.
 */
static bool scan_quoted(struct iql_lexer *lx, char quote, struct iql_token *t, char *msg,
                        size_t msgcap)
{
    size_t i = lx->pos;
    /* The decoded text is never longer than the raw one. */
    size_t end = i;
    while (end < lx->n && lx->q[end] != quote) {
        if (lx->q[end] == '\\' && end + 1 < lx->n) end++;
        end++;
    }
    char *d = sl_arena_alloc(lx->a, end - i + 1);
    if (!d) {
        set_illegal(t, msg, msgcap, "out of memory");
        t->i = SL_ENOMEM;
        return false;
    }
    size_t dn = 0;
    for (;;) {
        if (i >= lx->n) {
            lx->pos = i;
            set_illegal(t, msg, msgcap, "unterminated quoted string");
            return false;
        }
        char c = lx->q[i];
        if (c == quote) {
            i++;
            break;
        }
        if (c == '\n' || c == '\0') {
            lx->pos = i;
            t->err_at = i;
            set_illegal(t, msg, msgcap,
                        c ? "newline in quoted string" : "NUL byte in quoted string");
            return false;
        }
        if (c == '\\') {
            char e = i + 1 < lx->n ? lx->q[i + 1] : '\0';
            if (e == 'n')
                d[dn++] = '\n';
            else if (e == '\\' || e == '"' || e == '\'')
                d[dn++] = e;
            else {
                lx->pos = i;
                t->err_at = i;
                set_illegal(t, msg, msgcap, "bad escape in quoted string");
                return false;
            }
            i += 2;
            continue;
        }
        d[dn++] = c;
        i++;
    }
    d[dn] = '\0';
    t->text = d;
    lx->pos = i;
    return true;
}

int iql_duration_parse(const char *s, size_t n, int64_t *out)
{
    if (n == 0) return SL_EINVAL;
    size_t i = 0;
    __int128 total = 0;
    while (i < n) {
        if (s[i] < '0' || s[i] > '9') return SL_EINVAL;
        __int128 v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            v = v * 10 + (s[i++] - '0');
            if (v > INT64_MAX) return SL_ERANGE;
        }
        int64_t mul;
        const char *u = s + i;
        size_t rest = n - i;
        if (rest >= 2 && u[0] == 'n' && u[1] == 's')
            mul = 1, i += 2;
        else if (rest >= 2 && u[0] == 'm' && u[1] == 's')
            mul = 1000000, i += 2;
        else if (rest >= 2 && (unsigned char)u[0] == 0xc2 && (unsigned char)u[1] == 0xb5)
            mul = 1000, i += (rest >= 3 && u[2] == 's') ? 3 : 2; /* µ or µs */
        else if (rest >= 1 && u[0] == 'u')
            mul = 1000, i += (rest >= 2 && u[1] == 's') ? 2 : 1; /* u or us */
        else if (rest >= 1 && u[0] == 's')
            mul = 1000000000LL, i += 1;
        else if (rest >= 1 && u[0] == 'm')
            mul = 60 * 1000000000LL, i += 1;
        else if (rest >= 1 && u[0] == 'h')
            mul = 3600 * 1000000000LL, i += 1;
        else if (rest >= 1 && u[0] == 'd')
            mul = 86400 * 1000000000LL, i += 1;
        else if (rest >= 1 && u[0] == 'w')
            mul = 7 * 86400 * 1000000000LL, i += 1;
        else
            return SL_EINVAL;
        total += v * mul;
        if (total > INT64_MAX) return SL_ERANGE;
    }
    *out = (int64_t)total;
    return 0;
}

size_t iql_duration_format(int64_t ns, char *out, size_t cap)
{
    static const struct {
        int64_t mul;
        const char *unit;
    } units[] = {
        {7 * 86400 * 1000000000LL, "w"},
        {86400 * 1000000000LL, "d"},
        {3600 * 1000000000LL, "h"},
        {60 * 1000000000LL, "m"},
        {1000000000LL, "s"},
        {1000000LL, "ms"},
        {1000LL, "u"},
    };
    if (ns == 0) return (size_t)snprintf(out, cap, "0s");
    const char *unit = "ns";
    int64_t v = ns;
    for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
        if (ns % units[k].mul == 0) {
            v = ns / units[k].mul;
            unit = units[k].unit;
            break;
        }
    }
    int r = snprintf(out, cap, "%lld%s", (long long)v, unit);
    return r < 0 ? 0 : (size_t)r;
}

static void scan_number(struct iql_lexer *lx, struct iql_token *t, char *msg, size_t msgcap)
{
    size_t i = lx->pos;
    while (i < lx->n && isdigit((unsigned char)lx->q[i]))
        i++;
    bool is_float = false;
    if (i + 1 < lx->n && lx->q[i] == '.' && isdigit((unsigned char)lx->q[i + 1])) {
        is_float = true;
        i++;
        while (i < lx->n && isdigit((unsigned char)lx->q[i]))
            i++;
    }
    size_t numend = i;
    /* A letter right after an integer makes a duration ("10s", "1h30m", "5µs"). */
    if (!is_float && i < lx->n &&
        (isalpha((unsigned char)lx->q[i]) || ((unsigned char)lx->q[i] == 0xc2 && i + 1 < lx->n &&
                                              (unsigned char)lx->q[i + 1] == 0xb5))) {
        while (i < lx->n) {
            unsigned char c = (unsigned char)lx->q[i];
            if (isalnum(c) || c == '_')
                i++;
            else if (c == 0xc2 && i + 1 < lx->n && (unsigned char)lx->q[i + 1] == 0xb5)
                i += 2;
            else
                break;
        }
        lx->pos = i;
        int rc = iql_duration_parse(lx->q + t->start, i - t->start, &t->i);
        if (rc < 0) {
            set_illegal(t, msg, msgcap,
                        rc == SL_ERANGE ? "overflowed duration" : "invalid duration");
            return;
        }
        t->kind = TK_DURATION;
        return;
    }
    lx->pos = i;
    char tmp[64];
    size_t len = numend - t->start;
    if (is_float) {
        /* Long literals: strtod needs a NUL-terminated copy. */
        char *cp = len < sizeof(tmp) ? tmp : sl_arena_alloc(lx->a, len + 1);
        if (!cp) {
            set_illegal(t, msg, msgcap, "out of memory");
            t->i = SL_ENOMEM;
            return;
        }
        memcpy(cp, lx->q + t->start, len);
        cp[len] = '\0';
        errno = 0;
        double v = strtod(cp, NULL);
        if (errno == ERANGE && (v > 1.0 || v < -1.0)) {
            set_illegal(t, msg, msgcap, "unable to parse number");
            return;
        }
        t->kind = TK_NUMBER;
        t->f = v;
        return;
    }
    uint64_t v = 0;
    for (size_t k = t->start; k < numend; k++) {
        unsigned d = (unsigned)(lx->q[k] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            set_illegal(t, msg, msgcap, "unable to parse integer");
            return;
        }
        v = v * 10 + d;
    }
    t->kind = TK_INTEGER;
    t->u = v;
}

void iql_lex_next(struct iql_lexer *lx, struct iql_token *t, char *msg, size_t msgcap)
{
    memset(t, 0, sizeof(*t));
    const char *q = lx->q;
    size_t n = lx->n;
    /* blanks and comments */
    for (;;) {
        while (lx->pos < n && (q[lx->pos] == ' ' || q[lx->pos] == '\t' || q[lx->pos] == '\n' ||
                               q[lx->pos] == '\r' || q[lx->pos] == '\f' || q[lx->pos] == '\v'))
            lx->pos++;
        if (lx->pos + 1 < n && q[lx->pos] == '-' && q[lx->pos + 1] == '-') {
            while (lx->pos < n && q[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        if (lx->pos + 1 < n && q[lx->pos] == '/' && q[lx->pos + 1] == '*') {
            size_t i = lx->pos + 2;
            while (i + 1 < n && !(q[i] == '*' && q[i + 1] == '/'))
                i++;
            if (i + 1 >= n) {
                t->start = lx->pos;
                t->end = n;
                lx->pos = n;
                set_illegal(t, msg, msgcap, "unterminated comment");
                return;
            }
            lx->pos = i + 2;
            continue;
        }
        break;
    }
    t->start = lx->pos;
    if (lx->pos >= n) {
        t->kind = TK_EOF;
        t->end = n;
        return;
    }
    unsigned char c = (unsigned char)q[lx->pos];
    unsigned char c1 = lx->pos + 1 < n ? (unsigned char)q[lx->pos + 1] : 0;
    if (is_ident_start(c)) {
        size_t i = lx->pos;
        while (i < n && is_ident_char((unsigned char)q[i]))
            i++;
        t->kind = iql_keyword_lookup(q + lx->pos, i - lx->pos);
        if (t->kind == TK_IDENT) {
            t->text = sl_arena_strndup(lx->a, q + lx->pos, i - lx->pos);
            if (!t->text) {
                set_illegal(t, msg, msgcap, "out of memory");
                t->i = SL_ENOMEM;
            }
        }
        lx->pos = i;
        t->end = i;
        return;
    }
    if (c == '"' || c == '\'') {
        lx->pos++;
        if (scan_quoted(lx, (char)c, t, msg, msgcap)) t->kind = c == '"' ? TK_IDENT : TK_STRING;
        t->end = lx->pos;
        return;
    }
    if (c == '$') {
        lx->pos++;
        if (c1 == '"') {
            lx->pos++;
            if (scan_quoted(lx, '"', t, msg, msgcap)) t->kind = TK_PARAM;
        } else {
            size_t i = lx->pos;
            while (i < n && is_ident_char((unsigned char)q[i]))
                i++;
            if (i == lx->pos) {
                set_illegal(t, msg, msgcap, "missing parameter name after $");
            } else {
                t->text = sl_arena_strndup(lx->a, q + lx->pos, i - lx->pos);
                t->kind = TK_PARAM;
                if (!t->text) {
                    set_illegal(t, msg, msgcap, "out of memory");
                    t->i = SL_ENOMEM;
                }
            }
            lx->pos = i;
        }
        t->end = lx->pos;
        return;
    }
    if (isdigit(c) || (c == '.' && isdigit(c1))) {
        scan_number(lx, t, msg, msgcap);
        t->end = lx->pos;
        return;
    }
    size_t len = 1;
    switch (c) {
    case '+': t->kind = TK_ADD; break;
    case '-': t->kind = TK_SUB; break;
    case '*': t->kind = TK_MUL; break;
    case '/': t->kind = TK_DIV; break;
    case '%': t->kind = TK_MOD; break;
    case '&': t->kind = TK_BITAND; break;
    case '|': t->kind = TK_BITOR; break;
    case '^': t->kind = TK_BITXOR; break;
    case '(': t->kind = TK_LPAREN; break;
    case ')': t->kind = TK_RPAREN; break;
    case ',': t->kind = TK_COMMA; break;
    case ';': t->kind = TK_SEMI; break;
    case '.': t->kind = TK_DOT; break;
    case ':':
        if (c1 == ':')
            t->kind = TK_DCOLON, len = 2;
        else
            t->kind = TK_COLON;
        break;
    case '=':
        if (c1 == '~')
            t->kind = TK_EQREGEX, len = 2;
        else
            t->kind = TK_EQ;
        break;
    case '!':
        if (c1 == '=')
            t->kind = TK_NEQ, len = 2;
        else if (c1 == '~')
            t->kind = TK_NEQREGEX, len = 2;
        else
            set_illegal(t, msg, msgcap, "unexpected '!'");
        break;
    case '<':
        if (c1 == '=')
            t->kind = TK_LTE, len = 2;
        else if (c1 == '>')
            t->kind = TK_NEQ, len = 2;
        else
            t->kind = TK_LT;
        break;
    case '>':
        if (c1 == '=')
            t->kind = TK_GTE, len = 2;
        else
            t->kind = TK_GT;
        break;
    default: set_illegal(t, msg, msgcap, "unexpected character"); break;
    }
    lx->pos += len;
    t->end = lx->pos;
}

void iql_lex_regex(struct iql_lexer *lx, struct iql_token *t, char *msg, size_t msgcap)
{
    size_t i = lx->pos, start = lx->pos;
    memset(t, 0, sizeof(*t));
    t->start = start > 0 ? start - 1 : 0;
    /* First pass: find the end. */
    while (i < lx->n && lx->q[i] != '/') {
        if (lx->q[i] == '\\' && i + 1 < lx->n) i++;
        i++;
    }
    if (i >= lx->n) {
        lx->pos = lx->n;
        t->end = lx->n;
        set_illegal(t, msg, msgcap, "unterminated regex");
        return;
    }
    char *d = sl_arena_alloc(lx->a, i - start + 1);
    if (!d) {
        set_illegal(t, msg, msgcap, "out of memory");
        t->i = SL_ENOMEM;
        return;
    }
    size_t dn = 0;
    for (size_t k = start; k < i; k++) {
        char c = lx->q[k];
        if (c == '\0') {
            lx->pos = k;
            t->end = k;
            set_illegal(t, msg, msgcap, "NUL byte in regex");
            return;
        }
        if (c == '\\' && lx->q[k + 1] == '/') {
            d[dn++] = '/';
            k++;
            continue;
        }
        if (c == '\\') {
            d[dn++] = c;
            c = lx->q[++k];
            if (c == '\0') {
                lx->pos = k;
                t->end = k;
                set_illegal(t, msg, msgcap, "NUL byte in regex");
                return;
            }
        }
        d[dn++] = c;
    }
    d[dn] = '\0';
    lx->pos = i + 1;
    t->end = lx->pos;
    t->kind = TK_REGEX;
    t->text = d;
}
