/*
 * clock.c — clocks and RFC 3339 formatting/parsing without locale or TZ
 * dependence (no strptime/timegm), so results never depend on the host.
 */
#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The domain clock's offset: process-wide by contract (clock.h), like the run
 * flag, because every domain timestamp of the process must agree. Written by
 * whoever last read it from the database, read by anyone. */
static _Atomic int_least64_t domain_offset_ms;

int64_t nt_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nt_clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t nt_clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t nt_clock_domain_ms(void)
{
    return nt_clock_wall_ms() + (int64_t)atomic_load(&domain_offset_ms);
}

void nt_clock_set_offset_ms(int64_t offset_ms)
{
    atomic_store(&domain_offset_ms, (int_least64_t)offset_ms);
}

int64_t nt_clock_offset_ms(void)
{
    return (int64_t)atomic_load(&domain_offset_ms);
}

typedef struct unit_s {
    const char *name;
    int64_t ms;
} unit_t;

/* Longest names first, so "ms" is not read as "m" then "s". */
static const unit_t units[] = {
    {"ms", 1},        {"w", 7 * 86400000LL}, {"d", 86400000LL},
    {"h", 3600000LL}, {"m", 60000LL},        {"s", 1000LL},
};

#define DURATION_MAX_MS (100LL * 366 * 86400000LL)

int nt_clock_parse_duration(const char *s, bool allow_negative, int64_t *ms)
{
    int64_t total = 0;
    int sign = 1;
    if (s == NULL || *s == '\0')
        return NT_EINVAL;
    if (*s == '+' || *s == '-') {
        if (*s == '-' && !allow_negative)
            return NT_EINVAL;
        sign = *s == '-' ? -1 : 1;
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *ms = 0;
        return NT_OK;
    }
    if (*s == '\0')
        return NT_EINVAL;
    while (*s != '\0') {
        int64_t n = 0;
        int nd = 0;
        while (*s >= '0' && *s <= '9') {
            n = n * 10 + (*s++ - '0');
            if (++nd > 12)
                return NT_EINVAL;
        }
        if (nd == 0)
            return NT_EINVAL;
        const unit_t *u = NULL;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && u == NULL; i++) {
            size_t len = strlen(units[i].name);
            if (strncmp(s, units[i].name, len) == 0)
                u = &units[i];
        }
        if (u == NULL || n > DURATION_MAX_MS / u->ms)
            return NT_EINVAL;
        total += n * u->ms;
        if (total > DURATION_MAX_MS)
            return NT_EINVAL;
        s += strlen(u->name);
    }
    *ms = sign * total;
    return NT_OK;
}

void nt_clock_format_duration(int64_t ms, char out[NT_RFC3339_LEN])
{
    char sign = ms < 0 ? '-' : '+';
    uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
    uint64_t days = a / 86400000u, rest = a % 86400000u;
    unsigned h = (unsigned)(rest / 3600000u), mi = (unsigned)(rest / 60000u % 60u),
             sec = (unsigned)(rest / 1000u % 60u), msec = (unsigned)(rest % 1000u);
    if (msec != 0)
        snprintf(out, NT_RFC3339_LEN, "%c%llud%02u:%02u:%02u.%03u", sign, (unsigned long long)days,
                 h, mi, sec, msec);
    else
        snprintf(out, NT_RFC3339_LEN, "%c%llud%02u:%02u:%02u", sign, (unsigned long long)days, h,
                 mi, sec);
}

/* Howard Hinnant's civil-date algorithms. */
int64_t nt_clock_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void nt_clock_format(int64_t ms, char out[NT_RFC3339_LEN])
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t msec = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, NT_RFC3339_LEN, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)msec);
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return NT_EINVAL;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return NT_OK;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int nt_clock_parse(const char *s, int64_t *ms)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int y, mo, d, h, mi, sec, frac = 0;
    if (s == NULL)
        return NT_EINVAL;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
        return NT_EINVAL;
    if (*p != 'T' && *p != 't' && *p != ' ')
        return NT_EINVAL;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
        digits(&p, 2, &sec))
        return NT_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60)
        return NT_EINVAL;
    if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        return NT_EINVAL;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 3)
                frac = frac * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return NT_EINVAL;
        for (; n < 3; n++)
            frac *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
            return NT_EINVAL;
        offset_min = sign * (oh * 60 + om);
    } else {
        return NT_EINVAL;
    }
    if (*p != '\0')
        return NT_EINVAL;
    if (sec == 60)
        sec = 59; /* leap second: clamp */
    int64_t days = nt_clock_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - (int64_t)offset_min * 60;
    /* in UTC the time must still be within years 0001-9999, which is what
     * nt_clock_format writes: an offset must not push it outside */
    static const int64_t min_s = -62135596800LL; /* 0001-01-01T00:00:00Z */
    static const int64_t max_s = 253402300799LL; /* 9999-12-31T23:59:59Z */
    if (secs < min_s || secs > max_s)
        return NT_EINVAL;
    *ms = secs * 1000 + frac;
    return NT_OK;
}
