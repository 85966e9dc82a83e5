/*
 * config.c — telegraf.conf → agent (see config.h).
 *
 * The walk: the root table may hold [agent], [global_tags], and the four
 * plugin sections; each plugin section maps a plugin name to an array of
 * tables ([[inputs.cpu]]) or to one table ([inputs.cpu], which Telegraf also
 * accepts). For each instance the options every plugin shares are read
 * first (plugin_common), then the plugin's own init reads the rest; any key
 * nobody read is an "unknown option" error.
 */
#include "agent/config.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "common/err.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/mem.h"
#include "toml/toml.h"

#define CONFIG_MAX_BYTES (16 << 20)

/* [agent] keys Telegraf has that we accept and ignore (documented in
 * docs/agent.md). */
static const char *const agent_ignored[] = {
    "logtarget",
    "log_with_timezone",
    "logfile_rotation_interval",
    "logfile_rotation_max_size",
    "logfile_rotation_max_archives",
    "snmp_translator",
    "statefile",
    "always_include_local_tags",
    "always_include_global_tags",
    "skip_processors_after_aggregators",
    "log_level",
    "logformat",
    "structured_log_message_key",
    "utc",
    "precision_rounding",
    NULL,
};

static int set_err(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int set_err(char *err, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cap) vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

static int conf_err(struct plugin_conf *c, char *err, size_t cap, int rc)
{
    const char *m = conf_error(c);
    if (m && *m) return set_err(err, cap, rc, "%s", m);
    return set_err(err, cap, rc, "%s: %s", conf_name(c), sl_strerror(rc));
}

static int check_unused(struct plugin_conf *c, char *err, size_t cap)
{
    const char *k = conf_first_unused(c);
    if (!k) return 0;
    conf_fail(c, k, "unknown option (not supported by this plugin)");
    return conf_err(c, err, cap, SL_EINVAL);
}

static int apply_agent(struct agent *a, struct plugin_conf *c, char *err, size_t cap)
{
    struct agent_options *o = &a->opt;
    int rc;
    int64_t prec = -1;
    if ((rc = conf_duration(c, "interval", &o->interval)) < 0 ||
        (rc = conf_bool(c, "round_interval", &o->round_interval)) < 0 ||
        (rc = conf_int(c, "metric_batch_size", &o->metric_batch_size)) < 0 ||
        (rc = conf_int(c, "metric_buffer_limit", &o->metric_buffer_limit)) < 0 ||
        (rc = conf_duration(c, "collection_jitter", &o->collection_jitter)) < 0 ||
        (rc = conf_duration(c, "collection_offset", &o->collection_offset)) < 0 ||
        (rc = conf_duration(c, "flush_interval", &o->flush_interval)) < 0 ||
        (rc = conf_duration(c, "flush_jitter", &o->flush_jitter)) < 0 ||
        (rc = conf_duration(c, "precision", &prec)) < 0 ||
        (rc = conf_str(c, "hostname", &o->hostname)) < 0 ||
        (rc = conf_bool(c, "omit_hostname", &o->omit_hostname)) < 0 ||
        (rc = conf_bool(c, "debug", &o->debug)) < 0 ||
        (rc = conf_bool(c, "quiet", &o->quiet)) < 0 ||
        (rc = conf_str(c, "logfile", &o->logfile)) < 0)
        return conf_err(c, err, cap, rc);
    if (prec >= 0) o->precision = prec;
    char *strategy = NULL;
    if ((rc = conf_str(c, "buffer_strategy", &strategy)) < 0 ||
        (rc = conf_str(c, "buffer_directory", &a->buffer_directory)) < 0 ||
        (rc = conf_size(c, "buffer_disk_max_size", &a->buffer_disk_max_size)) < 0) {
        sl_free(strategy);
        return conf_err(c, err, cap, rc);
    }
    if (strategy) {
        if (!strcmp(strategy, "disk")) {
            a->buffer_disk = 1;
        } else if (!strcmp(strategy, "memory")) {
            a->buffer_disk = 0;
        } else {
            sl_free(strategy);
            conf_fail(c, "buffer_strategy", "expected \"memory\" or \"disk\"");
            return conf_err(c, err, cap, SL_EINVAL);
        }
        sl_free(strategy);
    }
    if (o->interval <= 0) {
        conf_fail(c, "interval", "must be positive");
        return conf_err(c, err, cap, SL_EINVAL);
    }
    for (size_t i = 0; agent_ignored[i]; i++)
        if (conf_has(c, agent_ignored[i])) conf_mark(c, agent_ignored[i]);
    return check_unused(c, err, cap);
}

static int apply_global_tags(struct agent *a, const struct toml_table *t, const char *fname,
                             char *err, size_t cap)
{
    for (size_t i = 0; i < toml_table_len(t); i++) {
        const char *k = toml_table_key_at(t, i, NULL);
        const struct toml_value *v = toml_table_value_at(t, i);
        const char *s;
        if (toml_get_string(v, &s, NULL) < 0)
            return set_err(err, cap, SL_EINVAL, "%s:%d: global_tags: tag '%s' must be a string",
                           fname, toml_line(v), k);
        if (metric_add_tag(a->global_tags, k, s) < 0) return SL_ENOMEM;
    }
    return 0;
}

/* A table of tag → glob or [globs] into tagpass/tagdrop. */
static int read_tag_filter(struct plugin_conf *c, const char *key, struct metric_filter *f,
                           int drop)
{
    struct plugin_conf *t = conf_table(c, key);
    if (!t) {
        if (conf_has(c, key)) return conf_fail(c, key, "expected a table of tag = [globs]");
        return 0;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && conf_key_at(t, i); i++) {
        const char *k = conf_key_at(t, i);
        struct glob_list gl = {0};
        rc = conf_strlist(t, k, &gl);
        for (size_t j = 0; rc == 0 && j < gl.n; j++)
            rc = metric_filter_add_tag(f, drop, k, gl.v[j]);
        glob_list_release(&gl);
        if (rc == SL_EINVAL) conf_fail(c, key, "%s", conf_error(t));
    }
    conf_free(t);
    return rc;
}

enum plugin_kind { KIND_INPUT, KIND_PROCESSOR, KIND_AGGREGATOR, KIND_OUTPUT };

static int read_common(struct plugin_conf *c, enum plugin_kind kind, struct plugin_common *pc)
{
    int rc;
    struct metric_filter *f = &pc->filter;
    if ((rc = conf_str(c, "alias", &pc->alias)) < 0 ||
        (rc = conf_strlist(c, "namepass", &f->namepass)) < 0 ||
        (rc = conf_strlist(c, "namedrop", &f->namedrop)) < 0 ||
        (rc = conf_strlist(c, "fieldpass", &f->fieldinclude)) < 0 ||
        (rc = conf_strlist(c, "fieldinclude", &f->fieldinclude)) < 0 ||
        (rc = conf_strlist(c, "fielddrop", &f->fieldexclude)) < 0 ||
        (rc = conf_strlist(c, "fieldexclude", &f->fieldexclude)) < 0 ||
        (rc = conf_strlist(c, "taginclude", &f->taginclude)) < 0 ||
        (rc = conf_strlist(c, "tagexclude", &f->tagexclude)) < 0 ||
        (rc = read_tag_filter(c, "tagpass", f, 0)) < 0 ||
        (rc = read_tag_filter(c, "tagdrop", f, 1)) < 0)
        return rc;
    if (conf_has(c, "metricpass"))
        return conf_fail(c, "metricpass", "CEL metric filters are not supported");
    if (conf_has(c, "log_level")) conf_mark(c, "log_level");
    if (conf_has(c, "startup_error_behavior")) conf_mark(c, "startup_error_behavior");
    if (kind == KIND_INPUT || kind == KIND_AGGREGATOR) {
        if ((rc = conf_str(c, "name_override", &pc->name_override)) < 0 ||
            (rc = conf_str(c, "name_prefix", &pc->name_prefix)) < 0 ||
            (rc = conf_str(c, "name_suffix", &pc->name_suffix)) < 0)
            return rc;
        struct plugin_conf *t = conf_table(c, "tags");
        if (t) {
            for (size_t i = 0; rc == 0 && conf_key_at(t, i); i++) {
                const char *k = conf_key_at(t, i);
                char *v = NULL;
                rc = conf_str(t, k, &v);
                if (rc == 0) rc = metric_add_tag(pc->tags, k, v);
                sl_free(v);
            }
            if (rc == SL_EINVAL) conf_fail(c, "tags", "%s", conf_error(t));
            conf_free(t);
            if (rc < 0) return rc;
        } else if (conf_has(c, "tags")) {
            return conf_fail(c, "tags", "expected a table of tag = \"value\"");
        }
    }
    if (kind == KIND_INPUT) {
        if ((rc = conf_duration(c, "interval", &pc->interval)) < 0 ||
            (rc = conf_duration(c, "precision", &pc->precision)) < 0 ||
            (rc = conf_duration(c, "collection_jitter", &pc->collection_jitter)) < 0 ||
            (rc = conf_duration(c, "collection_offset", &pc->collection_offset)) < 0)
            return rc;
    }
    if (kind == KIND_PROCESSOR && (rc = conf_int(c, "order", &pc->order)) < 0) return rc;
    if (kind == KIND_AGGREGATOR) {
        if ((rc = conf_duration(c, "period", &pc->period)) < 0 ||
            (rc = conf_duration(c, "delay", &pc->delay)) < 0 ||
            (rc = conf_duration(c, "grace", &pc->grace)) < 0 ||
            (rc = conf_bool(c, "drop_original", &pc->drop_original)) < 0)
            return rc;
        if (conf_has(c, "period") && pc->period <= 0)
            return conf_fail(c, "period", "must be positive");
    }
    if (kind == KIND_OUTPUT) {
        if ((rc = conf_duration(c, "flush_interval", &pc->flush_interval)) < 0 ||
            (rc = conf_duration(c, "flush_jitter", &pc->flush_jitter)) < 0 ||
            (rc = conf_int(c, "metric_batch_size", &pc->metric_batch_size)) < 0 ||
            (rc = conf_int(c, "metric_buffer_limit", &pc->metric_buffer_limit)) < 0)
            return rc;
    }
    return 0;
}

/* 1 when name is in the colon-separated filter list (or there is no filter). */
static int filter_allows(const char *list, const char *name)
{
    if (!list || !*list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ":,");
        if (k == n && !strncmp(p, name, n)) return 1;
        p += k;
        if (*p) p++;
    }
    return 0;
}

