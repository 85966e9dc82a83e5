/*
 * tokens.c — token store: SHA-512 hashes at rest in tokens.json (0600).
 *
 * File format:
 *   {"format":"sluice-tokens","version":1,"tokens":[
 *     {"id":"<32 hex>","name":"_admin","description":"","hash":"<128 hex sha512>",
 *      "admin":true,"created_ns":T,"expires_ns":0,
 *      "permissions":[{"db":"mydb","actions":["read","write"]}]}]}
 */
#include "catalog/tokens.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define TOKENS_FILE "tokens.json"

static void sha512(const char *p, size_t n, unsigned char out[64])
{
    unsigned int len = 64;
    EVP_Digest(p, n, out, &len, EVP_sha512(), NULL);
}

static void hex_encode(const unsigned char *p, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[p[i] >> 4];
        out[2 * i + 1] = hx[p[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_decode(const char *s, unsigned char *out, size_t n)
{
    if (strlen(s) != 2 * n) return SL_ECORRUPT;
    for (size_t i = 0; i < n; i++) {
        unsigned v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + (size_t)k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else
                return SL_ECORRUPT;
        }
        out[i] = (unsigned char)v;
    }
    return 0;
}

static void token_free(struct token *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nperms; i++)
        sl_free(t->perms[i].db);
    sl_free(t->perms);
    sl_free(t->name);
    sl_free(t->description);
    OPENSSL_cleanse(t->hash, sizeof(t->hash));
    sl_free(t);
}

static int persist(struct token_store *ts)
{
    json_t *root = json_object();
    json_t *arr = json_array();
    json_object_set_new(root, "format", json_string("sluice-tokens"));
    json_object_set_new(root, "version", json_integer(1));
    for (size_t i = 0; i < ts->n; i++) {
        struct token *t = ts->v[i];
        char hash[129];
        hex_encode(t->hash, 64, hash);
        json_t *jt = json_object();
        json_object_set_new(jt, "id", json_string(t->id));
        json_object_set_new(jt, "name", json_string(t->name));
        json_object_set_new(jt, "description", json_string(t->description ? t->description : ""));
        json_object_set_new(jt, "hash", json_string(hash));
        json_object_set_new(jt, "admin", json_boolean(t->admin));
        json_object_set_new(jt, "created_ns", json_integer(t->created_ns));
        json_object_set_new(jt, "expires_ns", json_integer(t->expires_ns));
        json_t *jp = json_array();
        for (size_t k = 0; k < t->nperms; k++) {
            json_t *p = json_object(), *acts = json_array();
            json_object_set_new(p, "db", json_string(t->perms[k].db));
            if (t->perms[k].actions & TOKEN_READ) json_array_append_new(acts, json_string("read"));
            if (t->perms[k].actions & TOKEN_WRITE)
                json_array_append_new(acts, json_string("write"));
            json_object_set_new(p, "actions", acts);
            json_array_append_new(jp, p);
        }
        json_object_set_new(jt, "permissions", jp);
        json_array_append_new(arr, jt);
    }
    json_object_set_new(root, "tokens", arr);
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!text) return SL_ENOMEM;
    int rc = sl_file_write_atomic(ts->path, text, strlen(text), 0600);
    free(text);
    return rc;
}

