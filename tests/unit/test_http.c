/*
 * test_http.c — the HTTP client (http.h, libcurl's multi interface on
 * nt_loop) against the project's own HTTP server (httpd.h) in the same
 * process and loop: each row is what the server does and what the client's
 * result must say (status, body, Retry-After, timeout, body cap, refused
 * connection); many calls in flight at once all complete, once each, over
 * reused connections.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "clock.h"
#include "http.h"
#include "httpd.h"
#include "loop.h"

/* The server's answers, by path. */
static void handler(nt_httpd_t *srv, nt_httpd_req_t *req, void *arg)
{
    (void)srv;
    (void)arg;
    const char *path = nt_httpd_req_path(req);
    char body[256];
    if (strcmp(path, "/echo") == 0) {
        size_t len = 0;
        const char *b = nt_httpd_req_body(req, &len);
        const char *h = nt_httpd_req_header(req, "X-Test");
        int n = snprintf(body, sizeof(body), "%s %s x=%s body=%.*s", nt_httpd_req_method(req),
                         nt_httpd_req_query(req), h ? h : "-", (int)len, b);
        (void)nt_httpd_respond(req, 200, "text/plain", NULL, body, (size_t)n);
    } else if (strcmp(path, "/429") == 0) {
        (void)nt_httpd_respond(req, 429, "text/plain", "Retry-After: 7\r\n", "slow down", 9);
    } else if (strcmp(path, "/503") == 0) {
        (void)nt_httpd_respond(req, 503, "text/plain", NULL, "", 0);
    } else if (strcmp(path, "/slow") == 0) {
        (void)nt_httpd_respond_after(req, 300, 200, "text/plain", NULL, "late", 4);
    } else if (strcmp(path, "/never") == 0) {
        nt_httpd_respond_never(req);
    } else if (strcmp(path, "/big") == 0) {
        static char big[5000];
        memset(big, 'x', sizeof(big));
        (void)nt_httpd_respond(req, 200, "text/plain", NULL, big, sizeof(big));
    } else {
        (void)nt_httpd_respond(req, 404, "text/plain", NULL, "no", 2);
    }
}

typedef struct got_s {
    int calls;
    long status;
    CURLcode code;
    bool too_big;
    int64_t retry_after_ms;
    char body[256];
} got_t;

static void on_done(const nt_http_result_t *res, void *arg)
{
    got_t *g = arg;
    g->calls++;
    g->status = res->status;
    g->code = res->code;
    g->too_big = res->body_too_big;
    g->retry_after_ms = res->retry_after_ms;
    snprintf(g->body, sizeof(g->body), "%.*s", (int)res->body_len, res->body ? res->body : "");
}

static void run_until(nt_loop_t *loop, const int *done, int want, int timeout_ms)
{
    int64_t until = nt_clock_mono_ms() + timeout_ms;
    while (*done < want && nt_clock_mono_ms() < until)
        nt_loop_run_once(loop, 5);
}

typedef struct row_s {
    const char *method, *path, *body;
    long timeout_ms;
    long want_status;
    CURLcode want_code;
    const char *want_body; /* substring; NULL: not checked */
    int64_t want_retry_after_ms;
    bool want_too_big;
} row_t;

static const row_t rows[] = {
    {"GET", "/echo?a=1&b=%2B86", NULL, 2000, 200, CURLE_OK, "GET a=1&b=%2B86 x=yes body=", -1,
     false},
    {"POST", "/echo", "{\"k\":\"号码\"}", 2000, 200, CURLE_OK, "POST  x=yes body={\"k\":\"号码\"}",
     -1, false},
    {"GET", "/429", NULL, 2000, 429, CURLE_OK, "slow down", 7000, false},
    {"GET", "/503", NULL, 2000, 503, CURLE_OK, NULL, -1, false},
    {"GET", "/nope", NULL, 2000, 404, CURLE_OK, "no", -1, false},
    {"GET", "/slow", NULL, 2000, 200, CURLE_OK, "late", -1, false},
    {"GET", "/never", NULL, 200, 0, CURLE_OPERATION_TIMEDOUT, NULL, -1, false},
    {"GET", "/big", NULL, 2000, 200, CURLE_WRITE_ERROR, NULL, -1, true},
};

