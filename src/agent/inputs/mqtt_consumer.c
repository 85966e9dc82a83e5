/*
 * mqtt_consumer.c — the mqtt_consumer service input (Telegraf's
 * mqtt_consumer.go) over libmosquitto. A thread of our own drives the
 * client: connect to one of `servers` (tcp://, mqtt://, ssl://, tls://,
 * mqtts://; cycling through them on failure), subscribe to every `topics`
 * filter (MQTT wildcards + and #) at `qos` in the CONNACK callback — so every
 * reconnect subscribes again, which is where Telegraf's consumer stalls —
 * then run the network loop until stop or until the connection drops, and
 * reconnect with a capped backoff (1 s doubling to 30 s).
 * Each message payload is parsed with `data_format` (default influx); the
 * metrics get tag `topic_tag` (default "topic"; "" disables it) = the topic.
 * A payload that does not parse is logged and dropped whole.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<mosquitto.h>)
#include <mosquitto.h>
#define HAVE_MOSQUITTO 1
#endif

#include "agent/conf.h"
#include "agent/inputs/services.h"
#include "agent/parsers/parsers.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "common/timeutil.h"

struct mqtt_input {
    struct glob_list servers, topics;
    char *topic_tag, *username, *password, *client_id;
    char *tls_ca, *tls_cert, *tls_key;
    int insecure, persistent;
    int64_t qos, keepalive_s, conn_timeout;
    struct parser *parser;
    struct agent_acc *acc;
    pthread_t thread;
    int thread_started;
    atomic_int stop;
    atomic_uint_fast64_t connects, messages, parse_errors; /* for tests and logs */
    atomic_int connected; /* CONNACK accepted on the current connection */
    int logged_down;      /* a connect failure was logged (thread-only) */
#ifdef HAVE_MOSQUITTO
    struct mosquitto *mosq;
#endif
};

static void mqtt_free(void *state)
{
    struct mqtt_input *s = state;
    if (!s) return;
    glob_list_release(&s->servers);
    glob_list_release(&s->topics);
    sl_free(s->topic_tag);
    sl_free(s->username);
    sl_free(s->password);
    sl_free(s->client_id);
    sl_free(s->tls_ca);
    sl_free(s->tls_cert);
    sl_free(s->tls_key);
    if (s->parser) parser_free(s->parser);
    sl_free(s);
}

static int mqtt_init(struct plugin_conf *c, void **state)
{
    struct mqtt_input *s = sl_calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    s->keepalive_s = 60;
    s->conn_timeout = 30 * SL_NS_PER_S;
    int rc = SL_ENOMEM;
    int64_t idummy = 0;
    int64_t ddummy = 0;
    if (!(s->topic_tag = sl_strdup("topic"))) goto fail;
    if ((rc = conf_strlist(c, "servers", &s->servers)) < 0) goto fail;
    if ((rc = conf_strlist(c, "topics", &s->topics)) < 0) goto fail;
    if ((rc = conf_str(c, "topic_tag", &s->topic_tag)) < 0) goto fail;
    if ((rc = conf_str(c, "username", &s->username)) < 0) goto fail;
    if ((rc = conf_str(c, "password", &s->password)) < 0) goto fail;
    if ((rc = conf_str(c, "client_id", &s->client_id)) < 0) goto fail;
    if ((rc = conf_int(c, "qos", &s->qos)) < 0) goto fail;
    if ((rc = conf_int(c, "keepalive", &s->keepalive_s)) < 0) goto fail;
    if ((rc = conf_duration(c, "connection_timeout", &s->conn_timeout)) < 0) goto fail;
    if ((rc = conf_duration(c, "ping_timeout", &ddummy)) < 0) goto fail;
    if ((rc = conf_int(c, "max_undelivered_messages", &idummy)) < 0) goto fail;
    if ((rc = conf_bool(c, "persistent_session", &s->persistent)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_ca", &s->tls_ca)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_cert", &s->tls_cert)) < 0) goto fail;
    if ((rc = conf_str(c, "tls_key", &s->tls_key)) < 0) goto fail;
    if ((rc = conf_bool(c, "insecure_skip_verify", &s->insecure)) < 0) goto fail;
    if (conf_has(c, "topic_parsing")) {
        rc = conf_fail(c, "topic_parsing", "topic_parsing is not supported yet");
        goto fail;
    }
    if (s->qos < 0 || s->qos > 2) {
        rc = conf_fail(c, "qos", "qos must be 0, 1 or 2");
        goto fail;
    }
    if (s->persistent && (!s->client_id || !*s->client_id)) {
        rc = conf_fail(c, "persistent_session", "persistent_session requires client_id");
        goto fail;
    }
    if (s->servers.n == 0 && (rc = glob_list_add(&s->servers, "tcp://127.0.0.1:1883")) < 0)
        goto fail;
    if (s->topics.n == 0) {
        rc = conf_fail(c, "topics", "no topics given");
        goto fail;
    }
    if ((rc = parser_from_conf(c, "influx", "mqtt_consumer", &s->parser)) < 0) goto fail;
    *state = s;
    return 0;
