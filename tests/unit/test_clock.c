/*
 * test_clock.c — RFC 3339 formatting and parsing (clock.h): format and parse
 * tables, invalid dates and garbage, round trips, civil-date arithmetic and
 * the clocks' monotonicity; durations ("1d12h") and numtrust time (the
 * domain clock's offset). Expected epoch milliseconds were computed
 * independently with Python's datetime (e.g.
 * datetime.fromisoformat('2026-11-28T00:00:00+00:00').timestamp()).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "clock.h"

static int ncases;

static void test_format(void)
{
    static const struct {
        int64_t ms;
        const char *want;
    } rows[] = {
        {0, "1970-01-01T00:00:00.000Z"},
        {1, "1970-01-01T00:00:00.001Z"},
        {-1, "1969-12-31T23:59:59.999Z"},
        {1795824000000, "2026-11-28T00:00:00.000Z"},
        {1795824000123, "2026-11-28T00:00:00.123Z"},
        {1709210096789, "2024-02-29T12:34:56.789Z"}, /* leap day */
        {951782400000, "2000-02-29T00:00:00.000Z"},  /* leap day of a 400-year */
        {1483228799000, "2016-12-31T23:59:59.000Z"},
        {1767225600000, "2026-01-01T00:00:00.000Z"},
        {253402300799999, "9999-12-31T23:59:59.999Z"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[NT_RFC3339_LEN];
        nt_clock_format(rows[i].ms, out);
        CHECKF(strcmp(out, rows[i].want) == 0, "format(%lld): got \"%s\", want \"%s\"",
               (long long)rows[i].ms, out, rows[i].want);
    }
}

static void test_parse(void)
{
    static const struct {
        const char *in;
        int rc;
        int64_t ms;
    } rows[] = {
        {"2026-11-28T00:00:00Z", NT_OK, 1795824000000},
        {"2026-11-28T00:00:00.000Z", NT_OK, 1795824000000},
        {"2026-11-28T00:00:00.123Z", NT_OK, 1795824000123},
        {"2026-11-28T00:00:00.5Z", NT_OK, 1795824000500},
        {"2026-11-28T00:00:00.12Z", NT_OK, 1795824000120},
        {"2026-11-28T00:00:00.123456789Z", NT_OK, 1795824000123}, /* sub-ms dropped */
        {"2026-11-28T08:00:00+08:00", NT_OK, 1795824000000},
        {"2026-11-28T08:00:00.123+08:00", NT_OK, 1795824000123},
        {"2026-11-27T19:00:00-05:00", NT_OK, 1795824000000},
        {"2026-11-28T05:30:00+05:30", NT_OK, 1795824000000},
        {"2026-11-28T00:00:00+00:00", NT_OK, 1795824000000},
        {"2026-11-28T00:00:00-00:00", NT_OK, 1795824000000},
        {"2026-11-28t00:00:00z", NT_OK, 1795824000000}, /* RFC 3339 allows lower case */
        {"2026-11-28 00:00:00Z", NT_OK, 1795824000000}, /* and a space (RFC 3339 5.6 note) */
        {"2024-02-29T12:34:56.789Z", NT_OK, 1709210096789},
        {"2000-02-29T00:00:00Z", NT_OK, 951782400000},
        {"1970-01-01T00:00:00Z", NT_OK, 0},
        {"1969-12-31T23:59:59.999Z", NT_OK, -1},
        {"2016-12-31T23:59:60Z", NT_OK, 1483228799000}, /* leap second, clamped */
        {"9999-12-31T23:59:59.999Z", NT_OK, 253402300799999},
        /* invalid dates */
        {"2026-02-30T00:00:00Z", NT_EINVAL, 0},
        {"2026-02-29T00:00:00Z", NT_EINVAL, 0}, /* 2026 is not a leap year */
        {"1900-02-29T00:00:00Z", NT_EINVAL, 0}, /* nor is 1900 */
        {"2026-04-31T00:00:00Z", NT_EINVAL, 0},
        {"2026-13-01T00:00:00Z", NT_EINVAL, 0},
        {"2026-00-10T00:00:00Z", NT_EINVAL, 0},
        {"2026-01-00T00:00:00Z", NT_EINVAL, 0},
        {"2026-01-32T00:00:00Z", NT_EINVAL, 0},
        {"2026-11-28T24:00:00Z", NT_EINVAL, 0},
        {"2026-11-28T23:60:00Z", NT_EINVAL, 0},
        {"2026-11-28T23:59:61Z", NT_EINVAL, 0},
        /* bad syntax */
        {"2026-11-28T00:00:00", NT_EINVAL, 0}, /* no offset */
        {"2026-11-28", NT_EINVAL, 0},
        {"2026-11-28T00:00Z", NT_EINVAL, 0},
        {"2026-11-28T00:00:00.Z", NT_EINVAL, 0},
        {"2026-11-28T00:00:00Zjunk", NT_EINVAL, 0},
        {"2026-11-28T00:00:00Z ", NT_EINVAL, 0},
        {" 2026-11-28T00:00:00Z", NT_EINVAL, 0},
        {"2026-11-28T00:00:00+0800", NT_EINVAL, 0},
        {"2026-11-28T00:00:00+08", NT_EINVAL, 0},
        {"2026-11-28T00:00:00+24:00", NT_EINVAL, 0},
        {"2026-11-28T00:00:00+08:60", NT_EINVAL, 0},
        {"2026-1-28T00:00:00Z", NT_EINVAL, 0},
        {"26-11-28T00:00:00Z", NT_EINVAL, 0},
        {"+2026-11-28T00:00:00Z", NT_EINVAL, 0},
        {"2026/11/28T00:00:00Z", NT_EINVAL, 0},
        {"2026-11-28X00:00:00Z", NT_EINVAL, 0},
        {"2026-11-28T0a:00:00Z", NT_EINVAL, 0},
        {"yesterday", NT_EINVAL, 0},
        {"1795824000000", NT_EINVAL, 0},
        {"", NT_EINVAL, 0},
        {NULL, NT_EINVAL, 0},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        int64_t ms = -12345;
        int rc = nt_clock_parse(rows[i].in, &ms);
        const char *in = rows[i].in ? rows[i].in : "(null)";
        CHECKF(rc == rows[i].rc, "parse(\"%s\"): rc %d, want %d", in, rc, rows[i].rc);
        if (rc == NT_OK && rows[i].rc == NT_OK)
            CHECKF(ms == rows[i].ms, "parse(\"%s\"): %lld, want %lld", in, (long long)ms,
                   (long long)rows[i].ms);
    }
}

