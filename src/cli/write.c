/*
 * write.c — `sluice write`: sends line protocol from files, stdin or the
 * command line to a server through libsluice's batching writer.
 *
 * Every line is validated locally with the line-protocol parser first, so
 * a typo is reported with file, line and column before anything is sent, and
 * only valid lines go out (exactly as written: the tool never rewrites data).
 * Input is streamed in chunks, so files larger than memory work.
 *
 * Exit status: 0 every line was delivered; 1 some line was invalid or the
 * server rejected or never acknowledged a batch; 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/commands.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "lp/lp.h"
#include "sluice/writer.h"

#define WRITE_CHUNK    ((size_t)4 << 20)
#define WRITE_MAX_LINE ((size_t)64 << 20)

static void write_usage(FILE *f)
{
    fprintf(f, "usage: sluice write [options] [FILE|-]... [LINE...]\n"
               "\n"
               "Sends line protocol to a sluice or InfluxDB-compatible server. Each argument is\n"
               "a file to read ('-' = stdin) when a file of that name exists or the argument\n"
               "has no space in it; otherwise it is itself a line of line protocol. Without\n"
               "arguments, stdin is read. Lines are checked locally first; invalid lines are\n"
               "reported (file:line:column) and not sent.\n"
               "\n"
               "options:\n"
               "  --host URL          server (default http://localhost:8086, or $SLUICE_HOST)\n"
               "  --token T           API token (default $SLUICE_TOKEN, then $INFLUX_TOKEN)\n"
               "  --db, --bucket NAME database (v1, v3) or bucket (v2); required\n"
               "  --org NAME          organisation (v2 only; ignored by sluice)\n"
               "  --precision P       timestamp unit of the input: ns, us, ms, s (default: the\n"
               "                      API's default: ns for v1/v2, auto-detect for v3)\n"
               "  --api v1|v2|v3      write endpoint: /write, /api/v2/write, /api/v3/write_lp\n"
               "                      (default v3)\n"
               "  --gzip              compress request bodies\n"
               "  --batch-size N      lines per request (default 5000)\n"
               "  --retries N         retries of a failed batch (default 5)\n"
               "  -q, --quiet         no summary\n"
               "  -h, --help          this text\n"
               "\n"
               "exit status: 0 all lines delivered, 1 invalid or rejected lines, 2 usage error\n");
}

struct wstate {
    struct sl_writer *w;
    struct lp_parser_opts popts;
    uint64_t lines_ok, lines_invalid;
    int send_failed;
};

static void on_error(void *ctx, const struct sl_write_error *e)
{
    (void)ctx;
    if (e->dropped)
        fprintf(stderr, "sluice write: server rejected a batch of %zu lines: %s\n", e->lines,
                e->message);
    else
        fprintf(stderr, "sluice write: attempt %d failed, retrying: %s\n", e->attempt, e->message);
}

/* Validates buf[0..len) (whole lines) and queues the valid lines.
 * line_base is the number of lines of this input before buf. */
static int feed(struct wstate *s, const char *name, size_t line_base, const char *buf, size_t len)
{
    struct lp_parser p;
    struct lp_point pt;
    struct lp_error err;
    int rc = 0, r;
    lp_parser_init(&p, buf, len, &s->popts);
    while ((r = lp_parser_next(&p, &pt, &err)) != LP_END) {
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == LP_ERROR) {
            s->lines_invalid++;
            int show = err.raw_len > 200 ? 200 : (int)err.raw_len;
            fprintf(stderr, "sluice write: %s:%zu:%zu: %s\n  %.*s%s\n", name, line_base + err.line,
                    err.column, err.message, show, err.raw,
                    (size_t)show < err.raw_len ? "..." : "");
            continue;
        }
        if ((rc = sl_writer_write_lines(s->w, pt.raw, pt.raw_len)) < 0) break;
        s->lines_ok++;
    }
    lp_parser_release(&p);
    return rc;
}

static size_t count_lines(const char *p, size_t n)
{
    size_t c = 0;
    for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))); p++)
        c++;
    return c;
}

/* Streams a file (or stdin for "-") through feed(), chunk by chunk, cutting
 * at the last newline so no line is split. */
static int feed_file(struct wstate *s, const char *path)
{
    int is_stdin = !strcmp(path, "-");
    const char *name = is_stdin ? "<stdin>" : path;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    struct sl_buf b;
    size_t base = 0;
    int rc = 0;
    if (!f) {
        fprintf(stderr, "sluice write: cannot open '%s': %s\n", path, strerror(errno));
        return SL_ENOENT;
    }
    sl_buf_init(&b, WRITE_MAX_LINE + WRITE_CHUNK);
    for (;;) {
        if ((rc = sl_buf_reserve(&b, WRITE_CHUNK)) < 0) break;
        size_t got = fread(b.ptr + b.len, 1, WRITE_CHUNK, f);
        b.len += got;
        b.ptr[b.len] = 0;
        int eof = got == 0;
        if (got == 0 && ferror(f)) {
            fprintf(stderr, "sluice write: reading '%s': %s\n", name, strerror(errno));
            rc = SL_EIO;
            break;
        }
        const char *nl = eof ? b.ptr + b.len : NULL;
        if (!eof)
            for (size_t i = b.len; i > 0; i--)
                if (b.ptr[i - 1] == '\n') {
                    nl = b.ptr + i;
                    break;
                }
        if (!nl) {
            if (b.len > WRITE_MAX_LINE) {
                fprintf(stderr, "sluice write: %s:%zu: line longer than %zu bytes\n", name,
                        base + 1, WRITE_MAX_LINE);
                rc = SL_ETOOBIG;
                break;
            }
            continue;
        }
        size_t n = (size_t)(nl - b.ptr);
        if ((rc = feed(s, name, base, b.ptr, n)) < 0) break;
        base += count_lines(b.ptr, n);
        memmove(b.ptr, b.ptr + n, b.len - n);
        b.len -= n;
        if (eof) break;
    }
    sl_buf_release(&b);
    if (!is_stdin) fclose(f);
    return rc;
}