int main(void)
{
    nt_err_t err;
    char url[256];
    nt_loop_t *loop = nt_loop_new(&err);
    nt_httpd_opts_t so = {.host = "127.0.0.1", .port = 0};
    nt_httpd_t *srv = loop ? nt_httpd_new(loop, &so, handler, NULL, &err) : NULL;
    nt_http_opts_t co = {.max_body = 4096, .max_host_conns = 8, .max_total_conns = 16};
    nt_http_t *http = loop ? nt_http_new(loop, &co, &err) : NULL;
    CHECK(srv != NULL && http != NULL);
    if (srv == NULL || http == NULL)
        CHECK_DONE();
    int port = nt_httpd_port(srv);

    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        const row_t *r = &rows[i];
        got_t g;
        memset(&g, 0, sizeof(g));
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, r->path);
        nt_http_call_t call = {.method = r->method,
                               .url = url,
                               .headers = curl_slist_append(NULL, "X-Test: yes"),
                               .body = r->body,
                               .body_len = r->body ? strlen(r->body) : 0,
                               .timeout_ms = r->timeout_ms,
                               .connect_timeout_ms = 1000};
        CHECK_INT(nt_http_submit(http, &call, on_done, &g, &err), NT_OK);
        CHECK(call.headers == NULL); /* taken */
        CHECKF(g.calls == 0, "%s %s: called back from inside submit", r->method, r->path);
        run_until(loop, &g.calls, 1, 5000);
        CHECKF(g.calls == 1, "%s %s: %d callbacks", r->method, r->path, g.calls);
        CHECKF(g.code == r->want_code, "%s %s: code %d (%s), want %d", r->method, r->path, g.code,
               curl_easy_strerror(g.code), r->want_code);
        if (r->want_code == CURLE_OK)
            CHECKF(g.status == r->want_status, "%s %s: status %ld, want %ld", r->method, r->path,
                   g.status, r->want_status);
        if (r->want_body != NULL)
            CHECK_CONTAINS(r->path, g.body, r->want_body);
        CHECKF(g.retry_after_ms == r->want_retry_after_ms, "%s %s: retry_after %lld, want %lld",
               r->method, r->path, (long long)g.retry_after_ms, (long long)r->want_retry_after_ms);
        CHECKF(g.too_big == r->want_too_big, "%s %s: too_big %d", r->method, r->path, g.too_big);
    }
    CHECK_INT(nt_http_inflight(http), 0);

    /* 200 calls at once: every one completes, once */
    enum { N = 200 };
    static got_t many[N];
    int total = 0;
    for (int i = 0; i < N; i++) {
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo?i=%d", port, i);
        nt_http_call_t call = {.method = "GET", .url = url, .timeout_ms = 5000};
        CHECK_INT(nt_http_submit(http, &call, on_done, &many[i], &err), NT_OK);
    }
    CHECK_INT(nt_http_inflight(http), N);
    int64_t until = nt_clock_mono_ms() + 10000;
    while (nt_clock_mono_ms() < until) {
        total = 0;
        for (int i = 0; i < N; i++)
            total += many[i].calls;
        if (total >= N)
            break;
        nt_loop_run_once(loop, 5);
    }
    CHECK_INT(total, N);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof(want), "i=%d ", i);
        CHECKF(many[i].calls == 1 && many[i].status == 200 && strstr(many[i].body, want) != NULL,
               "call %d: %d callbacks, status %ld, body %s", i, many[i].calls, many[i].status,
               many[i].body);
    }

    /* nothing listening: a transport failure, not a status */
    nt_httpd_free(srv);
    got_t g;
    memset(&g, 0, sizeof(g));
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", port);
    nt_http_call_t call = {.method = "GET", .url = url, .timeout_ms = 2000};
    CHECK_INT(nt_http_submit(http, &call, on_done, &g, &err), NT_OK);
    run_until(loop, &g.calls, 1, 5000);
    CHECK_INT(g.calls, 1);
    CHECK(g.code == CURLE_COULDNT_CONNECT);
    CHECK_INT(g.status, 0);

    /* percent-encoding */
    char enc[64];
    CHECK_INT(nt_http_urlencode("+86 138/号", enc, sizeof(enc)), NT_OK);
    CHECK_STR(enc, "%2B86%20138%2F%E5%8F%B7");
    CHECK(nt_http_urlencode("+8613800138000", enc, 8) != NT_OK); /* does not fit */

    nt_http_free(http);
    nt_loop_free(loop);
    printf("test_http: %zu rows, %d concurrent calls\n", NT_ARRAY_LEN(rows), N);
    CHECK_DONE();
}
