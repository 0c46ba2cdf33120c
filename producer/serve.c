/*
 * serve.c — `numtrust-producer serve`: the control plane's HTTP JSON API.
 *
 * A process of its own beside the reconciler (`numtrust-producer run`), so
 * the API answers while a pass runs and the two restart and scale apart. It
 * is built on libmicrohttpd rather than the project's own loop server
 * (common/httpd.c), because this port faces users: a maintained server with
 * its own connection limit, per-connection timeout and memory limit. One
 * thread per connection (at most api.max_conns); handlers block on
 * PostgreSQL through a small pool of connections whose statement_timeout
 * bounds every query.
 *
 * A request: route (method + path, table in api_core.c) -> bearer token
 * (SHA-256 looked up in api_tokens) -> role check -> rate limit per token
 * (and per reporting source for the feedback intake) -> body (size cap, UTF-8,
 * a JSON object) -> the operation -> JSON answer. Errors are JSON too:
 *   {"error":{"status":400,"field":"base_label","message":"..."}}
 * /metrics, /healthz and /readyz need no token.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "callbacks.h"
#include "clock.h"
#include "httpd.h"
#include "log.h"
#include "ops.h"
#include "ratelimit.h"
#include "strmap.h"

#define MAX_OPS      64
#define MAX_LIMITERS 10000 /* rate limiters kept; the table starts afresh when full */

enum {
    REJ_AUTH,
    REJ_FORBIDDEN,
    REJ_RATE,
    REJ_TOO_BIG,
    REJ_BAD_BODY,
    REJ_ROUTE,
    REJ_CALLBACK_RATE,
    REJ_N
};
static const char *const rej_names[REJ_N] = {
    "unauthorized", "forbidden", "rate_limited",          "too_big",
    "invalid_body", "no_route",  "callback_rate_limited",
};

typedef struct serve_s {
    cli_t *cli;
    struct MHD_Daemon *d;
    pthread_mutex_t mu; /* guards everything below */
    nt_pg_t **pool;     /* idle connections */
    size_t npool;
    nt_strmap_t *limits;   /* "t<token id>" or "s<token id>|<source>" -> a bucket of arena */
    nt_ratelimit_t *arena; /* MAX_LIMITERS buckets */
    size_t narena;
    uint64_t requests[MAX_OPS][6]; /* by operation and status class (index status / 100) */
    uint64_t rejected[REJ_N];
    uint64_t feedback_stored, feedback_dropped;
    pthread_mutex_t fleet_mu; /* guards fleet and fleet_at_ms */
    nt_buf_t fleet;           /* fleet gauges from PostgreSQL, rendered */
    int64_t fleet_at_ms;      /* when (monotonic); refreshed at most once a minute */
} serve_t;

typedef struct req_s {
    nt_buf_t body;
    bool too_big;
    bool answered;
} req_t;

/* ------------------------------------------------------------ answering */

/* The feedback intake may be called from a website's page in the callee's
 * browser: its answers (errors too) carry CORS headers. */
static _Thread_local bool answer_cors;

/* snapshot_taken (empty or NULL: none): the answer is a report read from the
 * fleet-state snapshot, taken then (RFC 3339) and snapshot_age_s old */
static enum MHD_Result answer_snap(struct MHD_Connection *conn, int status, const char *type,
                                   const char *data, size_t len, const char *retry_after,
                                   const char *snapshot_taken, long snapshot_age_s)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    if (status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer realm=\"numtrust\"");
    if (retry_after != NULL)
        MHD_add_response_header(r, "Retry-After", retry_after);
    if (snapshot_taken != NULL && snapshot_taken[0] != '\0') {
        char age[24];
        snprintf(age, sizeof(age), "%ld", snapshot_age_s);
        MHD_add_response_header(r, "X-Numtrust-Snapshot-Taken", snapshot_taken);
        MHD_add_response_header(r, "X-Numtrust-Snapshot-Age", age);
    }
    if (answer_cors) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result answer(struct MHD_Connection *conn, int status, const char *type,
                              const char *data, size_t len, const char *retry_after)
{
    return answer_snap(conn, status, type, data, len, retry_after, NULL, 0);
}

static enum MHD_Result answer_error(struct MHD_Connection *conn, int status, const char *field,
                                    const char *retry_after, const char *fmt, ...) NT_PRINTF(5, 6);
