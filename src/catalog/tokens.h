/*
 * tokens.h — API tokens: creation, hashed storage, authentication, permissions.
 *
 * A raw token ("apiv3_" + 64 random bytes in base64url) is shown exactly once,
 * when it is created. Only its SHA-512 is stored (tokens.json, mode 0600,
 * written atomically). Authentication hashes the presented token and compares
 * it with every stored hash using a constant-time comparison, so neither the
 * match position nor the secret leaks through timing. Empty or blank secrets
 * never authenticate. Token values never reach a log: tokens are named by id.
 *
 * Permissions: an admin token may do anything. A resource token carries a list
 * of (database name or "*", read, write) grants.
 */
#ifndef SL_CATALOG_TOKENS_H
#define SL_CATALOG_TOKENS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define TOKEN_PREFIX    "apiv3_"
#define TOKEN_MAX_PERMS 256

enum token_action { TOKEN_READ = 1, TOKEN_WRITE = 2 };

struct token_perm {
    char *db;    /* database name, or "*" for every database */
    int actions; /* TOKEN_READ | TOKEN_WRITE */
};

struct token {
    char id[33]; /* 32 hex chars, public */
    char *name;
    char *description;
    unsigned char hash[64];
    int admin;
    struct token_perm *perms;
    size_t nperms;
    int64_t created_ns;
    int64_t expires_ns; /* 0 = never */
};

struct token_store {
    pthread_mutex_t lock;
    char *path;
    struct token **v;
    size_t n, cap;
};

/* Who an authenticated request is. Permissions are checked against the store
 * by id (token_allows), so a deleted token stops working at once. */
struct token_grant {
    int admin;
    char id[33];
};

int token_store_open(const char *dir, struct token_store **out, char *err, size_t errlen);
void token_store_close(struct token_store *ts);
size_t token_store_count(struct token_store *ts);

/* Creates a token. perms may be NULL for admin tokens. On success *raw is the
 * secret (caller frees with sl_free) and *id_out the public id. Fails with
 * SL_EEXIST when a token of that name exists. */
int token_create(struct token_store *ts, const char *name, int admin,
                 const struct token_perm *perms, size_t nperms, int64_t expires_ns,
                 const char *description, char **raw, char id_out[33]);
/* Replaces the secret of the admin token named name (regenerate). */
int token_regenerate(struct token_store *ts, const char *name, char **raw, char id_out[33]);
/* Deletes by id or name. SL_ENOENT when absent. */
int token_delete(struct token_store *ts, const char *id_or_name);

/* Authenticates a raw secret. 0 and *g filled when it matches a live token,
 * SL_EPERM otherwise (unknown, empty, expired). */
int token_authenticate(struct token_store *ts, const char *raw, size_t len, struct token_grant *g);
/* Whether the grant allows action on database db. */
int token_allows(struct token_store *ts, const struct token_grant *g, const char *db, size_t len,
                 int action);

/* Appends a JSON array describing every token (never the secret or hash). */
int token_list_json(struct token_store *ts, struct sl_buf *out, int v2_style);

#endif
