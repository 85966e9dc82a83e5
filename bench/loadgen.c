/*
 * loadgen.c — ingestion load generator for the benchmark harness
 * (bench/ingest-bench). It reads a line-protocol file into memory, cuts it
 * into batches of N lines, and POSTs them over C keep-alive connections
 * (one thread and one libcurl handle each, taking batches from a shared
 * counter) to one URL, then prints one JSON object:
 *
 *   {"url":..., "lines":..., "lines_ok":..., "requests":..., "seconds":...,
 *    "lines_per_s":..., "mb_per_s":..., "latency_ms":{"p50","p90","p99","max"},
 *    "status":{"204":n,...}}
 *
 * status "0" counts transport errors. Failed requests are not retried: the
 * benchmark reports them instead of hiding them. With --gzip the batches are
 * compressed before the clock starts, so the measurement is of the server,
 * not of this client's zlib.
 *
 * usage: bench_loadgen --url URL [--batch N] [--conns C] [--token T]
 *                      [--gzip] [--max-lines N] FILE
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client_int.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct batch {
    const char *data;
    size_t len;
    size_t lines;
    struct sl_buf gz;
};

struct job {
    const char *url;
    const char *auth;
    int gzip;
    struct batch *batches;
    size_t nbatches;
    atomic_size_t next;
};

struct worker {
    pthread_t th;
    struct job *job;
    int64_t *lat_ns; /* one per request made */
    size_t nlat;
    size_t lines_ok;
    size_t status[600]; /* by HTTP status; [0] transport errors */
    size_t other;       /* statuses outside 1..599 */
    char first_err[512];
    int setup_failed;
};

