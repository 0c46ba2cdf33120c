/*
 * test_httpd.c — the HTTP server on loopback, driven from the same process:
 * client sockets are non-blocking and the test pumps the server's loop while
 * it waits for answers. Covers keep-alive, pipelining order, the error
 * answers (400/411/413/431/505), HTTP/1.0, Connection: close, 100-continue,
 * deferred answers, clients leaving before a deferred answer, never-answered
 * requests, idle timeout, max connections (the longest-waiting connection
 * makes room), request deadlines against slowloris, and pause/resume.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "httpd.h"
#include "loop.h"

typedef struct fixture_s {
    nt_loop_t *loop;
    nt_httpd_t *srv;
    int port;
    int handled;
    nt_httpd_req_t *later; /* a request held for a later answer */
} fixture_t;

/* Answers by path: /slow after 100 ms, /never never, /later held by the
 * test, /echo with method, path, query, X-Test header and body; anything
 * else with its path. */
static void handler(nt_httpd_t *srv, nt_httpd_req_t *req, void *arg)
{
    fixture_t *fx = arg;
    const char *path = nt_httpd_req_path(req);
    char body[512];
    (void)srv;
    fx->handled++;
    if (strcmp(path, "/slow") == 0) {
        CHECK_INT(nt_httpd_respond_after(req, 100, 200, "text/plain", NULL, "slow", 4), 0);
        return;
    }
    if (strcmp(path, "/never") == 0) {
        nt_httpd_respond_never(req);
        return;
    }
    if (strcmp(path, "/later") == 0) {
        fx->later = req;
        return;
    }
    if (strcmp(path, "/echo") == 0) {
        size_t len = 0;
        const char *b = nt_httpd_req_body(req, &len);
        const char *x = nt_httpd_req_header(req, "x-TEST");
        int n = snprintf(body, sizeof(body), "%s %s ?%s x=%s body=%.*s", nt_httpd_req_method(req),
                         path, nt_httpd_req_query(req), x ? x : "-", (int)len, b);
        CHECK_INT(nt_httpd_respond(req, 200, "text/plain", "X-Extra: 1\r\n", body, (size_t)n), 0);
        return;
    }
    CHECK_INT(nt_httpd_respond(req, 200, "text/plain", NULL, path, strlen(path)), 0);
}

static int fixture_start(fixture_t *fx, const nt_httpd_opts_t *extra)
{
    nt_err_t err;
    nt_httpd_opts_t opts = {.host = "127.0.0.1", .port = 0};
    memset(fx, 0, sizeof(*fx));
    if (extra != NULL)
        opts = *extra;
    fx->loop = nt_loop_new(&err);
    if (fx->loop == NULL)
        return -1;
    fx->srv = nt_httpd_new(fx->loop, &opts, handler, fx, &err);
    if (fx->srv == NULL) {
        fprintf(stderr, "nt_httpd_new: %s\n", err.msg);
        return -1;
    }
    fx->port = nt_httpd_port(fx->srv);
    return 0;
}

static void fixture_stop(fixture_t *fx)
{
    nt_httpd_free(fx->srv);
    nt_loop_free(fx->loop);
}

static void pump(fixture_t *fx, int ms)
{
    int64_t until = nt_clock_mono_ms() + ms;
    while (nt_clock_mono_ms() < until)
        nt_loop_run_once(fx->loop, 5);
}

/* A non-blocking client connected to port (-1 when refused). */
static int client_connect(int port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void client_send(fixture_t *fx, int fd, const char *data, size_t len)
{
    size_t off = 0;
    int64_t until = nt_clock_mono_ms() + 2000;
    while (off < len && nt_clock_mono_ms() < until) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n > 0)
            off += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            break;
        else
            nt_loop_run_once(fx->loop, 1);
    }
}

typedef struct reply_s {
    char raw[65536];
    size_t len;
    int nresp;      /* complete responses (100 Continue not counted) */
    int status[16]; /* their statuses */
    char body[16][256];
    char head[16][512];
    bool closed; /* the server closed the connection */
    bool got_continue;
} reply_t;