static void test_round_trip(void)
{
    static const int64_t rows[] = {0,
                                   1,
                                   -1,
                                   999,
                                   1000,
                                   86399999,
                                   86400000,
                                   951782399999,
                                   951782400000,
                                   1709210096789,
                                   1795824000123,
                                   4102444800000 /* 2100-01-01 */,
                                   253402300799999,
                                   -62135596800000 /* 0001-01-01 */};
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[NT_RFC3339_LEN];
        int64_t back = 0;
        nt_clock_format(rows[i], out);
        int rc = nt_clock_parse(out, &back);
        CHECKF(rc == NT_OK && back == rows[i], "round trip %lld -> \"%s\" -> rc %d, %lld",
               (long long)rows[i], out, rc, (long long)back);
    }
    /* every day of a leap year and of a common year survives */
    int64_t start = 1704067200000; /* 2024-01-01 */
    for (int d = 0; d < 366 + 365; d++, ncases++) {
        int64_t ms = start + (int64_t)d * 86400000 + 45296789; /* 12:34:56.789 */
        char out[NT_RFC3339_LEN];
        int64_t back = 0;
        nt_clock_format(ms, out);
        int rc = nt_clock_parse(out, &back);
        CHECKF(rc == NT_OK && back == ms && strstr(out, "T12:34:56.789Z") != NULL,
               "day %d: %lld -> \"%s\" -> %lld", d, (long long)ms, out, (long long)back);
    }
}

static void test_days_from_civil(void)
{
    static const struct {
        int64_t y;
        unsigned m, d;
        int64_t want;
    } rows[] = {
        {1970, 1, 1, 0},     {1970, 1, 2, 1},      {1969, 12, 31, -1},
        {2000, 3, 1, 11017}, {1900, 1, 1, -25567}, {2026, 11, 28, 20785},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        int64_t got = nt_clock_days_from_civil(rows[i].y, rows[i].m, rows[i].d);
        CHECKF(got == rows[i].want, "days_from_civil(%lld-%02u-%02u) = %lld, want %lld",
               (long long)rows[i].y, rows[i].m, rows[i].d, (long long)got, (long long)rows[i].want);
    }
}

static void test_clocks(void)
{
    int64_t a = nt_clock_mono_us(), b = nt_clock_mono_us();
    int64_t ma = nt_clock_mono_ms();
    int64_t wall = nt_clock_wall_ms();
    ncases += 3;
    CHECKF(b >= a, "mono_us went backwards: %lld then %lld", (long long)a, (long long)b);
    CHECKF(ma >= a / 1000 - 1 && ma <= b / 1000 + 1000, "mono_ms %lld vs mono_us %lld",
           (long long)ma, (long long)a);
    CHECKF(wall > 1704067200000, "wall_ms %lld is before 2024", (long long)wall);
}

/* Regression (found by fuzz_job_decode): an offset must not push the UTC
 * time outside the years nt_clock_format can write, or a re-encoded job
 * would no longer decode. */
