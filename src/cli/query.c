/*
 * query.c — `sluice query`: runs one SQL or InfluxQL query against a server
 * and prints the response body as the server formatted it.
 *
 * Exit status: 0 success; 1 the server or the network reported an error
 * (the body goes to stderr); 2 usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "sluice/query.h"

static void query_usage(FILE *f)
{
    fprintf(f, "usage: sluice query [options] --db NAME 'QUERY'\n"
               "\n"
               "Runs a query and prints the result. QUERY '-' reads the query from stdin.\n"
               "\n"
               "options:\n"
               "  --host URL             server (default http://localhost:8086, or $SLUICE_HOST)\n"
               "  --token T              API token (default $SLUICE_TOKEN, then $INFLUX_TOKEN)\n"
               "  --db NAME              database (required)\n"
               "  --sql                  the query is SQL (default): /api/v3/query_sql\n"
               "  --influxql             the query is InfluxQL: /api/v3/query_influxql\n"
               "  --api v1|v3            v1 sends InfluxQL to /query (InfluxDB 1.x); default v3\n"
               "  --format F             json, jsonl, csv, pretty (default), parquet;\n"
               "                         with --api v1: json (default) or csv\n"
               "  --epoch U              v1 only: integer times in ns, u, ms, s, m, h\n"
               "  -h, --help             this text\n"
               "\n"
               "exit status: 0 success, 1 query or server error, 2 usage error\n");
}

static char *read_stdin(void)
{
    size_t cap = 4096, len = 0, n;
    char *s = malloc(cap);
    if (!s) return NULL;
    while ((n = fread(s + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            if (cap >= ((size_t)16 << 20)) break; /* a 16 MiB query is enough */
            char *t = realloc(s, cap * 2);
            if (!t) {
                free(s);
                return NULL;
            }
            s = t;
            cap *= 2;
        }
    }
    s[len] = 0;
    return s;
}

int cmd_query(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'},   {"token", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},     {"sql", no_argument, 0, 'S'},
        {"influxql", no_argument, 0, 'I'},     {"api", required_argument, 0, 'a'},
        {"format", required_argument, 0, 'f'}, {"epoch", required_argument, 0, 'e'},
        {"help", no_argument, 0, 'h'},         {0, 0, 0, 0},
    };
    struct sl_query_opts o;
    const char *host = getenv("SLUICE_HOST");
    int influxql = 0, v1 = 0, opt;

    memset(&o, 0, sizeof(o));
    o.token = getenv("SLUICE_TOKEN");
    if (!o.token || !*o.token) o.token = getenv("INFLUX_TOKEN");
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 't': o.token = optarg; break;
        case 'd': o.db = optarg; break;
        case 'S': influxql = 0; break;
        case 'I': influxql = 1; break;
        case 'f': o.format = optarg; break;
        case 'e': o.epoch = optarg; break;
        case 'a':
            if (!strcmp(optarg, "v1"))
                v1 = 1;
            else if (!strcmp(optarg, "v3"))
                v1 = 0;
            else {
                fprintf(stderr, "sluice query: unknown api '%s' (use v1 or v3)\n", optarg);
                return 2;
            }
            break;
        case 'h': query_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice query: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            query_usage(stderr);
            return 2;
        }
    }
    if (!o.db || !*o.db || optind != argc - 1) {
        fprintf(stderr, "sluice query: %s\n\n",
                !o.db || !*o.db ? "--db is required" : "give exactly one query");
        query_usage(stderr);
        return 2;
    }
    static const char *v3fmt[] = {"json", "jsonl", "csv", "pretty", "parquet"};
    int fmt_ok = !o.format;
    for (size_t i = 0; o.format && i < sizeof(v3fmt) / sizeof(v3fmt[0]); i++)
        fmt_ok |= !strcmp(o.format, v3fmt[i]) && (!v1 || i == 0 || i == 2);
    if (!fmt_ok) {
        fprintf(stderr, "sluice query: unsupported format '%s'%s\n", o.format,
                v1 ? " with --api v1 (json or csv)" : "");
        return 2;
    }
    if (v1 && !influxql) {
        fprintf(stderr, "sluice query: --api v1 speaks InfluxQL only; add --influxql\n");
        return 2;
    }
    if (!o.format && !v1) o.format = "pretty";
    o.kind = v1 ? SL_QUERY_V1 : influxql ? SL_QUERY_INFLUXQL : SL_QUERY_SQL;
    o.url = host && *host ? host : "http://localhost:8086";

    char *q = argv[optind], *qbuf = NULL;
    if (!strcmp(q, "-")) {
        if (!(q = qbuf = read_stdin())) {
            fprintf(stderr, "sluice query: cannot read the query from stdin\n");
            return 1;
        }
    }
    long status;
    char *body;
    size_t len;
    int rc = sl_query_run(&o, q, &status, &body, &len);
    free(qbuf);
    int code = 0;
    if (rc == 0) {
        fwrite(body, 1, len, stdout);
        if (len && body[len - 1] != '\n' && (!o.format || strcmp(o.format, "parquet")))
            fputc('\n', stdout);
        /* v1 reports statement errors inside a 200 answer */
        if (v1 && strstr(body, "\"error\":")) code = 1;
    } else {
        if (status) {
            while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
                len--;
            fprintf(stderr, "sluice query: HTTP %ld: %.*s\n", status, (int)len, body);
        } else
            fprintf(stderr, "sluice query: %s%s%s\n", sl_strerror(rc), body ? ": " : "",
                    body ? body : "");
        code = rc == SL_EINVAL && !status && !body ? 2 : 1;
    }
    sl_free(body);
    return code;
}
