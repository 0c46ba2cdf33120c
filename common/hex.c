/*
 * hex.c — lowercase hexadecimal (see hex.h).
 */
#include "hex.h"

void nt_hex_encode(const void *in, size_t n, char *out)
{
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = nt_hex_digit(p[i] >> 4);
        out[2 * i + 1] = nt_hex_digit(p[i]);
    }
    out[2 * n] = '\0';
}
