/*
 * serve.c — `sluice serve`: parses options (each also from a SLUICE_*
 * environment variable), opens the storage engine (catalog, WAL replay,
 * buffer), creates the operator token on first start, and runs the HTTP API
 * until SIGINT/SIGTERM, then shuts down cleanly (the WAL is synced on close).
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "catalog/tokens.h"
#include "cli/commands.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "http/http.h"
#include "storage/engine.h"

struct serve_opts {
    const char *data_dir;
    const char *bind;
    int without_auth;
    size_t max_body;
    unsigned max_conns;
    unsigned max_conns_per_ip;
    unsigned idle_timeout;
    unsigned header_timeout;
    unsigned request_timeout;
    size_t buffer_limit;
    size_t wal_segment;
    int wal_skip_corrupt;
    int no_auto_create;
    int access_log;
    const char *log_level;
};

/* Parses "25MB", "512MiB", "1g", "1048576" (k/m/g/t are powers of 1024 with an
 * i, of 1000 without). */
static int parse_size(const char *s, size_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || v < 0) return -1;
    while (*end == ' ')
        end++;
    double mul = 1;
    char u = (char)tolower((unsigned char)*end);
    int binary = end[0] && (end[1] == 'i' || end[1] == 'I');
    if (u == 'k')
        mul = binary ? 1024.0 : 1e3;
    else if (u == 'm')
        mul = binary ? 1048576.0 : 1e6;
    else if (u == 'g')
        mul = binary ? 1073741824.0 : 1e9;
    else if (u == 't')
        mul = binary ? 1099511627776.0 : 1e12;
    else if (u && u != 'b')
        return -1;
    v *= mul;
    if (v > 1e18) return -1;
    *out = (size_t)v;
    return 0;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"));
}

static void usage(FILE *f)
{
    fprintf(
        f, "usage: sluice serve [options]\n\n"
           "Runs the sluice server: InfluxDB v1/v2/v3 write and query APIs on a durable WAL.\n"
           "Every option can also be set with the environment variable shown.\n\n"
           "  --data-dir DIR          data directory (SLUICE_DATA_DIR; default ./data)\n"
           "  --http-bind HOST:PORT   listen address (SLUICE_HTTP_BIND; default 0.0.0.0:8086)\n"
           "  --without-auth          accept requests without tokens, for local experiments\n"
           "                          (SLUICE_WITHOUT_AUTH=true)\n"
           "  --max-body-size SIZE    largest request body, also after gunzip; larger -> 413\n"
           "                          (SLUICE_MAX_BODY_SIZE; default 25MB)\n"
           "  --max-connections N     concurrent connections (SLUICE_MAX_CONNECTIONS; 512)\n"
           "  --max-connections-per-ip N  (SLUICE_MAX_CONNECTIONS_PER_IP; default 0 = no limit)\n"
           "  --idle-timeout SECS     close idle connections (SLUICE_IDLE_TIMEOUT; 60)\n"
           "  --header-timeout SECS   a request's line and headers must arrive within this;\n"
           "                          slower clients are disconnected (SLUICE_HEADER_TIMEOUT; 10)\n"
           "  --request-timeout SECS  a request body must arrive within this; slower clients\n"
           "                          are disconnected (SLUICE_REQUEST_TIMEOUT; 120)\n"
           "  --buffer-limit SIZE     memory for buffered points; writes get 503 + Retry-After\n"
           "                          above it (SLUICE_BUFFER_LIMIT; default 2GiB)\n"
           "  --wal-segment-size SIZE WAL segment size (SLUICE_WAL_SEGMENT_SIZE; 64MiB)\n"
           "  --wal-skip-corrupt      start even if the WAL is damaged in the middle, skipping\n"
           "                          the damaged records (SLUICE_WAL_SKIP_CORRUPT=true)\n"
           "  --no-auto-create        databases must be created before writes\n"
           "                          (SLUICE_NO_AUTO_CREATE=true)\n"
           "  --access-log            log every request (SLUICE_ACCESS_LOG=true)\n"
           "  --log-level LEVEL       debug, info, warn, error (SLUICE_LOG_LEVEL; info)\n"
           "  -h, --help              this help\n");
}

