/*
 * fuzz_query_influxql.c — libFuzzer target for the InfluxQL parser.
 *
 * Any input must parse or fail cleanly (error with a position inside the
 * input). A parsed query must print as canonical text that parses again into
 * the same tree: format(parse(format(parse(q)))) == format(parse(q)). The
 * condition helpers run on every WHERE clause too.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/arena.h"
#include "common/buf.h"
#include "common/err.h"
#include "query/influxql/iql.h"

static void check_cond(const struct iql_expr *cond, struct sl_arena *a)
{
    int64_t lo, hi;
    char msg[128];
    (void)iql_cond_time_range(cond, 1700000000000000000LL, &lo, &hi, msg, sizeof(msg));
    int rc = 0;
    (void)iql_cond_without_time(cond, a, &rc);
    struct iql_tag_pred *preds;
    size_t n;
    (void)iql_cond_tag_preds(cond, a, &preds, &n);
}

static void check_select(const struct iql_select *s, struct sl_arena *a, int depth)
{
    if (!s || depth > 200) return;
    if (s->cond) check_cond(s->cond, a);
    for (size_t i = 0; i < s->nsources; i++)
        if (s->sources[i].subquery) check_select(s->sources[i].subquery, a, depth + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) return 0;
    struct sl_arena a, a2;
    sl_arena_init(&a, (size_t)64 << 20);
    sl_arena_init(&a2, (size_t)256 << 20);
    struct sl_buf b1 = SL_BUF_INIT, b2 = SL_BUF_INIT;
    struct iql_query *q = NULL, *q2 = NULL;
    struct iql_error err;
    int rc = iql_parse((const char *)data, size, &a, &q, &err);
    if (rc != 0) {
        if (err.msg[0] == '\0' || err.offset > size || err.line < 1 || err.column < 1)
            __builtin_trap();
        goto out;
    }
    for (size_t i = 0; i < q->nstmts; i++) {
        check_select(q->stmts[i]->select, &a, 0);
        if (q->stmts[i]->meta.cond) check_cond(q->stmts[i]->meta.cond, &a);
    }
    if (iql_query_format(q, &b1) != 0) goto out;
    rc = iql_parse(b1.ptr ? b1.ptr : "", b1.len, &a2, &q2, &err);
    if (rc == SL_ENOMEM) goto out;
    if (rc != 0) {
        fprintf(stderr, "reparse failed: %s\n  text: %s\n", err.msg, b1.ptr);
        __builtin_trap();
    }
    if (q2->nstmts != q->nstmts) __builtin_trap();
    if (iql_query_format(q2, &b2) != 0) goto out;
    if (b1.len != b2.len || (b1.len && memcmp(b1.ptr, b2.ptr, b1.len) != 0)) {
        fprintf(stderr, "format not stable:\n  1: %s\n  2: %s\n", b1.ptr, b2.ptr);
        __builtin_trap();
    }
out:
    sl_buf_release(&b1);
    sl_buf_release(&b2);
    sl_arena_release(&a);
    sl_arena_release(&a2);
    return 0;
}