static enum MHD_Result answer_error(struct MHD_Connection *conn, int status, const char *field,
                                    const char *retry_after, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    nt_buf_t b;
    nt_buf_init(&b, 0);
    int rc = nt_buf_printf(&b, "{\"error\":{\"status\":%d,\"field\":", status);
    if (rc == NT_OK)
        rc = field != NULL && field[0] != '\0' ? nt_buf_json_str(&b, field, strlen(field))
                                               : nt_buf_puts(&b, "null");
    if (rc == NT_OK)
        rc = nt_buf_puts(&b, ",\"message\":");
    if (rc == NT_OK)
        rc = nt_buf_json_str(&b, msg, strlen(msg));
    if (rc == NT_OK)
        rc = nt_buf_puts(&b, "}}\n");
    enum MHD_Result r =
        rc == NT_OK ? answer(conn, status, "application/json", b.data, b.len, retry_after) : MHD_NO;
    nt_buf_free(&b);
    return r;
}

/* ------------------------------------------------------------ pool */

static nt_pg_t *pool_get(serve_t *s, nt_err_t *err)
{
    nt_pg_t *pg = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->npool > 0)
        pg = s->pool[--s->npool];
    pthread_mutex_unlock(&s->mu);
    if (pg != NULL)
        return pg;
    pg = nt_pg_connect(s->cli->cfg.pg_conninfo, 2, err);
    if (pg == NULL)
        return NULL;
    char sql[96];
    snprintf(sql, sizeof(sql), "SET statement_timeout = %d", s->cli->cfg.api_statement_timeout_ms);
    if (nt_pg_run(pg, sql, 0, NULL, err) != NT_OK ||
        nt_pg_run(pg, "SET application_name = 'numtrust-api'", 0, NULL, err) != NT_OK) {
        nt_pg_free(pg);
        return NULL;
    }
    return pg;
}

static void pool_put(serve_t *s, nt_pg_t *pg)
{
    if (pg == NULL)
        return;
    /* a connection left inside a transaction by a failed operation is not reused */
    if (!nt_pg_is_ok(pg) || PQtransactionStatus(nt_pg_conn(pg)) != PQTRANS_IDLE) {
        nt_pg_free(pg);
        return;
    }
    pthread_mutex_lock(&s->mu);
    if (s->npool < (size_t)s->cli->cfg.api_pg_pool) {
        s->pool[s->npool++] = pg;
        pg = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    nt_pg_free(pg);
}

/* ------------------------------------------------------------ limits */

/* Takes a token from the bucket under key; false and *wait_s when empty. */
static bool rate_take(serve_t *s, const char *key, double qps, double burst, int *wait_s)
{
    int64_t now = nt_clock_mono_us();
    bool ok = true;
    pthread_mutex_lock(&s->mu);
    nt_ratelimit_t *rl = nt_strmap_get(s->limits, key);
    if (rl == NULL) {
        if (s->narena == MAX_LIMITERS) {
            /* forget every bucket: at worst one extra burst per caller */
            nt_strmap_t *fresh = nt_strmap_new();
            if (fresh != NULL) {
                nt_strmap_free(s->limits);
                s->limits = fresh;
                s->narena = 0;
            }
        }
        if (s->narena < MAX_LIMITERS) {
            rl = &s->arena[s->narena];
            nt_ratelimit_init(rl, qps, burst, now);
            if (nt_strmap_put(s->limits, key, rl) == NT_OK)
                s->narena++;
            else
                rl = NULL;
        }
    }
    if (rl != NULL && !nt_ratelimit_take(rl, now)) {
        ok = false;
        *wait_s = (int)(nt_ratelimit_wait_us(rl, now) / 1000000) + 1;
    }
    pthread_mutex_unlock(&s->mu);
    return ok;
}

/* ------------------------------------------------------------ routing */

/* Matches path against pattern ("/v1/numbers/{number}"); path parameters go
 * into params (may be NULL: match only). */
static bool route_match(const char *pattern, const char *path, cJSON *params)
{
    const char *p = pattern, *u = path;
    while (*p != '\0' && *u != '\0') {
        if (*p == '{') {
            const char *pe = strchr(p, '}');
            const char *ue = strchr(u, '/');
            if (pe == NULL)
                return false;
            if (ue == NULL)
                ue = u + strlen(u);
            if (ue == u)
                return false;
            if (params != NULL) {
                char name[64], value[256];
                snprintf(name, sizeof(name), "%.*s", (int)(pe - p - 1), p + 1);
                snprintf(value, sizeof(value), "%.*s", (int)(ue - u), u);
                cJSON_AddStringToObject(params, name, value);
            }
            p = pe + 1;
            u = ue;
            continue;
        }
        if (*p != *u)
            return false;
        p++;
        u++;
    }
    return *p == '\0' && (*u == '\0' || (u[0] == '/' && u[1] == '\0'));
}

typedef struct args_s {
    cJSON *in;
    char bad[64]; /* a query parameter that clashes with the body */
} args_t;

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    args_t *a = cls;
    (void)kind;
    if (key == NULL || key[0] == '\0')
        return MHD_YES;
    cJSON *old = cJSON_GetObjectItemCaseSensitive(a->in, key);
    if (old != NULL) {
        snprintf(a->bad, sizeof(a->bad), "%s", key);
        return MHD_NO;
    }
    cJSON_AddStringToObject(a->in, key, value != NULL ? value : "");
    return MHD_YES;
}