static int load(struct token_store *ts, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        snprintf(err, errlen, "%s: line %d: %s", ts->path, jerr.line, jerr.text);
        return SL_ECORRUPT;
    }
    int rc = 0;
    json_t *arr = json_object_get(root, "tokens");
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s: not a sluice token file", ts->path);
        rc = SL_ECORRUPT;
        goto out;
    }
    size_t i;
    json_t *jt;
    json_array_foreach(arr, i, jt)
    {
        const char *id = json_string_value(json_object_get(jt, "id"));
        const char *name = json_string_value(json_object_get(jt, "name"));
        const char *hash = json_string_value(json_object_get(jt, "hash"));
        const char *desc = json_string_value(json_object_get(jt, "description"));
        struct token *t = sl_calloc(1, sizeof(*t));
        if (!t) {
            rc = SL_ENOMEM;
            goto out;
        }
        if (!id || strlen(id) != 32 || !name || !hash || hex_decode(hash, t->hash, 64) < 0) {
            token_free(t);
            snprintf(err, errlen, "%s: token entry %zu is malformed", ts->path, i);
            rc = SL_ECORRUPT;
            goto out;
        }
        memcpy(t->id, id, 33);
        t->name = sl_strdup(name);
        t->description = sl_strdup(desc ? desc : "");
        t->admin = json_is_true(json_object_get(jt, "admin"));
        t->created_ns = json_integer_value(json_object_get(jt, "created_ns"));
        t->expires_ns = json_integer_value(json_object_get(jt, "expires_ns"));
        json_t *jp = json_object_get(jt, "permissions");
        size_t np = json_is_array(jp) ? json_array_size(jp) : 0;
        t->perms = sl_calloc(np ? np : 1, sizeof(*t->perms));
        if (!t->name || !t->description || !t->perms) {
            token_free(t);
            rc = SL_ENOMEM;
            goto out;
        }
        for (size_t k = 0; k < np; k++) {
            json_t *p = json_array_get(jp, k);
            const char *db = json_string_value(json_object_get(p, "db"));
            json_t *acts = json_object_get(p, "actions");
            if (!db) continue;
            struct token_perm *tp = &t->perms[t->nperms];
            if (!(tp->db = sl_strdup(db))) {
                token_free(t);
                rc = SL_ENOMEM;
                goto out;
            }
            size_t a;
            json_t *ja;
            json_array_foreach(acts, a, ja)
            {
                const char *s = json_string_value(ja);
                if (s && !strcmp(s, "read")) tp->actions |= TOKEN_READ;
                if (s && !strcmp(s, "write")) tp->actions |= TOKEN_WRITE;
            }
            t->nperms++;
        }
        struct token **v = sl_grow(ts->v, &ts->cap, ts->n + 1, sizeof(*v));
        if (!v) {
            token_free(t);
            rc = SL_ENOMEM;
            goto out;
        }
        ts->v = v;
        ts->v[ts->n++] = t;
    }
out:
    json_decref(root);
    return rc;
}

int token_store_open(const char *dir, struct token_store **out, char *err, size_t errlen)
{
    struct token_store *ts = sl_calloc(1, sizeof(*ts));
    if (!ts) return SL_ENOMEM;
    pthread_mutex_init(&ts->lock, NULL);
    size_t n = strlen(dir) + sizeof(TOKENS_FILE) + 2;
    if (!(ts->path = sl_malloc(n))) {
        token_store_close(ts);
        return SL_ENOMEM;
    }
    snprintf(ts->path, n, "%s/%s", dir, TOKENS_FILE);
    char *text = NULL;
    size_t len = 0;
    int rc = sl_file_read_all(ts->path, 64u << 20, &text, &len);
    if (rc == SL_ENOENT)
        rc = 0;
    else if (rc == 0)
        rc = load(ts, text, len, err, errlen);
    else
        snprintf(err, errlen, "cannot read %s: %s", ts->path, sl_strerror(rc));
    if (text) {
        OPENSSL_cleanse(text, len);
        sl_free(text);
    }
    if (rc < 0) {
        token_store_close(ts);
        return rc;
    }
    *out = ts;
    return 0;
}

void token_store_close(struct token_store *ts)
{
    if (!ts) return;
    for (size_t i = 0; i < ts->n; i++)
        token_free(ts->v[i]);
    sl_free(ts->v);
    sl_free(ts->path);
    pthread_mutex_destroy(&ts->lock);
    sl_free(ts);
}

size_t token_store_count(struct token_store *ts)
{
    pthread_mutex_lock(&ts->lock);
    size_t n = ts->n;
    pthread_mutex_unlock(&ts->lock);
    return n;
}

static char *new_secret(unsigned char hash[64])
{
    unsigned char rnd[64];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1) return NULL;
    /* base64url without padding: 64 bytes -> 86 chars */
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t plen = strlen(TOKEN_PREFIX);
    char *s = sl_malloc(plen + 90);
    if (!s) return NULL;
    memcpy(s, TOKEN_PREFIX, plen);
    size_t o = plen;
    for (size_t i = 0; i < sizeof(rnd); i += 3) {
        uint32_t v = (uint32_t)rnd[i] << 16;
        size_t avail = sizeof(rnd) - i;
        if (avail > 1) v |= (uint32_t)rnd[i + 1] << 8;
        if (avail > 2) v |= rnd[i + 2];
        s[o++] = b64[(v >> 18) & 63];
        s[o++] = b64[(v >> 12) & 63];
        if (avail > 1) s[o++] = b64[(v >> 6) & 63];
        if (avail > 2) s[o++] = b64[v & 63];
    }
    s[o] = '\0';
    OPENSSL_cleanse(rnd, sizeof(rnd));
    sha512(s, o, hash);
    return s;
}

