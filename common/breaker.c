/*
 * breaker.c — the circuit breaker's state machine (see breaker.h).
 */
#include "breaker.h"

#include <stddef.h>

void nt_breaker_init(nt_breaker_t *b, int threshold, int64_t base_ms, int64_t max_ms)
{
    *b = (nt_breaker_t){.threshold = threshold > 0 ? threshold : 1,
                        .base_ms = base_ms,
                        .max_ms = max_ms > base_ms ? max_ms : base_ms,
                        .open_ms = base_ms};
}

bool nt_breaker_tripped(const nt_breaker_t *b)
{
    return b->fails >= b->threshold;
}

bool nt_breaker_open(const nt_breaker_t *b, int64_t now_ms)
{
    return nt_breaker_tripped(b) && now_ms < b->open_until_ms;
}

bool nt_breaker_allow(nt_breaker_t *b, int64_t now_ms, bool *probe)
{
    if (probe != NULL)
        *probe = false;
    if (!nt_breaker_tripped(b))
        return true;
    if (now_ms < b->open_until_ms || b->probe_sent)
        return false;
    /* half-open, no probe out: this call is it */
    if (probe != NULL) {
        b->probing = true;
        b->probe_sent = true;
        *probe = true;
    }
    return true;
}

void nt_breaker_probe_lost(nt_breaker_t *b)
{
    b->probe_sent = false;
}

static void open_now(nt_breaker_t *b, int64_t now_ms, int64_t *open_for_ms)
{
    b->open_until_ms = now_ms + b->open_ms;
    if (open_for_ms != NULL)
        *open_for_ms = b->open_ms;
    b->open_ms = b->open_ms * 2 > b->max_ms ? b->max_ms : b->open_ms * 2;
}

nt_breaker_event_t nt_breaker_record(nt_breaker_t *b, int64_t now_ms, bool failure, bool probe,
                                     int64_t *open_for_ms)
{
    if (probe) {
        b->probing = false;
        b->probe_sent = false;
    }
    if (!failure) {
        bool was = nt_breaker_tripped(b);
        b->fails = 0;
        b->open_ms = b->base_ms;
        return was ? NT_BREAKER_CLOSED : NT_BREAKER_SAME;
    }
    bool was_tripped = nt_breaker_tripped(b);
    b->fails++;
    if (probe || (!was_tripped && nt_breaker_tripped(b))) {
        open_now(b, now_ms, open_for_ms);
        return NT_BREAKER_OPENED;
    }
    return NT_BREAKER_SAME;
}
