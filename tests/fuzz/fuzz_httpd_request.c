/*
 * fuzz_httpd_request.c — libFuzzer target for the request parser of the
 * simulator's HTTP server (common/httpd.c), driven end to end.
 *
 * httpd.c keeps its parser static, so the target runs a real nt_httpd server
 * on 127.0.0.1 (ephemeral port) in this process, opens one TCP connection
 * per input, writes the input bytes, pumps the loop until the server has
 * answered what it can, shuts the write side and pumps until the server
 * closes the connection. The handler reads every part of the request and
 * answers according to the path's first letter, so the pipelining and
 * answer-lifetime paths are covered too:
 *   /d…  nt_httpd_respond_after (1 ms)   /n…  nt_httpd_respond_never
 *   /h…  held, answered from outside the handler before the client leaves
 *   /z…  held until after the client has left (the server's zombie path)
 *   else nt_httpd_respond now, echoing the body
 * A connection the server never closes is a bug (a client could pin it):
 * the target aborts after a deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "fuzz.h"
#include "httpd.h"
#include "loop.h"

#define DEADLINE_MS 5000

/* The server lives for the whole run (freed at exit); one request may be
 * held across loop turns. The harness's only state. */
static nt_loop_t *loop;
static nt_httpd_t *srv;
static int port;
static nt_httpd_req_t *held;
static bool held_past_eof; /* answer only after the client has left */

static void cleanup(void)
{
    nt_httpd_free(srv);
    nt_loop_free(loop);
    srv = NULL;
    loop = NULL;
}

/* Touches every byte the request accessors hand out (ASan checks them). */
static size_t req_digest(const nt_httpd_req_t *req)
{
    static const char *const names[] = {"Host",           "Content-Type",  "Content-Length",
                                        "X-Request-Id",   "Authorization", "Idempotency-Key",
                                        "X-Nt-Signature", "Connection",    "Expect"};
    size_t sum = strlen(nt_httpd_req_method(req)) + strlen(nt_httpd_req_path(req)) +
                 strlen(nt_httpd_req_query(req));
    for (size_t i = 0; i < NT_ARRAY_LEN(names); i++) {
        const char *v = nt_httpd_req_header(req, names[i]);
        if (v != NULL)
            sum += strlen(v);
    }
    size_t len = 0;
    const char *body = nt_httpd_req_body(req, &len);
    FUZZ_CHECK(len == 0 || body != NULL, "body NULL with length %zu", len);
    for (size_t i = 0; i < len; i++)
        sum += (unsigned char)body[i];
    return sum;
}

static void answer(nt_httpd_req_t *req, size_t digest)
{
    char text[64];
    size_t len = 0;
    const char *body = nt_httpd_req_body(req, &len);
    int n = snprintf(text, sizeof(text), "X-Digest: %zu\r\n", digest);
    FUZZ_CHECK(n > 0 && (size_t)n < sizeof(text), "digest header");
    (void)nt_httpd_respond(req, 200, "application/octet-stream", text, body, len);
}

static void on_request(nt_httpd_t *s, nt_httpd_req_t *req, void *arg)
{
    (void)s;
    (void)arg;
    size_t digest = req_digest(req);
    const char *path = nt_httpd_req_path(req);
    char mode = path[0] == '/' ? path[1] : '\0';
    switch (mode) {
    case 'd':
        (void)nt_httpd_respond_after(req, 1, 202, "text/plain", NULL, "later\n", 6);
        break;
    case 'n':
        nt_httpd_respond_never(req);
        break;
    case 'h':
    case 'z':
        FUZZ_CHECK(held == NULL, "a second request reached the handler while one is pending");
        held = req;
        held_past_eof = mode == 'z';
        break;
    default:
        answer(req, digest);
        break;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    nt_err_t err;
    nt_httpd_opts_t opts;
    (void)argc;
    (void)argv;
    loop = nt_loop_new(&err);
    if (loop == NULL) {
        fprintf(stderr, "fuzz_httpd_request: %s\n", err.msg);
        exit(2);
    }
    memset(&opts, 0, sizeof(opts));
    opts.host = "127.0.0.1";
    opts.port = 0;
    /* small caps, so that the 413 and 431 paths are in reach of -max_len */
    opts.max_header_bytes = 2048;
    opts.max_body_bytes = 4096;
    opts.max_conns = 16;
    opts.idle_timeout_ms = 60000;
    srv = nt_httpd_new(loop, &opts, on_request, NULL, &err);
    if (srv == NULL) {
        fprintf(stderr, "fuzz_httpd_request: %s\n", err.msg);
        exit(2);
    }
    port = nt_httpd_port(srv);
    atexit(cleanup);
    return 0;
}

/* Reads what the server sent; true once it has closed its side. */
static bool drain_client(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0)
            continue;
        if (n == 0)
            return true;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return false;
        return true; /* reset: closed too */
    }
}

/* Runs the loop until nothing is ready and no timer is due within 2 ms. */
static void pump(int64_t deadline)
{
    for (;;) {
        FUZZ_CHECK(nt_clock_mono_ms() < deadline, "server still busy after %d ms", DEADLINE_MS);
        int64_t next = nt_loop_next_timeout(loop);
        int wait = next >= 0 && next <= 2 ? (int)next : 0;
        int ran = nt_loop_run_once(loop, wait);
        FUZZ_CHECK(ran >= 0, "nt_loop_run_once: %d", ran);
        next = nt_loop_next_timeout(loop);
        if (ran == 0 && !(next >= 0 && next <= 2))
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_in sa;
    int64_t deadline = nt_clock_mono_ms() + DEADLINE_MS;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    FUZZ_CHECK(fd >= 0, "socket: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    FUZZ_CHECK(rc == 0 || errno == EINPROGRESS, "connect: %s", strerror(errno));

    /* write the input while the server reads it */
    size_t off = 0;
    bool closed = false;
    while (off < size && !closed) {
        ssize_t n = send(fd, data + off, size - off, MSG_NOSIGNAL);
        if (n > 0) {
            off += (size_t)n;
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                   errno != ENOTCONN) {
            closed = true; /* the server answered an error and closed: fine */
        }
        pump(deadline);
        closed = drain_client(fd) || closed;
    }
    pump(deadline);
    closed = drain_client(fd) || closed;

    /* requests held by the handler are answered from outside it, which
     * also lets pipelined requests behind them through */
    while (held != NULL && !held_past_eof && !closed) {
        nt_httpd_req_t *req = held;
        held = NULL;
        answer(req, req_digest(req));
        pump(deadline);
        closed = drain_client(fd);
    }

    /* the client leaves; the server must close the connection */
    shutdown(fd, SHUT_WR);
    while (!closed) {
        FUZZ_CHECK(nt_clock_mono_ms() < deadline, "connection still open %d ms after EOF",
                   DEADLINE_MS);
        int ran = nt_loop_run_once(loop, 1);
        FUZZ_CHECK(ran >= 0, "nt_loop_run_once: %d", ran);
        closed = drain_client(fd);
    }
    pump(deadline);
    if (held != NULL) {
        /* the client is gone: the answer is dropped and the connection freed */
        nt_httpd_req_t *req = held;
        held = NULL;
        answer(req, req_digest(req));
        pump(deadline);
    }
    close(fd);
    pump(deadline);
    return 0;
}
