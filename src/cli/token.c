/*
 * token.c — `sluice token create-admin|create|list|delete`: token management
 * over the server's v3 API (/api/v3/configure/token[/admin]), in the manner
 * of InfluxDB 3's `influxdb3 create token` / `show tokens` / `delete token`.
 * Needs an admin token.
 *
 * A new token's secret is printed exactly once, on stdout, and never to
 * stderr or a log; the copy in memory is wiped after printing. Errors name
 * tokens by name or id only.
 *
 * Exit status: 0 success, 1 server or network error, 2 usage error.
 */
#include <getopt.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "cli/remote.h"
#include "common/buf.h"
#include "common/mem.h"
#include "common/timeutil.h"

#define TOKEN_MAX_DBS 256

static void token_usage(FILE *f)
{
    fprintf(f, "usage: sluice token <create-admin|create|list|delete> [options]\n"
               "\n"
               "Manages the API tokens of a server (an admin token is required). A new token is\n"
               "printed once: store it safely, it cannot be shown again.\n"
               "\n"
               "  sluice token create-admin [--name N] [--expiry D]   a named admin token\n"
               "  sluice token create-admin --regenerate              new secret for the operator\n"
               "                                                      token (_admin)\n"
               "  sluice token create --db NAME [--db NAME2...] [--read] [--write]\n"
               "                      [--name N | --description T] [--expiry D]\n"
               "                                                      a database token; --db '*'\n"
               "                                                      means every database\n"
               "  sluice token list                                   tokens (never secrets)\n"
               "  sluice token delete ID|NAME                         delete a token\n"
               "\n"
               "options:\n"
               "  --host URL       server (default http://localhost:8086, or $SLUICE_HOST)\n"
               "  --token T        admin token (default $SLUICE_TOKEN, then $INFLUX_TOKEN)\n"
               "  --format F       pretty (default) or json\n"
               "  --expiry D       the token expires after D (e.g. 30d, 1w); default never\n"
               "  --description T  used as the token's name when --name is not given\n"
               "  -h, --help       this text\n"
               "\n"
               "exit status: 0 success, 1 server or network error, 2 usage error\n");
}

/* Prints a created token (the server's answer); wipes the secret afterwards. */
static void print_created(struct remote *r, json_t *o)
{
    json_t *jt = json_object_get(o, "token");
    const char *secret = json_string_value(jt);
    if (r->json) {
        remote_print_json(stdout, o);
    } else {
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *name = json_string_value(json_object_get(o, "name"));
        printf("New %s token created: name \"%s\", id %s\n\n",
               json_is_true(json_object_get(o, "admin")) ? "admin" : "database", name ? name : "",
               id ? id : "?");
        printf("Token: %s\n", secret ? secret : "(missing in the server's answer)");
        printf("HTTP header: Authorization: Bearer %s\n\n", secret ? secret : "");
        printf("Store this token securely: it will not be shown again.\n");
    }
    fflush(stdout);
    if (secret) memset((char *)secret, 0, strlen(secret));
}