fail:
    mqtt_free(s);
    return rc;
}

#ifdef HAVE_MOSQUITTO
static pthread_once_t mosq_once = PTHREAD_ONCE_INIT;
static void mosq_global_init(void)
{
    mosquitto_lib_init();
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
    struct mqtt_input *s = ud;
    if (rc != 0) {
        sl_error("agent", "[inputs.mqtt_consumer] connection refused: %s",
                 mosquitto_connack_string(rc));
        return;
    }
    atomic_fetch_add(&s->connects, 1);
    atomic_store(&s->connected, 1);
    if (s->logged_down) sl_info("agent", "[inputs.mqtt_consumer] connected");
    for (size_t i = 0; i < s->topics.n; i++) {
        int src = mosquitto_subscribe(m, NULL, s->topics.v[i], (int)s->qos);
        if (src != MOSQ_ERR_SUCCESS)
            sl_error("agent", "[inputs.mqtt_consumer] subscribing to %s: %s", s->topics.v[i],
                     mosquitto_strerror(src));
    }
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
    (void)m;
    struct mqtt_input *s = ud;
    struct metric_list ml = {0};
    char err[256] = "";
    atomic_fetch_add(&s->messages, 1);
    int rc = parser_parse(s->parser, msg->payload ? msg->payload : "", (size_t)msg->payloadlen,
                          sl_now_ns(), &ml, err, sizeof(err));
    if (rc < 0) {
        atomic_fetch_add(&s->parse_errors, 1);
        acc_error(s->acc, "topic %s: %s", msg->topic, *err ? err : sl_strerror(rc));
        metric_list_release(&ml); /* as Telegraf: a bad message is dropped whole */
        return;
    }
    for (size_t i = 0; i < ml.n; i++) {
        struct metric *mt = ml.v[i];
        ml.v[i] = NULL;
        if (s->topic_tag && *s->topic_tag && metric_add_tag(mt, s->topic_tag, msg->topic) < 0) {
            metric_free(mt);
            continue;
        }
        acc_add(s->acc, mt);
    }
    metric_list_release(&ml);
}

/* "tcp://host:port" → host, port, tls. */
static int split(const char *url, char *host, size_t hc, int *port, int *tls)
{
    *tls = 0;
    *port = 1883;
    const char *p = strstr(url, "://");
    if (p) {
        size_t sl = (size_t)(p - url);
        if ((sl == 3 && !strncmp(url, "ssl", 3)) || (sl == 3 && !strncmp(url, "tls", 3)) ||
            (sl == 5 && !strncmp(url, "mqtts", 5))) {
            *tls = 1;
            *port = 8883;
        } else if (!((sl == 3 && !strncmp(url, "tcp", 3)) || (sl == 4 && !strncmp(url, "mqtt", 4))))
            return SL_EINVAL;
        p += 3;
    } else {
        p = url;
    }
    const char *end = p + strcspn(p, "/");
    const char *colon = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == ':') colon = q;
    const char *he = colon ? colon : end;
    if (he == p || (size_t)(he - p) >= hc) return SL_EINVAL;
    memcpy(host, p, (size_t)(he - p));
    host[he - p] = 0;
    if (colon) {
        char *e;
        long v = strtol(colon + 1, &e, 10);
        if (e != end || v <= 0 || v > 65535) return SL_EINVAL;
        *port = (int)v;
    }
    return 0;
}

