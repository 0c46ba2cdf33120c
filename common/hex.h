/*
 * hex.h — hexadecimal, the one encoder and decoder every module and the
 * simulator use (signatures, digests, tokens, UUIDs, bytea literals, JSON
 * \u escapes, percent-encoding).
 */
#ifndef NT_HEX_H
#define NT_HEX_H

#include <stddef.h>

/* The lowercase hex digit of v & 15. */
static inline char nt_hex_digit(unsigned v)
{
    return "0123456789abcdef"[v & 15];
}

/* The value of hex digit c (either case), or -1 when c is not one. */
static inline int nt_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Writes the 2 * n lowercase hex digits of in[0..n) and a NUL to out
 * (2 * n + 1 bytes). */
void nt_hex_encode(const void *in, size_t n, char *out);

#endif
