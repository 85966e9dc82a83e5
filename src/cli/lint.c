/*
 * lint.c — `sluice lint`: checks line protocol the way the server would read
 * it, before it is sent ("validate line protocol before sending").
 *
 *   sluice lint [--precision P] [--format text|jsonl] [--quiet] [FILE|-]...
 *
 * Output (stdout):
 *   text   one `FILE:LINE:COLUMN: message` per rejected line, and one
 *          `FILE:LINE: warning: ...` per kind of likely precision mistake
 *   jsonl  one JSON object per point or rejected line (nothing for blank and
 *          comment lines):
 *            {"line":N,"measurement":"m","tags":{"k":"v"},
 *             "fields":{"f":{"type":"float","value":1.5}},"time":NS|null}
 *            {"line":N,"column":C,"error":"..."}
 *   --quiet only a one-line summary.
 * In text and jsonl modes the summary and (jsonl) the warnings go to stderr.
 * Exit status: 0 every line valid, 1 some line rejected, 2 usage error or an
 * unreadable input.
 *
 * Files are mmap'ed (read() as a fallback, e.g. for pipes); '-' or no
 * argument reads standard input.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/commands.h"
#include "common/buf.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"
#include "lp/lp.h"

enum lint_format { FMT_TEXT, FMT_JSONL };

struct lint {
    enum lint_format format;
    int quiet;
    struct lp_parser_opts opts;
    const char *prec_name;
    struct sl_buf out;
    size_t files, bytes, points, errors, warnings;
};

/* The precision warning of one file: timestamps that land before 1973 once
 * scaled are most likely written in a coarser unit than the one given. */
struct ts_warn {
    size_t count, first_line;
    int64_t first_raw;
    const char *guess;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sluice lint [--precision P] [--format text|jsonl] [--quiet] [FILE|-]...\n"
               "\n"
               "Checks line protocol and reports every line a server would reject.\n"
               "\n"
               "  --precision P   timestamp unit: n|ns, u|us, ms, s, m, h or auto (default ns)\n"
               "  --format F      text: FILE:LINE:COLUMN: message for each bad line (default)\n"
               "                  jsonl: one JSON object per point or error\n"
               "  --quiet         print only a one-line summary\n"
               "  -h, --help      show this help\n"
               "\n"
               "With no FILE, or when FILE is -, reads standard input.\n"
               "Exit status: 0 all lines valid, 1 some line rejected, 2 usage or read error.\n");
}

static void flush_out(struct lint *L, int force)
{
    if (!force && L->out.len < (1 << 16)) return;
    if (L->out.len) fwrite(L->out.ptr, 1, L->out.len, stdout);
    sl_buf_reset(&L->out);
}

static const char *unit_of_magnitude(int64_t raw)
{
    uint64_t m = raw < 0 ? (uint64_t)0 - (uint64_t)raw : (uint64_t)raw;
    if (m >= 100000000ULL && m < 100000000000ULL) return "s";
    if (m >= 100000000000ULL && m < 100000000000000ULL) return "ms";
    if (m >= 100000000000000ULL && m < 100000000000000000ULL) return "us";
    return NULL;
}

static void check_time(struct lint *L, const struct lp_point *pt, struct ts_warn *w)
{
    if (L->opts.precision == LP_PREC_AUTO || !pt->has_time) return;
    /* before 1973-03-03 when scaled, but at least 1e8 units: a unit mix-up */
    if (pt->time <= 0 || pt->time >= 100000000000000000LL) return;
    int64_t raw = pt->time / lp_precision_ns(L->opts.precision);
    const char *g = unit_of_magnitude(raw);
    if (!g || !strcmp(g, L->prec_name)) return;
    if (w->count++ == 0) {
        w->first_line = pt->line;
        w->first_raw = raw;
        w->guess = g;
    }
}

static void emit_warning(struct lint *L, const char *name, const struct ts_warn *w)
{
    if (!w->count) return;
    L->warnings++;
    if (L->quiet) return;
    char when[48];
    sl_time_format_rfc3339(w->first_raw * lp_precision_ns(L->opts.precision), when);
    char msg[512];
    snprintf(msg, sizeof(msg),
             "%s:%zu: warning: timestamp %lld read at precision %s is %s; it looks like %s "
             "(use --precision %s)%s%zu line(s) like this\n",
             name, w->first_line, (long long)w->first_raw, L->prec_name, when, w->guess, w->guess,
             "; ", w->count);
    if (L->format == FMT_TEXT) {
        sl_buf_adds(&L->out, msg);
    } else {
        flush_out(L, 1);
        fputs(msg, stderr);
    }
}

