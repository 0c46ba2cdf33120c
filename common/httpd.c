/*
 * httpd.c — non-blocking HTTP/1.1 server on nt_loop (see httpd.h).
 *
 * One struct per connection holds an input buffer, an output buffer, the
 * bytes of the request being answered and its deferred answer; all of them
 * are reused from request to request, so a keep-alive connection allocates
 * nothing in steady state. Requests are answered strictly one at a time per
 * connection: while one is pending, pipelined bytes stay in the input buffer
 * (the connection is still read so that a client that goes away is noticed).
 * Responses produced while a read batch is processed are written with one
 * send() at the end of the batch.
 *
 * A client's EOF counts as leaving: requests already received completely
 * are still answered, but an answer pending at that moment (deferred, held
 * by the handler or never sent) is dropped. Error answers (400/411/413/431)
 * and Connection: close answers end with a lingering close: write side shut,
 * input discarded until EOF or 1 s, so the client reads the answer instead
 * of a reset.
 */
#define _GNU_SOURCE /* accept4 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "httphead.h"

#define HTTPD_MAX_HEADERS    NT_HTTPHEAD_MAX_HEADERS
#define HTTPD_READ_CHUNK     16384
#define HTTPD_LINGER_MS      1000
#define HTTPD_ACCEPT_BACKOFF 100
#define HTTPD_OUT_CAP        ((size_t)256 << 20)
#define HTTPD_HOST_MAX       64

typedef enum {
    CONN_READING,  /* parsing / waiting for the next request */
    CONN_HANDLING, /* request handed to the handler, not answered yet */
    CONN_DEFERRED, /* answer copied, waiting for its timer */
    CONN_NEVER,    /* nt_httpd_respond_never: read and discard until EOF */
    CONN_CLOSING,  /* last answer queued; close once it is written */
    CONN_LINGER,   /* write side shut; discard input until EOF or timeout */
} conn_state_t;

typedef struct conn_s conn_t;

struct nt_httpd_req_s {
    conn_t *conn;
    const char *method;
    const char *path;
    const char *query;
    const char *body;
    size_t body_len;
    const char *hname[HTTPD_MAX_HEADERS];
    const char *hvalue[HTTPD_MAX_HEADERS];
    size_t nheaders;
};

struct conn_s {
    nt_httpd_t *srv;
    int fd;
    conn_t *prev, *next; /* in srv->conns, or srv->zombies */
    nt_buf_t in;         /* received bytes; parsing starts at in_off */
    size_t in_off;
    nt_buf_t out; /* bytes to send; sending starts at out_off */
    size_t out_off;
    nt_buf_t reqbuf; /* the bytes of the request being answered */
    nt_buf_t defer;  /* a deferred answer */
    nt_httpd_req_t req;
    nt_timer_t idle_timer;
    nt_timer_t defer_timer;
    int64_t last_active;
    int64_t req_start; /* first byte of the request being read (or accept) */
    conn_state_t state;
    unsigned watched;   /* NT_LOOP_* events currently registered */
    bool keepalive;     /* of the current request */
    bool http10;        /* current request is HTTP/1.0 */
    bool head;          /* current request is HEAD */
    bool continue_sent; /* 100 Continue sent for the request being read */
    bool processing;    /* inside conn_process: closing is deferred */
    bool dead;          /* closed while processing; freed when it unwinds */
    bool zombie;        /* closed with a request still at the handler */
    bool eof;           /* the client has shut down its side */
};

struct nt_httpd_s {
    nt_loop_t *loop;
    nt_httpd_handler handler;
    void *arg;
    char host[HTTPD_HOST_MAX];
    int port;
    size_t max_header;
    size_t max_body;
    int max_conns;
    int idle_ms;
    int request_ms;
    int lfd;
    bool paused;
    nt_timer_t accept_timer;
    conn_t *conns;
    conn_t *zombies;
    int nconns;
};

/* ---- small helpers ---- */