static int is_file_arg(const char *a)
{
    struct stat st;
    if (!strcmp(a, "-")) return 1;
    if (stat(a, &st) == 0 && !S_ISDIR(st.st_mode)) return 1;
    return strchr(a, ' ') == NULL; /* no space: cannot be a line, so a (missing) file */
}

int cmd_write(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"host", required_argument, 0, 'H'},
        {"token", required_argument, 0, 't'},
        {"db", required_argument, 0, 'd'},
        {"bucket", required_argument, 0, 'd'},
        {"org", required_argument, 0, 'o'},
        {"precision", required_argument, 0, 'p'},
        {"api", required_argument, 0, 'a'},
        {"gzip", no_argument, 0, 'z'},
        {"batch-size", required_argument, 0, 'b'},
        {"retries", required_argument, 0, 'r'},
        {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    struct sl_writer_opts o;
    struct wstate s;
    const char *host = getenv("SLUICE_HOST");
    int quiet = 0, opt, rc, exit_code = 0;
    char *end;

    memset(&o, 0, sizeof(o));
    memset(&s, 0, sizeof(s));
    o.api = SL_API_V3;
    o.token = getenv("SLUICE_TOKEN");
    if (!o.token || !*o.token) o.token = getenv("INFLUX_TOKEN");
    o.batch_lines = 5000;
    o.batch_bytes = (size_t)8 << 20;
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'H': host = optarg; break;
        case 't': o.token = optarg; break;
        case 'd': o.db = optarg; break;
        case 'o': o.org = optarg; break;
        case 'z': o.gzip = 1; break;
        case 'q': quiet = 1; break;
        case 'p':
            if (sl_precision_parse(optarg, &o.precision) < 0) {
                fprintf(stderr, "sluice write: unknown precision '%s' (use ns, us, ms, s)\n",
                        optarg);
                return 2;
            }
            break;
        case 'a':
            if (!strcmp(optarg, "v1"))
                o.api = SL_API_V1;
            else if (!strcmp(optarg, "v2"))
                o.api = SL_API_V2;
            else if (!strcmp(optarg, "v3"))
                o.api = SL_API_V3;
            else {
                fprintf(stderr, "sluice write: unknown api '%s' (use v1, v2, v3)\n", optarg);
                return 2;
            }
            break;
        case 'b':
        case 'r': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || end == optarg || v < (opt == 'b' ? 1 : 0) || v > 10000000) {
                fprintf(stderr, "sluice write: bad number '%s' for --%s\n", optarg,
                        opt == 'b' ? "batch-size" : "retries");
                return 2;
            }
            if (opt == 'b')
                o.batch_lines = (size_t)v;
            else
                o.max_retries = v ? (int)v : -1;
            break;
        }
        case 'h': write_usage(stdout); return 0;
        default:
            fprintf(stderr, "sluice write: unknown or incomplete option '%s'\n\n",
                    argv[optind - 1]);
            write_usage(stderr);
            return 2;
        }
    }
    if (!o.db || !*o.db) {
        fprintf(stderr, "sluice write: --db (or --bucket) is required\n\n");
        write_usage(stderr);
        return 2;
    }
    o.url = host && *host ? host : "http://localhost:8086";
    o.on_error = on_error;

    /* validate with the unit the server will apply */
    switch (o.precision) {
    case SL_PREC_US: s.popts.precision = LP_PREC_US; break;
    case SL_PREC_MS: s.popts.precision = LP_PREC_MS; break;
    case SL_PREC_S: s.popts.precision = LP_PREC_S; break;
    case SL_PREC_NS: s.popts.precision = LP_PREC_NS; break;
    default: s.popts.precision = o.api == SL_API_V3 ? LP_PREC_AUTO : LP_PREC_NS; break;
    }

    if ((rc = sl_writer_new(&s.w, &o)) < 0) {
        fprintf(stderr, "sluice write: cannot start the writer: %s\n", sl_strerror(rc));
        return rc == SL_EINVAL ? 2 : 1;
    }
    int64_t t0 = sl_mono_ns();
    rc = 0;
    if (optind == argc) rc = feed_file(&s, "-");
    for (int i = optind; i < argc && rc >= 0; i++) {
        if (is_file_arg(argv[i])) {
            rc = feed_file(&s, argv[i]);
            if (rc == SL_ENOENT) {
                exit_code = 1;
                rc = 0; /* reported; go on with the other inputs */
            }
        } else {
            char name[32];
            snprintf(name, sizeof(name), "argument %d", i - optind + 1);
            rc = feed(&s, name, 0, argv[i], strlen(argv[i]));
        }
    }
    if (rc < 0) {
        fprintf(stderr, "sluice write: stopped: %s\n", sl_strerror(rc));
        exit_code = 1;
    }
    int crc = sl_writer_close(s.w);
    struct sl_writer_stats st;
    sl_writer_stats(s.w, &st);
    sl_writer_free(s.w);
    double secs = (double)(sl_mono_ns() - t0) / 1e9;
    if (crc < 0 || st.lines_dropped || s.lines_invalid) exit_code = 1;
    if (!quiet)
        printf("wrote %llu lines in %llu requests (%llu invalid, %llu rejected or undelivered, "
               "%llu retries) in %.3f s\n",
               (unsigned long long)st.lines_delivered, (unsigned long long)st.requests,
               (unsigned long long)s.lines_invalid, (unsigned long long)st.lines_dropped,
               (unsigned long long)st.retries, secs);
    return exit_code;
}
