/*
 * test_buf.c — the capped byte buffer (buf.h): caps and NT_ETOOBIG leaving
 * the buffer unchanged, JSON string escaping (control characters, quotes,
 * backslash, multibyte UTF-8 kept, invalid bytes replaced by U+FFFD), the
 * UTF-8 validator (overlongs, surrogates, truncated sequences) and copying
 * with truncation at a character boundary.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"

static int ncases;

#define FFFD "\xef\xbf\xbd"

/* Parses exactly len bytes as one JSON value (nothing but whitespace after
 * it); NULL otherwise. Delete the result with cJSON_Delete. */
static cJSON *parse_exact(const char *data, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    while (root != NULL && end < data + len && (*end == ' ' || *end == '\n' || *end == '\t'))
        end++;
    if (root != NULL && end != data + len) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

static void test_caps(void)
{
    nt_buf_t b;
    int rc;

    nt_buf_init(&b, 10);
    CHECK(b.data == NULL && b.len == 0 && b.cap == 10);
    CHECK_INT(nt_buf_append(&b, "0123456789", 10), NT_OK);
    CHECK_INT(b.len, 10);
    /* one byte past the cap: refused, buffer unchanged */
    CHECK_INT(nt_buf_putc(&b, 'x'), NT_ETOOBIG);
    CHECK_INT(nt_buf_append(&b, "abc", 3), NT_ETOOBIG);
    CHECK_INT(nt_buf_puts(&b, "a"), NT_ETOOBIG);
    CHECK_INT(nt_buf_printf(&b, "%d", 7), NT_ETOOBIG);
    CHECK_INT(nt_buf_json_str(&b, "", 0), NT_ETOOBIG);
    CHECK_INT(nt_buf_reserve(&b, 1), NT_ETOOBIG);
    CHECK_INT(nt_buf_reserve(&b, (size_t)-1), NT_ETOOBIG); /* no overflow in len + n */
    CHECK_INT(b.len, 10);
    CHECK_STR(b.data, "0123456789");
    CHECK_INT(nt_buf_reserve(&b, 0), NT_OK);
    ncases += 10;

    /* consume and refill up to the cap again */
    nt_buf_consume(&b, 4);
    CHECK_STR(b.data, "456789");
    CHECK_INT(nt_buf_printf(&b, "%s", "abcd"), NT_OK);
    CHECK_STR(b.data, "456789abcd");
    nt_buf_consume(&b, 100);
    CHECK_INT(b.len, 0);
    CHECK_STR(b.data, "");
    nt_buf_reset(&b);
    CHECK_INT(b.len, 0);
    ncases += 5;

    /* a JSON string that does not fit leaves nothing behind */
    CHECK_INT(nt_buf_puts(&b, "ab"), NT_OK);
    rc = nt_buf_json_str(&b, "0123456789", 10);
    CHECK_INT(rc, NT_ETOOBIG);
    CHECK_INT(b.len, 2);
    CHECK_STR(b.data, "ab");
    ncases += 2;
    nt_buf_free(&b);
    nt_buf_free(NULL);

    /* printf longer than the internal 256-byte scratch, capped and not */
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    nt_buf_init(&b, 500);
    CHECK_INT(nt_buf_printf(&b, "<%s>", big), NT_ETOOBIG);
    CHECK_INT(b.len, 0);
    nt_buf_free(&b);
    nt_buf_init(&b, 0);
    CHECK_INT(nt_buf_printf(&b, "<%s>", big), NT_OK);
    CHECK_INT(b.len, 1001);
    CHECK(b.data[0] == '<' && b.data[1000] == '>' && b.data[1001] == '\0');
    /* unlimited growth */
    for (int i = 0; i < 100000; i++)
        if (nt_buf_append(&b, "0123456789", 10) != NT_OK)
            CHECKF(0, "append %d failed on an unlimited buffer", i);
    CHECK_INT(b.len, 1001 + 1000000);
    CHECK(b.size > b.len && b.data[b.len] == '\0');
    ncases += 6;
    nt_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);

    /* exactly at the cap through printf */
    nt_buf_init(&b, 5);
    CHECK_INT(nt_buf_printf(&b, "%05d", 42), NT_OK);
    CHECK_STR(b.data, "00042");
    CHECK_INT(nt_buf_printf(&b, "%s", ""), NT_OK);
    CHECK_INT(nt_buf_printf(&b, "%d", 1), NT_ETOOBIG);
    CHECK_STR(b.data, "00042");
    ncases += 3;
    nt_buf_free(&b);
}

