/*
 * fuzz_agent_parsers.c — the agent's data-format parsers (json, prometheus
 * text, influx) on arbitrary bytes. The first byte picks the format; the
 * rest is the payload. Every parser must return a metric list or an error
 * with a message, never crash, hang or leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/metric.h"
#include "agent/parsers/parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const enum parser_format formats[] = {PARSER_JSON, PARSER_PROMETHEUS, PARSER_INFLUX};
    enum parser_format f = formats[data[0] % 3];
    struct parser *p = NULL;
    if (parser_new(f, "fuzz", &p) != 0) return 0;
    struct metric_list out;
    memset(&out, 0, sizeof(out));
    char err[256];
    parser_parse(p, (const char *)data + 1, size - 1, 1700000000000000000LL, &out, err,
                 sizeof(err));
    metric_list_release(&out);
    parser_free(p);
    return 0;
}
