/* test_agent_inputs_services.c — the pure parts of the service inputs: nginx
 * stub_status, Redis INFO (recorded from redis-server 7.0), the postgresql
 * server tag, URL splitting; hostile and truncated text included. The
 * plugins against real services are tested in tests/e2e/test_agent_input_*.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/metric.h"
#include "common/err.h"
#include "common/mem.h"
#include "toml/toml.h"

static const char nginx_ok[] = "Active connections: 291 \n"
                               "server accepts handled requests\n"
                               " 16630948 16630947 31070465 \n"
                               "Reading: 6 Writing: 179 Waiting: 106 \n";

static int64_t ifield(const struct metric *m, const char *k)
{
    const struct metric_field *f = metric_get_field(m, k);
    assert_non_null(f);
    assert_int_equal(f->type, LP_INTEGER);
    return f->v.i;
}

static double ffield(const struct metric *m, const char *k)
{
    const struct metric_field *f = metric_get_field(m, k);
    assert_non_null(f);
    assert_int_equal(f->type, LP_FLOAT);
    return f->v.f;
}

static void test_nginx_status(void **st)
{
    (void)st;
    struct metric *m = metric_new("nginx", 1);
    assert_int_equal(nginx_parse_status(nginx_ok, strlen(nginx_ok), m), 0);
    assert_int_equal(m->nfields, 7);
    assert_int_equal(ifield(m, "active"), 291);
    assert_int_equal(ifield(m, "accepts"), 16630948);
    assert_int_equal(ifield(m, "handled"), 16630947);
    assert_int_equal(ifield(m, "requests"), 31070465);
    assert_int_equal(ifield(m, "reading"), 6);
    assert_int_equal(ifield(m, "writing"), 179);
    assert_int_equal(ifield(m, "waiting"), 106);
    metric_free(m);
}

static void test_nginx_hostile(void **st)
{
    (void)st;
    const char *bad[] = {
        "",
        "<html>not found</html>",
        "Active connections: x\n",
        "Active connections: 1\nserver accepts handled requests\n 1 2\n",
        "Active connections: 99999999999999999999999\n",
        "Active connections: 1\nserver accepts handled requests\n 1 2 3\nReading: 1 Writing: 2",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct metric *m = metric_new("nginx", 1);
        assert_true(nginx_parse_status(bad[i], strlen(bad[i]), m) < 0);
        metric_free(m);
    }
    /* every truncation of a valid page fails cleanly or parses fully */
    for (size_t n = 0; n < sizeof(nginx_ok) - 1; n++) {
        char *cut = sl_malloc(n + 1);
        memcpy(cut, nginx_ok, n);
        struct metric *m = metric_new("nginx", 1);
        int rc = nginx_parse_status(cut, n, m);
        assert_true(rc == 0 || rc == SL_EINVAL);
        metric_free(m);
        sl_free(cut);
    }
}

static const char redis_info[] =
    "# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nuptime_in_seconds:12\r\n"
    "lru_clock:159012\r\n\r\n"
    "# Clients\r\nconnected_clients:1\r\nmaxclients:10000\r\n\r\n"
    "# Memory\r\nused_memory:965640\r\nused_memory_human:943.01K\r\n"
    "mem_fragmentation_ratio:13.24\r\nmem_allocator:jemalloc-5.3.0\r\n"
    "maxmemory_policy:noeviction\r\n\r\n"
    "# Persistence\r\nrdb_last_save_time:1795321124\r\n\r\n"
    "# Stats\r\nkeyspace_hits:1\r\nkeyspace_misses:3\r\ninstantaneous_input_kbps:0.05\r\n\r\n"
    "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n"
    "slave0:ip=10.0.0.2,port=6380,state=online,offset=42,lag=1\r\n"
    "master_replid:53ea2418d635558d8ea6c0a909ae8c1322370cd2\r\n\r\n"
    "# CPU\r\nused_cpu_sys:0.034739\r\nused_cpu_user:0.000000\r\n\r\n"
    "# Commandstats\r\n"
    "cmdstat_get:calls=2,usec=9,usec_per_call=4.50,rejected_calls=0,failed_calls=0\r\n\r\n"
    "# Errorstats\r\nerrorstat_ERR:count=1\r\n\r\n"
    "# Latencystats\r\nlatency_percentiles_usec_get:p50=4.015,p99=5.023,p99.9=5.023\r\n\r\n"
    "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n";

static const struct metric *find(const struct metric_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i]->name, name)) return l->v[i];
    fail_msg("no metric %s", name);
    return NULL;
}

