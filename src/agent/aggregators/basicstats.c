/*
 * basicstats.c — aggregators.basicstats: per series (measurement + tags)
 * and numeric field, statistics over each period, as Telegraf computes them.
 *
 *   [[aggregators.basicstats]]
 *     period = "30s"
 *     drop_original = false
 *     stats = ["count", "min", "max", "mean", "stdev"]   # default:
 *                              # count, min, max, mean, s2, stdev
 *
 * Fields are named <field>_<stat>; all are floats except interval (integer
 * ns). Numeric fields are floats, integers and unsigned; others are ignored.
 * Running values (Welford's algorithm for mean and variance):
 *   count, min, max, sum, mean; s2 = M2/(count−1), stdev = √s2;
 *   diff = last − previous value, rate = diff / seconds between them,
 *   interval = ns between the last two metrics, percent_change =
 *   diff / previous · 100, non_negative_diff/rate only when diff ≥ 0;
 *   first / last values.
 * s2, stdev, diff, rate, interval, percent_change and the non_negative
 * forms need at least two values in the period (Telegraf's rule), so a
 * series seen once reports only count, min, max, mean, sum, first, last.
 * Output metrics keep the series' name and tags; the period state resets
 * after each push.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/processors/processors.h"
#include "agent/aggregators/aggregators.h"
#include "common/err.h"
#include "common/hash.h"
#include "common/mem.h"

enum stat {
    ST_COUNT,
    ST_MIN,
    ST_MAX,
    ST_MEAN,
    ST_S2,
    ST_STDEV,
    ST_SUM,
    ST_DIFF,
    ST_NON_NEGATIVE_DIFF,
    ST_RATE,
    ST_NON_NEGATIVE_RATE,
    ST_PERCENT_CHANGE,
    ST_INTERVAL,
    ST_LAST,
    ST_FIRST,
    ST_N
};
static const char *const stat_names[ST_N] = {"count",
                                             "min",
                                             "max",
                                             "mean",
                                             "s2",
                                             "stdev",
                                             "sum",
                                             "diff",
                                             "non_negative_diff",
                                             "rate",
                                             "non_negative_rate",
                                             "percent_change",
                                             "interval",
                                             "last",
                                             "first"};

#define MAX_SERIES 100000 /* per period; more are dropped (counted) */

struct fstat {
    char *key;
    double count, min, max, sum, mean, m2, diff, rate, last, first, previous;
    int64_t interval, time;
};

struct series {
    uint64_t hash;
    struct metric *proto; /* name + tags, no fields */
    struct fstat *f;
    size_t nf;
};

struct basicstats {
    unsigned char want[ST_N];
    struct series *s;
    size_t n, cap;
    size_t *index; /* open addressing: slot → series index + 1 */
    size_t index_cap;
    uint64_t overflow;
};

static void series_release(struct series *s)
{
    metric_free(s->proto);
    for (size_t i = 0; i < s->nf; i++)
        sl_free(s->f[i].key);
    sl_free(s->f);
}

static void bs_reset(void *state)
{
    struct basicstats *b = state;
    for (size_t i = 0; i < b->n; i++)
        series_release(&b->s[i]);
    b->n = 0;
    if (b->index) memset(b->index, 0, b->index_cap * sizeof(*b->index));
}

static void bs_free(void *state)
{
    struct basicstats *b = state;
    if (!b) return;
    bs_reset(b);
    sl_free(b->s);
    sl_free(b->index);
    sl_free(b);
}

static int bs_init(struct plugin_conf *c, void **state)
{
    struct basicstats *b = sl_calloc(1, sizeof(*b));
    if (!b) return SL_ENOMEM;
    struct glob_list stats = {0};
    int rc = conf_strlist(c, "stats", &stats);
    if (rc == 0 && !conf_has(c, "stats")) {
        static const enum stat def[] = {ST_COUNT, ST_MIN, ST_MAX, ST_MEAN, ST_S2, ST_STDEV};
        for (size_t i = 0; i < sizeof(def) / sizeof(def[0]); i++)
            b->want[def[i]] = 1;
    }
    for (size_t i = 0; rc == 0 && i < stats.n; i++) {
        size_t k;
        for (k = 0; k < ST_N; k++)
            if (!strcmp(stats.v[i], stat_names[k])) break;
        if (k == ST_N)
            rc = conf_fail(c, "stats", "unknown statistic \"%s\"", stats.v[i]);
        else
            b->want[k] = 1;
    }
    glob_list_release(&stats);
    if (rc < 0) {
        bs_free(b);
        return rc;
    }
    *state = b;
    return 0;
}

