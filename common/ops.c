/*
 * ops.c — /healthz, /readyz and /metrics on a daemon's loop (see ops.h).
 */
#include "ops.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

/* Open descriptors: entries of /proc/self/fd (less the directory's own). */
static long open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    long n = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

int nt_ops_process_metrics(nt_buf_t *out)
{
    /* /proc/self/stat: fields 14-15 utime/stime (ticks), 22 starttime
     * (ticks after boot), 23 vsize (bytes), 24 rss (pages); the command
     * name (field 2) may hold spaces, so parse after its ')' */
    char stat[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f != NULL ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
    if (f != NULL)
        fclose(f);
    stat[n] = '\0';
    const char *p = strrchr(stat, ')');
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    bool have_stat =
        p != NULL && sscanf(p + 2,
                            "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d "
                            "%*d %*d %*d %llu %llu %lld",
                            &utime, &stime, &start, &vsize, &rss) == 5;
    double btime = 0;
    FILE *s = fopen("/proc/stat", "r");
    char line[256];
    while (s != NULL && fgets(line, sizeof(line), s) != NULL)
        if (strncmp(line, "btime ", 6) == 0)
            btime = strtod(line + 6, NULL);
    if (s != NULL)
        fclose(s);
    long tick = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    int rc = NT_OK;
    long fds = open_fds();
    if (fds >= 0)
        rc = nt_buf_printf(out,
                           "# HELP process_open_fds Number of open file descriptors.\n"
                           "# TYPE process_open_fds gauge\nprocess_open_fds %ld\n",
                           fds);
    if (rc == NT_OK && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        rc = nt_buf_printf(out,
                           "# HELP process_max_fds Maximum number of open file descriptors.\n"
                           "# TYPE process_max_fds gauge\nprocess_max_fds %llu\n",
                           (unsigned long long)rl.rlim_cur);
    if (rc == NT_OK && have_stat && tick > 0 && page > 0) {
        rc = nt_buf_printf(
            out,
            "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
            "# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
            "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %lld\n"
            "# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
            "# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %llu\n",
            (double)(utime + stime) / (double)tick, rss * page, vsize);
        if (rc == NT_OK && btime > 0)
            rc = nt_buf_printf(out,
                               "# HELP process_start_time_seconds Start time of the process "
                               "since unix epoch in seconds.\n"
                               "# TYPE process_start_time_seconds gauge\n"
                               "process_start_time_seconds %.2f\n",
                               btime + (double)start / (double)tick);
    }
    return rc;
}

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
        if ((ops->metrics == NULL || ops->metrics(ops->arg, &b) == NT_OK) &&
            nt_ops_process_metrics(&b) == NT_OK)
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
