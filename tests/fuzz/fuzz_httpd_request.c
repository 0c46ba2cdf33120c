/*
 * fuzz_httpd_request.c — libFuzzer target for the HTTP server's request
 * parser (common/httphead.c), called directly: no server, no socket per
 * input, so each run covers many more inputs than the end-to-end harness
 * it replaces (the server's connection handling — keep-alive, pipelining,
 * deferred and never-answered requests, clients leaving early, deadlines —
 * is tested in tests/unit/test_httpd.c).
 *
 * The input is read as the server reads its buffer: the head ends at the
 * first CRLF CRLF within max_header bytes, is parsed, its body skipped, and
 * the next request follows (pipelining). Every accepted head must hold to
 * the parser's contract: offsets ordered and inside the head, a body no
 * larger than max_body, at most NT_HTTPHEAD_MAX_HEADERS headers, and an
 * error only ever one of the statuses the server answers.
 */
#include "fuzz.h"
#include "httphead.h"

#define MAX_HEADER 2048 /* small caps, so that 413 and 431 are within -max_len */
#define MAX_BODY   4096

static volatile size_t digest; /* the header bytes, read so that ASan checks them */

static void check_head(const char *p, size_t len, const nt_httphead_t *h)
{
    FUZZ_CHECK(h->method_end > 0 && h->method_end < h->target, "method end %zu, target %zu",
               h->method_end, h->target);
    FUZZ_CHECK(h->target < h->path_end && h->path_end <= h->query && h->query <= h->query_end &&
                   h->query_end < len,
               "target %zu path_end %zu query %zu..%zu len %zu", h->target, h->path_end, h->query,
               h->query_end, len);
    FUZZ_CHECK(h->nheaders <= NT_HTTPHEAD_MAX_HEADERS, "%zu headers", h->nheaders);
    FUZZ_CHECK(h->content_length <= MAX_BODY, "content length %zu", h->content_length);
    FUZZ_CHECK(!h->head || h->method_end == 4, "HEAD with a method of %zu bytes", h->method_end);
    for (size_t k = 0; k < h->nheaders; k++) {
        FUZZ_CHECK(h->hname[k] < h->hname_end[k] && h->hname_end[k] < h->hvalue[k] &&
                       h->hvalue[k] <= h->hvalue_end[k] && h->hvalue_end[k] < len,
                   "header %zu: name %zu..%zu value %zu..%zu len %zu", k, h->hname[k],
                   h->hname_end[k], h->hvalue[k], h->hvalue_end[k], len);
        FUZZ_CHECK(p[h->hname_end[k]] == ':', "header %zu: name not ended by ':'", k);
        for (size_t i = h->hvalue[k]; i < h->hvalue_end[k]; i++) {
            FUZZ_CHECK(p[i] != '\0' && p[i] != '\r' && p[i] != '\n', "header %zu: byte %zu", k, i);
            digest += (unsigned char)p[i];
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    size_t off = 0;
    while (off < size) {
        /* empty lines before a request are tolerated, as the server does */
        while (off < size && (p[off] == '\r' || p[off] == '\n'))
            off++;
        size_t avail = size - off;
        if (avail == 0)
            break;
        size_t scan = avail < MAX_HEADER ? avail : MAX_HEADER;
        const char *end = nt_httphead_find_end(p + off, scan);
        if (end == NULL)
            break; /* the server waits for more bytes, or answers 431 */
        FUZZ_CHECK(end >= p + off && end + 4 <= p + off + scan, "head end outside the scan");
        FUZZ_CHECK(memcmp(end, "\r\n\r\n", 4) == 0, "head end is not CRLF CRLF");
        size_t head_len = (size_t)(end - (p + off)) + 4;
        nt_httphead_t h;
        int status = nt_httphead_parse(p + off, head_len, MAX_BODY, &h);
        if (status != 0) {
            FUZZ_CHECK(status == 400 || status == 411 || status == 413 || status == 417 ||
                           status == 431 || status == 505,
                       "status %d", status);
            break; /* the server answers it and closes */
        }
        check_head(p + off, head_len, &h);
        if (h.content_length > avail - head_len)
            break; /* the body has not arrived */
        off += head_len + h.content_length;
    }
    return 0;
}
