/*
 * docker.c — the docker input (Telegraf's docker.go) over the Engine API on
 * its unix socket (endpoint "unix:///var/run/docker.sock", "tcp://h:p", or
 * "ENV" = $DOCKER_HOST). Per gather:
 *   GET /info            → `docker` (n_cpus, n_used_file_descriptors,
 *                          n_containers[_running|_stopped|_paused], n_images,
 *                          n_goroutines, n_listener_events: int) and a second
 *                          `docker` metric with memory_total (int); tags
 *                          engine_host, server_version.
 *   GET /containers/json?filters={"status":[...]}   (container_state_include,
 *                          default ["running"], minus _exclude)
 *   per container whose name passes container_name_include/_exclude (and
 *   the old container_names):
 *   GET /containers/<id>/stats?stream=false&one-shot=false
 *   GET /containers/<id>/json (inspect)
 *     → docker_container_status (oomkilled bool, pid int, exitcode int,
 *       container_id string, started_at/finished_at/uptime_ns int),
 *       docker_container_health (health_status string, failing_streak int),
 *       docker_container_mem (memory.stats keys, limit, max_usage, usage,
 *       fail_count: uint; usage_percent float; container_id),
 *       docker_container_cpu (cpu=cpu-total: usage_total, usage_in_usermode,
 *       usage_in_kernelmode, usage_system, throttling_*: uint; usage_percent
 *       float; per cpu=cpuN: usage_total),
 *       docker_container_net (network=<if> and/or network=total),
 *       docker_container_blkio (device=<maj:min> and/or device=total).
 *     Tags: engine_host, server_version, container_name, container_image,
 *     container_version (ParseImage of Telegraf), container_status, the
 *     container's labels passing docker_label_include/_exclude, tag_env
 *     variables (default JAVA_HOME, HEAP_SIZE), source (with source_tag).
 *   Stats metrics carry the stats' "read" time, as Telegraf.
 * perdevice/total (deprecated) map onto perdevice_include/total_include as
 * in Telegraf's Init. gather_services (Swarm) is not supported.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/inputs/services.h"
#include "common/err.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct docker_input {
    char *endpoint;
    char *socket;   /* unix socket path, or NULL for tcp */
    char *base_url; /* "http://localhost" or "http://host:port" */
    struct glob_list name_include, name_exclude, state_include, state_exclude;
    struct glob_list label_include, label_exclude, tag_env, perdevice_include, total_include;
    int source_tag;
    int64_t timeout;
};

static void docker_free(void *state)
{
    struct docker_input *s = state;
    if (!s) return;
    sl_free(s->endpoint);
    sl_free(s->socket);
    sl_free(s->base_url);
    struct glob_list *ls[] = {&s->name_include,  &s->name_exclude,      &s->state_include,
                              &s->state_exclude, &s->label_include,     &s->label_exclude,
                              &s->tag_env,       &s->perdevice_include, &s->total_include};
    for (size_t i = 0; i < sizeof(ls) / sizeof(ls[0]); i++)
        glob_list_release(ls[i]);
    sl_free(s);
}

static int has(const struct glob_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return 1;
    return 0;
}

