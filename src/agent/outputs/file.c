/*
 * file.c — outputs.file: writes metrics to files or stdout/stderr as line
 * protocol (data_format = "influx", the default) or Telegraf's JSON
 * (data_format = "json"). A write error keeps the batch for a retry.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/conf.h"
#include "agent/outputs/outputs.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/mem.h"

struct file_output {
    struct glob_list files;
    int *fds;
    int json;
    int64_t json_unit;
    int uint_support;
};

static void file_free(void *state)
{
    struct file_output *s = state;
    for (size_t i = 0; s->fds && i < s->files.n; i++)
        if (s->fds[i] > 2) close(s->fds[i]);
    sl_free(s->fds);
    glob_list_release(&s->files);
    sl_free(s);
}

static int file_init(struct plugin_conf *c, void **state)
{
    struct file_output *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    char *fmt = NULL;
    int rc, dummy = 0;
    int64_t dummy_i = 0;
    struct glob_list ignored = {0};
    s->json_unit = 1000000000LL;
    if ((rc = conf_strlist(c, "files", &s->files)) < 0) goto fail;
    if ((rc = conf_str(c, "data_format", &fmt)) < 0) goto fail;
    if ((rc = conf_duration(c, "json_timestamp_units", &s->json_unit)) < 0) goto fail;
    if ((rc = conf_bool(c, "influx_uint_support", &s->uint_support)) < 0) goto fail;
    if ((rc = conf_bool(c, "influx_sort_fields", &dummy)) < 0) goto fail;
    if ((rc = conf_bool(c, "use_batch_format", &dummy)) < 0) goto fail;
    if ((rc = conf_int(c, "influx_max_line_bytes", &dummy_i)) < 0) goto fail;
    if ((rc = conf_duration(c, "rotation_interval", &dummy_i)) < 0) goto fail;
    if ((rc = conf_size(c, "rotation_max_size", &dummy_i)) < 0) goto fail;
    if ((rc = conf_int(c, "rotation_max_archives", &dummy_i)) < 0) goto fail;
    if (fmt && strcmp(fmt, "influx") && strcmp(fmt, "json")) {
        rc = conf_fail(c, "data_format", "unsupported data format \"%s\" (influx, json)", fmt);
        goto fail;
    }
    s->json = fmt && !strcmp(fmt, "json");
    if (s->json_unit <= 0) s->json_unit = 1000000000LL;
    if (s->files.n == 0 && (rc = glob_list_add(&s->files, "stdout")) < 0) goto fail;
    s->fds = sl_calloc(s->files.n, sizeof(int));
    if (!s->fds) {
        rc = SL_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < s->files.n; i++) {
        const char *f = s->files.v[i];
        if (!strcmp(f, "stdout"))
            s->fds[i] = 1;
        else if (!strcmp(f, "stderr"))
            s->fds[i] = 2;
        else {
            s->fds[i] = open(f, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (s->fds[i] < 0) {
                rc = conf_fail(c, "files", "cannot open \"%s\": %s", f, strerror(errno));
                s->fds[i] = -1;
                goto fail;
            }
        }
    }
    sl_free(fmt);
    glob_list_release(&ignored);
    *state = s;
    return 0;
fail:
    sl_free(fmt);
    file_free(s);
    return rc;
}

int serialize_json(const struct metric *m, int64_t unit_ns, struct sl_buf *out)
{
    int rc = sl_buf_adds(out, "{\"fields\":{");
    for (size_t i = 0; rc == 0 && i < m->nfields; i++) {
        const struct metric_field *f = &m->fields[i];
        if (i) rc = sl_buf_addc(out, ',');
        if (rc == 0) rc = sl_buf_add_json_str(out, f->key, strlen(f->key));
        if (rc == 0) rc = sl_buf_addc(out, ':');
        if (rc) break;
        switch (f->type) {
        case LP_FLOAT:
            if (isfinite(f->v.f)) {
                char num[32];
                size_t n = lp_format_float(f->v.f, num);
                rc = sl_buf_add(out, num, n);
            } else {
                rc = sl_buf_adds(out, "null");
            }
            break;
        case LP_INTEGER: rc = sl_buf_add_i64(out, f->v.i); break;
        case LP_UNSIGNED: rc = sl_buf_add_u64(out, f->v.u); break;
        case LP_BOOLEAN: rc = sl_buf_adds(out, f->v.b ? "true" : "false"); break;
        case LP_STRING: rc = sl_buf_add_json_str(out, f->v.s, strlen(f->v.s)); break;
        }
    }
    if (rc == 0) rc = sl_buf_adds(out, "},\"name\":");
    if (rc == 0) rc = sl_buf_add_json_str(out, m->name, strlen(m->name));
    if (rc == 0) rc = sl_buf_adds(out, ",\"tags\":{");
    for (size_t i = 0; rc == 0 && i < m->ntags; i++) {
        if (i) rc = sl_buf_addc(out, ',');
        if (rc == 0) rc = sl_buf_add_json_str(out, m->tags[i].key, strlen(m->tags[i].key));
        if (rc == 0) rc = sl_buf_addc(out, ':');
        if (rc == 0) rc = sl_buf_add_json_str(out, m->tags[i].val, strlen(m->tags[i].val));
    }
    if (rc == 0) rc = sl_buf_adds(out, "},\"timestamp\":");
    if (rc == 0) rc = sl_buf_add_i64(out, m->time / (unit_ns > 0 ? unit_ns : 1));
    if (rc == 0) rc = sl_buf_adds(out, "}\n");
    return rc;
}

static enum output_result file_write(void *state, struct metric **batch, size_t n,
                                     struct output_write_info *info)
{
    struct file_output *s = state;
    struct sl_buf b;
    sl_buf_init(&b, 0);
    struct lp_write_opts wo = {.uint_support = s->uint_support, .precision = LP_PREC_NS};
    for (size_t i = 0; i < n; i++) {
        int rc = s->json ? serialize_json(batch[i], s->json_unit, &b)
                         : metric_write_lp(batch[i], &b, &wo);
        if (rc == SL_EINVAL) continue; /* a metric without fields is not serializable */
        if (rc < 0) {
            snprintf(info->error, sizeof(info->error), "serializing: %s", sl_strerror(rc));
            sl_buf_release(&b);
            return OUTPUT_RETRY;
        }
    }
    for (size_t i = 0; i < s->files.n; i++) {
        if (sl_write_full(s->fds[i], b.ptr ? b.ptr : "", b.len) < 0) {
            snprintf(info->error, sizeof(info->error), "writing %s: %s", s->files.v[i],
                     strerror(errno));
            sl_buf_release(&b);
            return OUTPUT_RETRY;
        }
    }
    sl_buf_release(&b);
    return OUTPUT_OK;
}

const struct agent_output_ops output_file = {
    .name = "file",
    .sample = "[[outputs.file]]\n"
              "  ## Files to write to, \"stdout\" is a specially handled file.\n"
              "  files = [\"stdout\"]\n"
              "  ## Data format to output: influx or json\n"
              "  data_format = \"influx\"\n",
    .init = file_init,
    .write = file_write,
    .free = file_free,
};
