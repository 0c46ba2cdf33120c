/*
 * callback_receiver.c — a stand-in for `numtrust-producer serve`'s
 * /v1/callbacks/{platform} route until that server lands: a small HTTP
 * server (common/httpd.c on 127.0.0.1) that hands each POST to
 * nt_callbacks_handle (producer/callbacks.c) against the real PostgreSQL,
 * exactly as the control plane will. Used by tests/integration/callbacks_faults.sh.
 *
 * usage: numtrust-callback-receiver LISTEN_HOST:PORT
 * Environment: NUMTRUST_PG_CONNINFO, NUMTRUST_PLATFORMS_FILE (and the
 * variables that file names). SIGTERM stops it; it prints its counts then.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "clock.h"
#include "httpd.h"
#include "loop.h"
#include "pg.h"
#include "platforms.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct receiver_s {
    const nt_platforms_t *ps;
    nt_pg_t *pg;
    nt_buf_t out;
    unsigned long by_status[600];
} receiver_t;

static const char *header(const void *hctx, const char *name)
{
    return nt_httpd_req_header(hctx, name);
}

static void handle(nt_httpd_t *srv, nt_httpd_req_t *hreq, void *arg)
{
    receiver_t *r = arg;
    static const char prefix[] = "/v1/callbacks/";
    const char *path = nt_httpd_req_path(hreq);
    int status;
    (void)srv;
    if (strcmp(nt_httpd_req_method(hreq), "POST") != 0 ||
        strncmp(path, prefix, strlen(prefix)) != 0) {
        nt_buf_reset(&r->out);
        status = nt_buf_puts(&r->out, "{\"error\":\"not found\"}") == NT_OK ? 404 : 500;
    } else {
        nt_callback_req_t req = {.platform = path + strlen(prefix), .header = header, .hctx = hreq};
        req.body = nt_httpd_req_body(hreq, &req.body_len);
        status = nt_callbacks_handle(r->ps, r->pg, &req, nt_clock_wall_ms(), &r->out);
    }
    if (status >= 100 && status < 600)
        r->by_status[status]++;
    if (nt_httpd_respond(hreq, status, "application/json", NULL, r->out.data ? r->out.data : "",
                         r->out.len) != NT_OK)
        fprintf(stderr, "callback receiver: answer not sent\n");
}

int main(int argc, char **argv)
{
    receiver_t r;
    nt_err_t err;
    nt_loop_t *loop = NULL;
    nt_httpd_t *httpd = NULL;
    nt_platforms_t *ps = NULL;
    char host[64];
    int port, status = 1;

    memset(&r, 0, sizeof(r));
    nt_buf_init(&r.out, 0);
    if (argc != 2 || nt_httpd_parse_listen(argv[1], host, sizeof(host), &port) != NT_OK) {
        fprintf(stderr, "usage: numtrust-callback-receiver HOST:PORT\n");
        return 2;
    }
    const char *conninfo = getenv("NUMTRUST_PG_CONNINFO");
    const char *file = getenv("NUMTRUST_PLATFORMS_FILE");
    if (conninfo == NULL || file == NULL) {
        fprintf(stderr, "callback receiver: NUMTRUST_PG_CONNINFO and NUMTRUST_PLATFORMS_FILE\n");
        return 2;
    }
    if ((ps = nt_platforms_load(file, &err)) == NULL ||
        (r.pg = nt_pg_connect(conninfo, 10, &err)) == NULL || (loop = nt_loop_new(&err)) == NULL)
        goto fail;
    r.ps = ps;
    nt_httpd_opts_t opts = {.host = host, .port = port};
    if ((httpd = nt_httpd_new(loop, &opts, handle, &r, &err)) == NULL)
        goto fail;
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    printf("listening on %s:%d\n", host, nt_httpd_port(httpd));
    fflush(stdout);
    while (!stop_flag)
        if (nt_loop_run_once(loop, 100) < 0)
            break;
    printf("answers:");
    for (int s = 0; s < 600; s++)
        if (r.by_status[s] > 0)
            printf(" %d=%lu", s, r.by_status[s]);
    printf("\n");
    status = 0;
    goto out;
fail:
    fprintf(stderr, "callback receiver: %s\n", err.msg);
out:
    nt_httpd_free(httpd);
    nt_loop_free(loop);
    nt_pg_free(r.pg);
    nt_platforms_free(ps);
    nt_buf_free(&r.out);
    return status;
}
