/*
 * test_phone.c — E.164 validation, masking of one number, and masking of
 * numbers inside log text (phone.h). Tables of {input, expected}; the
 * masking rows follow the documented example +8613812345678 ->
 * +86138****5678 (country code and operator prefix kept, four stars, last
 * four digits kept).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "phone.h"

static int ncases;

static void test_is_e164(void)
{
    static const struct {
        const char *in;
        bool want;
    } rows[] = {
        {"+8613800138000", true},
        {"+14155552671", true},
        {"+12345678", true},          /* 8 digits: the shortest */
        {"+123456789012345", true},   /* 15 digits: the longest */
        {"+1234567", false},          /* 7 digits: too short */
        {"+1234567890123456", false}, /* 16 digits: too long */
        {"+0123456789", false},       /* country code cannot start with 0 */
        {"+08613800138000", false},
        {"8613800138000", false}, /* no + */
        {"++8613800138000", false},
        {"+86138001380a0", false}, /* a letter */
        {"+86 13800138000", false},
        {"+86-138-0013-8000", false},
        {"+8613800138000\n", false},
        {"+8613800138000 ", false},
        {" +8613800138000", false},
        {"-8613800138000", false},
        {"+\xef\xbc\x98\xef\xbc\x96\xef\xbc\x91\xef\xbc\x93\xef\xbc\x98\xef\xbc\x90\xef\xbc\x90"
         "\xef\xbc\x91",
         false}, /* full-width digits */
        {"+", false},
        {"", false},
        {NULL, false},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        bool got = nt_phone_is_e164(rows[i].in);
        CHECKF(got == rows[i].want, "is_e164 row %zu \"%s\": got %d, want %d", i,
               rows[i].in ? rows[i].in : "(null)", got, rows[i].want);
    }
}

static void test_mask(void)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen(in) */
        const char *want;
    } rows[] = {
        {"+8613812345678", 0, "+86138****5678"},     /* 13 digits, the documented example */
        {"+8613800138000", 0, "+86138****8000"},     /* 13 digits */
        {"+14155552671", 0, "+141****2671"},         /* 11 digits */
        {"+447911123456", 0, "+4479****3456"},       /* 12 digits */
        {"+4930123456", 0, "+49****3456"},           /* 10 digits */
        {"+12345678", 0, "+****5678"},               /* 8 digits: only the tail is kept */
        {"+123456789012345", 0, "+12345****2345"},   /* 15 digits: at most 5 kept in front */
        {"13812345678", 0, "138****5678"},           /* bare 11 digits */
        {"8613812345678", 0, "86138****5678"},       /* bare 13 digits */
        {"+8613812345678xyz", 14, "+86138****5678"}, /* only len bytes are read */
        {"", 0, ""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[64];
        size_t len = rows[i].len ? rows[i].len : strlen(rows[i].in);
        memset(out, 'X', sizeof(out));
        nt_phone_mask(rows[i].in, len, out, sizeof(out));
        CHECKF(strcmp(out, rows[i].want) == 0, "mask row %zu \"%s\": got \"%s\", want \"%s\"", i,
               rows[i].in, out, rows[i].want);
    }

    /* Any digit run (valid or not): never shown whole, at least one star. */
    const char *digits = "9876543210987654";
    for (size_t len = 1; len <= 16; len++, ncases++) {
        char out[64];
        nt_phone_mask(digits, len, out, sizeof(out));
        CHECKF(strchr(out, '*') != NULL, "mask of %zu digits \"%.*s\": \"%s\" has no star", len,
               (int)len, digits, out);
        CHECKF(strncmp(out, digits, len) != 0 || strlen(out) < len,
               "mask of %zu digits shows them all: \"%s\"", len, out);
    }

    /* A small output buffer is filled and NUL-terminated, never overrun. */
    static const struct {
        size_t outsz;
        const char *want;
    } small[] = {{1, ""}, {2, "+"}, {5, "+861"}, {8, "+86138*"}, {15, "+86138****5678"}};
    for (size_t i = 0; i < NT_ARRAY_LEN(small); i++, ncases++) {
        char out[32];
        memset(out, 'X', sizeof(out));
        nt_phone_mask("+8613812345678", 14, out, small[i].outsz);
        CHECKF(strcmp(out, small[i].want) == 0, "mask into %zu bytes: got \"%s\", want \"%s\"",
               small[i].outsz, out, small[i].want);
        CHECKF(out[small[i].outsz] == 'X', "mask into %zu bytes wrote past the buffer",
               small[i].outsz);
    }
}

