/* buf.c — growable byte buffer with a hard cap. */
#include "common/buf.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"

void sl_buf_init(struct sl_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SL_BUF_DEFAULT_MAX;
}

void sl_buf_release(struct sl_buf *b)
{
    sl_free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void sl_buf_reset(struct sl_buf *b)
{
    b->len = 0;
    if (b->ptr) b->ptr[0] = '\0';
}

int sl_buf_reserve(struct sl_buf *b, size_t n)
{
    size_t max = b->max ? b->max : SL_BUF_DEFAULT_MAX;
    if (n > max || b->len > max - n) return SL_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->cap) return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap *= 2;
    char *p = sl_realloc(b->ptr, ncap);
    if (!p) return SL_ENOMEM;
    b->ptr = p;
    b->cap = ncap;
    return 0;
}

int sl_buf_add(struct sl_buf *b, const void *p, size_t n)
{
    int rc = sl_buf_reserve(b, n);
    if (rc < 0) return rc;
    if (n) memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return 0;
}

int sl_buf_addc(struct sl_buf *b, char c)
{
    if (b->len + 1 < b->cap && b->len < (b->max ? b->max : SL_BUF_DEFAULT_MAX)) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return 0;
    }
    return sl_buf_add(b, &c, 1);
}

int sl_buf_adds(struct sl_buf *b, const char *s)
{
    return sl_buf_add(b, s, strlen(s));
}

int sl_buf_vaddf(struct sl_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return SL_EINVAL;
    int rc = sl_buf_reserve(b, (size_t)n);
    if (rc < 0) return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int sl_buf_addf(struct sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = sl_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int sl_buf_add_u64(struct sl_buf *b, uint64_t v)
{
    char tmp[24];
    int i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return sl_buf_add(b, tmp + i, sizeof(tmp) - (size_t)i);
}

int sl_buf_add_i64(struct sl_buf *b, int64_t v)
{
    if (v < 0) {
        int rc = sl_buf_addc(b, '-');
        if (rc < 0) return rc;
        return sl_buf_add_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return sl_buf_add_u64(b, (uint64_t)v);
}

int sl_buf_add_json_str(struct sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    int rc = sl_buf_reserve(b, n + 2);
    if (rc < 0) return rc;
    b->ptr[b->len++] = '"';
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f) continue; /* most bytes */
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20 || c == 0x7f) {
            u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0';
            u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
            esc = u;
        }
        if (!esc) continue;
        if ((rc = sl_buf_add(b, s + start, i - start)) < 0) return rc;
        if ((rc = sl_buf_adds(b, esc)) < 0) return rc;
        start = i + 1;
    }
    if ((rc = sl_buf_add(b, s + start, n - start)) < 0) return rc;
    return sl_buf_addc(b, '"');
}

char *sl_buf_detach(struct sl_buf *b, size_t *len)
{
    char *p = b->ptr;
    if (!p) p = sl_strdup("");
    if (len) *len = b->len;
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}