static int docker_init(struct plugin_conf *c, void **state)
{
    struct docker_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->timeout = 5 * SL_NS_PER_S;
    int rc = SL_ENOMEM;
    int perdevice = 1, total = 0, gather_services = 0;
    int64_t dummy = 0;
    struct glob_list names = {0}, sobj = {0};
    if (!(s->endpoint = sl_strdup("unix:///var/run/docker.sock"))) goto fail;
    if ((rc = conf_str(c, "endpoint", &s->endpoint)) < 0) goto fail;
    if ((rc = conf_bool(c, "gather_services", &gather_services)) < 0) goto fail;
    if ((rc = conf_strlist(c, "container_names", &names)) < 0) goto fail;
    if ((rc = conf_bool(c, "source_tag", &s->source_tag)) < 0) goto fail;
    if ((rc = conf_strlist(c, "container_name_include", &s->name_include)) < 0) goto fail;
    if ((rc = conf_strlist(c, "container_name_exclude", &s->name_exclude)) < 0) goto fail;
    if ((rc = conf_strlist(c, "container_state_include", &s->state_include)) < 0) goto fail;
    if ((rc = conf_strlist(c, "container_state_exclude", &s->state_exclude)) < 0) goto fail;
    if ((rc = conf_duration(c, "timeout", &s->timeout)) < 0) goto fail;
    if ((rc = conf_bool(c, "perdevice", &perdevice)) < 0) goto fail;
    if ((rc = conf_bool(c, "total", &total)) < 0) goto fail;
    if ((rc = conf_strlist(c, "docker_label_include", &s->label_include)) < 0) goto fail;
    if ((rc = conf_strlist(c, "docker_label_exclude", &s->label_exclude)) < 0) goto fail;
    if ((rc = conf_strlist(c, "storage_objects", &sobj)) < 0) goto fail;
    if ((rc = conf_int(c, "source_tag_length", &dummy)) < 0) goto fail;
    int have_env = conf_has(c, "tag_env");
    if ((rc = conf_strlist(c, "tag_env", &s->tag_env)) < 0) goto fail;
    int have_pdi = conf_has(c, "perdevice_include"), have_ti = conf_has(c, "total_include");
    if ((rc = conf_strlist(c, "perdevice_include", &s->perdevice_include)) < 0) goto fail;
    if ((rc = conf_strlist(c, "total_include", &s->total_include)) < 0) goto fail;
    if (gather_services) {
        rc = conf_fail(c, "gather_services", "Swarm services are not supported");
        goto fail;
    }
    for (size_t i = 0; i < names.n; i++)
        if ((rc = glob_list_add(&s->name_include, names.v[i])) < 0) goto fail;
    if (!have_env && ((rc = glob_list_add(&s->tag_env, "JAVA_HOME")) < 0 ||
                      (rc = glob_list_add(&s->tag_env, "HEAP_SIZE")) < 0))
        goto fail;
    if (!have_pdi && (rc = glob_list_add(&s->perdevice_include, "cpu")) < 0) goto fail;
    if (!have_ti) {
        static const char *const t[] = {"cpu", "blkio", "network"};
        for (size_t i = 0; i < 3; i++)
            if ((rc = glob_list_add(&s->total_include, t[i])) < 0) goto fail;
    }
    /* Telegraf's Init: the deprecated perdevice/total settings */
    if (perdevice) {
        if (!has(&s->perdevice_include, "network") &&
            (rc = glob_list_add(&s->perdevice_include, "network")) < 0)
            goto fail;
        if (!has(&s->perdevice_include, "blkio") &&
            (rc = glob_list_add(&s->perdevice_include, "blkio")) < 0)
            goto fail;
    }
    if (!total) {
        int cpu = has(&s->total_include, "cpu");
        glob_list_release(&s->total_include);
        if (cpu && (rc = glob_list_add(&s->total_include, "cpu")) < 0) goto fail;
    }
    if (s->state_include.n == 0 && s->state_exclude.n == 0 &&
        (rc = glob_list_add(&s->state_include, "running")) < 0)
        goto fail;
    const char *ep = s->endpoint;
    if (!strcmp(ep, "ENV")) {
        ep = getenv("DOCKER_HOST");
        if (!ep || !*ep) ep = "unix:///var/run/docker.sock";
    }
    rc = SL_ENOMEM;
    if (!strncmp(ep, "unix://", 7)) {
        if (!(s->socket = sl_strdup(ep + 7))) goto fail;
        if (!(s->base_url = sl_strdup("http://localhost"))) goto fail;
    } else if (!strncmp(ep, "tcp://", 6) || !strncmp(ep, "http://", 7)) {
        const char *hp = strstr(ep, "://") + 3;
        size_t n = strlen(hp) + 16;
        if (!(s->base_url = sl_malloc(n))) goto fail;
        snprintf(s->base_url, n, "http://%s", hp);
        size_t bl = strlen(s->base_url);
        if (bl && s->base_url[bl - 1] == '/') s->base_url[bl - 1] = 0;
    } else {
        rc = conf_fail(c, "endpoint", "unsupported endpoint '%s'", ep);
        goto fail;
    }
    if (s->timeout <= 0) s->timeout = 5 * SL_NS_PER_S;
    glob_list_release(&names);
    glob_list_release(&sobj);
    *state = s;
    return 0;
fail:
    glob_list_release(&names);
    glob_list_release(&sobj);
    docker_free(s);
    return rc;
}

