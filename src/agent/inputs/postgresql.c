/*
 * postgresql.c — the postgresql input (Telegraf's postgresql.go) over libpq.
 * Each gather runs
 *   SELECT * FROM pg_stat_database [WHERE datname [NOT] IN (...)]
 *   SELECT * FROM pg_stat_bgwriter
 * and reports every row as measurement `postgresql` with tags `server` (the
 * address without password/sslcert/sslkey/sslmode/sslrootcert, or
 * `outputaddress`) and `db` (the row's datname, "postgres" when it has none).
 * Every column but stats_reset becomes a field: integer types (int2/4/8,
 * oid) → int, float4/float8/numeric → float, bool → bool, text-like →
 * string; NULLs and timestamps are left out (Telegraf's metric conversion
 * drops them too). One connection is kept open between gathers and
 * re-established after a failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<postgresql/libpq-fe.h>)
#include <postgresql/libpq-fe.h>
#define HAVE_LIBPQ 1
#elif __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define HAVE_LIBPQ 1
#endif

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"

struct postgresql_input {
    char *address, *outputaddress;
    struct glob_list databases, ignored;
    char server[1024];
#ifdef HAVE_LIBPQ
    PGconn *conn;
#endif
};

int postgresql_sanitize_address(const char *addr, char *out, size_t cap)
{
    static const char *const drop[] = {
        "password=", "sslcert=", "sslkey=", "sslmode=", "sslrootcert="};
    struct sl_buf b;
    sl_buf_init(&b, 1 << 16);
    int rc = 0;
    const char *p = addr;
    /* postgres://user:pass@host:port/db?sslmode=x → key=value form */
    if (!strncmp(p, "postgres://", 11) || !strncmp(p, "postgresql://", 13)) {
        p = strstr(p, "://") + 3;
        const char *at = strchr(p, '@');
        const char *slash = strchr(p, '/');
        if (at && slash && at > slash) at = NULL;
        char user[256] = "", host[256] = "", port[16] = "", db[256] = "";
        if (at) {
            const char *colon = memchr(p, ':', (size_t)(at - p));
            snprintf(user, sizeof(user), "%.*s", (int)((colon ? colon : at) - p), p);
            p = at + 1;
        }
        const char *he = p;
        while (*he && *he != '/' && *he != '?' && *he != ':')
            he++;
        snprintf(host, sizeof(host), "%.*s", (int)(he - p), p);
        if (*he == ':') {
            const char *pe = he + 1;
            while (*pe >= '0' && *pe <= '9')
                pe++;
            snprintf(port, sizeof(port), "%.*s", (int)(pe - he - 1), he + 1);
            he = pe;
        }
        if (*he == '/') {
            const char *de = he + 1;
            while (*de && *de != '?')
                de++;
            snprintf(db, sizeof(db), "%.*s", (int)(de - he - 1), he + 1);
            he = de;
        }
        /* Telegraf (pq.ParseURL) orders the pairs by key */
        if (*db) rc = sl_buf_addf(&b, "dbname=%s ", db);
        if (rc == 0 && *host) rc = sl_buf_addf(&b, "host=%s ", host);
        if (rc == 0 && *port) rc = sl_buf_addf(&b, "port=%s ", port);
        if (rc == 0 && *user) rc = sl_buf_addf(&b, "user=%s ", user);
    } else {
        while (*p && rc == 0) {
            while (*p == ' ')
                p++;
            const char *e = p;
            while (*e && *e != ' ')
                e++;
            if (e == p) break;
            int skip = 0;
            for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++)
                if (!strncmp(p, drop[i], strlen(drop[i]))) skip = 1;
            if (!skip) rc = sl_buf_addf(&b, "%.*s ", (int)(e - p), p);
            p = e;
        }
    }
    if (rc == 0) {
        size_t n = b.len;
        while (n && b.ptr[n - 1] == ' ')
            n--;
        if (n >= cap)
            rc = SL_ETOOBIG;
        else {
            if (n) memcpy(out, b.ptr, n);
            out[n] = 0;
        }
    }
    sl_buf_release(&b);
    return rc;
}

static void pg_free(void *state)
{
    struct postgresql_input *s = state;
    if (!s) return;
#ifdef HAVE_LIBPQ
    if (s->conn) PQfinish(s->conn);
#endif
    sl_free(s->address);
    sl_free(s->outputaddress);
    glob_list_release(&s->databases);
    glob_list_release(&s->ignored);
    sl_free(s);
}

static int pg_init(struct plugin_conf *c, void **state)
{
    struct postgresql_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    int rc = SL_ENOMEM;
    int64_t dummy = 0;
    int bdummy = 0;
    if (!(s->address = sl_strdup("host=localhost sslmode=disable"))) goto fail;
    if ((rc = conf_str(c, "address", &s->address)) < 0) goto fail;
    if ((rc = conf_str(c, "outputaddress", &s->outputaddress)) < 0) goto fail;
    if ((rc = conf_strlist(c, "databases", &s->databases)) < 0) goto fail;
    if ((rc = conf_strlist(c, "ignored_databases", &s->ignored)) < 0) goto fail;
    /* connection-pool knobs of Go's database/sql: one connection here */
    if ((rc = conf_duration(c, "max_lifetime", &dummy)) < 0) goto fail;
    if ((rc = conf_int(c, "max_idle", &dummy)) < 0) goto fail;
    if ((rc = conf_int(c, "max_open", &dummy)) < 0) goto fail;
    if ((rc = conf_bool(c, "prepared_statements", &bdummy)) < 0) goto fail;
    if (s->outputaddress)
        snprintf(s->server, sizeof(s->server), "%s", s->outputaddress);
    else if (postgresql_sanitize_address(s->address, s->server, sizeof(s->server)) < 0) {
        rc = conf_fail(c, "address", "address too long");
        goto fail;
    }
    for (size_t i = 0; i < s->databases.n + s->ignored.n; i++) {
        const char *d = i < s->databases.n ? s->databases.v[i] : s->ignored.v[i - s->databases.n];
        if (strchr(d, '\'')) {
            rc = conf_fail(c, "databases", "database name with a quote: '%s'", d);
            goto fail;
        }
    }
    *state = s;
    return 0;
fail:
    pg_free(s);
    return rc;
}

