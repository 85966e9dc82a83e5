/*
 * delete_pred.c — parser of InfluxDB 2.x delete predicates and of the
 * start/stop times of POST /api/v2/delete (grammar in delete_v2.h).
 *
 * Tokens follow InfluxQL's scanner, which 2.x uses: a bare identifier is a
 * letter or '_' (or any byte >= 0x80) then letters, digits and '_'; a
 * double-quoted string is an identifier too (so `host="a"` and `host=a` are
 * the same), with the escapes \" \\ \' \n; a single-quoted string is a
 * string literal, which 2.x refuses as a tag value; numbers are digits with
 * at most one '.', kept as written. TRUE and FALSE are keywords (any case)
 * that compare as "true" and "false".
 *
 * Only AND exists, so parentheses change nothing: the comparisons are
 * collected in a flat list and joined by a balanced AND tree, whatever the
 * nesting (no recursion, bounded depth for the WAL record). The parser is
 * stricter than 2.x's in one way: 2.x quietly accepts a predicate that starts
 * or ends with AND, or two comparisons with nothing between them; a deletion
 * that may not say what was meant is refused here instead.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/delete_v2.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

enum tok {
    T_EOF,
    T_IDENT,  /* bare or double-quoted identifier */
    T_NUMBER, /* 12, 1.5 */
    T_STRING, /* 'single-quoted' */
    T_AND,
    T_OR,
    T_TRUE,
    T_FALSE,
    T_EQ,
    T_OP, /* any other comparison operator: != <> =~ !~ < <= > >= */
    T_LPAREN,
    T_RPAREN,
    T_BAD, /* a byte that starts no token, an unterminated string, a bad escape */
};

struct lexer {
    const char *s;
    size_t n, i;
    /* the current token */
    enum tok tok;
    size_t pos;      /* its first byte */
    char *text;      /* identifier/number text (unescaped), owned */
    size_t textlen;  /* bytes in text */
    const char *why; /* T_BAD: what is wrong */
    char whybuf[96]; /* why, when it names the byte */
    char op[3];      /* T_OP: the operator as written */
    int quoted;      /* T_IDENT came from a double-quoted string */
    size_t cap;      /* bytes allocated for text */
    struct delete_v2_err *e;
};

static int is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int text_reserve(struct lexer *lx, size_t need)
{
    if (need + 1 <= lx->cap) return 0;
    size_t cap = lx->cap ? lx->cap : 64;
    while (cap < need + 1)
        cap *= 2;
    char *t = sl_realloc(lx->text, cap);
    if (!t) return SL_ENOMEM;
    lx->text = t;
    lx->cap = cap;
    return 0;
}

