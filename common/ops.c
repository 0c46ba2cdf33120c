/*
 * ops.c — /healthz, /readyz and /metrics on a daemon's loop (see ops.h).
 */
#include "ops.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd.h"
#include "log.h"

/* Probes must get through idle sockets and slowloris clients: the
 * longest-waiting connection makes room for a new one, and a request must
 * arrive whole within OPS_REQUEST_MS of its first byte. */
#define OPS_MAX_CONNS  64
#define OPS_IDLE_MS    10000
#define OPS_REQUEST_MS 5000

struct nt_ops_s {
    nt_httpd_t *srv;
    nt_ops_ready_fn not_ready;
    nt_ops_metrics_fn metrics;
    void *arg;
};

static const char text_type[] = "text/plain; charset=utf-8";

static void on_request(nt_httpd_t *srv, nt_httpd_req_t *req, void *arg)
{
    (void)srv;
    nt_ops_t *ops = arg;
    const char *path = nt_httpd_req_path(req);
    if (strcmp(path, "/healthz") == 0) {
        /* answered from the event loop itself: if this answers, it turns */
        nt_httpd_respond(req, 200, text_type, NULL, "ok\n", 3);
        return;
    }
    if (strcmp(path, "/readyz") == 0) {
        char why[240], body[256];
        why[0] = '\0';
        bool not_ready = ops->not_ready != NULL && ops->not_ready(ops->arg, why, sizeof(why));
        int n = snprintf(body, sizeof(body), "%s\n", not_ready ? why : "ready");
        nt_httpd_respond(req, not_ready ? 503 : 200, text_type, NULL, body, (size_t)n);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        nt_buf_t b;
        nt_buf_init(&b, 0);
        if (ops->metrics == NULL || ops->metrics(ops->arg, &b) == NT_OK)
            nt_httpd_respond(req, 200, "text/plain; version=0.0.4", NULL, b.data ? b.data : "",
                             b.len);
        else
            nt_httpd_respond(req, 500, text_type, NULL, "render failed\n", 14);
        nt_buf_free(&b);
        return;
    }
    nt_httpd_respond(req, 404, text_type, NULL, "not found\n", 10);
}

nt_ops_t *nt_ops_new(nt_loop_t *loop, const char *listen, const char *key,
                     nt_ops_ready_fn not_ready, nt_ops_metrics_fn metrics, void *arg, nt_err_t *err)
{
    char host[128];
    int port = 0;
    if (nt_httpd_parse_listen(listen, host, sizeof(host), &port) != NT_OK) {
        nt_err_set(err, NT_EINVAL, false, "key %s: \"%s\" is not host:port", key, listen);
        return NULL;
    }
    nt_ops_t *ops = calloc(1, sizeof(*ops));
    if (ops == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    ops->not_ready = not_ready;
    ops->metrics = metrics;
    ops->arg = arg;
    nt_httpd_opts_t o = {.host = host,
                         .port = port,
                         .max_conns = OPS_MAX_CONNS,
                         .idle_timeout_ms = OPS_IDLE_MS,
                         .request_timeout_ms = OPS_REQUEST_MS};
    ops->srv = nt_httpd_new(loop, &o, on_request, ops, err);
    if (ops->srv == NULL) {
        free(ops);
        return NULL;
    }
    NT_INFO("serving /metrics, /healthz and /readyz on %s:%d", host, nt_httpd_port(ops->srv));
    return ops;
}

int nt_ops_port(const nt_ops_t *ops)
{
    return nt_httpd_port(ops->srv);
}

void nt_ops_free(nt_ops_t *ops)
{
    if (ops == NULL)
        return;
    nt_httpd_free(ops->srv);
    free(ops);
}