static const char *status_text(int status)
{
    static const struct {
        int status;
        const char *text;
    } texts[] = {
        {100, "Continue"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {411, "Length Required"},
        {413, "Content Too Large"},
        {417, "Expectation Failed"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(texts); i++) {
        if (texts[i].status == status)
            return texts[i].text;
    }
    return "Status";
}

static void list_push(conn_t **head, conn_t *conn)
{
    conn->prev = NULL;
    conn->next = *head;
    if (*head != NULL)
        (*head)->prev = conn;
    *head = conn;
}

static void list_unlink(conn_t **head, conn_t *conn)
{
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        *head = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    conn->prev = conn->next = NULL;
}

/* Appends a complete response to dst. */
static int build_response(nt_buf_t *dst, int status, bool keepalive, bool http10, bool head,
                          const char *content_type, const char *extra, const char *body, size_t len)
{
    size_t ctlen = content_type ? strlen(content_type) : 0;
    size_t xlen = extra ? strlen(extra) : 0;
    int rc = nt_buf_reserve(dst, 160 + ctlen + xlen + len);
    if (rc != NT_OK)
        return rc;
    const char *conn_hdr = "";
    if (!keepalive)
        conn_hdr = "Connection: close\r\n";
    else if (http10)
        conn_hdr = "Connection: keep-alive\r\n";
    size_t room = dst->size - dst->len;
    int n =
        snprintf(dst->data + dst->len, room, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s",
                 status, status_text(status), content_type ? "Content-Type: " : "",
                 content_type ? content_type : "", content_type ? "\r\n" : "", len, conn_hdr);
    if (n < 0 || (size_t)n >= room)
        return NT_ERR;
    dst->len += (size_t)n;
    if (xlen > 0)
        memcpy(dst->data + dst->len, extra, xlen);
    dst->len += xlen;
    memcpy(dst->data + dst->len, "\r\n", 2);
    dst->len += 2;
    if (!head && len > 0) {
        memcpy(dst->data + dst->len, body, len);
        dst->len += len;
    }
    dst->data[dst->len] = '\0';
    return NT_OK;
}

/* ---- connection lifetime ---- */

static void conn_free(conn_t *conn)
{
    nt_loop_timer_stop(conn->srv->loop, &conn->idle_timer);
    nt_loop_timer_stop(conn->srv->loop, &conn->defer_timer);
    nt_buf_free(&conn->in);
    nt_buf_free(&conn->out);
    nt_buf_free(&conn->reqbuf);
    nt_buf_free(&conn->defer);
    free(conn);
}

/* Closes the socket. The struct is freed now, or when conn_process unwinds,
 * or (zombie) when the handler answers the request it still holds. */
static void conn_close(conn_t *conn)
{
    nt_httpd_t *srv = conn->srv;
    if (conn->fd < 0)
        return;
    nt_loop_io_del(srv->loop, conn->fd);
    close(conn->fd);
    conn->fd = -1;
    list_unlink(&srv->conns, conn);
    srv->nconns--;
    nt_loop_timer_stop(srv->loop, &conn->idle_timer);
    nt_loop_timer_stop(srv->loop, &conn->defer_timer);
    if (conn->state == CONN_HANDLING) {
        conn->zombie = true;
        list_push(&srv->zombies, conn);
        return;
    }
    if (conn->processing) {
        conn->dead = true;
        return;
    }
    conn_free(conn);
}

static void conn_watch(conn_t *conn, unsigned events)
{
    if (conn->fd < 0 || conn->watched == events)
        return;
    if (nt_loop_io_mod(conn->srv->loop, conn->fd, events) == NT_OK)
        conn->watched = events;
}

static int conn_process(conn_t *conn);
static void request_begins(conn_t *conn);

/* Shuts the write side and discards input until EOF or HTTPD_LINGER_MS, so
 * that the peer reads the last answer before the close (closing with unread
 * input would reset the connection). Returns NT_OK, or NT_ERR when conn was
 * closed (do not touch it then). */
static int conn_linger(conn_t *conn)
{
    if (conn->eof) {
        conn_close(conn); /* the client has nothing more to send */
        return NT_ERR;
    }
    conn->state = CONN_LINGER;
    shutdown(conn->fd, SHUT_WR);
    conn->last_active = nt_loop_now(conn->srv->loop);
    conn_watch(conn, NT_LOOP_READ);
    if (nt_loop_timer_start(conn->srv->loop, &conn->idle_timer, HTTPD_LINGER_MS,
                            conn->idle_timer.cb, conn) != NT_OK) {
        conn_close(conn);
        return NT_ERR;
    }
    return NT_OK;
}

/* Writes what is queued. Returns NT_OK, or NT_ERR when conn was closed. */
static int conn_flush(conn_t *conn)
{
    while (conn->out_off < conn->out.len) {
        ssize_t n = send(conn->fd, conn->out.data + conn->out_off, conn->out.len - conn->out_off,
                         MSG_NOSIGNAL);
        if (n > 0) {
            conn->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            conn_watch(conn, NT_LOOP_READ | NT_LOOP_WRITE);
            return NT_OK;
        }
        conn_close(conn);
        return NT_ERR;
    }
    nt_buf_reset(&conn->out);
    conn->out_off = 0;
    if (conn->state == CONN_CLOSING)
        return conn_linger(conn);
    conn_watch(conn, NT_LOOP_READ);
    return NT_OK;
}

/* Queues a response generated by the server itself and closes afterwards. */
static void conn_fail(conn_t *conn, int status)
{
    char body[64];
    int n = snprintf(body, sizeof(body), "%d %s\n", status, status_text(status));
    if (build_response(&conn->out, status, false, false, false, "text/plain", NULL, body,
                       (size_t)n) != NT_OK) {
        conn_close(conn);
        return;
    }
    conn->state = CONN_CLOSING;
}

/* ---- request parsing ---- */

/* Points req at the NUL-terminated pieces of the request in conn->reqbuf. */
static void req_fill(conn_t *conn, const nt_httphead_t *h, size_t head_len)
{
    char *p = conn->reqbuf.data;
    nt_httpd_req_t *req = &conn->req;
    bool has_query = h->query > h->path_end; /* there was a '?' */

    p[h->method_end] = '\0';
    req->method = p;
    p[h->path_end] = '\0';
    req->path = p + h->target;
    if (has_query) {
        p[h->query_end] = '\0';
        req->query = p + h->query;
    } else {
        req->query = "";
    }
    for (size_t k = 0; k < h->nheaders; k++) {
        p[h->hname_end[k]] = '\0';
        p[h->hvalue_end[k]] = '\0';
        req->hname[k] = p + h->hname[k];
        req->hvalue[k] = p + h->hvalue[k];
    }
    req->nheaders = h->nheaders;
    req->body = p + head_len;
    req->body_len = h->content_length;
}

/* Parses and dispatches one request. Returns NT_OK when one was handed to
 * the handler, NT_AGAIN when more bytes are needed, NT_ERR when the
 * connection is failing. */
static int conn_parse_one(conn_t *conn)
{
    nt_httpd_t *srv = conn->srv;
    nt_httphead_t h;

    /* tolerate empty lines before a request (RFC 9112 section 2.2) */
    while (conn->in_off < conn->in.len &&
           (conn->in.data[conn->in_off] == '\r' || conn->in.data[conn->in_off] == '\n'))
        conn->in_off++;
    size_t avail = conn->in.len - conn->in_off;
    if (avail == 0) {
        nt_buf_reset(&conn->in);
        conn->in_off = 0;
        return NT_AGAIN;
    }
    /* only now: in.data may be NULL (never allocated) when nothing is in */
    const char *p = conn->in.data + conn->in_off;
    size_t scan = avail < srv->max_header ? avail : srv->max_header;
    const char *end = nt_httphead_find_end(p, scan);
    if (end == NULL) {
        if (avail >= srv->max_header) {
            conn_fail(conn, 431);
            return NT_ERR;
        }
        return NT_AGAIN;
    }
    size_t head_len = (size_t)(end - p) + 4;
    int status = nt_httphead_parse(p, head_len, srv->max_body, &h);
    if (status != 0) {
        conn_fail(conn, status);
        return NT_ERR;
    }
    size_t total = head_len + h.content_length;
    if (avail < total) {
        if (h.expect_continue && !conn->continue_sent) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            if (nt_buf_append(&conn->out, cont, sizeof(cont) - 1) != NT_OK) {
                conn_close(conn);
                return NT_ERR;
            }
            conn->continue_sent = true;
        }
        return NT_AGAIN;
    }

    /* Move the request out of the input buffer so that reading on while it
     * is pending cannot move it. Whole buffer: swap, no copy. */
    if (conn->in_off == 0 && total == conn->in.len) {
        nt_buf_t tmp = conn->reqbuf;
        size_t in_cap = conn->in.cap;
        conn->reqbuf = conn->in;
        conn->reqbuf.cap = 0;
        conn->in = tmp;
        conn->in.cap = in_cap;
        nt_buf_reset(&conn->in);
    } else {
        nt_buf_reset(&conn->reqbuf);
        if (nt_buf_append(&conn->reqbuf, p, total) != NT_OK) {
            conn_close(conn);
            return NT_ERR;
        }
        conn->in_off += total;
        if (conn->in_off == conn->in.len) {
            nt_buf_reset(&conn->in);
            conn->in_off = 0;
        }
    }
    conn->continue_sent = false;
    req_fill(conn, &h, head_len);
    conn->keepalive = h.keepalive;
    conn->http10 = h.http10;
    conn->head = h.head;
    conn->state = CONN_HANDLING;
    srv->handler(srv, &conn->req, srv->arg);
    return NT_OK;
}

/* Answers every complete request in the input buffer (one at a time), then
 * writes what was produced. Returns NT_OK, or NT_ERR when conn was closed
 * (and perhaps freed: do not touch it then). */
static int conn_process(conn_t *conn)
{
    if (conn->processing)
        return NT_OK;
    conn->processing = true;
    bool consumed = false; /* a request was taken out of the input */
    while (conn->state == CONN_READING && !conn->dead) {
        if (conn_parse_one(conn) != NT_OK)
            break;
        consumed = true;
    }
    conn->processing = false;
    if (conn->dead) {
        conn_free(conn);
        return NT_ERR;
    }
    if (consumed && conn->in.len > conn->in_off)
        request_begins(conn); /* the bytes left are the next request's */
    if (conn->fd < 0)
        return NT_ERR; /* zombie: freed when answered */
    if (conn->out.len > conn->out_off || conn->state == CONN_CLOSING)
        return conn_flush(conn);
    return NT_OK;
}

/* ---- I/O callbacks ---- */

static void conn_discard_input(conn_t *conn)
{
    char scratch[4096];
    for (;;) {
        ssize_t n = recv(conn->fd, scratch, sizeof(scratch), 0);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(conn);
        return;
    }
}

static void conn_read(conn_t *conn)
{
    nt_httpd_t *srv = conn->srv;
    for (;;) {
        if (conn->in_off > 0) {
            size_t rest = conn->in.len - conn->in_off;
            memmove(conn->in.data, conn->in.data + conn->in_off, rest);
            conn->in.len = rest;
            conn->in.data[rest] = '\0';
            conn->in_off = 0;
        }
        size_t room = conn->in.cap - conn->in.len;
        if (room > HTTPD_READ_CHUNK)
            room = HTTPD_READ_CHUNK;
        if (room == 0 || nt_buf_reserve(&conn->in, room) != NT_OK) {
            /* full while a request is pending: wait for its answer */
            conn_watch(conn, conn->watched & ~NT_LOOP_READ);
            break;
        }
        ssize_t n = recv(conn->fd, conn->in.data + conn->in.len, room, 0);
        if (n > 0) {
            if (conn->in.len == conn->in_off)
                request_begins(conn); /* a new request begins */
            conn->in.len += (size_t)n;
            conn->in.data[conn->in.len] = '\0';
            conn->last_active = nt_loop_now(srv->loop);
            if ((size_t)n < room)
                break;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            conn_close(conn);
            return;
        }
        /* EOF: answer what was received completely, then close; an answer
         * still pending is dropped (the client is gone) */
        conn->eof = true;
        conn_watch(conn, conn->watched & ~NT_LOOP_READ);
        if (conn_process(conn) != NT_OK)
            return;
        if (conn->state == CONN_READING) {
            conn->state = CONN_CLOSING;
            conn_flush(conn);
        } else if (conn->state != CONN_CLOSING && conn->state != CONN_LINGER) {
            conn_close(conn);
        }
        return;
    }
    (void)conn_process(conn);
}

static void conn_on_io(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    conn_t *conn = arg;
    (void)loop;
    (void)fd;
    if ((events & NT_LOOP_WRITE) && conn->out.len > conn->out_off) {
        if (conn_flush(conn) != NT_OK)
            return;
    }
    if (!(events & NT_LOOP_READ) || conn->fd < 0)
        return;
    if (conn->state == CONN_NEVER || conn->state == CONN_LINGER)
        conn_discard_input(conn);
    else
        conn_read(conn);
}

static void conn_on_idle(nt_loop_t *loop, void *arg);

/* The first byte of a request: its deadline starts now, and the connection's
 * timer fires by then at the latest. */
static void request_begins(conn_t *conn)
{
    nt_httpd_t *srv = conn->srv;
    int64_t now = nt_loop_now(srv->loop);
    conn->req_start = now;
    if (!nt_loop_timer_is_armed(&conn->idle_timer) ||
        conn->idle_timer.due_ms > now + srv->request_ms) {
        int rc =
            nt_loop_timer_start(srv->loop, &conn->idle_timer, srv->request_ms, conn_on_idle, conn);
        (void)rc; /* cannot fail short of memory; the idle timer would still close it */
    }
}

/* Closes a connection idle too long, or one whose request has not arrived
 * whole within request_ms of its first byte: a trickle of bytes extends the
 * idle clock, never the request deadline (slowloris). */
static void conn_on_idle(nt_loop_t *loop, void *arg)
{
    conn_t *conn = arg;
    nt_httpd_t *srv = conn->srv;
    int64_t limit = conn->state == CONN_LINGER ? HTTPD_LINGER_MS : srv->idle_ms;
    int64_t now = nt_loop_update_now(loop);
    int64_t idle = now - conn->last_active;
    bool counts =
        conn->state == CONN_READING || conn->state == CONN_NEVER || conn->state == CONN_LINGER;
    bool partial = conn->state == CONN_READING && conn->in.len > conn->in_off;
    int64_t req_left = partial ? conn->req_start + srv->request_ms - now : limit;
    if ((counts && idle >= limit) || req_left <= 0) {
        conn_close(conn);
        return;
    }
    int64_t next = counts ? limit - idle : limit;
    if (req_left < next)
        next = req_left;
    if (nt_loop_timer_start(loop, &conn->idle_timer, next, conn_on_idle, conn) != NT_OK)
        conn_close(conn);
}

static void conn_on_defer(nt_loop_t *loop, void *arg)
{
    conn_t *conn = arg;
    (void)loop;
    if (nt_buf_append(&conn->out, conn->defer.data, conn->defer.len) != NT_OK) {
        conn_close(conn);
        return;
    }
    nt_buf_reset(&conn->defer);
    conn->state = conn->keepalive ? CONN_READING : CONN_CLOSING;
    conn->last_active = nt_loop_now(conn->srv->loop);
    if (conn_flush(conn) != NT_OK)
        return;
    if (conn->state == CONN_READING) {
        conn_watch(conn, conn->watched | NT_LOOP_READ);
        (void)conn_process(conn);
    }
}

static int listen_open(nt_httpd_t *srv, nt_err_t *err);

static void srv_on_accept(nt_loop_t *loop, int fd, unsigned events, void *arg);
static void listen_close(nt_httpd_t *srv);

static void srv_accept_resume(nt_loop_t *loop, void *arg)
{
    nt_httpd_t *srv = arg;
    if (srv->lfd < 0 || nt_loop_io_has(loop, srv->lfd))
        return;
    if (nt_loop_io_add(loop, srv->lfd, NT_LOOP_READ, srv_on_accept, srv) != NT_OK &&
        nt_loop_timer_start(loop, &srv->accept_timer, HTTPD_ACCEPT_BACKOFF, srv_accept_resume,
                            srv) != NT_OK)
        listen_close(srv); /* cannot watch it nor retry: stop listening */
}

/* The server is full: closes the connection that has waited longest for a
 * request to arrive (idle keep-alive, or a request trickling in), so that a
 * new client — a liveness probe — gets room. Connections whose request is at
 * the handler or being answered are never chosen. False when none can go. */
static bool evict_one(nt_httpd_t *srv)
{
    conn_t *victim = NULL;
    int64_t oldest = 0;
    for (conn_t *c = srv->conns; c != NULL; c = c->next) {
        if (c->state != CONN_READING || c->fd < 0 || c->processing || c->out.len > c->out_off)
            continue;
        int64_t since = c->in.len > c->in_off ? c->req_start : c->last_active;
        if (victim == NULL || since < oldest) {
            victim = c;
            oldest = since;
        }
    }
    if (victim == NULL)
        return false;
    conn_close(victim);
    return true;
}

static void srv_on_accept(nt_loop_t *loop, int lfd, unsigned events, void *arg)
{
    nt_httpd_t *srv = arg;
    (void)events;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* out of descriptors: stop accepting for a moment rather
                 * than spin on a listener that stays readable */
                if (nt_loop_timer_start(loop, &srv->accept_timer, HTTPD_ACCEPT_BACKOFF,
                                        srv_accept_resume, srv) == NT_OK)
                    nt_loop_io_del(loop, lfd);
            }
            return;
        }
        if (srv->nconns >= srv->max_conns && !evict_one(srv)) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        conn_t *conn = calloc(1, sizeof(*conn));
        if (conn == NULL) {
            close(fd);
            continue;
        }
        conn->srv = srv;
        conn->fd = fd;
        conn->req.conn = conn;
        nt_buf_init(&conn->in, srv->max_header + srv->max_body + HTTPD_READ_CHUNK);
        nt_buf_init(&conn->out, HTTPD_OUT_CAP);
        nt_buf_init(&conn->reqbuf, 0);
        nt_buf_init(&conn->defer, HTTPD_OUT_CAP);
        nt_loop_timer_init(&conn->idle_timer);
        nt_loop_timer_init(&conn->defer_timer);
        conn->idle_timer.cb = conn_on_idle;
        conn->state = CONN_READING;
        conn->last_active = nt_loop_now(loop);
        conn->req_start = conn->last_active;
        conn->watched = NT_LOOP_READ;
        if (nt_loop_io_add(loop, fd, NT_LOOP_READ, conn_on_io, conn) != NT_OK) {
            close(fd);
            free(conn);
            continue;
        }
        list_push(&srv->conns, conn);
        srv->nconns++;
        if (nt_loop_timer_start(loop, &conn->idle_timer, srv->idle_ms, conn_on_idle, conn) != NT_OK)
            conn_close(conn);
    }
}