/* GET path → parsed JSON (caller json_decref) or NULL with an error added. */
static json_t *api_get(struct docker_input *s, const char *path, struct agent_acc *acc)
{
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", s->base_url, path);
    struct httpc_req req = {
        .url = url, .unix_socket = s->socket, .timeout_ns = s->timeout, .max_body = 64u << 20};
    struct httpc_resp resp;
    json_t *j = NULL;
    if (httpc_do(&req, &resp) < 0) {
        acc_error(acc, "docker API %s: %s", path, resp.error);
    } else if (resp.status != 200) {
        acc_error(acc, "docker API %s: HTTP status %ld", path, resp.status);
    } else {
        json_error_t je;
        j = json_loadb(resp.body.ptr ? resp.body.ptr : "", resp.body.len, 0, &je);
        if (!j) acc_error(acc, "docker API %s: bad JSON: %s", path, je.text);
    }
    httpc_resp_release(&resp);
    return j;
}

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) return (int64_t)json_integer_value(v);
    if (json_is_real(v)) return (int64_t)json_real_value(v);
    return 0;
}

/* Docker's uint64 counters: jansson holds integers as long long, so values
 * above INT64_MAX arrive as reals. */
static uint64_t juint(json_t *v)
{
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        return x < 0 ? (uint64_t)x : (uint64_t)x;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d <= 0 ? 0 : d >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)d;
    }
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Telegraf's ParseImage. */
void docker_parse_image(const char *image, char *name, size_t ncap, char *version, size_t vcap)
{
    const char *slash = strchr(image, '/');
    const char *rem = image;
    size_t dl = 0;
    if (slash) {
        size_t pl = (size_t)(slash - image);
        int domain = pl == 9 && !strncmp(image, "localhost", 9);
        for (size_t i = 0; i < pl; i++)
            if (image[i] == '.' || image[i] == ':') domain = 1;
        if (domain) {
            dl = pl;
            rem = slash + 1;
        }
    }
    const char *colon = strrchr(rem, ':');
    size_t rl = colon ? (size_t)(colon - rem) : strlen(rem);
    snprintf(version, vcap, "%s", colon ? colon + 1 : "unknown");
    if (dl)
        snprintf(name, ncap, "%.*s/%.*s", (int)dl, image, (int)rl, rem);
    else
        snprintf(name, ncap, "%.*s", (int)rl, rem);
}

static struct metric *tagged(const char *name, int64_t t, const struct metric *tags)
{
    struct metric *m = metric_new(name, t);
    if (!m) return NULL;
    for (size_t i = 0; i < tags->ntags; i++)
        if (metric_add_tag(m, tags->tags[i].key, tags->tags[i].val) < 0) {
            metric_free(m);
            return NULL;
        }
    return m;
}

static int emit(struct agent_acc *acc, struct metric *m, int rc)
{
    if (rc < 0 || m->nfields == 0) {
        metric_free(m);
        return rc < 0 ? rc : 0;
    }
    return acc_add(acc, m);
}

static int64_t parse_time(const char *s)
{
    int64_t ns = 0;
    if (!s || !*s || sl_time_parse_rfc3339(s, strlen(s), &ns) < 0) return 0;
    if (!strncmp(s, "0001-01-01", 10)) return 0; /* Go's zero time */
    return ns;
}

/* Accumulates "name" → sum over devices/networks, in first-seen order. */
struct totals {
    char keys[64][64];
    uint64_t vals[64];
    size_t n;
};

static void total_add(struct totals *t, const char *k, uint64_t v)
{
    for (size_t i = 0; i < t->n; i++)
        if (!strcmp(t->keys[i], k)) {
            t->vals[i] += v;
            return;
        }
    if (t->n < 64) {
        snprintf(t->keys[t->n], sizeof(t->keys[0]), "%s", k);
        t->vals[t->n++] = v;
    }
}