static const char *kind_section[] = {"inputs", "processors", "aggregators", "outputs"};

static int add_instance(struct agent *a, enum plugin_kind kind, const char *pname,
                        const struct toml_table *t, const char *fname, char *err, size_t cap)
{
    char label[320];
    snprintf(label, sizeof(label), "%s.%s", kind_section[kind], pname);
    struct plugin_conf *c = conf_wrap(t, label, fname);
    if (!c) return SL_ENOMEM;
    int rc = 0;
    struct plugin_common *pc = NULL;
    int (*init)(struct plugin_conf *, void **) = NULL;
    void **state = NULL;
    switch (kind) {
    case KIND_INPUT: {
        const struct agent_input_ops *ops = agent_input_find(pname);
        struct agent_input *in = ops ? agent_add_input(a, ops) : NULL;
        if (!in) goto nomem;
        pc = &in->c;
        init = ops->init;
        state = &in->state;
        break;
    }
    case KIND_PROCESSOR: {
        const struct agent_processor_ops *ops = agent_processor_find(pname);
        struct agent_processor *p = ops ? agent_add_processor(a, ops) : NULL;
        if (!p) goto nomem;
        pc = &p->c;
        init = ops->init;
        state = &p->state;
        break;
    }
    case KIND_OUTPUT: {
        const struct agent_output_ops *ops = agent_output_find(pname);
        struct agent_output *o = ops ? agent_add_output(a, ops) : NULL;
        if (!o) goto nomem;
        pc = &o->c;
        init = ops->init;
        state = &o->state;
        break;
    }
    case KIND_AGGREGATOR: {
        const struct agent_aggregator_ops *ops = agent_aggregator_find(pname);
        struct agent_aggregator *g = ops ? agent_add_aggregator(a, ops) : NULL;
        if (!g) goto nomem;
        pc = &g->c;
        init = ops->init;
        state = &g->state;
        break;
    }
    }
    if (rc < 0) goto out;
    if ((rc = read_common(c, kind, pc)) < 0) {
        conf_err(c, err, cap, rc);
        goto out;
    }
    if ((rc = init(c, state)) < 0) {
        *state = NULL;
        conf_err(c, err, cap, rc);
        goto out;
    }
    rc = check_unused(c, err, cap);
out:
    conf_free(c);
    return rc;
nomem:
    conf_free(c);
    return set_err(err, cap, SL_ENOMEM, "%s: out of memory", label);
}

