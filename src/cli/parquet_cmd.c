/*
 * parquet_cmd.c — `sluice parquet-dump FILE` (inspect any Parquet file sluice
 * can read: schema, key/value metadata, row groups with encodings, sizes and
 * statistics, then the rows as JSON lines) and `sluice parquet-gen OUT`
 * (writes a deterministic sample covering every column type, NULLs, empty,
 * long and non-ASCII strings, extreme integers and several row groups; the
 * end-to-end test reads it with DuckDB and hyparquet and recomputes the
 * expected rows from the same formulas, documented in gen_row below).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "parquet/parquet.h"

/* ---- parquet-gen ---- */

enum { G_TIME, G_HOST, G_REGION, G_USAGE, G_COUNT, G_BYTES, G_UP, G_MSG, G_NCOLS };

static const struct pq_column_spec gen_cols[G_NCOLS] = {
    {"time", PQ_TIME_NS, 0, 0}, {"host", PQ_STRING, 0, 1}, {"region", PQ_STRING, 1, 1},
    {"usage", PQ_DOUBLE, 1, 0}, {"count", PQ_INT64, 1, 0}, {"bytes", PQ_UINT64, 1, 0},
    {"up", PQ_BOOL, 1, 0},      {"msg", PQ_STRING, 1, 0},
};

/* Row i of the sample (keep in sync with tests/e2e/test_parquet_readers.mjs):
 *   time   1700000000000000000 + i * 1000000007
 *   host   "host-" + (i % 10)
 *   region NULL if i % 9 == 8, else ["us-east", "eu-west", "ap-south"][i % 3]
 *   usage  NULL if i % 11 == 5; 1.5e300 if i == 7; else i * 0.25 - 100.5
 *   count  NULL if i % 7 == 3; INT64_MAX if i == 1; INT64_MIN if i == 2;
 *          else (i * 37) % 201 - 100
 *   bytes  NULL if i % 5 == 1; UINT64_MAX if i == 4; else i * i * 1000003
 *   up     NULL if i % 13 == 0, else i % 3 == 0
 *   msg    NULL if i % 4 == 2; "" if i % 4 == 0; 3000 'x' then i if
 *          i % 50 == 1; else "msg " + i + " ünïcødé ✓" */
struct gen_row {
    int64_t time, count;
    uint64_t bytes;
    double usage;
    uint8_t up;
    uint8_t valid[G_NCOLS];
    char host[16];
    const char *region;
    char *msg;
    size_t msg_len;
};

static void gen_row(uint64_t i, struct gen_row *r, char *msgbuf, size_t msgcap)
{
    static const char *regions[] = {"us-east", "eu-west", "ap-south"};
    memset(r->valid, 1, sizeof r->valid);
    r->time = 1700000000000000000LL + (int64_t)i * 1000000007LL;
    snprintf(r->host, sizeof r->host, "host-%u", (unsigned)(i % 10));
    r->region = regions[i % 3];
    if (i % 9 == 8) r->valid[G_REGION] = 0;
    r->usage = i == 7 ? 1.5e300 : (double)i * 0.25 - 100.5;
    if (i % 11 == 5) r->valid[G_USAGE] = 0;
    r->count = i == 1 ? INT64_MAX : i == 2 ? INT64_MIN : (int64_t)((i * 37) % 201) - 100;
    if (i % 7 == 3) r->valid[G_COUNT] = 0;
    r->bytes = i == 4 ? UINT64_MAX : i * i * 1000003u;
    if (i % 5 == 1) r->valid[G_BYTES] = 0;
    r->up = i % 3 == 0;
    if (i % 13 == 0) r->valid[G_UP] = 0;
    r->msg = msgbuf;
    if (i % 4 == 2) {
        r->valid[G_MSG] = 0;
        r->msg_len = 0;
    } else if (i % 4 == 0) {
        r->msg_len = 0;
    } else if (i % 50 == 1) {
        memset(msgbuf, 'x', 3000);
        r->msg_len = 3000 + (size_t)snprintf(msgbuf + 3000, msgcap - 3000, "%" PRIu64, i);
    } else {
        r->msg_len = (size_t)snprintf(msgbuf, msgcap, "msg %" PRIu64 " ünïcødé ✓", i);
    }
}

static int parse_codec(const char *s, enum pq_codec *c)
{
    if (!strcmp(s, "zstd"))
        *c = PQ_CODEC_ZSTD;
    else if (!strcmp(s, "snappy"))
        *c = PQ_CODEC_SNAPPY;
    else if (!strcmp(s, "none"))
        *c = PQ_CODEC_NONE;
    else
        return -1;
    return 0;
}

