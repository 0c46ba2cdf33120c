/*
 * httpd.h — a small non-blocking HTTP/1.1 server on nt_loop.
 *
 * Serves the simulator's platform dialects (tens of thousands of requests a
 * second with keep-alive, responses delayed by a timer or never sent to act
 * out a slow or hung platform) and the daemons' /metrics, /healthz and
 * /readyz. Request bodies need Content-Length (chunked uploads get 411);
 * header and body sizes are capped by the options.
 */
#ifndef NT_HTTPD_H
#define NT_HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "loop.h"

typedef struct nt_httpd_s nt_httpd_t;
typedef struct nt_httpd_req_s nt_httpd_req_t;

typedef struct nt_httpd_opts_s {
    const char *host;        /* bind address, e.g. "127.0.0.1" */
    int port;                /* 0: an ephemeral port (see nt_httpd_port) */
    size_t max_header_bytes; /* 0: 16 KiB */
    size_t max_body_bytes;   /* 0: 1 MiB */
    int max_conns;           /* 0: 4096; when full, a new connection closes the one that
                              * has waited longest for a request (room for probes) */
    int idle_timeout_ms;     /* 0: 60000; idle keep-alive connections are closed */
    int request_timeout_ms;  /* 0: 30000; a request not complete this long after its first
                              * byte is closed, however many bytes trickle in */
} nt_httpd_opts_t;

/* Called once per complete request. The handler must answer exactly once,
 * now or later, with nt_httpd_respond / nt_httpd_respond_after /
 * nt_httpd_respond_never, and must not touch req afterwards. */
typedef void (*nt_httpd_handler)(nt_httpd_t *srv, nt_httpd_req_t *req, void *arg);

/* @returns a new server listening on opts->host:opts->port, registered on
 * loop; free with nt_httpd_free(). NULL on failure (err set). */
nt_httpd_t *nt_httpd_new(nt_loop_t *loop, const nt_httpd_opts_t *opts, nt_httpd_handler handler,
                         void *arg, nt_err_t *err);

/* Parses "host:port" (port 0: any free port) into host (hostsz bytes) and
 * *port. 0 or NT_EINVAL. */
int nt_httpd_parse_listen(const char *s, char *host, size_t hostsz, int *port) NT_MUSTCHECK;

/* Closes the listener and every connection; srv may be NULL. */
void nt_httpd_free(nt_httpd_t *srv);

/* The bound port (useful with port 0). */
int nt_httpd_port(const nt_httpd_t *srv);

/* Stops accepting and closes every open connection (pending responses are
 * dropped) until nt_httpd_resume; used to act out an outage. */
int nt_httpd_pause(nt_httpd_t *srv) NT_MUSTCHECK;
int nt_httpd_resume(nt_httpd_t *srv) NT_MUSTCHECK;

/* Request accessors; strings are NUL-terminated and live as long as req. */
const char *nt_httpd_req_method(const nt_httpd_req_t *req);
const char *nt_httpd_req_path(const nt_httpd_req_t *req);  /* raw, without the query */
const char *nt_httpd_req_query(const nt_httpd_req_t *req); /* raw, "" when none */
/* Case-insensitive header lookup; NULL when absent. */
const char *nt_httpd_req_header(const nt_httpd_req_t *req, const char *name);
const char *nt_httpd_req_body(const nt_httpd_req_t *req, size_t *len);

/* Answers now. extra_headers is NULL or complete "Name: value\r\n" lines.
 * body is copied. */
int nt_httpd_respond(nt_httpd_req_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len);

/* Answers after delay_ms (the response is copied now; if the client goes
 * away first it is dropped). */
int nt_httpd_respond_after(nt_httpd_req_t *req, int64_t delay_ms, int status,
                           const char *content_type, const char *extra_headers, const char *body,
                           size_t len);

/* Never answers: the connection stays open, reading nothing more, until the
 * client closes it or the idle timeout passes. Acts out a hung platform. */
void nt_httpd_respond_never(nt_httpd_req_t *req);

#endif