static int listen_open(nt_httpd_t *srv, nt_err_t *err)
{
    struct sockaddr_in sa;
    socklen_t salen = sizeof(sa);
    int one = 1;
    int fd = -1;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)srv->port);
    if (inet_pton(AF_INET, srv->host, &sa.sin_addr) != 1)
        return nt_err_set(err, NT_EINVAL, false, "httpd: bad IPv4 address \"%s\"", srv->host);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return nt_err_set(err, NT_EIO, true, "httpd: socket: %s", strerror(errno));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &salen) != 0) {
        int e = errno;
        close(fd);
        return nt_err_set(err, NT_EIO, true, "httpd: listen on %s:%d: %s", srv->host, srv->port,
                          strerror(e));
    }
    if (nt_loop_io_add(srv->loop, fd, NT_LOOP_READ, srv_on_accept, srv) != NT_OK) {
        close(fd);
        return nt_err_set(err, NT_EIO, false, "httpd: cannot register the listener");
    }
    srv->lfd = fd;
    srv->port = ntohs(sa.sin_port);
    return NT_OK;
}

static void listen_close(nt_httpd_t *srv)
{
    nt_loop_timer_stop(srv->loop, &srv->accept_timer);
    if (srv->lfd < 0)
        return;
    nt_loop_io_del(srv->loop, srv->lfd);
    close(srv->lfd);
    srv->lfd = -1;
}