static struct token *find_locked(struct token_store *ts, const char *id_or_name, size_t *pos)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (!strcmp(ts->v[i]->id, id_or_name) || !strcmp(ts->v[i]->name, id_or_name)) {
            if (pos) *pos = i;
            return ts->v[i];
        }
    }
    return NULL;
}

int token_create(struct token_store *ts, const char *name, int admin,
                 const struct token_perm *perms, size_t nperms, int64_t expires_ns,
                 const char *description, char **raw, char id_out[33])
{
    if (!name || !*name || strlen(name) > 256 || nperms > TOKEN_MAX_PERMS) return SL_EINVAL;
    int rc = 0;
    struct token *t = sl_calloc(1, sizeof(*t));
    if (!t) return SL_ENOMEM;
    t->name = sl_strdup(name);
    t->description = sl_strdup(description ? description : "");
    t->perms = sl_calloc(nperms ? nperms : 1, sizeof(*t->perms));
    if (!t->name || !t->description || !t->perms) {
        rc = SL_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nperms; i++) {
        if (!(t->perms[i].db = sl_strdup(perms[i].db))) {
            rc = SL_ENOMEM;
            goto fail;
        }
        t->perms[i].actions = perms[i].actions;
        t->nperms++;
    }
    t->admin = admin;
    t->created_ns = sl_now_ns();
    t->expires_ns = expires_ns;
    unsigned char idb[16];
    if (RAND_bytes(idb, sizeof(idb)) != 1) {
        rc = SL_EIO;
        goto fail;
    }
    hex_encode(idb, sizeof(idb), t->id);
    char *secret = new_secret(t->hash);
    if (!secret) {
        rc = SL_ENOMEM;
        goto fail;
    }
    pthread_mutex_lock(&ts->lock);
    if (find_locked(ts, name, NULL)) {
        rc = SL_EEXIST;
    } else {
        struct token **v = sl_grow(ts->v, &ts->cap, ts->n + 1, sizeof(*v));
        if (!v) {
            rc = SL_ENOMEM;
        } else {
            ts->v = v;
            ts->v[ts->n++] = t;
            if ((rc = persist(ts)) < 0) ts->n--;
        }
    }
    pthread_mutex_unlock(&ts->lock);
    if (rc < 0) {
        OPENSSL_cleanse(secret, strlen(secret));
        sl_free(secret);
        goto fail;
    }
    *raw = secret;
    memcpy(id_out, t->id, 33);
    return 0;
fail:
    token_free(t);
    return rc;
}

int token_regenerate(struct token_store *ts, const char *name, char **raw, char id_out[33])
{
    int rc = SL_ENOENT;
    pthread_mutex_lock(&ts->lock);
    struct token *t = find_locked(ts, name, NULL);
    if (t) {
        unsigned char old[64];
        memcpy(old, t->hash, 64);
        char *secret = new_secret(t->hash);
        if (!secret) {
            rc = SL_ENOMEM;
        } else if ((rc = persist(ts)) < 0) {
            memcpy(t->hash, old, 64);
            OPENSSL_cleanse(secret, strlen(secret));
            sl_free(secret);
        } else {
            *raw = secret;
            memcpy(id_out, t->id, 33);
        }
    }
    pthread_mutex_unlock(&ts->lock);
    return rc;
}

int token_delete(struct token_store *ts, const char *id_or_name)
{
    int rc = SL_ENOENT;
    pthread_mutex_lock(&ts->lock);
    size_t pos;
    struct token *t = find_locked(ts, id_or_name, &pos);
    if (t) {
        memmove(ts->v + pos, ts->v + pos + 1, (ts->n - pos - 1) * sizeof(*ts->v));
        ts->n--;
        if ((rc = persist(ts)) < 0) {
            memmove(ts->v + pos + 1, ts->v + pos, (ts->n - pos) * sizeof(*ts->v));
            ts->v[pos] = t;
            ts->n++;
        } else {
            token_free(t);
        }
    }
    pthread_mutex_unlock(&ts->lock);
    return rc;
}