static void test_redis_info(void **st)
{
    (void)st;
    struct metric_list l = {0};
    int64_t now = 1795321200LL * 1000000000LL;
    assert_int_equal(redis_parse_info(redis_info, strlen(redis_info), "localhost", "6379", now, &l),
                     0);
    assert_int_equal(l.n, 6);
    const struct metric *r = l.v[0];
    assert_string_equal(r->name, "redis");
    assert_string_equal(metric_get_tag(r, "server"), "localhost");
    assert_string_equal(metric_get_tag(r, "port"), "6379");
    assert_string_equal(metric_get_tag(r, "replication_role"), "master");
    assert_int_equal(ifield(r, "uptime"), 12);
    assert_int_equal(ifield(r, "lru_clock"), 159012);
    const struct metric_field *f = metric_get_field(r, "redis_version");
    assert_non_null(f);
    assert_int_equal(f->type, LP_STRING);
    assert_string_equal(f->v.s, "7.0.15");
    assert_null(metric_get_field(r, "redis_git_sha1"));
    assert_null(metric_get_field(r, "used_memory_human"));
    assert_null(metric_get_field(r, "mem_allocator"));
    assert_null(metric_get_field(r, "master_replid"));
    assert_null(metric_get_field(r, "uptime_in_seconds"));
    assert_null(metric_get_field(r, "replication_role"));
    assert_int_equal(ifield(r, "clients"), 1);
    assert_int_equal(ifield(r, "used_memory"), 965640);
    assert_float_equal(ffield(r, "mem_fragmentation_ratio"), 13.24, 1e-12);
    assert_float_equal(ffield(r, "used_cpu_user"), 0.0, 0);
    assert_int_equal(ifield(r, "rdb_last_save_time_elapsed"), 76);
    assert_float_equal(ffield(r, "keyspace_hitrate"), 0.25, 1e-12);
    f = metric_get_field(r, "maxmemory_policy");
    assert_int_equal(f->type, LP_STRING);
    const struct metric *k = find(&l, "redis_keyspace");
    assert_string_equal(metric_get_tag(k, "database"), "db0");
    assert_string_equal(metric_get_tag(k, "replication_role"), "master");
    assert_int_equal(ifield(k, "keys"), 1);
    assert_int_equal(ifield(k, "avg_ttl"), 0);
    const struct metric *c = find(&l, "redis_cmdstat");
    assert_string_equal(metric_get_tag(c, "command"), "get");
    assert_int_equal(ifield(c, "calls"), 2);
    assert_float_equal(ffield(c, "usec_per_call"), 4.5, 1e-12);
    const struct metric *e = find(&l, "redis_errorstat");
    assert_string_equal(metric_get_tag(e, "err"), "ERR");
    assert_int_equal(ifield(e, "total"), 1);
    const struct metric *p = find(&l, "redis_latency_percentiles_usec");
    assert_float_equal(ffield(p, "p99.9"), 5.023, 1e-12);
    const struct metric *s = find(&l, "redis_replication");
    assert_string_equal(metric_get_tag(s, "replica_ip"), "10.0.0.2");
    assert_string_equal(metric_get_tag(s, "replica_port"), "6380");
    assert_string_equal(metric_get_tag(s, "replica_id"), "0");
    assert_int_equal(ifield(s, "lag"), 1);
    metric_list_release(&l);
}

static void test_redis_hostile(void **st)
{
    (void)st;
    const char *bad[] = {"",
                         "#",
                         "# \r\n:\r\n::::\r\nx:\r\n",
                         "# Keyspace\r\ndb0:keys=\r\ndb1:=,=,\r\n",
                         "# Commandstats\r\ncmdstat_:calls\r\ncmdstat_x:=1,\r\n",
                         "# Errorstats\r\nerrorstat_E:count=\r\n",
                         "# Replication\r\nslave0:ip\r\nslave1:,,,=\r\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct metric_list l = {0};
        assert_int_equal(redis_parse_info(bad[i], strlen(bad[i]), "h", "1", 1, &l), 0);
        assert_true(l.n >= 1);
        assert_string_equal(l.v[0]->name, "redis");
        metric_list_release(&l);
    }
    /* a unix socket: tag socket instead of server/port */
    struct metric_list l = {0};
    assert_int_equal(redis_parse_info("a:1\n", 4, "/run/redis.sock", "", 1, &l), 0);
    assert_string_equal(metric_get_tag(l.v[0], "socket"), "/run/redis.sock");
    assert_null(metric_get_tag(l.v[0], "port"));
    metric_list_release(&l);
    /* every truncation of the recorded text */
    for (size_t n = 0; n < sizeof(redis_info) - 1; n += 7) {
        struct metric_list t = {0};
        char *cut = sl_malloc(n + 1);
        memcpy(cut, redis_info, n);
        assert_int_equal(redis_parse_info(cut, n, "h", "1", 1, &t), 0);
        metric_list_release(&t);
        sl_free(cut);
    }
}