/* ------------------------------------------------------------ ops endpoints */

/* Fleet gauges for the alert rules: each tenant's mark rate over the last 7
 * days (report_mark_rate_daily) and the age of the oldest unfinished job.
 * Queried at most once a minute whatever the scrape interval; under
 * s->fleet_mu. */
static void fleet_gauges(serve_t *s, nt_buf_t *out)
{
    int64_t now = nt_clock_mono_ms();
    if (s->fleet_at_ms == 0 || now - s->fleet_at_ms > 60000) {
        nt_err_t err;
        nt_err_clear(&err);
        nt_pg_t *pg = pool_get(s, &err);
        PGresult *rates =
            pg == NULL ? NULL
                       : nt_pg_exec(pg,
                                    "SELECT tenant_id, sum(checks), sum(marked)::float8 /"
                                    " sum(checks) FROM report_mark_rate_daily"
                                    " WHERE day >= date_trunc('day', nt_now() - interval '7 days')"
                                    " GROUP BY tenant_id ORDER BY tenant_id",
                                    0, NULL, &err);
        PGresult *age = pg == NULL ? NULL
                                   : nt_pg_exec(pg,
                                                "SELECT COALESCE(extract(epoch FROM now() -"
                                                " min(created_at)), 0) FROM jobs"
                                                " WHERE state IN ('queued', 'running', 'retrying')",
                                                0, NULL, &err);
        pool_put(s, pg);
        nt_buf_reset(&s->fleet);
        int rc = NT_OK;
        if (rates != NULL) {
            rc = nt_buf_puts(&s->fleet,
                             "# HELP numtrust_tenant_mark_rate_ratio Share of a tenant's checks "
                             "in the last 7 days that found a harassment, fraud or agency mark.\n"
                             "# TYPE numtrust_tenant_mark_rate_ratio gauge\n");
            for (int r = 0; rc == NT_OK && r < PQntuples(rates); r++)
                rc = nt_buf_printf(&s->fleet, "numtrust_tenant_mark_rate_ratio{tenant=\"%s\"} %s\n",
                                   PQgetvalue(rates, r, 0), PQgetvalue(rates, r, 2));
            if (rc == NT_OK)
                rc = nt_buf_puts(&s->fleet, "# HELP numtrust_tenant_checks_7d Checks of a "
                                            "tenant's numbers in the last 7 days.\n"
                                            "# TYPE numtrust_tenant_checks_7d gauge\n");
            for (int r = 0; rc == NT_OK && r < PQntuples(rates); r++)
                rc = nt_buf_printf(&s->fleet, "numtrust_tenant_checks_7d{tenant=\"%s\"} %s\n",
                                   PQgetvalue(rates, r, 0), PQgetvalue(rates, r, 1));
        }
        if (age != NULL && rc == NT_OK)
            rc = nt_buf_printf(&s->fleet,
                               "# HELP numtrust_oldest_unfinished_job_seconds Age of the oldest "
                               "job the ledger holds queued, running or retrying.\n"
                               "# TYPE numtrust_oldest_unfinished_job_seconds gauge\n"
                               "numtrust_oldest_unfinished_job_seconds %s\n",
                               PQgetvalue(age, 0, 0));
        PQclear(rates);
        PQclear(age);
        s->fleet_at_ms = now;
    }
    if (s->fleet.len > 0 && nt_buf_append(out, s->fleet.data, s->fleet.len) != NT_OK)
        NT_WARN("metrics: fleet gauges dropped (out of memory)");
}

