/*
 * redis.c — the redis input (Telegraf's redis.go) over hiredis: `INFO ALL`
 * on each of `servers` (tcp://[user:pass@]host:port or unix:///path),
 * reported as
 *   redis            tags server, port (or socket), replication_role; one
 *                    field per INFO line (Server section: only lru_clock,
 *                    uptime (from uptime_in_seconds) and redis_version; no
 *                    *_human, master_replid*, mem_allocator), int when the
 *                    value parses as an integer, else float, else string;
 *                    connected_clients → clients; plus keyspace_hitrate
 *                    (float) and rdb_last_save_time_elapsed (int).
 *   redis_keyspace   tag database; int fields keys, expires, avg_ttl
 *   redis_cmdstat    tag command; calls, usec, ... (int, or float)
 *   redis_errorstat  tag err; field total (int)
 *   redis_latency_percentiles_usec  tag command; p50, p99, ... (float)
 *   redis_replication  tags replica_id, replica_ip, replica_port (+ state);
 *                    lag, offset (int)
 *   redis_commands   [[inputs.redis.commands]] (command = ["get", "k"],
 *                    field, type = "float" | "integer" | "string"): one
 *                    field per command, tags server/port
 * Telegraf additionally coerces a handful of fields through a Go struct of
 * types; the values Redis prints make the inferred types agree with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<hiredis/hiredis.h>)
#include <hiredis/hiredis.h>
#define HAVE_HIREDIS 1
#endif

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

enum redis_ctype { RCMD_FLOAT, RCMD_INTEGER, RCMD_STRING };

struct redis_cmd {
    struct glob_list argv; /* the command and its arguments */
    char *field;
    enum redis_ctype type;
};

struct redis_input {
    struct glob_list servers;
    char *username, *password;
    int64_t timeout;
    struct redis_cmd *cmds; /* [[inputs.redis.commands]] */
    size_t ncmds;
};

static int parse_i64(const char *s, size_t n, int64_t *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (*end || errno) return 0;
    *out = v;
    return 1;
}

static int parse_f64(const char *s, size_t n, double *out)
{
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp)) return 0;
    memcpy(tmp, s, n);
    tmp[n] = 0;
    /* Go's ParseFloat: no hex, no leading blanks */
    for (size_t i = 0; i < n; i++)
        if (tmp[i] == 'x' || tmp[i] == 'X' || tmp[i] == ' ') return 0;
    char *end;
    double v = strtod(tmp, &end);
    if (*end) return 0;
    *out = v;
    return 1;
}

/* A metric carrying the common tags. */
static struct metric *base_metric(const char *name, int64_t now, const struct metric *tags_from)
{
    struct metric *m = metric_new(name, now);
    if (!m) return NULL;
    for (size_t i = 0; i < tags_from->ntags; i++)
        if (metric_add_tag(m, tags_from->tags[i].key, tags_from->tags[i].val) < 0) {
            metric_free(m);
            return NULL;
        }
    return m;
}

/* "k=v,k=v" into fields of m: int when it parses, else float (if floats),
 * else skipped. Returns the number of fields added or < 0. */
static int add_kv_fields(struct metric *m, const char *v, size_t n, int floats, int ints)
{
    int added = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        const char *eq = memchr(v + i, '=', j - i);
        if (eq) {
            char key[128];
            size_t kl = (size_t)(eq - (v + i));
            const char *val = eq + 1;
            size_t vl = (size_t)(v + j - val);
            if (kl > 0 && kl < sizeof(key)) {
                memcpy(key, v + i, kl);
                key[kl] = 0;
                int64_t iv;
                double fv;
                int rc = 0;
                if (ints && parse_i64(val, vl, &iv)) {
                    rc = metric_add_int(m, key, iv);
                    added++;
                } else if (floats && parse_f64(val, vl, &fv)) {
                    rc = metric_add_float(m, key, fv);
                    added++;
                }
                if (rc < 0) return rc;
            }
        }
        i = j + 1;
    }
    return added;
}

static int push_if_fields(struct metric_list *out, struct metric *m)
{
    if (m->nfields == 0) {
        metric_free(m);
        return 0;
    }
    return metric_list_push(out, m);
}