static void test_mask_text(void)
{
    static const struct {
        const char *in;
        const char *want;
    } rows[] = {
        {"call +8613812345678 failed", "call +86138****5678 failed"},
        {"+8613812345678", "+86138****5678"},
        {"numbers +8613812345678,+14155552671.", "numbers +86138****5678,+141****2671."},
        {"{\"number\":\"+8613812345678\"}", "{\"number\":\"+86138****5678\"}"},
        {"(+8613812345678)", "(+86138****5678)"},
        {"tel:+8613812345678;x", "tel:+86138****5678;x"},
        {"bare 13812345678 here", "bare 138****5678 here"},
        {"bare 8613812345678", "bare 86138****5678"},
        /* not numbers */
        {"job 0a9321d4-f68a-5081-9fcd-861381234567 done",
         "job 0a9321d4-f68a-5081-9fcd-861381234567 done"}, /* all-digit UUID segment */
        {"id 12345678-1234-5678-1234-567812345678", "id 12345678-1234-5678-1234-567812345678"},
        {"partition 3 offset 4821377", "partition 3 offset 4821377"},
        {"offset=48213771 lag=12", "offset=48213771 lag=12"},
        {"token abc13812345678 and 13812345678xyz", "token abc13812345678 and 13812345678xyz"},
        {"trace 8613812345678abc", "trace 8613812345678abc"},
        {"ticket a1b2c3d4e5f60718", "ticket a1b2c3d4e5f60718"},
        {"short +1234567 and 1381234567", "short +1234567 and 1381234567"},
        {"sixteen 1234567890123456", "sixteen 1234567890123456"},
        {"at 2026-11-28T10:00:00.000Z", "at 2026-11-28T10:00:00.000Z"},
        {"1+1=2, 5% + 3", "1+1=2, 5% + 3"},
        {"", ""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[256];
        size_t n = nt_phone_mask_text(rows[i].in, out, sizeof(out));
        CHECKF(strcmp(out, rows[i].want) == 0, "mask_text row %zu: got \"%s\", want \"%s\"", i, out,
               rows[i].want);
        CHECKF(n == strlen(out), "mask_text row %zu: returned %zu, wrote %zu", i, n, strlen(out));
    }

    /* Truncation: the result fits outsz and never reveals the whole number. */
    static const struct {
        size_t outsz;
        const char *want;
    } small[] = {{1, ""}, {6, "call "}, {10, "call +861"}, {20, "call +86138****5678"}};
    for (size_t i = 0; i < NT_ARRAY_LEN(small); i++, ncases++) {
        char out[64];
        memset(out, 'X', sizeof(out));
        size_t n = nt_phone_mask_text("call +8613812345678 now", out, small[i].outsz);
        CHECKF(strcmp(out, small[i].want) == 0, "mask_text into %zu: got \"%s\", want \"%s\"",
               small[i].outsz, out, small[i].want);
        CHECKF(n == strlen(small[i].want), "mask_text into %zu: returned %zu", small[i].outsz, n);
        CHECKF(out[small[i].outsz] == 'X', "mask_text into %zu wrote past the buffer",
               small[i].outsz);
    }
}

int main(void)
{
    test_is_e164();
    test_mask();
    test_mask_text();
    printf("test_phone: %d cases\n", ncases);
    CHECK_DONE();
}