static void copy_text(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (n >= dstsz)
        n = dstsz - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Parses the complete responses in r->raw. */
static void reply_parse(reply_t *r)
{
    size_t off = 0;
    r->nresp = 0;
    r->got_continue = false;
    while (off < r->len && r->nresp < 16) {
        const char *p = r->raw + off;
        const char *end = strstr(p, "\r\n\r\n");
        if (end == NULL || strncmp(p, "HTTP/1.1 ", 9) != 0)
            return;
        int status = (int)strtol(p + 9, NULL, 10);
        size_t head_len = (size_t)(end - p) + 4;
        if (status == 100) {
            r->got_continue = true;
            off += head_len;
            continue;
        }
        const char *cl = strstr(p, "Content-Length: ");
        if (cl == NULL || cl > end)
            return;
        size_t blen = (size_t)strtoul(cl + 16, NULL, 10);
        if (off + head_len + blen > r->len)
            return;
        int k = r->nresp++;
        r->status[k] = status;
        copy_text(r->head[k], sizeof(r->head[k]), p, head_len);
        copy_text(r->body[k], sizeof(r->body[k]), p + head_len, blen);
        off += head_len + blen;
    }
}

/* Pumps the loop and reads until want responses arrived, the server closed
 * the connection (when want_close) or timeout_ms passed. */
static void client_read(fixture_t *fx, int fd, reply_t *r, int want, bool want_close,
                        int timeout_ms)
{
    int64_t until = nt_clock_mono_ms() + timeout_ms;
    memset(r, 0, sizeof(*r));
    while (nt_clock_mono_ms() < until) {
        nt_loop_run_once(fx->loop, 2);
        for (;;) {
            ssize_t n = recv(fd, r->raw + r->len, sizeof(r->raw) - 1 - r->len, 0);
            if (n > 0) {
                r->len += (size_t)n;
                r->raw[r->len] = '\0';
                continue;
            }
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                r->closed = true;
            break;
        }
        reply_parse(r);
        if (r->closed || (r->nresp >= want && !want_close))
            return;
    }
}

static const char *get(const char *path, char *buf, size_t n)
{
    snprintf(buf, n, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", path);
    return buf;
}

static void test_keepalive(void)
{
    fixture_t fx;
    reply_t r;
    char req[256];
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int fd = client_connect(fx.port);
    CHECK(fd >= 0);
    static const char *const paths[] = {"/one", "/two", "/three"};
    for (size_t i = 0; i < NT_ARRAY_LEN(paths); i++) {
        get(paths[i], req, sizeof(req));
        client_send(&fx, fd, req, strlen(req));
        client_read(&fx, fd, &r, 1, false, 2000);
        CHECK_INT(r.nresp, 1);
        CHECK_INT(r.status[0], 200);
        CHECK_STR(r.body[0], paths[i]);
        CHECK(!r.closed);
    }
    /* a POST with a body, headers looked up case-insensitively, a query */
    const char post[] = "POST /echo?a=1&b=%2B2 HTTP/1.1\r\nHost: t\r\nX-Test:  v1 \r\n"
                        "Content-Length: 5\r\n\r\nhello";
    client_send(&fx, fd, post, sizeof(post) - 1);
    client_read(&fx, fd, &r, 1, false, 2000);
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "POST /echo ?a=1&b=%2B2 x=v1 body=hello");
    CHECK(strstr(r.head[0], "X-Extra: 1\r\n") != NULL);
    CHECK(strstr(r.head[0], "Connection: close") == NULL);
    CHECK_INT(fx.handled, 4);
    close(fd);
    pump(&fx, 20);
    fixture_stop(&fx);
}

static void test_pipelining(void)
{
    fixture_t fx;
    reply_t r;
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int fd = client_connect(fx.port);
    /* the first answer is deferred: the others must still come after it */
    const char reqs[] = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n"
                        "GET /a HTTP/1.1\r\nHost: t\r\n\r\n"
                        "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
                        "GET /b HTTP/1.1\r\nHost: t\r\n\r\n";
    client_send(&fx, fd, reqs, sizeof(reqs) - 1);
    client_read(&fx, fd, &r, 4, false, 3000);
    CHECK_INT(r.nresp, 4);
    CHECK_STR(r.body[0], "slow");
    CHECK_STR(r.body[1], "/a");
    CHECK_STR(r.body[2], "POST /echo ? x=- body=xyz");
    CHECK_STR(r.body[3], "/b");
    close(fd);
    pump(&fx, 20);
    fixture_stop(&fx);
}

/* Requests the server must refuse, and whether it then closes. */
static void test_errors(void)
{
    static char big_header[3000];
    memset(big_header, 'a', sizeof(big_header) - 1);
    static char req431[4096];
    snprintf(req431, sizeof(req431), "GET / HTTP/1.1\r\nX-Big: %s\r\n\r\n", big_header);
    static const struct {
        const char *name;
        const char *request;
        int status;
    } cases[] = {
        {"body over the cap", "POST /x HTTP/1.1\r\nContent-Length: 2000\r\n\r\n", 413},
        {"header over the cap", req431, 431},
        {"chunked upload",
         "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411},
        {"garbage request line", "HELLO\r\n\r\n", 400},
        {"bad content length", "POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        {"unknown version", "GET / HTTP/1.7\r\n\r\n", 505},
        {"unknown expectation", "POST /x HTTP/1.1\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx",
         417},
    };
    nt_httpd_opts_t opts = {.host = "127.0.0.1", .max_header_bytes = 1024, .max_body_bytes = 1024};
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        fixture_t fx;
        reply_t r;
        CHECK_INT(fixture_start(&fx, &opts), 0);
        int fd = client_connect(fx.port);
        client_send(&fx, fd, cases[i].request, strlen(cases[i].request));
        client_read(&fx, fd, &r, 1, true, 3000);
        if (r.nresp != 1 || r.status[0] != cases[i].status || !r.closed)
            fprintf(stderr, "case \"%s\": %d responses, status %d, closed %d\n", cases[i].name,
                    r.nresp, r.nresp ? r.status[0] : 0, r.closed);
        CHECK_INT(r.nresp, 1);
        CHECK_INT(r.status[0], cases[i].status);
        CHECK(strstr(r.head[0], "Connection: close\r\n") != NULL);
        CHECK(r.closed);
        CHECK_INT(fx.handled, 0);
        close(fd);
        fixture_stop(&fx);
    }
}

static void test_connection_close_and_http10(void)
{
    static const struct {
        const char *request;
        bool closes;
        const char *conn_header; /* expected in the answer, or NULL */
    } cases[] = {
        {"GET /c HTTP/1.1\r\nConnection: close\r\n\r\n", true, "Connection: close"},
        {"GET /c HTTP/1.0\r\n\r\n", true, "Connection: close"},
        {"GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false, "Connection: keep-alive"},
        {"GET /c HTTP/1.1\r\nConnection: Keep-Alive, TE\r\n\r\n", false, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        fixture_t fx;
        reply_t r;
        CHECK_INT(fixture_start(&fx, NULL), 0);
        int fd = client_connect(fx.port);
        client_send(&fx, fd, cases[i].request, strlen(cases[i].request));
        client_read(&fx, fd, &r, 1, cases[i].closes, cases[i].closes ? 3000 : 300);
        CHECK_INT(r.nresp, 1);
        CHECK_STR(r.body[0], "/c");
        if (r.closed != cases[i].closes)
            fprintf(stderr, "case %zu: closed %d, want %d\n", i, r.closed, cases[i].closes);
        CHECK(r.closed == cases[i].closes);
        if (cases[i].conn_header != NULL)
            CHECK(strstr(r.head[0], cases[i].conn_header) != NULL);
        close(fd);
        pump(&fx, 10);
        fixture_stop(&fx);
    }
}

static void test_expect_continue(void)
{
    fixture_t fx;
    reply_t r;
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int fd = client_connect(fx.port);
    const char head[] = "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
    client_send(&fx, fd, head, sizeof(head) - 1);
    client_read(&fx, fd, &r, 1, false, 300);
    CHECK(r.got_continue);
    CHECK_INT(r.nresp, 0);
    client_send(&fx, fd, "abcde", 5);
    client_read(&fx, fd, &r, 1, false, 2000);
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "POST /echo ? x=- body=abcde");
    close(fd);
    pump(&fx, 10);
    fixture_stop(&fx);
}

static void test_respond_after(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int fd = client_connect(fx.port);
    int64_t t0 = nt_clock_mono_ms();
    get("/slow", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    client_read(&fx, fd, &r, 1, false, 2000);
    int64_t took = nt_clock_mono_ms() - t0;
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "slow");
    CHECK(took >= 95);
    CHECK(took < 1000);
    close(fd);
    pump(&fx, 10);
    fixture_stop(&fx);
}

/* The client leaves before the deferred answer, and before an answer the
 * handler gives later: both are dropped without touching freed memory
 * (ASan checks), and the server goes on serving. */
static void test_client_leaves_first(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    CHECK_INT(fixture_start(&fx, NULL), 0);

    int fd = client_connect(fx.port);
    get("/slow", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    pump(&fx, 20);
    CHECK_INT(fx.handled, 1);
    close(fd);
    pump(&fx, 200); /* past the 100 ms timer */

    fd = client_connect(fx.port);
    get("/later", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    pump(&fx, 20);
    CHECK(fx.later != NULL);
    close(fd);
    pump(&fx, 20);
    if (fx.later != NULL)
        CHECK_INT(nt_httpd_respond(fx.later, 200, "text/plain", NULL, "late", 4), 0);
    fx.later = NULL;

    fd = client_connect(fx.port);
    get("/alive", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    client_read(&fx, fd, &r, 1, false, 2000);
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "/alive");
    close(fd);
    pump(&fx, 10);

    /* a deferred answer still pending when the server is freed */
    fd = client_connect(fx.port);
    get("/slow", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    pump(&fx, 20);
    fixture_stop(&fx);
    close(fd);
}

static void test_respond_never(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int fd = client_connect(fx.port);
    get("/never", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    /* a pipelined request behind it is never answered either */
    get("/after", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    client_read(&fx, fd, &r, 1, false, 300);
    CHECK_INT(r.nresp, 0);
    CHECK(!r.closed);
    CHECK_INT(fx.handled, 1);
    close(fd);
    pump(&fx, 20);
    fixture_stop(&fx);
}

static void test_idle_timeout(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    nt_httpd_opts_t opts = {.host = "127.0.0.1", .idle_timeout_ms = 150};
    CHECK_INT(fixture_start(&fx, &opts), 0);
    int fd = client_connect(fx.port);
    get("/x", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    client_read(&fx, fd, &r, 1, true, 2000);
    CHECK_INT(r.nresp, 1);
    CHECK(r.closed); /* closed by the idle timeout after the answer */

    /* a never-answered request is closed by the idle timeout too */
    int fd2 = client_connect(fx.port);
    get("/never", req, sizeof(req));
    client_send(&fx, fd2, req, strlen(req));
    client_read(&fx, fd2, &r, 1, true, 2000);
    CHECK_INT(r.nresp, 0);
    CHECK(r.closed);
    close(fd);
    close(fd2);
    fixture_stop(&fx);
}

/* Full: a new connection closes the one that waited longest for a request,
 * so that a probe is answered; a connection with a request at the handler
 * is never the one closed. */
static void test_max_conns(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    nt_httpd_opts_t opts = {.host = "127.0.0.1", .max_conns = 2};
    CHECK_INT(fixture_start(&fx, &opts), 0);
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = client_connect(fx.port);
        pump(&fx, 10);
    }
    get("/x", req, sizeof(req));
    client_send(&fx, fds[2], req, strlen(req));
    client_read(&fx, fds[2], &r, 1, false, 1000);
    CHECK_INT(r.nresp, 1); /* the newest is served ... */
    client_read(&fx, fds[0], &r, 1, true, 1000);
    CHECK(r.closed); /* ... the oldest idle one made room */
    /* a request waiting at the handler keeps its connection */
    get("/later", req, sizeof(req));
    client_send(&fx, fds[1], req, strlen(req));
    pump(&fx, 20);
    int fd4 = client_connect(fx.port);
    get("/y", req, sizeof(req));
    client_send(&fx, fd4, req, strlen(req));
    client_read(&fx, fd4, &r, 1, false, 1000);
    CHECK_INT(r.nresp, 1);
    CHECK(fx.later != NULL);
    CHECK_INT(nt_httpd_respond(fx.later, 200, "text/plain", NULL, "late", 4), 0);
    client_read(&fx, fds[1], &r, 1, false, 1000);
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "late");
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    close(fd4);
    pump(&fx, 10);
    fixture_stop(&fx);
}

/* The ops endpoint under a slowloris and a flood of idle sockets (issue 8
 * item 8): a request trickling in one byte at a time is closed at its
 * deadline however active it looks, and with every slot taken by idle or
 * trickling sockets each probe is still answered at once. */
static void test_slowloris(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    nt_httpd_opts_t opts = {
        .host = "127.0.0.1", .max_conns = 8, .idle_timeout_ms = 5000, .request_timeout_ms = 300};
    CHECK_INT(fixture_start(&fx, &opts), 0);
    /* one byte every 50 ms: never idle for long, never complete */
    int slow = client_connect(fx.port);
    const char *head = "GET /slow-loris HTTP/1.1\r\nHost: t\r\nX-Pad: ";
    int64_t t0 = nt_clock_mono_ms();
    bool closed = false;
    for (size_t i = 0; i < strlen(head) * 4 && !closed; i++) {
        char c = i < strlen(head) ? head[i] : 'a';
        if (send(slow, &c, 1, MSG_NOSIGNAL) != 1)
            closed = true;
        pump(&fx, 50);
        char buf[16];
        ssize_t n = recv(slow, buf, sizeof(buf), 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            closed = true;
    }
    int64_t took = nt_clock_mono_ms() - t0;
    CHECKF(closed, "a request trickling in for %lld ms was not closed", (long long)took);
    CHECKF(took < 1500, "the trickle was closed only after %lld ms (deadline 300)",
           (long long)took);
    close(slow);

    /* every slot taken: 4 idle sockets and 4 trickling ones */
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = client_connect(fx.port);
        if (i >= 4)
            client_send(&fx, fds[i], "GET /", 5);
        pump(&fx, 5);
    }
    for (int probe = 0; probe < 5; probe++) {
        int fd = client_connect(fx.port);
        get("/healthz", req, sizeof(req));
        client_send(&fx, fd, req, strlen(req));
        client_read(&fx, fd, &r, 1, false, 500);
        CHECKF(r.nresp == 1 && r.status[0] == 200, "probe %d not answered with every slot taken",
               probe);
        close(fd);
        /* the flood comes back at once */
        fds[probe] = client_connect(fx.port);
        pump(&fx, 5);
    }
    for (int i = 0; i < 8; i++)
        close(fds[i]);
    pump(&fx, 10);
    fixture_stop(&fx);
}

static void test_pause_resume(void)
{
    fixture_t fx;
    reply_t r;
    char req[128];
    CHECK_INT(fixture_start(&fx, NULL), 0);
    int port = fx.port;
    int held = client_connect(port);
    get("/slow", req, sizeof(req));
    client_send(&fx, held, req, strlen(req));
    pump(&fx, 20);

    CHECK_INT(nt_httpd_pause(fx.srv), 0);
    int fd = client_connect(port);
    CHECK_INT(fd, -1); /* refused */
    client_read(&fx, held, &r, 1, true, 500);
    CHECK(r.closed); /* the open connection was closed, its answer dropped */
    CHECK_INT(r.nresp, 0);
    close(held);

    CHECK_INT(nt_httpd_resume(fx.srv), 0);
    CHECK_INT(nt_httpd_port(fx.srv), port);
    fd = client_connect(port);
    CHECK(fd >= 0);
    get("/back", req, sizeof(req));
    client_send(&fx, fd, req, strlen(req));
    client_read(&fx, fd, &r, 1, false, 2000);
    CHECK_INT(r.nresp, 1);
    CHECK_STR(r.body[0], "/back");
    close(fd);
    pump(&fx, 10);
    fixture_stop(&fx);
}

int main(void)
{
    test_keepalive();
    test_pipelining();
    test_errors();
    test_connection_close_and_http10();
    test_expect_continue();
    test_respond_after();
    test_client_leaves_first();
    test_respond_never();
    test_idle_timeout();
    test_max_conns();
    test_slowloris();
    test_pause_resume();
    CHECK_DONE();
}
