/*
 * db.c — `sluice db list|create|update|delete`: database management over the
 * server's v3 API (/api/v3/configure/database), in the manner of InfluxDB 3's
 * `influxdb3 show/create/update/delete database`. Needs an admin token.
 *
 * Deleting a database asks for confirmation on a terminal; elsewhere it needs
 * --yes, so that a script cannot drop data by accident.
 *
 * Exit status: 0 success, 1 server or network error, 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/remote.h"
#include "common/mem.h"
#include "common/timeutil.h"

static void db_usage(FILE *f)
{
    fprintf(f, "usage: sluice db <list|create|update|delete> [options] [NAME]\n"
               "\n"
               "Manages the databases of a server (an admin token is required).\n"
               "\n"
               "  sluice db list                              list databases and retention\n"
               "  sluice db create NAME [--retention 30d]     create a database\n"
               "  sluice db update NAME --retention D         change the retention period\n"
               "                                              (D = none keeps data forever)\n"
               "  sluice db delete NAME [--yes]               delete a database and its data\n"
               "\n"
               "options:\n"
               "  --host URL       server (default http://localhost:8086, or $SLUICE_HOST)\n"
               "  --token T        admin token (default $SLUICE_TOKEN, then $INFLUX_TOKEN)\n"
               "  --format F       pretty (default) or json\n"
               "  --retention D    retention period: a duration such as 30d, 12h, 1w; none\n"
               "  --yes            do not ask before deleting\n"
               "  -h, --help       this text\n"
               "\n"
               "exit status: 0 success, 1 server or network error, 2 usage error\n");
}

/* Parses --retention: *null = 1 for "keep forever". */
static int retention_arg(const char *s, int *forever)
{
    int64_t ns;
    *forever = !strcmp(s, "none") || !strcmp(s, "forever") || !strcmp(s, "inf") ||
               !strcmp(s, "infinite") || !strcmp(s, "0");
    if (*forever) return 0;
    if (sl_duration_parse(s, strlen(s), &ns) < 0 || ns <= 0) return -1;
    return 0;
}

static int db_list(struct remote *r)
{
    json_t *arr = NULL;
    int rc =
        remote_call(r, "list databases", "GET", "/api/v3/configure/database", NULL, &arr, NULL);
    if (rc) return rc;
    if (!json_is_array(arr)) {
        fprintf(stderr, "%s: list databases: unexpected answer from the server\n", r->cmd);
        json_decref(arr);
        return REMOTE_FAIL;
    }
    if (r->json) {
        json_t *out = json_array();
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            json_t *d = json_object();
            json_object_set(d, "name", json_object_get(o, "iox::database"));
            json_t *rp = json_object_get(o, "retention_period");
            json_object_set(d, "retention_period", rp ? rp : json_null());
            json_array_append_new(out, d);
        }
        remote_print_json(stdout, out);
        json_decref(out);
    } else {
        size_t n = json_array_size(arr);
        const char **cells = sl_calloc(n * 2 + 1, sizeof(*cells));
        if (!cells) {
            json_decref(arr);
            return REMOTE_FAIL;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *o = json_array_get(arr, i);
            cells[2 * i] = json_string_value(json_object_get(o, "iox::database"));
            const char *rp = json_string_value(json_object_get(o, "retention_period"));
            cells[2 * i + 1] = rp ? rp : "forever";
        }
        static const char *const hdr[] = {"name", "retention"};
        remote_table(stdout, hdr, 2, cells, n);
        sl_free(cells);
    }
    json_decref(arr);
    return 0;
}

static int confirm_delete(const char *name)
{
    fprintf(stderr,
            "Delete database \"%s\" and all of its data? This cannot be undone.\n"
            "Type the database name to confirm: ",
            name);
    char line[1024];
    if (!fgets(line, sizeof(line), stdin)) return 0;
    line[strcspn(line, "\r\n")] = 0;
    return !strcmp(line, name);
}