/* Reads the next token into lx. Returns 0 or SL_ENOMEM. */
static int lex_next(struct lexer *lx)
{
    const char *s = lx->s;
    size_t n = lx->n;
    while (lx->i < n &&
           (s[lx->i] == ' ' || s[lx->i] == '\t' || s[lx->i] == '\n' || s[lx->i] == '\r'))
        lx->i++;
    lx->pos = lx->i;
    lx->textlen = 0;
    lx->quoted = 0;
    if (lx->i >= n) {
        lx->tok = T_EOF;
        return 0;
    }
    unsigned char c = (unsigned char)s[lx->i];
    if (c == '(' || c == ')') {
        lx->i++;
        lx->tok = c == '(' ? T_LPAREN : T_RPAREN;
        return 0;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
        char d = lx->i + 1 < n ? s[lx->i + 1] : '\0';
        size_t len = 1;
        if ((c == '=' && d == '~') || (c == '!' && (d == '=' || d == '~')) ||
            (c == '<' && (d == '=' || d == '>')) || (c == '>' && d == '='))
            len = 2;
        if (c == '!' && len == 1) {
            lx->tok = T_BAD;
            lx->why = "'!' must be followed by '=' or '~'";
            return 0;
        }
        memcpy(lx->op, s + lx->i, len);
        lx->op[len] = '\0';
        lx->i += len;
        lx->tok = c == '=' && len == 1 ? T_EQ : T_OP;
        return 0;
    }
    if (c == '"' || c == '\'') {
        size_t j = lx->i + 1;
        for (;;) {
            if (j >= n || s[j] == '\n') {
                lx->tok = T_BAD;
                lx->why = c == '"' ? "unterminated double-quoted string"
                                   : "unterminated single-quoted string";
                return 0;
            }
            char ch = s[j];
            if (ch == (char)c) break;
            if (ch == '\\') {
                char esc = j + 1 < n ? s[j + 1] : '\0';
                if (esc == 'n')
                    ch = '\n';
                else if (esc == '\\' || esc == '"' || esc == '\'')
                    ch = esc;
                else {
                    lx->tok = T_BAD;
                    lx->pos = j;
                    lx->why = "bad escape in a quoted string (use \\\" \\\\ \\' or \\n)";
                    return 0;
                }
                j++;
            }
            if (text_reserve(lx, lx->textlen + 1) < 0) return SL_ENOMEM;
            lx->text[lx->textlen++] = ch;
            j++;
        }
        lx->i = j + 1;
        if (text_reserve(lx, lx->textlen) < 0) return SL_ENOMEM;
        lx->text[lx->textlen] = '\0';
        lx->tok = c == '"' ? T_IDENT : T_STRING;
        lx->quoted = 1;
        return 0;
    }
    if (is_ident_start(c) || (c >= '0' && c <= '9')) {
        size_t j = lx->i;
        int number = !is_ident_start(c);
        if (number) {
            int dot = 0;
            while (j < n && ((s[j] >= '0' && s[j] <= '9') || (s[j] == '.' && !dot))) {
                dot |= s[j] == '.';
                j++;
            }
            if (s[j - 1] == '.' || (j < n && (is_ident_char((unsigned char)s[j]) || s[j] == '.'))) {
                lx->tok = T_BAD;
                lx->why = "malformed number (quote a value that is not a plain number)";
                return 0;
            }
        } else {
            while (j < n && is_ident_char((unsigned char)s[j]))
                j++;
        }
        size_t len = j - lx->i;
        if (text_reserve(lx, len) < 0) return SL_ENOMEM;
        memcpy(lx->text, s + lx->i, len);
        lx->text[len] = '\0';
        lx->textlen = len;
        lx->i = j;
        lx->tok = number ? T_NUMBER : T_IDENT;
        if (!number) {
            if (len == 3 && !strncasecmp(lx->text, "and", 3))
                lx->tok = T_AND;
            else if (len == 2 && !strncasecmp(lx->text, "or", 2))
                lx->tok = T_OR;
            else if (len == 4 && !strncasecmp(lx->text, "true", 4))
                lx->tok = T_TRUE;
            else if (len == 5 && !strncasecmp(lx->text, "false", 5))
                lx->tok = T_FALSE;
        }
        return 0;
    }
    lx->tok = T_BAD;
    if (c == '/') {
        lx->why = "regular expressions are not supported in a delete predicate";
    } else {
        if (c >= 0x21 && c < 0x7f)
            snprintf(lx->whybuf, sizeof(lx->whybuf),
                     "unexpected character '%c' (double-quote names and values that contain it)",
                     c);
        else
            snprintf(lx->whybuf, sizeof(lx->whybuf), "unexpected byte 0x%02x", c);
        lx->why = lx->whybuf;
    }
    return 0;
}

/* Sets the message (fmt takes the detail, then the position) and returns SL_EINVAL. */
__attribute__((format(printf, 2, 3))) static int failf(struct lexer *lx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lx->e->msg, sizeof(lx->e->msg), fmt, ap);
    va_end(ap);
    return SL_EINVAL;
}

/* What the current token is, for messages. */
static const char *tok_name(const struct lexer *lx)
{
    switch (lx->tok) {
    case T_EOF: return "the end of the predicate";
    case T_IDENT: return "an identifier";
    case T_NUMBER: return "a number";
    case T_STRING: return "a single-quoted string";
    case T_AND: return "AND";
    case T_OR: return "OR";
    case T_TRUE: return "true";
    case T_FALSE: return "false";
    case T_EQ: return "=";
    case T_OP: return lx->op;
    case T_LPAREN: return "(";
    case T_RPAREN: return ")";
    default: return lx->why;
    }
}

struct leaf {
    char *key, *val;
    int measurement;
};

/* Joins leaves [lo, hi) into a balanced AND tree; frees their strings. */
static struct del_node *join(struct leaf *lv, size_t lo, size_t hi)
{
    if (hi - lo == 1) {
        struct leaf *f = &lv[lo];
        return f->measurement ? del_node_new(DEL_NAME_EQ, NULL, f->val, NULL, NULL)
                              : del_node_new(DEL_TAG_EQ, f->key, f->val, NULL, NULL);
    }
    size_t mid = lo + (hi - lo) / 2;
    struct del_node *l = join(lv, lo, mid);
    struct del_node *r = l ? join(lv, mid, hi) : NULL;
    if (!r) {
        del_node_free(l);
        return NULL;
    }
    return del_node_new(DEL_AND, NULL, NULL, l, r);
}

