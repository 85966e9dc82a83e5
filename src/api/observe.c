/*
 * observe.c — what operators and tests look at: /metrics (Prometheus text
 * exposition) and the admin-only inspection endpoint /api/sluice/debug/rows,
 * which prints the deduplicated rows of a table as JSON lines straight from
 * the write buffer.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "storage/persist.h"
#include "storage/scan.h"
#include "wal/wal.h"

static void counter(struct sl_buf *b, const char *name, const char *help, unsigned long long v)
{
    sl_buf_addf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name, v);
}

static void gauge(struct sl_buf *b, const char *name, const char *help, double v)
{
    sl_buf_addf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

void api_metrics(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    (void)req;
    struct sl_buf *b = &resp->body;
    struct engine *e = s->eng;
    resp->status = 200;
    resp->content_type = "text/plain; version=0.0.4";
    counter(b, "sluice_points_written_total", "Points accepted and stored.",
            atomic_load(&e->stats.points_written));
    counter(b, "sluice_write_bytes_total", "Line-protocol bytes accepted (after decompression).",
            atomic_load(&e->stats.bytes_accepted));
    counter(b, "sluice_write_requests_total", "Write requests handled by the engine.",
            atomic_load(&e->stats.write_requests));
    counter(b, "sluice_lines_rejected_total", "Lines rejected (parse errors, conflicts, limits).",
            atomic_load(&e->stats.lines_rejected));
    counter(b, "sluice_overload_responses_total",
            "Writes refused with 503 because the buffer was full.",
            atomic_load(&e->stats.overload_rejections));
    counter(b, "sluice_http_auth_failures_total", "Requests with invalid credentials.",
            atomic_load(&s->m.auth_failures));
    counter(b, "sluice_http_request_body_bytes_total", "Request body bytes received on the wire.",
            atomic_load(&s->m.body_bytes));
    sl_buf_adds(b, "# HELP sluice_http_responses_total HTTP responses by status class.\n"
                   "# TYPE sluice_http_responses_total counter\n");
    for (int c = 1; c <= 5; c++)
        sl_buf_addf(b, "sluice_http_responses_total{class=\"%dxx\"} %llu\n", c,
                    atomic_load(&s->m.status[c]));
    sl_buf_adds(b, "# HELP sluice_http_request_duration_seconds HTTP request latency.\n"
                   "# TYPE sluice_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    double lim = 0.0005;
    for (int i = 0; i < API_LAT_BUCKETS; i++, lim *= 2) {
        cum += atomic_load(&s->m.lat_buckets[i]);
        sl_buf_addf(b, "sluice_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", lim, cum);
    }
    cum += atomic_load(&s->m.lat_buckets[API_LAT_BUCKETS]);
    sl_buf_addf(b, "sluice_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    sl_buf_addf(b, "sluice_http_request_duration_seconds_sum %.6f\n",
                atomic_load(&s->m.lat_sum_us) / 1e6);
    sl_buf_addf(b, "sluice_http_request_duration_seconds_count %llu\n", cum);

    struct wal_stats ws;
    wal_get_stats(e->wal, &ws);
    counter(b, "sluice_wal_records_total", "WAL records appended.", ws.records);
    counter(b, "sluice_wal_bytes_total", "WAL bytes appended.", ws.bytes);
    counter(b, "sluice_wal_syncs_total", "WAL fdatasync calls (group commits).", ws.syncs);
    counter(b, "sluice_wal_sync_errors_total", "WAL sync failures.", ws.sync_errors);
    sl_buf_adds(b, "# HELP sluice_wal_sync_duration_seconds WAL fdatasync latency.\n"
                   "# TYPE sluice_wal_sync_duration_seconds histogram\n");
    cum = 0;
    size_t nb = sizeof(ws.sync_hist) / sizeof(ws.sync_hist[0]);
    for (size_t i = 0; i < nb; i++) {
        cum += ws.sync_hist[i];
        /* bucket i holds syncs of [2^i, 2^(i+1)) microseconds (the last is open-ended) */
        if (i + 1 < nb)
            sl_buf_addf(b, "sluice_wal_sync_duration_seconds_bucket{le=\"%g\"} %llu\n",
                        (double)(2ull << i) / 1e6, cum);
    }
    sl_buf_addf(b, "sluice_wal_sync_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    sl_buf_addf(b, "sluice_wal_sync_duration_seconds_sum %.9f\n", ws.sync_ns_total / 1e9);
    sl_buf_addf(b, "sluice_wal_sync_duration_seconds_count %llu\n", (unsigned long long)ws.syncs);
    gauge(b, "sluice_wal_disk_bytes", "Bytes of WAL segments on disk.",
          (double)wal_disk_bytes(e->wal));
    gauge(b, "sluice_wal_failed", "1 when the WAL is in its sticky error state.",
          wal_failed(e->wal) ? 1 : 0);
    gauge(b, "sluice_buffer_bytes", "Memory held by the write buffer.",
          (double)atomic_load(&e->buffer.bytes));
    gauge(b, "sluice_buffer_limit_bytes", "Write buffer limit; writes get 503 above it.",
          (double)e->buffer.limit);
    gauge(b, "sluice_buffer_rows", "Rows appended to the write buffer since start.",
          (double)atomic_load(&e->buffer.rows_total));
    gauge(b, "sluice_uptime_seconds", "Seconds since the server started.",
          (sl_now_ns() - e->started_ns) / 1e9);
}