static enum MHD_Result serve_ops(serve_t *s, struct MHD_Connection *conn, const char *url)
{
    const char *text = "text/plain; charset=utf-8";
    if (strcmp(url, "/healthz") == 0)
        return answer(conn, 200, text, "ok\n", 3, NULL);
    if (strcmp(url, "/readyz") == 0) {
        nt_err_t err;
        nt_err_clear(&err);
        nt_pg_t *pg = pool_get(s, &err);
        bool ok =
            pg != NULL && nt_pg_run(pg, "SELECT 1 FROM api_tokens LIMIT 1", 0, NULL, &err) == NT_OK;
        pool_put(s, pg);
        return ok ? answer(conn, 200, text, "ready\n", 6, NULL)
                  : answer(conn, 503, text, "PostgreSQL not answering or not migrated\n", 41, NULL);
    }
    nt_buf_t b;
    nt_buf_init(&b, 0);
    int rc = nt_buf_printf(&b,
                           "# HELP numtrust_build_info The program's version (value is always 1).\n"
                           "# TYPE numtrust_build_info gauge\n"
                           "numtrust_build_info{program=\"numtrust-producer\",version=\"%s\","
                           "command=\"serve\"} 1\n"
                           "# HELP numtrust_api_requests_total API requests answered, by "
                           "operation and status class.\n"
                           "# TYPE numtrust_api_requests_total counter\n",
                           NT_VERSION);
    pthread_mutex_lock(&s->mu);
    for (size_t o = 0; rc == NT_OK && o < MAX_OPS; o++) {
        if (o >= api_nops && o != MAX_OPS - 1)
            continue;
        for (int k = 1; rc == NT_OK && k < 6; k++) {
            if (s->requests[o][k] == 0)
                continue;
            char op[64];
            snprintf(op, sizeof(op), "%s", o < api_nops ? api_ops[o].cli : "callbacks");
            for (char *c = op; *c; c++)
                if (*c == ' ')
                    *c = '_';
            rc = nt_buf_printf(&b, "numtrust_api_requests_total{op=\"%s\",code=\"%dxx\"} %llu\n",
                               op, k, (unsigned long long)s->requests[o][k]);
        }
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(&b, "# HELP numtrust_api_rejected_total Requests refused before any "
                             "operation ran, by reason.\n"
                             "# TYPE numtrust_api_rejected_total counter\n");
    for (int r = 0; rc == NT_OK && r < REJ_N; r++)
        rc = nt_buf_printf(&b, "numtrust_api_rejected_total{reason=\"%s\"} %llu\n", rej_names[r],
                           (unsigned long long)s->rejected[r]);
    if (rc == NT_OK)
        rc = nt_buf_printf(
            &b,
            "# HELP numtrust_feedback_reports_total Callee reports posted to the intake, by "
            "outcome (dropped: the number is not the token's tenant's).\n"
            "# TYPE numtrust_feedback_reports_total counter\n"
            "numtrust_feedback_reports_total{outcome=\"stored\"} %llu\n"
            "numtrust_feedback_reports_total{outcome=\"dropped\"} %llu\n"
            "# HELP numtrust_api_pg_idle_connections Idle PostgreSQL connections in the pool.\n"
            "# TYPE numtrust_api_pg_idle_connections gauge\n"
            "numtrust_api_pg_idle_connections %zu\n",
            (unsigned long long)s->feedback_stored, (unsigned long long)s->feedback_dropped,
            s->npool);
    pthread_mutex_unlock(&s->mu);
    if (rc == NT_OK) {
        /* the database part outside the counters' lock, under its own */
        pthread_mutex_lock(&s->fleet_mu);
        fleet_gauges(s, &b);
        pthread_mutex_unlock(&s->fleet_mu);
    }
    if (rc == NT_OK)
        rc = nt_ops_process_metrics(&b);
    enum MHD_Result r = rc == NT_OK
                            ? answer(conn, 200, "text/plain; version=0.0.4", b.data, b.len, NULL)
                            : answer(conn, 500, text, "render failed\n", 14, NULL);
    nt_buf_free(&b);
    return r;
}

/* ------------------------------------------------------------ callbacks */

static void count_reject(serve_t *s, int why)
{
    pthread_mutex_lock(&s->mu);
    s->rejected[why]++;
    pthread_mutex_unlock(&s->mu);
}

static const char *cb_header(const void *hctx, const char *name)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)(uintptr_t)hctx, MHD_HEADER_KIND,
                                       name);
}