static void json_point(struct sl_buf *b, const struct lp_point *pt)
{
    char num[40];
    sl_buf_adds(b, "{\"line\":");
    sl_buf_add_u64(b, pt->line);
    sl_buf_adds(b, ",\"measurement\":");
    sl_buf_add_json_str(b, pt->measurement, pt->measurement_len);
    sl_buf_adds(b, ",\"tags\":{");
    for (size_t i = 0; i < pt->ntags; i++) {
        if (i) sl_buf_addc(b, ',');
        sl_buf_add_json_str(b, pt->tags[i].key, pt->tags[i].key_len);
        sl_buf_addc(b, ':');
        sl_buf_add_json_str(b, pt->tags[i].val, pt->tags[i].val_len);
    }
    sl_buf_adds(b, "},\"fields\":{");
    for (size_t i = 0; i < pt->nfields; i++) {
        const struct lp_field *f = &pt->fields[i];
        if (i) sl_buf_addc(b, ',');
        sl_buf_add_json_str(b, f->key, f->key_len);
        sl_buf_adds(b, ":{\"type\":\"");
        sl_buf_adds(b, lp_type_name(f->type));
        sl_buf_adds(b, "\",\"value\":");
        switch (f->type) {
        case LP_FLOAT: sl_buf_add(b, num, lp_format_float(f->v.f, num)); break;
        case LP_INTEGER: sl_buf_add_i64(b, f->v.i); break;
        case LP_UNSIGNED: sl_buf_add_u64(b, f->v.u); break;
        case LP_STRING: sl_buf_add_json_str(b, f->v.s.ptr, f->v.s.len); break;
        case LP_BOOLEAN: sl_buf_adds(b, f->v.b ? "true" : "false"); break;
        }
        sl_buf_addc(b, '}');
    }
    sl_buf_adds(b, "},\"time\":");
    if (pt->has_time)
        sl_buf_add_i64(b, pt->time);
    else
        sl_buf_adds(b, "null");
    sl_buf_adds(b, "}\n");
}

/* Lints one buffer; returns 0, or SL_ENOMEM. */
static int lint_buffer(struct lint *L, const char *name, const char *data, size_t len)
{
    struct lp_parser p;
    struct lp_point pt;
    struct lp_error err;
    struct ts_warn w = {0, 0, 0, NULL};
    int rc;
    lp_parser_init(&p, data, len, &L->opts);
    L->files++;
    L->bytes += len;
    if (L->quiet) {
        /* the hot loop: count only */
        while ((rc = lp_parser_next(&p, &pt, &err)) > 0) {
            if (rc == LP_POINT) {
                L->points++;
                if (pt.has_time) check_time(L, &pt, &w);
            } else {
                L->errors++;
            }
        }
    } else {
        while ((rc = lp_parser_next(&p, &pt, &err)) > 0) {
            if (rc == LP_POINT) {
                L->points++;
                check_time(L, &pt, &w);
                if (L->format == FMT_JSONL) json_point(&L->out, &pt);
            } else {
                L->errors++;
                if (L->format == FMT_JSONL) {
                    sl_buf_adds(&L->out, "{\"line\":");
                    sl_buf_add_u64(&L->out, err.line);
                    sl_buf_adds(&L->out, ",\"column\":");
                    sl_buf_add_u64(&L->out, err.column);
                    sl_buf_adds(&L->out, ",\"error\":");
                    sl_buf_add_json_str(&L->out, err.message, strlen(err.message));
                    sl_buf_adds(&L->out, "}\n");
                } else {
                    sl_buf_addf(&L->out, "%s:%zu:%zu: %s\n", name, err.line, err.column,
                                err.message);
                }
            }
            flush_out(L, 0);
        }
    }
    lp_parser_release(&p);
    if (rc < 0) return rc;
    emit_warning(L, name, &w);
    flush_out(L, 0);
    return 0;
}

