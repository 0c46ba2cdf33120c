/*
 * httphead.h — the request head of HTTP/1.0 and 1.1, parsed in place.
 *
 * What common/httpd.c's server (the simulator's, the daemons' ops
 * endpoints) accepts of a request line and its headers: a method token, an
 * origin-form target (path, optional query), HTTP/1.0 or 1.1, header fields
 * as token ":" value (no obs-fold, no NUL), Content-Length (one value,
 * repeated only identically), no Transfer-Encoding (411), Expect only
 * 100-continue (417). Offsets point into the caller's bytes; nothing is
 * allocated. The fuzz target tests/fuzz/fuzz_httpd_request.c calls it
 * directly.
 */
#ifndef NT_HTTPHEAD_H
#define NT_HTTPHEAD_H

#include <stdbool.h>
#include <stddef.h>

#define NT_HTTPHEAD_MAX_HEADERS 64

typedef struct nt_httphead_s {
    /* scalars first: nt_httphead_parse zeroes everything before hname */
    size_t method_end, target, path_end, query, query_end;
    size_t nheaders;
    size_t content_length;
    bool http10, keepalive, expect_continue, head;
    /* offsets of each header's name and value (value trimmed), relative to p */
    size_t hname[NT_HTTPHEAD_MAX_HEADERS], hname_end[NT_HTTPHEAD_MAX_HEADERS];
    size_t hvalue[NT_HTTPHEAD_MAX_HEADERS], hvalue_end[NT_HTTPHEAD_MAX_HEADERS];
} nt_httphead_t;

/* The position of the CRLF CRLF ending a head in the n bytes at p, or
 * NULL. */
const char *nt_httphead_find_end(const char *p, size_t n);

/* Parses the head (len bytes at p, ending with CRLF CRLF). Returns 0, or the
 * HTTP status to answer the error with (400, 411, 413 when the body would
 * exceed max_body, 417, 431 past NT_HTTPHEAD_MAX_HEADERS headers, 505).
 * Offsets in h are relative to p and within len. */
int nt_httphead_parse(const char *p, size_t len, size_t max_body, nt_httphead_t *h);

#endif