/* POST /v1/callbacks/{platform}: the platform proves itself by its signature
 * (callbacks.c, P's module), not by a bearer token. */
static enum MHD_Result serve_callback(serve_t *s, struct MHD_Connection *conn, const char *url,
                                      req_t *rq)
{
    char platform[80];
    const char *seg = url + strlen("/v1/callbacks/");
    int wait_s = 1;
    snprintf(platform, sizeof(platform), "%.*s", (int)strcspn(seg, "/"), seg);
    if (rq->too_big) {
        count_reject(s, REJ_TOO_BIG);
        return answer_error(conn, 413, "body", NULL, "body larger than %zu bytes", rq->body.cap);
    }
    /* a limit of their own, far above a token's: a burst of decisions is normal.
     * Over it, 503 with Retry-After rather than 429: platforms retry a 5xx
     * (the simulator does, like most), while many drop a decision refused
     * with a 4xx, which then waits for the next status poll. */
    char key[96];
    snprintf(key, sizeof(key), "c%s", platform);
    if (!rate_take(s, key, s->cli->cfg.api_callback_rate_per_s, s->cli->cfg.api_callback_rate_burst,
                   &wait_s)) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", wait_s);
        count_reject(s, REJ_CALLBACK_RATE);
        return answer_error(conn, 503, NULL, ra,
                            "more than %d callbacks per second for this platform; retry later",
                            s->cli->cfg.api_callback_rate_per_s);
    }
    nt_err_t err;
    nt_err_clear(&err);
    nt_pg_t *pg = pool_get(s, &err);
    if (pg == NULL)
        return answer_error(conn, 503, NULL, "5", "database unavailable: %s", err.msg);
    nt_buf_t out;
    nt_buf_init(&out, 0);
    nt_callback_req_t creq = {.platform = platform,
                              .body = rq->body.data != NULL ? rq->body.data : "",
                              .body_len = rq->body.len,
                              .header = cb_header,
                              .hctx = (const void *)conn};
    int status = nt_callbacks_handle(s->cli->platforms, pg, &creq, nt_clock_wall_ms(), &out);
    pool_put(s, pg);
    enum MHD_Result r = answer(conn, status, "application/json", out.data ? out.data : "", out.len,
                               status == 503 ? "5" : NULL);
    NT_INFO("api POST /v1/callbacks/%s -> %d", platform, status);
    pthread_mutex_lock(&s->mu);
    if (status / 100 >= 1 && status / 100 <= 5)
        s->requests[MAX_OPS - 1][status / 100]++;
    pthread_mutex_unlock(&s->mu);
    nt_buf_free(&out);
    return r;
}

/* ------------------------------------------------------------ a request */

static const char *client_addr(struct MHD_Connection *conn, char *buf, size_t bufsz)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)ci->client_addr)->sin_addr,
                  buf, (socklen_t)bufsz);
    return buf;
}