static void test_json_str(void)
{
    static const struct {
        const char *in;
        size_t len;       /* bytes of in */
        const char *want; /* NULL: only check it parses back to in */
    } rows[] = {
        {"", 0, "\"\""},
        {"plain text", 10, "\"plain text\""},
        {"a\"b", 3, "\"a\\\"b\""},
        {"a\\b", 3, "\"a\\\\b\""},
        {"\\\"", 2, "\"\\\\\\\"\""},
        {"\n\r\t", 3, "\"\\n\\r\\t\""},
        {"\x01\x1f", 2, "\"\\u0001\\u001f\""},
        {"a\0b", 3, "\"a\\u0000b\""}, /* an embedded NUL */
        {"\b\f", 2, NULL},            /* any valid escape */
        {"/", 1, NULL},
        {"\x7f", 1, "\"\x7f\""},
        {"'; DROP TABLE jobs; --", 22, "\"'; DROP TABLE jobs; --\""},
        {"\xe4\xb8\xad\xe6\x96\x87", 6, "\"\xe4\xb8\xad\xe6\x96\x87\""}, /* 中文 kept */
        {"\xc3\xa9t\xc3\xa9", 5, "\"\xc3\xa9t\xc3\xa9\""},               /* été kept */
        {"\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\""},                 /* emoji kept */
        {"\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\""},                         /* U+FFFF */
        {"\xff", 1, "\"" FFFD "\""},                                     /* never UTF-8 */
        {"a\xfe"
         "b",
         3, "\"a" FFFD "b\""},
        {"\x80", 1, "\"" FFFD "\""},   /* lone continuation */
        {"a\xc3", 2, "\"a" FFFD "\""}, /* truncated at end */
        {"\xe4\xb8"
         "x",
         3, "\"" FFFD FFFD "x\""},                              /* truncated 3-byte */
        {"\xc0\xaf", 2, "\"" FFFD FFFD "\""},                   /* overlong '/' */
        {"\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\""},          /* surrogate D800 */
        {"\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""}, /* > U+10FFFF */
        {"ok\xe4\xb8\xad\xff\"", 7, "\"ok\xe4\xb8\xad" FFFD "\\\"\""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_buf_t b;
        nt_buf_init(&b, 0);
        int rc = nt_buf_json_str(&b, rows[i].in, rows[i].len);
        CHECKF(rc == NT_OK, "json_str row %zu: rc %d", i, rc);
        if (rc != NT_OK) {
            nt_buf_free(&b);
            continue;
        }
        if (rows[i].want != NULL)
            CHECKF(strcmp(b.data, rows[i].want) == 0, "json_str row %zu: got %s, want %s", i,
                   b.data, rows[i].want);
        CHECKF(nt_buf_is_utf8(b.data, b.len), "json_str row %zu: output %s is not UTF-8", i,
               b.data);
        /* the output is one valid JSON string; valid input comes back unchanged */
        cJSON *root = parse_exact(b.data, b.len);
        CHECKF(cJSON_IsString(root), "json_str row %zu: %s does not parse as a JSON string", i,
               b.data);
        bool valid = nt_buf_is_utf8(rows[i].in, rows[i].len) &&
                     memchr(rows[i].in, '\0', rows[i].len) == NULL;
        if (cJSON_IsString(root) && valid)
            CHECKF(strlen(root->valuestring) == rows[i].len &&
                       memcmp(root->valuestring, rows[i].in, rows[i].len) == 0,
                   "json_str row %zu: parses back to \"%s\"", i, root->valuestring);
        cJSON_Delete(root);
        nt_buf_free(&b);
    }

    /* appends after what is there */
    nt_buf_t b;
    nt_buf_init(&b, 0);
    CHECK_INT(nt_buf_puts(&b, "{\"k\":"), NT_OK);
    CHECK_INT(nt_buf_json_str(&b, "v", 1), NT_OK);
    CHECK_STR(b.data, "{\"k\":\"v\"");
    ncases++;
    nt_buf_free(&b);
}

static void test_is_utf8(void)
{
    static const struct {
        const char *in;
        size_t len;
        bool want;
        const char *what;
    } rows[] = {
        {"", 0, true, "empty"},
        {"abc", 3, true, "ASCII"},
        {"a\0b", 3, true, "NUL is ASCII"},
        {"\xc2\x80", 2, true, "U+0080, smallest 2-byte"},
        {"\xdf\xbf", 2, true, "U+07FF"},
        {"\xe0\xa0\x80", 3, true, "U+0800, smallest 3-byte"},
        {"\xe4\xb8\xad", 3, true, "中"},
        {"\xed\x9f\xbf", 3, true, "U+D7FF, below the surrogates"},
        {"\xee\x80\x80", 3, true, "U+E000, above the surrogates"},
        {"\xef\xbf\xbf", 3, true, "U+FFFF"},
        {"\xf0\x90\x80\x80", 4, true, "U+10000, smallest 4-byte"},
        {"\xf0\x9f\x98\x80", 4, true, "emoji"},
        {"\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF, the largest"},
        {"\xc0\x80", 2, false, "overlong NUL"},
        {"\xc1\xbf", 2, false, "overlong 2-byte"},
        {"\xe0\x80\x80", 3, false, "overlong 3-byte NUL"},
        {"\xe0\x9f\xbf", 3, false, "overlong U+07FF"},
        {"\xf0\x80\x80\x80", 4, false, "overlong 4-byte NUL"},
        {"\xf0\x8f\xbf\xbf", 4, false, "overlong U+FFFF"},
        {"\xed\xa0\x80", 3, false, "surrogate U+D800"},
        {"\xed\xbf\xbf", 3, false, "surrogate U+DFFF"},
        {"\xed\xa0\xbd\xed\xb8\x80", 6, false, "CESU-8 surrogate pair"},
        {"\xf4\x90\x80\x80", 4, false, "U+110000"},
        {"\xf5\x80\x80\x80", 4, false, "lead byte F5"},
        {"\xf8\x88\x80\x80\x80", 5, false, "5-byte form"},
        {"\xfe", 1, false, "FE"},
        {"\xff", 1, false, "FF"},
        {"\x80", 1, false, "lone continuation"},
        {"a\xbf", 2, false, "continuation after ASCII"},
        {"\xc3", 1, false, "truncated 2-byte"},
        {"\xe4\xb8", 2, false, "truncated 3-byte"},
        {"\xf0\x9f\x98", 3, false, "truncated 4-byte"},
        {"\xe4\xb8\xad", 2, false, "length cuts a character"},
        {"\xc3\x28", 2, false, "bad continuation"},
        {"\xe4\x28\xad", 3, false, "bad second byte"},
        {"\xe4\xb8\x28", 3, false, "bad third byte"},
        {"a\xe4\xb8\xad"
         "b\xe4",
         6, false, "truncated at the end"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        bool got = nt_buf_is_utf8(rows[i].in, rows[i].len);
        CHECKF(got == rows[i].want, "is_utf8 row %zu (%s): got %d, want %d", i, rows[i].what, got,
               rows[i].want);
    }
}

static void test_copy_str(void)
{
    static const struct {
        const char *src;
        size_t dstsz;
        const char *want;
    } rows[] = {
        {"hello", 10, "hello"},
        {"hello", 6, "hello"},
        {"hello", 5, "hell"},
        {"hello", 1, ""},
        {"", 4, ""},
        {"ab\xe4\xb8\xad", 6, "ab\xe4\xb8\xad"}, /* ab中 fits exactly */
        {"ab\xe4\xb8\xad", 5, "ab"},             /* 中 does not fit: dropped whole */
        {"ab\xe4\xb8\xad", 4, "ab"},
        {"ab\xe4\xb8\xad", 3, "ab"},
        {"\xe4\xb8\xad\xe6\x96\x87", 4, "\xe4\xb8\xad"}, /* 中文 -> 中 */
        {"\xe4\xb8\xad\xe6\x96\x87", 3, ""},
        {"\xf0\x9f\x98\x80x", 5, "\xf0\x9f\x98\x80"},
        {"\xf0\x9f\x98\x80x", 4, ""},
        {"a\xc3\xa9", 3, "a"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char dst[32];
        memset(dst, 'X', sizeof(dst));
        size_t n = nt_buf_copy_str(dst, rows[i].dstsz, rows[i].src);
        CHECKF(n == strlen(rows[i].src), "copy_str row %zu: returned %zu, want %zu", i, n,
               strlen(rows[i].src));
        CHECKF(strcmp(dst, rows[i].want) == 0, "copy_str row %zu into %zu: got \"%s\", want \"%s\"",
               i, rows[i].dstsz, dst, rows[i].want);
        CHECKF(nt_buf_is_utf8(dst, strlen(dst)), "copy_str row %zu: result is not UTF-8", i);
        CHECKF(dst[rows[i].dstsz] == 'X', "copy_str row %zu wrote past %zu bytes", i,
               rows[i].dstsz);
    }
    /* dstsz 0: nothing written, length returned */
    char dst[4] = "XYZ";
    ncases++;
    CHECK_INT(nt_buf_copy_str(dst, 0, "hello"), 5);
    CHECK_STR(dst, "XYZ");
}

int main(void)
{
    test_caps();
    test_json_str();
    test_is_utf8();
    test_copy_str();
    printf("test_buf: %d cases\n", ncases);
    CHECK_DONE();
}