/* ---- public API ---- */

nt_httpd_t *nt_httpd_new(nt_loop_t *loop, const nt_httpd_opts_t *opts, nt_httpd_handler handler,
                         void *arg, nt_err_t *err)
{
    nt_httpd_t *srv = NULL;
    const char *host = opts->host ? opts->host : "127.0.0.1";

    if (handler == NULL || opts->port < 0 || opts->port > 65535 || strlen(host) >= HTTPD_HOST_MAX) {
        nt_err_set(err, NT_EINVAL, false, "httpd: invalid options (host, port or handler)");
        goto fail;
    }
    srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "httpd: out of memory");
        goto fail;
    }
    srv->loop = loop;
    srv->handler = handler;
    srv->arg = arg;
    snprintf(srv->host, sizeof(srv->host), "%s", host);
    srv->port = opts->port;
    srv->max_header = opts->max_header_bytes ? opts->max_header_bytes : 16384;
    srv->max_body = opts->max_body_bytes ? opts->max_body_bytes : 1048576;
    srv->max_conns = opts->max_conns > 0 ? opts->max_conns : 4096;
    srv->idle_ms = opts->idle_timeout_ms > 0 ? opts->idle_timeout_ms : 60000;
    srv->request_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 30000;
    srv->lfd = -1;
    nt_loop_timer_init(&srv->accept_timer);
    if (listen_open(srv, err) != NT_OK)
        goto fail;
    return srv;