static void test_pg_sanitize(void **st)
{
    (void)st;
    char out[256];
    assert_int_equal(
        postgresql_sanitize_address(
            "host=localhost user=postgres password=password sslmode=disable", out, sizeof(out)),
        0);
    assert_string_equal(out, "host=localhost user=postgres");
    assert_int_equal(
        postgresql_sanitize_address("host=h sslcert=/a sslkey=/b dbname=x", out, sizeof(out)), 0);
    assert_string_equal(out, "host=h dbname=x");
    assert_int_equal(
        postgresql_sanitize_address("postgres://bob:secret@db.example:5433/app?sslmode=disable",
                                    out, sizeof(out)),
        0);
    assert_string_equal(out, "dbname=app host=db.example port=5433 user=bob");
    assert_int_equal(postgresql_sanitize_address("", out, sizeof(out)), 0);
    assert_string_equal(out, "");
    char small[4];
    assert_int_equal(postgresql_sanitize_address("host=localhost", small, sizeof(small)),
                     SL_ETOOBIG);
    assert_int_equal(postgresql_sanitize_address("postgres://", out, sizeof(out)), 0);
    assert_int_equal(postgresql_sanitize_address("postgres://@:/?", out, sizeof(out)), 0);
}

static void test_url_host_port(void **st)
{
    (void)st;
    char h[64], p[16];
    assert_int_equal(
        httpc_url_host_port("http://localhost/nginx_status", h, sizeof(h), p, sizeof(p)), 0);
    assert_string_equal(h, "localhost");
    assert_string_equal(p, "80");
    assert_int_equal(httpc_url_host_port("https://u:pw@ex.com:8443/x", h, sizeof(h), p, sizeof(p)),
                     0);
    assert_string_equal(h, "ex.com");
    assert_string_equal(p, "8443");
    assert_int_equal(httpc_url_host_port("https://[::1]/", h, sizeof(h), p, sizeof(p)), 0);
    assert_string_equal(h, "::1");
    assert_string_equal(p, "443");
    assert_int_equal(httpc_url_host_port("localhost:80", h, sizeof(h), p, sizeof(p)), SL_EINVAL);
    assert_int_equal(httpc_url_host_port("http://[::1", h, sizeof(h), p, sizeof(p)), SL_EINVAL);
    assert_int_equal(httpc_url_host_port("http://h:x/", h, sizeof(h), p, sizeof(p)), SL_EINVAL);
    char tiny[2];
    assert_int_equal(httpc_url_host_port("http://longhost/", tiny, sizeof(tiny), p, sizeof(p)),
                     SL_EINVAL);
}

static void test_exec_split(void **st)
{
    (void)st;
    char **argv = NULL;
    size_t argc = 0;
    assert_int_equal(
        exec_split_words("  /bin/echo 'a b' \"c \\\"d\\\"\" e\\ f g''h  ", &argv, &argc), 0);
    assert_int_equal(argc, 5);
    assert_string_equal(argv[0], "/bin/echo");
    assert_string_equal(argv[1], "a b");
    assert_string_equal(argv[2], "c \"d\"");
    assert_string_equal(argv[3], "e f");
    assert_string_equal(argv[4], "gh");
    assert_null(argv[5]);
    for (size_t i = 0; i < argc; i++)
        sl_free(argv[i]);
    sl_free(argv);
    const char *bad[] = {"", "   ", "echo 'x", "echo \"x", "echo x\\"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(exec_split_words(bad[i], &argv, &argc), SL_EINVAL);
    /* '' is an empty word */
    assert_int_equal(exec_split_words("a ''", &argv, &argc), 0);
    assert_int_equal(argc, 2);
    assert_string_equal(argv[1], "");
    for (size_t i = 0; i < argc; i++)
        sl_free(argv[i]);
    sl_free(argv);
}

static void test_docker_image(void **st)
{
    (void)st;
    char n[128], v[64];
    docker_parse_image("nginx:1.25.3", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "nginx");
    assert_string_equal(v, "1.25.3");
    docker_parse_image("library/redis", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "library/redis");
    assert_string_equal(v, "unknown");
    docker_parse_image("registry.example.com:5000/team/pg", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "registry.example.com:5000/team/pg");
    assert_string_equal(v, "unknown");
    docker_parse_image("localhost/app:dev", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "localhost/app");
    assert_string_equal(v, "dev");
    docker_parse_image("quay.io/x/y:2", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "quay.io/x/y");
    assert_string_equal(v, "2");
    docker_parse_image("", n, sizeof(n), v, sizeof(v));
    assert_string_equal(n, "");
    char tiny[4];
    docker_parse_image("averylongimagename:tag", tiny, sizeof(tiny), v, sizeof(v));
    assert_string_equal(tiny, "ave");
}

/* Loads TOML text holding one [[inputs.<name>]] table and runs init;
 * returns init's result (state freed) and whether an option was left unused. */
static int load_plugin(const struct agent_input_ops *ops, const char *text, int *unused)
{
    struct toml_value *root = NULL;
    struct toml_error err;
    assert_int_equal(toml_parse(text, strlen(text), &root, &err), 0);
    const struct toml_table *inputs = toml_table_get_table(toml_as_table(root), "inputs");
    assert_non_null(inputs);
    const struct toml_array *arr = toml_table_get_array(inputs, ops->name);
    assert_non_null(arr);
    const struct toml_table *t = toml_as_table(toml_array_at(arr, 0));
    char name[64];
    snprintf(name, sizeof(name), "inputs.%s", ops->name);
    struct plugin_conf *c = conf_wrap(t, name, "test");
    assert_non_null(c);
    void *state = NULL;
    int rc = ops->init(c, &state);
    *unused = conf_first_unused(c) != NULL;
    if (rc == 0) ops->free(state);
    conf_free(c);
    toml_free(root);
    return rc;
}

static void test_samples_load(void **st)
{
    (void)st;
    const struct agent_input_ops *ops[] = {
        &input_tail,
        &input_exec,
        &input_http_listener_v2,
        &input_influxdb_listener,
        &input_influxdb_v2_listener,
        &input_mqtt_consumer,
        &input_http_response,
        &input_prometheus,
        &input_postgresql,
        &input_redis,
        &input_nginx,
        &input_docker,
    };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        int unused = 0;
        assert_int_equal(load_plugin(ops[i], ops[i]->sample, &unused), 0);
        assert_false(unused);
    }
}