static int add_totals(struct agent_acc *acc, const struct totals *t, const char *name,
                      const char *tag, const char *id, int64_t tm, const struct metric *tags)
{
    if (t->n == 0) return 0;
    struct metric *m = tagged(name, tm, tags);
    if (!m) return SL_ENOMEM;
    int rc = metric_add_tag(m, tag, "total");
    for (size_t i = 0; i < t->n && rc == 0; i++)
        rc = metric_add_uint(m, t->keys[i], t->vals[i]);
    if (rc == 0) rc = metric_add_string(m, "container_id", id);
    return emit(acc, m, rc);
}

static int blkio(struct docker_input *s, json_t *st, const char *id, int64_t tm,
                 const struct metric *tags, struct agent_acc *acc)
{
    static const struct {
        const char *key, *prefix; /* prefix NULL: one field named by key's field */
        const char *single;
    } lists[] = {
        {"io_service_bytes_recursive", "io_service_bytes_recursive_", NULL},
        {"io_serviced_recursive", "io_serviced_recursive_", NULL},
        {"io_queue_recursive", "io_queue_recursive_", NULL},
        {"io_service_time_recursive", "io_service_time_recursive_", NULL},
        {"io_wait_time_recursive", "io_wait_time_", NULL},
        {"io_merged_recursive", "io_merged_recursive_", NULL},
        {"io_time_recursive", NULL, "io_time_recursive"},
        {"sectors_recursive", NULL, "sectors_recursive"},
    };
    int per = has(&s->perdevice_include, "blkio"), tot = has(&s->total_include, "blkio");
    json_t *b = json_object_get(st, "blkio_stats");
    if (!json_is_object(b) || (!per && !tot)) return 0;
    /* devices in first-seen order */
    char devs[32][32];
    struct metric *dm[32] = {0};
    size_t nd = 0;
    int rc = 0;
    struct totals t = {.n = 0};
    for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]) && rc == 0; l++) {
        json_t *arr = json_object_get(b, lists[l].key), *e;
        size_t i;
        if (!json_is_array(arr)) continue;
        json_array_foreach(arr, i, e)
        {
            char dev[32], field[128];
            snprintf(dev, sizeof(dev), "%lld:%lld", (long long)jint(e, "major"),
                     (long long)jint(e, "minor"));
            if (lists[l].prefix) {
                snprintf(field, sizeof(field), "%s%s", lists[l].prefix, jstr(e, "op"));
                for (char *p = field; *p; p++)
                    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
            } else {
                snprintf(field, sizeof(field), "%s", lists[l].single);
            }
            size_t d = 0;
            while (d < nd && strcmp(devs[d], dev) != 0)
                d++;
            if (d == nd) {
                if (nd == 32) continue;
                snprintf(devs[nd], sizeof(devs[0]), "%s", dev);
                if (!(dm[nd] = tagged("docker_container_blkio", tm, tags))) {
                    rc = SL_ENOMEM;
                    break;
                }
                rc = metric_add_tag(dm[nd], "device", dev);
                nd++;
            }
            uint64_t v = juint(json_object_get(e, "value"));
            if (rc == 0) rc = metric_add_uint(dm[d], field, v);
        }
    }
    for (size_t d = 0; d < nd; d++) {
        if (rc == 0) rc = metric_add_string(dm[d], "container_id", id);
        for (size_t f = 0; rc == 0 && tot && f < dm[d]->nfields; f++)
            if (dm[d]->fields[f].type == LP_UNSIGNED)
                total_add(&t, dm[d]->fields[f].key, dm[d]->fields[f].v.u);
        if (rc == 0 && per) {
            rc = emit(acc, dm[d], 0);
            dm[d] = NULL;
        }
        metric_free(dm[d]);
    }
    if (rc == 0 && tot) {
        /* Telegraf adds device=total whenever total is on, even without devices */
        struct metric *m = tagged("docker_container_blkio", tm, tags);
        if (!m) return SL_ENOMEM;
        rc = metric_add_tag(m, "device", "total");
        for (size_t i = 0; i < t.n && rc == 0; i++)
            rc = metric_add_uint(m, t.keys[i], t.vals[i]);
        if (rc == 0) rc = metric_add_string(m, "container_id", id);
        rc = emit(acc, m, rc);
    }
    return rc;
}

