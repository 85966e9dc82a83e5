/*
 * scalar.c — TOML 1.0 scalars: the four string forms, integers (decimal,
 * 0x, 0o, 0b), floats (including inf and nan), booleans and the four
 * datetime forms.
 *
 * Strings are decoded into the parser's scratch buffer, then copied into the
 * document arena. Numbers are checked against the grammar first (digits
 * with single underscores between them, no leading zeros, signs only on
 * decimals) and only then converted, so strtod/strtoll never see anything
 * the grammar rejects. Datetimes follow RFC 3339 with TOML's relaxations
 * (a space may separate date and time, lower-case t and z); seconds are
 * required, 60 is allowed as a leap second, digits beyond nanoseconds are
 * truncated.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "toml/toml_int.h"

#define MAX_NUMBER_LEN 256 /* bytes of one number literal */

static int oom(struct toml_parser *p, size_t at)
{
    return toml__fail(p, at, SL_ETOOBIG, "document too large (memory limit)");
}

static int add_utf8(struct sl_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return sl_buf_add(b, u, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* At the backslash of an escape in a basic string; appends the decoded
 * character. Multi-line strings handle the line-ending backslash before. */
static int escape(struct toml_parser *p, struct sl_buf *b)
{
    size_t at = p->pos;
    if (p->pos + 1 >= p->len) return toml__fail(p, at, SL_EINVAL, "unterminated string");
    char c = p->buf[p->pos + 1];
    p->pos += 2;
    char out;
    switch (c) {
    case 'b': out = '\b'; break;
    case 't': out = '\t'; break;
    case 'n': out = '\n'; break;
    case 'f': out = '\f'; break;
    case 'r': out = '\r'; break;
    case '"': out = '"'; break;
    case '\\': out = '\\'; break;
    case 'u':
    case 'U': {
        size_t n = c == 'u' ? 4 : 8;
        uint32_t cp = 0;
        if (p->len - p->pos < n) return toml__fail(p, at, SL_EINVAL, "truncated \\%c escape", c);
        for (size_t i = 0; i < n; i++) {
            int h = hexval((unsigned char)p->buf[p->pos + i]);
            if (h < 0) return toml__fail(p, at, SL_EINVAL, "invalid \\%c escape", c);
            cp = (cp << 4) | (uint32_t)h;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return toml__fail(p, at, SL_EINVAL, "\\%c escape is not a unicode scalar value", c);
        p->pos += n;
        return add_utf8(b, cp) < 0 ? oom(p, at) : 0;
    }
    default:
        if ((unsigned char)c < 0x20 || (unsigned char)c >= 0x7f)
            return toml__fail(p, at, SL_EINVAL, "invalid escape sequence");
        return toml__fail(p, at, SL_EINVAL, "invalid escape sequence '\\%c'", c);
    }
    return sl_buf_addc(b, out) < 0 ? oom(p, at) : 0;
}

/* Counts how many `q` characters follow at p->pos (at most 6). */
static size_t run_of(const struct toml_parser *p, char q)
{
    size_t n = 0;
    while (n < 6 && p->pos + n < p->len && p->buf[p->pos + n] == q)
        n++;
    return n;
}

int toml__string(struct toml_parser *p, bool multiline_ok, const char **s, size_t *len)
{
    size_t start = p->pos;
    char q = p->buf[p->pos];
    bool basic = q == '"';
    bool ml = run_of(p, q) >= 3;
    struct sl_buf *b = &p->scratch;
    sl_buf_reset(b);
    if (ml) {
        if (!multiline_ok)
            return toml__fail(p, start, SL_EINVAL, "multi-line string not allowed as a key");
        p->pos += 3;
        /* a newline right after the opening delimiter is trimmed */
        if (p->pos < p->len && p->buf[p->pos] == '\n')
            p->pos++;
        else if (p->len - p->pos >= 2 && p->buf[p->pos] == '\r' && p->buf[p->pos + 1] == '\n')
            p->pos += 2;
    } else {
        p->pos++;
    }
    for (;;) {
        if (p->pos >= p->len) return toml__fail(p, start, SL_EINVAL, "unterminated string");
        unsigned char c = (unsigned char)p->buf[p->pos];
        if (c == (unsigned char)q) {
            if (!ml) {
                p->pos++;
                break;
            }
            size_t n = run_of(p, q);
            if (n >= 3) {
                if (n > 5)
                    return toml__fail(p, p->pos, SL_EINVAL, "too many quotes closing a string");
                /* up to two quotes right before the delimiter belong to the content */
                if (sl_buf_add(b, p->buf + p->pos, n - 3) < 0) return oom(p, p->pos);
                p->pos += n;
                break;
            }
            if (sl_buf_add(b, p->buf + p->pos, n) < 0) return oom(p, p->pos);
            p->pos += n;
            continue;
        }
        if (c == '\\' && basic) {
            if (ml) {
                /* line-ending backslash: whitespace, a newline, then all
                 * whitespace and newlines are dropped */
                size_t i = p->pos + 1;
                while (i < p->len && (p->buf[i] == ' ' || p->buf[i] == '\t'))
                    i++;
                if (i < p->len && (p->buf[i] == '\n' || (p->buf[i] == '\r' && i + 1 < p->len &&
                                                         p->buf[i + 1] == '\n'))) {
                    while (i < p->len) {
                        char w = p->buf[i];
                        if (w == ' ' || w == '\t' || w == '\n')
                            i++;
                        else if (w == '\r' && i + 1 < p->len && p->buf[i + 1] == '\n')
                            i += 2;
                        else
                            break;
                    }
                    p->pos = i;
                    continue;
                }
            }
            if (escape(p, b) < 0) return p->rc;
            continue;
        }
        if (c == '\n' || (c == '\r' && p->pos + 1 < p->len && p->buf[p->pos + 1] == '\n')) {
            if (!ml) return toml__fail(p, p->pos, SL_EINVAL, "newline in a single-line string");
            size_t n = c == '\n' ? 1 : 2;
            if (sl_buf_add(b, p->buf + p->pos, n) < 0) return oom(p, p->pos);
            p->pos += n;
            continue;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return toml__fail(p, p->pos, SL_EINVAL, "control character 0x%02x in string", c);
        /* copy a run of ordinary bytes at once */
        size_t i = p->pos + 1;
        while (i < p->len) {
            unsigned char d = (unsigned char)p->buf[i];
            if (d == (unsigned char)q || d == '\\' || d < 0x20 || d == 0x7f) break;
            i++;
        }
        if (sl_buf_add(b, p->buf + p->pos, i - p->pos) < 0) return oom(p, p->pos);
        p->pos = i;
    }
    char *d = sl_arena_strndup(p->arena, b->ptr ? b->ptr : "", b->len);
    if (!d) return oom(p, start);
    *s = d;
    *len = b->len;
    return 0;
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_token(int c)
{
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
           c == '.' || c == '+' || c == '-';
}

/* Reads n digits at p->pos into *out; false if they are not all digits. */
static bool fixed_digits(struct toml_parser *p, size_t n, int *out)
{
    if (p->len - p->pos < n) return false;
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p->buf[p->pos + i];
        if (!is_digit(c)) return false;
        v = v * 10 + (c - '0');
    }
    p->pos += n;
    *out = v;
    return true;
}

static bool expect_char(struct toml_parser *p, char c)
{
    if (p->pos < p->len && p->buf[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[m - 1];
}

/* hh:mm:ss[.fraction] */
static int parse_time(struct toml_parser *p, struct toml_datetime *dt, size_t start)
{
    if (!fixed_digits(p, 2, &dt->hour) || !expect_char(p, ':') ||
        !fixed_digits(p, 2, &dt->minute) || !expect_char(p, ':') ||
        !fixed_digits(p, 2, &dt->second))
        return toml__fail(p, start, SL_EINVAL, "malformed time (expected hh:mm:ss)");
    if (dt->hour > 23 || dt->minute > 59 || dt->second > 60)
        return toml__fail(p, start, SL_EINVAL, "time out of range");
    if (p->pos < p->len && p->buf[p->pos] == '.') {
        p->pos++;
        size_t n = 0;
        int ns = 0;
        while (p->pos < p->len && is_digit(p->buf[p->pos])) {
            if (n < 9) ns = ns * 10 + (p->buf[p->pos] - '0');
            n++;
            p->pos++;
        }
        if (n == 0)
            return toml__fail(p, start, SL_EINVAL, "missing digits after the decimal point");
        for (; n < 9; n++)
            ns *= 10;
        dt->nanosecond = ns;
    }
    return 0;
}

static int parse_datetime(struct toml_parser *p, struct toml_value *v)
{
    size_t start = p->pos;
    struct toml_datetime *dt = &v->u.dt;
    memset(dt, 0, sizeof(*dt));
    if (p->len - p->pos >= 3 && is_digit(p->buf[p->pos]) && is_digit(p->buf[p->pos + 1]) &&
        p->buf[p->pos + 2] == ':') {
        v->type = TOML_TIME_LOCAL;
        return parse_time(p, dt, start);
    }
    if (!fixed_digits(p, 4, &dt->year) || !expect_char(p, '-') || !fixed_digits(p, 2, &dt->month) ||
        !expect_char(p, '-') || !fixed_digits(p, 2, &dt->day))
        return toml__fail(p, start, SL_EINVAL, "malformed date (expected yyyy-mm-dd)");
    if (dt->month < 1 || dt->month > 12 || dt->day < 1 ||
        dt->day > days_in_month(dt->year, dt->month))
        return toml__fail(p, start, SL_EINVAL, "date out of range");
    v->type = TOML_DATE_LOCAL;
    if (p->pos >= p->len) return 0;
    char c = p->buf[p->pos];
    if (c == 'T' || c == 't') {
        p->pos++;
    } else if (c == ' ' && p->len - p->pos >= 4 && is_digit(p->buf[p->pos + 1]) &&
               is_digit(p->buf[p->pos + 2]) && p->buf[p->pos + 3] == ':') {
        p->pos++;
    } else {
        return 0;
    }
    v->type = TOML_DATETIME_LOCAL;
    if (parse_time(p, dt, start) < 0) return p->rc;
    if (p->pos >= p->len) return 0;
    c = p->buf[p->pos];
    if (c == 'Z' || c == 'z') {
        p->pos++;
        v->type = TOML_DATETIME;
        return 0;
    }
    if (c != '+' && c != '-') return 0;
    p->pos++;
    int oh, om;
    if (!fixed_digits(p, 2, &oh) || !expect_char(p, ':') || !fixed_digits(p, 2, &om))
        return toml__fail(p, start, SL_EINVAL, "malformed time offset (expected +hh:mm)");
    if (oh > 23 || om > 59) return toml__fail(p, start, SL_EINVAL, "time offset out of range");
    dt->offset_minutes = (c == '-' ? -1 : 1) * (oh * 60 + om);
    v->type = TOML_DATETIME;
    return 0;
}

/* Digits (per is_ok) with single underscores between them, at s[*i]; copies
 * the digits to out. Returns the number of digits, or -1 on a misplaced
 * underscore. */
static int digit_run(const char *s, size_t n, size_t *i, bool (*is_ok)(int), char *out,
                     size_t *olen)
{
    int count = 0;
    while (*i < n) {
        char c = s[*i];
        if (is_ok(c)) {
            out[(*olen)++] = c;
            count++;
            (*i)++;
        } else if (c == '_') {
            if (count == 0 || *i + 1 >= n || !is_ok(s[*i + 1])) return -1;
            (*i)++;
        } else {
            break;
        }
    }
    return count;
}

static bool is_hex(int c)
{
    return hexval(c) >= 0;
}

static bool is_oct(int c)
{
    return c >= '0' && c <= '7';
}

static bool is_bin(int c)
{
    return c == '0' || c == '1';
}

static bool is_dec(int c)
{
    return is_digit(c);
}

static int parse_number(struct toml_parser *p, struct toml_value *v, const char *s, size_t n,
                        size_t at)
{
    char clean[MAX_NUMBER_LEN + 8];
    size_t cl = 0, i = 0;
    if (n > MAX_NUMBER_LEN)
        return toml__fail(p, at, SL_EINVAL, "number longer than %d characters", MAX_NUMBER_LEN);
    if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b')) {
        int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
        bool (*ok)(int) = base == 16 ? is_hex : base == 8 ? is_oct : is_bin;
        i = 2;
        if (digit_run(s, n, &i, ok, clean, &cl) <= 0 || i != n)
            return toml__fail(p, at, SL_EINVAL, "invalid integer");
        uint64_t u = 0;
        for (size_t k = 0; k < cl; k++) {
            uint64_t d = (uint64_t)hexval((unsigned char)clean[k]);
            if (u > (UINT64_MAX - d) / (uint64_t)base)
                return toml__fail(p, at, SL_ERANGE, "integer out of range");
            u = u * (uint64_t)base + d;
        }
        if (u > (uint64_t)INT64_MAX) return toml__fail(p, at, SL_ERANGE, "integer out of range");
        v->type = TOML_INTEGER;
        v->u.i = (int64_t)u;
        return 0;
    }
    if (s[i] == '+' || s[i] == '-') clean[cl++] = s[i++];
    size_t int_start = i;
    int nd = digit_run(s, n, &i, is_dec, clean, &cl);
    if (nd <= 0) return toml__fail(p, at, SL_EINVAL, "invalid number");
    if (s[int_start] == '0' && nd > 1)
        return toml__fail(p, at, SL_EINVAL, "leading zeros are not allowed");
    bool is_float = false;
    if (i < n && s[i] == '.') {
        clean[cl++] = s[i++];
        if (digit_run(s, n, &i, is_dec, clean, &cl) <= 0)
            return toml__fail(p, at, SL_EINVAL, "invalid float (digits must follow '.')");
        is_float = true;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        clean[cl++] = s[i++];
        if (i < n && (s[i] == '+' || s[i] == '-')) clean[cl++] = s[i++];
        if (digit_run(s, n, &i, is_dec, clean, &cl) <= 0)
            return toml__fail(p, at, SL_EINVAL, "invalid float exponent");
        is_float = true;
    }
    if (i != n) return toml__fail(p, at, SL_EINVAL, "invalid number");
    clean[cl] = '\0';
    errno = 0;
    if (is_float) {
        char *end;
        double d = strtod(clean, &end);
        if (end != clean + cl) return toml__fail(p, at, SL_EINVAL, "invalid float");
        if (isinf(d)) return toml__fail(p, at, SL_ERANGE, "float out of range");
        v->type = TOML_FLOAT;
        v->u.f = d;
        return 0;
    }
    char *end;
    long long ll = strtoll(clean, &end, 10);
    if (errno == ERANGE) return toml__fail(p, at, SL_ERANGE, "integer out of range");
    if (end != clean + cl) return toml__fail(p, at, SL_EINVAL, "invalid integer");
    v->type = TOML_INTEGER;
    v->u.i = (int64_t)ll;
    return 0;
}

static bool token_is(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && memcmp(s, word, n) == 0;
}

int toml__scalar(struct toml_parser *p, struct toml_value *v)
{
    size_t at = p->pos;
    const char *s = p->buf + p->pos;
    size_t avail = p->len - p->pos;
    /* a datetime starts with yyyy- or hh: */
    if ((avail >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
         s[4] == '-') ||
        (avail >= 3 && is_digit(s[0]) && is_digit(s[1]) && s[2] == ':'))
        return parse_datetime(p, v);
    size_t n = 0;
    while (n < avail && is_token((unsigned char)s[n]))
        n++;
    if (n == 0) {
        unsigned char c = (unsigned char)s[0];
        if (c >= 0x20 && c < 0x7f)
            return toml__fail(p, at, SL_EINVAL, "invalid value starting with '%c'", c);
        return toml__fail(p, at, SL_EINVAL, "invalid value");
    }
    p->pos += n;
    if (token_is(s, n, "true") || token_is(s, n, "false")) {
        v->type = TOML_BOOL;
        v->u.b = s[0] == 't';
        return 0;
    }
    const char *w = (s[0] == '+' || s[0] == '-') ? s + 1 : s;
    size_t wn = (size_t)(s + n - w);
    if (token_is(w, wn, "inf") || token_is(w, wn, "nan")) {
        v->type = TOML_FLOAT;
        if (w[0] == 'i')
            v->u.f = s[0] == '-' ? -INFINITY : INFINITY;
        else
            v->u.f = s[0] == '-' ? -NAN : NAN;
        return 0;
    }
    return parse_number(p, v, s, n, at);
}
