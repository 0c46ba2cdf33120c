/*
 * test_ratelimit.c — the AIMD token bucket (ratelimit.h) driven by synthetic
 * microsecond clocks: burst then steady pacing, unlimited platforms and the
 * adaptive mode a first 429 switches them to, halving (at most once a
 * second) on throttle, the gentler cut on timeout, recovery on success,
 * Retry-After holds, and leased tokens.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "err.h"
#include "ratelimit.h"

static int ncases;

#define T0  1000000000LL /* an arbitrary monotonic start, in microseconds */
#define MS  1000LL
#define SEC 1000000LL

/* Calls a paced caller makes in [from, to): it calls whenever a token is
 * there and otherwise sleeps for nt_ratelimit_wait_us, as the worker does.
 * *end receives the time the loop stopped. */
static int paced_calls(nt_ratelimit_t *rl, int64_t from, int64_t to, int64_t *end)
{
    int n = 0;
    int64_t t = from;
    while (t < to && n < 1000000) {
        if (nt_ratelimit_take(rl, t)) {
            n++;
            continue;
        }
        int64_t w = nt_ratelimit_wait_us(rl, t);
        t += w > 0 ? w : 1;
    }
    if (end != NULL)
        *end = t;
    return n;
}

static bool near(double got, double want, double tol)
{
    return got >= want - tol && got <= want + tol;
}

static void test_bucket(void)
{
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 10, 5, T0);

    /* qps 10, burst 5: five at once, then one per 100 ms */
    for (int i = 0; i < 5; i++, ncases++)
        CHECKF(nt_ratelimit_take(&rl, T0), "burst call %d refused", i + 1);
    ncases += 6;
    CHECK(!nt_ratelimit_take(&rl, T0));
    int64_t wait = nt_ratelimit_wait_us(&rl, T0);
    CHECKF(wait >= 100 * MS - 10 && wait <= 100 * MS + 10,
           "wait after the burst %lld us, want ~100 ms", (long long)wait);
    CHECK(!nt_ratelimit_take(&rl, T0 + 99 * MS));
    CHECK(nt_ratelimit_take(&rl, T0 + 100 * MS + 10));
    CHECK(!nt_ratelimit_take(&rl, T0 + 150 * MS));
    CHECK(nt_ratelimit_take(&rl, T0 + 200 * MS + 10));

    /* the next 10 seconds: one every 100 ms */
    int n = paced_calls(&rl, T0 + 201 * MS, T0 + 10250 * MS, NULL);
    ncases++;
    CHECKF(n == 100, "10 s at 10 qps gave %d calls, want 100", n);

    /* an idle bucket refills to the burst, never beyond */
    n = 0;
    while (n < 100 && nt_ratelimit_take(&rl, T0 + 60 * SEC))
        n++;
    ncases++;
    CHECKF(n == 5, "after a minute idle: %d calls at once, want burst 5", n);

    /* a clock that goes backwards adds nothing */
    ncases++;
    CHECK(!nt_ratelimit_take(&rl, T0));

    static const struct {
        double qps, burst;
        int want_now; /* calls allowed at once */
        int want_1s;  /* further calls in the next second */
        int64_t wait; /* wait after the first refusal, microseconds */
    } rows[] = {
        {10, 0, 10, 10, 100 * MS}, /* burst 0 means qps */
        {1, 0, 1, 1, 1 * SEC},     /* and at least 1 */
        {0.5, 0, 1, 0, 2 * SEC},   {100, 1, 1, 100, 10 * MS},
        {2, 20, 20, 2, 500 * MS},  {1000, 50, 50, 1000, 1 * MS},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_ratelimit_init(&rl, rows[i].qps, rows[i].burst, T0);
        int now = 0;
        while (now < 100000 && nt_ratelimit_take(&rl, T0))
            now++;
        int64_t w = nt_ratelimit_wait_us(&rl, T0);
        /* half an interval of slack: each wait carries +1 us of rounding */
        int64_t slack = rows[i].qps >= 1 ? (int64_t)(SEC / rows[i].qps / 2) : SEC / 2;
        int later = paced_calls(&rl, T0 + 1, T0 + SEC + slack, NULL);
        CHECKF(now == rows[i].want_now, "qps %g burst %g: %d at once, want %d", rows[i].qps,
               rows[i].burst, now, rows[i].want_now);
        CHECKF(later == rows[i].want_1s, "qps %g burst %g: %d in the next second, want %d",
               rows[i].qps, rows[i].burst, later, rows[i].want_1s);
        CHECKF(w >= rows[i].wait - 10 && w <= rows[i].wait + 10,
               "qps %g burst %g: wait %lld us, want %lld", rows[i].qps, rows[i].burst, (long long)w,
               (long long)rows[i].wait);
    }
}

