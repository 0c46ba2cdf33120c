/*
 * http.c — curl multi socket interface on nt_loop (see http.h).
 *
 * Each call is an xfer_t holding its easy handle, request body, response
 * body and callback. Finished xfers go back to a free list with their easy
 * handle, so steady-state calls allocate nothing but curl's own state.
 */
#include "http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "clock.h"
#include "hex.h"
#include "log.h"

typedef struct xfer_s {
    nt_http_t *h;
    CURL *eh;
    struct curl_slist *headers;
    nt_buf_t req;
    nt_buf_t resp;
    bool too_big;
    int64_t retry_after_ms;
    int64_t started_us;
    nt_http_cb cb;
    void *arg;
    char errbuf[CURL_ERROR_SIZE];
    struct xfer_s *next; /* free list, or the in-flight list */
    struct xfer_s *prev; /* in-flight list */
} xfer_t;

struct nt_http_s {
    nt_loop_t *loop;
    CURLM *multi;
    nt_timer_t timer;
    nt_http_opts_t opts;
    xfer_t *free_list;
    xfer_t *active; /* in-flight calls, so nt_http_free can cancel them */
    size_t inflight;
    bool in_action; /* re-entrancy guard for the completion pass */
};

static void check_done(nt_http_t *h);

static void on_socket_event(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    nt_http_t *h = arg;
    int running = 0;
    int mask = 0;
    if (events & NT_LOOP_READ)
        mask |= CURL_CSELECT_IN;
    if (events & NT_LOOP_WRITE)
        mask |= CURL_CSELECT_OUT;
    if (events & NT_LOOP_ERROR)
        mask |= CURL_CSELECT_ERR;
    curl_multi_socket_action(h->multi, fd, mask, &running);
    check_done(h);
}

static void on_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    nt_http_t *h = arg;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int socket_cb(CURL *eh, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)eh;
    (void)socketp;
    nt_http_t *h = userp;
    if (what == CURL_POLL_REMOVE) {
        nt_loop_io_del(h->loop, s);
        return 0;
    }
    unsigned events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= NT_LOOP_READ;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= NT_LOOP_WRITE;
    int rc = nt_loop_io_has(h->loop, s) ? nt_loop_io_mod(h->loop, s, events)
                                        : nt_loop_io_add(h->loop, s, events, on_socket_event, h);
    if (rc != NT_OK) {
        NT_ERROR("http: cannot watch socket %d", (int)s);
        return -1;
    }
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    nt_http_t *h = userp;
    if (timeout_ms < 0) {
        nt_loop_timer_stop(h->loop, &h->timer);
        return 0;
    }
    return nt_loop_timer_start(h->loop, &h->timer, timeout_ms, on_timer, h) == NT_OK ? 0 : -1;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    xfer_t *x = userdata;
    size_t n = size * nmemb;
    if (nt_buf_append(&x->resp, ptr, n) != NT_OK) {
        x->too_big = true;
        return 0; /* makes curl fail the transfer with CURLE_WRITE_ERROR */
    }
    return n;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    xfer_t *x = userdata;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (n > sizeof(name) - 1 && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
        const char *p = buf + sizeof(name) - 1;
        const char *end = buf + n;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        int64_t secs = 0;
        bool digits = false;
        while (p < end && isdigit((unsigned char)*p) && secs < 86400 * 30) {
            secs = secs * 10 + (*p - '0');
            digits = true;
            p++;
        }
        /* An HTTP-date form is rare for APIs; treat it as one second so the
         * caller still backs off. */
        x->retry_after_ms = digits ? secs * 1000 : 1000;
    }
    return n;
}