int cmd_db(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'},
        {"token", required_argument, 0, 't'},
        {"format", required_argument, 0, 'f'},
        {"retention", required_argument, 0, 'r'},
        {"yes", no_argument, 0, 'y'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct remote r;
    const char *retention = NULL;
    int yes = 0, opt;
    remote_init(&r, "sluice db");
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        db_usage(argc < 2 ? stderr : stdout);
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
        case 'r': retention = optarg; break;
        case 'y': yes = 1; break;
        case 'h': db_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice db: unknown or incomplete option '%s'\n\n", argv[optind]);
            db_usage(stderr);
            return REMOTE_USAGE;
        }
    }
    int nargs = argc - 1 - optind;
    const char *name = nargs >= 1 ? argv[1 + optind] : NULL;
    int want_name = strcmp(sub, "list") != 0;
    if (strcmp(sub, "list") && strcmp(sub, "create") && strcmp(sub, "update") &&
        strcmp(sub, "delete")) {
        fprintf(stderr, "sluice db: unknown subcommand '%s' (list, create, update, delete)\n", sub);
        return REMOTE_USAGE;
    }
    if (nargs != want_name || (name && !*name)) {
        fprintf(stderr, "sluice db %s: %s\n", sub,
                want_name ? "give exactly one database name" : "takes no arguments");
        return REMOTE_USAGE;
    }
    int forever = 0;
    if (retention && (strcmp(sub, "create") && strcmp(sub, "update"))) {
        fprintf(stderr, "sluice db %s: --retention applies to create and update\n", sub);
        return REMOTE_USAGE;
    }
    if (!strcmp(sub, "update") && !retention) {
        fprintf(stderr, "sluice db update: --retention is required\n");
        return REMOTE_USAGE;
    }
    if (retention && retention_arg(retention, &forever) < 0) {
        fprintf(stderr,
                "sluice db %s: invalid retention '%s': use a duration such as 30d, 12h, 1w, "
                "or none\n",
                sub, retention);
        return REMOTE_USAGE;
    }
    if (!strcmp(sub, "delete") && !yes) {
        if (!isatty(STDIN_FILENO)) {
            fprintf(stderr,
                    "sluice db delete: refusing to delete \"%s\" without --yes (stdin is "
                    "not a terminal)\n",
                    name);
            return REMOTE_USAGE;
        }
        if (!confirm_delete(name)) {
            fprintf(stderr, "sluice db delete: not confirmed; nothing was deleted\n");
            return REMOTE_FAIL;
        }
    }
    if (remote_open(&r)) return REMOTE_FAIL;
    int rc = 0;
    char what[600];
    if (!strcmp(sub, "list")) {
        rc = db_list(&r);
    } else if (!strcmp(sub, "delete")) {
        rc = remote_delete(&r, "database", "/api/v3/configure/database", "db", "name", name);
    } else {
        int create = !strcmp(sub, "create");
        json_t *body = json_object();
        json_object_set_new(body, "db", json_string(name));
        if (retention)
            json_object_set_new(body, "retention_period",
                                forever ? json_null() : json_string(retention));
        snprintf(what, sizeof(what), "%s database \"%.512s\"", sub, name);
        rc = remote_call(&r, what, create ? "POST" : "PUT", "/api/v3/configure/database", body,
                         NULL, NULL);
        json_decref(body);
        if (rc == 0) {
            const char *rp = retention && !forever ? retention : NULL;
            if (r.json) {
                json_t *o = json_object();
                json_object_set_new(o, "name", json_string(name));
                json_object_set_new(o, "retention_period", rp ? json_string(rp) : json_null());
                json_object_set_new(o, create ? "created" : "updated", json_true());
                remote_print_json(stdout, o);
                json_decref(o);
            } else {
                printf("database \"%s\" %s (retention: %s)\n", name, create ? "created" : "updated",
                       rp ? rp : "forever");
            }
        }
    }
    remote_close(&r);
    return rc;
}