static int run_gen(int argc, char **argv)
{
    const char *out = NULL;
    struct pq_writer_opts o = {0};
    size_t nrows = 1000;
    o.row_group_rows = 300;
    o.page_rows = 128;
    o.no_fsync = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--codec") && i + 1 < argc) {
            if (parse_codec(argv[++i], &o.codec) < 0) goto usage;
        } else if (!strcmp(argv[i], "--utc")) {
            o.time_adjusted_utc = 1;
        } else if (!strcmp(argv[i], "--rows") && i + 1 < argc) {
            nrows = strtoul(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--row-group") && i + 1 < argc) {
            o.row_group_rows = strtoul(argv[++i], NULL, 10);
        } else if (argv[i][0] == '-' || out) {
            goto usage;
        } else {
            out = argv[i];
        }
    }
    if (!out || nrows > 100000000) goto usage;
    struct pq_kv kv[] = {
        {"sluice.tags", "[\"host\",\"region\"]"},
        {"sluice.fields", "[\"usage\",\"count\",\"bytes\",\"up\",\"msg\"]"},
        {"sluice.sort_key", "host,region,time"},
    };
    o.kv = kv;
    o.nkv = 3;
    struct pq_writer *w;
    int rc = pq_writer_open(out, gen_cols, G_NCOLS, &o, &w);
    if (rc < 0) {
        fprintf(stderr, "sluice parquet-gen: cannot create '%s': %s\n", out, sl_strerror(rc));
        return 1;
    }
    /* One row per write exercises the buffering across row groups. */
    char msgbuf[4096];
    for (uint64_t i = 0; i < nrows && rc == 0; i++) {
        struct gen_row r;
        gen_row(i, &r, msgbuf, sizeof msgbuf);
        struct pq_str host = {r.host, (uint32_t)strlen(r.host)};
        struct pq_str region = {r.region, (uint32_t)strlen(r.region)};
        struct pq_str msg = {r.msg, (uint32_t)r.msg_len};
        struct pq_column_data d[G_NCOLS] = {
            {&r.time, NULL},
            {&host, NULL},
            {&region, &r.valid[G_REGION]},
            {&r.usage, &r.valid[G_USAGE]},
            {&r.count, &r.valid[G_COUNT]},
            {&r.bytes, &r.valid[G_BYTES]},
            {&r.up, &r.valid[G_UP]},
            {&msg, &r.valid[G_MSG]},
        };
        rc = pq_writer_write(w, d, 1);
    }
    if (rc < 0) {
        pq_writer_abort(w);
    } else {
        rc = pq_writer_close(w);
    }
    if (rc < 0) {
        fprintf(stderr, "sluice parquet-gen: writing '%s' failed: %s\n", out, sl_strerror(rc));
        return 1;
    }
    return 0;
usage:
    fprintf(stderr, "usage: sluice parquet-gen [--codec zstd|snappy|none] [--rows N] "
                    "[--row-group N] [--utc] OUT.parquet\n");
    return 2;
}

/* ---- parquet-dump ---- */

/* Appends v as JSON; strings longer than max bytes are cut (0 = never). */
static void put_value(struct sl_buf *b, enum pq_ctype t, const union pq_value *v, size_t max)
{
    switch (t) {
    case PQ_TIME_NS:
    case PQ_INT64: sl_buf_add_i64(b, v->i); break;
    case PQ_UINT64: sl_buf_add_u64(b, v->u); break;
    case PQ_DOUBLE:
        if (isfinite(v->d))
            sl_buf_addf(b, "%.17g", v->d);
        else
            sl_buf_addf(b, "\"%g\"", v->d);
        break;
    case PQ_BOOL: sl_buf_adds(b, v->b ? "true" : "false"); break;
    case PQ_STRING:
        if (max && v->s.len > max) {
            sl_buf_add_json_str(b, v->s.ptr, max);
            sl_buf_addf(b, "...(%u bytes)", v->s.len);
        } else {
            sl_buf_add_json_str(b, v->s.ptr, v->s.len);
        }
        break;
    }
}