fail:
    free(srv);
    return NULL;
}

static void close_all(nt_httpd_t *srv)
{
    while (srv->conns != NULL)
        conn_close(srv->conns);
}

void nt_httpd_free(nt_httpd_t *srv)
{
    if (srv == NULL)
        return;
    listen_close(srv);
    close_all(srv);
    while (srv->zombies != NULL) {
        conn_t *conn = srv->zombies;
        list_unlink(&srv->zombies, conn);
        conn_free(conn);
    }
    free(srv);
}

int nt_httpd_port(const nt_httpd_t *srv)
{
    return srv->port;
}

int nt_httpd_pause(nt_httpd_t *srv)
{
    if (srv->paused)
        return NT_OK;
    listen_close(srv);
    close_all(srv);
    srv->paused = true;
    return NT_OK;
}

int nt_httpd_resume(nt_httpd_t *srv)
{
    if (!srv->paused)
        return NT_OK;
    int rc = listen_open(srv, NULL);
    if (rc != NT_OK)
        return rc;
    srv->paused = false;
    return NT_OK;
}

const char *nt_httpd_req_method(const nt_httpd_req_t *req)
{
    return req->method;
}

const char *nt_httpd_req_path(const nt_httpd_req_t *req)
{
    return req->path;
}

const char *nt_httpd_req_query(const nt_httpd_req_t *req)
{
    return req->query;
}