static uint64_t series_hash(const struct metric *m)
{
    uint64_t h = sl_hash64(m->name, strlen(m->name), 0x51ce);
    for (size_t i = 0; i < m->ntags; i++) {
        h = sl_hash64(m->tags[i].key, strlen(m->tags[i].key), h);
        h = sl_hash64(m->tags[i].val, strlen(m->tags[i].val), h ^ 0x3d);
    }
    return h;
}

static int same_series(const struct metric *a, const struct metric *b)
{
    if (strcmp(a->name, b->name) || a->ntags != b->ntags) return 0;
    for (size_t i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i].key, b->tags[i].key) || strcmp(a->tags[i].val, b->tags[i].val))
            return 0;
    return 1;
}

static int index_rebuild(struct basicstats *b, size_t cap)
{
    size_t *ni = sl_calloc(cap, sizeof(*ni));
    if (!ni) return SL_ENOMEM;
    for (size_t i = 0; i < b->n; i++) {
        size_t slot = b->s[i].hash & (cap - 1);
        while (ni[slot])
            slot = (slot + 1) & (cap - 1);
        ni[slot] = i + 1;
    }
    sl_free(b->index);
    b->index = ni;
    b->index_cap = cap;
    return 0;
}

static struct series *find_series(struct basicstats *b, const struct metric *m)
{
    uint64_t h = series_hash(m);
    if (b->index_cap) {
        for (size_t slot = h & (b->index_cap - 1); b->index[slot];
             slot = (slot + 1) & (b->index_cap - 1)) {
            struct series *s = &b->s[b->index[slot] - 1];
            if (s->hash == h && same_series(s->proto, m)) return s;
        }
    }
    if (b->n >= MAX_SERIES) {
        b->overflow++;
        return NULL;
    }
    if ((b->n + 1) * 2 > b->index_cap && index_rebuild(b, b->index_cap ? b->index_cap * 2 : 64) < 0)
        return NULL;
    struct series *ns = sl_grow(b->s, &b->cap, b->n + 1, sizeof(*ns));
    if (!ns) return NULL;
    b->s = ns;
    struct series *s = &b->s[b->n];
    memset(s, 0, sizeof(*s));
    s->hash = h;
    if (!(s->proto = metric_new(m->name, 0))) return NULL;
    for (size_t i = 0; i < m->ntags; i++)
        if (metric_add_tag(s->proto, m->tags[i].key, m->tags[i].val) < 0) {
            metric_free(s->proto);
            return NULL;
        }
    size_t slot = h & (b->index_cap - 1);
    while (b->index[slot])
        slot = (slot + 1) & (b->index_cap - 1);
    b->index[slot] = ++b->n;
    return s;
}

static int numeric(const struct metric_field *f, double *v)
{
    switch (f->type) {
    case LP_FLOAT: *v = f->v.f; return 1;
    case LP_INTEGER: *v = (double)f->v.i; return 1;
    case LP_UNSIGNED: *v = (double)f->v.u; return 1;
    default: return 0;
    }
}

static void bs_add(void *state, const struct metric *m)
{
    struct basicstats *b = state;
    struct series *s = find_series(b, m);
    if (!s) return;
    for (size_t i = 0; i < m->nfields; i++) {
        double v;
        if (!numeric(&m->fields[i], &v)) continue;
        struct fstat *f = NULL;
        for (size_t k = 0; k < s->nf; k++)
            if (!strcmp(s->f[k].key, m->fields[i].key)) f = &s->f[k];
        if (!f) {
            struct fstat *nf = sl_realloc(s->f, (s->nf + 1) * sizeof(*nf));
            if (!nf) return;
            s->f = nf;
            f = &s->f[s->nf];
            memset(f, 0, sizeof(*f));
            if (!(f->key = sl_strdup(m->fields[i].key))) return;
            s->nf++;
            f->count = 1;
            f->min = f->max = f->sum = f->mean = f->last = f->first = f->previous = v;
            f->time = m->time;
            continue;
        }
        f->count++;
        if (v < f->min) f->min = v;
        if (v > f->max) f->max = v;
        f->sum += v;
        double delta = v - f->mean;
        f->mean += delta / f->count;
        f->m2 += delta * (v - f->mean);
        f->diff = v - f->last;
        f->previous = f->last;
        f->interval = m->time - f->time;
        if (m->time != f->time) f->rate = f->diff / ((double)f->interval / 1e9);
        f->last = v;
        f->time = m->time;
    }
}

