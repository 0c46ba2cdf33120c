/*
 * ratelimit.c — AIMD token bucket (see ratelimit.h).
 */
#include "ratelimit.h"

#define MIN_RATE 1.0

/* The lowest rate AIMD may cut to: one call a second, or the configured
 * rate when that is lower still. */
static double floor_rate(const nt_ratelimit_t *rl)
{
    return rl->max_rate > 0 && rl->max_rate < MIN_RATE ? rl->max_rate : MIN_RATE;
}

void nt_ratelimit_init(nt_ratelimit_t *rl, double qps, double burst, int64_t now_us)
{
    rl->max_rate = qps > 0 ? qps : 0;
    rl->rate = rl->max_rate;
    rl->burst = burst > 0 ? burst : (qps > 1 ? qps : 1);
    rl->tokens = rl->burst;
    rl->last_us = now_us;
    rl->hold_until_us = 0;
    rl->leased = false;
    rl->lease_tokens = 0;
    rl->lease_until_us = 0;
    rl->throttles = 0;
    rl->adaptive = false;
    rl->win_start_us = now_us;
    rl->win_calls = 0;
    rl->measured = 0;
    rl->last_cut_us = now_us - 1000000;
}

/* Counts a call in the one-second measuring window. */
static void measure(nt_ratelimit_t *rl, int64_t now_us)
{
    if (now_us - rl->win_start_us >= 1000000) {
        rl->measured = (double)rl->win_calls * 1e6 / (double)(now_us - rl->win_start_us);
        rl->win_start_us = now_us;
        rl->win_calls = 0;
    }
    rl->win_calls++;
}

static void refill(nt_ratelimit_t *rl, int64_t now_us)
{
    if (now_us <= rl->last_us)
        return;
    double add = rl->rate * (double)(now_us - rl->last_us) / 1e6;
    rl->tokens += add;
    if (rl->tokens > rl->burst)
        rl->tokens = rl->burst;
    rl->last_us = now_us;
}

bool nt_ratelimit_take(nt_ratelimit_t *rl, int64_t now_us)
{
    if (now_us < rl->hold_until_us)
        return false;
    measure(rl, now_us);
    if (rl->max_rate <= 0 && !rl->adaptive)
        return true;
    refill(rl, now_us);
    if (rl->tokens < 1.0) {
        rl->win_calls--;
        return false;
    }
    if (rl->leased) {
        if (nt_ratelimit_leased_left(rl, now_us) < 1.0) {
            rl->win_calls--;
            return false;
        }
        rl->lease_tokens -= 1.0;
    }
    rl->tokens -= 1.0;
    return true;
}

int64_t nt_ratelimit_wait_us(nt_ratelimit_t *rl, int64_t now_us)
{
    if (now_us < rl->hold_until_us)
        return rl->hold_until_us - now_us;
    if (rl->max_rate <= 0 && !rl->adaptive)
        return 0;
    refill(rl, now_us);
    if (rl->tokens >= 1.0)
        return 0;
    return (int64_t)((1.0 - rl->tokens) / rl->rate * 1e6) + 1;
}

void nt_ratelimit_on_success(nt_ratelimit_t *rl, int64_t now_us)
{
    if (!rl->adaptive && rl->max_rate <= 0)
        return;
    if (!rl->adaptive && rl->rate >= rl->max_rate) {
        rl->rate = rl->max_rate;
        return;
    }
    /* rate successes a second, each adding 0.1 (or 1/rate when slow): about
     * +10% a second, and at least one call/s a second. Five seconds after the
     * last cut the storm is over: recover five times faster (+50%/s), or a
     * platform that throttled once stays slow for half a minute. */
    double inc = rl->rate > 10 ? 0.1 : 1.0 / (rl->rate > 1 ? rl->rate : 1);
    if (now_us - rl->last_cut_us >= 5000000)
        inc *= 5;
    rl->rate += inc;
    if (rl->adaptive) {
        if (rl->burst < rl->rate / 10)
            rl->burst = rl->rate / 10;
        return;
    }
    if (rl->rate > rl->max_rate)
        rl->rate = rl->max_rate;
}

void nt_ratelimit_on_throttle(nt_ratelimit_t *rl, int64_t now_us, int64_t retry_after_ms)
{
    rl->throttles++;
    if (rl->max_rate <= 0 && !rl->adaptive) {
        /* first throttle without a configured rate: start from what the
         * platform was taking */
        double base = rl->measured > rl->win_calls ? rl->measured : (double)rl->win_calls;
        rl->adaptive = true;
        rl->rate = base > 2 * MIN_RATE ? base : 2 * MIN_RATE;
        rl->burst = rl->rate / 10 > 1 ? rl->rate / 10 : 1;
        rl->tokens = 0;
        rl->last_us = now_us;
    }
    if ((rl->max_rate > 0 || rl->adaptive) && now_us - rl->last_cut_us >= 1000000) {
        rl->last_cut_us = now_us;
        refill(rl, now_us);
        rl->rate /= 2;
        if (rl->rate < floor_rate(rl))
            rl->rate = floor_rate(rl);
        if (rl->tokens > 1)
            rl->tokens = 1;
    }
    if (retry_after_ms >= 0) {
        int64_t until = now_us + retry_after_ms * 1000;
        if (until > rl->hold_until_us)
            rl->hold_until_us = until;
    }
}

void nt_ratelimit_on_timeout(nt_ratelimit_t *rl, int64_t now_us)
{
    rl->throttles++;
    if ((rl->max_rate > 0 || rl->adaptive) && now_us - rl->last_cut_us >= 1000000) {
        rl->last_cut_us = now_us;
        refill(rl, now_us);
        rl->rate *= 0.9;
        if (rl->rate < floor_rate(rl))
            rl->rate = floor_rate(rl);
    }
}

void nt_ratelimit_grant(nt_ratelimit_t *rl, double tokens, int64_t now_us, int64_t ttl_us)
{
    /* a fraction of a token left from the last grant is kept: grants are
     * not whole numbers, and dropping fractions would slow every lease */
    double left = nt_ratelimit_leased_left(rl, now_us);
    rl->leased = true;
    rl->lease_tokens = (tokens > 0 ? tokens : 0) + (left < 1 ? left : 0);
    rl->lease_until_us = ttl_us > 0 ? now_us + ttl_us : 0;
}

double nt_ratelimit_leased_left(const nt_ratelimit_t *rl, int64_t now_us)
{
    if (rl->lease_until_us != 0 && now_us >= rl->lease_until_us)
        return 0;
    return rl->lease_tokens;
}
