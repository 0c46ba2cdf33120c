/*
 * ratelimit.h — per-platform call pacing: a token bucket whose rate adapts
 * (AIMD: halve on 429 or timeout, creep back up on success) and which holds
 * all calls while a platform's Retry-After runs. Times are monotonic
 * microseconds supplied by the caller, so tests drive it without sleeping.
 *
 * In a cluster, tokens can come from a shared bucket instead of the clock
 * (nt_ratelimit_grant); the local AIMD rate still caps the spending.
 */
#ifndef NT_RATELIMIT_H
#define NT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct nt_ratelimit_s {
    double max_rate; /* configured calls/s; 0 = unlimited */
    double rate;     /* current calls/s after AIMD */
    double burst;
    double tokens;
    int64_t last_us;
    int64_t hold_until_us;  /* Retry-After: no call before this */
    bool leased;            /* tokens come from nt_ratelimit_grant, not the clock */
    double lease_tokens;    /* granted and not yet spent */
    int64_t lease_until_us; /* lease_tokens are void from then on (0: never) */
    uint64_t throttles;     /* 429s and timeouts seen */
    bool adaptive;          /* no configured rate: the rate is learnt from 429s */
    int64_t win_start_us;   /* calls counted in the current one-second window */
    uint32_t win_calls;
    double measured;     /* calls/s of the last complete window */
    int64_t last_cut_us; /* last multiplicative decrease */
} nt_ratelimit_t;

/* qps 0 means no configured limit: calls are unlimited until the platform
 * throttles, then the bucket runs at half the rate that was measured and
 * AIMD takes over (adaptive mode). burst 0 means qps (at least 1). */
void nt_ratelimit_init(nt_ratelimit_t *rl, double qps, double burst, int64_t now_us);

/* Takes one token if a call may start now. */
bool nt_ratelimit_take(nt_ratelimit_t *rl, int64_t now_us);

/* Microseconds until a token may be available (0: now). */
int64_t nt_ratelimit_wait_us(nt_ratelimit_t *rl, int64_t now_us);

/* A call succeeded: additive increase, about 10% of the rate (at least one
 * call/s) per second of success, five times that once 5 s have passed since
 * the last cut; never above the configured rate if any. */
void nt_ratelimit_on_success(nt_ratelimit_t *rl, int64_t now_us);

/* A call was throttled (429): the rate halves (at most once a second, so a
 * burst of answers to calls already in flight counts as one signal), and no
 * call starts before retry_after_ms (when >= 0). Without a configured rate
 * this switches to adaptive mode at half the measured rate. */
void nt_ratelimit_on_throttle(nt_ratelimit_t *rl, int64_t now_us, int64_t retry_after_ms);

/* A call timed out: a gentle decrease (x0.9, at most once a second) when a
 * rate is in force; a timeout alone never imposes one. */
void nt_ratelimit_on_timeout(nt_ratelimit_t *rl, int64_t now_us);

/* Switches to leased mode with tokens granted by the shared bucket. They
 * replace what is left of an earlier grant (a fraction of a token is kept)
 * and may be spent for ttl_us from
 * now_us (ttl_us <= 0: no expiry). The shared bucket counted them as spent
 * when it granted them: tokens kept through a stall and spent later would
 * add a burst the bucket never allowed, so unspent tokens are dropped, never
 * carried over; dropping them can only slow the cluster down. */
void nt_ratelimit_grant(nt_ratelimit_t *rl, double tokens, int64_t now_us, int64_t ttl_us);

/* Tokens left to spend from the last grant at now_us (leased mode). */
double nt_ratelimit_leased_left(const nt_ratelimit_t *rl, int64_t now_us);

#endif