const char *nt_httpd_req_header(const nt_httpd_req_t *req, const char *name)
{
    for (size_t k = 0; k < req->nheaders; k++) {
        if (strcasecmp(req->hname[k], name) == 0)
            return req->hvalue[k];
    }
    return NULL;
}

const char *nt_httpd_req_body(const nt_httpd_req_t *req, size_t *len)
{
    if (len != NULL)
        *len = req->body_len;
    return req->body;
}

/* Drops the answer to a zombie (its client left first) and frees it, now or
 * when conn_process unwinds. True if it was one. */
static bool zombie_reap(conn_t *conn)
{
    if (!conn->zombie)
        return false;
    list_unlink(&conn->srv->zombies, conn);
    conn->zombie = false;
    if (conn->processing)
        conn->dead = true;
    else
        conn_free(conn);
    return true;
}

int nt_httpd_respond(nt_httpd_req_t *req, int status, const char *content_type,
                     const char *extra_headers, const char *body, size_t len)
{
    conn_t *conn = req->conn;
    if (zombie_reap(conn))
        return NT_OK;
    if (conn->state != CONN_HANDLING)
        return NT_EINVAL;
    int rc = build_response(&conn->out, status, conn->keepalive, conn->http10, conn->head,
                            content_type, extra_headers, body, len);
    if (rc != NT_OK) {
        /* out of memory: drop the connection (freed now or when
         * conn_process unwinds; do not touch it after) */
        conn->state = CONN_CLOSING;
        conn_close(conn);
        return rc;
    }
    conn->state = conn->keepalive ? CONN_READING : CONN_CLOSING;
    conn->last_active = nt_loop_now(conn->srv->loop);
    if (!conn->processing) {
        /* answered outside the handler: write now and go on with any
         * pipelined request */
        if (conn_flush(conn) == NT_OK && conn->state == CONN_READING) {
            conn_watch(conn, conn->watched | NT_LOOP_READ);
            (void)conn_process(conn);
        }
    }
    return rc;
}