static void *worker_main(void *arg)
{
    struct worker *wk = arg;
    struct job *j = wk->job;
    struct client_conn conn;
    struct client_resp resp;
    if (client_conn_init(&conn) < 0) {
        wk->setup_failed = 1;
        return NULL;
    }
    sl_buf_init(&resp.body, 64 * 1024);
    wk->lat_ns = sl_calloc(j->nbatches ? j->nbatches : 1, sizeof(int64_t));
    if (!wk->lat_ns) {
        wk->setup_failed = 1;
        goto out;
    }
    for (;;) {
        size_t i = atomic_fetch_add(&j->next, 1);
        if (i >= j->nbatches) break;
        struct batch *b = &j->batches[i];
        struct client_req rq = {
            .method = "POST",
            .url = j->url,
            .auth = j->auth,
            .content_type = "text/plain; charset=utf-8",
            .gzip = j->gzip,
            .body = j->gzip ? b->gz.ptr : b->data,
            .body_len = j->gzip ? b->gz.len : b->len,
            .timeout_ms = 120000,
            .user_agent = "sluice-loadgen/" SLUICE_VERSION,
            .truncate = 1,
        };
        int64_t t0 = sl_mono_ns();
        int rc = client_conn_do(&conn, &rq, &resp);
        wk->lat_ns[wk->nlat++] = sl_mono_ns() - t0;
        long st = rc == 0 ? resp.status : 0;
        if (st >= 0 && st < 600)
            wk->status[st]++;
        else
            wk->other++;
        if (st >= 200 && st < 300) {
            wk->lines_ok += b->lines;
        } else if (!wk->first_err[0]) {
            snprintf(wk->first_err, sizeof(wk->first_err), "%ld %s", st,
                     st ? (resp.body.ptr ? resp.body.ptr : "") : resp.err);
        }
    }
out:
    sl_buf_release(&resp.body);
    client_conn_release(&conn);
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const int64_t *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)v[i] / 1e6;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_loadgen --url URL [--batch N] [--conns C] [--token T] [--gzip]\n"
               "                     [--max-lines N] FILE\n");
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"url", required_argument, 0, 'u'},   {"batch", required_argument, 0, 'b'},
        {"conns", required_argument, 0, 'c'}, {"token", required_argument, 0, 't'},
        {"gzip", no_argument, 0, 'z'},        {"max-lines", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},        {0, 0, 0, 0},
    };
    const char *url = NULL, *token = NULL;
    long batch = 5000, conns = 4, max_lines = 0;
    int gzip = 0, opt, rc = 1;
    char *data = NULL, auth[1024] = "";
    struct batch *batches = NULL;
    struct worker *wk = NULL;
    size_t nb = 0, len = 0, total_lines = 0;

    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 't': token = optarg; break;
        case 'z': gzip = 1; break;
        case 'b': batch = strtol(optarg, NULL, 10); break;
        case 'c': conns = strtol(optarg, NULL, 10); break;
        case 'm': max_lines = strtol(optarg, NULL, 10); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!url || optind != argc - 1 || batch < 1 || conns < 1 || conns > 256 || max_lines < 0) {
        usage(stderr);
        return 2;
    }
    FILE *f = fopen(argv[optind], "rb");
    if (!f) {
        fprintf(stderr, "bench_loadgen: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    struct sl_buf fb;
    sl_buf_init(&fb, 0);
    char tmp[1 << 16];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
        if (sl_buf_add(&fb, tmp, n) < 0) {
            fprintf(stderr, "bench_loadgen: file too large for memory\n");
            fclose(f);
            sl_buf_release(&fb);
            return 1;
        }
    fclose(f);
    data = sl_buf_detach(&fb, &len);
    if (!data) {
        fprintf(stderr, "bench_loadgen: empty input\n");
        return 1;
    }

    /* cut into batches of `batch` lines */
    size_t cap = 0;
    const char *p = data, *end = data + len;
    while (p < end && (!max_lines || total_lines < (size_t)max_lines)) {
        const char *s = p;
        size_t lines = 0;
        while (p < end && lines < (size_t)batch &&
               (!max_lines || total_lines + lines < (size_t)max_lines)) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            p = nl ? nl + 1 : end;
            lines++;
        }
        struct batch *nbp = sl_grow(batches, &cap, nb + 1, sizeof(*batches));
        if (!nbp) goto oom;
        batches = nbp;
        batches[nb] = (struct batch){s, (size_t)(p - s), lines, SL_BUF_INIT};
        if (gzip && client_gzip(&batches[nb].gz, s, (size_t)(p - s)) < 0) goto oom;
        nb++;
        total_lines += lines;
    }
    if (token && *token) snprintf(auth, sizeof(auth), "Token %s", token);
    if (client_global_init() < 0) {
        fprintf(stderr, "bench_loadgen: curl initialisation failed\n");
        goto out;
    }

    struct job job = {url, auth[0] ? auth : NULL, gzip, batches, nb, 0};
    if (!(wk = sl_calloc((size_t)conns, sizeof(*wk)))) goto oom;
    int64_t t0 = sl_mono_ns();
    for (long i = 0; i < conns; i++) {
        wk[i].job = &job;
        if (pthread_create(&wk[i].th, NULL, worker_main, &wk[i]) != 0) {
            fprintf(stderr, "bench_loadgen: cannot start thread\n");
            conns = i;
            break;
        }
    }
    for (long i = 0; i < conns; i++)
        pthread_join(wk[i].th, NULL);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;

    size_t nlat = 0, lines_ok = 0, status[600] = {0}, other = 0;
    const char *first_err = "";
    for (long i = 0; i < conns; i++) {
        if (wk[i].setup_failed) {
            fprintf(stderr, "bench_loadgen: worker set-up failed\n");
            goto out;
        }
        nlat += wk[i].nlat;
        lines_ok += wk[i].lines_ok;
        other += wk[i].other;
        for (int s = 0; s < 600; s++)
            status[s] += wk[i].status[s];
        if (!first_err[0] && wk[i].first_err[0]) first_err = wk[i].first_err;
    }
    int64_t *all = sl_calloc(nlat ? nlat : 1, sizeof(int64_t));
    if (!all) goto oom;
    size_t k = 0;
    for (long i = 0; i < conns; i++) {
        memcpy(all + k, wk[i].lat_ns, wk[i].nlat * sizeof(int64_t));
        k += wk[i].nlat;
    }
    qsort(all, nlat, sizeof(int64_t), cmp_i64);
    size_t bytes = 0;
    for (size_t i = 0; i < nb; i++)
        bytes += batches[i].len;

    struct sl_buf js;
    sl_buf_init(&js, 0);
    sl_buf_adds(&js, "{\"url\":");
    sl_buf_add_json_str(&js, url, strlen(url));
    sl_buf_addf(&js,
                ",\"lines\":%zu,\"lines_ok\":%zu,\"requests\":%zu,\"batch_lines\":%ld,"
                "\"connections\":%ld,\"gzip\":%s,\"bytes\":%zu,\"seconds\":%.3f,"
                "\"lines_per_s\":%.0f,\"mb_per_s\":%.2f,"
                "\"latency_ms\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f},"
                "\"status\":{",
                total_lines, lines_ok, nlat, batch, conns, gzip ? "true" : "false", bytes, secs,
                secs > 0 ? (double)lines_ok / secs : 0.0,
                secs > 0 ? (double)bytes / secs / 1e6 : 0.0, pct_ms(all, nlat, 0.5),
                pct_ms(all, nlat, 0.9), pct_ms(all, nlat, 0.99),
                nlat ? (double)all[nlat - 1] / 1e6 : 0.0);
    int first = 1;
    for (int s = 0; s < 600; s++)
        if (status[s]) {
            sl_buf_addf(&js, "%s\"%d\":%zu", first ? "" : ",", s, status[s]);
            first = 0;
        }
    if (other) sl_buf_addf(&js, "%s\"other\":%zu", first ? "" : ",", other);
    sl_buf_adds(&js, "},\"first_error\":");
    sl_buf_add_json_str(&js, first_err, strlen(first_err) > 300 ? 300 : strlen(first_err));
    sl_buf_adds(&js, "}\n");
    fwrite(js.ptr, 1, js.len, stdout);
    sl_buf_release(&js);
    sl_free(all);
    rc = lines_ok == total_lines ? 0 : 1;
    goto out;
oom:
    fprintf(stderr, "bench_loadgen: out of memory\n");
out:
    if (wk)
        for (long i = 0; i < conns; i++)
            sl_free(wk[i].lat_ns);
    sl_free(wk);
    for (size_t i = 0; i < nb; i++)
        sl_buf_release(&batches[i].gz);
    sl_free(batches);
    sl_free(data);
    return rc;
}