static int token_list(struct remote *r)
{
    json_t *arr = NULL;
    int rc = remote_call(r, "list tokens", "GET", "/api/v3/configure/token", NULL, &arr, NULL);
    if (rc) return rc;
    if (!json_is_array(arr)) {
        fprintf(stderr, "%s: list tokens: unexpected answer from the server\n", r->cmd);
        json_decref(arr);
        return REMOTE_FAIL;
    }
    if (r->json) {
        remote_print_json(stdout, arr);
        json_decref(arr);
        return 0;
    }
    size_t n = json_array_size(arr);
    const char **cells = sl_calloc(n * 5 + 1, sizeof(*cells));
    char **perms = sl_calloc(n + 1, sizeof(*perms));
    if (!cells || !perms) {
        sl_free(cells);
        sl_free(perms);
        json_decref(arr);
        return REMOTE_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(arr, i);
        int admin = json_is_true(json_object_get(o, "admin"));
        cells[5 * i] = json_string_value(json_object_get(o, "id"));
        cells[5 * i + 1] = json_string_value(json_object_get(o, "name"));
        cells[5 * i + 2] = admin ? "admin" : "database";
        /* "db1:read,write db2:read" */
        struct sl_buf b = SL_BUF_INIT;
        sl_buf_init(&b, 1 << 20);
        size_t k;
        json_t *p;
        json_array_foreach(json_object_get(o, "permissions"), k, p)
        {
            size_t m;
            json_t *nm;
            json_array_foreach(json_object_get(p, "resource_names"), m, nm)
            {
                if (b.len) sl_buf_addc(&b, ' ');
                sl_buf_adds(&b, json_string_value(nm) ? json_string_value(nm) : "?");
                sl_buf_addc(&b, ':');
                size_t q;
                json_t *act;
                json_array_foreach(json_object_get(p, "actions"), q, act)
                {
                    if (q) sl_buf_addc(&b, ',');
                    sl_buf_adds(&b, json_string_value(act) ? json_string_value(act) : "?");
                }
            }
        }
        if (admin) sl_buf_adds(&b, "*:all");
        perms[i] = sl_buf_detach(&b, NULL);
        cells[5 * i + 3] = perms[i];
        cells[5 * i + 4] = json_string_value(json_object_get(o, "created_at"));
    }
    static const char *const hdr[] = {"id", "name", "kind", "permissions", "created"};
    remote_table(stdout, hdr, 5, cells, n);
    for (size_t i = 0; i < n; i++)
        sl_free(perms[i]);
    sl_free(perms);
    sl_free(cells);
    json_decref(arr);
    return 0;
}