int nt_httpd_respond_after(nt_httpd_req_t *req, int64_t delay_ms, int status,
                           const char *content_type, const char *extra_headers, const char *body,
                           size_t len)
{
    conn_t *conn = req->conn;
    if (zombie_reap(conn))
        return NT_OK;
    if (conn->state != CONN_HANDLING)
        return NT_EINVAL;
    if (delay_ms <= 0)
        return nt_httpd_respond(req, status, content_type, extra_headers, body, len);
    nt_buf_reset(&conn->defer);
    int rc = build_response(&conn->defer, status, conn->keepalive, conn->http10, conn->head,
                            content_type, extra_headers, body, len);
    if (rc == NT_OK)
        rc =
            nt_loop_timer_start(conn->srv->loop, &conn->defer_timer, delay_ms, conn_on_defer, conn);
    if (rc != NT_OK) {
        (void)nt_httpd_respond(req, 500, "text/plain", NULL, "internal error\n", 15);
        return NT_ERR;
    }
    conn->state = CONN_DEFERRED;
    return NT_OK;
}

void nt_httpd_respond_never(nt_httpd_req_t *req)
{
    conn_t *conn = req->conn;
    if (zombie_reap(conn))
        return;
    if (conn->state != CONN_HANDLING)
        return;
    conn->state = CONN_NEVER;
    conn->last_active = nt_loop_now(conn->srv->loop);
    nt_buf_reset(&conn->in);
    conn->in_off = 0;
    conn_watch(conn, conn->watched | NT_LOOP_READ);
}

int nt_httpd_parse_listen(const char *s, char *host, size_t hostsz, int *port)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon == s || (size_t)(colon - s) >= hostsz)
        return NT_EINVAL;
    char *end = NULL;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end != '\0' || p < 0 || p > 65535)
        return NT_EINVAL;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    *port = (int)p;
    return NT_OK;
}
