/*
 * redact.h — untrusted text (what a platform answers) made safe to store and
 * log: our credentials removed, phone numbers masked, bytes made printable
 * UTF-8.
 *
 * A platform may echo a request back in an error: our bearer token, our
 * signature, the number we asked about (percent-encoded in a URL it quotes).
 * Whatever numtrust keeps from a platform (jobs.last_error,
 * dead_letters.reason, the dead-letter topic's error header, log lines)
 * passes through nt_redact first.
 */
#ifndef NT_REDACT_H
#define NT_REDACT_H

#include <stddef.h>

/* Writes text into out (outsz bytes, NUL-terminated), with:
 *  - percent-encoded printable ASCII decoded first ("%2B86138…" is a
 *    number like any other);
 *  - each of the nsecrets strings in secrets (NULL entries and ones shorter
 *    than 4 bytes are skipped) replaced by "****";
 *  - the value after "Bearer ", "Basic ", "authorization", "token",
 *    "secret", "signature", "password" or "api_key" (and ':' or '=') replaced
 *    by "****", case-insensitively;
 *  - phone numbers masked (nt_phone_mask_text);
 *  - control characters and bytes that are not UTF-8 replaced by '?'.
 * Returns the length written (truncated to fit). text may be NULL (""). */
size_t nt_redact(const char *text, const char *const *secrets, size_t nsecrets, char *out,
                 size_t outsz);

#endif