/* One line of a special section; name is "db0", "cmdstat_get", ... */
static int special_line(const char *section, const char *name, const char *v, size_t vl,
                        const struct metric *tags, int64_t now, struct metric_list *out)
{
    struct metric *m = NULL;
    int rc = 0;
    if (!strcmp(section, "Keyspace")) {
        if (!memmem(v, vl, "keys=", 5)) return 0;
        if (!(m = base_metric("redis_keyspace", now, tags))) return SL_ENOMEM;
        rc = metric_add_tag(m, "database", name);
        if (rc == 0) rc = add_kv_fields(m, v, vl, 0, 1);
    } else if (!strcmp(section, "Commandstats")) {
        if (strncmp(name, "cmdstat_", 8) != 0) return 0;
        if (!(m = base_metric("redis_cmdstat", now, tags))) return SL_ENOMEM;
        rc = metric_add_tag(m, "command", name + 8);
        if (rc == 0) rc = add_kv_fields(m, v, vl, 1, 1);
    } else if (!strcmp(section, "Errorstats")) {
        if (strncmp(name, "errorstat_", 10) != 0) return 0;
        const char *eq = memmem(v, vl, "count=", 6);
        int64_t cnt;
        if (!eq || !parse_i64(eq + 6, vl - (size_t)(eq + 6 - v), &cnt)) return 0;
        if (!(m = base_metric("redis_errorstat", now, tags))) return SL_ENOMEM;
        rc = metric_add_tag(m, "err", name + 10);
        if (rc == 0) rc = metric_add_int(m, "total", cnt);
    } else if (!strcmp(section, "Latencystats")) {
        if (strncmp(name, "latency_percentiles_usec_", 25) != 0) return 0;
        if (!(m = base_metric("redis_latency_percentiles_usec", now, tags))) return SL_ENOMEM;
        rc = metric_add_tag(m, "command", name + 25);
        if (rc == 0) rc = add_kv_fields(m, v, vl, 1, 0);
    } else { /* Replication: slaveN:ip=...,port=...,state=...,offset=...,lag=... */
        if (!(m = base_metric("redis_replication", now, tags))) return SL_ENOMEM;
        rc = metric_add_tag(m, "replica_id", name + 5);
        size_t i = 0;
        while (rc >= 0 && i < vl) {
            size_t j = i;
            while (j < vl && v[j] != ',')
                j++;
            const char *eq = memchr(v + i, '=', j - i);
            if (eq) {
                char key[64], val[256];
                size_t kl = (size_t)(eq - (v + i)), l2 = (size_t)(v + j - eq - 1);
                if (kl < sizeof(key) && l2 < sizeof(val)) {
                    memcpy(key, v + i, kl);
                    key[kl] = 0;
                    memcpy(val, eq + 1, l2);
                    val[l2] = 0;
                    int64_t iv;
                    if (!strcmp(key, "ip"))
                        rc = metric_add_tag(m, "replica_ip", val);
                    else if (!strcmp(key, "port"))
                        rc = metric_add_tag(m, "replica_port", val);
                    else if (!strcmp(key, "state"))
                        rc = metric_add_tag(m, "state", val);
                    else if (parse_i64(val, l2, &iv))
                        rc = metric_add_int(m, key, iv);
                }
            }
            i = j + 1;
        }
    }
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    return push_if_fields(out, m);
}

