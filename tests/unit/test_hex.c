/*
 * test_hex.c — the one hex encoder and decoder (common/hex.h).
 */
#include <string.h>

#include "check.h"
#include "err.h"
#include "hex.h"

static void test_encode(void)
{
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } rows[] = {
        {"", 0, ""},
        {"\x00", 1, "00"},
        {"\xff\x10\x0a", 3, "ff100a"},
        {"numtrust", 8, "6e756d7472757374"},
        {"\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        char out[64];
        memset(out, 'x', sizeof(out));
        nt_hex_encode(rows[i].in, rows[i].n, out);
        CHECKF(strcmp(out, rows[i].want) == 0, "row %zu: \"%s\", want \"%s\"", i, out,
               rows[i].want);
    }
    for (unsigned v = 0; v < 32; v++)
        CHECK_INT(nt_hex_digit(v), "0123456789abcdef"[v & 15]);
}

static void test_value(void)
{
    static const struct {
        char c;
        int want;
    } rows[] = {{'0', 0},  {'9', 9},  {'a', 10}, {'f', 15},  {'A', 10},
                {'F', 15}, {'g', -1}, {'G', -1}, {'/', -1},  {':', -1},
                {'@', -1}, {'`', -1}, {' ', -1}, {'\0', -1}, {(char)0xc3, -1}};
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++)
        CHECKF(nt_hex_value(rows[i].c) == rows[i].want, "'%c' (0x%02x): %d, want %d", rows[i].c,
               (unsigned char)rows[i].c, nt_hex_value(rows[i].c), rows[i].want);
    /* every byte round-trips */
    for (unsigned b = 0; b < 256; b++) {
        unsigned char in = (unsigned char)b;
        char out[3];
        nt_hex_encode(&in, 1, out);
        CHECK_INT(nt_hex_value(out[0]) * 16 + nt_hex_value(out[1]), b);
    }
}

int main(void)
{
    test_encode();
    test_value();
    CHECK_DONE();
}
