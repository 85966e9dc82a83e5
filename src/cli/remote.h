/*
 * remote.h — what the management commands (`sluice db`, `sluice token`,
 * `sluice backup`) share: the --host/--token/--format conventions of
 * `sluice query` ($SLUICE_HOST, $SLUICE_TOKEN, then $INFLUX_TOKEN), one
 * kept-alive connection, JSON requests, error reporting with the server's
 * message, and a small table printer for --format pretty.
 *
 * Exit codes everywhere: 0 success, 1 the server or the network reported an
 * error, 2 usage error (REMOTE_USAGE).
 */
#ifndef SL_CLI_REMOTE_H
#define SL_CLI_REMOTE_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "sluice/admin.h"

#define REMOTE_OK    0
#define REMOTE_FAIL  1
#define REMOTE_USAGE 2

struct remote {
    const char *cmd; /* "sluice db", for messages */
    const char *host;
    const char *token;
    int json; /* --format json */
    struct sl_admin *a;
};

/* Fills host and token from the environment. */
void remote_init(struct remote *r, const char *cmd);
/* Handles --format: 0, or REMOTE_USAGE after printing why. */
int remote_set_format(struct remote *r, const char *fmt);
/* Opens the connection; 0 or REMOTE_FAIL after printing why. */
int remote_open(struct remote *r);
void remote_close(struct remote *r);

/* Sends a request (body: JSON, borrowed, may be NULL). On a 2xx answer returns
 * 0 and, when out is non-NULL, *out is the parsed JSON body (NULL for an
 * empty body; caller json_decref). Otherwise prints "CMD: what: HTTP 404:
 * server message" (or the network error) to stderr and returns REMOTE_FAIL;
 * *status (when non-NULL) tells the HTTP status (0: no answer). */
int remote_call(struct remote *r, const char *what, const char *method, const char *path,
                json_t *body, json_t **out, long *status);

/* Prints a table: ncols headers, then rows of ncols cells (NULL = empty). */
void remote_table(FILE *f, const char *const *headers, size_t ncols, const char *const *cells,
                  size_t nrows);

/* Prints j as compact JSON followed by a newline. */
void remote_print_json(FILE *f, json_t *j);
/* DELETE path?param=<name escaped> and report it: {"<key>": name, "deleted": true}
 * with --format json, else '<noun> "name" deleted'. Returns a REMOTE_* code. */
int remote_delete(struct remote *r, const char *noun, const char *path, const char *param,
                  const char *key, const char *name);

#endif
