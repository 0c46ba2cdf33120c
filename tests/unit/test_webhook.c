/*
 * test_webhook.c — webhook signatures and backoff (webhook.h). Expected
 * signatures were computed independently with Python:
 *   hmac.new(secret, b"%d." % ts + body, hashlib.sha256).hexdigest()
 * Verification accepts the right signature among several, refuses a changed
 * body, a wrong secret, a stale or future timestamp and malformed headers;
 * the backoff doubles from the base to the cap with its jitter in the upper
 * half, and different seeds spread.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "webhook.h"

static void test_sign(void)
{
    static const struct {
        const char *secret;
        int64_t ts;
        const char *body;
        const char *want;
    } rows[] = {
        {"whsec-0123456789abcdef", 1700000000, "{\"event\":\"test\"}",
         "v1=b988d128e149191238e2483bda5f6b7b6b6120fd7e9e5b2833656e1b7a269bea"},
        {"kkkkkkkkkkkkkkkk", 0, "",
         "v1=ebac77380a421376b9a6f1792d4339f5d34a256efbdcfd07f7a4f92fa274ab29"},
        {"whsec-0123456789abcdef", 1700000000,
         "{\"label\":\"\xe5\x8f\x8c"
         "11\"}",
         "v1=9a36f1687863a1c333cd2f3cf9f7f6a5c3d0f52dc567fd6d5acb6bba632a789d"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        char sig[NT_WEBHOOK_SIG_LEN];
        CHECK_INT(
            nt_webhook_sign(rows[i].secret, rows[i].ts, rows[i].body, strlen(rows[i].body), sig),
            NT_OK);
        CHECKF(strcmp(sig, rows[i].want) == 0, "row %zu: got %s, want %s", i, sig, rows[i].want);
    }
    char sig[NT_WEBHOOK_SIG_LEN];
    CHECK_INT(nt_webhook_sign("", 1, "x", 1, sig), NT_EINVAL);
}

static void test_verify(void)
{
    const char *secret = "whsec-0123456789abcdef";
    const char *body = "{\"event\":\"test\"}";
    const char *good = "v1=b988d128e149191238e2483bda5f6b7b6b6120fd7e9e5b2833656e1b7a269bea";
    char two[200];
    snprintf(two, sizeof(two), "v1=%064d, %s", 0, good);
    static const struct {
        const char *secret, *ts, *sig, *body;
        int64_t now;
        int want;
        const char *why;
    } rows[] = {
        {NULL, "1700000000", NULL, NULL, 1700000000, NT_OK, ""},
        {NULL, "1700000000", NULL, NULL, 1700000300, NT_OK, ""}, /* at the tolerance */
        {NULL, "1700000000", NULL, NULL, 1700000301, NT_EINVAL, "away from now"},
        {NULL, "1700000000", NULL, NULL, 1699999699, NT_EINVAL, "away from now"},
        {NULL, "1700000000", NULL, "{\"event\":\"tesT\"}", 1700000000, NT_EINVAL, "not match"},
        {"whsec-0123456789abcdeF", "1700000000", NULL, NULL, 1700000000, NT_EINVAL, "not match"},
        {NULL, "1700000001", NULL, NULL, 1700000000, NT_EINVAL, "not match"},
        {NULL, "17e8", NULL, NULL, 1700000000, NT_EINVAL, "not unix seconds"},
        {NULL, "", NULL, NULL, 1700000000, NT_EINVAL, "not unix seconds"},
        {NULL, "1700000000", "v1=", NULL, 1700000000, NT_EINVAL, "not match"},
        {NULL, "1700000000", "", NULL, 1700000000, NT_EINVAL, "not match"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_err_t err;
        nt_err_clear(&err);
        const char *b = rows[i].body ? rows[i].body : body;
        int rc = nt_webhook_verify(rows[i].secret ? rows[i].secret : secret, rows[i].ts,
                                   rows[i].sig ? rows[i].sig : good, b, strlen(b), rows[i].now, 300,
                                   &err);
        CHECKF(rc == rows[i].want, "row %zu: rc %d, want %d (%s)", i, rc, rows[i].want, err.msg);
        if (rows[i].want != NT_OK)
            CHECK_CONTAINS("verify message", err.msg, rows[i].why);
    }
    nt_err_t err;
    nt_err_clear(&err);
    CHECK_INT(
        nt_webhook_verify(secret, "1700000000", two, body, strlen(body), 1700000000, 300, &err),
        NT_OK);
    CHECK_INT(nt_webhook_verify(secret, NULL, good, body, strlen(body), 1700000000, 300, &err),
              NT_EINVAL);
}

static void test_backoff(void)
{
    /* the exponential delay and its jitter bounds: [d/2, d] */
    static const struct {
        int attempt;
        int64_t d;
    } rows[] = {{0, 1000},    {1, 1000},    {2, 2000},    {3, 4000},     {4, 8000},
                {5, 16000},   {6, 32000},   {7, 64000},   {8, 128000},   {9, 256000},
                {10, 300000}, {11, 300000}, {40, 300000}, {1000, 300000}};
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        for (uint64_t seed = 0; seed < 200; seed++) {
            int64_t ms = nt_webhook_backoff_ms(rows[i].attempt, 1000, 300000, seed);
            CHECKF(ms >= rows[i].d - rows[i].d / 2 && ms <= rows[i].d,
                   "attempt %d seed %llu: %lld not in [%lld, %lld]", rows[i].attempt,
                   (unsigned long long)seed, (long long)ms, (long long)(rows[i].d - rows[i].d / 2),
                   (long long)rows[i].d);
        }
    }
    /* the same seed gives the same delay; seeds spread over the range */
    CHECK_INT(nt_webhook_backoff_ms(3, 1000, 300000, 42),
              nt_webhook_backoff_ms(3, 1000, 300000, 42));
    int64_t lo = INT64_MAX, hi = 0;
    for (uint64_t seed = 0; seed < 1000; seed++) {
        int64_t ms = nt_webhook_backoff_ms(5, 1000, 300000, seed);
        lo = ms < lo ? ms : lo;
        hi = ms > hi ? ms : hi;
    }
    CHECKF(lo < 9000 && hi > 15000, "jitter spread: [%lld, %lld] over 1000 seeds", (long long)lo,
           (long long)hi);
    /* degenerate settings stay sane */
    CHECK_INT(nt_webhook_backoff_ms(3, 0, 0, 7) >= 1, 1);
    CHECK_INT(nt_webhook_backoff_ms(3, 5000, 1000, 7) <= 5000, 1);
}

int main(void)
{
    test_sign();
    test_verify();
    test_backoff();
    CHECK_DONE();
}