int delete_v2_parse_predicate(const char *s, size_t n, struct del_node **root,
                              struct delete_v2_err *e)
{
    *root = NULL;
    e->not_implemented = 0;
    e->msg[0] = '\0';
    if (n > DELETE_V2_MAX_PREDICATE) {
        snprintf(e->msg, sizeof(e->msg), "predicate is too long: %zu bytes, at most %d", n,
                 DELETE_V2_MAX_PREDICATE);
        return SL_EINVAL;
    }
    const char *nul = memchr(s, '\0', n);
    if (nul) {
        snprintf(e->msg, sizeof(e->msg), "predicate contains a NUL byte at position %zu",
                 (size_t)(nul - s));
        return SL_EINVAL;
    }
    struct lexer lx = {.s = s, .n = n, .e = e};
    struct leaf lv[DELETE_V2_MAX_TERMS];
    size_t nl = 0, field_pos = 0;
    int depth = 0, rc = 0, field = 0;
    /* state: expecting a term (after start, '(' or AND) or a connector (after a term or ')') */
    int want_term = 1;
    if ((rc = lex_next(&lx)) < 0) goto out;
    if (lx.tok == T_EOF) goto out; /* empty: every series */
    for (;;) {
        if (lx.tok == T_BAD) {
            rc = failf(&lx, "invalid predicate: %s at position %zu", lx.why, lx.pos);
            goto out;
        }
        if (want_term) {
            if (lx.tok == T_LPAREN) {
                if (++depth > DELETE_V2_MAX_PARENS) {
                    snprintf(e->msg, sizeof(e->msg),
                             "invalid predicate: parentheses nested deeper than %d at position %zu",
                             DELETE_V2_MAX_PARENS, lx.pos);
                    rc = SL_EINVAL;
                    goto out;
                }
                if ((rc = lex_next(&lx)) < 0) goto out;
                continue;
            }
            if (lx.tok != T_IDENT) {
                rc = failf(&lx,
                           lx.tok == T_STRING
                               ? "bad tag key: %s at position %zu (quote names with double quotes)"
                               : "bad tag key: expected a tag key or _measurement, found %s at "
                                 "position %zu",
                           tok_name(&lx), lx.pos);
                goto out;
            }
            if (!lx.textlen) {
                rc = failf(&lx, "bad tag key: %s at position %zu is empty", "the key", lx.pos);
                goto out;
            }
            size_t key_pos = lx.pos;
            char *key = sl_strdup(lx.text);
            if (!key) {
                rc = SL_ENOMEM;
                goto out;
            }
            if ((rc = lex_next(&lx)) < 0) {
                sl_free(key);
                goto out;
            }
            if (lx.tok != T_EQ) {
                if (lx.tok == T_OP)
                    rc = failf(&lx,
                               "operator %s at position %zu is not supported in a delete "
                               "predicate: only = is",
                               lx.op, lx.pos);
                else if (lx.tok == T_BAD)
                    rc = failf(&lx, "invalid predicate: %s at position %zu", lx.why, lx.pos);
                else
                    rc = failf(&lx, "invalid operator: expected =, found %s at position %zu",
                               tok_name(&lx), lx.pos);
                sl_free(key);
                goto out;
            }
            if ((rc = lex_next(&lx)) < 0) {
                sl_free(key);
                goto out;
            }
            const char *val = NULL;
            if (lx.tok == T_IDENT || lx.tok == T_NUMBER)
                val = lx.text;
            else if (lx.tok == T_TRUE)
                val = "true";
            else if (lx.tok == T_FALSE)
                val = "false";
            if (!val) {
                if (lx.tok == T_STRING)
                    rc = failf(&lx,
                               "bad tag value: %s at position %zu: quote values with double "
                               "quotes",
                               tok_name(&lx), lx.pos);
                else if (lx.tok == T_BAD)
                    rc = failf(&lx, "bad tag value: %s at position %zu", lx.why, lx.pos);
                else
                    rc = failf(&lx, "bad tag value: expected a value, found %s at position %zu",
                               tok_name(&lx), lx.pos);
                sl_free(key);
                goto out;
            }
            if (!strcmp(key, "_time") || !strcmp(key, "_value")) {
                snprintf(e->msg, sizeof(e->msg),
                         "%s cannot be used in a delete predicate (position %zu): %s", key, key_pos,
                         key[1] == 't' ? "give the time range with start and stop"
                                       : "points are selected by measurement and tags only");
                sl_free(key);
                rc = SL_EINVAL;
                goto out;
            }
            if (nl == DELETE_V2_MAX_TERMS) {
                snprintf(e->msg, sizeof(e->msg),
                         "predicate has more than %d comparisons (position %zu)",
                         DELETE_V2_MAX_TERMS, key_pos);
                sl_free(key);
                rc = SL_EINVAL;
                goto out;
            }
            if (!strcmp(key, "_field") && !field) {
                field = 1;
                field_pos = key_pos;
            }
            lv[nl].measurement = !strcmp(key, "_measurement");
            lv[nl].key = key;
            lv[nl].val = sl_strdup(val);
            if (!lv[nl++].val) {
                rc = SL_ENOMEM;
                goto out;
            }
            want_term = 0;
            if ((rc = lex_next(&lx)) < 0) goto out;
            continue;
        }
        /* after a term */
        if (lx.tok == T_RPAREN) {
            if (--depth < 0) {
                rc = failf(&lx, "invalid predicate: %s at position %zu", "extra )", lx.pos);
                goto out;
            }
        } else if (lx.tok == T_AND) {
            want_term = 1;
        } else if (lx.tok == T_EOF) {
            break;
        } else if (lx.tok == T_OR) {
            rc = failf(&lx,
                       "the logical operator %s at position %zu is not supported in a delete "
                       "predicate: only AND is",
                       "OR", lx.pos);
            goto out;
        } else {
            rc = failf(&lx, "invalid predicate: expected AND, found %s at position %zu",
                       tok_name(&lx), lx.pos);
            goto out;
        }
        if ((rc = lex_next(&lx)) < 0) goto out;
        if (want_term && lx.tok == T_EOF) {
            rc = failf(&lx, "invalid predicate: %s at position %zu", "AND without a right side",
                       lx.pos);
            goto out;
        }
    }
    if (depth > 0) {
        rc = failf(&lx, "invalid predicate: %s at position %zu", "missing )", lx.pos);
        goto out;
    }
    if (field) {
        /* 2.x parses it, then answers 501: a field is not part of the series key */
        snprintf(e->msg, sizeof(e->msg),
                 "delete by field is not supported (_field at position %zu): delete the "
                 "measurement's points, or select the series by tags",
                 field_pos);
        e->not_implemented = 1;
        rc = SL_EINVAL;
        goto out;
    }
    if (nl && !(*root = join(lv, 0, nl))) rc = SL_ENOMEM;
out:
    for (size_t i = 0; i < nl; i++) {
        sl_free(lv[i].key);
        sl_free(lv[i].val);
    }
    sl_free(lx.text);
    if (rc == SL_ENOMEM) snprintf(e->msg, sizeof(e->msg), "out of memory");
    return rc;
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *v)
{
    if (at + count > n) return 0;
    int x = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') return 0;
        x = x * 10 + (c - '0');
    }
    *v = x;
    return 1;
}