static void test_unlimited(void)
{
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 0, 0, T0);
    int n = 0;
    for (int i = 0; i < 100000; i++)
        n += nt_ratelimit_take(&rl, T0 + i);
    ncases += 2;
    CHECK_INT(n, 100000);
    CHECK_INT(nt_ratelimit_wait_us(&rl, T0 + SEC), 0);

    /* a timeout alone never imposes a rate */
    nt_ratelimit_on_timeout(&rl, T0 + SEC);
    nt_ratelimit_on_timeout(&rl, T0 + 3 * SEC);
    n = 0;
    for (int i = 0; i < 1000; i++)
        n += nt_ratelimit_take(&rl, T0 + 3 * SEC);
    ncases += 3;
    CHECK_INT(n, 1000);
    CHECK(!rl.adaptive);
    CHECK_INT(rl.throttles, 2);

    /* successes change nothing either */
    nt_ratelimit_on_success(&rl, T0 + 3 * SEC);
    ncases++;
    CHECK(!rl.adaptive && nt_ratelimit_take(&rl, T0 + 3 * SEC));
}

/* qps 0: unlimited until a 429, then half the measured rate, then AIMD. */
static void test_adaptive(void)
{
    static const int rates[] = {40, 200, 1000};
    for (size_t i = 0; i < NT_ARRAY_LEN(rates); i++, ncases++) {
        nt_ratelimit_t rl;
        nt_ratelimit_init(&rl, 0, 0, T0);
        int64_t step = SEC / rates[i];
        int64_t t = T0;
        int n = 0;
        /* two seconds of calls at rates[i]/s, all allowed */
        for (; t < T0 + 2 * SEC; t += step)
            n += nt_ratelimit_take(&rl, t);
        CHECKF(n == 2 * rates[i], "%d/s unlimited: %d of %d calls allowed", rates[i], n,
               2 * rates[i]);
        nt_ratelimit_on_throttle(&rl, t, -1);
        double want = rates[i] / 2.0;
        CHECKF(rl.adaptive, "%d/s: a 429 did not switch to adaptive mode", rates[i]);
        CHECKF(near(rl.rate, want, want * 0.1), "%d/s: adaptive rate %g, want half, %g", rates[i],
               rl.rate, want);
        /* the next second runs at about that rate */
        int later = paced_calls(&rl, t, t + SEC, NULL);
        CHECKF(near(later, want, want * 0.15 + 2), "%d/s: %d calls in the second after the 429",
               rates[i], later);
    }

    /* in adaptive mode, success raises the rate about 10% per second, with
     * no ceiling but what the platform tolerates */
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 0, 0, T0);
    int64_t t = T0;
    for (; t < T0 + 2 * SEC; t += 5 * MS) /* 200/s */
        if (!nt_ratelimit_take(&rl, t))
            CHECKF(0, "refused while unlimited");
    nt_ratelimit_on_throttle(&rl, t, -1);
    double r0 = rl.rate;
    for (int k = 0; k < (int)r0; k++) /* one second of successes at r0 */
        nt_ratelimit_on_success(&rl, t + k * (SEC / (int64_t)r0));
    ncases += 2;
    CHECKF(near(rl.rate, r0 * 1.1, r0 * 0.03),
           "adaptive: %g after 1 s of success from %g, want +10%%", rl.rate, r0);
    for (int k = 0; k < 5000; k++)
        nt_ratelimit_on_success(&rl, t + SEC + k * MS);
    CHECKF(rl.rate > r0 * 2, "adaptive: rate %g capped after long success (from %g)", rl.rate, r0);
}