static int container_stats(struct docker_input *s, json_t *st, const char *id,
                           const struct metric *tags, struct agent_acc *acc)
{
    int64_t tm = parse_time(jstr(st, "read"));
    if (tm <= 0) tm = acc_now(acc);
    int rc;
    /* memory */
    json_t *mem = json_object_get(st, "memory_stats");
    json_t *ms = json_object_get(mem, "stats");
    struct metric *m = tagged("docker_container_mem", tm, tags);
    if (!m) return SL_ENOMEM;
    rc = metric_add_string(m, "container_id", id);
    static const char *const memstats[] = {"active_anon",
                                           "active_file",
                                           "cache",
                                           "hierarchical_memory_limit",
                                           "inactive_anon",
                                           "inactive_file",
                                           "mapped_file",
                                           "pgfault",
                                           "pgmajfault",
                                           "pgpgin",
                                           "pgpgout",
                                           "rss",
                                           "rss_huge",
                                           "total_active_anon",
                                           "total_active_file",
                                           "total_cache",
                                           "total_inactive_anon",
                                           "total_inactive_file",
                                           "total_mapped_file",
                                           "total_pgfault",
                                           "total_pgmajfault",
                                           "total_pgpgin",
                                           "total_pgpgout",
                                           "total_rss",
                                           "total_rss_huge",
                                           "total_unevictable",
                                           "total_writeback",
                                           "unevictable",
                                           "writeback"};
    for (size_t i = 0; i < sizeof(memstats) / sizeof(memstats[0]) && rc == 0; i++) {
        json_t *v = json_object_get(ms, memstats[i]);
        if (json_is_number(v)) rc = metric_add_uint(m, memstats[i], juint(v));
    }
    uint64_t failcnt = juint(json_object_get(mem, "failcnt"));
    uint64_t usage = juint(json_object_get(mem, "usage"));
    uint64_t limit = juint(json_object_get(mem, "limit"));
    if (rc == 0 && failcnt) rc = metric_add_uint(m, "fail_count", failcnt);
    if (rc == 0) rc = metric_add_uint(m, "limit", limit);
    if (rc == 0) rc = metric_add_uint(m, "max_usage", juint(json_object_get(mem, "max_usage")));
    /* CalculateMemUsageUnixNoCache */
    double used = (double)usage;
    json_t *tif = json_object_get(ms, "total_inactive_file");
    if (tif && juint(tif) < usage)
        used = (double)(usage - juint(tif));
    else if (!tif && juint(json_object_get(ms, "inactive_file")) < usage)
        used = (double)(usage - juint(json_object_get(ms, "inactive_file")));
    if (rc == 0) rc = metric_add_uint(m, "usage", (uint64_t)used);
    if (rc == 0)
        rc = metric_add_float(m, "usage_percent", limit > 0 ? used / (double)limit * 100.0 : 0);
    if ((rc = emit(acc, m, rc)) < 0) return rc;
    /* cpu */
    json_t *cpu = json_object_get(st, "cpu_stats"), *pre = json_object_get(st, "precpu_stats");
    json_t *cu = json_object_get(cpu, "cpu_usage"), *thr = json_object_get(cpu, "throttling_data");
    json_t *percpu = json_object_get(cu, "percpu_usage");
    uint64_t online = juint(json_object_get(cpu, "online_cpus"));
    if (has(&s->total_include, "cpu")) {
        if (!(m = tagged("docker_container_cpu", tm, tags))) return SL_ENOMEM;
        uint64_t total = juint(json_object_get(cu, "total_usage"));
        uint64_t sys = juint(json_object_get(cpu, "system_cpu_usage"));
        rc = metric_add_tag(m, "cpu", "cpu-total");
        if (rc == 0) rc = metric_add_uint(m, "usage_total", total);
        if (rc == 0)
            rc = metric_add_uint(m, "usage_in_usermode",
                                 juint(json_object_get(cu, "usage_in_usermode")));
        if (rc == 0)
            rc = metric_add_uint(m, "usage_in_kernelmode",
                                 juint(json_object_get(cu, "usage_in_kernelmode")));
        if (rc == 0) rc = metric_add_uint(m, "usage_system", sys);
        if (rc == 0)
            rc = metric_add_uint(m, "throttling_periods", juint(json_object_get(thr, "periods")));
        if (rc == 0)
            rc = metric_add_uint(m, "throttling_throttled_periods",
                                 juint(json_object_get(thr, "throttled_periods")));
        if (rc == 0)
            rc = metric_add_uint(m, "throttling_throttled_time",
                                 juint(json_object_get(thr, "throttled_time")));
        if (rc == 0) rc = metric_add_string(m, "container_id", id);
        /* CalculateCPUPercentUnix */
        double cpu_delta =
            (double)total -
            (double)juint(json_object_get(json_object_get(pre, "cpu_usage"), "total_usage"));
        double sys_delta = (double)sys - (double)juint(json_object_get(pre, "system_cpu_usage"));
        double ncpu = online ? (double)online : (double)json_array_size(percpu);
        double pct = sys_delta > 0 && cpu_delta > 0 ? cpu_delta / sys_delta * ncpu * 100.0 : 0;
        if (rc == 0) rc = metric_add_float(m, "usage_percent", pct);
        if ((rc = emit(acc, m, rc)) < 0) return rc;
    }
    if (has(&s->perdevice_include, "cpu") && json_array_size(percpu) > 0) {
        size_t n = json_array_size(percpu);
        if (online > 0 && online < n) n = (size_t)online;
        for (size_t i = 0; i < n; i++) {
            char cpuname[32];
            snprintf(cpuname, sizeof(cpuname), "cpu%zu", i);
            if (!(m = tagged("docker_container_cpu", tm, tags))) return SL_ENOMEM;
            rc = metric_add_tag(m, "cpu", cpuname);
            if (rc == 0) rc = metric_add_uint(m, "usage_total", juint(json_array_get(percpu, i)));
            if (rc == 0) rc = metric_add_string(m, "container_id", id);
            if ((rc = emit(acc, m, rc)) < 0) return rc;
        }
    }
    /* network */
    json_t *nets = json_object_get(st, "networks"), *nv;
    const char *ifname;
    struct totals t = {.n = 0};
    static const char *const netf[] = {"rx_dropped", "rx_bytes",   "rx_errors", "tx_packets",
                                       "tx_dropped", "rx_packets", "tx_errors", "tx_bytes"};
    json_object_foreach(nets, ifname, nv)
    {
        if (has(&s->perdevice_include, "network")) {
            if (!(m = tagged("docker_container_net", tm, tags))) return SL_ENOMEM;
            rc = metric_add_tag(m, "network", ifname);
            for (size_t i = 0; i < 8 && rc == 0; i++)
                rc = metric_add_uint(m, netf[i], juint(json_object_get(nv, netf[i])));
            if (rc == 0) rc = metric_add_string(m, "container_id", id);
            if ((rc = emit(acc, m, rc)) < 0) return rc;
        }
        if (has(&s->total_include, "network"))
            for (size_t i = 0; i < 8; i++)
                total_add(&t, netf[i], juint(json_object_get(nv, netf[i])));
    }
    if (has(&s->total_include, "network") &&
        (rc = add_totals(acc, &t, "docker_container_net", "network", id, tm, tags)) < 0)
        return rc;
    return blkio(s, st, id, tm, tags, acc);
}

