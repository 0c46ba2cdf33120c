/*
 * httphead.c — HTTP/1.x request-head parsing (see httphead.h): the server's
 * parser, in a file of its own so that it is tested and fuzzed directly.
 */
#include "httphead.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

/* Case-insensitive search for token tok in a comma-separated header value. */
static bool value_has_token(const char *v, size_t vlen, const char *tok)
{
    size_t tlen = strlen(tok);
    size_t i = 0;
    while (i < vlen) {
        while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t start = i;
        while (i < vlen && v[i] != ',')
            i++;
        size_t end = i;
        while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - start == tlen && strncasecmp(v + start, tok, tlen) == 0)
            return true;
    }
    return false;
}

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int nt_httphead_parse(const char *p, size_t len, size_t max_body, nt_httphead_t *h)
{
    size_t i = 0;
    bool have_cl = false, close_tok = false, keep_tok = false;

    memset(h, 0, offsetof(nt_httphead_t, hname));
    while (i < len && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i >= len || p[i] != ' ')
        return 400;
    h->method_end = i++;
    h->head = h->method_end == 4 && memcmp(p, "HEAD", 4) == 0;
    h->target = i;
    while (i < len && p[i] != ' ' && p[i] != '?' && (unsigned char)p[i] > 0x20)
        i++;
    h->path_end = i;
    h->query = h->query_end = i;
    if (i < len && p[i] == '?') {
        h->query = ++i;
        while (i < len && p[i] != ' ' && (unsigned char)p[i] > 0x20)
            i++;
        h->query_end = i;
    }
    if (h->path_end == h->target || i >= len || p[i] != ' ')
        return 400;
    i++;
    if (len - i < 10 || memcmp(p + i, "HTTP/1.", 7) != 0 || p[i + 8] != '\r' || p[i + 9] != '\n')
        return 400;
    if (p[i + 7] == '0')
        h->http10 = true;
    else if (p[i + 7] != '1')
        return 505;
    i += 10;

    while (i + 1 < len && !(p[i] == '\r' && p[i + 1] == '\n')) {
        size_t ns = i;
        while (i < len && is_tchar((unsigned char)p[i]))
            i++;
        if (i == ns || i >= len || p[i] != ':')
            return 400;
        size_t ne = i++;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        size_t vs = i;
        while (i < len && p[i] != '\r' && p[i] != '\n') {
            if (p[i] == '\0')
                return 400;
            i++;
        }
        if (i + 1 >= len || p[i] != '\r' || p[i + 1] != '\n')
            return 400;
        size_t ve = i;
        while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
            ve--;
        i += 2;
        if (h->nheaders == NT_HTTPHEAD_MAX_HEADERS)
            return 431;
        size_t k = h->nheaders++;
        h->hname[k] = ns;
        h->hname_end[k] = ne;
        h->hvalue[k] = vs;
        h->hvalue_end[k] = ve;

        size_t nlen = ne - ns, vlen = ve - vs;
        const char *name = p + ns, *val = p + vs;
        if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0) {
            size_t cl = 0;
            if (vlen == 0 || vlen > 18)
                return vlen > 18 ? 413 : 400;
            for (size_t j = 0; j < vlen; j++) {
                if (val[j] < '0' || val[j] > '9')
                    return 400;
                cl = cl * 10 + (size_t)(val[j] - '0');
            }
            if (have_cl && cl != h->content_length)
                return 400;
            have_cl = true;
            h->content_length = cl;
        } else if (nlen == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
            return 411;
        } else if (nlen == 10 && strncasecmp(name, "connection", 10) == 0) {
            close_tok = close_tok || value_has_token(val, vlen, "close");
            keep_tok = keep_tok || value_has_token(val, vlen, "keep-alive");
        } else if (nlen == 6 && strncasecmp(name, "expect", 6) == 0) {
            if (vlen != 12 || strncasecmp(val, "100-continue", 12) != 0)
                return 417;
            h->expect_continue = !h->http10;
        }
    }
    if (h->content_length > max_body)
        return 413;
    h->keepalive = h->http10 ? (keep_tok && !close_tok) : !close_tok;
    return 0;
}

const char *nt_httphead_find_end(const char *p, size_t n)
{
    const char *end = p + n;
    while (n >= 4) {
        const char *cr = memchr(p, '\r', n - 3);
        if (cr == NULL)
            return NULL;
        if (cr[1] == '\n' && cr[2] == '\r' && cr[3] == '\n')
            return cr;
        p = cr + 1;
        n = (size_t)(end - p);
    }
    return NULL;
}
