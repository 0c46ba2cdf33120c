/*
 * phone.c — E.164 validation and masking (see phone.h).
 */
#include "phone.h"

#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool nt_phone_is_e164(const char *s)
{
    if (s == NULL || s[0] != '+' || s[1] < '1' || s[1] > '9')
        return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++) {
        if (!is_digit(*p))
            return false;
        n++;
    }
    return n >= 8 && n <= 15;
}

void nt_phone_mask(const char *s, size_t len, char *out, size_t outsz)
{
    size_t o = 0, i = 0;
    if (outsz == 0)
        return;
    if (len > 0 && s[0] == '+') {
        if (o + 1 < outsz)
            out[o++] = '+';
        i = 1;
    }
    size_t nd = len - i;
    size_t keep_tail = nd >= 8 ? 4 : nd / 3;
    size_t masked = nd >= 8 ? 4 : nd - keep_tail - nd / 3;
    size_t keep_head = nd - keep_tail - masked;
    if (keep_head > 5) {
        masked += keep_head - 5;
        keep_head = 5;
    }
    for (size_t k = 0; k < nd && o + 1 < outsz; k++) {
        if (k < keep_head || k >= keep_head + masked)
            out[o++] = s[i + k];
        else if (k < keep_head + 4)
            out[o++] = '*';
    }
    out[o] = '\0';
}

size_t nt_phone_mask_text(const char *text, char *out, size_t outsz)
{
    size_t o = 0;
    const char *p = text;
    if (outsz == 0)
        return 0;
    while (*p && o + 1 < outsz) {
        bool plus = *p == '+';
        const char *start = p + (plus ? 1 : 0);
        bool bounded_left = p == text || (!is_alnum(p[-1]) && p[-1] != '-');
        size_t n = 0;
        while (is_digit(start[n]))
            n++;
        bool bounded_right = !is_alnum(start[n]) && start[n] != '-';
        bool phone = bounded_left && bounded_right &&
                     ((plus && n >= 8 && n <= 15) || (!plus && n >= 11 && n <= 15));
        if (phone) {
            char m[NT_PHONE_MAX + 8];
            size_t len = (size_t)(start + n - p);
            nt_phone_mask(p, len, m, sizeof(m));
            size_t ml = strlen(m);
            if (ml > outsz - 1 - o)
                ml = outsz - 1 - o;
            memcpy(out + o, m, ml);
            o += ml;
            p = start + n;
        } else if (is_alnum(*p) || (*p == '+' && n == 0)) {
            /* copy the whole alphanumeric token so digit runs inside it are
             * never mistaken for numbers */
            do {
                out[o++] = *p++;
            } while (*p && is_alnum(*p) && o + 1 < outsz);
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return o;
}
