/*
 * clock.h — clocks and RFC 3339 timestamps.
 *
 * Deadlines and timers use the monotonic clock; anything stored or sent
 * (envelope created_at / not_before, database timestamps) uses wall-clock
 * milliseconds since the Unix epoch, rendered as RFC 3339 in UTC.
 */
#ifndef NT_CLOCK_H
#define NT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define NT_RFC3339_LEN 48 /* buffer size for nt_clock_format */

/* Monotonic milliseconds (CLOCK_MONOTONIC). */
int64_t nt_clock_mono_ms(void);

/* Monotonic microseconds. */
int64_t nt_clock_mono_us(void);

/* Wall-clock milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t nt_clock_wall_ms(void);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (NT_RFC3339_LEN bytes). */
void nt_clock_format(int64_t ms, char out[NT_RFC3339_LEN]);

/* Parses an RFC 3339 timestamp ("Z" or "+hh:mm" offset, optional fraction)
 * whose UTC time lies in years 0001-9999 (what nt_clock_format writes).
 * Returns 0 and sets *ms, or NT_EINVAL. */
int nt_clock_parse(const char *s, int64_t *ms) NT_MUSTCHECK;

/* Days since 1970-01-01 for a civil date (proleptic Gregorian). */
int64_t nt_clock_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
