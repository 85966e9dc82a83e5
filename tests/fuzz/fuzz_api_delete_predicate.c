/*
 * fuzz_api_delete_predicate.c — libFuzzer target for the request language of
 * POST /api/v2/delete (src/api/delete_pred.c). Each input is parsed as a
 * delete predicate. On success the tree must hold only AND, measurement and
 * tag equality nodes, at most DELETE_V2_MAX_TERMS leaves and a balanced depth;
 * written back as a predicate (every name and value double-quoted) it must
 * parse to the same tree, and its WAL record must decode to the same tree. On
 * failure there must be no tree and a message. The input is also parsed as a
 * start/stop time; a time that parses must format and parse back to itself.
 * Corpus: tests/fuzz/corpus/api_delete_predicate/.
 */
#include <stdint.h>
#include <string.h>

#include "api/delete_v2.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/timeutil.h"

static void quote(struct sl_buf *b, const char *s)
{
    sl_buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') sl_buf_addc(b, '\\');
        if (*s == '\n')
            sl_buf_adds(b, "\\n");
        else
            sl_buf_addc(b, *s);
    }
    sl_buf_addc(b, '"');
}

/* Checks the shape; writes the predicate back into b and a flat form into f. */
static void walk(const struct del_node *n, int depth, size_t *leaves, struct sl_buf *b,
                 struct sl_buf *f)
{
    if (!n || depth > 12) __builtin_trap();
    if (n->op == DEL_AND) {
        if (n->key || n->val) __builtin_trap();
        sl_buf_addc(b, '(');
        walk(n->l, depth + 1, leaves, b, f);
        sl_buf_adds(b, " AND ");
        walk(n->r, depth + 1, leaves, b, f);
        sl_buf_addc(b, ')');
        return;
    }
    if (n->l || n->r || !n->val) __builtin_trap();
    if (n->op == DEL_NAME_EQ) {
        if (n->key) __builtin_trap();
        sl_buf_adds(b, "_measurement=");
    } else if (n->op == DEL_TAG_EQ) {
        if (!n->key || !*n->key || !strcmp(n->key, "_measurement") || !strcmp(n->key, "_field") ||
            !strcmp(n->key, "_time") || !strcmp(n->key, "_value"))
            __builtin_trap();
        quote(b, n->key);
        sl_buf_addc(b, '=');
    } else {
        __builtin_trap();
    }
    quote(b, n->val);
    sl_buf_addf(f, "%d\x1f%s\x1f%s\x1e", (int)n->op, n->key ? n->key : "", n->val);
    (*leaves)++;
}

static void check_predicate(const char *data, size_t size)
{
    struct del_node *root = (struct del_node *)1;
    struct delete_v2_err e;
    int rc = delete_v2_parse_predicate(data, size, &root, &e);
    if (rc < 0) {
        if (root || !e.msg[0] || (rc != SL_EINVAL && rc != SL_ENOMEM)) __builtin_trap();
        if (memchr(e.msg, '\0', sizeof(e.msg)) == NULL) __builtin_trap();
        return;
    }
    if (rc != 0) __builtin_trap();
    if (!root) return;
    struct sl_buf b, f1, f2, rec;
    sl_buf_init(&b, 0);
    sl_buf_init(&f1, 0);
    sl_buf_init(&f2, 0);
    sl_buf_init(&rec, 0);
    size_t leaves = 0;
    walk(root, 1, &leaves, &b, &f1);
    if (leaves > DELETE_V2_MAX_TERMS) __builtin_trap();
    /* written back, it parses to the same leaves (parentheses are only grouping) */
    struct del_node *again = NULL;
    if (delete_v2_parse_predicate(b.ptr, b.len, &again, &e) != 0 || !again) __builtin_trap();
    size_t l2 = 0;
    struct sl_buf b2;
    sl_buf_init(&b2, 0);
    walk(again, 1, &l2, &b2, &f2);
    if (l2 != leaves || f1.len != f2.len || memcmp(f1.ptr, f2.ptr, f1.len) != 0) __builtin_trap();
    del_node_free(again);
    /* the WAL record keeps it */
    struct del_pred p = {-5, 5, root}, q = {0, 0, NULL};
    uint32_t id = 0;
    if (del_pred_encode(&p, 3, &rec) != 0) __builtin_trap();
    if (del_pred_decode(rec.ptr, rec.len, &id, &q) != 0 || id != 3 || q.tmin != -5 || q.tmax != 5)
        __builtin_trap();
    sl_buf_reset(&f2);
    sl_buf_reset(&b2);
    l2 = 0;
    walk(q.root, 1, &l2, &b2, &f2);
    if (f1.len != f2.len || memcmp(f1.ptr, f2.ptr, f1.len) != 0) __builtin_trap();
    del_pred_release(&q);
    del_pred_release(&p);
    sl_buf_release(&b);
    sl_buf_release(&b2);
    sl_buf_release(&f1);
    sl_buf_release(&f2);
    sl_buf_release(&rec);
}

static void check_time(const char *data, size_t size)
{
    int64_t ns = 0, back = 0;
    int rc = delete_v2_parse_time(data, size, &ns);
    if (rc == SL_EINVAL || rc == SL_ERANGE) return;
    if (rc != 0) __builtin_trap();
    char out[48];
    size_t n = sl_time_format_rfc3339(ns, out);
    if (n == 0 || n >= sizeof(out)) __builtin_trap();
    if (delete_v2_parse_time(out, n, &back) != 0 || back != ns) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_predicate((const char *)data, size);
    check_time((const char *)data, size);
    return 0;
}