static int plugin_known(enum plugin_kind kind, const char *name)
{
    switch (kind) {
    case KIND_INPUT: return agent_input_find(name) != NULL;
    case KIND_PROCESSOR: return agent_processor_find(name) != NULL;
    case KIND_AGGREGATOR: return agent_aggregator_find(name) != NULL;
    case KIND_OUTPUT: return agent_output_find(name) != NULL;
    }
    return 0;
}

static int apply_section(struct agent *a, enum plugin_kind kind, const struct toml_value *sv,
                         const char *fname, const struct agent_load_opts *o, char *err, size_t cap)
{
    const struct toml_table *sec = toml_as_table(sv);
    if (!sec)
        return set_err(err, cap, SL_EINVAL, "%s:%d: '%s' must be a table", fname, toml_line(sv),
                       kind_section[kind]);
    for (size_t i = 0; i < toml_table_len(sec); i++) {
        const char *pname = toml_table_key_at(sec, i, NULL);
        const struct toml_value *v = toml_table_value_at(sec, i);
        if (!plugin_known(kind, pname))
            return set_err(err, cap, SL_EINVAL,
                           "%s:%d: unknown %s plugin '%s' ([[%s.%s]]): not supported by sluice "
                           "agent (see docs/agent.md for the supported plugins)",
                           fname, toml_line(v), kind_section[kind], pname, kind_section[kind],
                           pname);
        if (kind == KIND_INPUT && !filter_allows(o ? o->input_filter : NULL, pname)) continue;
        if (kind == KIND_OUTPUT && !filter_allows(o ? o->output_filter : NULL, pname)) continue;
        const struct toml_table *one = toml_as_table(v);
        const struct toml_array *arr = toml_as_array(v);
        int rc;
        if (one) {
            if ((rc = add_instance(a, kind, pname, one, fname, err, cap)) < 0) return rc;
        } else if (arr) {
            for (size_t k = 0; k < toml_array_len(arr); k++) {
                const struct toml_table *t = toml_as_table(toml_array_at(arr, k));
                if (!t)
                    return set_err(err, cap, SL_EINVAL, "%s:%d: %s.%s must be [[%s.%s]] tables",
                                   fname, toml_line(v), kind_section[kind], pname,
                                   kind_section[kind], pname);
                if ((rc = add_instance(a, kind, pname, t, fname, err, cap)) < 0) return rc;
            }
        } else {
            return set_err(err, cap, SL_EINVAL, "%s:%d: %s.%s must be a table", fname, toml_line(v),
                           kind_section[kind], pname);
        }
    }
    return 0;
}