static void test_bad_options(void **st)
{
    (void)st;
    static const struct {
        const struct agent_input_ops *ops;
        const char *toml;
    } bad[] = {
        {&input_http_response, "[[inputs.http_response]]\nmethod = \"GET\"\n"},
        {&input_http_response,
         "[[inputs.http_response]]\nurls = [\"http://x\"]\nresponse_string_match = \"(\"\n"},
        {&input_http_response,
         "[[inputs.http_response]]\nurls = \"http://x\"\nresponse_timeout = true\n"},
        {&input_tail, "[[inputs.tail]]\nfiles = [\"/x\"]\nwatch_method = \"kqueue\"\n"},
        {&input_tail, "[[inputs.tail]]\nfiles = []\n"},
        {&input_tail, "[[inputs.tail]]\nfiles = [\"/x\"]\ndata_format = \"xml\"\n"},
        {&input_mqtt_consumer, "[[inputs.mqtt_consumer]]\ntopics = [\"a\"]\nqos = 3\n"},
        {&input_mqtt_consumer, "[[inputs.mqtt_consumer]]\nservers = [\"tcp://h:1\"]\n"},
        {&input_mqtt_consumer,
         "[[inputs.mqtt_consumer]]\ntopics = [\"a\"]\npersistent_session = true\n"},
        {&input_http_listener_v2, "[[inputs.http_listener_v2]]\ndata_source = \"header\"\n"},
        {&input_http_listener_v2, "[[inputs.http_listener_v2]]\nhttp_success_code = 404\n"},
        {&input_exec, "[[inputs.exec]]\ncommands = [\"x\"]\nenvironment = [\"NOEQUALS\"]\n"},
        {&input_postgresql, "[[inputs.postgresql]]\ndatabases = [\"a'b\"]\n"},
        {&input_prometheus, "[[inputs.prometheus]]\nurls = [\"http://x\"]\nmetric_version = 2\n"},
        {&input_docker, "[[inputs.docker]]\nendpoint = \"npipe:////./pipe/docker_engine\"\n"},
        {&input_redis, "[[inputs.redis]]\n[[inputs.redis.commands]]\ncommand = [\"get\", \"k\"]\n"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int unused = 0;
        int rc = load_plugin(bad[i].ops, bad[i].toml, &unused);
        if (rc == 0) fail_msg("case %zu accepted: %s", i, bad[i].toml);
    }
    /* an unknown option is left unused, for the loader to report */
    int unused = 0;
    assert_int_equal(load_plugin(&input_nginx, "[[inputs.nginx]]\nurlz = [\"x\"]\n", &unused), 0);
    assert_true(unused);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nginx_status), cmocka_unit_test(test_nginx_hostile),
        cmocka_unit_test(test_redis_info),   cmocka_unit_test(test_redis_hostile),
        cmocka_unit_test(test_pg_sanitize),  cmocka_unit_test(test_url_host_port),
        cmocka_unit_test(test_exec_split),   cmocka_unit_test(test_docker_image),
        cmocka_unit_test(test_samples_load), cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