static int dump_rows(struct pq_reader *r, size_t rg, long long *budget)
{
    size_t nc = pq_reader_num_columns(r);
    struct pq_column_buf *bufs = sl_calloc(nc, sizeof *bufs);
    if (!bufs) return SL_ENOMEM;
    int rc = 0;
    for (size_t c = 0; c < nc && rc == 0; c++)
        rc = pq_reader_read_column(r, rg, c, &bufs[c]);
    if (rc < 0) {
        fprintf(stderr, "sluice parquet-dump: %s\n", pq_reader_errmsg(r));
        goto out;
    }
    struct sl_buf line = SL_BUF_INIT;
    size_t nrows = (size_t)pq_reader_row_group_rows(r, rg);
    for (size_t i = 0; i < nrows && *budget != 0; i++, (*budget)--) {
        sl_buf_reset(&line);
        sl_buf_addc(&line, '{');
        for (size_t c = 0; c < nc; c++) {
            const struct pq_column_info *ci = pq_reader_column(r, c);
            if (c) sl_buf_addc(&line, ',');
            sl_buf_add_json_str(&line, ci->name, strlen(ci->name));
            sl_buf_addc(&line, ':');
            if (bufs[c].valid && !bufs[c].valid[i]) {
                sl_buf_adds(&line, "null");
                continue;
            }
            union pq_value v;
            switch (ci->type) {
            case PQ_BOOL: v.b = ((const uint8_t *)bufs[c].values)[i]; break;
            case PQ_STRING: v.s = ((const struct pq_str *)bufs[c].values)[i]; break;
            case PQ_DOUBLE: v.d = ((const double *)bufs[c].values)[i]; break;
            default: v.u = ((const uint64_t *)bufs[c].values)[i]; break;
            }
            put_value(&line, ci->type, &v, 0);
        }
        sl_buf_addc(&line, '}');
        printf("%s\n", line.ptr);
    }
    sl_buf_release(&line);
out:
    for (size_t c = 0; c < nc; c++)
        pq_column_buf_release(&bufs[c]);
    sl_free(bufs);
    return rc;
}

static int run_dump(int argc, char **argv)
{
    const char *path = NULL;
    long long limit = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--limit") && i + 1 < argc)
            limit = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--no-rows"))
            limit = 0;
        else if (argv[i][0] == '-' || path)
            goto usage;
        else
            path = argv[i];
    }
    if (!path) goto usage;
    char err[256];
    struct pq_reader *r;
    int rc = pq_reader_open(path, &r, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "sluice parquet-dump: %s: %s\n", path, err[0] ? err : sl_strerror(rc));
        return 1;
    }
    size_t nc = pq_reader_num_columns(r), ng = pq_reader_num_row_groups(r);
    printf("file: %s\nrows: %" PRId64 "\nrow groups: %zu\ncolumns:\n", path, pq_reader_num_rows(r),
           ng);
    for (size_t c = 0; c < nc; c++) {
        const struct pq_column_info *ci = pq_reader_column(r, c);
        printf("  %s %s%s\n", ci->name, pq_ctype_name(ci->type), ci->nullable ? " nullable" : "");
    }
    printf("metadata:\n");
    for (size_t i = 0; i < pq_reader_num_kv(r); i++) {
        const char *k, *v;
        pq_reader_kv_at(r, i, &k, &v);
        printf("  %s = %s\n", k, v);
    }
    struct sl_buf b = SL_BUF_INIT;
    for (size_t g = 0; g < ng; g++) {
        printf("row group %zu: %" PRId64 " rows\n", g, pq_reader_row_group_rows(r, g));
        for (size_t c = 0; c < nc; c++) {
            const struct pq_column_info *ci = pq_reader_column(r, c);
            struct pq_chunk_info info;
            struct pq_stats st;
            pq_reader_chunk_info(r, g, c, &info);
            pq_reader_stats(r, g, c, &st);
            sl_buf_reset(&b);
            for (int e = 0; e < 32; e++)
                if (info.encodings & (1u << e))
                    sl_buf_addf(&b, "%s%s", b.len ? "," : "", pq_encoding_name(e));
            printf("  %s: %s [%s] %" PRId64 " -> %" PRId64 " bytes", ci->name,
                   pq_codec_name(info.codec), b.ptr ? b.ptr : "", info.uncompressed_bytes,
                   info.compressed_bytes);
            if (st.has_null_count) printf(" nulls=%" PRId64, st.null_count);
            if (st.has_minmax) {
                sl_buf_reset(&b);
                put_value(&b, ci->type, &st.min, 40);
                sl_buf_adds(&b, " max=");
                put_value(&b, ci->type, &st.max, 40);
                printf(" min=%s", b.ptr);
            }
            printf("\n");
        }
    }
    sl_buf_release(&b);
    if (limit != 0) printf("rows:\n");
    for (size_t g = 0; g < ng && limit != 0 && rc == 0; g++)
        rc = dump_rows(r, g, &limit);
    pq_reader_close(r);
    return rc < 0 ? 1 : 0;
usage:
    fprintf(stderr, "usage: sluice parquet-dump [--limit N | --no-rows] FILE.parquet\n");
    return 2;
}

int cmd_parquet(int argc, char **argv)
{
    if (!strcmp(argv[0], "parquet-gen")) return run_gen(argc, argv);
    return run_dump(argc, argv);
}
