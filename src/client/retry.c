/*
 * retry.c — the writer's delivery policy: what to do after each attempt and
 * how long to wait before the next.
 *
 * Why these rules: a 4xx other than 401/403/408/413/429 means the request
 * itself is wrong (malformed line, unknown database, type conflict), so
 * resending the same bytes can only fail again and would block every batch
 * behind it — the batch is dropped and the server's reason reported.
 * 401/403 are retried because tokens are often provisioned moments after the
 * writer starts; 408/429/5xx/network errors are transient by definition.
 * 413 is answered by splitting, which converges in log2(lines) steps.
 * Backoff is exponential, capped, with "equal jitter" (half fixed, half
 * random) so a fleet of writers that failed together does not retry in step
 * (the Telegraf retry-storm complaint) while each still waits a predictable
 * minimum.
 */
#include "client/client_int.h"

enum client_action client_classify(long status, size_t lines, int attempt, int max_retries,
                                   int *code)
{
    enum client_action a;
    *code = 0;
    if (status >= 200 && status < 300) return CLIENT_DONE;
    if (status == 413) {
        *code = SL_ETOOBIG;
        return lines > 1 ? CLIENT_SPLIT : CLIENT_DROP;
    }
    if (status == 0 || status >= 500) {
        *code = status == 503 ? SL_EBUSY : SL_EIO;
        a = CLIENT_RETRY;
    } else if (status == 401 || status == 403) {
        *code = SL_EPERM;
        a = CLIENT_RETRY;
    } else if (status == 408 || status == 429) {
        *code = SL_EBUSY;
        a = CLIENT_RETRY;
    } else {
        /* other 4xx, and 1xx/3xx that curl did not resolve: not retryable */
        *code = SL_EINVAL;
        return CLIENT_DROP;
    }
    if (attempt > max_retries) return CLIENT_DROP;
    return a;
}

uint64_t client_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t client_backoff_ms(int retry, int initial_ms, int max_ms, int64_t retry_after_ms,
                          int retry_after_max_ms, uint64_t rnd)
{
    if (retry_after_ms >= 0)
        return retry_after_ms < retry_after_max_ms ? retry_after_ms : retry_after_max_ms;
    if (retry < 1) retry = 1;
    if (initial_ms < 1) initial_ms = 1;
    if (max_ms < initial_ms) max_ms = initial_ms;
    int64_t d = initial_ms;
    for (int i = 1; i < retry && d < max_ms; i++)
        d *= 2;
    if (d > max_ms) d = max_ms;
    int64_t half = d / 2;
    return half + (int64_t)(rnd % (uint64_t)(d - half + 1));
}