int redis_parse_info(const char *text, size_t len, const char *server, const char *port,
                     int64_t now_ns, struct metric_list *out)
{
    struct metric *tags = metric_new("", 0); /* holds the common tags */
    struct metric *m = metric_new("redis", now_ns);
    int rc = SL_ENOMEM;
    size_t start = out->n;
    if (!tags || !m) goto out;
    if (port && *port) {
        if ((rc = metric_add_tag(tags, "server", server)) < 0) goto out;
        if ((rc = metric_add_tag(tags, "port", port)) < 0) goto out;
    } else if ((rc = metric_add_tag(tags, "socket", server)) < 0) {
        goto out;
    }
    char section[64] = "";
    int64_t hits = 0, misses = 0;
    const char *p = text, *end = text + len;
    rc = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        while (le > p && (le[-1] == '\r' || le[-1] == ' '))
            le--;
        size_t ll = (size_t)(le - p);
        if (ll == 0) {
            p = next;
            continue;
        }
        if (*p == '#') {
            if (ll > 2) snprintf(section, sizeof(section), "%.*s", (int)(ll - 2), p + 2);
            p = next;
            continue;
        }
        const char *colon = memchr(p, ':', ll);
        if (!colon || colon == p || (size_t)(colon - p) >= 128) {
            p = next;
            continue;
        }
        char name[128];
        memcpy(name, p, (size_t)(colon - p));
        name[colon - p] = 0;
        const char *v = colon + 1;
        size_t vl = (size_t)(le - v);
        while (vl && *v == ' ')
            v++, vl--;
        p = next;
        if (!strcmp(section, "Server") && strcmp(name, "lru_clock") != 0 &&
            strcmp(name, "uptime_in_seconds") != 0 && strcmp(name, "redis_version") != 0)
            continue;
        if (!strncmp(name, "master_replid", 13) || !strcmp(name, "mem_allocator")) continue;
        size_t nl2 = strlen(name);
        if (nl2 >= 6 && !strcmp(name + nl2 - 6, "_human")) continue;
        const char *field = name;
        if (!strcmp(name, "uptime_in_seconds"))
            field = "uptime";
        else if (!strcmp(name, "connected_clients"))
            field = "clients";
        else if (!strcmp(name, "role"))
            field = "replication_role";
        else if (!strcmp(section, "Keyspace") || !strcmp(section, "Commandstats") ||
                 !strcmp(section, "Errorstats") || !strcmp(section, "Latencystats") ||
                 (!strcmp(section, "Replication") && !strncmp(name, "slave", 5) && name[5] >= '0' &&
                  name[5] <= '9')) {
            if ((rc = special_line(section, name, v, vl, tags, now_ns, out)) < 0) goto out;
            continue;
        }
        if (vl && v[vl - 1] == '%') vl--;
        int64_t iv;
        double fv;
        if (parse_i64(v, vl, &iv)) {
            if (!strcmp(name, "keyspace_hits")) hits = iv;
            if (!strcmp(name, "keyspace_misses")) misses = iv;
            if (!strcmp(name, "rdb_last_save_time"))
                rc = metric_add_int(m, "rdb_last_save_time_elapsed", now_ns / SL_NS_PER_S - iv);
            if (rc == 0) rc = metric_add_int(m, field, iv);
        } else if (parse_f64(v, vl, &fv)) {
            rc = metric_add_float(m, field, fv);
        } else if (!strcmp(name, "role")) {
            char role[64];
            snprintf(role, sizeof(role), "%.*s", (int)(vl < 63 ? vl : 63), v);
            rc = metric_add_tag(tags, "replication_role", role);
            if (rc == 0) rc = metric_add_tag(m, "replication_role", role);
        } else {
            rc = metric_add_stringn(m, field, v, vl);
        }
        if (rc < 0) goto out;
    }
    double rate = 0;
    if (hits != 0 || misses != 0) rate = (double)hits / (double)(hits + misses);
    if ((rc = metric_add_float(m, "keyspace_hitrate", rate)) < 0) goto out;
    for (size_t i = 0; i < tags->ntags; i++)
        if ((rc = metric_add_tag(m, tags->tags[i].key, tags->tags[i].val)) < 0) goto out;
    /* the redis metric goes first, as Telegraf adds it before the others */
    if ((rc = metric_list_push(out, m)) < 0) {
        m = NULL;
        goto out;
    }
    for (size_t i = out->n - 1; i > start; i--) {
        struct metric *t = out->v[i];
        out->v[i] = out->v[i - 1];
        out->v[i - 1] = t;
    }
    m = NULL;
out:
    metric_free(m);
    metric_free(tags);
    return rc;
}

static void redis_free(void *state)
{
    struct redis_input *s = state;
    if (!s) return;
    glob_list_release(&s->servers);
    for (size_t i = 0; i < s->ncmds; i++) {
        glob_list_release(&s->cmds[i].argv);
        sl_free(s->cmds[i].field);
    }
    sl_free(s->cmds);
    sl_free(s->username);
    sl_free(s->password);
    sl_free(s);
}