static void test_aimd(void)
{
    nt_ratelimit_t rl;

    /* halve per throttle, at most once a second, to a floor */
    static const struct {
        int64_t at;
        double rate;
    } rows[] = {
        {T0, 5},           {T0 + 1, 5},     {T0 + 500 * MS, 5},   {T0 + 999 * MS, 5},
        {T0 + SEC, 2.5},   {T0 + SEC, 2.5}, {T0 + 2 * SEC, 1.25}, {T0 + 5 * SEC, 1},
        {T0 + 9 * SEC, 1},
    };
    nt_ratelimit_init(&rl, 10, 5, T0);
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_ratelimit_on_throttle(&rl, rows[i].at, -1);
        CHECKF(near(rl.rate, rows[i].rate, 1e-9), "throttle %zu at +%lld ms: rate %g, want %g",
               i + 1, (long long)(rows[i].at - T0) / MS, rl.rate, rows[i].rate);
    }
    ncases++;
    CHECK_INT(rl.throttles, NT_ARRAY_LEN(rows));

    /* a throttle drops the saved-up burst: calls are paced at once */
    nt_ratelimit_init(&rl, 10, 5, T0);
    nt_ratelimit_on_throttle(&rl, T0, -1);
    int n = 0;
    while (n < 100 && nt_ratelimit_take(&rl, T0))
        n++;
    ncases += 2;
    CHECKF(n <= 1, "%d calls right after a throttle, want at most 1", n);
    n = paced_calls(&rl, T0 + 1, T0 + SEC + 100, NULL);
    CHECKF(n == 5, "%d calls in the second after a throttle at rate 5, want 5", n);

    /* timeouts: x0.9, at most once a second, sharing the clock with 429s */
    static const struct {
        char what; /* t timeout, r 429 */
        int64_t at;
        double rate;
    } mixed[] = {
        {'t', T0, 9},
        {'t', T0 + 10 * MS, 9},
        {'t', T0 + SEC, 8.1},
        {'r', T0 + SEC, 8.1},
        {'r', T0 + 2 * SEC, 4.05},
        {'t', T0 + 2500 * MS, 4.05},
        {'t', T0 + 3 * SEC, 3.645},
    };
    nt_ratelimit_init(&rl, 10, 5, T0);
    for (size_t i = 0; i < NT_ARRAY_LEN(mixed); i++, ncases++) {
        if (mixed[i].what == 't')
            nt_ratelimit_on_timeout(&rl, mixed[i].at);
        else
            nt_ratelimit_on_throttle(&rl, mixed[i].at, -1);
        CHECKF(near(rl.rate, mixed[i].rate, 1e-9), "%s %zu at +%lld ms: rate %g, want %g",
               mixed[i].what == 't' ? "timeout" : "429", i + 1, (long long)(mixed[i].at - T0) / MS,
               rl.rate, mixed[i].rate);
    }
    ncases++;
    CHECK_INT(rl.throttles, NT_ARRAY_LEN(mixed));

    /* additive increase: back to the configured rate after steady success,
     * never beyond (at least one call/s per second) */
    nt_ratelimit_init(&rl, 10, 5, T0);
    nt_ratelimit_on_throttle(&rl, T0, -1); /* 5/s */
    double prev = rl.rate;
    int64_t t = T0;
    int steps = 0;
    bool monotonic = true;
    while (rl.rate < 10 && steps < 100000) {
        t += (int64_t)(1e6 / rl.rate); /* calls at the current rate */
        nt_ratelimit_on_success(&rl, t);
        monotonic = monotonic && rl.rate >= prev;
        prev = rl.rate;
        steps++;
    }
    double secs = (double)(t - T0) / 1e6;
    ncases += 4;
    CHECK(monotonic);
    CHECKF(rl.rate == 10, "rate %g after recovery, want the configured 10", rl.rate);
    CHECKF(secs > 3 && secs < 7, "recovery from 5 to 10 qps took %.1f s, want ~5 s (+1/s per s)",
           secs);
    for (int i = 0; i < 1000; i++)
        nt_ratelimit_on_success(&rl, t + i);
    CHECKF(rl.rate == 10, "rate %g after more success, want the configured 10", rl.rate);

    /* a fast platform recovers by about 10% a second */
    nt_ratelimit_init(&rl, 1000, 0, T0);
    nt_ratelimit_on_throttle(&rl, T0, -1); /* 500/s */
    for (int k = 0; k < 500; k++)
        nt_ratelimit_on_success(&rl, T0 + k * 2 * MS);
    ncases++;
    CHECKF(near(rl.rate, 550, 15), "1000 qps: %g one second after halving to 500, want ~550",
           rl.rate);

    /* success on an unthrottled bucket changes nothing */
    nt_ratelimit_init(&rl, 10, 5, T0);
    nt_ratelimit_on_success(&rl, T0);
    ncases++;
    CHECK(rl.rate == 10);

    /* A configured limit below one call/s (e.g. one worker's share of a
     * cluster-wide limit) must never be raised by AIMD: a 429 or a timeout
     * only ever slows a platform down. */
    static const double limits[] = {0.25, 0.5, 0.9, 1, 3};
    for (size_t i = 0; i < NT_ARRAY_LEN(limits); i++, ncases++) {
        for (int kind = 0; kind < 2; kind++) {
            nt_ratelimit_init(&rl, limits[i], 0, T0);
            double before = rl.rate;
            if (kind == 0)
                nt_ratelimit_on_throttle(&rl, T0, -1);
            else
                nt_ratelimit_on_timeout(&rl, T0);
            CHECKF(rl.rate <= before && rl.rate <= rl.max_rate,
                   "max %g qps: rate %g after a %s, above the %g before", limits[i], rl.rate,
                   kind ? "timeout" : "429", before);
            for (int k = 0; k < 1000; k++)
                nt_ratelimit_on_success(&rl, T0 + k * SEC);
            CHECKF(rl.rate <= rl.max_rate, "max %g qps: rate %g after recovery", limits[i],
                   rl.rate);
        }
    }
}

