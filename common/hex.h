/*
 * hex.h — lowercase hexadecimal, the one encoder every module uses
 * (signatures, digests, UUIDs, bytea literals, JSON \u escapes).
 */
#ifndef NT_HEX_H
#define NT_HEX_H

#include <stddef.h>

/* The lowercase hex digit of v & 15. */
static inline char nt_hex_digit(unsigned v)
{
    return "0123456789abcdef"[v & 15];
}

/* Writes the 2 * n lowercase hex digits of in[0..n) and a NUL to out
 * (2 * n + 1 bytes). */
void nt_hex_encode(const void *in, size_t n, char *out);

#endif
