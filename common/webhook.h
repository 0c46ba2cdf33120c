/*
 * webhook.h — signed webhooks (docs/policies.md, Alerts).
 *
 * A delivery is an HTTP POST of a JSON body with
 *   X-Numtrust-Delivery:  the delivery's id (UUID; the same on every retry)
 *   X-Numtrust-Timestamp: unix seconds when this attempt was signed
 *   X-Numtrust-Signature: v1=<lowercase hex HMAC-SHA256(secret, TIMESTAMP "." BODY)>
 * A receiver recomputes the signature, compares it in constant time,
 * refuses timestamps too far from its clock (replays), and deduplicates on
 * the delivery id (delivery is at least once). Retries wait an exponential
 * backoff with jitter. Pure functions: no I/O.
 */
#ifndef NT_WEBHOOK_H
#define NT_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NT_WEBHOOK_SIG_LEN 68 /* "v1=" + 64 hex digits + NUL */

/* Writes "v1=<hex>" for (secret, ts, body) into out. 0, or NT_EINVAL for an
 * empty secret or NT_ERR when the digest fails. */
int nt_webhook_sign(const char *secret, int64_t ts, const void *body, size_t len,
                    char out[NT_WEBHOOK_SIG_LEN]) NT_MUSTCHECK;

/* Verifies a received signature header (which may hold several
 * comma-separated "v1=..." values, for secret rotation) and timestamp
 * header against the body, accepting |now_s - ts| <= tolerance_s. 0 when it
 * is valid; NT_EINVAL with err saying which check failed. */
int nt_webhook_verify(const char *secret, const char *ts_header, const char *sig_header,
                      const void *body, size_t len, int64_t now_s, int64_t tolerance_s,
                      nt_err_t *err) NT_MUSTCHECK;

/* The wait before attempt number `attempt` (1 = the first retry): the
 * exponential delay min(cap_ms, base_ms * 2^(attempt - 1)), of which the
 * upper half is jitter drawn from seed (e.g. a hash of the delivery id and
 * attempt), so that deliveries failing together spread out. */
int64_t nt_webhook_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t seed);

#endif