static void test_retry_after(void)
{
    static const struct {
        double qps;
        int64_t retry_after_ms;
        int64_t hold_us; /* no call before T0 + hold_us */
    } rows[] = {
        {100, 0, 0},          {100, 1, 1 * MS}, {100, 1000, 1 * SEC}, {100, 30000, 30 * SEC},
        {0, 1500, 1500 * MS}, /* unlimited: the hold still applies */
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_ratelimit_t rl;
        nt_ratelimit_init(&rl, rows[i].qps, rows[i].qps, T0);
        nt_ratelimit_on_throttle(&rl, T0, rows[i].retry_after_ms);
        if (rows[i].hold_us > 0) {
            CHECKF(!nt_ratelimit_take(&rl, T0 + rows[i].hold_us - 1),
                   "qps %g, Retry-After %lld ms: a call 1 us before the end", rows[i].qps,
                   (long long)rows[i].retry_after_ms);
            CHECKF(nt_ratelimit_wait_us(&rl, T0) == rows[i].hold_us,
                   "qps %g, Retry-After %lld ms: wait %lld us", rows[i].qps,
                   (long long)rows[i].retry_after_ms, (long long)nt_ratelimit_wait_us(&rl, T0));
        }
        CHECKF(nt_ratelimit_take(&rl, T0 + rows[i].hold_us),
               "qps %g, Retry-After %lld ms: refused at the end of the hold", rows[i].qps,
               (long long)rows[i].retry_after_ms);
    }
    /* a shorter Retry-After does not cut a longer hold short */
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 100, 100, T0);
    nt_ratelimit_on_throttle(&rl, T0, 5000);
    nt_ratelimit_on_throttle(&rl, T0 + SEC, 1000);
    ncases += 2;
    CHECK(!nt_ratelimit_take(&rl, T0 + 4 * SEC));
    CHECK(nt_ratelimit_take(&rl, T0 + 5 * SEC));
}

static void test_lease(void)
{
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 10, 10, T0);
    nt_ratelimit_grant(&rl, 3, T0, 0);
    int n = 0;
    while (n < 100 && nt_ratelimit_take(&rl, T0))
        n++;
    ncases += 4;
    CHECKF(n == 3, "%d calls on a lease of 3 (bucket has 10)", n);
    CHECK(nt_ratelimit_leased_left(&rl, T0) < 1);
    nt_ratelimit_grant(&rl, 20, T0, 0);
    n = 0;
    while (n < 100 && nt_ratelimit_take(&rl, T0))
        n++;
    /* the local bucket still caps the spending: 7 tokens left in it */
    CHECKF(n == 7, "%d calls with 20 leased and 7 local tokens", n);
    CHECK(near(nt_ratelimit_leased_left(&rl, T0), 13, 0.01));
}

/* cluster_rate_limit once saw 429s after a slow window: tokens granted to a
 * worker that could not spend them (stalled on PostgreSQL) were spent later
 * at the local rate on top of the other worker's share. A grant replaces
 * what is left and expires. */
static void test_lease_not_hoarded(void)
{
    nt_ratelimit_t rl;
    nt_ratelimit_init(&rl, 100, 10, T0);
    nt_ratelimit_grant(&rl, 250, T0, SEC);
    nt_ratelimit_grant(&rl, 20, T0, SEC);
    ncases += 5;
    CHECKF(near(nt_ratelimit_leased_left(&rl, T0), 20, 0.01),
           "%.2f left after grants of 250 and 20", nt_ratelimit_leased_left(&rl, T0));
    /* unspent after the ttl: nothing to spend, though the local bucket is full */
    CHECK(nt_ratelimit_leased_left(&rl, T0 + 2 * SEC) == 0);
    CHECK(!nt_ratelimit_take(&rl, T0 + 2 * SEC));
    /* a fraction left over is kept with the next grant, a whole token is not */
    nt_ratelimit_grant(&rl, 2.5, T0 + 3 * SEC, SEC);
    CHECK(nt_ratelimit_take(&rl, T0 + 3 * SEC) && nt_ratelimit_take(&rl, T0 + 3 * SEC));
    nt_ratelimit_grant(&rl, 1, T0 + 3 * SEC, SEC);
    CHECKF(near(nt_ratelimit_leased_left(&rl, T0 + 3 * SEC), 1.5, 0.01), "%.2f left",
           nt_ratelimit_leased_left(&rl, T0 + 3 * SEC));
}

/* After a storm (fault suite storm_429): 5 s after the last cut, recovery
 * is five times faster than right after it. */
static void test_recovery_after_storm(void)
{
    nt_ratelimit_t soon, later;
    nt_ratelimit_init(&soon, 1000, 100, T0);
    nt_ratelimit_on_throttle(&soon, T0, -1); /* 1000 -> 500 */
    later = soon;
    double r0 = soon.rate;
    for (int k = 0; k < 100; k++) {
        nt_ratelimit_on_success(&soon, T0 + SEC + k * MS);      /* 1 s after the cut */
        nt_ratelimit_on_success(&later, T0 + 6 * SEC + k * MS); /* 6 s after it */
    }
    ncases++;
    CHECKF(soon.rate > r0 && later.rate > soon.rate,
           "100 successes from %.1f: %.1f at +1 s, %.1f at +6 s (want the second faster)", r0,
           soon.rate, later.rate);
    ncases++;
    CHECKF((later.rate - r0) > 4.5 * (soon.rate - r0) && later.rate <= 1000,
           "recovery at +6 s gained %.1f, at +1 s %.1f (want 5x), rate %.1f (cap 1000)",
           later.rate - r0, soon.rate - r0, later.rate);
}

int main(void)
{
    test_recovery_after_storm();
    test_bucket();
    test_unlimited();
    test_adaptive();
    test_aimd();
    test_retry_after();
    test_lease();
    test_lease_not_hoarded();
    printf("test_ratelimit: %d cases\n", ncases);
    CHECK_DONE();
}