static void value_json(struct sl_buf *b, const struct buf_col *c, size_t r)
{
    char tmp[40];
    switch (c->type) {
    case LP_FLOAT:
        lp_format_float(c->v.f[r], tmp);
        sl_buf_adds(b, tmp);
        break;
    case LP_INTEGER: sl_buf_add_i64(b, c->v.i[r]); break;
    case LP_UNSIGNED: sl_buf_add_u64(b, c->v.u[r]); break;
    case LP_BOOLEAN: sl_buf_adds(b, c->v.b[r] ? "true" : "false"); break;
    case LP_STRING: sl_buf_add_json_str(b, c->v.s[r].ptr, c->v.s[r].len); break;
    }
}

static int emit_rows(void *ctx, const struct cat_table *t, const struct scan_chunk *c)
{
    struct sl_buf *b = ctx;
    for (size_t r = 0; r < c->nrows; r++) {
        sl_buf_adds(b, "{\"time\":");
        sl_buf_add_i64(b, c->time[r]);
        for (size_t k = 1; k < c->ncols && k < t->ncols; k++) {
            const struct buf_col *col = &c->cols[k];
            if (!col->present || !col->valid[r]) continue;
            sl_buf_addc(b, ',');
            sl_buf_add_json_str(b, t->cols[k].name, strlen(t->cols[k].name));
            sl_buf_addc(b, ':');
            value_json(b, col, r);
        }
        if (sl_buf_adds(b, "}\n") < 0) return SL_ENOMEM;
    }
    return 0;
}

void api_debug_rows(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V3);
        return;
    }
    if (!a.grant.admin) {
        http_resp_error(resp, 403, "an admin token is required");
        return;
    }
    const char *dbn = http_query(req, "db"), *tn = http_query(req, "table");
    if (!dbn || !tn) {
        http_resp_error(resp, 400, "parameters \"db\" and \"table\" are required");
        return;
    }
    struct catalog *cat = s->eng->catalog;
    catalog_rdlock(cat);
    struct cat_db *db = catalog_db_get(cat, dbn, strlen(dbn));
    struct cat_table *t = db ? cat_db_table_get(db, tn, strlen(tn)) : NULL;
    if (!t) {
        catalog_unlock(cat);
        http_resp_error(resp, 404, "no such database or table");
        return;
    }
    resp->status = 200;
    resp->content_type = "application/jsonl";
    int rc = storage_scan(s->eng, db, t, INT64_MIN, INT64_MAX, emit_rows, &resp->body);
    catalog_unlock(cat);
    if (rc < 0) http_resp_error(resp, 500, sl_strerror(rc));
}

/* POST /api/sluice/persist and /api/sluice/compact (admin): 204 once done. */
void api_storage_action(struct api_server *s, struct http_req *req, struct http_resp *resp)
{
    struct api_auth a;
    api_authenticate(s, req, &a);
    if (!a.ok) {
        api_unauthorized(resp, API_V3);
        return;
    }
    if (!a.grant.admin) {
        http_resp_error(resp, 403, "an admin token is required");
        return;
    }
    int rc = strstr(req->path, "compact") ? storage_compact(s->eng, 2) : storage_persist(s->eng, 1);
    if (rc < 0)
        http_resp_error(resp, 500, sl_strerror(rc));
    else
        resp->status = 204;
}