static enum MHD_Result dispatch(serve_t *s, struct MHD_Connection *conn, const char *url,
                                const char *method, req_t *rq)
{
    const api_op_t *op = NULL;
    bool path_known = false;
    cJSON *in = NULL;
    nt_pg_t *pg = NULL;
    api_ctx_t c;
    nt_err_t err;
    enum MHD_Result ret = MHD_NO;
    char addr[64];

    memset(&c, 0, sizeof(c));
    nt_buf_init(&c.out, 0);
    nt_err_clear(&err);
    answer_cors = false;
    if (strcmp(method, "GET") == 0 && (strcmp(url, "/metrics") == 0 ||
                                       strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0))
        return serve_ops(s, conn, url);
    if (strcmp(method, "POST") == 0 && route_match("/v1/callbacks/{platform}", url, NULL))
        return serve_callback(s, conn, url, rq);
    answer_cors = route_match("/v1/feedback", url, NULL);
    if (answer_cors && strcmp(method, "OPTIONS") == 0)
        return answer(conn, 204, "text/plain", "", 0, NULL);

    for (size_t o = 0; o < api_nops && op == NULL; o++) {
        if (!route_match(api_ops[o].path, url, NULL))
            continue;
        path_known = true;
        if (strcmp(api_ops[o].method, method) == 0)
            op = &api_ops[o];
    }
    if (op == NULL) {
        count_reject(s, REJ_ROUTE);
        return path_known
                   ? answer_error(conn, 405, NULL, NULL, "method %s not allowed on %s", method, url)
                   : answer_error(conn, 404, NULL, NULL, "no such resource: %s", url);
    }
    size_t opi = (size_t)(op - api_ops);

    /* the token */
    const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0 || auth[7] == '\0') {
        count_reject(s, REJ_AUTH);
        return answer_error(conn, 401, "Authorization", NULL,
                            "missing bearer token (Authorization: Bearer <token>)");
    }
    char hash[65], tenant[64] = "";
    api_token_hash(auth + 7, hash);
    if ((pg = pool_get(s, &err)) == NULL) {
        ret = answer_error(conn, 503, NULL, "5", "database unavailable: %s", err.msg);
        goto out;
    }
    const char *hp[] = {hash};
    PGresult *res = nt_pg_exec(pg,
                               "UPDATE api_tokens SET last_used_at = now() WHERE token_sha256 = $1"
                               " AND revoked_at IS NULL RETURNING id, kind, tenant_id",
                               1, hp, &err);
    if (res == NULL) {
        ret = answer_error(conn, 503, NULL, "5", "database unavailable: %s", err.msg);
        goto out;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        count_reject(s, REJ_AUTH);
        ret = answer_error(conn, 401, "Authorization", NULL, "unknown or revoked token");
        goto out;
    }
    c.token_id = atol(PQgetvalue(res, 0, 0));
    const char *kind = PQgetvalue(res, 0, 1);
    c.role = strcmp(kind, "admin") == 0    ? API_ADMIN
             : strcmp(kind, "tenant") == 0 ? API_TENANT
                                           : API_FEEDBACK;
    snprintf(tenant, sizeof(tenant), "%s", PQgetvalue(res, 0, 2));
    PQclear(res);
    c.tenant = c.role == API_ADMIN ? NULL : tenant;
    bool feedback_op = (op->flags & API_OP_FEEDBACK) != 0;
    if ((c.role == API_FEEDBACK) != feedback_op ||
        ((op->flags & API_OP_ADMIN) && c.role != API_ADMIN)) {
        count_reject(s, REJ_FORBIDDEN);
        ret = answer_error(conn, 403, "Authorization", NULL,
                           feedback_op ? "this operation needs a feedback token"
                                       : "this token may not use %s %s",
                           method, op->path);
        goto out;
    }

    /* the rate */
    char key[96];
    int wait_s = 1;
    snprintf(key, sizeof(key), "t%ld", c.token_id);
    if (!rate_take(s, key, s->cli->cfg.api_rate_per_s, s->cli->cfg.api_rate_burst, &wait_s)) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", wait_s);
        count_reject(s, REJ_RATE);
        ret = answer_error(conn, 429, NULL, ra, "more than %d requests per second for this token",
                           s->cli->cfg.api_rate_per_s);
        goto out;
    }

    /* the body */
    if (rq->too_big) {
        count_reject(s, REJ_TOO_BIG);
        ret = answer_error(conn, 413, "body", NULL, "body larger than %zu bytes", rq->body.cap);
        goto out;
    }
    in = NULL;
    if (rq->body.len > 0 && !nt_buf_is_utf8(rq->body.data, rq->body.len)) {
        count_reject(s, REJ_BAD_BODY);
        ret = answer_error(conn, 400, "body", NULL, "body is not valid UTF-8");
        goto out;
    }
    if ((op->flags & API_OP_RAW) || rq->body.len == 0) {
        in = cJSON_CreateObject();
        c.raw = rq->body.data;
        c.raw_len = rq->body.len;
        c.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    } else {
        const char *end = NULL;
        in = cJSON_ParseWithLengthOpts(rq->body.data, rq->body.len, &end, false);
        if (in == NULL || !cJSON_IsObject(in)) {
            size_t at = end != NULL && end >= rq->body.data ? (size_t)(end - rq->body.data) : 0;
            count_reject(s, REJ_BAD_BODY);
            ret = in == NULL ? answer_error(conn, 400, "body", NULL,
                                            "body is not valid JSON (near byte %zu)", at)
                             : answer_error(conn, 400, "body", NULL, "body must be a JSON object");
            goto out;
        }
    }
    if (in == NULL) {
        ret = answer_error(conn, 500, NULL, NULL, "out of memory");
        goto out;
    }
    args_t a = {.in = in};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, &a);
    if (a.bad[0] != '\0') {
        count_reject(s, REJ_BAD_BODY);
        ret = answer_error(conn, 400, a.bad, NULL,
                           "field %s: given twice (query and body, or twice in the query)", a.bad);
        goto out;
    }
    cJSON *params = cJSON_CreateObject();
    route_match(op->path, url, params);
    cJSON *item = params != NULL ? params->child : NULL;
    for (; item != NULL; item = item->next) {
        const char *given =
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, item->string));
        if (given != NULL && strcmp(given, item->valuestring) != 0) {
            snprintf(a.bad, sizeof(a.bad), "%s", item->string);
            break;
        }
        cJSON_DeleteItemFromObjectCaseSensitive(in, item->string);
        cJSON_AddStringToObject(in, item->string, item->valuestring);
    }
    cJSON_Delete(params);
    if (a.bad[0] != '\0') {
        ret = answer_error(conn, 400, a.bad, NULL, "field %s: differs from the path", a.bad);
        goto out;
    }

    /* a tenant token is its tenant: naming another one is an error, not a way in */
    const char *named = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "tenant"));
    if (c.role != API_ADMIN && named != NULL && strcmp(named, tenant) != 0) {
        ret = answer_error(conn, 400, "tenant", NULL, "field tenant: \"%.64s\" is not your tenant",
                           named);
        goto out;
    }

    /* the operation */
    c.cli = s->cli;
    c.pg = pg;
    c.in = in;
    c.status = 200;
    c.source = client_addr(conn, addr, sizeof(addr));
    if (feedback_op) {
        /* per reporting source: the callee's address as the website saw it, else the poster */
        const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, "reporter"));
        snprintf(key, sizeof(key), "s%ld|%.60s", c.token_id, who != NULL ? who : c.source);
        double per_min = s->cli->cfg.api_feedback_per_min;
        if (!rate_take(s, key, per_min / 60.0, per_min / 2 >= 1 ? per_min / 2 : 1, &wait_s)) {
            char ra[16];
            snprintf(ra, sizeof(ra), "%d", wait_s);
            count_reject(s, REJ_RATE);
            ret = answer_error(conn, 429, "reporter", ra,
                               "more than %d reports a minute from this source",
                               s->cli->cfg.api_feedback_per_min);
            goto out;
        }
    }
    int64_t t0 = nt_clock_mono_ms();
    int rc = op->fn(&c);
    if (rc != 0 && PQtransactionStatus(nt_pg_conn(pg)) != PQTRANS_IDLE)
        PQclear(PQexec(nt_pg_conn(pg), "ROLLBACK"));
    if (rc != 0)
        ret = answer_error(conn, c.status >= 400 ? c.status : 500, c.field, NULL, "%s", c.msg);
    else {
        ret = answer_snap(conn, c.status, c.html ? "text/html; charset=utf-8" : "application/json",
                          c.out.data != NULL ? c.out.data : "", c.out.len, NULL, c.snapshot_taken,
                          c.snapshot_age_s);
    }
    NT_INFO("api %s %s -> %d in %lld ms (token %ld)", method, op->path, c.status,
            (long long)(nt_clock_mono_ms() - t0), c.token_id);
    pthread_mutex_lock(&s->mu);
    if (feedback_op && rc == 0) {
        if (c.dropped)
            s->feedback_dropped++;
        else
            s->feedback_stored++;
    }
    int k = c.status / 100;
    if (opi < MAX_OPS && k >= 1 && k <= 5)
        s->requests[opi][k]++;
    pthread_mutex_unlock(&s->mu);