int agent_config_apply_text(struct agent *a, const char *text, size_t len, const char *fname,
                            const struct agent_load_opts *o, char *err, size_t errcap)
{
    struct sl_buf sub;
    struct toml_value *root = NULL;
    char emsg[256] = "";
    int rc;
    sl_buf_init(&sub, CONFIG_MAX_BYTES * 2);
    if ((rc = toml_envsubst(text, len, &sub, emsg, sizeof(emsg))) < 0) {
        set_err(err, errcap, rc, "%s: %s", fname, *emsg ? emsg : sl_strerror(rc));
        goto out;
    }
    struct toml_error te = {0};
    if ((rc = toml_parse(sub.ptr ? sub.ptr : "", sub.len, &root, &te)) < 0) {
        set_err(err, errcap, rc, "%s:%d:%d: %s", fname, te.line, te.column, te.msg);
        goto out;
    }
    const struct toml_table *t = toml_as_table(root);
    for (size_t i = 0; i < toml_table_len(t); i++) {
        const char *k = toml_table_key_at(t, i, NULL);
        const struct toml_value *v = toml_table_value_at(t, i);
        if (!strcmp(k, "agent")) {
            const struct toml_table *at = toml_as_table(v);
            struct plugin_conf *c = at ? conf_wrap(at, "agent", fname) : NULL;
            if (!at) {
                rc = set_err(err, errcap, SL_EINVAL, "%s:%d: [agent] must be a table", fname,
                             toml_line(v));
                goto out;
            }
            if (!c) {
                rc = SL_ENOMEM;
                goto out;
            }
            rc = apply_agent(a, c, err, errcap);
            conf_free(c);
        } else if (!strcmp(k, "global_tags")) {
            const struct toml_table *gt = toml_as_table(v);
            rc = gt ? apply_global_tags(a, gt, fname, err, errcap)
                    : set_err(err, errcap, SL_EINVAL, "%s:%d: [global_tags] must be a table", fname,
                              toml_line(v));
        } else {
            enum plugin_kind kind;
            if (!strcmp(k, "inputs"))
                kind = KIND_INPUT;
            else if (!strcmp(k, "processors"))
                kind = KIND_PROCESSOR;
            else if (!strcmp(k, "aggregators"))
                kind = KIND_AGGREGATOR;
            else if (!strcmp(k, "outputs"))
                kind = KIND_OUTPUT;
            else {
                rc = set_err(err, errcap, SL_EINVAL, "%s:%d: unknown top-level section '%s'", fname,
                             toml_line(v), k);
                goto out;
            }
            rc = apply_section(a, kind, v, fname, o, err, errcap);
        }
        if (rc < 0) goto out;
    }
out:
    toml_free(root);
    sl_buf_release(&sub);
    return rc;
}

