/*
 * phone.h — E.164 phone numbers: validation and masking for logs.
 *
 * numtrust manages numbers in E.164 form only ("+" then 8 to 15 digits, the
 * first not 0). Logs never show a full number: nt_phone_mask keeps the
 * country code and operator prefix and the last four digits.
 */
#ifndef NT_PHONE_H
#define NT_PHONE_H

#include <stdbool.h>
#include <stddef.h>

#define NT_PHONE_MAX 16 /* "+" and 15 digits, without the NUL */

/* True when s is a valid E.164 number. s may be NULL. */
bool nt_phone_is_e164(const char *s);

/* Writes the masked form of the len bytes at s ("+86138****5678") into out
 * (outsz bytes, NUL-terminated). Works on any digit run, valid or not. */
void nt_phone_mask(const char *s, size_t len, char *out, size_t outsz);

/* Copies text into out, masking every phone-number-like digit run ("+" and
 * 8-15 digits, or 11-15 bare digits not inside a longer alphanumeric token).
 * Returns the length written (truncated to outsz-1). */
size_t nt_phone_mask_text(const char *text, char *out, size_t outsz);

#endif