static void active_unlink(nt_http_t *h, xfer_t *x)
{
    if (x->prev != NULL)
        x->prev->next = x->next;
    else
        h->active = x->next;
    if (x->next != NULL)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void complete(nt_http_t *h, xfer_t *x, CURLcode code)
{
    nt_http_result_t res = {0};
    res.code = code;
    curl_easy_getinfo(x->eh, CURLINFO_RESPONSE_CODE, &res.status);
    res.body = x->resp.data ? x->resp.data : "";
    res.body_len = x->resp.len;
    res.body_too_big = x->too_big;
    res.retry_after_ms = x->retry_after_ms;
    res.elapsed_us = nt_clock_mono_us() - x->started_us;
    res.error = code == CURLE_OK ? "" : (x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
    h->inflight--;
    active_unlink(h, x);
    nt_http_cb cb = x->cb;
    void *arg = x->arg;
    cb(&res, arg);
    /* back to the pool */
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    nt_buf_reset(&x->req);
    if (x->resp.size > 65536)
        nt_buf_free(&x->resp);
    nt_buf_reset(&x->resp);
    x->next = h->free_list;
    h->free_list = x;
}

static void check_done(nt_http_t *h)
{
    CURLMsg *msg;
    int left;
    if (h->in_action)
        return;
    h->in_action = true;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *eh = msg->easy_handle;
        CURLcode code = msg->data.result;
        xfer_t *x = NULL;
        curl_easy_getinfo(eh, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(h->multi, eh);
        complete(h, x, code);
    }
    h->in_action = false;
}

nt_http_t *nt_http_new(nt_loop_t *loop, const nt_http_opts_t *opts, nt_err_t *err)
{
    nt_http_t *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    h->loop = loop;
    h->opts = *opts;
    h->multi = curl_multi_init();
    if (h->multi == NULL) {
        free(h);
        nt_err_set(err, NT_ENOMEM, false, "curl_multi_init failed");
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, opts->max_host_conns);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, opts->max_total_conns);
    nt_loop_timer_init(&h->timer);
    return h;
}

void nt_http_free(nt_http_t *h)
{
    if (h == NULL)
        return;
    while (h->active != NULL) {
        xfer_t *x = h->active;
        active_unlink(h, x);
        curl_multi_remove_handle(h->multi, x->eh);
        curl_slist_free_all(x->headers);
        x->headers = NULL;
        x->next = h->free_list;
        h->free_list = x;
    }
    while (h->free_list != NULL) {
        xfer_t *x = h->free_list;
        h->free_list = x->next;
        curl_easy_cleanup(x->eh);
        nt_buf_free(&x->req);
        nt_buf_free(&x->resp);
        free(x);
    }
    nt_loop_timer_stop(h->loop, &h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
}

/* A pooled transfer keeps its easy handle and the options that never change;
 * only the per-call ones are set in nt_http_submit (no curl_easy_reset, which
 * frees and rebuilds curl's per-handle state on every call). */
static xfer_t *xfer_get(nt_http_t *h)
{
    xfer_t *x = h->free_list;
    if (x != NULL) {
        h->free_list = x->next;
        return x;
    }
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    x->eh = curl_easy_init();
    if (x->eh == NULL) {
        free(x);
        return NULL;
    }
    x->h = h;
    nt_buf_init(&x->req, 0);
    nt_buf_init(&x->resp, h->opts.max_body);
    CURL *eh = x->eh;
    curl_easy_setopt(eh, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(eh, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(eh, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(eh, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(eh, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(eh, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(eh, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(eh, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(eh, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(eh, CURLOPT_TCP_KEEPALIVE, 1L);
    /* platform answers are small: a 4 KiB receive buffer instead of 16 KiB
     * keeps a thousand calls in flight within the worker's memory budget */
    curl_easy_setopt(eh, CURLOPT_BUFFERSIZE, 4096L);
    return x;
}

int nt_http_submit(nt_http_t *h, nt_http_call_t *call, nt_http_cb cb, void *arg, nt_err_t *err)
{
    struct curl_slist *headers = call->headers;
    call->headers = NULL;
    xfer_t *x = xfer_get(h);
    if (x == NULL) {
        curl_slist_free_all(headers);
        return nt_err_set(err, NT_ENOMEM, true, "out of memory");
    }
    x->headers = curl_slist_append(headers, "Expect:");
    if (x->headers == NULL) {
        curl_slist_free_all(headers);
        goto fail_mem;
    }
    x->too_big = false;
    x->retry_after_ms = -1;
    x->errbuf[0] = '\0';
    x->cb = cb;
    x->arg = arg;
    x->resp.cap = h->opts.max_body;
    if (call->body != NULL && nt_buf_append(&x->req, call->body, call->body_len) != NT_OK)
        goto fail_mem;

    CURL *eh = x->eh;
    curl_easy_setopt(eh, CURLOPT_URL, call->url);
    curl_easy_setopt(eh, CURLOPT_HTTPHEADER, x->headers);
    curl_easy_setopt(eh, CURLOPT_TIMEOUT_MS, call->timeout_ms);
    curl_easy_setopt(eh, CURLOPT_CONNECTTIMEOUT_MS, call->connect_timeout_ms);
    curl_easy_setopt(eh, CURLOPT_CUSTOMREQUEST, (char *)NULL);
    if (call->body != NULL) {
        /* POSTFIELDS makes the request a POST */
        curl_easy_setopt(eh, CURLOPT_POSTFIELDS, x->req.data ? x->req.data : "");
        curl_easy_setopt(eh, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.len);
        if (strcmp(call->method, "POST") != 0)
            curl_easy_setopt(eh, CURLOPT_CUSTOMREQUEST, call->method);
    } else {
        curl_easy_setopt(eh, CURLOPT_HTTPGET, 1L); /* also undoes an earlier POST */
        if (strcmp(call->method, "GET") != 0)
            curl_easy_setopt(eh, CURLOPT_CUSTOMREQUEST, call->method);
    }
    x->started_us = nt_clock_mono_us();
    CURLMcode mc = curl_multi_add_handle(h->multi, eh);
    if (mc != CURLM_OK) {
        nt_err_set(err, NT_EIO, true, "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        goto fail;
    }
    h->inflight++;
    x->prev = NULL;
    x->next = h->active;
    if (h->active != NULL)
        h->active->prev = x;
    h->active = x;
    return NT_OK;
fail_mem:
    nt_err_set(err, NT_ENOMEM, true, "out of memory");
fail:
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    nt_buf_reset(&x->req);
    x->next = h->free_list;
    h->free_list = x;
    return err ? err->code : NT_ERR;
}

size_t nt_http_inflight(const nt_http_t *h)
{
    return h->inflight;
}

int nt_http_urlencode(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        bool keep = isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~';
        size_t need = keep ? 1 : 3;
        if (o + need >= outsz)
            return NT_ETOOBIG;
        if (keep) {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            /* RFC 3986 2.1: upper-case digits in percent-encoding */
            out[o++] = (char)toupper((unsigned char)nt_hex_digit(*p >> 4));
            out[o++] = (char)toupper((unsigned char)nt_hex_digit(*p));
        }
    }
    out[o] = '\0';
    return NT_OK;
}
