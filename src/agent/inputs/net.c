/*
 * net.c — the net input (Telegraf's net.go): one metric per interface from
 * /proc/net/dev, plus, unless ignore_protocol_stats, one metric tagged
 * interface=all with the counters of /proc/net/snmp as `<proto>_<stat>`.
 * With no `interfaces` option, loopback and down interfaces are skipped
 * (flags from /sys/class/net/<if>/flags); with it, exactly the interfaces
 * matching its globs are reported.
 */
#include <stdio.h>
#include <string.h>

#include "agent/conf.h"
#include "agent/filter.h"
#include "agent/inputs/inputs.h"
#include "agent/plugin.h"
#include "common/err.h"
#include "common/mem.h"

#define IFF_UP_FLAG       0x1
#define IFF_LOOPBACK_FLAG 0x8

struct net_input {
    char *proc_root; /* first, for input_root_set */
    struct glob_list interfaces;
    int ignore_protocol_stats;
};

static void net_free(void *state)
{
    struct net_input *s = state;
    sl_free(s->proc_root);
    glob_list_release(&s->interfaces);
    sl_free(s);
}

static int net_init(struct plugin_conf *c, void **state)
{
    struct net_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    int rc = SL_ENOMEM;
    if (!(s->proc_root = sl_strdup(agent_host_path("proc")))) goto fail;
    if ((rc = conf_strlist(c, "interfaces", &s->interfaces)) < 0) goto fail;
    if ((rc = conf_bool(c, "ignore_protocol_stats", &s->ignore_protocol_stats)) < 0) goto fail;
    *state = s;
    return 0;
fail:
    net_free(s);
    return rc;
}

static int net_protocol_stats(struct net_input *s, struct agent_acc *acc)
{
    char path[4096], *text = NULL;
    snprintf(path, sizeof(path), "%s/net/snmp", s->proc_root);
    int rc = procfs_slurp(path, 1 << 20, &text);
    if (rc < 0) {
        acc_error(acc, "reading %s: %s", path, sl_strerror(rc));
        return 0;
    }
    struct proto_stat *ps = NULL;
    size_t n = 0;
    rc = procfs_parse_snmp(text, &ps, &n);
    sl_free(text);
    if (rc < 0 || n == 0) {
        sl_free(ps);
        return rc;
    }
    struct metric *m = acc_new_metric(acc, "net");
    if (!m) {
        sl_free(ps);
        return SL_ENOMEM;
    }
    rc = metric_add_tag(m, "interface", "all");
    /* key order, as Telegraf prints them */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(ps[j - 1].name, ps[j].name) > 0; j--) {
            struct proto_stat t = ps[j];
            ps[j] = ps[j - 1];
            ps[j - 1] = t;
        }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = metric_add_int(m, ps[i].name, ps[i].val);
    sl_free(ps);
    if (rc < 0) {
        metric_free(m);
        return rc;
    }
    return acc_add(acc, m);
}

static int net_gather(void *state, struct agent_acc *acc)
{
    struct net_input *s = state;
    struct netdev *d = NULL;
    size_t n = 0;
    int rc = procfs_read_netdev(s->proc_root, &d, &n);
    if (rc < 0) {
        acc_error(acc, "reading %s/net/dev: %s", s->proc_root, sl_strerror(rc));
        return rc;
    }
    const char *sys = agent_host_path("sys");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (s->interfaces.n) {
            if (!glob_list_match(&s->interfaces, d[i].name)) continue;
        } else {
            long flags = sysfs_net_flags(sys, d[i].name);
            if (flags < 0) continue; /* gone, or not a real interface */
            if (flags & IFF_LOOPBACK_FLAG) continue;
            if (!(flags & IFF_UP_FLAG)) continue;
        }
        struct metric *m = acc_new_metric(acc, "net");
        if (!m) {
            rc = SL_ENOMEM;
            break;
        }
        rc = metric_add_tag(m, "interface", d[i].name);
        struct {
            const char *k;
            uint64_t v;
        } f[] = {
            {"bytes_recv", d[i].bytes_recv},
            {"bytes_sent", d[i].bytes_sent},
            {"drop_in", d[i].drop_in},
            {"drop_out", d[i].drop_out},
            {"err_in", d[i].err_in},
            {"err_out", d[i].err_out},
            {"packets_recv", d[i].packets_recv},
            {"packets_sent", d[i].packets_sent},
        };
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]) && rc == 0; k++)
            rc = metric_add_int(m, f[k].k, f[k].v > INT64_MAX ? INT64_MAX : (int64_t)f[k].v);
        if (rc < 0) {
            metric_free(m);
            break;
        }
        rc = acc_add(acc, m);
    }
    sl_free(d);
    if (rc == 0 && !s->ignore_protocol_stats) rc = net_protocol_stats(s, acc);
    return rc;
}

const struct agent_input_ops input_net = {
    .name = "net",
    .sample =
        "[[inputs.net]]\n"
        "  ## By default, telegraf gathers stats from any up interface (excluding loopback)\n"
        "  ## Setting interfaces will tell it to gather these explicit interfaces,\n"
        "  ## regardless of status. Globs are accepted.\n"
        "  # interfaces = [\"eth0\"]\n"
        "  ## On linux systems telegraf also collects protocol stats.\n"
        "  ## Setting ignore_protocol_stats to true will skip reporting of protocol metrics.\n"
        "  # ignore_protocol_stats = false\n",
    .init = net_init,
    .gather = net_gather,
    .free = net_free,
};
