/*
 * clock.h — clocks and RFC 3339 timestamps.
 *
 * Deadlines and timers use the monotonic clock; anything stored or sent
 * (envelope created_at / not_before, database timestamps) uses wall-clock
 * milliseconds since the Unix epoch, rendered as RFC 3339 in UTC.
 *
 * Numtrust time (the domain clock, docs/maintenance.md): maintenance rules
 * are about time (7 days ahead, within 24 h, yearly) and tests and demos move
 * it forward. PostgreSQL's nt_now() is the source of truth (real time plus
 * the single-row clock_offset); a process learns the offset from the
 * database (the worker from its claim statement) and stamps domain times —
 * a check's checked_at, a push's pushed_at, an appeal's filed_at — with
 * nt_clock_domain_ms(). Bookkeeping (ledger times, retry delays) stays real.
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

/* Numtrust time: wall-clock milliseconds plus the offset last learned with
 * nt_clock_set_offset_ms() (0 until then). */
int64_t nt_clock_domain_ms(void);

/* Records the domain clock's offset (nt_now() - now() in PostgreSQL, in
 * milliseconds). Safe from any thread; the last value wins. */
void nt_clock_set_offset_ms(int64_t offset_ms);

/* The offset last recorded (0 until then). */
int64_t nt_clock_offset_ms(void);

/* Parses a duration: one or more <integer><unit> with units w, d, h, m, s,
 * ms ("90d", "1d12h", "500ms"), optionally signed ("-2h") when allow_negative,
 * or "0". Returns 0 and sets *ms, or NT_EINVAL (empty, unknown unit,
 * overflow past 100 years). */
int nt_clock_parse_duration(const char *s, bool allow_negative, int64_t *ms) NT_MUSTCHECK;

/* Writes a duration as "+1d02:03:04.005" (sign, days, h:m:s, milliseconds
 * only when not 0) into out (NT_RFC3339_LEN bytes). */
void nt_clock_format_duration(int64_t ms, char out[NT_RFC3339_LEN]);

/* Writes ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (NT_RFC3339_LEN bytes). */
void nt_clock_format(int64_t ms, char out[NT_RFC3339_LEN]);

/* Parses an RFC 3339 timestamp ("Z" or "+hh:mm" offset, optional fraction)
 * whose UTC time lies in years 0001-9999 (what nt_clock_format writes).
 * Returns 0 and sets *ms, or NT_EINVAL. */
int nt_clock_parse(const char *s, int64_t *ms) NT_MUSTCHECK;

/* Days since 1970-01-01 for a civil date (proleptic Gregorian). */
int64_t nt_clock_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif
