/*
 * alerts.c — the alert outbox's drainer and `numtrust-producer alerts`
 * (docs/policies.md, Alerts).
 *
 * Alerts and their deliveries are rows (migration 006b) written in the
 * transaction of the change they report. A round of the drainer claims the
 * due deliveries with FOR UPDATE SKIP LOCKED, POSTs each, signed
 * (common/webhook.c), through libcurl on the daemon's loop, and records the
 * outcomes in the same transaction: delivered after a 2xx, otherwise the
 * next attempt after an exponential backoff (or the receiver's Retry-After),
 * dead after alerts.max_attempts. A crash before the commit leaves the rows
 * as they were, so the deliveries go out again with the same ids: at least
 * once, never lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "http.h"
#include "job.h"
#include "log.h"
#include "phone.h"
#include "sla.h"
#include "webhook.h"

struct alerts_s {
    cli_t *cli;
    nt_loop_t *loop;
    nt_http_t *http;
    nt_pg_t *pg;
    uint64_t attempts[3]; /* delivered, failed, dead */
};

typedef struct send_s {
    alerts_t *a;
    bool done;
    long status;
    int64_t retry_after_ms;
    char error[CURL_ERROR_SIZE + 64];
} send_t;

/* The due deliveries, each with its body. $1 batch. */
static const char sql_claim[] =
    "SELECT d.alert_id, d.endpoint_id, d.delivery_id::text, d.attempts, e.url, e.secret,"
    "       a.event,"
    "       jsonb_build_object('delivery_id', d.delivery_id, 'alert_id', a.id,"
    "           'event', a.event, 'tenant', a.tenant_id, 'number', a.number,"
    "           'platform', a.platform, 'summary', a.summary, 'data', a.data,"
    "           'at', a.at, 'raised_at', a.created_at, 'attempt', d.attempts + 1)::text"
    " FROM alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id"
    " JOIN alerts a ON a.id = d.alert_id"
    " WHERE d.state = 'pending' AND d.next_attempt_at <= now() AND e.enabled"
    " ORDER BY d.next_attempt_at, d.alert_id LIMIT $1::int"
    " FOR UPDATE OF d SKIP LOCKED";

/* The outcomes. $1 alert ids, $2 endpoint ids, $3 states, $4 delay ms
 * (NULL: delivered or dead), $5 HTTP statuses, $6 errors. */
static const char sql_record[] =
    "UPDATE alert_deliveries d SET attempts = d.attempts + 1, state = r.state,"
    "  last_status = r.status, last_error = r.error,"
    "  delivered_at = CASE WHEN r.state = 'delivered' THEN now() END,"
    "  next_attempt_at = CASE WHEN r.delay IS NOT NULL"
    "                    THEN now() + r.delay * interval '1 millisecond'"
    "                    ELSE d.next_attempt_at END"
    " FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bigint[], $5::int[], $6::text[])"
    "   AS r(alert_id, endpoint_id, state, delay, status, error)"
    " WHERE d.alert_id = r.alert_id AND d.endpoint_id = r.endpoint_id";

alerts_t *alerts_new(cli_t *cli, nt_loop_t *loop, nt_err_t *err)
{
    alerts_t *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    a->cli = cli;
    a->loop = loop;
    nt_http_opts_t o = {.max_body = 64 * 1024, .max_host_conns = 16, .max_total_conns = 64};
    if ((a->http = nt_http_new(loop, &o, err)) == NULL ||
        (a->pg = nt_pg_connect(cli->cfg.pg_conninfo, cli->cfg.pg_connect_timeout_s, err)) == NULL) {
        alerts_free(a);
        return NULL;
    }
    return a;
}

void alerts_free(alerts_t *a)
{
    if (a == NULL)
        return;
    nt_http_free(a->http);
    nt_pg_free(a->pg);
    free(a);
}

static void on_sent(const nt_http_result_t *res, void *arg)
{
    send_t *s = arg;
    s->done = true;
    s->status = res->status;
    s->retry_after_ms = res->retry_after_ms;
    if (res->code != CURLE_OK)
        snprintf(s->error, sizeof(s->error), "%s", res->error ? res->error : "transport failure");
    else if (res->status < 200 || res->status > 299)
        snprintf(s->error, sizeof(s->error), "HTTP %ld", res->status);
}

/* A seed for the jitter of one delivery's attempt: FNV-1a of its id. */
static uint64_t seed_of(const char *id, int attempt)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    return h ^ (uint64_t)attempt;
}

/* Starts the POST of row r; s receives the outcome. */
static int submit(alerts_t *a, PGresult *res, int r, send_t *s, nt_err_t *err)
{
    const char *body = PQgetvalue(res, r, 7);
    size_t len = strlen(body);
    char sig[NT_WEBHOOK_SIG_LEN], h[160];
    int64_t ts = nt_clock_wall_ms() / 1000;
    struct curl_slist *hs = NULL, *tmp = NULL;
    if (nt_webhook_sign(PQgetvalue(res, r, 5), ts, body, len, sig) != NT_OK)
        return nt_err_set(err, NT_ERR, false, "cannot sign a delivery");
    const char *headers[5][2] = {{"Content-Type", "application/json"},
                                 {"X-Numtrust-Event", PQgetvalue(res, r, 6)},
                                 {"X-Numtrust-Delivery", PQgetvalue(res, r, 2)},
                                 {"X-Numtrust-Timestamp", NULL},
                                 {"X-Numtrust-Signature", sig}};
    char tsbuf[32];
    snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
    headers[3][1] = tsbuf;
    for (size_t i = 0; i < NT_ARRAY_LEN(headers); i++) {
        snprintf(h, sizeof(h), "%s: %s", headers[i][0], headers[i][1]);
        if ((tmp = curl_slist_append(hs, h)) == NULL) {
            curl_slist_free_all(hs);
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
        }
        hs = tmp;
    }
    nt_http_call_t call = {.method = "POST",
                           .url = PQgetvalue(res, r, 4),
                           .headers = hs,
                           .body = body,
                           .body_len = len,
                           .timeout_ms = a->cli->cfg.alerts_timeout_ms,
                           .connect_timeout_ms = a->cli->cfg.alerts_timeout_ms};
    s->a = a;
    return nt_http_submit(a->http, &call, on_sent, s, err);
}

int alerts_drain(alerts_t *a, alerts_stats_t *stats, nt_err_t *err)
{
    const nt_config_t *cfg = &a->cli->cfg;
    char batch[16];
    PGresult *res = NULL;
    send_t *sends = NULL;
    nt_pg_array_t arr[6];
    int rc = NT_ERR, rows = 0;
    bool in_tx = false;

    for (size_t i = 0; i < NT_ARRAY_LEN(arr); i++)
        nt_pg_array_init(&arr[i]);
    snprintf(batch, sizeof(batch), "%d", cfg->alerts_batch);
    const char *bp[] = {batch};
    if (nt_pg_run(a->pg, "BEGIN", 0, NULL, err) != NT_OK)
        goto out;
    in_tx = true;
    if ((res = nt_pg_exec(a->pg, sql_claim, 1, bp, err)) == NULL)
        goto out;
    rows = PQntuples(res);
    if (rows == 0) {
        rc = NT_OK;
        goto out;
    }
    if ((sends = calloc((size_t)rows, sizeof(*sends))) == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    for (int r = 0; r < rows; r++) {
        nt_err_t serr;
        nt_err_clear(&serr);
        if (submit(a, res, r, &sends[r], &serr) != NT_OK) {
            sends[r].done = true;
            nt_buf_copy_str(sends[r].error, sizeof(sends[r].error), serr.msg);
        }
    }
    /* every call ends by its timeout; the loop serves /metrics meanwhile */
    int64_t deadline = nt_clock_mono_ms() + 2LL * cfg->alerts_timeout_ms + 1000;
    while (nt_http_inflight(a->http) > 0 && nt_clock_mono_ms() < deadline)
        nt_loop_run_once(a->loop, 100);
    int r_ok = NT_OK;
    for (int r = 0; r < rows && r_ok == NT_OK; r++) {
        send_t *s = &sends[r];
        int attempt = atoi(PQgetvalue(res, r, 3)) + 1;
        bool ok = s->done && s->status >= 200 && s->status <= 299 && s->error[0] == '\0';
        bool dead = !ok && attempt >= cfg->alerts_max_attempts;
        const char *state = ok ? "delivered" : dead ? "dead" : "pending";
        char delay[32], status[16];
        int64_t d =
            nt_webhook_backoff_ms(attempt, cfg->alerts_backoff_base_ms, cfg->alerts_backoff_max_ms,
                                  seed_of(PQgetvalue(res, r, 2), attempt));
        if (s->retry_after_ms > d)
            d = s->retry_after_ms < cfg->alerts_backoff_max_ms ? s->retry_after_ms
                                                               : cfg->alerts_backoff_max_ms;
        snprintf(delay, sizeof(delay), "%lld", (long long)d);
        snprintf(status, sizeof(status), "%ld", s->status);
        if (!s->done)
            snprintf(s->error, sizeof(s->error), "no answer within %d ms", cfg->alerts_timeout_ms);
        r_ok = nt_pg_array_add_str(&arr[0], PQgetvalue(res, r, 0));
        if (r_ok == NT_OK)
            r_ok = nt_pg_array_add_str(&arr[1], PQgetvalue(res, r, 1));
        if (r_ok == NT_OK)
            r_ok = nt_pg_array_add_str(&arr[2], state);
        if (r_ok == NT_OK)
            r_ok = nt_pg_array_add_str(&arr[3], ok || dead ? NULL : delay);
        if (r_ok == NT_OK)
            r_ok = nt_pg_array_add_str(&arr[4], s->status > 0 ? status : NULL);
        if (r_ok == NT_OK)
            r_ok = nt_pg_array_add_str(&arr[5], ok ? NULL : s->error);
        a->attempts[ok ? 0 : dead ? 2 : 1]++;
        if (stats != NULL) {
            stats->sent++;
            stats->delivered += ok;
            stats->failed += !ok;
            stats->dead += dead;
        }
        if (!ok)
            NT_DEBUG("alerts: delivery %s attempt %d: %s%s", PQgetvalue(res, r, 2), attempt,
                     s->error, dead ? " (dead)" : "");
    }
    if (r_ok != NT_OK) {
        nt_err_set(err, r_ok, false, "alerts: out of memory");
        goto out;
    }
    const char *params[6];
    for (size_t i = 0; i < NT_ARRAY_LEN(arr); i++)
        params[i] = nt_pg_array_text(&arr[i]);
    if (nt_pg_run(a->pg, sql_record, 6, params, err) != NT_OK)
        goto out;
    rc = NT_OK;
out:
    if (in_tx) {
        nt_err_t cerr;
        nt_err_clear(&cerr);
        if (nt_pg_run(a->pg, rc == NT_OK ? "COMMIT" : "ROLLBACK", 0, NULL, &cerr) != NT_OK &&
            rc == NT_OK) {
            *err = cerr;
            rc = cerr.code != 0 ? cerr.code : NT_ERR;
        }
    }
    /* calls still in flight (a hung receiver) are cancelled with the client's
     * next use; their sends must outlive them: wait is bounded above */
    free(nt_http_inflight(a->http) == 0 ? sends : NULL);
    if (nt_http_inflight(a->http) != 0)
        NT_WARN("alerts: %zu deliveries did not end in time; they will be sent again",
                nt_http_inflight(a->http));
    PQclear(res);
    for (size_t i = 0; i < NT_ARRAY_LEN(arr); i++)
        nt_pg_array_free(&arr[i]);
    return rc == NT_OK ? rows : rc;
}

int alerts_metrics_text(const alerts_t *a, nt_buf_t *out)
{
    return nt_buf_printf(out,
                         "# HELP numtrust_alert_delivery_attempts_total Webhook delivery attempts "
                         "of this daemon, by result.\n"
                         "# TYPE numtrust_alert_delivery_attempts_total counter\n"
                         "numtrust_alert_delivery_attempts_total{result=\"delivered\"} %llu\n"
                         "numtrust_alert_delivery_attempts_total{result=\"failed\"} %llu\n"
                         "numtrust_alert_delivery_attempts_total{result=\"dead\"} %llu\n",
                         (unsigned long long)a->attempts[0], (unsigned long long)a->attempts[1],
                         (unsigned long long)a->attempts[2]);
}

/* ---- the command ---- */

static void alerts_usage(FILE *fp)
{
    fputs("usage: numtrust-producer alerts list [--tenant T] [--event E] [--limit N]\n"
          "       numtrust-producer alerts endpoint add --name N --url URL\n"
          "                          (--secret S | --secret-env VAR) [--tenant T] [--events E,..]\n"
          "       numtrust-producer alerts endpoint list\n"
          "       numtrust-producer alerts endpoint remove --name N\n"
          "       numtrust-producer alerts test [--tenant T]\n"
          "       numtrust-producer alerts deliveries [--state pending|delivered|dead]\n"
          "       numtrust-producer alerts retry\n"
          "       numtrust-producer alerts drain\n\n"
          "Alerts (docs/policies.md, Alerts): a new fraud or harassment mark, a tenant over\n"
          "its mark-rate target, a service level breached or near breach, an appeal\n"
          "decided or escalated, a label rejected, a certification expiring or lost, a\n"
          "number quarantined or released. Each goes to every enabled webhook endpoint of\n"
          "its tenant (or of every tenant) that wants its event, as a signed POST\n"
          "(X-Numtrust-Signature: v1=hex HMAC-SHA256(secret, TIMESTAMP.BODY),\n"
          "X-Numtrust-Timestamp, X-Numtrust-Delivery: an id for deduplication), retried\n"
          "with backoff until a 2xx; the reconciler daemon (`run`) sends them.\n"
          "`endpoint add` registers a receiver (the secret: at least 16 characters; prefer\n"
          "--secret-env, which reads it from that environment variable); `test` raises a\n"
          "test alert; `deliveries` lists the outbox; `retry` re-queues dead deliveries;\n"
          "`drain` sends what is due now and exits (without the daemon).\n"
          "Exit status: 0, 1 on a database or delivery error, 2 on a usage error.\n",
          fp);
}

static const char *const events[] = {
    "mark_new",       "mark_rate_over_target", "sla_breach",      "sla_near_breach",
    "appeal_decided", "appeal_escalated",      "label_rejected",  "cert_expiring",
    "cert_lost",      "number_quarantined",    "number_released", "test"};

bool alerts_is_event(const char *e)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(events); i++)
        if (strcmp(e, events[i]) == 0)
            return true;
    return false;
}

/* "a,b" -> "{a,b}" after checking each; 0 or 2 after the usage error. */
static int events_array(const char *list, char *out, size_t outsz)
{
    char buf[512];
    size_t o = 0;
    if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
        return cli_usage_error("alerts", "--events: too long");
    o += (size_t)snprintf(out, outsz, "{");
    for (char *p = buf; p != NULL && *p;) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (!alerts_is_event(p))
            return cli_usage_error("alerts", "--events: \"%s\" is not an event (%s, ...)", p,
                                   events[0]);
        o += (size_t)snprintf(out + o, outsz - o, "%s%s", o > 1 ? "," : "", p);
        p = comma ? comma + 1 : NULL;
        if (o >= outsz)
            return cli_usage_error("alerts", "--events: too long");
    }
    snprintf(out + o, outsz - o, "}");
    return 0;
}

static int drain_now(cli_t *cli)
{
    nt_err_t err;
    alerts_stats_t st = {0};
    int rc = 1;
    nt_err_clear(&err);
    nt_loop_t *loop = nt_loop_new(&err);
    alerts_t *a = loop ? alerts_new(cli, loop, &err) : NULL;
    if (a == NULL) {
        fprintf(stderr, "numtrust-producer alerts drain: %s\n", err.msg);
        goto out;
    }
    int n = 0;
    while (!*cli->stop && (n = alerts_drain(a, &st, &err)) > 0)
        ;
    if (!*cli->stop && n < 0) {
        fprintf(stderr, "numtrust-producer alerts drain: %s\n", err.msg);
        goto out;
    }
    printf("alerts drain: %llu attempts, %llu delivered, %llu failed (retried later), %llu "
           "dead\n",
           (unsigned long long)st.sent, (unsigned long long)st.delivered,
           (unsigned long long)st.failed, (unsigned long long)st.dead);
    rc = st.failed > 0 ? 1 : 0;
out:
    alerts_free(a);
    nt_loop_free(loop);
    return rc;
}