static void test_year_bounds(void)
{
    static const struct {
        const char *in;
        bool ok;
    } rows[] = {
        {"0001-01-01T00:00:00Z", true},
        {"9999-12-31T23:59:59.999Z", true},
        {"0000-01-01T00:00:00+00:01", false}, /* 0000-12-31T23:59 of year -1 in UTC */
        {"0001-01-01T00:00:00+00:01", false},
        {"9999-12-31T23:59:59-23:59", false}, /* year 10000 in UTC */
        {"9999-12-31T00:00:00-23:59", true},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        int64_t ms = 0;
        int rc = nt_clock_parse(rows[i].in, &ms);
        CHECKF((rc == NT_OK) == rows[i].ok, "nt_clock_parse(\"%s\") = %d, want %s", rows[i].in, rc,
               rows[i].ok ? "ok" : "NT_EINVAL");
        if (rc != NT_OK)
            continue;
        char out[NT_RFC3339_LEN];
        int64_t again = -1;
        nt_clock_format(ms, out);
        CHECKF(nt_clock_parse(out, &again) == NT_OK && again == ms,
               "\"%s\" formats as \"%s\", which does not parse back", rows[i].in, out);
    }
}

static void test_durations(void)
{
    static const struct {
        const char *in;
        bool neg;
        int rc;
        int64_t ms;
        const char *fmt; /* nt_clock_format_duration of ms */
    } rows[] = {
        {"0", false, NT_OK, 0, "+0d00:00:00"},
        {"90d", false, NT_OK, 90 * 86400000LL, "+90d00:00:00"},
        {"1d12h", false, NT_OK, 36 * 3600000LL, "+1d12:00:00"},
        {"2w", false, NT_OK, 14 * 86400000LL, "+14d00:00:00"},
        {"500ms", false, NT_OK, 500, "+0d00:00:00.500"},
        {"1m30s", false, NT_OK, 90000, "+0d00:01:30"},
        {"+7d", false, NT_OK, 7 * 86400000LL, "+7d00:00:00"},
        {"-2h", true, NT_OK, -2 * 3600000LL, "-0d02:00:00"},
        {"-2h", false, NT_EINVAL, 0, NULL},
        {"", false, NT_EINVAL, 0, NULL},
        {"-", true, NT_EINVAL, 0, NULL},
        {"d", false, NT_EINVAL, 0, NULL},
        {"10", false, NT_EINVAL, 0, NULL}, /* a unit is required */
        {"10y", false, NT_EINVAL, 0, NULL},
        {"1d 2h", false, NT_EINVAL, 0, NULL},
        {"36601d", false, NT_EINVAL, 0, NULL}, /* past 100 years */
        {"9999999999999d", false, NT_EINVAL, 0, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        int64_t ms = -12345;
        int rc = nt_clock_parse_duration(rows[i].in, rows[i].neg, &ms);
        CHECKF(rc == rows[i].rc, "parse_duration(\"%s\") = %d, want %d", rows[i].in, rc,
               rows[i].rc);
        if (rc != NT_OK || rows[i].rc != NT_OK)
            continue;
        CHECKF(ms == rows[i].ms, "parse_duration(\"%s\") = %lld ms, want %lld", rows[i].in,
               (long long)ms, (long long)rows[i].ms);
        char out[NT_RFC3339_LEN];
        nt_clock_format_duration(ms, out);
        CHECKF(strcmp(out, rows[i].fmt) == 0, "format_duration(%lld) = \"%s\", want \"%s\"",
               (long long)ms, out, rows[i].fmt);
    }
}

/* Numtrust time is real time plus the offset last learned. */
static void test_domain_clock(void)
{
    ncases += 4;
    CHECK_INT(nt_clock_offset_ms(), 0);
    int64_t w0 = nt_clock_wall_ms(), d0 = nt_clock_domain_ms(), w1 = nt_clock_wall_ms();
    CHECKF(d0 >= w0 && d0 <= w1, "domain %lld outside wall [%lld, %lld] at offset 0", (long long)d0,
           (long long)w0, (long long)w1);
    const int64_t off = 400LL * 86400000LL;
    nt_clock_set_offset_ms(off);
    CHECK_INT(nt_clock_offset_ms(), off);
    w0 = nt_clock_wall_ms();
    d0 = nt_clock_domain_ms();
    w1 = nt_clock_wall_ms();
    CHECKF(d0 >= w0 + off && d0 <= w1 + off, "domain %lld outside wall+offset [%lld, %lld]",
           (long long)d0, (long long)(w0 + off), (long long)(w1 + off));
    nt_clock_set_offset_ms(0);
}

int main(void)
{
    test_durations();
    test_domain_clock();
    test_year_bounds();
    test_format();
    test_parse();
    test_round_trip();
    test_days_from_civil();
    test_clocks();
    printf("test_clock: %d cases\n", ncases);
    CHECK_DONE();
}