static int ensure_operator_token(struct token_store *ts, const char *data_dir)
{
    if (token_store_count(ts) > 0) return 0;
    char *raw = NULL, id[33];
    int rc = token_create(ts, "_admin", 1, NULL, 0, 0, "operator token", &raw, id);
    if (rc < 0) return rc;
    char path[4200];
    snprintf(path, sizeof(path), "%s/operator-token", data_dir);
    size_t n = strlen(raw);
    raw[n] = '\n';
    rc = sl_file_write_atomic(path, raw, n + 1, 0600);
    memset(raw, 0, n + 1);
    sl_free(raw);
    if (rc < 0) return rc;
    sl_info("serve",
            "created the operator (admin) token %s; it was written once to %s (mode "
            "0600) — store it safely and delete the file",
            id, path);
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    struct serve_opts o = {
        .data_dir = env_or("SLUICE_DATA_DIR", "./data"),
        .bind = env_or("SLUICE_HTTP_BIND", "0.0.0.0:8086"),
        .without_auth = env_flag("SLUICE_WITHOUT_AUTH"),
        .max_body = 25 * 1000 * 1000,
        .max_conns = (unsigned)atoi(env_or("SLUICE_MAX_CONNECTIONS", "512")),
        .max_conns_per_ip = (unsigned)atoi(env_or("SLUICE_MAX_CONNECTIONS_PER_IP", "0")),
        .idle_timeout = (unsigned)atoi(env_or("SLUICE_IDLE_TIMEOUT", "60")),
        .header_timeout = (unsigned)atoi(env_or("SLUICE_HEADER_TIMEOUT", "10")),
        .request_timeout = (unsigned)atoi(env_or("SLUICE_REQUEST_TIMEOUT", "120")),
        .wal_skip_corrupt = env_flag("SLUICE_WAL_SKIP_CORRUPT"),
        .no_auto_create = env_flag("SLUICE_NO_AUTO_CREATE"),
        .access_log = env_flag("SLUICE_ACCESS_LOG"),
        .log_level = env_or("SLUICE_LOG_LEVEL", "info"),
    };
    const char *max_body = env_or("SLUICE_MAX_BODY_SIZE", NULL);
    const char *buffer_limit = env_or("SLUICE_BUFFER_LIMIT", NULL);
    const char *wal_segment = env_or("SLUICE_WAL_SEGMENT_SIZE", NULL);
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"http-bind", required_argument, NULL, 'b'},
        {"without-auth", no_argument, NULL, 'A'},
        {"max-body-size", required_argument, NULL, 'B'},
        {"max-connections", required_argument, NULL, 'c'},
        {"max-connections-per-ip", required_argument, NULL, 'I'},
        {"idle-timeout", required_argument, NULL, 'i'},
        {"request-timeout", required_argument, NULL, 'r'},
        {"header-timeout", required_argument, NULL, 'H'},
        {"buffer-limit", required_argument, NULL, 'L'},
        {"wal-segment-size", required_argument, NULL, 'S'},
        {"wal-skip-corrupt", no_argument, NULL, 'K'},
        {"no-auto-create", no_argument, NULL, 'N'},
        {"access-log", no_argument, NULL, 'a'},
        {"log-level", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'b': o.bind = optarg; break;
        case 'A': o.without_auth = 1; break;
        case 'B': max_body = optarg; break;
        case 'c': o.max_conns = (unsigned)atoi(optarg); break;
        case 'I': o.max_conns_per_ip = (unsigned)atoi(optarg); break;
        case 'i': o.idle_timeout = (unsigned)atoi(optarg); break;
        case 'r': o.request_timeout = (unsigned)atoi(optarg); break;
        case 'H': o.header_timeout = (unsigned)atoi(optarg); break;
        case 'L': buffer_limit = optarg; break;
        case 'S': wal_segment = optarg; break;
        case 'K': o.wal_skip_corrupt = 1; break;
        case 'N': o.no_auto_create = 1; break;
        case 'a': o.access_log = 1; break;
        case 'l': o.log_level = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "sluice serve: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if ((max_body && parse_size(max_body, &o.max_body) < 0) ||
        (buffer_limit && parse_size(buffer_limit, &o.buffer_limit) < 0) ||
        (wal_segment && parse_size(wal_segment, &o.wal_segment) < 0)) {
        fprintf(stderr, "sluice serve: invalid size (use e.g. 25MB, 512MiB, 2GiB)\n");
        return 2;
    }
    enum sl_log_level lvl;
    if (sl_log_parse_level(o.log_level, &lvl) < 0) {
        fprintf(stderr, "sluice serve: invalid log level '%s'\n", o.log_level);
        return 2;
    }
    sl_log_set_level(lvl);
    signal(SIGPIPE, SIG_IGN);
    /* Request bodies and per-request arenas are megabytes each; served from
     * mmap they would be returned to the kernel after every request and
     * page-faulted in again on the next. Keep them in the heap, and let freed
     * heap memory be reused rather than trimmed at once. A few arenas bound
     * fragmentation across connection threads. */
    mallopt(M_MMAP_THRESHOLD, 64 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_ARENA_MAX, 4);

    char err[1024] = "";
    struct engine_opts eo = {
        .data_dir = o.data_dir,
        .buffer_limit = o.buffer_limit,
        .wal_segment_bytes = o.wal_segment,
        .skip_corrupt_wal = o.wal_skip_corrupt,
        .no_auto_create = o.no_auto_create,
    };
    struct engine *eng = NULL;
    struct token_store *tokens = NULL;
    struct http_server *http = NULL;
    /* one server per data directory: the lock is held (fd kept open) until
     * the process ends, and tells `sluice restore` the directory is in use */
    int lock_fd = -1;
    if (sl_mkdirs(o.data_dir, 0) == 0) {
        int lrc = api_data_dir_lock(o.data_dir, &lock_fd);
        if (lrc == SL_EBUSY) {
            sl_error("serve", "%s is in use by another sluice process", o.data_dir);
            return 1;
        }
        if (lrc == 0) api_backup_remove_all(o.data_dir); /* stale snapshots */
    }
    int rc = engine_open(&eo, &eng, err, sizeof(err));
    if (rc < 0) {
        sl_error("serve", "cannot start: %s", err[0] ? err : sl_strerror(rc));
        if (rc == SL_ECORRUPT)
            sl_error("serve", "the WAL is damaged before its end; to start anyway and skip the "
                              "damaged records, run with --wal-skip-corrupt");
        return 1;
    }
    if ((rc = token_store_open(o.data_dir, &tokens, err, sizeof(err))) < 0) {
        sl_error("serve", "cannot open the token store: %s", err[0] ? err : sl_strerror(rc));
        engine_close(eng);
        return 1;
    }
    if ((rc = ensure_operator_token(tokens, o.data_dir)) < 0) {
        sl_error("serve", "cannot create the operator token: %s", sl_strerror(rc));
        goto out;
    }
    struct api_server api = {
        .eng = eng, .tokens = tokens, .auth_enabled = !o.without_auth, .version = SLUICE_VERSION};
    struct http_server_opts ho = {
        .bind = o.bind,
        .max_body = o.max_body,
        .max_conns = o.max_conns,
        .max_conns_per_ip = o.max_conns_per_ip,
        .idle_timeout_s = o.idle_timeout,
        .header_timeout_s = o.header_timeout,
        .request_timeout_s = o.request_timeout,
        .access_log = o.access_log,
        .handler = api_handle,
        .app = &api,
    };
    /* Block the stop signals in every thread; the main thread waits for them. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if ((rc = http_server_start(&ho, &http, err, sizeof(err))) < 0) {
        sl_error("serve", "%s", err);
        goto out;
    }
    sl_info("serve", "sluice %s listening on %s (port %d), data in %s, auth %s", SLUICE_VERSION,
            o.bind, http_server_port(http), o.data_dir, o.without_auth ? "OFF" : "on");
    int sig = 0;
    sigwait(&set, &sig);
    sl_info("serve", "received %s; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
out:
    http_server_stop(http);
    token_store_close(tokens);
    engine_close(eng);
    return rc < 0 ? 1 : 0;
}