#ifdef HAVE_LIBPQ
static int add_row(PGresult *res, int row, const char *server, struct agent_acc *acc)
{
    struct metric *m = acc_new_metric(acc, "postgresql");
    if (!m) return SL_ENOMEM;
    int rc = metric_add_tag(m, "server", server);
    int dbcol = PQfnumber(res, "datname");
    const char *db = "postgres";
    if (dbcol >= 0 && !PQgetisnull(res, row, dbcol)) db = PQgetvalue(res, row, dbcol);
    if (rc == 0) rc = metric_add_tag(m, "db", db);
    int nf = PQnfields(res);
    for (int f = 0; f < nf && rc == 0; f++) {
        const char *name = PQfname(res, f);
        if (!strcmp(name, "stats_reset") || PQgetisnull(res, row, f)) continue;
        const char *v = PQgetvalue(res, row, f);
        char *end;
        switch (PQftype(res, f)) {
        case 20: /* int8 */
        case 21: /* int2 */
        case 23: /* int4 */
        case 26: /* oid */
        case 28: /* xid */ {
            long long iv = strtoll(v, &end, 10);
            if (*end == 0) rc = metric_add_int(m, name, iv);
            break;
        }
        case 700: /* float4 */
        case 701: /* float8 */
        case 1700: /* numeric */ {
            double fv = strtod(v, &end);
            if (*end == 0) rc = metric_add_float(m, name, fv);
            break;
        }
        case 16: /* bool */ rc = metric_add_bool(m, name, v[0] == 't'); break;
        case 18:   /* char */
        case 19:   /* name */
        case 25:   /* text */
        case 1042: /* bpchar */
        case 1043: /* varchar */ rc = metric_add_string(m, name, v); break;
        default: /* timestamps, intervals, ...: dropped as in Telegraf */ break;
        }
    }
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

static int run_query(struct postgresql_input *s, const char *sql, struct agent_acc *acc)
{
    PGresult *res = PQexec(s->conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        acc_error(acc, "%s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        return 1;
    }
    int rc = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++)
        rc = add_row(res, r, s->server, acc);
    PQclear(res);
    return rc;
}
#endif

static int pg_gather(void *state, struct agent_acc *acc)
{
    struct postgresql_input *s = state;
#ifdef HAVE_LIBPQ
    if (s->conn && PQstatus(s->conn) != CONNECTION_OK) {
        PQfinish(s->conn);
        s->conn = NULL;
    }
    if (!s->conn) {
        s->conn = PQconnectdb(s->address);
        if (!s->conn) return SL_ENOMEM;
        if (PQstatus(s->conn) != CONNECTION_OK) {
            acc_error(acc, "connecting to %s: %s", s->server, PQerrorMessage(s->conn));
            PQfinish(s->conn);
            s->conn = NULL;
            return 0;
        }
    }
    struct sl_buf q;
    sl_buf_init(&q, 1 << 20);
    int rc = sl_buf_adds(&q, "SELECT * FROM pg_stat_database");
    const struct glob_list *l = s->ignored.n ? &s->ignored : &s->databases;
    if (rc == 0 && l->n) {
        rc = sl_buf_adds(&q, s->ignored.n ? " WHERE datname NOT IN (" : " WHERE datname IN (");
        for (size_t i = 0; i < l->n && rc == 0; i++)
            rc = sl_buf_addf(&q, "%s'%s'", i ? "," : "", l->v[i]);
        if (rc == 0) rc = sl_buf_adds(&q, ")");
    }
    if (rc == 0) rc = run_query(s, q.ptr, acc);
    sl_buf_release(&q);
    if (rc == 1) { /* the connection may be broken: reconnect next time */
        if (PQstatus(s->conn) != CONNECTION_OK) {
            PQfinish(s->conn);
            s->conn = NULL;
        }
        return 0;
    }
    if (rc == 0) rc = run_query(s, "SELECT * FROM pg_stat_bgwriter", acc);
    return rc < 0 ? rc : 0;
#else
    (void)s;
    acc_error(acc, "built without libpq");
    return 0;
#endif
}

const struct agent_input_ops input_postgresql = {
    .name = "postgresql",
    .sample = "[[inputs.postgresql]]\n"
              "  ## libpq connection string or postgres:// URL\n"
              "  address = \"host=localhost user=postgres sslmode=disable\"\n"
              "  # databases = [\"app_production\"]\n"
              "  # ignored_databases = [\"postgres\", \"template0\", \"template1\"]\n",
    .init = pg_init,
    .gather = pg_gather,
    .free = pg_free,
};
