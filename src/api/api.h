/*
 * api.h — the HTTP API of `sluice serve`: routing, authentication, and the
 * v1/v2/v3 endpoint handlers. Internal to the api subsystem, except
 * struct api_server and api_handle, which serve.c wires to the HTTP layer.
 */
#ifndef SL_API_API_H
#define SL_API_API_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog/tokens.h"
#include "http/http.h"
#include "storage/engine.h"

#define API_LAT_BUCKETS 14 /* request latency histogram: 0.5 ms .. 4 s, then +Inf */

struct api_metrics {
    atomic_ullong requests;
    atomic_ullong lat_buckets[API_LAT_BUCKETS + 1];
    atomic_ullong lat_sum_us;
    atomic_ullong auth_failures;
    atomic_ullong status[6]; /* by first digit */
    atomic_ullong body_bytes;
};

struct api_server {
    struct engine *eng;
    struct token_store *tokens;
    int auth_enabled;
    struct api_metrics m;
    const char *version;
};

/* The handler given to the HTTP server. */
void api_handle(void *app, struct http_req *req, struct http_resp *resp);

/* ---- shared by the handler files ---- */

enum api_style { API_V1, API_V2, API_V3 };

/* The authenticated caller. */
struct api_auth {
    int ok;      /* authenticated (or auth disabled) */
    int present; /* credentials were supplied */
    struct token_grant grant;
};

/* Authenticates the request. With auth disabled every request is admin. */
void api_authenticate(struct api_server *s, struct http_req *req, struct api_auth *a);
/* Whether the caller may do action (TOKEN_READ/TOKEN_WRITE) on db. */
int api_allowed(struct api_server *s, const struct api_auth *a, const char *db, size_t len,
                int action);
/* Sets a 401 in the style of the API version. */
void api_unauthorized(struct http_resp *resp, enum api_style st);
void api_forbidden(struct http_resp *resp, enum api_style st, const char *db);

void api_write_v1(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_write_v2(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_write_v3(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_query_v1(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_query_influxql(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_query_sql(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_configure_database(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_configure_table(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_configure_token(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_v2_authorizations(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_v2_buckets(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_v2_orgs(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_delete_v2(struct api_server *s, struct http_req *req, struct http_resp *resp);
/* The live database whose v2 bucket id (hex, maybe followed by "/...") is id,
 * or NULL; the caller holds the catalog lock (manage.c). */
struct cat_db *api_db_by_bucket_id(struct catalog *cat, const char *id);
void api_metrics(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_debug_rows(struct api_server *s, struct http_req *req, struct http_resp *resp);
void api_storage_action(struct api_server *s, struct http_req *req, struct http_resp *resp);

/* Parses a JSON request body; NULL with a 400 already set on failure. */
struct json_t;
struct json_t *api_json_body(struct http_req *req, struct http_resp *resp, enum api_style st);

/* ---- backup.c: online backup snapshots (admin) and helpers shared with the CLI ---- */

/* Largest chunk of a snapshot file one GET returns. */
#define BACKUP_CHUNK_MAX ((size_t)8 << 20)

/* /api/sluice/backup[/ID[/file]] (see backup.c). */
void api_backup(struct api_server *s, struct http_req *req, struct http_resp *resp);
/* Removes every snapshot under data_dir (at start-up no download can be running). */
int api_backup_remove_all(const char *data_dir);
/* Whether rel is a safe relative path: no leading '/', no empty, "." or ".."
 * component, no control characters or backslashes. */
int api_backup_path_ok(const char *rel);
/* SHA-256 of a file as 64 lower-case hex digits, and its size. */
int api_sha256_file(const char *path, char hex[65], uint64_t *size);
void api_sha256_hex(const unsigned char md[32], char hex[65]);
/* Takes the exclusive advisory lock (flock) on DIR/LOCK that marks a data
 * directory in use. 0 and *fd (keep it open to hold the lock), SL_EBUSY when
 * another process holds it, SL_ENOENT when dir does not exist, SL_EIO. */
int api_data_dir_lock(const char *dir, int *fd);

#endif