static int apply_file(struct agent *a, const char *path, const struct agent_load_opts *o, char *err,
                      size_t errcap)
{
    char *text = NULL;
    size_t len = 0;
    int rc = sl_file_read_all(path, CONFIG_MAX_BYTES, &text, &len);
    if (rc < 0) return set_err(err, errcap, rc, "%s: cannot read: %s", path, sl_strerror(rc));
    rc = agent_config_apply_text(a, text, len, path, o, err, errcap);
    sl_free(text);
    return rc;
}

static int name_cmp(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

int agent_config_load(struct agent *a, const struct agent_load_opts *o, char *err, size_t errcap)
{
    int rc = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        if ((rc = apply_file(a, o->files[i], o, err, errcap)) < 0) return rc;
    if (o->dir) {
        DIR *d = opendir(o->dir);
        if (!d)
            return set_err(err, errcap, SL_ENOENT, "%s: cannot open configuration directory",
                           o->dir);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
            size_t l = strlen(de->d_name);
            if (l < 6 || strcmp(de->d_name + l - 5, ".conf") || de->d_name[0] == '.') continue;
            char **nn = sl_realloc(names, (n + 1) * sizeof(*nn));
            char *s = nn ? sl_strdup(de->d_name) : NULL;
            if (nn) names = nn;
            if (!s) {
                rc = SL_ENOMEM;
                break;
            }
            names[n++] = s;
        }
        closedir(d);
        if (rc == 0 && n > 1) qsort(names, n, sizeof(*names), name_cmp);
        for (size_t i = 0; i < n; i++) {
            if (rc == 0) {
                size_t pl = strlen(o->dir) + strlen(names[i]) + 2;
                char *p = sl_malloc(pl);
                if (!p) {
                    rc = SL_ENOMEM;
                } else {
                    snprintf(p, pl, "%s/%s", o->dir, names[i]);
                    rc = apply_file(a, p, o, err, errcap);
                    sl_free(p);
                }
            }
            sl_free(names[i]);
        }
        sl_free(names);
        if (rc < 0) return rc;
    }
    if ((rc = agent_prepare(a)) < 0) return set_err(err, errcap, rc, "%s", sl_strerror(rc));
    return 0;
}
