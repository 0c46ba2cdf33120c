/*
 * simsrv.h — the simulator's request pipeline.
 *
 * Turns one HTTP request into one answer: platform requests go through
 * routing (/p/{scope}/{dialect}/...), outage, authentication, rate limiting,
 * fault injection, idempotency and latency, then the dialect's handler;
 * /admin/... requests go to admin.c. nt_simsrv_dispatch works on a plain
 * request struct so tests can drive it without sockets; nt_simsrv_handle is
 * the nt_httpd handler that adapts it to the server.
 */
#ifndef NT_SIMSRV_H
#define NT_SIMSRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"
#include "httpd.h"
#include "idem.h"
#include "loop.h"
#include "sim.h"
#include "simconf.h"

typedef struct nt_simsrv_s nt_simsrv_t;

typedef struct nt_simsrv_req_s {
    const char *method;
    const char *path;  /* raw, without the query */
    const char *query; /* raw, "" when none */
    const char *body;
    size_t body_len;
    const char *(*header)(const void *hctx, const char *name); /* NULL when absent */
    const void *hctx;
} nt_simsrv_req_t;

typedef enum {
    NT_SIMSRV_ANSWER, /* answer after delay_ms */
    NT_SIMSRV_HOLD,   /* never answer (injected timeout) */
} nt_simsrv_action_t;

typedef struct nt_simsrv_resp_s {
    nt_simsrv_action_t action;
    int status;
    int64_t delay_ms;
    const char *body; /* valid until the next dispatch */
    size_t body_len;
    char headers[128]; /* extra "Name: value\r\n" lines, "" when none */
    const char *content_type;
} nt_simsrv_resp_t;

/* @returns a new pipeline with its own copy of conf; free with
 * nt_simsrv_free(). NULL on failure (err set). */
nt_simsrv_t *nt_simsrv_new(const nt_simconf_t *conf, nt_err_t *err);
void nt_simsrv_free(nt_simsrv_t *srv);

/* Lets outages close and reopen the listener. loop and httpd may be NULL
 * (tests): "refuse" outages are then only recorded. */
void nt_simsrv_attach(nt_simsrv_t *srv, nt_loop_t *loop, nt_httpd_t *httpd);

/* Answers one request (see the struct comments). */
void nt_simsrv_dispatch(nt_simsrv_t *srv, const nt_simsrv_req_t *req, nt_simsrv_resp_t *resp);

/* The nt_httpd handler; arg is the nt_simsrv_t. */
void nt_simsrv_handle(nt_httpd_t *httpd, nt_httpd_req_t *req, void *arg);

/* For admin.c and tests. */
nt_sim_t *nt_simsrv_sim(nt_simsrv_t *srv);
nt_idem_t *nt_simsrv_idem(nt_simsrv_t *srv);
struct nt_notify_s *nt_simsrv_notify(nt_simsrv_t *srv);
const nt_simconf_t *nt_simsrv_conf(const nt_simsrv_t *srv);

/* Applies a POST /admin/config body (runtime keys only). */
int nt_simsrv_reconfigure(nt_simsrv_t *srv, const cJSON *root, nt_err_t *err) NT_MUSTCHECK;

/* Starts an outage of seconds real seconds; mode "refuse" or "503".
 * seconds 0 ends the current outage of that mode. */
int nt_simsrv_outage(nt_simsrv_t *srv, int64_t seconds, const char *mode,
                     nt_err_t *err) NT_MUSTCHECK;

/* Zeroes the counters (state is kept). */
void nt_simsrv_reset_counters(nt_simsrv_t *srv);

#endif
