/*
 * test_ops.c — the operations endpoints (ops.h) on loopback, driven from the
 * same process: /healthz, /readyz following the daemon's readiness callback
 * (ready, then not ready with the reason, then ready again), /metrics with
 * the daemon's text and 500 when rendering fails, 404 elsewhere, and a bad
 * listen address named with its key.
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
#include "loop.h"
#include "ops.h"

typedef struct daemon_s {
    const char *not_ready; /* NULL: ready */
    int metrics_rc;
} daemon_t;

static bool not_ready(void *arg, char *why, size_t whysz)
{
    daemon_t *d = arg;
    if (d->not_ready == NULL)
        return false;
    snprintf(why, whysz, "%s", d->not_ready);
    return true;
}

static int metrics(void *arg, nt_buf_t *out)
{
    daemon_t *d = arg;
    if (d->metrics_rc != NT_OK)
        return d->metrics_rc;
    return nt_buf_puts(out, "# TYPE numtrust_test gauge\nnumtrust_test 1\n");
}

/* GET path; the status, and the body into body. -1 when nothing came. */
static int get(nt_loop_t *loop, int port, const char *path, char *body, size_t bodysz)
{
    struct sockaddr_in sa;
    char req[128], buf[4096];
    size_t len = 0;
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
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return -1;
    }
    int64_t until = nt_clock_mono_ms() + 2000;
    while (nt_clock_mono_ms() < until) {
        nt_loop_run_once(loop, 5);
        ssize_t r = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
        if (r > 0) {
            len += (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            break;
    }
    close(fd);
    buf[len] = '\0';
    const char *b = strstr(buf, "\r\n\r\n");
    snprintf(body, bodysz, "%s", b ? b + 4 : "");
    return strncmp(buf, "HTTP/1.1 ", 9) == 0 ? (int)strtol(buf + 9, NULL, 10) : -1;
}

int main(void)
{
    nt_err_t err;
    char body[4096];
    daemon_t d = {NULL, NT_OK};
    nt_loop_t *loop = nt_loop_new(&err);
    CHECK(loop != NULL);
    nt_ops_t *ops = nt_ops_new(loop, "127.0.0.1:0", "test.listen", not_ready, metrics, &d, &err);
    CHECK(ops != NULL);
    if (ops == NULL)
        CHECK_DONE();
    int port = nt_ops_port(ops);

    CHECK_INT(get(loop, port, "/healthz", body, sizeof(body)), 200);
    CHECK_STR(body, "ok\n");
    CHECK_INT(get(loop, port, "/readyz", body, sizeof(body)), 200);
    CHECK_STR(body, "ready\n");
    d.not_ready = "PostgreSQL commits nothing (writes waiting for 12000 ms)";
    CHECK_INT(get(loop, port, "/readyz", body, sizeof(body)), 503);
    CHECK_STR(body, "PostgreSQL commits nothing (writes waiting for 12000 ms)\n");
    CHECK_INT(get(loop, port, "/healthz", body, sizeof(body)), 200); /* alive all the same */
    d.not_ready = "Kafka fatal error: restarting";
    CHECK_INT(get(loop, port, "/readyz", body, sizeof(body)), 503);
    CHECK_STR(body, "Kafka fatal error: restarting\n");
    d.not_ready = NULL;
    CHECK_INT(get(loop, port, "/readyz", body, sizeof(body)), 200);
    CHECK_INT(get(loop, port, "/metrics", body, sizeof(body)), 200);
    /* the daemon's own metrics first, then the process_* family */
    CHECK(strncmp(body, "# TYPE numtrust_test gauge\nnumtrust_test 1\n", 43) == 0);
    CHECK_CONTAINS("process metrics", body, "\nprocess_open_fds ");
    CHECK_CONTAINS("process metrics", body, "\n# TYPE process_cpu_seconds_total counter\n");
    CHECK_CONTAINS("process metrics", body, "\nprocess_resident_memory_bytes ");
    CHECK_CONTAINS("process metrics", body, "\nprocess_start_time_seconds ");
    d.metrics_rc = NT_ENOMEM;
    CHECK_INT(get(loop, port, "/metrics", body, sizeof(body)), 500);
    CHECK_INT(get(loop, port, "/nope", body, sizeof(body)), 404);
    nt_ops_free(ops);

    nt_err_clear(&err);
    CHECK(nt_ops_new(loop, "nohostport", "worker.metrics_listen", NULL, NULL, NULL, &err) == NULL);
    CHECK_CONTAINS("bad listen", err.msg, "key worker.metrics_listen: \"nohostport\"");
    nt_loop_free(loop);
    printf("test_ops: done\n");
    CHECK_DONE();
}