int cmd_alerts(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *sub2 = NULL, *tenant = NULL, *event = NULL, *limit = "50";
    const char *name = NULL, *url = NULL, *secret = NULL, *secret_env = NULL, *evlist = NULL;
    const char *state = NULL;
    char evarr[600];
    nt_err_t err;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            alerts_usage(stdout);
            return 0;
        }
        static const char *const opts[] = {"--tenant",     "--event",  "--limit",
                                           "--name",       "--url",    "--secret",
                                           "--secret-env", "--events", "--state"};
        const char **dst[] = {&tenant, &event,      &limit,  &name, &url,
                              &secret, &secret_env, &evlist, &state};
        bool matched = false;
        for (size_t o = 0; o < NT_ARRAY_LEN(opts) && !matched; o++) {
            if (cli_opt(argc, argv, &i, opts[o], &v)) {
                if (v == NULL)
                    return 2;
                *dst[o] = v;
                matched = true;
            }
        }
        if (matched)
            continue;
        if (argv[i][0] != '-' && sub == NULL)
            sub = argv[i];
        else if (argv[i][0] != '-' && sub2 == NULL && strcmp(sub, "endpoint") == 0)
            sub2 = argv[i];
        else
            return cli_usage_error("alerts", "unknown argument \"%s\"", argv[i]);
    }
    static const char *const subs[] = {"list", "endpoint", "test", "deliveries", "retry", "drain"};
    bool known = false;
    for (size_t s = 0; sub != NULL && s < NT_ARRAY_LEN(subs); s++)
        known = known || strcmp(sub, subs[s]) == 0;
    if (!known)
        return cli_usage_error("alerts", "which one? list, endpoint, test, deliveries, retry or "
                                         "drain");
    if (event != NULL && !alerts_is_event(event))
        return cli_usage_error("alerts", "--event \"%s\" is not an event", event);
    if (state != NULL && strcmp(state, "pending") != 0 && strcmp(state, "delivered") != 0 &&
        strcmp(state, "dead") != 0)
        return cli_usage_error("alerts", "--state \"%s\" is not pending, delivered or dead", state);
    if (strspn(limit, "0123456789") != strlen(limit) || limit[0] == '\0' || strlen(limit) > 7)
        return cli_usage_error("alerts", "--limit \"%s\" is not a positive integer", limit);
    if (strcmp(sub, "endpoint") == 0) {
        if (sub2 == NULL ||
            (strcmp(sub2, "add") != 0 && strcmp(sub2, "list") != 0 && strcmp(sub2, "remove") != 0))
            return cli_usage_error("alerts", "endpoint what? add, list or remove");
        if (strcmp(sub2, "list") != 0 && (name == NULL || !nt_job_is_tenant_id(name)))
            return cli_usage_error("alerts", "--name \"%s\": 1-63 of [A-Za-z0-9_.-]",
                                   name ? name : "");
        if (strcmp(sub2, "add") == 0) {
            if (url == NULL ||
                (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))
                return cli_usage_error("alerts", "--url \"%s\" is not an http(s) URL",
                                       url ? url : "");
            if (secret_env != NULL && (secret = getenv(secret_env)) == NULL)
                return cli_usage_error("alerts", "--secret-env %s: the variable is not set",
                                       secret_env);
            if (secret == NULL || strlen(secret) < 16)
                return cli_usage_error("alerts", "the secret must have at least 16 characters");
            if (evlist != NULL && events_array(evlist, evarr, sizeof(evarr)) != 0)
                return 2;
        }
    }
    if (strcmp(sub, "drain") == 0)
        return drain_now(cli);
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_err_clear(&err);
    if (strcmp(sub, "list") == 0) {
        const char *p[] = {tenant, event, limit};
        rc = sla_query_print(
            pg, "alerts", NULL,
            "SELECT a.id, a.event, a.tenant_id AS tenant, a.number, a.platform, a.summary,"
            "       to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at,"
            "       count(d.*) FILTER (WHERE d.state = 'delivered') || '/' || count(d.*)"
            "           AS delivered"
            " FROM alerts a LEFT JOIN alert_deliveries d ON d.alert_id = a.id"
            " WHERE ($1::text IS NULL OR a.tenant_id = $1) AND ($2::text IS NULL OR a.event = $2)"
            " GROUP BY a.id ORDER BY a.id DESC LIMIT $3::int",
            3, p);
    } else if (strcmp(sub, "deliveries") == 0) {
        const char *p[] = {state, limit};
        rc = sla_query_print(
            pg, "alerts", NULL,
            "SELECT d.alert_id, e.name AS endpoint, d.delivery_id, d.state, d.attempts,"
            "       d.last_status, d.last_error,"
            "       to_char(d.next_attempt_at, 'YYYY-MM-DD HH24:MI:SS') AS next_attempt"
            " FROM alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id"
            " WHERE ($1::text IS NULL OR d.state = $1)"
            " ORDER BY d.alert_id DESC, e.name LIMIT $2::int",
            2, p);
    } else if (strcmp(sub, "test") == 0) {
        const char *p[] = {tenant};
        PGresult *res =
            nt_pg_exec(pg,
                       "SELECT nt_alert('test', $1, NULL, NULL, 'test:' || gen_random_uuid(),"
                       "  'a test alert from numtrust-producer alerts test', '{}'::jsonb),"
                       "  (SELECT count(*) FROM alert_endpoints e WHERE e.enabled"
                       "   AND (e.tenant_id IS NULL OR e.tenant_id = $1)"
                       "   AND (e.events IS NULL OR 'test' = ANY(e.events)))",
                       1, p, &err);
        if (res != NULL) {
            printf("test alert raised for %s endpoint(s); the reconciler daemon (or `alerts "
                   "drain`) sends it\n",
                   PQgetvalue(res, 0, 1));
            rc = 0;
        }
        PQclear(res);
    } else if (strcmp(sub, "retry") == 0) {
        PGresult *res = nt_pg_exec(pg,
                                   "UPDATE alert_deliveries SET state = 'pending', attempts = 0,"
                                   " next_attempt_at = now() WHERE state = 'dead'",
                                   0, NULL, &err);
        if (res != NULL) {
            printf("re-queued %s dead deliveries\n", PQcmdTuples(res));
            rc = 0;
        }
        PQclear(res);
    } else if (strcmp(sub2, "list") == 0) {
        rc = sla_query_print(pg, "alerts", NULL,
                             "SELECT name, url, COALESCE(tenant_id, '(every tenant)') AS tenant,"
                             " COALESCE(array_to_string(events, ','), '(every event)') AS events,"
                             " enabled, left(secret, 4) || '****' AS secret FROM alert_endpoints"
                             " ORDER BY name",
                             0, NULL);
    } else if (strcmp(sub2, "add") == 0) {
        const char *p[] = {name, url, secret, tenant, evlist ? evarr : NULL};
        PGresult *res =
            nt_pg_exec(pg,
                       "INSERT INTO alert_endpoints (name, url, secret, tenant_id, events)"
                       " VALUES ($1, $2, $3, $4, $5::text[])"
                       " ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url,"
                       " secret = EXCLUDED.secret, tenant_id = EXCLUDED.tenant_id,"
                       " events = EXCLUDED.events, enabled = true",
                       5, p, &err);
        if (res != NULL) {
            printf("endpoint %s: %s%s%s\n", name, url, tenant ? " for tenant " : "",
                   tenant ? tenant : "");
            rc = 0;
        }
        PQclear(res);
    } else {
        const char *p[] = {name};
        PGresult *res = nt_pg_exec(pg, "DELETE FROM alert_endpoints WHERE name = $1", 1, p, &err);
        if (res != NULL) {
            rc = strcmp(PQcmdTuples(res), "1") == 0 ? 0 : 1;
            if (rc != 0)
                fprintf(stderr, "numtrust-producer alerts endpoint remove: no endpoint %s\n", name);
            else
                printf("endpoint %s removed with its pending deliveries\n", name);
        }
        PQclear(res);
    }
    if (rc != 0 && err.msg[0] != '\0')
        fprintf(stderr, "numtrust-producer alerts: %s\n", err.msg);
    nt_pg_free(pg);
    return rc;
}