/* Sleeps up to ns, waking early on stop. */
static void nap(struct mqtt_input *s, int64_t ns)
{
    int64_t until = sl_mono_ns() + ns;
    while (!atomic_load(&s->stop) && sl_mono_ns() < until) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void *mqtt_thread(void *arg)
{
    struct mqtt_input *s = arg;
    size_t idx = 0;
    int64_t backoff = SL_NS_PER_S;
    s->logged_down = 0;
    while (!atomic_load(&s->stop)) {
        const char *url = s->servers.v[idx % s->servers.n];
        char host[256];
        int port, tls;
        if (split(url, host, sizeof(host), &port, &tls) < 0) {
            sl_error("agent", "[inputs.mqtt_consumer] invalid server '%s'", url);
            idx++;
            nap(s, backoff);
            continue;
        }
        if (tls) {
            mosquitto_tls_set(s->mosq, s->tls_ca, s->tls_ca ? NULL : "/etc/ssl/certs", s->tls_cert,
                              s->tls_key, NULL);
            mosquitto_tls_insecure_set(s->mosq, s->insecure);
        }
        /* non-blocking connect: the loop below completes it, so stop and
         * connection_timeout are honoured even for a black-holed address */
        atomic_store(&s->connected, 0);
        uint_fast64_t before = atomic_load(&s->connects);
        int rc = mosquitto_connect_async(s->mosq, host, port, (int)s->keepalive_s);
        int64_t deadline = sl_mono_ns() + s->conn_timeout;
        while (rc == MOSQ_ERR_SUCCESS && !atomic_load(&s->stop)) {
            rc = mosquitto_loop(s->mosq, 200, 1);
            if (rc != MOSQ_ERR_SUCCESS) break;
            if (!atomic_load(&s->connected) && sl_mono_ns() > deadline) {
                rc = MOSQ_ERR_CONN_LOST;
                break;
            }
        }
        if (atomic_load(&s->stop)) {
            mosquitto_disconnect(s->mosq);
            mosquitto_loop(s->mosq, 100, 1);
            break;
        }
        mosquitto_disconnect(s->mosq);
        if (atomic_load(&s->connects) == before) {
            /* never got a CONNACK: refused, unreachable or timed out. Back
             * off and try the next server. */
            if (!s->logged_down)
                sl_error("agent", "[inputs.mqtt_consumer] connecting to %s: %s (retrying)", url,
                         rc == MOSQ_ERR_CONN_LOST ? "no answer" : mosquitto_strerror(rc));
            s->logged_down = 1;
            idx++;
            nap(s, backoff);
            backoff = backoff * 2 > 30 * SL_NS_PER_S ? 30 * SL_NS_PER_S : backoff * 2;
            continue;
        }
        sl_error("agent", "[inputs.mqtt_consumer] connection to %s lost: %s; reconnecting", url,
                 mosquitto_strerror(rc));
        s->logged_down = 0;
        backoff = SL_NS_PER_S;
        nap(s, SL_NS_PER_S / 10);
    }
    return NULL;
}
#endif

static int mqtt_start(void *state, struct agent_acc *acc)
{
    struct mqtt_input *s = state;
#ifdef HAVE_MOSQUITTO
    pthread_once(&mosq_once, mosq_global_init);
    s->acc = acc;
    atomic_store(&s->stop, 0);
    int clean = s->persistent ? 0 : 1;
    const char *id = s->client_id && *s->client_id ? s->client_id : NULL;
    s->mosq = mosquitto_new(id, clean, s);
    if (!s->mosq) return SL_ENOMEM;
    mosquitto_int_option(s->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if ((s->username && *s->username) || (s->password && *s->password))
        mosquitto_username_pw_set(s->mosq, s->username ? s->username : "", s->password);
    mosquitto_connect_callback_set(s->mosq, on_connect);
    mosquitto_message_callback_set(s->mosq, on_message);
    if (pthread_create(&s->thread, NULL, mqtt_thread, s) != 0) {
        mosquitto_destroy(s->mosq);
        s->mosq = NULL;
        return SL_ENOMEM;
    }
    s->thread_started = 1;
    return 0;
#else
    (void)s;
    (void)acc;
    sl_error("agent", "[inputs.mqtt_consumer] built without libmosquitto");
    return SL_EINVAL;
#endif
}

static void mqtt_stop(void *state)
{
    struct mqtt_input *s = state;
#ifdef HAVE_MOSQUITTO
    atomic_store(&s->stop, 1);
    if (s->thread_started) pthread_join(s->thread, NULL);
    s->thread_started = 0;
    if (s->mosq) mosquitto_destroy(s->mosq);
    s->mosq = NULL;
#else
    (void)s;
#endif
}

const struct agent_input_ops input_mqtt_consumer = {
    .name = "mqtt_consumer",
    .sample = "[[inputs.mqtt_consumer]]\n"
              "  ## Broker URLs: tcp://, ssl:// (mqtt://, mqtts:// too)\n"
              "  servers = [\"tcp://127.0.0.1:1883\"]\n"
              "  ## Topics to subscribe to (MQTT wildcards + and #)\n"
              "  topics = [\"telegraf/host01/cpu\", \"telegraf/+/mem\", \"sensors/#\"]\n"
              "  # topic_tag = \"topic\"\n"
              "  # qos = 0\n"
              "  # username = \"telegraf\"\n"
              "  # password = \"metricsmetricsmetricsmetrics\"\n"
              "  data_format = \"influx\"\n",
    .init = mqtt_init,
    .start = mqtt_start,
    .stop = mqtt_stop,
    .free = mqtt_free,
};
