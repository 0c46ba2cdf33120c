/*
 * redact.c — untrusted text made safe to store and log (see redact.h).
 *
 * Works in fixed buffers of REDACT_MAX bytes (platform reasons are a few
 * hundred bytes; longer text is cut first), in four passes: decode, secrets,
 * credential-looking values, numbers; then the bytes are made printable.
 */
#include "redact.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "err.h"
#include "phone.h"

#define REDACT_MAX 2048
#define MASK       "****"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* %HH of a printable ASCII byte becomes the byte. */
static void percent_decode(char *s)
{
    char *o = s;
    for (const char *p = s; *p;) {
        int hi = p[0] == '%' ? hexval(p[1]) : -1;
        int lo = hi >= 0 ? hexval(p[2]) : -1;
        int c = hi * 16 + lo;
        if (hi >= 0 && lo >= 0 && c >= 0x20 && c < 0x7f) {
            *o++ = (char)c;
            p += 3;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
}

/* Replaces every occurrence of needle (len bytes) in s (of capacity cap) by
 * MASK. */
static void replace_all(char *s, size_t cap, const char *needle, size_t len)
{
    char *p = s;
    while ((p = strstr(p, needle)) != NULL) {
        size_t rest = strlen(p + len);
        size_t mlen = sizeof(MASK) - 1;
        if ((size_t)(p - s) + mlen + rest + 1 > cap)
            rest = cap - 1 - (size_t)(p - s) - mlen;
        memmove(p + mlen, p + len, rest);
        p[mlen + rest] = '\0';
        memcpy(p, MASK, mlen);
        p += mlen;
    }
}

static bool is_value_char(unsigned char c)
{
    return c > 0x20 && c != '"' && c != '\'' && c != ',' && c != ';' && c != '&' && c != '}' &&
           c != ']' && c != ')' && c != '<';
}

/* After each credential word (case-insensitive), skips ':', '=', quotes and
 * spaces, then masks the value that follows. */
static void mask_credentials(char *s, size_t cap)
{
    static const struct {
        const char *word;
        bool needs_sep; /* "token" alone is a word; a value follows ':' or '=' */
    } words[] = {
        {"bearer ", false}, {"basic ", false},   {"authorization", true},
        {"api_key", true},  {"apikey", true},    {"password", true},
        {"secret", true},   {"signature", true}, {"token", true},
    };
    for (size_t w = 0; w < NT_ARRAY_LEN(words); w++) {
        size_t wl = strlen(words[w].word);
        for (char *p = s; *p; p++) {
            if (strncasecmp(p, words[w].word, wl) != 0)
                continue;
            char *v = p + wl;
            bool sep = false;
            while (*v == ' ' || *v == ':' || *v == '=' || *v == '"' || *v == '\'') {
                sep = sep || *v == ':' || *v == '=';
                v++;
            }
            if (words[w].needs_sep && !sep)
                continue;
            /* "Authorization: Bearer x": the scheme word stays, its value goes */
            if (strncasecmp(v, "bearer ", 7) == 0 || strncasecmp(v, "basic ", 6) == 0)
                continue;
            size_t n = 0;
            while (is_value_char((unsigned char)v[n]))
                n++;
            if (n == 0 || (n == sizeof(MASK) - 1 && strncmp(v, MASK, n) == 0))
                continue;
            char save = v[n];
            v[n] = '\0';
            char value[REDACT_MAX];
            memcpy(value, v, n + 1);
            v[n] = save;
            replace_all(v, cap - (size_t)(v - s), value, n);
            p = v;
        }
    }
}

/* Control characters and bytes that are not UTF-8 become '?'. */
static void printable(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = 0;
        if (*p < 0x80)
            n = 1;
        else if ((*p & 0xE0) == 0xC0)
            n = 2;
        else if ((*p & 0xF0) == 0xE0)
            n = 3;
        else if ((*p & 0xF8) == 0xF0)
            n = 4;
        if (n > 1 && !nt_buf_is_utf8((const char *)p, strnlen((const char *)p, n)))
            n = 0;
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

size_t nt_redact(const char *text, const char *const *secrets, size_t nsecrets, char *out,
                 size_t outsz)
{
    char work[REDACT_MAX];
    if (outsz == 0)
        return 0;
    snprintf(work, sizeof(work), "%s", text != NULL ? text : "");
    printable(work); /* first: the passes below read it as text */
    percent_decode(work);
    for (size_t i = 0; i < nsecrets; i++) {
        size_t len = secrets[i] != NULL ? strlen(secrets[i]) : 0;
        if (len >= 4)
            replace_all(work, sizeof(work), secrets[i], len);
    }
    mask_credentials(work, sizeof(work));
    size_t n = nt_phone_mask_text(work, out, outsz);
    printable(out); /* a cut may have split a UTF-8 sequence */
    return n;
}
