/*
 * dialect.c — what the dialects share: lookup, error rendering, route
 * matching, percent-decoding and label validation (see dialect.h).
 */
#include "dialect.h"

#include "buf.h"
#include "clock.h"
#include "hex.h"

#include <string.h>

void nt_dialect_date(int64_t ms, char out[11])
{
    char ts[NT_RFC3339_LEN];
    out[0] = '\0';
    if (ms == 0)
        return;
    nt_clock_format(ms, ts);
    memcpy(out, ts, 10);
    out[10] = '\0';
}

const nt_dialect_t *nt_dialect_find(char id)
{
    static const nt_dialect_t *const all[] = {&nt_dialect_a, &nt_dialect_b, &nt_dialect_c,
                                              &nt_dialect_d};
    for (size_t i = 0; i < NT_ARRAY_LEN(all); i++) {
        if (all[i]->id == id)
            return all[i];
    }
    return NULL;
}

int nt_dialect_error(const nt_dialect_t *d, nt_buf_t *out, nt_derr_t e, const char *msg)
{
    const nt_dialect_errdef_t *def =
        &d->errors[(unsigned)e < NT_DERR__COUNT ? e : NT_DERR_INTERNAL];
    nt_buf_reset(out);
    if (d->error_body(out, def, msg != NULL ? msg : def->msg) != NT_OK)
        return 500;
    return def->http;
}

int nt_dialect_fail(const nt_dialect_t *d, nt_dialect_call_t *call, nt_derr_t e)
{
    call->status = nt_dialect_error(d, call->out, e, NULL);
    return call->out->len > 0 ? NT_OK : NT_ENOMEM;
}

/* Matches one pattern against rest. */
static bool match(const char *pattern, const char *rest, const char **arg, size_t *arglen)
{
    const char *p = pattern, *r = rest;
    *arg = NULL;
    *arglen = 0;
    for (;;) {
        const char *pe = strchr(p, '/');
        const char *re = strchr(r, '/');
        size_t plen = pe ? (size_t)(pe - p) : strlen(p);
        size_t rlen = re ? (size_t)(re - r) : strlen(r);
        if (plen == 1 && p[0] == '*') {
            if (rlen == 0)
                return false;
            *arg = r;
            *arglen = rlen;
        } else if (plen != rlen || memcmp(p, r, plen) != 0) {
            return false;
        }
        if ((pe == NULL) != (re == NULL))
            return false;
        if (pe == NULL)
            return true;
        p = pe + 1;
        r = re + 1;
    }
}

const nt_dialect_route_t *nt_dialect_route(const nt_dialect_t *d, const char *method,
                                           const char *rest, const char **arg, size_t *arglen)
{
    for (size_t i = 0; i < d->nroutes; i++) {
        const nt_dialect_route_t *route = &d->routes[i];
        if (strcmp(route->method, method) == 0 && match(route->pattern, rest, arg, arglen))
            return route;
    }
    return NULL;
}

int nt_dialect_pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = nt_hex_value(s[i + 1]);
            int lo = nt_hex_value(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= outsz)
            return -1;
        out[o++] = c;
    }
    if (outsz == 0)
        return -1;
    out[o] = '\0';
    return (int)o;
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool nt_dialect_label_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || !nt_buf_is_utf8(s, n))
        return false;
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        if ((c & 0xC0) != 0x80)
            chars++;
    }
    return chars <= NT_SIM_LABEL_CHARS;
}

cJSON *nt_dialect_body(const nt_dialect_call_t *call)
{
    if (call->body == NULL || call->body_len == 0)
        return NULL;
    cJSON *root = cJSON_ParseWithLength(call->body, call->body_len);
    if (root != NULL && !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

const char *nt_dialect_str(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int nt_dialect_lookup(const char *const *names, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], s) == 0)
            return (int)i;
    }
    return -1;
}