int token_authenticate(struct token_store *ts, const char *raw, size_t len, struct token_grant *g)
{
    /* Blank secrets never authenticate (CVE-2019-20933). */
    size_t nonblank = 0;
    for (size_t i = 0; i < len; i++)
        nonblank += raw[i] != ' ' && raw[i] != '\t';
    if (len == 0 || nonblank == 0 || len > 4096) return SL_EPERM;
    unsigned char h[64];
    sha512(raw, len, h);
    int64_t now = sl_now_ns();
    int rc = SL_EPERM;
    pthread_mutex_lock(&ts->lock);
    /* Compare against every token so the time taken does not depend on which matched. */
    struct token *match = NULL;
    for (size_t i = 0; i < ts->n; i++) {
        int eq = CRYPTO_memcmp(h, ts->v[i]->hash, 64) == 0;
        if (eq) match = ts->v[i];
    }
    if (match && (match->expires_ns == 0 || match->expires_ns > now)) {
        g->admin = match->admin;
        memcpy(g->id, match->id, 33);
        rc = 0;
    }
    pthread_mutex_unlock(&ts->lock);
    OPENSSL_cleanse(h, sizeof(h));
    return rc;
}

int token_allows(struct token_store *ts, const struct token_grant *g, const char *db, size_t len,
                 int action)
{
    if (g->admin) return 1;
    int ok = 0;
    pthread_mutex_lock(&ts->lock);
    struct token *t = find_locked(ts, g->id, NULL);
    for (size_t i = 0; t && i < t->nperms && !ok; i++) {
        const struct token_perm *p = &t->perms[i];
        if (!(p->actions & action)) continue;
        if (!strcmp(p->db, "*") || (strlen(p->db) == len && !memcmp(p->db, db, len))) ok = 1;
    }
    pthread_mutex_unlock(&ts->lock);
    return ok;
}

int token_list_json(struct token_store *ts, struct sl_buf *out, int v2_style)
{
    int rc = sl_buf_addc(out, '[');
    pthread_mutex_lock(&ts->lock);
    for (size_t i = 0; rc == 0 && i < ts->n; i++) {
        struct token *t = ts->v[i];
        char created[48];
        sl_time_format_rfc3339(t->created_ns, created);
        if (i) rc |= sl_buf_addc(out, ',');
        rc |= sl_buf_adds(out, "{\"id\":");
        rc |= sl_buf_add_json_str(out, t->id, strlen(t->id));
        rc |= sl_buf_adds(out, v2_style ? ",\"description\":" : ",\"name\":");
        rc |= sl_buf_add_json_str(out, t->name, strlen(t->name));
        rc |= sl_buf_addf(out, ",\"admin\":%s,\"created_at\":\"%s\"", t->admin ? "true" : "false",
                          created);
        if (v2_style)
            rc |= sl_buf_adds(out, ",\"status\":\"active\",\"orgID\":\"0000000000000001\"");
        rc |= sl_buf_adds(out, ",\"permissions\":[");
        for (size_t k = 0; k < t->nperms; k++) {
            const struct token_perm *p = &t->perms[k];
            if (k) rc |= sl_buf_addc(out, ',');
            rc |= sl_buf_adds(out, "{\"resource_type\":\"db\",\"resource_names\":[");
            rc |= sl_buf_add_json_str(out, p->db, strlen(p->db));
            rc |= sl_buf_addf(out, "],\"actions\":[%s%s%s]}",
                              p->actions & TOKEN_READ ? "\"read\"" : "",
                              (p->actions & TOKEN_READ) && (p->actions & TOKEN_WRITE) ? "," : "",
                              p->actions & TOKEN_WRITE ? "\"write\"" : "");
        }
        rc |= sl_buf_adds(out, "]}");
    }
    pthread_mutex_unlock(&ts->lock);
    if (rc == 0) rc = sl_buf_addc(out, ']');
    return rc < 0 ? SL_ENOMEM : 0;
}