static int name_ok(struct docker_input *s, const char *name)
{
    if (s->name_include.n && !glob_list_match(&s->name_include, name)) return 0;
    if (s->name_exclude.n && glob_list_match(&s->name_exclude, name)) return 0;
    return 1;
}

static int gather_container(struct docker_input *s, json_t *c, const char *host, const char *ver,
                            struct agent_acc *acc)
{
    const char *id = jstr(c, "Id");
    char cname[256] = "";
    json_t *names = json_object_get(c, "Names"), *nm;
    size_t i;
    json_array_foreach(names, i, nm)
    {
        const char *n = json_string_value(nm);
        if (!n) continue;
        if (*n == '/') n++;
        if (!strchr(n, '/')) {
            snprintf(cname, sizeof(cname), "%s", n);
            break;
        }
    }
    if (!*cname || !*id || strlen(id) > 128 || !name_ok(s, cname)) return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
            return 0; /* not an id we put in a URL */
    char img[512], iver[256];
    docker_parse_image(jstr(c, "Image"), img, sizeof(img), iver, sizeof(iver));
    struct metric *tags = metric_new("", 0);
    if (!tags) return SL_ENOMEM;
    int rc = metric_add_tag(tags, "engine_host", host);
    if (rc == 0) rc = metric_add_tag(tags, "server_version", ver);
    if (rc == 0) rc = metric_add_tag(tags, "container_name", cname);
    if (rc == 0) rc = metric_add_tag(tags, "container_image", img);
    if (rc == 0) rc = metric_add_tag(tags, "container_version", iver);
    if (rc == 0 && s->source_tag) {
        char src[13];
        snprintf(src, sizeof(src), "%s", id);
        rc = metric_add_tag(tags, "source", src);
    }
    json_t *labels = json_object_get(c, "Labels"), *lv;
    const char *lk;
    json_object_foreach(labels, lk, lv)
    {
        if (rc < 0) break;
        if (!json_is_string(lv) || !*lk) continue;
        if (s->label_include.n && !glob_list_match(&s->label_include, lk)) continue;
        if (s->label_exclude.n && glob_list_match(&s->label_exclude, lk)) continue;
        rc = metric_add_tag(tags, lk, json_string_value(lv));
    }
    char path[256];
    json_t *st = NULL, *info = NULL;
    if (rc < 0) goto out;
    snprintf(path, sizeof(path), "/containers/%s/stats?stream=false", id);
    if (!(st = api_get(s, path, acc))) goto out;
    snprintf(path, sizeof(path), "/containers/%s/json", id);
    if (!(info = api_get(s, path, acc))) goto out;
    /* tag_env */
    json_t *env = json_object_get(json_object_get(info, "Config"), "Env"), *ev;
    json_array_foreach(env, i, ev)
    {
        const char *e = json_string_value(ev);
        const char *eq = e ? strchr(e, '=') : NULL;
        if (!eq || rc < 0) continue;
        char k[256];
        snprintf(k, sizeof(k), "%.*s", (int)(eq - e), e);
        if (has(&s->tag_env, k)) rc = metric_add_tag(tags, k, eq + 1);
    }
    json_t *state = json_object_get(info, "State");
    if (rc == 0 && json_is_object(state)) {
        rc = metric_add_tag(tags, "container_status", jstr(state, "Status"));
        int64_t now = acc_now(acc);
        struct metric *m = tagged("docker_container_status", now, tags);
        if (!m) {
            rc = SL_ENOMEM;
            goto out;
        }
        if (rc == 0)
            rc = metric_add_bool(m, "oomkilled", json_is_true(json_object_get(state, "OOMKilled")));
        if (rc == 0) rc = metric_add_int(m, "pid", jint(state, "Pid"));
        if (rc == 0) rc = metric_add_int(m, "exitcode", jint(state, "ExitCode"));
        if (rc == 0) rc = metric_add_string(m, "container_id", id);
        int64_t fin = parse_time(jstr(state, "FinishedAt"));
        int64_t start = parse_time(jstr(state, "StartedAt"));
        if (rc == 0 && fin > 0) rc = metric_add_int(m, "finished_at", fin);
        if (fin <= 0) fin = sl_now_ns();
        if (rc == 0 && start > 0) {
            rc = metric_add_int(m, "started_at", start);
            int64_t up = fin >= start ? fin - start : sl_now_ns() - start;
            if (rc == 0) rc = metric_add_int(m, "uptime_ns", up);
        }
        if ((rc = emit(acc, m, rc)) < 0) goto out;
        json_t *health = json_object_get(state, "Health");
        if (json_is_object(health)) {
            if (!(m = tagged("docker_container_health", now, tags))) {
                rc = SL_ENOMEM;
                goto out;
            }
            rc = metric_add_string(m, "health_status", jstr(health, "Status"));
            if (rc == 0) rc = metric_add_int(m, "failing_streak", jint(health, "FailingStreak"));
            if ((rc = emit(acc, m, rc)) < 0) goto out;
        }
    }
    if (rc == 0) rc = container_stats(s, st, id, tags, acc);
out:
    if (st) json_decref(st);
    if (info) json_decref(info);
    metric_free(tags);
    return rc;
}

