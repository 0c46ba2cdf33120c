/*
 * http.h — asynchronous HTTP client: libcurl's multi interface on nt_loop.
 *
 * Hundreds of platform calls in flight from one thread: curl's sockets are
 * watched by the loop's epoll set (CURLMOPT_SOCKETFUNCTION) and its timeouts
 * by a loop timer (CURLMOPT_TIMERFUNCTION). Connections are kept alive and
 * reused per host; response bodies are capped. Easy handles are pooled.
 */
#ifndef NT_HTTP_H
#define NT_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "loop.h"

typedef struct nt_http_s nt_http_t;

typedef struct nt_http_opts_s {
    size_t max_body;      /* response body cap in bytes */
    long max_host_conns;  /* connections per host; further calls queue in curl */
    long max_total_conns; /* connection cache size */
} nt_http_opts_t;

typedef struct nt_http_call_s {
    const char *method; /* "GET", "POST", ... */
    const char *url;
    struct curl_slist *headers; /* ownership passes to nt_http_submit */
    const char *body;           /* copied; NULL for none */
    size_t body_len;
    long timeout_ms;
    long connect_timeout_ms;
} nt_http_call_t;

typedef struct nt_http_result_s {
    CURLcode code;    /* CURLE_OK, or the transport failure */
    long status;      /* HTTP status; 0 when none was received */
    const char *body; /* response body, valid during the callback only */
    size_t body_len;
    bool body_too_big;      /* the body passed max_body (code is then an error) */
    int64_t retry_after_ms; /* from Retry-After (delta seconds), -1 when absent */
    int64_t elapsed_us;
    const char *error; /* curl's error text when code != CURLE_OK */
} nt_http_result_t;

/* Called once per call, from the loop. */
typedef void (*nt_http_cb)(const nt_http_result_t *res, void *arg);

/* @returns a new client on loop; free with nt_http_free() (in-flight calls
 * are cancelled without their callbacks). NULL on failure. */
nt_http_t *nt_http_new(nt_loop_t *loop, const nt_http_opts_t *opts, nt_err_t *err);

void nt_http_free(nt_http_t *h);

/* Starts a call. Takes ownership of call->headers (and sets it to NULL) even
 * on failure. cb runs later from the loop, never from inside this call. */
int nt_http_submit(nt_http_t *h, nt_http_call_t *call, nt_http_cb cb, void *arg,
                   nt_err_t *err) NT_MUSTCHECK;

/* Calls started and not yet completed. */
size_t nt_http_inflight(const nt_http_t *h);

/* Percent-encodes s into out (RFC 3986 unreserved characters kept). */
int nt_http_urlencode(const char *s, char *out, size_t outsz) NT_MUSTCHECK;

#endif