int cmd_token(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'},   {"token", required_argument, 0, 't'},
        {"format", required_argument, 0, 'f'}, {"db", required_argument, 0, 'd'},
        {"read", no_argument, 0, 'R'},         {"write", no_argument, 0, 'W'},
        {"name", required_argument, 0, 'n'},   {"description", required_argument, 0, 'D'},
        {"expiry", required_argument, 0, 'e'}, {"regenerate", no_argument, 0, 'g'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    struct remote r;
    const char *dbs[TOKEN_MAX_DBS];
    size_t ndbs = 0;
    const char *name = NULL, *desc = NULL, *expiry = NULL;
    int rd = 0, wr = 0, regen = 0, opt;
    remote_init(&r, "sluice token");
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        token_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? REMOTE_USAGE : 0;
    }
    const char *sub = argv[1];
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc - 1, argv + 1, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H': r.host = optarg; break;
        case 't': r.token = optarg; break;
        case 'f':
            if (remote_set_format(&r, optarg)) return REMOTE_USAGE;
            break;
        case 'd':
            if (ndbs == TOKEN_MAX_DBS || !*optarg) {
                fprintf(stderr, "sluice token: %s\n",
                        *optarg ? "too many --db options" : "--db needs a database name");
                return REMOTE_USAGE;
            }
            dbs[ndbs++] = optarg;
            break;
        case 'R': rd = 1; break;
        case 'W': wr = 1; break;
        case 'n': name = optarg; break;
        case 'D': desc = optarg; break;
        case 'e': expiry = optarg; break;
        case 'g': regen = 1; break;
        case 'h': token_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice token: unknown or incomplete option '%s'\n\n", argv[optind]);
            token_usage(stderr);
            return REMOTE_USAGE;
        }
    }
    int nargs = argc - 1 - optind;
    int is_create = !strcmp(sub, "create"), is_admin = !strcmp(sub, "create-admin");
    int is_list = !strcmp(sub, "list"), is_delete = !strcmp(sub, "delete");
    if (!is_create && !is_admin && !is_list && !is_delete) {
        fprintf(stderr,
                "sluice token: unknown subcommand '%s' (create-admin, create, list, delete)\n",
                sub);
        return REMOTE_USAGE;
    }
    if (nargs != is_delete) {
        fprintf(stderr, "sluice token %s: %s\n", sub,
                is_delete ? "give exactly one token id or name" : "takes no arguments");
        return REMOTE_USAGE;
    }
    if ((ndbs || rd || wr) && !is_create) {
        fprintf(stderr, "sluice token %s: --db, --read and --write apply to create\n", sub);
        return REMOTE_USAGE;
    }
    if ((name || desc || expiry) && !is_create && !is_admin) {
        fprintf(stderr, "sluice token %s: --name, --description and --expiry apply to create\n",
                sub);
        return REMOTE_USAGE;
    }
    if (regen && (!is_admin || name || expiry)) {
        fprintf(stderr, "sluice token: --regenerate goes alone with create-admin\n");
        return REMOTE_USAGE;
    }
    if (is_create && (!ndbs || !(rd || wr))) {
        fprintf(stderr, "sluice token create: %s\n",
                !ndbs ? "--db NAME is required" : "give --read, --write or both");
        return REMOTE_USAGE;
    }
    int64_t exp_ns = 0;
    if (expiry && (sl_duration_parse(expiry, strlen(expiry), &exp_ns) < 0 || exp_ns <= 0)) {
        fprintf(stderr, "sluice token %s: invalid expiry '%s': use a duration such as 30d or 1w\n",
                sub, expiry);
        return REMOTE_USAGE;
    }
    if (!name) name = desc;
    if (remote_open(&r)) return REMOTE_FAIL;
    int rc = 0;
    char what[600], gen[96];
    if (is_list) {
        rc = token_list(&r);
    } else if (is_delete) {
        const char *who = argv[1 + optind];
        rc = remote_delete(&r, "token", "/api/v3/configure/token", "token_name", "token", who);
    } else {
        json_t *body = json_object(), *ans = NULL;
        const char *path = "/api/v3/configure/token";
        if (is_admin) {
            path = regen ? "/api/v3/configure/token/admin/regenerate"
                         : "/api/v3/configure/token/admin";
        } else {
            if (!name) {
                unsigned char rnd[3] = {0};
                RAND_bytes(rnd, sizeof(rnd));
                snprintf(gen, sizeof(gen), "%.40s-%s-%02x%02x%02x", dbs[0],
                         rd && wr ? "rw"
                         : rd     ? "read"
                                  : "write",
                         rnd[0], rnd[1], rnd[2]);
                name = gen;
            }
            json_t *names = json_array(), *acts = json_array();
            for (size_t i = 0; i < ndbs; i++)
                json_array_append_new(names, json_string(dbs[i]));
            if (rd) json_array_append_new(acts, json_string("read"));
            if (wr) json_array_append_new(acts, json_string("write"));
            json_t *perm = json_pack("{s:s,s:o,s:o}", "resource_type", "db", "resource_names",
                                     names, "actions", acts);
            json_t *perms = json_array();
            json_array_append_new(perms, perm);
            json_object_set_new(body, "permissions", perms);
        }
        if (name) json_object_set_new(body, "token_name", json_string(name));
        if (exp_ns) json_object_set_new(body, "expiry_secs", json_integer(exp_ns / SL_NS_PER_S));
        snprintf(what, sizeof(what), "create %s token%s%.256s%s", is_admin ? "admin" : "database",
                 name ? " \"" : "", name ? name : "", name ? "\"" : "");
        long status = 0;
        rc = remote_call(&r, what, "POST", path, body, &ans, &status);
        json_decref(body);
        if (rc == 0 && ans)
            print_created(&r, ans);
        else if (rc == 0)
            rc = REMOTE_FAIL;
        else if (status == 409 && is_admin && !name)
            fprintf(stderr, "sluice token: the operator token exists; give --name for a named "
                            "admin token, or --regenerate for a new operator secret\n");
        json_decref(ans);
    }
    remote_close(&r);
    return rc;
}
