/*
 * buf.c — growable, capped byte buffer (see buf.h).
 */
#include "buf.h"
#include "hex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nt_buf_init(nt_buf_t *b, size_t cap)
{
    b->data = NULL;
    b->len = 0;
    b->size = 0;
    b->cap = cap;
}

void nt_buf_free(nt_buf_t *b)
{
    if (b == NULL)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->size = 0;
}

void nt_buf_reset(nt_buf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

int nt_buf_reserve(nt_buf_t *b, size_t n)
{
    if (b->cap != 0 && (n > b->cap || b->len > b->cap - n))
        return NT_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need <= b->size)
        return NT_OK;
    size_t size = b->size ? b->size : 256;
    while (size < need)
        size *= 2;
    char *p = realloc(b->data, size);
    if (p == NULL)
        return NT_ENOMEM;
    b->data = p;
    b->size = size;
    return NT_OK;
}

int nt_buf_append(nt_buf_t *b, const void *p, size_t n)
{
    int rc = nt_buf_reserve(b, n);
    if (rc != NT_OK)
        return rc;
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return NT_OK;
}

int nt_buf_puts(nt_buf_t *b, const char *s)
{
    return nt_buf_append(b, s, strlen(s));
}

int nt_buf_putc(nt_buf_t *b, char c)
{
    return nt_buf_append(b, &c, 1);
}

int nt_buf_printf(nt_buf_t *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return NT_ERR;
    if ((size_t)n < sizeof(small))
        return nt_buf_append(b, small, (size_t)n);
    int rc = nt_buf_reserve(b, (size_t)n);
    if (rc != NT_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return NT_OK;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

size_t nt_buf_utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

bool nt_buf_is_utf8(const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t len = utf8_seq_len(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

int nt_buf_json_str(nt_buf_t *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start_len = b->len;
    int rc = nt_buf_putc(b, '"');
    size_t i = 0;
    while (rc == NT_OK && i < n) {
        unsigned char c = p[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            /* copy a run of plain ASCII at once */
            size_t j = i + 1;
            while (j < n && p[j] >= 0x20 && p[j] != '"' && p[j] != '\\' && p[j] < 0x80)
                j++;
            rc = nt_buf_append(b, p + i, j - i);
            i = j;
            continue;
        }
        if (c >= 0x80) {
            size_t len = utf8_seq_len(p + i, n - i);
            if (len == 0) {
                rc = nt_buf_puts(b, "\xEF\xBF\xBD");
                i++;
            } else {
                rc = nt_buf_append(b, p + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"':
            rc = nt_buf_puts(b, "\\\"");
            break;
        case '\\':
            rc = nt_buf_puts(b, "\\\\");
            break;
        case '\n':
            rc = nt_buf_puts(b, "\\n");
            break;
        case '\r':
            rc = nt_buf_puts(b, "\\r");
            break;
        case '\t':
            rc = nt_buf_puts(b, "\\t");
            break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', nt_hex_digit(c >> 4), nt_hex_digit(c)};
            rc = nt_buf_append(b, esc, sizeof(esc));
        }
        }
        i++;
    }
    if (rc == NT_OK)
        rc = nt_buf_putc(b, '"');
    if (rc != NT_OK) {
        b->len = start_len;
        if (b->data != NULL)
            b->data[b->len] = '\0';
    }
    return rc;
}

size_t nt_buf_copy_str(char *dst, size_t dstsz, const char *src)
{
    size_t n = strlen(src);
    if (dstsz == 0)
        return n;
    size_t k = n < dstsz ? n : dstsz - 1;
    if (k < n) /* do not cut a UTF-8 sequence in half */
        while (k > 0 && ((unsigned char)src[k] & 0xC0) == 0x80)
            k--;
    memcpy(dst, src, k);
    dst[k] = '\0';
    return n;
}

void nt_buf_consume(nt_buf_t *b, size_t n)
{
    if (n >= b->len) {
        nt_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}