/* Days from 1970-01-01 to the date (proleptic Gregorian; Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int delete_v2_parse_time(const char *s, size_t n, int64_t *ns)
{
    int Y, M, D, h, mi, sec, oh = 0, om = 0, sign = 0;
    int64_t frac = 0;
    if (!digits(s, n, 0, 4, &Y) || n < 20 || s[4] != '-' || !digits(s, n, 5, 2, &M) ||
        s[7] != '-' || !digits(s, n, 8, 2, &D) || s[10] != 'T' || !digits(s, n, 11, 2, &h) ||
        s[13] != ':' || !digits(s, n, 14, 2, &mi) || s[16] != ':' || !digits(s, n, 17, 2, &sec))
        return SL_EINVAL;
    size_t i = 19;
    if (s[i] == '.') {
        size_t f = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (i - f < 9) frac = frac * 10 + (s[i] - '0');
        if (i == f || i - f > 9) return SL_EINVAL; /* Go takes at most 9 digits */
        for (size_t k = i - f; k < 9; k++)
            frac *= 10;
    }
    if (i < n && s[i] == 'Z') {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        sign = s[i] == '-' ? -1 : 1;
        if (!digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' ||
            !digits(s, n, i + 4, 2, &om))
            return SL_EINVAL;
        i += 6;
    } else {
        return SL_EINVAL;
    }
    if (i != n) return SL_EINVAL;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
    if (M < 1 || M > 12 || D < 1 || D > mdays[M - 1] || (M == 2 && D == 29 && !leap) || h > 23 ||
        mi > 59 || sec > 59 || oh > 23 || om > 59)
        return SL_EINVAL;
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + mi * 60 + sec -
                   sign * ((int64_t)oh * 3600 + om * 60);
    /* 2.x's bounds: models.MinNanoTime and MaxNanoTime (the extremes are sentinels) */
    __int128 t = (__int128)secs * SL_NS_PER_S + frac;
    if (t < (__int128)INT64_MIN + 2 || t > (__int128)INT64_MAX - 1) return SL_ERANGE;
    *ns = (int64_t)t;
    return 0;
}