out:
    cJSON_Delete(in);
    nt_buf_free(&c.out);
    pool_put(s, pg);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    serve_t *s = cls;
    req_t *rq = *con_cls;
    (void)version;
    if (rq == NULL) {
        rq = calloc(1, sizeof(*rq));
        if (rq == NULL)
            return MHD_NO;
        /* files (imports, the policy document) may be larger than JSON bodies */
        bool file = false;
        for (size_t o = 0; o < api_nops && !file; o++)
            file = (api_ops[o].flags & API_OP_RAW) && strcmp(api_ops[o].method, method) == 0 &&
                   route_match(api_ops[o].path, url, NULL);
        nt_buf_init(&rq->body, (size_t)(file ? s->cli->cfg.api_max_import_bytes
                                             : s->cli->cfg.api_max_body_bytes));
        *con_cls = rq;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > rq->body.cap) {
            /* refuse at once, before reading a byte of it */
            rq->answered = true;
            count_reject(s, REJ_TOO_BIG);
            return answer_error(conn, 413, "body", NULL, "body of %s bytes is larger than %zu", cl,
                                rq->body.cap);
        }
        return MHD_YES;
    }
    if (*upload_size > 0) {
        if (!rq->too_big && !rq->answered &&
            nt_buf_append(&rq->body, upload, *upload_size) != NT_OK) {
            rq->too_big = true;
            nt_buf_reset(&rq->body);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->answered)
        return MHD_YES;
    rq->answered = true;
    return dispatch(s, conn, url, method, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    req_t *rq = *con_cls;
    if (rq != NULL) {
        nt_buf_free(&rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

static void serve_usage(const cli_t *cli)
{
    printf("usage: numtrust-producer serve [--listen HOST:PORT]\n\n"
           "The control plane: an HTTP JSON API (docs/openapi.yaml) on api.listen (now %s),\n"
           "with /metrics, /healthz and /readyz. A process of its own beside the\n"
           "reconciler (`run`). Tokens: `numtrust-producer token create`. Limits:\n"
           "api.max_body_bytes, api.max_import_bytes, api.max_conns, api.timeout_s,\n"
           "api.statement_timeout_ms, api.rate_per_s, api.rate_burst, api.feedback_per_min,\n"
           "api.callback_rate_per_s, api.callback_rate_burst (callbacks: 503 when over).\n"
           "SIGTERM stops it (connections in progress are finished first).\n\n"
           "Exit status: 0 after SIGTERM, 1 when it cannot start, 2 for a usage error.\n\n"
           "operations:\n",
           cli->cfg.api_listen);
    for (size_t o = 0; o < api_nops; o++)
        printf("  %-6s %-30s %s\n", api_ops[o].method, api_ops[o].path, api_ops[o].help);
    printf("  %-6s %-30s %s\n", "POST", "/v1/callbacks/{platform}",
           "a platform's callback, signed with its callback secret (no token; callbacks.c)");
}

int cmd_serve(cli_t *cli, int argc, char **argv)
{
    const char *listen = cli->cfg.api_listen;
    serve_t s;
    char host[128];
    int port = 0, rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            serve_usage(cli);
            return 0;
        }
        if (cli_opt(argc, argv, &i, "--listen", &listen)) {
            if (listen == NULL)
                return 2;
            continue;
        }
        return cli_usage_error("serve", "unknown argument \"%s\"", argv[i]);
    }
    if (nt_httpd_parse_listen(listen, host, sizeof(host), &port) != NT_OK)
        return cli_usage_error("serve", "key api.listen: \"%s\" is not host:port", listen);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return cli_usage_error("serve", "key api.listen: \"%s\" is not an IPv4 address", host);
    if (api_nops >= MAX_OPS || cli_platforms(cli) == NULL)
        return 1;

    memset(&s, 0, sizeof(s));
    s.cli = cli;
    pthread_mutex_init(&s.mu, NULL);
    pthread_mutex_init(&s.fleet_mu, NULL);
    nt_buf_init(&s.fleet, 1024 * 1024);
    s.pool = calloc((size_t)cli->cfg.api_pg_pool, sizeof(*s.pool));
    s.limits = nt_strmap_new();
    s.arena = calloc(MAX_LIMITERS, sizeof(*s.arena));
    if (s.pool == NULL || s.limits == NULL || s.arena == NULL)
        goto out;
    s.d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
        (uint16_t)port, NULL, NULL, on_request, &s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)cli->cfg.api_max_conns,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cli->cfg.api_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)64 * 1024, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, &s, MHD_OPTION_END);
    if (s.d == NULL) {
        fprintf(stderr, "numtrust-producer serve: cannot listen on %s:%d (in use?)\n", host, port);
        goto out;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s.d, MHD_DAEMON_INFO_BIND_PORT);
    NT_INFO("control plane serving the API, /metrics, /healthz and /readyz on %s:%d", host,
            di != NULL ? di->port : port);
    while (!*cli->stop) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    NT_INFO("control plane stopping");
    rc = 0;
out:
    if (s.d != NULL)
        MHD_stop_daemon(s.d);
    for (size_t i = 0; i < s.npool; i++)
        nt_pg_free(s.pool[i]);
    free(s.pool);
    nt_strmap_free(s.limits); /* its values live in the arena */
    free(s.arena);
    nt_buf_free(&s.fleet);
    pthread_mutex_destroy(&s.fleet_mu);
    pthread_mutex_destroy(&s.mu);
    return rc;
}
