/*
 * fuzz_query_sql.c — the SQL tokenizer, the InfluxDB-3-to-SQLite rewriter and
 * the interval parser on arbitrary bytes. Every input must give a result or
 * an error with a message; the rewriter's output must itself tokenize (it is
 * what SQLite will parse), and rewriting is deterministic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/mem.h"
#include "query/sql/sql_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *q = (const char *)data;
    char err[256];
    struct sql_token *toks = NULL;
    int n = sql_tokenize(q, size, &toks, err, sizeof(err));
    if (n >= 0) {
        /* every byte belongs to exactly one token */
        size_t covered = 0;
        for (int i = 0; i < n; i++)
            covered += toks[i].n;
        if (covered != size) abort();
    }
    sl_free(toks);
    int64_t ns;
    sql_interval_parse(q, size, &ns);
    struct sql_rewrite a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    int ra = sql_rewrite_query(q, size, &a, err, sizeof(err));
    int rb = sql_rewrite_query(q, size, &b, err, sizeof(err));
    if (ra != rb) abort();
    if (ra == 0) {
        if (a.sql.len != b.sql.len || (a.sql.len && memcmp(a.sql.ptr, b.sql.ptr, a.sql.len)))
            abort();
        struct sql_token *t2 = NULL;
        int n2 = sql_tokenize(a.sql.ptr ? a.sql.ptr : "", a.sql.len, &t2, err, sizeof(err));
        if (n2 < 0 && n2 != SL_ETOOBIG) abort();
        sl_free(t2);
    }
    if (ra == 0) sql_rewrite_release(&a);
    if (rb == 0) sql_rewrite_release(&b);
    return 0;
}