static int docker_gather(void *state, struct agent_acc *acc)
{
    struct docker_input *s = state;
    json_t *info = api_get(s, "/info", acc);
    if (!info) return 0;
    char host[256], ver[64];
    snprintf(host, sizeof(host), "%s", jstr(info, "Name"));
    snprintf(ver, sizeof(ver), "%s", jstr(info, "ServerVersion"));
    struct metric *m = acc_new_metric(acc, "docker");
    int rc = m ? 0 : SL_ENOMEM;
    if (rc == 0) rc = metric_add_tag(m, "engine_host", host);
    if (rc == 0) rc = metric_add_tag(m, "server_version", ver);
    static const struct {
        const char *field, *key;
    } f[] = {
        {"n_cpus", "NCPU"},
        {"n_used_file_descriptors", "NFd"},
        {"n_containers", "Containers"},
        {"n_containers_running", "ContainersRunning"},
        {"n_containers_stopped", "ContainersStopped"},
        {"n_containers_paused", "ContainersPaused"},
        {"n_images", "Images"},
        {"n_goroutines", "NGoroutines"},
        {"n_listener_events", "NEventsListener"},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]) && rc == 0; i++)
        rc = metric_add_int(m, f[i].field, jint(info, f[i].key));
    if (m && (rc = emit(acc, m, rc)) < 0) goto out;
    if (!(m = acc_new_metric(acc, "docker"))) {
        rc = SL_ENOMEM;
        goto out;
    }
    rc = metric_add_tag(m, "engine_host", host);
    if (rc == 0) rc = metric_add_tag(m, "server_version", ver);
    if (rc == 0) rc = metric_add_int(m, "memory_total", jint(info, "MemTotal"));
    if ((rc = emit(acc, m, rc)) < 0) goto out;
    /* container list, filtered by state on the server */
    static const char *const states[] = {"created", "restarting", "running", "removing",
                                         "paused",  "exited",     "dead"};
    char path[512] = "/containers/json?filters=";
    char filt[256] = "{\"status\":[";
    int any = 0;
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        if (s->state_include.n && !glob_list_match(&s->state_include, states[i])) continue;
        if (s->state_exclude.n && glob_list_match(&s->state_exclude, states[i])) continue;
        size_t l = strlen(filt);
        snprintf(filt + l, sizeof(filt) - l, "%s\"%s\"", any ? "," : "", states[i]);
        any = 1;
    }
    if (!any) goto out; /* every state excluded */
    strcat(filt, "]}");
    size_t pl = strlen(path);
    for (const char *p = filt; *p && pl + 4 < sizeof(path); p++) { /* percent-encode */
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            path[pl++] = *p;
        } else {
            snprintf(path + pl, sizeof(path) - pl, "%%%02X", (unsigned char)*p);
            pl += 3;
        }
    }
    path[pl] = 0;
    json_t *list = api_get(s, path, acc);
    if (!list) goto out;
    json_t *c;
    size_t i;
    json_array_foreach(list, i, c)
    {
        if ((rc = gather_container(s, c, host, ver, acc)) < 0) break;
    }
    json_decref(list);
out:
    json_decref(info);
    return rc < 0 ? rc : 0;
}

const struct agent_input_ops input_docker = {
    .name = "docker",
    .sample = "[[inputs.docker]]\n"
              "  ## Docker Endpoint: unix:///var/run/docker.sock, tcp://host:2375 or ENV\n"
              "  endpoint = \"unix:///var/run/docker.sock\"\n"
              "  # container_name_include = []\n"
              "  # container_name_exclude = []\n"
              "  # container_state_include = [\"running\"]\n"
              "  # perdevice_include = [\"cpu\"]\n"
              "  # total_include = [\"cpu\", \"blkio\", \"network\"]\n"
              "  # docker_label_include = []\n"
              "  # timeout = \"5s\"\n",
    .init = docker_init,
    .gather = docker_gather,
    .free = docker_free,
};