static int redis_init(struct plugin_conf *c, void **state)
{
    struct redis_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 5 * SL_NS_PER_S;
    int rc;
    if ((rc = conf_strlist(c, "servers", &s->servers)) < 0) goto fail;
    if ((rc = conf_str(c, "username", &s->username)) < 0) goto fail;
    if ((rc = conf_str(c, "password", &s->password)) < 0) goto fail;
    if ((rc = conf_duration(c, "timeout", &s->timeout)) < 0) goto fail;
    size_t nc = conf_table_array_len(c, "commands");
    if (nc && !(s->cmds = sl_calloc(nc, sizeof(*s->cmds)))) {
        rc = SL_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nc; i++) {
        struct plugin_conf *cc = conf_table_array_at(c, "commands", i);
        if (!cc) {
            rc = SL_ENOMEM;
            goto fail;
        }
        struct redis_cmd *rcmd = &s->cmds[s->ncmds++];
        char *type = NULL;
        rc = conf_strlist(cc, "command", &rcmd->argv);
        if (rc == 0) rc = conf_str(cc, "field", &rcmd->field);
        if (rc == 0) rc = conf_str(cc, "type", &type);
        if (rc == 0 && (rcmd->argv.n == 0 || !rcmd->field))
            rc = conf_fail(cc, NULL, "a command needs `command` and `field`");
        if (rc == 0 && type && strcmp(type, "float") != 0) {
            if (!strcmp(type, "integer"))
                rcmd->type = RCMD_INTEGER;
            else if (!strcmp(type, "string"))
                rcmd->type = RCMD_STRING;
            else
                rc = conf_fail(cc, "type", "must be \"float\", \"integer\" or \"string\"");
        }
        const char *bad = rc == 0 ? conf_first_unused(cc) : NULL;
        if (bad) rc = conf_fail(cc, bad, "unknown option");
        if (rc < 0) {
            const char *msg = conf_error(cc);
            if (msg) rc = conf_fail(c, "commands", "%s", msg);
        }
        sl_free(type);
        conf_free(cc);
        if (rc < 0) goto fail;
    }
    if (s->servers.n == 0 && (rc = glob_list_add(&s->servers, "tcp://localhost:6379")) < 0)
        goto fail;
    if (s->timeout <= 0) s->timeout = 5 * SL_NS_PER_S;
    *state = s;
    return 0;
fail:
    redis_free(s);
    return rc;
}

#ifdef HAVE_HIREDIS
/* Splits a server URL; fills host/port (tcp) or path (unix, port = ""),
 * and user/password from the userinfo when present. */
static int split_server(const char *url, char *host, size_t hc, char *port, size_t pc, char *user,
                        char *pass, size_t uc)
{
    *user = *pass = 0;
    const char *p = url;
    int is_unix = 0;
    if (!strncmp(p, "tcp://", 6))
        p += 6;
    else if (!strncmp(p, "unix://", 7))
        p += 7, is_unix = 1;
    else if (strstr(p, "://"))
        return SL_EINVAL;
    if (is_unix) {
        snprintf(host, hc, "%s", p);
        *port = 0;
        return *host ? 0 : SL_EINVAL;
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *ue = colon ? colon : at;
        snprintf(user, uc, "%.*s", (int)(ue - p), p);
        if (colon) snprintf(pass, uc, "%.*s", (int)(at - colon - 1), colon + 1);
        p = at + 1;
    }
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "tcp://%s", p);
    if (httpc_url_host_port(tmp, host, hc, port, pc) < 0) return SL_EINVAL;
    if (!strcmp(port, "80")) { /* no explicit port: redis's default */
        const char *hp = p + strlen(host);
        if (*hp != ':') snprintf(port, pc, "6379");
    }
    return 0;
}

/* [[inputs.redis.commands]] → one `redis_commands` metric (Telegraf's
 * gatherCommandValues): each reply converted to the command's type. */