static int read_fd(int fd, struct sl_buf *b)
{
    for (;;) {
        if (sl_buf_reserve(b, 1 << 16) < 0) return SL_ENOMEM;
        ssize_t n = read(fd, b->ptr + b->len, b->cap - b->len - 1);
        if (n < 0) {
            if (errno == EINTR) continue;
            return SL_EIO;
        }
        if (n == 0) break;
        b->len += (size_t)n;
    }
    if (b->ptr) b->ptr[b->len] = 0;
    return 0;
}

/* Returns 0, or 2 after printing why the input could not be read. */
static int lint_path(struct lint *L, const char *path)
{
    int is_stdin = !strcmp(path, "-");
    const char *name = is_stdin ? "<stdin>" : path;
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        flush_out(L, 1);
        fprintf(stderr, "sluice lint: %s: %s\n", path, strerror(errno));
        return 2;
    }
    int rc = 0;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (m != MAP_FAILED) {
            madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL | MADV_WILLNEED);
            rc = lint_buffer(L, name, m, (size_t)st.st_size);
            munmap(m, (size_t)st.st_size);
            goto out;
        }
    }
    struct sl_buf b;
    sl_buf_init(&b, 0);
    rc = read_fd(fd, &b);
    if (rc == 0) rc = lint_buffer(L, name, b.ptr ? b.ptr : "", b.len);
    sl_buf_release(&b);
out:
    if (!is_stdin) close(fd);
    if (rc < 0) {
        flush_out(L, 1);
        fprintf(stderr, "sluice lint: %s: %s\n", name, sl_strerror(rc));
        return 2;
    }
    return 0;
}

int cmd_lint(int argc, char **argv)
{
    struct lint L;
    memset(&L, 0, sizeof(L));
    L.prec_name = "ns";
    sl_buf_init(&L.out, 0);
    const char **files = sl_calloc((size_t)(argc > 0 ? argc : 1), sizeof(*files));
    if (!files) return 2;
    int nfiles = 0, only_files = 0, status = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        if (only_files || a[0] != '-' || !strcmp(a, "-")) {
            files[nfiles++] = a;
            continue;
        }
        if (!strcmp(a, "--")) {
            only_files = 1;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            goto out;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            L.quiet = 1;
        } else if (!strcmp(a, "--precision") || !strcmp(a, "-p") ||
                   !strncmp(a, "--precision=", 12)) {
            val = a[1] == '-' && a[11] == '=' ? a + 12 : (i + 1 < argc ? argv[++i] : NULL);
            if (!val || lp_precision_parse(val, &L.opts.precision) < 0) {
                fprintf(stderr,
                        "sluice lint: invalid precision '%s' (use n, ns, u, us, ms, s, m, h "
                        "or auto)\n",
                        val ? val : "");
                status = 2;
                goto out;
            }
            static const char *names[] = {"ns", "us", "ms", "s", "m", "h", "auto"};
            L.prec_name = names[L.opts.precision];
        } else if (!strncmp(a, "--format", 8) && (a[8] == 0 || a[8] == '=')) {
            val = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (val && !strcmp(val, "text"))
                L.format = FMT_TEXT;
            else if (val && !strcmp(val, "jsonl"))
                L.format = FMT_JSONL;
            else {
                fprintf(stderr, "sluice lint: invalid format '%s' (use text or jsonl)\n",
                        val ? val : "");
                status = 2;
                goto out;
            }
        } else {
            fprintf(stderr, "sluice lint: unknown option '%s'\n\n", a);
            usage(stderr);
            status = 2;
            goto out;
        }
    }
    if (nfiles == 0) files[nfiles++] = "-";
    for (int i = 0; i < nfiles; i++)
        if (lint_path(&L, files[i]) != 0) status = 2;
    flush_out(&L, 1);
    sl_buf_release(&L.out);
    char summary[256];
    snprintf(summary, sizeof(summary),
             "%s: %zu point(s), %zu error(s), %zu warning(s) in %zu file(s), %zu bytes\n",
             status == 2 ? "unreadable input" : (L.errors ? "invalid" : "ok"), L.points, L.errors,
             L.warnings, L.files, L.bytes);
    fputs(summary, L.quiet ? stdout : stderr);
    fflush(stdout);
    if (!status && L.errors) status = 1;
out:
    sl_free(files);
    sl_buf_release(&L.out);
    return status;
}
