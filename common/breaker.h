/*
 * breaker.h — a circuit breaker per platform, as a value type (like
 * nt_ratelimit_t): the worker keeps one in each platform's state and feeds
 * it every call's outcome.
 *
 *   closed ── threshold failures in a row ──► open (until open_until_ms)
 *   open ── time passes ──► half-open: one call, the probe, decides
 *   half-open ── probe succeeds ──► closed;  probe fails ──► open again,
 *                                            for twice as long (capped)
 * While open, new jobs for the platform are deferred without spending an
 * attempt; while half-open, the other queued calls wait for the probe.
 */
#ifndef NT_BREAKER_H
#define NT_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

typedef struct nt_breaker_s {
    int threshold;   /* failures in a row that open it */
    int64_t base_ms; /* first open period */
    int64_t max_ms;  /* longest open period */
    int fails;       /* failures in a row */
    int64_t open_until_ms;
    int64_t open_ms; /* the next open period */
    bool probing;    /* half-open: the next call made is the probe */
    bool probe_sent; /* ... and it has gone out */
} nt_breaker_t;

/* What a recorded outcome changed, for the caller's log line. */
typedef enum {
    NT_BREAKER_SAME = 0,
    NT_BREAKER_OPENED, /* open now, for *open_for_ms */
    NT_BREAKER_CLOSED, /* closed again after being tripped */
} nt_breaker_event_t;

void nt_breaker_init(nt_breaker_t *b, int threshold, int64_t base_ms, int64_t max_ms);

/* Tripped: open or half-open. */
bool nt_breaker_tripped(const nt_breaker_t *b);

/* Open: no call before open_until_ms. */
bool nt_breaker_open(const nt_breaker_t *b, int64_t now_ms);

/* May a call start now? Closed: yes. Open: no. Half-open: yes for the one
 * probe (then *probe is set and the breaker waits for its outcome), no for
 * the others. probe may be NULL when the caller only asks. */
bool nt_breaker_allow(nt_breaker_t *b, int64_t now_ms, bool *probe);

/* The probe that allow() handed out never went out (the request could not
 * be built or submitted): the next call is the probe. */
void nt_breaker_probe_lost(nt_breaker_t *b);

/* A call ended: failure (retryable: the platform is suspect) or not; probe:
 * it was the half-open probe. Returns what changed; *open_for_ms (may be
 * NULL) receives the open period when it opened. */
nt_breaker_event_t nt_breaker_record(nt_breaker_t *b, int64_t now_ms, bool failure, bool probe,
                                     int64_t *open_for_ms);

#endif