static int run_commands(struct redis_input *s, redisContext *ctx, const char *host,
                        const char *port, struct agent_acc *acc)
{
    struct metric *m = acc_new_metric(acc, "redis_commands");
    if (!m) return SL_ENOMEM;
    int rc = *port ? metric_add_tag(m, "server", host) : metric_add_tag(m, "socket", host);
    if (rc == 0 && *port) rc = metric_add_tag(m, "port", port);
    for (size_t i = 0; i < s->ncmds && rc == 0; i++) {
        struct redis_cmd *c = &s->cmds[i];
        redisReply *r = redisCommandArgv(ctx, (int)c->argv.n, (const char **)c->argv.v, NULL);
        if (!r || r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_NIL) {
            acc_error(acc, "redis command %s: %s", c->argv.v[0],
                      !r                           ? ctx->errstr
                      : r->type == REDIS_REPLY_NIL ? "nil reply"
                                                   : r->str);
            if (r) freeReplyObject(r);
            if (!r) break;
            continue;
        }
        char val[128];
        if (r->type == REDIS_REPLY_INTEGER)
            snprintf(val, sizeof(val), "%lld", (long long)r->integer);
        else if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
            snprintf(val, sizeof(val), "%.*s", (int)(r->len < 127 ? r->len : 127), r->str);
        else
            val[0] = 0;
        int64_t iv;
        double fv;
        if (c->type == RCMD_STRING) {
            rc = r->type == REDIS_REPLY_STRING ? metric_add_stringn(m, c->field, r->str, r->len)
                                               : metric_add_string(m, c->field, val);
        } else if (c->type == RCMD_INTEGER && parse_i64(val, strlen(val), &iv)) {
            rc = metric_add_int(m, c->field, iv);
        } else if (c->type == RCMD_FLOAT && parse_f64(val, strlen(val), &fv)) {
            rc = metric_add_float(m, c->field, fv);
        } else {
            acc_error(acc, "redis command %s: reply '%s' is not of type %s", c->argv.v[0], val,
                      c->type == RCMD_INTEGER ? "integer" : "float");
        }
        freeReplyObject(r);
    }
    if (rc < 0 || m->nfields == 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

static int gather_one(struct redis_input *s, const char *url, struct agent_acc *acc)
{
    char host[256], port[16], user[256], pass[256];
    if (split_server(url, host, sizeof(host), port, sizeof(port), user, pass, sizeof(user)) < 0) {
        acc_error(acc, "unable to parse server address '%s'", url);
        return 0;
    }
    struct timeval tv = {(time_t)(s->timeout / SL_NS_PER_S),
                         (suseconds_t)((s->timeout % SL_NS_PER_S) / 1000)};
    redisContext *ctx = *port ? redisConnectWithTimeout(host, atoi(port), tv)
                              : redisConnectUnixWithTimeout(host, tv);
    if (!ctx || ctx->err) {
        acc_error(acc, "connecting to %s: %s", url, ctx ? ctx->errstr : "out of memory");
        if (ctx) redisFree(ctx);
        return 0;
    }
    redisSetTimeout(ctx, tv);
    const char *pw = *pass ? pass : s->password;
    const char *us = *user ? user : s->username;
    int rc = 0;
    redisReply *r = NULL;
    if (pw && *pw) {
        r = us && *us ? redisCommand(ctx, "AUTH %s %s", us, pw) : redisCommand(ctx, "AUTH %s", pw);
        if (!r || r->type == REDIS_REPLY_ERROR) {
            acc_error(acc, "%s: AUTH failed: %s", url, r ? r->str : ctx->errstr);
            goto out;
        }
        freeReplyObject(r);
    }
    r = redisCommand(ctx, "INFO ALL");
    if (!r || r->type != REDIS_REPLY_STRING) {
        acc_error(acc, "%s: INFO ALL failed: %s", url,
                  r && r->type == REDIS_REPLY_ERROR ? r->str : ctx->errstr);
        goto out;
    }
    if (s->ncmds && (rc = run_commands(s, ctx, host, port, acc)) < 0) goto out;
    struct metric_list ml = {0};
    rc = redis_parse_info(r->str, (size_t)r->len, host, port, acc_now(acc), &ml);
    for (size_t i = 0; i < ml.n && rc >= 0; i++) {
        rc = acc_add(acc, ml.v[i]);
        ml.v[i] = NULL;
    }
    for (size_t i = 0; i < ml.n; i++)
        metric_free(ml.v[i]);
    sl_free(ml.v);
out:
    if (r) freeReplyObject(r);
    redisFree(ctx);
    return rc;
}
#endif

static int redis_gather(void *state, struct agent_acc *acc)
{
    struct redis_input *s = state;
#ifdef HAVE_HIREDIS
    for (size_t i = 0; i < s->servers.n; i++) {
        int rc = gather_one(s, s->servers.v[i], acc);
        if (rc < 0) return rc;
    }
#else
    (void)s;
    acc_error(acc, "built without hiredis");
#endif
    return 0;
}

const struct agent_input_ops input_redis = {
    .name = "redis",
    .sample = "[[inputs.redis]]\n"
              "  ## tcp://[[username]:password]@host:port or unix:///path/to/redis.sock\n"
              "  servers = [\"tcp://localhost:6379\"]\n"
              "  # username = \"\"\n"
              "  # password = \"\"\n"
              "  ## Extra commands whose replies become fields of redis_commands\n"
              "  # [[inputs.redis.commands]]\n"
              "  #   command = [\"get\", \"sample-key\"]\n"
              "  #   field = \"sample-key-value\"\n"
              "  #   type = \"string\"\n",
    .init = redis_init,
    .gather = redis_gather,
    .free = redis_free,
};
