/*
 * sluice/admin.h — the administration helper of libsluice: authenticated
 * HTTP requests with any method on one kept-alive connection, for the
 * management APIs (/api/v3/configure/..., /api/sluice/backup). The CLI's
 * `sluice db`, `sluice token` and `sluice backup` are built on it.
 *
 *   struct sl_admin *a;
 *   sl_admin_new("http://localhost:8086", token, &a);
 *   sl_admin_request(a, "GET", "/api/v3/configure/database?format=json",
 *                    NULL, 0, 0, &status, &body, &len);
 *   ...
 *   sl_admin_free(a);
 */
#ifndef SLUICE_ADMIN_H
#define SLUICE_ADMIN_H

#include <sluice/sluice.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sl_admin;

/* Opens a handle for the server at url (e.g. "http://host:8086"; trailing
 * slashes are ignored). token (may be NULL) is sent as "Authorization: Bearer".
 * The handle copies both strings. Returns 0, SL_EINVAL (no url), SL_ENOMEM or
 * SL_EIO (libcurl could not be initialised). */
int sl_admin_new(const char *url, const char *token, struct sl_admin **out);
/* Releases the handle and wipes the copy of the token. NULL is allowed. */
void sl_admin_free(struct sl_admin *a);

/* Sets the timeout of each request in milliseconds (default 300000). */
void sl_admin_set_timeout(struct sl_admin *a, int timeout_ms);

/* Sends method (GET, POST, PUT, PATCH, DELETE) to path (which starts with '/'
 * and carries the query string, already escaped). A non-NULL body is sent as
 * application/json. The response body is kept up to max_body bytes (0 = 64
 * MiB; a longer one fails with SL_ETOOBIG).
 *
 * When a response arrives, *status is its HTTP status and *resp_body
 * (NUL-terminated, owned by the caller: sl_free) / *resp_len its body,
 * whatever the status. After a transport error *status is 0 and *resp_body
 * is curl's message. Returns 0 for a 2xx answer; SL_EPERM (401/403),
 * SL_ENOENT (404), SL_EEXIST (409), SL_EINVAL (other 4xx, or bad arguments),
 * SL_EIO (5xx, network), SL_ETOOBIG, SL_ENOMEM. */
int sl_admin_request(struct sl_admin *a, const char *method, const char *path, const char *body,
                     size_t body_len, size_t max_body, long *status, char **resp_body,
                     size_t *resp_len);

/* Returns a newly allocated URL-escaped copy of s (for query parameters),
 * owned by the caller (sl_free), or NULL on allocation failure. */
char *sl_admin_escape(const char *s);

#ifdef __cplusplus
}
#endif

#endif