static void bs_push(void *state, struct agent_acc *acc)
{
    struct basicstats *b = state;
    char key[512];
    for (size_t i = 0; i < b->n; i++) {
        struct series *s = &b->s[i];
        struct metric *m = acc_new_metric(acc, s->proto->name);
        int rc = m ? 0 : SL_ENOMEM;
        for (size_t t = 0; rc == 0 && t < s->proto->ntags; t++)
            rc = metric_add_tag(m, s->proto->tags[t].key, s->proto->tags[t].val);
        for (size_t k = 0; rc == 0 && k < s->nf; k++) {
            const struct fstat *f = &s->f[k];
            for (int st = 0; rc == 0 && st < ST_N; st++) {
                if (!b->want[st]) continue;
                double v;
                int two = f->count > 1;
                switch (st) {
                case ST_COUNT: v = f->count; break;
                case ST_MIN: v = f->min; break;
                case ST_MAX: v = f->max; break;
                case ST_MEAN: v = f->mean; break;
                case ST_SUM: v = f->sum; break;
                case ST_LAST: v = f->last; break;
                case ST_FIRST: v = f->first; break;
                case ST_S2:
                    if (!two) continue;
                    v = f->m2 / (f->count - 1);
                    break;
                case ST_STDEV:
                    if (!two) continue;
                    v = sqrt(f->m2 / (f->count - 1));
                    break;
                case ST_DIFF:
                    if (!two) continue;
                    v = f->diff;
                    break;
                case ST_NON_NEGATIVE_DIFF:
                    if (!two || f->diff < 0) continue;
                    v = f->diff;
                    break;
                case ST_RATE:
                    if (!two) continue;
                    v = f->rate;
                    break;
                case ST_NON_NEGATIVE_RATE:
                    if (!two || f->diff < 0) continue;
                    v = f->rate;
                    break;
                case ST_PERCENT_CHANGE:
                    if (!two) continue;
                    v = f->diff / f->previous * 100;
                    break;
                case ST_INTERVAL:
                    if (!two) continue;
                    snprintf(key, sizeof(key), "%s_%s", f->key, stat_names[st]);
                    rc = metric_add_int(m, key, f->interval);
                    continue;
                default: continue;
                }
                snprintf(key, sizeof(key), "%s_%s", f->key, stat_names[st]);
                rc = metric_add_float(m, key, v);
            }
        }
        if (rc < 0 || !m || m->nfields == 0) {
            metric_free(m);
            continue;
        }
        acc_add(acc, m);
    }
    if (b->overflow) {
        acc_error(acc, "%llu metric(s) of new series dropped: more than %d series in a period",
                  (unsigned long long)b->overflow, MAX_SERIES);
        b->overflow = 0;
    }
}

const struct agent_aggregator_ops aggregator_basicstats = {
    .name = "basicstats",
    .sample = "[[aggregators.basicstats]]\n"
              "  ## Aggregation period; aggregates are pushed at its end.\n"
              "  period = \"30s\"\n"
              "  ## Drop the original metrics (only the aggregates go out).\n"
              "  drop_original = false\n"
              "  ## Statistics; default count, min, max, mean, s2, stdev. Also sum, diff,\n"
              "  ## non_negative_diff, rate, non_negative_rate, percent_change, interval,\n"
              "  ## first, last.\n"
              "  # stats = [\"count\", \"min\", \"max\", \"mean\", \"stdev\", \"s2\"]\n",
    .init = bs_init,
    .add = bs_add,
    .push = bs_push,
    .reset = bs_reset,
    .free = bs_free,
};
